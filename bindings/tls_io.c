/*
 * tls_io.c -- record I/O of TLS connections: receive, receiveany and
 * send, with the shapes and semantics of net.tcp's: receive is stream.c's
 * over the byte source at the end of this file, send(data, i, j) returns
 * the last index.
 *
 * Decrypted bytes collect in the connection's buffer until a pattern is
 * satisfied; mbedTLS is asked for at most one record's worth at a time,
 * so the peer's window stays closed while the app does not read. Reading
 * ends with the peer's close_notify ("closed"), with the transport
 * ("closed" or its reason: "*a" then fails with "truncated", RFC 5246,
 * 7.2.1), or with a fatal error (its message).
 *
 * mbedTLS wants an interrupted write repeated with the same length, and
 * a write while an earlier record is still queued would report that
 * record as its own. So one task sends at a time (the others wait on
 * sendq), the length of its queued record is kept in wpending, and a
 * record another call left queued (an alert, a write that timed out,
 * counted as sent by it) is flushed before new data goes out.
 */
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "tls.h"

#define ROOM 16384 /* asked of mbedtls_ssl_read: one record's plaintext */

static void end_reading(struct tls_conn *t, const char *why, bool clean)
{
	t->rdone = true;
	t->rclean = clean;
	t->rwhy = why;
}

/* Takes what mbedTLS can decrypt now into the buffer, doing the
 * handshake first if need be. Returns how many bytes came, a WANT code
 * to wait, or 0 once reading has ended. */
static int pump(lua_State *L, struct tls_conn *t)
{
	int r = tls_handshake(t);

	if (r == -1) {
		end_reading(t, t->err, false);
		return 0;
	}
	if (r)
		return r;
	if (!stream_reserve(&t->rx, ROOM, ROOM))
		luaL_error(L, "not enough memory");
	for (;;) {
		t->blocked = false;
		r = mbedtls_ssl_read(&t->ssl, (unsigned char *)t->rx.b + t->rx.end,
				     t->rx.cap - t->rx.end);
		if (r > 0) {
			t->rx.end += (size_t)r;
			return r;
		}
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
			if (t->blocked)
				return r;
			continue; /* a record without data (a warning alert) */
		}
		if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
			if (t->peer) /* a client's TLS 1.3 session */
				tls_session_save(t->ctx, t->peer, &t->ssl);
			continue;
		}
		if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
			end_reading(t, "closed", true);
		} else if (r == 0 || r == MBEDTLS_ERR_SSL_CONN_EOF) {
			end_reading(t, t->c ? net_conn_error(t->c) : "closed", false);
		} else {
			tls_fail(t, r);
			end_reading(t, t->err, false);
		}
		return 0;
	}
}

/* ---- the byte source of receive (stream.h) */

static struct stream_buf *src_enter(lua_State *L)
{
	struct tls_conn *t = tls_enter(L);

	return t->closed ? NULL : &t->rx;
}

/* Reading ends with close_notify (clean), the transport (RFC 5246, 7.2.1:
 * "*a" then fails with "truncated") or a fatal error. */
static int src_fill(lua_State *L, struct stream_buf *s, struct stream_end *end)
{
	struct tls_conn *t = container_of(s, struct tls_conn, rx);
	int r = t->rdone ? 0 : pump(L, t);

	if (r)
		return r;
	end->why = t->rwhy;
	end->why_all = t->rclean ? NULL
		       : strcmp(t->rwhy, "closed") == 0 ? "truncated" : t->rwhy;
	return 0;
}

static int src_wait(lua_State *L, struct stream_buf *s, int code, bool more,
		    uint64_t deadline, lua_KFunction k)
{
	return tls_wait(L, container_of(s, struct tls_conn, rx), code, deadline, k);
}

static const struct stream_source source = {
	src_enter, src_fill, src_wait, NULL,
};

/* conn:receive([pattern [, prefix]]): "*l" (default), "*a" or a count */
int tls_m_receive(lua_State *L)
{
	return stream_receive(L, &source, tls_use(L)->timeout);
}

/* conn:receiveany([max]): whatever has arrived, up to max bytes */
int tls_m_receiveany(lua_State *L)
{
	return stream_receiveany(L, &source, tls_use(L)->timeout);
}

