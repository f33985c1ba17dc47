/*
 * json_encode.c -- Lua values to JSON text (RFC 8259), for json.encode.
 *
 * The text grows in a buffer that starts on the C stack and moves into a
 * userdata held in a reserved stack slot when it outgrows it, so an error
 * raised anywhere leaves nothing to free. Tables are read raw (no __index,
 * no __pairs). The key path of every table being encoded is kept, so an
 * error says where the offending value sits ("$.users[3].name"); the same
 * record finds reference cycles.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "json_internal.h"

#define INIT_BUF 1024
#define PATH_MAX_SHOWN 200 /* bytes of key path an error message shows */
#define MAX_TEXT ((size_t)1 << 32) /* 4 GiB: more than any heap here */

/* One open table: its identity, and the key of the child being encoded:
 * key of n bytes, or with key NULL the array index n. */
struct level {
	const void *table;
	const char *key;
	size_t n;
};

struct enc {
	lua_State *L;
	char *buf;
	size_t len, cap;
	int slot;  /* stack slot of the buffer once it is a userdata */
	int mt;    /* stack slot of the array metatable */
	int depth; /* open tables */
	struct json_encode_opts opts;
	struct level lv[JSON_MAX_DEPTH];
};

static void value(struct enc *e, int idx);

/* ---------------------------------------------------------- the buffer */

static char *grow(struct enc *e, size_t n)
{
	size_t cap = e->cap * 2;
	char *nb;

	if (n > MAX_TEXT || e->len + n > MAX_TEXT)
		luaL_error(e->L, "json.encode: result too large");
	while (cap < e->len + n)
		cap *= 2;
	nb = lua_newuserdatauv(e->L, cap, 0);
	memcpy(nb, e->buf, e->len);
	lua_replace(e->L, e->slot);
	e->buf = nb;
	e->cap = cap;
	return nb + e->len;
}

/* Room for (n) more bytes; returns where they go. */
static inline char *reserve(struct enc *e, size_t n)
{
	if (e->cap - e->len >= n)
		return e->buf + e->len;
	return grow(e, n);
}

static inline void put(struct enc *e, const char *s, size_t n)
{
	memcpy(reserve(e, n), s, n);
	e->len += n;
}

static inline void put_char(struct enc *e, char c)
{
	*reserve(e, 1) = c;
	e->len++;
}

/* Pretty output: a newline, then two spaces per open table (depth). */
static void newline(struct enc *e, int depth)
{
	char *p = reserve(e, 1 + 2 * (size_t)depth);

	*p = '\n';
	memset(p + 1, ' ', 2 * (size_t)depth);
	e->len += 1 + 2 * (size_t)depth;
}

/* ------------------------------------------------------------- errors */

static int is_name(const char *s, size_t n)
{
	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c == '_' || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

/* Pushes the path through the first (n) levels: "$", "$.a[2]",
 * "$["odd key"]"; long paths are cut with "...". */
static const char *push_path(struct enc *e, int n)
{
	luaL_Buffer b;

	luaL_buffinit(e->L, &b);
	luaL_addchar(&b, '$');
	for (int i = 0; i < n && luaL_bufflen(&b) < PATH_MAX_SHOWN; i++) {
		const struct level *l = &e->lv[i];
		char tmp[32];

		if (!l->key) {
			snprintf(tmp, sizeof(tmp), "[%zu]", l->n);
			luaL_addstring(&b, tmp);
		} else if (is_name(l->key, l->n) && l->n <= 64) {
			luaL_addchar(&b, '.');
			luaL_addlstring(&b, l->key, l->n);
		} else {
			luaL_addstring(&b, "[\"");
			for (size_t j = 0; j < l->n && j < 64; j++) {
				unsigned char c = (unsigned char)l->key[j];
				if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
					snprintf(tmp, sizeof(tmp), "\\x%02X", c);
					luaL_addstring(&b, tmp);
				} else {
					luaL_addchar(&b, (char)c);
				}
			}
			luaL_addstring(&b, l->n > 64 ? "...\"]" : "\"]");
		}
	}
	if (luaL_bufflen(&b) >= PATH_MAX_SHOWN)
		luaL_addstring(&b, "...");
	luaL_pushresult(&b);
	return lua_tostring(e->L, -1);
}

/* Raises "json.encode: <what> at <path><detail>" for the value at the
 * current position (path through the key of the innermost table) or, with
 * (table) set, for the innermost table itself. */
static void fail_detail(struct enc *e, int table, const char *what,
			const char *detail)
{
	lua_State *L = e->L;
	const char *path;

	lua_pushstring(L, what);
	lua_pushstring(L, detail);
	path = push_path(e, table ? e->depth - 1 : e->depth);
	luaL_error(L, "json.encode: %s at %s%s", lua_tostring(L, -3), path,
		   lua_tostring(L, -2));
}

static void fail(struct enc *e, int table, const char *what)
{
	fail_detail(e, table, what, "");
}

/* ------------------------------------------------------------ scalars */

