/*
 * tls_conn.c -- TLS connections ("tls.conn"): tls.wrap and tls.connect,
 * the handshake, close and the small methods. Record I/O (receive and
 * send) is tls_io.c.
 *
 * mbedTLS reads and writes through bio_recv and bio_send over net.h's
 * non-blocking view of the TCP connection; when those say "wait", the
 * mbedTLS call returns WANT_READ or WANT_WRITE, the Lua call waits on the
 * TCP connection's queue (tls_wait) and its continuation calls mbedTLS
 * again. The handshake is driven one step at a time so that a resumed
 * one can be told from a full one: only a full one has a server
 * Certificate (TLS 1.2: RFC 5246, 7.3; TLS 1.3: RFC 8446, 2.2).
 *
 * mbedTLS 3.x has no accessors for three things read here, the handshake
 * state, whether a record is still queued for sending and the alert a
 * peer sent, so they are read through MBEDTLS_PRIVATE (tls.h: TLS_SSL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/net_sockets.h>

#include "net.h"
#include "tls.h"

#define UV_TCP 1
#define UV_CTX 2
#define OOM_RETRY_NS 10000000ull /* lwIP out of memory: try again then */

/* ---- the transport */

/* Why the transport ended: the TCP connection's reason, or "closed". */
static const char *transport_why(const struct tls_conn *t)
{
	return t->c ? net_conn_error(t->c) : "closed";
}

static int bio_send(void *p, const unsigned char *buf, size_t len)
{
	struct tls_conn *t = p;
	long n = t->c ? net_conn_write(t->c, buf, len) : -1;

	if (n > 0)
		return (int)n;
	if (n == 0) {
		t->blocked = true;
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	}
	return MBEDTLS_ERR_NET_CONN_RESET;
}

/* 0 is the end of the stream for mbedTLS (MBEDTLS_ERR_SSL_CONN_EOF). */
static int bio_recv(void *p, unsigned char *buf, size_t len)
{
	struct tls_conn *t = p;
	long n = t->c ? net_conn_read(t->c, buf, len) : -1;

	if (n > 0)
		return (int)n;
	if (n == 0) {
		t->blocked = true;
		return MBEDTLS_ERR_SSL_WANT_READ;
	}
	return 0;
}

struct tls_conn *tls_enter(lua_State *L)
{
	struct tls_conn *t = luaL_checkudata(L, 1, TLS_CONN_MT);

	t->c = NULL;
	if (!t->closed) {
		if (lua_getiuservalue(L, 1, UV_TCP) == LUA_TUSERDATA)
			t->c = net_tcp_conn(L, -1);
		lua_pop(L, 1);
	}
	return t;
}

struct tls_conn *tls_use(lua_State *L)
{
	struct tls_conn *t = tls_enter(L);

	rt_own(L, 1, &t->owner);
	return t;
}

int tls_wait(lua_State *L, struct tls_conn *t, int want, uint64_t deadline,
	     lua_KFunction k)
{
	struct rt_waitq *q = NULL;
	uint64_t until = deadline;

	if (!t->c) { /* cannot happen: the transport said "wait" */
		until = plat_monotonic_ns();
	} else if (want == MBEDTLS_ERR_SSL_WANT_READ) {
		q = net_conn_readers(t->c);
	} else {
		q = net_conn_writers(t->c);
		if (!net_conn_write_wakes(t->c)) {
			uint64_t retry = plat_monotonic_ns() + OOM_RETRY_NS;

			until = retry < until ? retry : until;
		}
	}
	return rt_wait(L, q, until, (intptr_t)deadline, k);
}

/* ---- errors */

static const char *alert_name(int alert)
{
	switch (alert) {
	case MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE: return "unexpected_message";
	case MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC: return "bad_record_mac";
	case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE: return "handshake_failure";
	case MBEDTLS_SSL_ALERT_MSG_BAD_CERT: return "bad_certificate";
	case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT: return "unsupported_certificate";
	case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED: return "certificate_expired";
	case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN: return "certificate_unknown";
	case MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER: return "illegal_parameter";
	case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA: return "unknown_ca";
	case MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR: return "decode_error";
	case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR: return "decrypt_error";
	case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION: return "protocol_version";
	case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY: return "insufficient_security";
	case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR: return "internal_error";
	case MBEDTLS_SSL_ALERT_MSG_UNRECOGNIZED_NAME: return "unrecognized_name";
	case MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL:
		return "no_application_protocol";
	}
	return "other";
}

