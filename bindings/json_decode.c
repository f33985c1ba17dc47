/*
 * json_decode.c -- JSON text to Lua values (RFC 8259, strictly), for
 * json.decode.
 *
 * A recursive descent over the bytes of a Lua string, whose trailing NUL
 * serves as the end sentinel: no token starts with NUL, so reading one
 * byte past the last never needs a bounds check. Each level returns 0, or
 * -1 with the message written to the decoder. Strings without escapes are
 * pushed straight from the input; escaped ones are unescaped into a scratch
 * userdata. Numbers are parsed in place: integers exactly, floats by the
 * exact fast path when it applies (Clinger 1990) and runtime/float_read.c
 * otherwise.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "json_internal.h"

#define HINT_MAX 64

struct dec {
	lua_State *L;
	const unsigned char *s, *p, *end;
	int mt;        /* stack slot of the array metatable */
	int slot;      /* stack slot of the scratch userdata */
	char *scratch; /* unescaped string bytes */
	size_t cap;
	int depth;
	char err[128];
	/* Tables are created with room for as many items as the last one at
	 * the same depth had (capped): records in a list tend to look alike,
	 * and growing a table one rehash at a time costs more than parsing. */
	unsigned char hint[JSON_MAX_DEPTH + 1];
};

static int value(struct dec *d);

/* ------------------------------------------------------------- errors */

static int fail_at(struct dec *d, const unsigned char *at, const char *what)
{
	snprintf(d->err, sizeof(d->err), "%s at byte %zu", what,
		 (size_t)(at - d->s) + 1);
	return -1;
}

/* The byte at (p) is not what the grammar allows here; (expected) says
 * what would be, (where) is "" or " in number". */
static int unexpected_at(struct dec *d, const unsigned char *p,
			 const char *where, const char *expected)
{
	char what[48];

	if (p == d->end)
		snprintf(what, sizeof(what), "unexpected end of input");
	else if (*p > 0x20 && *p < 0x7f)
		snprintf(what, sizeof(what), "unexpected character '%c'", *p);
	else
		snprintf(what, sizeof(what), "unexpected byte 0x%02X", *p);
	snprintf(d->err, sizeof(d->err), "%s%s at byte %zu (expected %s)", what,
		 where, (size_t)(p - d->s) + 1, expected);
	return -1;
}

static int unexpected(struct dec *d, const char *expected)
{
	return unexpected_at(d, d->p, "", expected);
}

/* RFC 8259 section 2: whitespace is space, tab, newline, return. */
static inline void skip_ws(struct dec *d)
{
	const unsigned char *p = d->p;

	while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
		p++;
	d->p = p;
}

/* ------------------------------------------------------------ strings */

/* RFC 8259 section 7: control characters must be escaped. */
static int control(struct dec *d, const unsigned char *p)
{
	char what[48];

	snprintf(what, sizeof(what), "control character 0x%02X in string", *p);
	return fail_at(d, p, what);
}

/* Room for (more) bytes after the first (have) of the scratch buffer. */
static char *room(struct dec *d, size_t have, size_t more)
{
	if (!d->scratch || d->cap - have < more) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		char *nb;

		while (cap - have < more)
			cap *= 2;
		nb = lua_newuserdatauv(d->L, cap, 0);
		if (have)
			memcpy(nb, d->scratch, have);
		lua_replace(d->L, d->slot);
		d->scratch = nb;
		d->cap = cap;
	}
	return d->scratch + have;
}

