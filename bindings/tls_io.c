/*
 * tls_io.c -- record I/O of TLS connections: receive, receiveany and
 * send, with the shapes and semantics of net.tcp's (bindings/net_tcp.c):
 * patterns "*l", "*a" and counts with a prefix, nil, err, partial on
 * failure, per-call timeouts, send(data, i, j) returning the last index.
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

/* Makes room for ROOM more bytes at the end of the buffer. */
static void make_room(lua_State *L, struct tls_conn *t)
{
	size_t have = t->end - t->start, cap;
	char *b;

	if (t->cap - t->end >= ROOM)
		return;
	if (t->start) {
		memmove(t->buf, t->buf + t->start, have);
		t->scanned -= t->start;
		t->start = 0;
		t->end = have;
		if (t->cap - t->end >= ROOM)
			return;
	}
	cap = t->cap ? t->cap : ROOM;
	while (cap - have < ROOM)
		cap *= 2;
	b = realloc(t->buf, cap);
	if (!b)
		luaL_error(L, "not enough memory");
	t->buf = b;
	t->cap = cap;
}

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
	make_room(L, t);
	for (;;) {
		t->blocked = false;
		r = mbedtls_ssl_read(&t->ssl, (unsigned char *)t->buf + t->end,
				     t->cap - t->end);
		if (r > 0) {
			t->end += (size_t)r;
			return r;
		}
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
			if (t->blocked)
				return r;
			continue; /* a record without data (a warning alert) */
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

/* Pushes (prefix at idx, if a string) .. the (keep) first buffered bytes,
 * and takes (n) bytes. */
static void push_taken(lua_State *L, struct tls_conn *t, size_t n, size_t keep,
		       int prefix)
{
	if (lua_type(L, prefix) == LUA_TSTRING) {
		lua_pushvalue(L, prefix);
		lua_pushlstring(L, t->buf + t->start, keep);
		lua_concat(L, 2);
	} else {
		lua_pushlstring(L, t->buf + t->start, keep);
	}
	t->start += n;
	t->scanned = t->start;
	if (t->start == t->end)
		t->start = t->end = t->scanned = 0;
}

/* nil, err, partial: a failed receive returns what it has, taken. */
static int fail_partial(lua_State *L, struct tls_conn *t, const char *err,
			int prefix)
{
	size_t have = t->end - t->start;

	luaL_pushfail(L);
	lua_pushstring(L, err);
	if (t->buf)
		push_taken(L, t, have, have, prefix);
	else if (lua_type(L, prefix) == LUA_TSTRING)
		lua_pushvalue(L, prefix);
	else
		lua_pushliteral(L, "");
	return 3;
}

/* Pushes the answer to the pattern at 2 if the buffer has it. */
static bool try_pattern(lua_State *L, struct tls_conn *t)
{
	size_t have = t->end - t->start;
	char *nl;

	if (lua_type(L, 2) == LUA_TNUMBER) {
		size_t want = (size_t)lua_tointeger(L, 2);

		if (have < want)
			return false;
		push_taken(L, t, want, want, 3);
		return true;
	}
	if (lua_tostring(L, 2)[0] == 'a') {
		if (!t->rdone || !t->rclean)
			return false;
		push_taken(L, t, have, have, 3);
		return true;
	}
	/* a line: LF ends it, a CR before it goes too */
	nl = t->end > t->scanned ? memchr(t->buf + t->scanned, '\n',
					  t->end - t->scanned) : NULL;
	if (!nl) {
		t->scanned = t->end;
		return false;
	}
	{
		size_t n = (size_t)(nl - (t->buf + t->start)) + 1, keep = n - 1;

		if (keep && t->buf[t->start + keep - 1] == '\r')
			keep--;
		push_taken(L, t, n, keep, 3);
	}
	return true;
}

/* receive: stack [conn, pattern, prefix]; ctx: the deadline. */
static int receive_k(lua_State *L, int status, lua_KContext deadline)
{
	struct tls_conn *t = tls_enter(L);

	for (;;) {
		int r;

		if (t->closed)
			return fail_partial(L, t, "closed", 3);
		if (try_pattern(L, t))
			return 1;
		if (t->rdone) {
			bool all = lua_type(L, 2) == LUA_TSTRING &&
				   lua_tostring(L, 2)[0] == 'a';
			bool cut = all && strcmp(t->rwhy, "closed") == 0;

			return fail_partial(L, t, cut ? "truncated" : t->rwhy, 3);
		}
		r = pump(L, t);
		if (r >= 0)
			continue;
		if (plat_monotonic_ns() >= (uint64_t)deadline)
			return fail_partial(L, t, "timeout", 3);
		return tls_wait(L, t, r, (uint64_t)deadline, receive_k);
	}
}

static uint64_t op_deadline(uint64_t timeout)
{
	return timeout == UINT64_MAX ? UINT64_MAX : plat_monotonic_ns() + timeout;
}

/* conn:receive([pattern [, prefix]]): "*l" (default), "*a" or a count */
int tls_m_receive(lua_State *L)
{
	struct tls_conn *t = tls_use(L);

	lua_settop(L, 3);
	if (lua_isnil(L, 2)) {
		lua_pushliteral(L, "l");
		lua_replace(L, 2);
	}
	if (lua_type(L, 2) == LUA_TNUMBER) {
		luaL_argcheck(L, lua_isinteger(L, 2) && lua_tointeger(L, 2) >= 0,
			      2, "byte count must be a non-negative integer");
	} else {
		const char *p = luaL_checkstring(L, 2);

		if (*p == '*')
			p++;
		luaL_argcheck(L, strcmp(p, "l") == 0 || strcmp(p, "a") == 0, 2,
			      "pattern must be \"*l\", \"*a\" or a byte count");
		lua_pushstring(L, p);
		lua_replace(L, 2);
	}
	return receive_k(L, LUA_OK, (lua_KContext)op_deadline(t->timeout));
}

/* receiveany: stack [conn, max]; ctx: the deadline. */
static int receiveany_k(lua_State *L, int status, lua_KContext deadline)
{
	struct tls_conn *t = tls_enter(L);
	size_t max = (size_t)lua_tointeger(L, 2);

	for (;;) {
		size_t have = t->end - t->start;
		int r;

		if (t->closed)
			return net_fail(L, "closed");
		if (have) {
			push_taken(L, t, have < max ? have : max,
				   have < max ? have : max, 0);
			return 1;
		}
		if (t->rdone)
			return net_fail(L, t->rwhy);
		r = pump(L, t);
		if (r >= 0)
			continue;
		if (plat_monotonic_ns() >= (uint64_t)deadline)
			return net_fail(L, "timeout");
		return tls_wait(L, t, r, (uint64_t)deadline, receiveany_k);
	}
}

/* conn:receiveany([max]): whatever has arrived, up to max bytes */
int tls_m_receiveany(lua_State *L)
{
	struct tls_conn *t = tls_use(L);
	lua_Integer max = luaL_optinteger(L, 2, 65536);

	luaL_argcheck(L, max > 0, 2, "max must be positive");
	lua_settop(L, 1);
	lua_pushinteger(L, max);
	return receiveany_k(L, LUA_OK, (lua_KContext)op_deadline(t->timeout));
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

	if (t->wpending && t->ssl.out_left == 0) { /* flushed by another call */
		*pos += (lua_Integer)t->wpending;
		t->wpending = 0;
		return 0;
	}
	t->blocked = false;
	if (t->ssl.out_left && !t->wpending) {
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
	size_t len;
	lua_Integer i, j;

	luaL_checklstring(L, 2, &len);
	i = luaL_optinteger(L, 3, 1);
	j = luaL_optinteger(L, 4, -1);
	/* string.sub's rules for i and j */
	if (i < 0)
		i = (lua_Integer)len + i + 1 > 0 ? (lua_Integer)len + i + 1 : 1;
	else if (i == 0)
		i = 1;
	if (j < 0)
		j = (lua_Integer)len + j + 1;
	else if (j > (lua_Integer)len)
		j = (lua_Integer)len;
	if (j < i)
		j = i - 1;
	lua_settop(L, 2);
	lua_pushinteger(L, i);
	lua_pushinteger(L, j);
	lua_pushinteger(L, i - 1); /* the last index sent */
	lua_pushboolean(L, 0);
	return send_k(L, LUA_OK, (lua_KContext)op_deadline(t->timeout));
}