/* Writes why (ret) failed to (buf): the transport's reason when it went
 * away, the alert the peer sent, or mbedTLS's reason. */
static void describe(struct tls_conn *t, int ret, char *buf, size_t size)
{
	char why[128];

	if (ret == 0 || ret == MBEDTLS_ERR_SSL_CONN_EOF ||
	    ret == MBEDTLS_ERR_NET_CONN_RESET) {
		snprintf(buf, size, "%s", transport_why(t));
	} else if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
		const unsigned char *msg = TLS_SSL(t, in_msg);
		int alert = msg ? msg[1] : -1;

		snprintf(buf, size, "the peer sent alert %d (%s)", alert,
			 alert_name(alert));
	} else {
		snprintf(buf, size, "%s", tls_strerror(ret, why, sizeof(why)));
	}
}

/* The short names of certificate verification failures (x509_crt.h). */
static const struct {
	uint32_t flag;
	const char *name;
} verify_names[] = {
	{ MBEDTLS_X509_BADCERT_EXPIRED, "expired" },
	{ MBEDTLS_X509_BADCERT_FUTURE, "not yet valid" },
	{ MBEDTLS_X509_BADCERT_NOT_TRUSTED, "not trusted" },
	{ MBEDTLS_X509_BADCERT_CN_MISMATCH, "CN mismatch" },
	{ MBEDTLS_X509_BADCERT_REVOKED, "revoked" },
	{ MBEDTLS_X509_BADCERT_MISSING, "no certificate" },
	{ MBEDTLS_X509_BADCERT_KEY_USAGE, "key usage" },
	{ MBEDTLS_X509_BADCERT_EXT_KEY_USAGE, "extended key usage" },
	{ MBEDTLS_X509_BADCERT_BAD_MD, "hash not allowed" },
	{ MBEDTLS_X509_BADCERT_BAD_PK, "key type not allowed" },
	{ MBEDTLS_X509_BADCERT_BAD_KEY, "key too weak" },
	{ MBEDTLS_X509_BADCERT_OTHER, "other" },
};

static void verify_failed(struct tls_conn *t)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
	const char *sep = ": ";
	size_t n = (size_t)snprintf(t->err, sizeof(t->err),
				    "certificate verify failed");

	for (size_t i = 0; i < sizeof(verify_names) / sizeof(verify_names[0]); i++) {
		if (!(flags & verify_names[i].flag) || n >= sizeof(t->err))
			continue;
		n += (size_t)snprintf(t->err + n, sizeof(t->err) - n, "%s%s",
				      sep, verify_names[i].name);
		sep = ", ";
		flags &= ~verify_names[i].flag;
	}
	if (flags && n < sizeof(t->err))
		snprintf(t->err + n, sizeof(t->err) - n, "%sflags 0x%lx", sep,
			 (unsigned long)flags);
}

void tls_fail(struct tls_conn *t, int ret)
{
	t->failed = true;
	describe(t, ret, t->err, sizeof(t->err));
}

uint64_t tls_handshakes[TLS_NVERSIONS][TLS_NRESULTS];

static void handshake_failed(struct tls_conn *t, int ret)
{
	char why[sizeof(t->err) - 20];

	t->failed = true;
	tls_handshakes[TLS_VNONE][TLS_FAILED]++;
	if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		verify_failed(t);
	} else {
		describe(t, ret, why, sizeof(why));
		snprintf(t->err, sizeof(t->err), "handshake failed: %s", why);
	}
	if (t->peer) /* a session that leads to a failure is not offered again */
		tls_session_drop(t->ctx, t->peer);
}

/* ---- the handshake */

