/*
 * stream.c -- the receive side of LuaSocket's connection methods, once
 * for every byte stream (stream.h): net.tcp fills the buffer from lwIP's
 * pbufs, tls.conn from decrypted records. Partial reads are never lost: a
 * receive that fails returns what it has (prefix included) as its third
 * value and takes it (luasocket#212), and "*a" cannot wait past its
 * deadline (copas#5).
 *
 * A receive keeps its state on the Lua stack so that its continuation
 * can pick up after a wait: [conn, pattern, prefix, source] for receive,
 * [conn, max, source] for receiveany, the deadline as the continuation's
 * context.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "stream.h"

#define RECEIVE_SRC 4 /* stack slots of the source */
#define RECEIVEANY_SRC 3

/* ---- the buffer */

bool stream_reserve(struct stream_buf *s, size_t n, size_t first)
{
	size_t have = s->end - s->start, cap;
	char *b;

	if (s->cap - s->end >= n)
		return true;
	if (s->start) {
		memmove(s->b, s->b + s->start, have);
		s->scanned -= s->start;
		s->start = 0;
		s->end = have;
		if (s->cap - s->end >= n)
			return true;
	}
	cap = s->cap ? s->cap : first;
	while (cap - have < n)
		cap *= 2;
	b = realloc(s->b, cap);
	if (!b)
		return false;
	s->b = b;
	s->cap = cap;
	return true;
}

void stream_take(struct stream_buf *s, size_t n)
{
	s->start += n;
	s->scanned = s->start;
	if (s->start == s->end)
		s->start = s->end = s->scanned = 0;
}

void stream_free(struct stream_buf *s)
{
	free(s->b);
	memset(s, 0, sizeof(*s));
}

/* ---- receiving */

/* Pushes (the prefix at 3, if (prefixed) and a string) .. the (keep)
 * first buffered bytes, and takes (n) bytes. */
static void push_taken(lua_State *L, const struct stream_source *src,
		       struct stream_buf *s, size_t n, size_t keep,
		       bool prefixed)
{
	if (prefixed && lua_type(L, 3) == LUA_TSTRING) {
		lua_pushvalue(L, 3);
		lua_pushlstring(L, keep ? s->b + s->start : "", keep);
		lua_concat(L, 2);
	} else {
		lua_pushlstring(L, keep ? s->b + s->start : "", keep);
	}
	stream_take(s, n);
	if (src->taken)
		src->taken(s);
}

/* nil, err, partial: a failed receive returns what it has, taken; (s)
 * NULL once the connection was closed here. */
static int fail_partial(lua_State *L, const struct stream_source *src,
			struct stream_buf *s, const char *err)
{
	luaL_pushfail(L);
	lua_pushstring(L, err);
	if (s)
		push_taken(L, src, s, stream_buffered(s), stream_buffered(s), true);
	else if (lua_type(L, 3) == LUA_TSTRING)
		lua_pushvalue(L, 3);
	else
		lua_pushliteral(L, "");
	return 3;
}

/* Pushes the answer to the count or line pattern at 2 if the buffer has
 * it ("*a" waits for the end: the caller's). */
static bool match(lua_State *L, const struct stream_source *src,
		  struct stream_buf *s)
{
	size_t have = stream_buffered(s), n, keep;
	char *nl;

	if (lua_type(L, 2) == LUA_TNUMBER) {
		size_t want = (size_t)lua_tointeger(L, 2);

		if (have < want)
			return false;
		push_taken(L, src, s, want, want, true);
		return true;
	}
	if (lua_tostring(L, 2)[0] == 'a')
		return false;
	nl = s->end > s->scanned ? memchr(s->b + s->scanned, '\n',
					  s->end - s->scanned) : NULL;
	if (!nl) {
		s->scanned = s->end;
		return false;
	}
	n = (size_t)(nl - (s->b + s->start)) + 1;
	keep = n - 1;
	if (keep && s->b[s->start + keep - 1] == '\r')
		keep--;
	push_taken(L, src, s, n, keep, true);
	return true;
}

