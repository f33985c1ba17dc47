/*
 * net_tcp.h -- what net_tcp.c (connections and their methods, the C view)
 * and net_tcp_setup.c (net.connect and servers) share; private to them.
 * The rest of lunik sees connections through net.h only.
 */
#ifndef LUNIK_NET_TCP_H
#define LUNIK_NET_TCP_H

#include <lwip/tcp.h>

#include "net.h"
#include "stream.h"

#define CONN_MT "net.tcp"
#define SERVER_MT "net.server"

struct conn {
	struct tcp_pcb *pcb;	/* NULL once lwIP dropped it */
	struct stream_buf rx;	/* received, not yet taken */
	size_t held;		/* received, window not reopened yet */
	err_t err;		/* why the pcb went away */
	bool eof;		/* the peer sent FIN */
	bool reading;		/* a receive waits for more than is buffered */
	bool connected;
	struct rt_waitq rq, wq;	/* readers; writers and connectors */
};

struct conn_ud {
	struct conn *c;		/* NULL once closed */
	uint64_t timeout;	/* per call, ns; UINT64_MAX: none */
	unsigned owner;		/* the task that used it last (rt_own) */
};

/* A connection for (pcb), its lwIP callbacks set; NULL when out of memory. */
struct conn *net_tcp_conn_new(struct tcp_pcb *pcb);

/* Detaches (c) from lwIP, closes its pcb gracefully (abort if lwIP has no
 * memory for the FIN), and frees it. */
void net_tcp_conn_free(struct conn *c);

/* The "net.tcp" object at (idx); misuse raises. */
struct conn_ud *net_tcp_check(lua_State *L, int idx);

/* Pushes a "net.tcp" object that owns (c). */
void net_tcp_push_conn(lua_State *L, struct conn *c);

/* conn:close(), idempotent: a lua_CFunction with the object at 1. */
int net_tcp_close(lua_State *L);

/* Pushes (ip) and (port); returns 2. */
int net_tcp_push_endpoint(lua_State *L, const ip_addr_t *ip, u16_t port);

/* Registers the metatable (name) with (methods) as __index and the
 * metamethods __gc and __close (close), __tostring, __abandon. */
void net_tcp_class(lua_State *L, const char *name, const luaL_Reg *methods,
		   lua_CFunction close, lua_CFunction tostring,
		   lua_CFunction abandon);

/* net_tcp_setup.c: net_tcp_ready for a "net.server" at (idx), -1 for
 * anything else; the "net.server" metatable. */
int net_server_ready(lua_State *L, int idx, bool write, struct rt_waitq **q);
void net_server_open(lua_State *L);

#endif