int tls_handshake(struct tls_conn *t)
{
	int ret;

	if (t->failed)
		return -1;
	while (!mbedtls_ssl_is_handshake_over(&t->ssl)) {
		if (TLS_SSL(t, state) == MBEDTLS_SSL_SERVER_CERTIFICATE)
			t->full = true; /* resumed handshakes skip it */
		t->blocked = false;
		ret = mbedtls_ssl_handshake_step(&t->ssl);
		if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
		    ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			return ret;
		if (ret != 0) {
			handshake_failed(t, ret);
			return -1;
		}
	}
	if (!t->handshaken) {
		t->handshaken = true;
		tls_handshakes[mbedtls_ssl_get_version_number(&t->ssl) ==
				       MBEDTLS_SSL_VERSION_TLS1_2 ? TLS_V12 : TLS_V13]
			      [t->full ? TLS_FULL : TLS_RESUMED]++;
		/* a TLS 1.3 session is its ticket, which comes later (tls_io.c) */
		if (t->peer && mbedtls_ssl_get_version_number(&t->ssl) ==
				       MBEDTLS_SSL_VERSION_TLS1_2)
			tls_session_save(t->ctx, t->peer, &t->ssl);
	}
	return 0;
}

/* Drives the handshake of the connection at 1 until (deadline). Returns
 * -1 once it is done; otherwise it waits (continuing with k) or pushes
 * nil, err and returns 2. */
static int drive(lua_State *L, struct tls_conn *t, uint64_t deadline,
		 lua_KFunction k)
{
	int r;

	if (t->closed)
		return net_fail(L, "closed");
	r = tls_handshake(t);
	if (r == 0)
		return -1;
	if (r == -1)
		return net_fail(L, t->err);
	if (plat_monotonic_ns() >= deadline)
		return net_fail(L, "timeout");
	return tls_wait(L, t, r, deadline, k);
}

static int handshake_k(lua_State *L, int status, lua_KContext deadline)
{
	int n = drive(L, tls_enter(L), (uint64_t)deadline, handshake_k);

	if (n >= 0)
		return n;
	lua_pushboolean(L, 1);
	return 1;
}

/* conn:handshake([timeout]) -> true */
static int m_handshake(lua_State *L)
{
	struct tls_conn *t = tls_use(L);
	uint64_t d = lua_isnoneornil(L, 2) ? stream_deadline(t->timeout)
					   : rt_check_deadline(L, 2);

	lua_settop(L, 1);
	return handshake_k(L, LUA_OK, (lua_KContext)d);
}

/* ---- closing */

/* Closes (t), the object at (idx): a close_notify if the handshake is
 * done and the record can be queued now (close never waits), then the
 * TCP connection. */
static void conn_close(lua_State *L, struct tls_conn *t, int idx)
{
	if (t->closed)
		return;
	if (t->setup) {
		if (t->handshaken && !t->failed && t->c) {
			bool pending = TLS_SSL(t, out_left) != 0;

			/* a pending record is flushed first, then the alert */
			if (mbedtls_ssl_close_notify(&t->ssl) == 0 && pending)
				mbedtls_ssl_close_notify(&t->ssl);
		}
		mbedtls_ssl_free(&t->ssl);
		t->setup = false;
	}
	t->closed = true;
	t->c = NULL;
	stream_free(&t->rx);
	free(t->peer);
	free(t->sni);
	t->peer = t->sni = NULL;
	lua_getiuservalue(L, idx, UV_TCP);
	if (lua_type(L, -1) == LUA_TUSERDATA) {
		lua_getfield(L, -1, "close");
		lua_insert(L, -2);
		lua_call(L, 1, 0);
	} else {
		lua_pop(L, 1);
	}
	rt_wake_all(&t->sendq);
}

/* conn:close(): idempotent */
static int m_close(lua_State *L)
{
	conn_close(L, tls_enter(L), 1);
	lua_pushinteger(L, 1);
	return 1;
}

/* __abandon(conn, task id): closes it if that failed task used it last */
static int m_abandon(lua_State *L)
{
	struct tls_conn *t = tls_enter(L);

	if (t->owner == (unsigned)luaL_checkinteger(L, 2))
		conn_close(L, t, 1);
	return 0;
}

/* ---- wrap and connect */

/* Sets a client connection's server name, and its session cache key
 * "name:port" with the port of the peer (the TCP object at tcp). */
