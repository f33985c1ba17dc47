/*
 * http_parser.c -- the `http.parser` module: httpp.h in front of Lua, for
 * stdlib/http's server and client.
 *
 *   p:request(buf [, init])            -> req, n | nil | nil, status, why
 *   p:response(buf [, init [, head]])  -> res, n | nil | nil, status, why
 *   p:chunked()                        -> decoder; dec:decode(buf [, init])
 *   unescape(s [, plus]), query(s [, all])
 *
 * where p is the module itself (default limits) or a parser from
 * new{max_head=, max_headers=, max_body=}. docs/http-internals.md has the
 * whole contract. Each head is parsed in one pass in C and handed to Lua as
 * one table, header names lowercased and repeats combined here.
 */
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "httpp.h"
#include "runtime.h"

#define PARSER_MT "http.parser"
#define CHUNKED_MT "http.chunked"
#define MAX_FIELDS_CAP 10000
#define SCRATCH 512

/* A parser: its limits and room for the field lines of one head. */
struct parser {
	struct httpp_limits lim;
	struct httpp_field fields[];
};

struct decoder {
	struct httpp_chunked c;
	struct parser *p; /* kept alive by the decoder's user value 1 */
};

/* The parser a call uses: argument 1 when it is one (p:request(...)), else
 * the module's default (http.parser.request(...)); *arg is where the rest
 * of the arguments start. */
static struct parser *which(lua_State *L, int *arg)
{
	if (lua_type(L, 1) == LUA_TUSERDATA) {
		*arg = 2;
		return luaL_checkudata(L, 1, PARSER_MT);
	}
	*arg = 1;
	return lua_touserdata(L, lua_upvalueindex(1));
}

/* The buffer argument and its start: buf [, init], init 1-based. */
static const char *input(lua_State *L, int arg, size_t *len)
{
	size_t n;
	const char *s = luaL_checklstring(L, arg, &n);
	lua_Integer init = luaL_optinteger(L, arg + 1, 1);

	luaL_argcheck(L, init >= 1 && (size_t)init <= n + 1, arg + 1,
		      "initial position out of range");
	*len = n - (size_t)(init - 1);
	return s + init - 1;
}

static void push_span(lua_State *L, const char *buf, struct httpp_span s)
{
	lua_pushlstring(L, buf + s.off, s.len);
}