static void integer(struct enc *e, lua_Integer v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	/* Negate in unsigned arithmetic: -LUA_MININTEGER overflows. */
	lua_Unsigned u = v < 0 ? 0u - (lua_Unsigned)v : (lua_Unsigned)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	put(e, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void number(struct enc *e, int idx)
{
	lua_State *L = e->L;
	double d;

	if (lua_isinteger(L, idx)) {
		integer(e, lua_tointeger(L, idx));
		return;
	}
	d = (double)lua_tonumber(L, idx);
	if (isnan(d))
		fail(e, 0, "cannot encode NaN");
	if (isinf(d))
		fail(e, 0, d > 0 ? "cannot encode inf" : "cannot encode -inf");
	e->len += json_format_float(reserve(e, JSON_NUMBER_MAX), d);
}

/* Appends (s) of (n) bytes as a JSON string, or raises naming the first
 * invalid UTF-8 byte (key: the string is a key of the innermost table). */
static void string(struct enc *e, const char *s, size_t n, int key)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	reserve(e, n + 2);
	e->buf[e->len++] = '"';
	while (p < end) {
		const unsigned char *run = p;
		char *o;

		p = json_plain_run(p, end);
		put(e, (const char *)run, (size_t)(p - run));
		if (p == end)
			break;
		if (*p >= 0x80) {
			size_t k = json_utf8_seq(p, end);
			if (!k) {
				lua_pushfstring(e->L, "invalid UTF-8 at byte %I of %s",
						(lua_Integer)(p - (const unsigned char *)s) + 1,
						key ? "a key" : "the string");
				fail(e, key, lua_tostring(e->L, -1));
			}
			put(e, (const char *)p, k);
			p += k;
			continue;
		}
		o = reserve(e, 6);
		o[0] = '\\';
		switch (*p) {
		case '"': o[1] = '"'; break;
		case '\\': o[1] = '\\'; break;
		case '\b': o[1] = 'b'; break;
		case '\f': o[1] = 'f'; break;
		case '\n': o[1] = 'n'; break;
		case '\r': o[1] = 'r'; break;
		case '\t': o[1] = 't'; break;
		default:
			memcpy(o + 1, "u00", 3);
			o[4] = hex[*p >> 4];
			o[5] = hex[*p & 15];
			e->len += 4;
		}
		e->len += 2;
		p++;
	}
	put_char(e, '"');
}

/* ------------------------------------------------------------- tables */

/* Raises for the key at (kidx) of the innermost table, a key of a kind
 * the table cannot have: an integer among strings or a string among
 * integers, or any other type. */
static void bad_key(struct enc *e, int kidx)
{
	lua_State *L = e->L;

	if (lua_type(L, kidx) == LUA_TSTRING || lua_isinteger(L, kidx))
		fail(e, 1, "table mixes integer and string keys");
	if (lua_type(L, kidx) == LUA_TNUMBER)
		fail(e, 1, "table has a float key");
	lua_pushfstring(L, "table has a %s key", luaL_typename(L, kidx));
	fail(e, 1, lua_tostring(L, -1));
}

/* The member of the innermost table whose key is at (kidx) and value on
 * top: "key":value. */
static void member(struct enc *e, int kidx, int first)
{
	struct level *l = &e->lv[e->depth - 1];

	if (!first)
		put_char(e, ',');
	if (e->opts.pretty)
		newline(e, e->depth);
	l->key = lua_tolstring(e->L, kidx, &l->n);
	string(e, l->key, l->n, 1);
	if (e->opts.pretty)
		put(e, ": ", 2);
	else
		put_char(e, ':');
	value(e, lua_gettop(e->L));
}

/* Object members in lua_next order; the first key and value are pushed. */
static void object(struct enc *e, int t)
{
	lua_State *L = e->L;
	int first = 1;

	put_char(e, '{');
	do {
		if (lua_type(L, -2) != LUA_TSTRING)
			bad_key(e, lua_gettop(L) - 1);
		member(e, lua_gettop(L) - 1, first);
		first = 0;
		lua_pop(L, 1);
	} while (lua_next(L, t));
	if (e->opts.pretty)
		newline(e, e->depth - 1);
	put_char(e, '}');
}

struct skey {
	const char *s;
	size_t n;
};

static int skey_cmp(const void *a, const void *b)
{
	const struct skey *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);

	return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* Object members in byte order of their keys (sort_keys); the first key
 * and value are pushed. The keys stay alive as keys of the table. */
static void sorted_object(struct enc *e, int t)
{
	lua_State *L = e->L;
	size_t count = 0;
	struct skey *keys;

	do {
		if (lua_type(L, -2) != LUA_TSTRING)
			bad_key(e, lua_gettop(L) - 1);
		count++;
		lua_pop(L, 1);
	} while (lua_next(L, t));
	keys = lua_newuserdatauv(L, count * sizeof(*keys), 0);
	count = 0;
	lua_pushnil(L);
	while (lua_next(L, t)) {
		keys[count].s = lua_tolstring(L, -2, &keys[count].n);
		count++;
		lua_pop(L, 1);
	}
	qsort(keys, count, sizeof(*keys), skey_cmp);
	put_char(e, '{');
	for (size_t i = 0; i < count; i++) {
		lua_pushlstring(L, keys[i].s, keys[i].n);
		lua_pushvalue(L, -1);
		lua_rawget(L, t);
		member(e, lua_gettop(L) - 1, i == 0);
		lua_pop(L, 2);
	}
	lua_pop(L, 1);
	if (e->opts.pretty)
		newline(e, e->depth - 1);
	put_char(e, '}');
}

static void element(struct enc *e, lua_Integer i)
{
	if (i > 1)
		put_char(e, ',');
	if (e->opts.pretty)
		newline(e, e->depth);
	e->lv[e->depth - 1].key = NULL;
	e->lv[e->depth - 1].n = (size_t)i;
	value(e, lua_gettop(e->L));
}

/* Checks that the keys of table (t) are exactly 1..n and returns n. */
static lua_Integer array_length(struct enc *e, int t)
{
	lua_State *L = e->L;
	lua_Integer n = 0, max = 0;

	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_Integer k;

		if (!lua_isinteger(L, -2))
			bad_key(e, lua_gettop(L) - 1);
		k = lua_tointeger(L, -2);
		if (k > max)
			max = k;
		n++;
		lua_pop(L, 1);
	}
	/* n distinct integer keys, none above n: exactly 1..n. */
	if (n != max)
		fail_detail(e, 1, "sparse array",
			    " (integer keys must be exactly 1..n)");
	return n;
}