/* Ends a send: releases the sending turn if this call has it (stack slot
 * 6), and returns the last index sent, or nil, (err), it. */
static int send_end(lua_State *L, struct tls_conn *t, const char *err)
{
	lua_Integer pos = lua_tointeger(L, 5);

	if (lua_toboolean(L, 6)) {
		pos += (lua_Integer)t->wpending; /* queued: it goes out first */
		t->wpending = 0;
		t->sending = false;
		rt_wake_all(&t->sendq);
	}
	if (!err) {
		lua_pushinteger(L, pos);
		return 1;
	}
	luaL_pushfail(L);
	lua_pushstring(L, err);
	lua_pushinteger(L, pos);
	return 3;
}

/* One step of sending: returns 0 when (pos) moved or a stray record went
 * out, a WANT code to wait, or -1 on a fatal error. */
static int send_step(struct tls_conn *t, const char *data, lua_Integer *pos,
		     lua_Integer j)
{
	static const unsigned char dummy;
	size_t n;
	int r;

	if (t->wpending && TLS_SSL(t, out_left) == 0) { /* flushed by another call */
		*pos += (lua_Integer)t->wpending;
		t->wpending = 0;
		return 0;
	}
	t->blocked = false;
	if (TLS_SSL(t, out_left) && !t->wpending) {
		/* someone else's record: with one queued, mbedTLS only
		 * flushes and reports the length given as written */
		r = mbedtls_ssl_write(&t->ssl, &dummy, 1);
		return r > 0 ? 0 : r == MBEDTLS_ERR_SSL_WANT_READ ||
			r == MBEDTLS_ERR_SSL_WANT_WRITE ? r : (tls_fail(t, r), -1);
	}
	n = t->wpending;
	if (!n) {
		int max = mbedtls_ssl_get_max_out_record_payload(&t->ssl);

		n = (size_t)(j - *pos);
		if (max > 0 && n > (size_t)max)
			n = (size_t)max;
	}
	r = mbedtls_ssl_write(&t->ssl, (const unsigned char *)data + *pos, n);
	if (r > 0) {
		*pos += r;
		t->wpending = 0;
		return 0;
	}
	if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
		t->wpending = n;
		return r;
	}
	tls_fail(t, r);
	return -1;
}

/* send: stack [conn, data, i, j, sent-up-to, has the turn]; ctx: the
 * deadline. */
static int send_k(lua_State *L, int status, lua_KContext deadline)
{
	struct tls_conn *t = tls_enter(L);
	const char *data = lua_tostring(L, 2);
	lua_Integer j = lua_tointeger(L, 4), pos = lua_tointeger(L, 5);
	int r;

	if (t->closed)
		return send_end(L, t, "closed");
	r = tls_handshake(t);
	if (r == -1)
		return send_end(L, t, t->err);
	if (r == 0 && !lua_toboolean(L, 6)) {
		if (t->sending) {
			if (plat_monotonic_ns() >= (uint64_t)deadline)
				return send_end(L, t, "timeout");
			return rt_wait(L, &t->sendq, (uint64_t)deadline, deadline,
				       send_k);
		}
		t->sending = true;
		lua_pushboolean(L, 1);
		lua_replace(L, 6);
	}
	while (r == 0 && (pos < j || t->wpending))
		r = send_step(t, data, &pos, j);
	lua_pushinteger(L, pos);
	lua_replace(L, 5);
	if (r == 0)
		return send_end(L, t, NULL);
	if (r == -1)
		return send_end(L, t, t->err);
	if (plat_monotonic_ns() >= (uint64_t)deadline)
		return send_end(L, t, "timeout");
	return tls_wait(L, t, r, (uint64_t)deadline, send_k);
}

/* conn:send(data [, i [, j]]) -> index of the last byte sent */
int tls_m_send(lua_State *L)
{
	struct tls_conn *t = tls_use(L);

	stream_send_args(L);
	lua_pushboolean(L, 0); /* no sending turn yet */
	return send_k(L, LUA_OK, (lua_KContext)stream_deadline(t->timeout));
}
