/*
 * tls.h -- what the files of the `tls` binding share: tls.c (the module,
 * contexts, certificates, SNI and the client's session cache), tls_conn.c
 * (connection objects: wrap, connect, the handshake, close) and tls_io.c
 * (receive and send over records, receive's patterns being stream.c's).
 * docs/tls.md is the reference.
 *
 * A context is a Lua userdata ("tls.context") holding one mbedTLS
 * configuration; a connection ("tls.conn") holds an mbedTLS context over
 * a "net.tcp" connection, which it owns (user value 1), and keeps its
 * context alive (user value 2). mbedTLS runs over non-blocking callbacks
 * into net.h's C view; a call that cannot go on waits on the TCP
 * connection's queue with rt_wait and retries in its continuation.
 */
#ifndef LUNIK_BINDINGS_TLS_H
#define LUNIK_BINDINGS_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include "runtime.h"
#include "stream.h"

#if !defined(LUNIK_MBEDTLS_CONFIG)
#error "mbedTLS headers without lunik's configuration (deps/mbedtls)"
#endif

/* A field of (t)'s mbedtls_ssl_context that mbedTLS 3.x keeps private
 * and offers no accessor for (tls_conn.c says which and why). */
#define TLS_SSL(t, field) ((t)->ssl.MBEDTLS_PRIVATE(field))

#define TLS_CTX_MT "tls.context"
#define TLS_CONN_MT "tls.conn"

struct tls_sni;		/* a certificate chosen by server name (tls.c) */
struct tls_session;	/* a client's remembered session (tls.c) */

struct tls_ctx {
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;		/* client: the trusted roots */
	mbedtls_x509_crt cert;		/* server: the default chain */
	mbedtls_pk_context key;
	mbedtls_ssl_ticket_context ticket;
	struct tls_sni *sni;		/* server: by name, nsni of them */
	size_t nsni;
	char **alpn;			/* NULL-terminated, or NULL */
	char *server_name;		/* client: for SNI and verification */
	struct tls_session *sessions;	/* client: TLS_SESSIONS of them */
	unsigned long clock;		/* session use counter (LRU) */
	bool server, verify, ready;
};

/* A connection's received plaintext and its state. */
struct tls_conn {
	mbedtls_ssl_context ssl;	/* first: callbacks find the conn */
	struct tls_ctx *ctx;
	struct conn *c;		/* the TCP connection, set by tls_enter */
	struct stream_buf rx;	/* plaintext received, not taken */
	uint64_t timeout;	/* per call, ns; UINT64_MAX: none */
	unsigned owner;		/* the task that used it last (rt_own) */
	size_t wpending;	/* bytes of an interrupted write, still queued */
	struct rt_waitq sendq;	/* senders waiting for the one sending */
	char *peer;		/* client: "name:port", the session cache key */
	char *sni;		/* server: the name the client asked for */
	const char *rwhy;	/* why no more plaintext comes, once rdone */
	char err[160];		/* a fatal error (handshake or record) */
	bool setup;		/* ssl is set up (free it on close) */
	bool closed;		/* closed here */
	bool blocked;		/* the transport said "wait" in this call */
	bool handshaken, full, sending, rdone, rclean, failed;
};

/* tls.c: the context at (idx) (misuse raises). */
struct tls_ctx *tls_check_ctx(lua_State *L, int idx);

/* tls.c: the session remembered for (peer) by the client context (x),
 * or NULL; tls_session_save remembers (ssl)'s after a handshake,
 * tls_session_drop forgets it. */
const mbedtls_ssl_session *tls_session_find(struct tls_ctx *x,
					    const char *peer);
void tls_session_save(struct tls_ctx *x, const char *peer,
		      const mbedtls_ssl_context *ssl);
void tls_session_drop(struct tls_ctx *x, const char *peer);

/* tls.c: the server's SNI callback (mbedtls_ssl_conf_sni), (p) the
 * context: picks the certificate for the name and records the name in
 * the connection. */
int tls_sni_pick(void *p, mbedtls_ssl_context *ssl, const unsigned char *name,
		 size_t len);

/* tls.c: a short message for mbedTLS error (ret), written to (buf). */
const char *tls_strerror(int ret, char *buf, size_t size);

/* tls_conn.c: the connection at 1 with its TCP connection looked up (the
 * Lua object may have been closed meanwhile); misuse raises. tls_use
 * also makes the running task its owner (rt_own), as each blocking call
 * does: a task that fails closes what it used last. */
struct tls_conn *tls_enter(lua_State *L);
struct tls_conn *tls_use(lua_State *L);

/* tls_conn.c: drives the handshake of (t) as far as it goes now. Returns
 * 0 once done, MBEDTLS_ERR_SSL_WANT_READ / _WANT_WRITE to wait, or -1
 * when it failed (t->err says why). */
int tls_handshake(struct tls_conn *t);

/* tls_conn.c: waits (rt_wait) for the transport of (t) as (want) asks,
 * until (deadline), then continues with (k) (ctx: the deadline). */
int tls_wait(lua_State *L, struct tls_conn *t, int want, uint64_t deadline,
	     lua_KFunction k);

/* tls_conn.c: records the mbedTLS error (ret) of a record call as (t)'s
 * fatal error; the transport's own reason when it went away. */
void tls_fail(struct tls_conn *t, int ret);

/* tls_conn.c: handshakes ended since boot, by [version][result]:
 * version 0 TLS 1.2, 1 TLS 1.3, 2 unknown (a handshake that failed
 * before both sides agreed on one); result 0 full, 1 resumed, 2 failed.
 * Read by tls.stats() (tls.c). */
enum { TLS_V12, TLS_V13, TLS_VNONE, TLS_NVERSIONS };
enum { TLS_FULL, TLS_RESUMED, TLS_FAILED, TLS_NRESULTS };
extern uint64_t tls_handshakes[TLS_NVERSIONS][TLS_NRESULTS];

/* tls_conn.c: tls.wrap, tls.connect; the connection metatable. */
int tls_wrap(lua_State *L);
int tls_connect(lua_State *L);
void tls_conn_open(lua_State *L);

/* tls_io.c: the connection's receive, receiveany and send methods. */
int tls_m_receive(lua_State *L);
int tls_m_receiveany(lua_State *L);
int tls_m_send(lua_State *L);

#endif
