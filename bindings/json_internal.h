/*
 * json_internal.h -- what the parts of the `json` module share: the limits,
 * the null sentinel, UTF-8 validation (RFC 3629) and a word-at-a-time scan
 * for the bytes a JSON string cannot carry as they are.
 *
 * json.c is the module (its Lua surface, options); json_encode.c,
 * json_decode.c, json_number.c (floats to text) and runtime/float_read.c (text to
 * floats) do the work. docs/json.md is the user's contract.
 */
#ifndef LUNIK_JSON_INTERNAL_H
#define LUNIK_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include <lua.h>

#include "runtime.h"

/* The deepest nesting of arrays and objects either direction accepts: a
 * value at depth 512 is fine, one at 513 is an error (never a C stack
 * overflow: each level costs a few small C frames, some 300 bytes). */
#define JSON_MAX_DEPTH 512

/* json.null: a light userdata whose address is this object's. */
extern const char json_null_tag;

static inline int json_is_null(lua_State *L, int idx)
{
	return lua_touserdata(L, idx) == (void *)&json_null_tag &&
	       lua_type(L, idx) == LUA_TLIGHTUSERDATA;
}

struct json_encode_opts {
	int pretty;
	int sort_keys;
};

/* Encodes the value at (idx) of (L), whose stack slot (mt) holds the
 * array metatable, and pushes the text. Raises on misuse, naming the
 * problem and the key path (docs/json.md). */
void json_encode(lua_State *L, int idx, int mt,
		 const struct json_encode_opts *opts);

/* Decodes (len) bytes at (s), a Lua string's bytes (so s[len] is NUL), and
 * pushes the value; arrays get the metatable at stack slot (mt). Returns 1,
 * or 2 with nil and a message naming the problem and its byte position.
 * Raises only when memory runs out. */
int json_decode(lua_State *L, const char *s, size_t len, int mt);

/* Room json_format_float needs. */
#define JSON_NUMBER_MAX 32

/* Writes finite (d) to (out) as JSON text: the fewest significant digits
 * that read back as d, with a '.' or an 'e' ("1.0", "0.1", "1e+300",
 * "-0.0"). Returns the length; no NUL is added. */
size_t json_format_float(char *out, double d);

/* The length of the UTF-8 sequence at (p), or 0 when the bytes from (p) to
 * (end) do not start a valid one: RFC 3629 section 4, so no overlong forms,
 * no surrogates, nothing above U+10FFFF. (p) < (end). */
static inline size_t json_utf8_seq(const unsigned char *p,
				   const unsigned char *end)
{
	unsigned c = p[0];
	size_t left = (size_t)(end - p);
	unsigned lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return left >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c < 0xF0) {
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
		return left >= 3 && p[1] >= lo && p[1] <= hi &&
			       (p[2] & 0xC0) == 0x80 ? 3 : 0;
	}
	if (c < 0xF5) {
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
		return left >= 4 && p[1] >= lo && p[1] <= hi &&
			       (p[2] & 0xC0) == 0x80 &&
			       (p[3] & 0xC0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/* Skips the bytes from (p) that a JSON string carries as they are (ASCII
 * from 0x20 up, but '"' and '\\') and returns where the first other one is,
 * or (end). Eight bytes at a time while it can. */
static inline const unsigned char *json_plain_run(const unsigned char *p,
						  const unsigned char *end)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t highs = 0x8080808080808080ull;

	while (end - p >= 8) {
		uint64_t v, q, b;

		memcpy(&v, p, 8);
		q = v ^ (ones * '"');
		b = v ^ (ones * '\\');
		/* (x - ones) & ~x & highs is non-zero iff some byte of x is 0;
		 * v - 0x20 per byte borrows iff some byte is below 0x20. */
		if ((v | ((v - ones * 0x20) & ~v) | ((q - ones) & ~q) |
		     ((b - ones) & ~b)) & highs)
			break;
		p += 8;
	}
	while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
		p++;
	return p;
}

#endif
