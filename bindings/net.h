/*
 * net.h -- what the files of the `net` binding share: net.c (the module,
 * names and addresses), net_tcp.c (connections), net_tcp_setup.c (connect
 * and servers), net_udp.c.
 */
#ifndef LUNIK_BINDINGS_NET_H
#define LUNIK_BINDINGS_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>
#include <lwip/err.h>
#include <lwip/ip_addr.h>

#include "runtime.h"

/* The short, matchable message for an lwIP error (ERR_RST while
 * connecting is "connection refused": pass (connecting) true). */
const char *net_strerror(err_t err, bool connecting);

/* Pushes nil, (msg); returns 2. */
int net_fail(lua_State *L, const char *msg);

/* Pushes (a) as "A.B.C.D". */
void net_push_addr(lua_State *L, const ip_addr_t *a);

/* Parses a numeric IPv4 address, or "*" / "" for any; false if it is not
 * one (it may be a name). */
bool net_parse_addr(const char *s, ip_addr_t *a);

/* The port at (idx): an integer 0..65535; misuse raises. */
uint16_t net_check_port(lua_State *L, int idx);

/* A name lookup that a blocking call waits for. net_lookup_start begins
 * one for (name); when it returns NULL the answer is already in (*addr)
 * (*status 0) or the lookup failed at once (*status < 0, e.g. an invalid
 * name). Otherwise the caller waits on net_lookup_queue(); once done,
 * net_lookup_finish returns 0 with the address, -1 for "host not found",
 * or 1 while still pending (then: wait again, or net_lookup_abandon on a
 * timeout). The lookup is freed by finish (unless pending) or abandon. */
struct net_lookup;
struct net_lookup *net_lookup_start(const char *name, ip_addr_t *addr,
				    int *status);
struct rt_waitq *net_lookup_queue(struct net_lookup *lk);
int net_lookup_finish(struct net_lookup *lk, ip_addr_t *addr);
void net_lookup_abandon(struct net_lookup *lk);

/* ---- For bindings that layer on a TCP connection (tls.c): the bytes of
 * a "net.tcp" object without Lua in between. Nothing here blocks: when a
 * call can do nothing now, wait on the connection's queue with rt_wait and
 * call again. */
struct conn;

/* The connection of the "net.tcp" object at (idx), or NULL once it is
 * closed; misuse (not a net.tcp) raises. */
struct conn *net_tcp_conn(lua_State *L, int idx);

/* Gives up the task ownership (rt_own) of the "net.tcp" object at (idx):
 * the layer that took it over is owned by tasks instead, and closes it
 * when abandoned. */
void net_tcp_disown(lua_State *L, int idx);

/* Takes up to (len) received bytes into (buf): returns how many, 0 when
 * none has arrived yet (wait on net_conn_readers), or -1 when no more will
 * come (the peer closed, or an error: net_conn_error says which). */
long net_conn_read(struct conn *c, void *buf, size_t len);

/* Queues up to (len) bytes of (buf) for sending and pushes them out:
 * returns how many were taken, 0 when the send buffer is full (wait on
 * net_conn_writers), or -1 when the connection is gone. */
long net_conn_write(struct conn *c, const void *buf, size_t len);

/* Whether a writer that got 0 from net_conn_write will be woken on
 * net_conn_writers: false when lwIP was out of memory with nothing in
 * flight, so no acknowledgement will come (retry after a short while). */
bool net_conn_write_wakes(const struct conn *c);

/* The queues a reader or writer of (c) waits on; why (c) is finished
 * ("closed", "connection reset", ...). */
struct rt_waitq *net_conn_readers(struct conn *c);
struct rt_waitq *net_conn_writers(struct conn *c);
const char *net_conn_error(const struct conn *c);

/* ---- For waiting on several sockets at once (socket.select). For the
 * net object at (idx) ("net.tcp", "net.server" or "net.udp"): returns 1
 * when a read (a write, if (write)) would not wait now, 0 when it would,
 * with the queue to wait on until it may not in (*q), or -1 when (idx) is
 * no net object. A closed object, or a connection whose peer is gone, is
 * ready: the call fails at once. */
int net_ready(lua_State *L, int idx, bool write, struct rt_waitq **q);

/* net_tcp.c and net_udp.c: net_ready for their objects, -1 for others. */
int net_tcp_ready(lua_State *L, int idx, bool write, struct rt_waitq **q);
int net_udp_ready(lua_State *L, int idx, bool write, struct rt_waitq **q);

/* net_tcp_setup.c: net.listen, net.connect; net_tcp.c: the metatables. */
int net_listen(lua_State *L);
int net_connect(lua_State *L);
void net_tcp_open(lua_State *L);

/* net_udp.c: net.udp; its metatable. */
int net_udp(lua_State *L);
void net_udp_open(lua_State *L);

#endif