/* Array elements; the first key and value are pushed. Most arrays list
 * their keys 1, 2, ... in order (Lua's array part), so they are written as
 * they come; if a key comes out of order the output is rolled back and
 * the array is checked, then written by index. */
static void array(struct enc *e, int t)
{
	lua_State *L = e->L;
	size_t start = e->len;
	lua_Integer i = 0, n;

	put_char(e, '[');
	do {
		if (!lua_isinteger(L, -2) || lua_tointeger(L, -2) != i + 1)
			goto by_index;
		element(e, ++i);
		lua_pop(L, 1);
	} while (lua_next(L, t));
	goto done;
by_index:
	lua_pop(L, 2);
	e->len = start;
	n = array_length(e, t);
	put_char(e, '[');
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, t, i);
		element(e, i);
		lua_pop(L, 1);
	}
done:
	if (e->opts.pretty)
		newline(e, e->depth - 1);
	put_char(e, ']');
}

static void table(struct enc *e, int t)
{
	lua_State *L = e->L;
	const void *id = lua_topointer(L, t);
	int marked = 0;

	for (int i = 0; i < e->depth; i++) {
		if (e->lv[i].table == id) {
			lua_pushfstring(L, " (the same table as %s)",
					push_path(e, i));
			fail_detail(e, 0, "reference cycle", lua_tostring(L, -1));
		}
	}
	if (e->depth == JSON_MAX_DEPTH)
		fail(e, 0, lua_pushfstring(L, "nesting deeper than %d",
					   JSON_MAX_DEPTH));
	luaL_checkstack(L, 6, "json.encode: nesting too deep");
	if (lua_getmetatable(L, t)) {
		marked = lua_rawequal(L, -1, e->mt);
		lua_pop(L, 1);
	}
	e->lv[e->depth++].table = id;
	lua_pushnil(L);
	if (!lua_next(L, t))
		put(e, marked ? "[]" : "{}", 2);
	else if (lua_type(L, -2) == LUA_TSTRING && !marked)
		(e->opts.sort_keys ? sorted_object : object)(e, t);
	else if (lua_isinteger(L, -2))
		array(e, t);
	else if (marked && lua_type(L, -2) == LUA_TSTRING)
		fail(e, 1, "table marked as array has a string key");
	else
		bad_key(e, lua_gettop(L) - 1);
	e->depth--;
}

static void value(struct enc *e, int idx)
{
	lua_State *L = e->L;
	const char *s;
	size_t n;

	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &n);
		string(e, s, n, 0);
		break;
	case LUA_TNUMBER:
		number(e, idx);
		break;
	case LUA_TTABLE:
		table(e, idx);
		break;
	case LUA_TBOOLEAN:
		if (lua_toboolean(L, idx))
			put(e, "true", 4);
		else
			put(e, "false", 5);
		break;
	case LUA_TLIGHTUSERDATA:
		if (json_is_null(L, idx)) {
			put(e, "null", 4);
			break;
		}
		/* fall through */
	default:
		if (lua_isnil(L, idx))
			fail_detail(e, 0, "cannot encode nil", " (use json.null)");
		lua_pushfstring(L, "cannot encode a %s", luaL_typename(L, idx));
		fail(e, 0, lua_tostring(L, -1));
	}
}

void json_encode(lua_State *L, int idx, int mt,
		 const struct json_encode_opts *opts)
{
	char init[INIT_BUF];
	struct enc e;

	idx = lua_absindex(L, idx);
	e.L = L;
	e.buf = init;
	e.len = 0;
	e.cap = sizeof(init);
	lua_pushnil(L);
	e.slot = lua_gettop(L);
	e.mt = mt;
	e.depth = 0;
	e.opts = *opts;
	value(&e, idx);
	lua_pushlstring(L, e.buf, e.len);
}