/* Pushes a field name lowercased (RFC 9110 5.1: names are case-blind). */
static void push_name(lua_State *L, const char *buf, struct httpp_span s)
{
	char tmp[SCRATCH], *d = tmp;
	luaL_Buffer b;

	if (s.len > sizeof(tmp))
		d = luaL_buffinitsize(L, &b, s.len);
	for (uint32_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)buf[s.off + i];
		d[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	if (d == tmp)
		lua_pushlstring(L, tmp, s.len);
	else
		luaL_pushresultsize(&b, s.len);
}

/* A 64-bit filter of field names seen, so that only names that may be
 * repeats cost a table lookup: the bit depends on the length and the last
 * byte, both blind to case. */
static uint64_t name_bit(const char *buf, struct httpp_span s)
{
	return (uint64_t)1 << ((s.len * 7 + ((unsigned char)buf[s.off + s.len - 1] | 0x20)) & 63);
}

/* Pushes the fields as a table of lowercase name -> value. Repeated
 * fields are combined in order with ", " (RFC 9110 5.3), Cookie with "; "
 * (RFC 6265 5.4); for responses Set-Cookie is always a list (RFC 9110
 * 5.3 exempts it). */
static void push_fields(lua_State *L, const char *buf,
			const struct httpp_field *f, uint32_t n, int response)
{
	uint64_t seen = 0;

	lua_createtable(L, 0, (int)n);
	for (uint32_t i = 0; i < n; i++) {
		int set_cookie = response && f[i].name.len == 10;
		uint64_t bit = name_bit(buf, f[i].name);

		push_name(L, buf, f[i].name);
		if (set_cookie && strcmp(lua_tostring(L, -1), "set-cookie") != 0)
			set_cookie = 0;
		if (!(seen & bit) && !set_cookie) {
			seen |= bit;
			push_span(L, buf, f[i].value);
			lua_rawset(L, -3);
			continue;
		}
		lua_pushvalue(L, -1);
		if (lua_rawget(L, -3) == LUA_TNIL) {
			lua_pop(L, 1);
			if (set_cookie) {
				lua_createtable(L, 1, 0);
				push_span(L, buf, f[i].value);
				lua_rawseti(L, -2, 1);
			} else {
				push_span(L, buf, f[i].value);
			}
		} else if (set_cookie) {
			push_span(L, buf, f[i].value);
			lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
		} else {
			int cookie = strcmp(lua_tostring(L, -2), "cookie") == 0;

			lua_pushstring(L, cookie ? "; " : ", ");
			push_span(L, buf, f[i].value);
			lua_concat(L, 3);
		}
		lua_rawset(L, -3);
	}
}

static void set_bool(lua_State *L, const char *k, int v)
{
	lua_pushboolean(L, v != 0);
	lua_setfield(L, -2, k);
}

static void set_common(lua_State *L, const struct httpp_msg *m)
{
	static const char *const names[] = { "none", "length", "chunked", "close" };

	lua_pushstring(L, names[m->body]);
	lua_setfield(L, -2, "body");
	if (m->body == HTTPP_BODY_NONE || m->body == HTTPP_BODY_LENGTH) {
		lua_pushinteger(L, (lua_Integer)m->length);
		lua_setfield(L, -2, "length");
	}
	set_bool(L, "keep_alive", m->flags & HTTPP_KEEP_ALIVE);
	lua_pushstring(L, m->minor ? "1.1" : "1.0");
	lua_setfield(L, -2, "version");
}

/* The result of a head parser: (r) is its return value. */
static int result(lua_State *L, int r, const struct httpp_msg *m)
{
	if (r == HTTPP_MORE) {
		lua_pushnil(L);
		return 1;
	}
	lua_pushnil(L);
	lua_pushinteger(L, m->error);
	lua_pushstring(L, m->why);
	return 3;
}

/* [p:]request(buf [, init]) -> req, n | nil | nil, status, why */
static int m_request(lua_State *L)
{
	int arg;
	struct parser *p = which(L, &arg);
	struct httpp_msg m;
	size_t len;
	const char *buf = input(L, arg, &len);
	int r;

	m.fields = p->fields;
	r = httpp_request(buf, len, &p->lim, &m);
	if (r <= 0)
		return result(L, r, &m);
	lua_createtable(L, 0, 12);
	push_span(L, buf, m.method);
	lua_setfield(L, -2, "method");
	push_span(L, buf, m.target);
	lua_setfield(L, -2, "target");
	if (m.path.len || !(m.flags & HTTPP_ABSOLUTE))
		push_span(L, buf, m.path);
	else
		lua_pushliteral(L, "/");
	lua_setfield(L, -2, "path");
	if (m.flags & HTTPP_HAS_QUERY) {
		push_span(L, buf, m.query);
		lua_setfield(L, -2, "query");
	}
	if (m.flags & HTTPP_ABSOLUTE) {
		push_span(L, buf, m.authority);
		lua_setfield(L, -2, "authority");
	}
	set_common(L, &m);
	set_bool(L, "expect_continue", m.flags & HTTPP_EXPECT_CONTINUE);
	if (m.flags & HTTPP_UPGRADE)
		set_bool(L, "upgrade", 1);
	push_fields(L, buf, m.fields, m.nfields, 0);
	lua_setfield(L, -2, "headers");
	lua_pushinteger(L, r);
	return 2;
}

/* [p:]response(buf [, init [, head]]) -> res, n | nil | nil, status, why;
 * head: the request was HEAD, so no body follows. */
static int m_response(lua_State *L)
{
	int arg;
	struct parser *p = which(L, &arg);
	struct httpp_msg m;
	size_t len;
	const char *buf = input(L, arg, &len);
	int r;

	m.fields = p->fields;
	r = httpp_response(buf, len, &p->lim, lua_toboolean(L, arg + 2), &m);
	if (r <= 0)
		return result(L, r, &m);
	lua_createtable(L, 0, 8);
	lua_pushinteger(L, m.status);
	lua_setfield(L, -2, "status");
	push_span(L, buf, m.reason);
	lua_setfield(L, -2, "reason");
	set_common(L, &m);
	if (m.flags & HTTPP_UPGRADE)
		set_bool(L, "upgrade", 1);
	push_fields(L, buf, m.fields, m.nfields, 1);
	lua_setfield(L, -2, "headers");
	lua_pushinteger(L, r);
	return 2;
}

/* [p:]chunked() -> a decoder with the parser's body and head limits */
static int m_chunked(lua_State *L)
{
	int arg;
	struct parser *p = which(L, &arg);
	struct decoder *d = lua_newuserdatauv(L, sizeof(*d), 2);

	httpp_chunked_init(&d->c, p->lim.max_body, p->lim.max_head,
			   p->lim.max_fields);
	d->p = p;
	lua_pushvalue(L, arg == 2 ? 1 : lua_upvalueindex(1));
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, CHUNKED_MT);
	return 1;
}