static bool set_peer(lua_State *L, struct tls_conn *t, int tcp,
		     const char *name)
{
	lua_getfield(L, tcp, "getpeername");
	lua_pushvalue(L, tcp);
	lua_call(L, 1, 2);
	if (lua_isnil(L, -2)) {
		lua_pop(L, 2);
		return false;
	}
	if (!name)
		name = t->ctx->server_name ? t->ctx->server_name
					   : lua_tostring(L, -2);
	lua_pushfstring(L, "%s:%s", name, lua_tostring(L, -1));
	t->peer = strdup(lua_tostring(L, -1));
	if (!t->peer)
		luaL_error(L, "not enough memory");
	/* SNI and the name the certificate must carry; without verification
	 * an address is not sent as SNI (RFC 6066, 3). */
	if (t->ctx->verify || !net_parse_addr(name, &(ip_addr_t){ 0 }))
		if (mbedtls_ssl_set_hostname(&t->ssl, name) != 0)
			luaL_error(L, "bad server name '%s'", name);
	lua_pop(L, 3); /* (name) may be one of them: used up first */
	return true;
}

/* Pushes a connection over the net.tcp at (tcp) with the context at
 * (ctxi), (name) the server name for a client (NULL: the context's, else
 * the peer's address). Returns 1, or 2 with nil, err pushed instead. */
static int push_conn(lua_State *L, int tcp, int ctxi, const char *name)
{
	struct tls_ctx *x = tls_check_ctx(L, ctxi);
	struct conn *c = net_tcp_conn(L, tcp);
	struct tls_conn *t;
	const mbedtls_ssl_session *s;

	if (!c)
		return net_fail(L, "closed");
	t = lua_newuserdatauv(L, sizeof(*t), 2);
	memset(t, 0, sizeof(*t));
	mbedtls_ssl_init(&t->ssl);
	t->ctx = x;
	t->timeout = UINT64_MAX;
	luaL_setmetatable(L, TLS_CONN_MT);
	lua_pushvalue(L, ctxi);
	lua_setiuservalue(L, -2, UV_CTX);
	if (mbedtls_ssl_setup(&t->ssl, &x->conf) != 0)
		return net_fail(L, "out of memory"); /* the TCP conn stays the caller's */
	t->setup = true;
	lua_pushvalue(L, tcp); /* owned from here on, closed with the object */
	lua_setiuservalue(L, -2, UV_TCP);
	net_tcp_disown(L, tcp); /* tasks own the TLS object instead */
	rt_own(L, -1, &t->owner);
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	if (x->server)
		return 1;
	if (!set_peer(L, t, tcp, name))
		return net_fail(L, "closed");
	if ((s = tls_session_find(x, t->peer)))
		mbedtls_ssl_set_session(&t->ssl, s); /* else a full handshake */
	return 1;
}

/* tls.wrap(conn, ctx [, server_name]) -> tls conn */
int tls_wrap(lua_State *L)
{
	const char *name;

	net_tcp_conn(L, 1);
	tls_check_ctx(L, 2);
	name = luaL_optstring(L, 3, NULL);
	lua_settop(L, 3);
	return push_conn(L, 1, 2, name);
}

static int connect_hs_k(lua_State *L, int status, lua_KContext deadline)
{
	struct tls_conn *t = tls_enter(L);
	int n = drive(L, t, (uint64_t)deadline, connect_hs_k);

	if (n < 0) {
		lua_settop(L, 1);
		return 1;
	}
	conn_close(L, t, 1);
	return n;
}

/* stack: [host, port, ctx, timeout, conn | nil, err] */
static int connected_k(lua_State *L, int status, lua_KContext deadline)
{
	struct tls_ctx *x = tls_check_ctx(L, 3);

	if (lua_isnil(L, 5))
		return 2;
	if (push_conn(L, 5, 3, x->server_name ? NULL : lua_tostring(L, 1)) != 1) {
		lua_pushvalue(L, 5);
		lua_getfield(L, -1, "close");
		lua_insert(L, -2);
		lua_call(L, 1, 0);
		return 2;
	}
	lua_replace(L, 1);
	lua_settop(L, 1);
	return connect_hs_k(L, LUA_OK, deadline);
}

/* tls.connect(host, port, ctx [, timeout]) -> tls conn, handshaken */
int tls_connect(lua_State *L)
{
	struct tls_ctx *x;
	uint64_t deadline;

	luaL_checkstring(L, 1);
	net_check_port(L, 2);
	x = tls_check_ctx(L, 3);
	luaL_argcheck(L, !x->server, 3, "tls.connect needs a client context");
	deadline = rt_check_deadline(L, 4);
	lua_settop(L, 4);
	lua_pushcfunction(L, net_connect);
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 4);
	lua_callk(L, 3, 2, (lua_KContext)deadline, connected_k);
	return connected_k(L, LUA_OK, (lua_KContext)deadline);
}