static long hex4(const unsigned char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];
		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = v * 16 + ((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	return v;
}

static size_t put_utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* The escape at (p) (a backslash), RFC 8259 section 7: appends what it
 * stands for at (*n) of the scratch buffer and returns the byte after it,
 * or NULL with the error set. A \u escape of a UTF-16 surrogate must be
 * the high half of a pair followed by the low half. */
static const unsigned char *escape(struct dec *d, const unsigned char *p,
				   size_t *n)
{
	static const char simple[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	char *o = room(d, *n, 4);
	const char *hit;
	long cp, lo;

	if (p[1] != 'u') {
		hit = p[1] ? strchr(simple, p[1]) : NULL;
		if (!hit || (hit - simple) % 2) {
			if (p[1] > 0x20 && p[1] < 0x7f) {
				char what[32];
				snprintf(what, sizeof(what), "invalid escape '\\%c'", p[1]);
				fail_at(d, p, what);
			} else {
				fail_at(d, p, "invalid escape");
			}
			return NULL;
		}
		*o = hit[1];
		*n += 1;
		return p + 2;
	}
	cp = hex4(p + 2);
	if (cp < 0) {
		fail_at(d, p, "invalid \\u escape (four hex digits expected)");
		return NULL;
	}
	p += 6;
	if (cp >= 0xD800 && cp <= 0xDFFF) {
		lo = cp <= 0xDBFF && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
		if (lo < 0xDC00 || lo > 0xDFFF) {
			char what[48];
			snprintf(what, sizeof(what), "lone surrogate \\u%04lX", cp);
			fail_at(d, p - 6, what);
			return NULL;
		}
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		p += 6;
	}
	*n += put_utf8(o, (unsigned long)cp);
	return p;
}

/* A string whose bytes from (start) to (p) were plain and (p) is at its
 * first backslash: unescapes it into the scratch buffer and pushes it. */
static int string_escaped(struct dec *d, const unsigned char *start,
			  const unsigned char *p)
{
	size_t n = (size_t)(p - start), k;

	memcpy(room(d, 0, n), start, n);
	for (;;) {
		const unsigned char *run = json_plain_run(p, d->end);

		memcpy(room(d, n, (size_t)(run - p)), p, (size_t)(run - p));
		n += (size_t)(run - p);
		p = run;
		if (*p == '"')
			break;
		if (*p == '\\') {
			p = escape(d, p, &n);
			if (!p)
				return -1;
		} else if (p == d->end) {
			return fail_at(d, start - 1, "unterminated string");
		} else if (*p < 0x20) {
			return control(d, p);
		} else if ((k = json_utf8_seq(p, d->end)) == 0) {
			return fail_at(d, p, "invalid UTF-8");
		} else {
			memcpy(room(d, n, k), p, k);
			n += k;
			p += k;
		}
	}
	lua_pushlstring(d->L, d->scratch, n);
	d->p = p + 1;
	return 0;
}

/* The string at d->p (a '"'): pushes it. */
static int string(struct dec *d)
{
	const unsigned char *start = d->p + 1, *p = start;
	size_t k;

	for (;;) {
		p = json_plain_run(p, d->end);
		if (*p == '"')
			break;
		if (*p == '\\')
			return string_escaped(d, start, p);
		if (p == d->end)
			return fail_at(d, start - 1, "unterminated string");
		if (*p < 0x20)
			return control(d, p);
		k = json_utf8_seq(p, d->end);
		if (!k)
			return fail_at(d, p, "invalid UTF-8");
		p += k;
	}
	lua_pushlstring(d->L, (const char *)start, (size_t)(p - start));
	d->p = p + 1;
	return 0;
}

/* ------------------------------------------------------------ numbers */

#define IS_DIGIT(c) ((unsigned)(c) - '0' < 10)
#define M_LIMIT ((UINT64_MAX - 9) / 10)

/* Exact powers of ten as doubles: 10^22 is the last one. */
static const double exact_pow10[] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Digits from (*pp) into (*m) while it cannot overflow; returns how many
 * were taken into (*m), and sets (*big) when some were not. */
static long digits(const unsigned char **pp, uint64_t *m, int *big)
{
	const unsigned char *p = *pp;
	long taken = 0;

	for (; IS_DIGIT(*p); p++) {
		if (*m <= M_LIMIT) {
			*m = *m * 10 + (*p - '0');
			taken++;
		} else {
			*big = 1;
		}
	}
	*pp = p;
	return taken;
}

/* A float with mantissa (m) (exact unless big) times 10^(e10), whose text
 * runs from (start) to (end); the exact path when m and 10^|e10| are exact
 * doubles (then one rounding is all), runtime/float_read.c's exact ways otherwise. */
static int push_float(struct dec *d, const unsigned char *start,
		      const unsigned char *end, int neg, uint64_t m, int big,
		      long e10)
{
	double v;

	if (!big && m == 0) {
		v = 0.0;
	} else if (!big && m <= (1ull << 53) && e10 >= -22 && e10 <= 22) {
		v = (double)m;
		v = e10 < 0 ? v / exact_pow10[-e10] : v * exact_pow10[e10];
	} else {
		v = big ? rt_read_float((const char *)start, (const char *)end)
			: rt_scale_float(m, e10, neg);
		if (isinf(v))
			return fail_at(d, start, "number out of range");
		neg = 0;
	}
	lua_pushnumber(d->L, (lua_Number)(neg ? -v : v));
	return 0;
}

/* RFC 8259 section 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int number(struct dec *d)
{
	const unsigned char *start = d->p, *p = start;
	uint64_t m = 0;
	int neg = 0, big = 0, is_float = 0, eneg = 0;
	long e10 = 0, exp = 0;

	if (*p == '-')
		neg = 1, p++;
	if (*p == '0') {
		p++;
		if (IS_DIGIT(*p))
			return fail_at(d, start, "leading zero in number");
	} else if (IS_DIGIT(*p)) {
		const unsigned char *first = p;
		long taken = digits(&p, &m, &big);
		e10 = (long)(p - first) - taken;
	} else {
		return unexpected_at(d, p, " in number", "a digit");
	}
	if (*p == '.') {
		is_float = 1;
		p++;
		if (!IS_DIGIT(*p))
			return unexpected_at(d, p, " in number", "a digit");
		e10 -= digits(&p, &m, &big);
	}
	if (*p == 'e' || *p == 'E') {
		is_float = 1;
		p++;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		if (!IS_DIGIT(*p))
			return unexpected_at(d, p, " in number", "a digit");
		for (; IS_DIGIT(*p); p++)
			if (exp < 100000)
				exp = exp * 10 + (*p - '0');
		e10 += eneg ? -exp : exp;
	}
	d->p = p;
	if (!is_float && !big) {
		if (!neg && m <= (uint64_t)LUA_MAXINTEGER) {
			lua_pushinteger(d->L, (lua_Integer)m);
			return 0;
		}
		if (neg && m <= (uint64_t)LUA_MAXINTEGER + 1) {
			lua_pushinteger(d->L, (lua_Integer)(0 - m));
			return 0;
		}
		/* Too big for an integer, exact in m: one rounding. */
		lua_pushnumber(d->L, neg ? -(lua_Number)m : (lua_Number)m);
		return 0;
	}
	return push_float(d, start, p, neg, m, big, e10);
}