/* dec:decode(buf [, init]) -> data, n, done | nil, status, why: the body
 * bytes decoded from buf, how many bytes of buf were consumed from init,
 * and whether the body (and its trailers) ended there. */
static int m_decode(lua_State *L)
{
	struct decoder *d = luaL_checkudata(L, 1, CHUNKED_MT);
	size_t len, used, at = 0;
	const char *buf = input(L, 2, &len);
	struct httpp_span data, first = { 0, 0 }, trailer = { 0, 0 };
	int r, runs = 0;
	luaL_Buffer b;

	while ((r = httpp_chunked_decode(&d->c, buf + at, len - at, &used,
					 &data)) == HTTPP_CHUNK_DATA) {
		data.off += (uint32_t)at;
		if (runs == 1) {
			luaL_buffinit(L, &b);
			luaL_addlstring(&b, buf + first.off, first.len);
		}
		if (runs++ == 0)
			first = data;
		else
			luaL_addlstring(&b, buf + data.off, data.len);
		at += used;
	}
	if (r == HTTPP_CHUNK_ERROR) {
		lua_pushnil(L);
		lua_pushinteger(L, d->c.error);
		lua_pushstring(L, d->c.why);
		return 3;
	}
	if (r == HTTPP_CHUNK_DONE) {
		trailer = data;
		trailer.off += (uint32_t)at;
	}
	at += used;
	if (runs > 1)
		luaL_pushresult(&b);
	else
		push_span(L, buf, first);
	if (r == HTTPP_CHUNK_DONE && trailer.len > 0) {
		uint32_t n = httpp_fields(buf + trailer.off, trailer.len,
					  d->p->fields, d->p->lim.max_fields);
		push_fields(L, buf + trailer.off, d->p->fields, n, 0);
		lua_setiuservalue(L, 1, 2);
	}
	lua_pushinteger(L, (lua_Integer)at);
	lua_pushboolean(L, r == HTTPP_CHUNK_DONE);
	return 3;
}

/* dec:trailers() -> the trailer fields, as headers are given (empty until
 * the body ended) */
static int m_trailers(lua_State *L)
{
	luaL_checkudata(L, 1, CHUNKED_MT);
	if (lua_getiuservalue(L, 1, 2) != LUA_TTABLE) {
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setiuservalue(L, 1, 2);
	}
	return 1;
}

/* dec:total() -> body bytes announced by the chunk sizes so far */
static int m_total(lua_State *L)
{
	struct decoder *d = luaL_checkudata(L, 1, CHUNKED_MT);

	lua_pushinteger(L, (lua_Integer)d->c.total);
	return 1;
}

/* Pushes (len) bytes of (s) percent-decoded, with a scratch buffer. */
static void push_unescaped(lua_State *L, const char *s, size_t len, int plus)
{
	char tmp[SCRATCH];
	luaL_Buffer b;
	char *d = len <= sizeof(tmp) ? tmp : luaL_buffinitsize(L, &b, len);
	size_t n = httpp_unescape(d, s, len, plus);

	if (d == tmp)
		lua_pushlstring(L, tmp, n);
	else
		luaL_pushresultsize(&b, n);
}

/* unescape(s [, plus]) -> s percent-decoded; '+' as space when plus */
static int m_unescape(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	int plus = lua_toboolean(L, 2);

	if (!memchr(s, '%', len) && !(plus && memchr(s, '+', len)))
		lua_settop(L, 1);
	else
		push_unescaped(L, s, len, plus);
	return 1;
}

/* Adds value (top) to the list t[key] (key below it; t below that). */
static void add_all(lua_State *L)
{
	lua_pushvalue(L, -2);
	if (lua_rawget(L, -4) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_createtable(L, 1, 0);
		lua_pushvalue(L, -3);
		lua_pushvalue(L, -2);
		lua_rawset(L, -6);
	}
	lua_insert(L, -2);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	lua_pop(L, 2);
}

/* query(s [, all]) -> { key = value } from "a=1&b=2" decoded ('+' is a
 * space): the last of repeated keys wins, or with all every value is
 * kept, in order, in a list. A pair without '=' has the value "". */