/* receive: stack [conn, pattern, prefix, source]; ctx: the deadline. */
static int receive_k(lua_State *L, int status, lua_KContext deadline)
{
	const struct stream_source *src = lua_touserdata(L, RECEIVE_SRC);
	struct stream_buf *s = src->enter(L);
	bool all = lua_type(L, 2) == LUA_TSTRING && lua_tostring(L, 2)[0] == 'a';
	struct stream_end end;
	int r;

	if (!s)
		return fail_partial(L, src, NULL, "closed");
	do {
		if (match(L, src, s))
			return 1;
		r = src->fill(L, s, &end);
	} while (r > 0);
	if (r == 0) {
		if (!all)
			return fail_partial(L, src, s, end.why);
		if (end.why_all)
			return fail_partial(L, src, s, end.why_all);
		push_taken(L, src, s, stream_buffered(s), stream_buffered(s), true);
		return 1;
	}
	if (plat_monotonic_ns() >= (uint64_t)deadline)
		return fail_partial(L, src, s, "timeout");
	return src->wait(L, s, r, true, (uint64_t)deadline, receive_k);
}

int stream_receive(lua_State *L, const struct stream_source *src,
		   uint64_t timeout)
{
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
	lua_pushlightuserdata(L, (void *)src);
	return receive_k(L, LUA_OK, (lua_KContext)stream_deadline(timeout));
}

/* receiveany: stack [conn, max, source]; ctx: the deadline. */
static int receiveany_k(lua_State *L, int status, lua_KContext deadline)
{
	const struct stream_source *src = lua_touserdata(L, RECEIVEANY_SRC);
	struct stream_buf *s = src->enter(L);
	size_t max = (size_t)lua_tointeger(L, 2);
	struct stream_end end;
	int r = 1;

	if (!s) {
		luaL_pushfail(L);
		lua_pushliteral(L, "closed");
		return 2;
	}
	while (!stream_buffered(s) && (r = src->fill(L, s, &end)) > 0)
		;
	if (stream_buffered(s)) {
		size_t n = stream_buffered(s) < max ? stream_buffered(s) : max;

		push_taken(L, src, s, n, n, false);
		return 1;
	}
	luaL_pushfail(L);
	if (r == 0) {
		lua_pushstring(L, end.why);
		return 2;
	}
	if (plat_monotonic_ns() >= (uint64_t)deadline) {
		lua_pushliteral(L, "timeout");
		return 2;
	}
	lua_pop(L, 1);
	return src->wait(L, s, r, false, (uint64_t)deadline, receiveany_k);
}

int stream_receiveany(lua_State *L, const struct stream_source *src,
		      uint64_t timeout)
{
	lua_Integer max = luaL_optinteger(L, 2, 65536);

	luaL_argcheck(L, max > 0, 2, "max must be positive");
	lua_settop(L, 1);
	lua_pushinteger(L, max);
	lua_pushlightuserdata(L, (void *)src);
	return receiveany_k(L, LUA_OK, (lua_KContext)stream_deadline(timeout));
}

/* ---- what send and settimeout take */

void stream_send_args(lua_State *L)
{
	size_t len;
	lua_Integer i, j;

	luaL_checklstring(L, 2, &len);
	i = luaL_optinteger(L, 3, 1);
	j = luaL_optinteger(L, 4, -1);
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
	lua_pushinteger(L, i - 1);
}

uint64_t stream_check_timeout(lua_State *L, int idx)
{
	uint64_t d = rt_check_deadline(L, idx);

	return d == UINT64_MAX ? UINT64_MAX : d - plat_monotonic_ns();
}

uint64_t stream_deadline(uint64_t timeout)
{
	return timeout == UINT64_MAX ? UINT64_MAX : plat_monotonic_ns() + timeout;
}