/* ---- the small methods */

/* conn:settimeout(seconds or nil) */
static int m_settimeout(lua_State *L)
{
	tls_enter(L)->timeout = stream_check_timeout(L, 2);
	lua_pushinteger(L, 1);
	return 1;
}

/* Calls the TCP connection's method (name) and returns what it does. */
static int delegate(lua_State *L, const char *name)
{
	struct tls_conn *t = tls_enter(L);

	if (!t->c)
		return net_fail(L, "closed");
	lua_settop(L, 1);
	lua_getiuservalue(L, 1, UV_TCP);
	lua_getfield(L, -1, name);
	lua_insert(L, -2);
	lua_call(L, 1, LUA_MULTRET);
	return lua_gettop(L) - 1;
}

static int m_getpeername(lua_State *L)
{
	return delegate(L, "getpeername");
}

static int m_getsockname(lua_State *L)
{
	return delegate(L, "getsockname");
}

/* conn:dirty(): bytes wait to be received, decrypted or not */
static int m_dirty(lua_State *L)
{
	struct tls_conn *t = tls_enter(L);

	if (t->closed) {
		lua_pushboolean(L, 0);
		return 1;
	}
	if (stream_buffered(&t->rx) || mbedtls_ssl_get_bytes_avail(&t->ssl) > 0) {
		lua_pushboolean(L, 1);
		return 1;
	}
	return delegate(L, "dirty");
}

/* conn:alpn() -> the negotiated protocol, or nil */
static int m_alpn(lua_State *L)
{
	struct tls_conn *t = tls_enter(L);
	const char *p = t->handshaken && !t->closed
				? mbedtls_ssl_get_alpn_protocol(&t->ssl) : NULL;

	lua_pushstring(L, p);
	return 1;
}

/* conn:sni() -> the name a client asked a server for, or nil */
static int m_sni(lua_State *L)
{
	lua_pushstring(L, tls_enter(L)->sni);
	return 1;
}

/* conn:session_reused() -> whether the handshake resumed a session */
static int m_session_reused(lua_State *L)
{
	struct tls_conn *t = tls_enter(L);

	lua_pushboolean(L, t->handshaken && !t->full);
	return 1;
}

/* conn:cipher() -> suite, version ("TLSv1.3", "TLSv1.2"), or nil before
 * the handshake */
static int m_cipher(lua_State *L)
{
	struct tls_conn *t = tls_enter(L);

	if (!t->handshaken || t->closed) {
		luaL_pushfail(L);
		return 1;
	}
	lua_pushstring(L, mbedtls_ssl_get_ciphersuite(&t->ssl));
	lua_pushstring(L, mbedtls_ssl_get_version(&t->ssl));
	return 2;
}

static int m_tostring(lua_State *L)
{
	struct tls_conn *t = tls_enter(L);

	if (!t->c) {
		lua_pushliteral(L, "tls connection (closed)");
		return 1;
	}
	lua_getiuservalue(L, 1, UV_TCP);
	lua_pushfstring(L, "tls over %s", luaL_tolstring(L, -1, NULL));
	return 1;
}

static const luaL_Reg methods[] = {
	{ "receive", tls_m_receive },
	{ "receiveany", tls_m_receiveany },
	{ "send", tls_m_send },
	{ "handshake", m_handshake },
	{ "settimeout", m_settimeout },
	{ "close", m_close },
	{ "getpeername", m_getpeername },
	{ "getsockname", m_getsockname },
	{ "dirty", m_dirty },
	{ "alpn", m_alpn },
	{ "sni", m_sni },
	{ "session_reused", m_session_reused },
	{ "cipher", m_cipher },
	{ NULL, NULL },
};

void tls_conn_open(lua_State *L)
{
	luaL_newmetatable(L, TLS_CONN_MT);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, m_close);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, m_close);
	lua_setfield(L, -2, "__close");
	lua_pushcfunction(L, m_abandon);
	lua_setfield(L, -2, "__abandon");
	lua_pushcfunction(L, m_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
}