static int m_query(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len), *e = s + len;
	int all = lua_toboolean(L, 2);

	lua_newtable(L);
	while (s < e) {
		const char *amp = memchr(s, '&', (size_t)(e - s)), *eq;

		if (!amp)
			amp = e;
		eq = memchr(s, '=', (size_t)(amp - s));
		if (amp > s) {
			push_unescaped(L, s, (size_t)((eq ? eq : amp) - s), 1);
			if (eq)
				push_unescaped(L, eq + 1, (size_t)(amp - eq - 1), 1);
			else
				lua_pushliteral(L, "");
			if (all)
				add_all(L);
			else
				lua_rawset(L, -3);
		}
		s = amp + 1;
	}
	return 1;
}

static lua_Integer opt_limit(lua_State *L, const char *key, lua_Integer def,
			     lua_Integer max)
{
	lua_Integer v;

	if (lua_getfield(L, 1, key) == LUA_TNIL) {
		lua_pop(L, 1);
		return def;
	}
	v = lua_tointeger(L, -1);
	if (!lua_isinteger(L, -1) || v < 1 || v > max)
		luaL_error(L, "bad option '%s' (an integer in 1..%I expected)",
			   key, max);
	lua_pop(L, 1);
	return v;
}

static struct parser *new_parser(lua_State *L, lua_Integer fields)
{
	struct parser *p = lua_newuserdatauv(L, sizeof(*p) +
					     (size_t)fields * sizeof(p->fields[0]), 0);

	p->lim.max_fields = (uint32_t)fields;
	p->lim.max_head = HTTPP_MAX_HEAD;
	p->lim.max_body = HTTPP_MAX_BODY;
	luaL_setmetatable(L, PARSER_MT);
	return p;
}

/* new([opts]) -> a parser with limits opts.max_head (bytes of a head),
 * opts.max_headers (field lines), opts.max_body (request body bytes) */
static int m_new(lua_State *L)
{
	lua_Integer head, fields, body;
	struct parser *p;

	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	head = opt_limit(L, "max_head", HTTPP_MAX_HEAD, 1 << 24);
	fields = opt_limit(L, "max_headers", HTTPP_MAX_FIELDS, MAX_FIELDS_CAP);
	body = opt_limit(L, "max_body", HTTPP_MAX_BODY, (lua_Integer)HTTPP_MAX_LENGTH);
	p = new_parser(L, fields);
	p->lim.max_head = (uint32_t)head;
	p->lim.max_body = (uint64_t)body;
	return 1;
}

/* p.max_head, p.max_headers, p.max_body, and the methods */
static int m_index(lua_State *L)
{
	struct parser *p = luaL_checkudata(L, 1, PARSER_MT);
	const char *k = luaL_checkstring(L, 2);

	if (strcmp(k, "max_head") == 0)
		lua_pushinteger(L, p->lim.max_head);
	else if (strcmp(k, "max_headers") == 0)
		lua_pushinteger(L, p->lim.max_fields);
	else if (strcmp(k, "max_body") == 0)
		lua_pushinteger(L, (lua_Integer)p->lim.max_body);
	else
		lua_rawget(L, lua_upvalueindex(1));
	return 1;
}

static const luaL_Reg parser_methods[] = {
	{ "request", m_request },
	{ "response", m_response },
	{ "chunked", m_chunked },
	{ NULL, NULL },
};

static const luaL_Reg decoder_methods[] = {
	{ "decode", m_decode },
	{ "trailers", m_trailers },
	{ "total", m_total },
	{ NULL, NULL },
};

static const luaL_Reg funcs[] = {
	{ "request", m_request },
	{ "response", m_response },
	{ "chunked", m_chunked },
	{ "unescape", m_unescape },
	{ "query", m_query },
	{ "new", m_new },
	{ NULL, NULL },
};

int luaopen_http_parser(lua_State *L)
{
	luaL_newmetatable(L, PARSER_MT);
	lua_newtable(L);
	luaL_setfuncs(L, parser_methods, 0);
	lua_pushcclosure(L, m_index, 1);
	lua_setfield(L, -2, "__index");
	luaL_newmetatable(L, CHUNKED_MT);
	luaL_newlib(L, decoder_methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 2);
	luaL_newlibtable(L, funcs);
	new_parser(L, HTTPP_MAX_FIELDS);
	luaL_setfuncs(L, funcs, 1);
	lua_pushinteger(L, HTTPP_MAX_HEAD);
	lua_setfield(L, -2, "max_head");
	lua_pushinteger(L, HTTPP_MAX_FIELDS);
	lua_setfield(L, -2, "max_headers");
	lua_pushinteger(L, HTTPP_MAX_BODY);
	lua_setfield(L, -2, "max_body");
	return 1;
}

RT_MODULE("http.parser", luaopen_http_parser);