/* ------------------------------------------------- arrays and objects */

static int enter(struct dec *d)
{
	if (++d->depth > JSON_MAX_DEPTH) {
		char what[48];
		snprintf(what, sizeof(what), "nesting deeper than %d",
			 JSON_MAX_DEPTH);
		return fail_at(d, d->p, what);
	}
	luaL_checkstack(d->L, 4, "json.decode: nesting too deep");
	d->p++;
	skip_ws(d);
	return 0;
}

static int array(struct dec *d)
{
	lua_State *L = d->L;
	lua_Integer n = 0;

	if (enter(d))
		return -1;
	lua_createtable(L, d->hint[d->depth], 0);
	lua_pushvalue(L, d->mt);
	lua_setmetatable(L, -2);
	if (*d->p != ']') {
		for (;;) {
			if (value(d))
				return -1;
			lua_rawseti(L, -2, ++n);
			skip_ws(d);
			if (*d->p == ']')
				break;
			if (*d->p != ',')
				return unexpected(d, "',' or ']'");
			d->p++;
		}
	}
	d->hint[d->depth] = n < HINT_MAX ? (unsigned char)n : HINT_MAX;
	d->p++;
	d->depth--;
	return 0;
}

static int object(struct dec *d)
{
	lua_State *L = d->L;
	int n = 0;

	if (enter(d))
		return -1;
	lua_createtable(L, 0, d->hint[d->depth]);
	if (*d->p != '}') {
		for (;;) {
			if (*d->p != '"')
				return unexpected(d, "a string key");
			if (string(d))
				return -1;
			skip_ws(d);
			if (*d->p != ':')
				return unexpected(d, "':'");
			d->p++;
			if (value(d))
				return -1;
			lua_rawset(L, -3);
			n++;
			skip_ws(d);
			if (*d->p == '}')
				break;
			if (*d->p != ',')
				return unexpected(d, "',' or '}'");
			d->p++;
			skip_ws(d);
		}
	}
	d->hint[d->depth] = n < HINT_MAX ? (unsigned char)n : HINT_MAX;
	d->p++;
	d->depth--;
	return 0;
}

/* true, false, null: (word) of (n) bytes. */
static int literal(struct dec *d, const char *word, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (d->p[i] != (unsigned char)word[i]) {
			char expected[16];
			snprintf(expected, sizeof(expected), "'%s'", word);
			return unexpected_at(d, d->p + i, "", expected);
		}
	}
	d->p += n;
	return 0;
}

static int value(struct dec *d)
{
	skip_ws(d);
	switch (*d->p) {
	case '"':
		return string(d);
	case '{':
		return object(d);
	case '[':
		return array(d);
	case 't':
		if (literal(d, "true", 4))
			return -1;
		lua_pushboolean(d->L, 1);
		return 0;
	case 'f':
		if (literal(d, "false", 5))
			return -1;
		lua_pushboolean(d->L, 0);
		return 0;
	case 'n':
		if (literal(d, "null", 4))
			return -1;
		lua_pushlightuserdata(d->L, (void *)&json_null_tag);
		return 0;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return number(d);
	default:
		return unexpected(d, "a value");
	}
}

int json_decode(lua_State *L, const char *s, size_t len, int mt)
{
	struct dec d;

	d.L = L;
	d.s = d.p = (const unsigned char *)s;
	d.end = d.s + len;
	d.mt = mt;
	lua_pushnil(L);
	d.slot = lua_gettop(L);
	d.scratch = NULL;
	d.cap = 0;
	d.depth = 0;
	memset(d.hint, 0, sizeof(d.hint));
	if (value(&d) == 0) {
		skip_ws(&d);
		if (d.p == d.end)
			return 1;
		unexpected(&d, "end of input");
	}
	lua_pushnil(L);
	lua_pushstring(L, d.err);
	return 2;
}
