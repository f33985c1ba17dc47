/*
 * test_json.c -- the json module (bindings/json*.c) on a host Lua: tables
 * of input and expected output or error for decode and encode (lua-cjson
 * style), byte-exact round trips, the Lua-side facts (null, the array
 * mark, argument checks), the depth limit both ways, UTF-8 at the edges of
 * validity, and string scanning at every word offset. Numbers in bulk are
 * test_json_numbers.c's.
 *
 * sources: bindings/json.c bindings/json_encode.c bindings/json_decode.c
 * sources: bindings/json_number.c runtime/float_read.c
 * needs: lua
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "check.h"

int luaopen_json(lua_State *L);

#define S(lit) lit, sizeof(lit) - 1

/* Decoding: input (of len bytes); the value re-encoded with sorted keys,
 * or NULL and the exact error. */
static const struct {
	const char *in;
	size_t len;
	const char *out, *err;
} decodes[] = {
	{ S("null"), "null", NULL },
	{ S("true"), "true", NULL },
	{ S("false"), "false", NULL },
	{ S(" \t\r\n 1 \n"), "1", NULL },
	{ S("0"), "0", NULL },
	{ S("-0"), "0", NULL },
	{ S("-0.0"), "-0.0", NULL },
	{ S("0.0"), "0.0", NULL },
	{ S("0e0"), "0.0", NULL },
	{ S("1.5"), "1.5", NULL },
	{ S("1e2"), "100.0", NULL },
	{ S("1E+2"), "100.0", NULL },
	{ S("1e-2"), "0.01", NULL },
	{ S("-1.25e-3"), "-0.00125", NULL },
	{ S("12345678901234567890e-10"), "1234567890.1234567", NULL },
	{ S("9223372036854775807"), "9223372036854775807", NULL },
	{ S("-9223372036854775808"), "-9223372036854775808", NULL },
	{ S("9223372036854775808"), "9.223372036854776e+18", NULL },
	{ S("-9223372036854775809"), "-9.223372036854776e+18", NULL },
	{ S("18446744073709551616"), "1.8446744073709552e+19", NULL },
	{ S("123456789012345678901234567890"), "1.2345678901234568e+29", NULL },
	{ S("0.1"), "0.1", NULL },
	{ S("0.30000000000000004"), "0.30000000000000004", NULL },
	{ S("2.2250738585072011e-308"), "2.225073858507201e-308", NULL },
	{ S("4.9406564584124654e-324"), "5e-324", NULL },
	{ S("1.7976931348623157e308"), "1.7976931348623157e+308", NULL },
	{ S("9007199254740993.0"), "9007199254740992.0", NULL },
	/* 1 + 2^-53 exactly: a tie, rounds to even; a hair above: up */
	{ S("1.00000000000000011102230246251565404236316680908203125"), "1.0", NULL },
	{ S("1.00000000000000011102230246251565404236316680908203126"),
	  "1.0000000000000002", NULL },
	{ S("1e-400"), "0.0", NULL },
	{ S("-1e-400"), "-0.0", NULL },
	{ S("0e999999999999"), "0.0", NULL },
	{ S("1e400"), NULL, "number out of range at byte 1" },
	{ S("[1,-1e400]"), NULL, "number out of range at byte 4" },
	{ S("1.8e308"), NULL, "number out of range at byte 1" },
	{ S("[]"), "[]", NULL },
	{ S("{}"), "{}", NULL },
	{ S("[[],{},[{}]]"), "[[],{},[{}]]", NULL },
	{ S(" [ 1 , 2 ] "), "[1,2]", NULL },
	{ S("{\"a\":1,\"a\":2}"), "{\"a\":2}", NULL },
	{ S("{\"b\":1,\"a\":{\"c\":[1,2,null]}}"), "{\"a\":{\"c\":[1,2,null]},\"b\":1}", NULL },
	{ S("{\"1\":1}"), "{\"1\":1}", NULL },
	{ S("[null,null]"), "[null,null]", NULL },
	{ S("\"\\u00e9\\u20AC\""), "\"\xc3\xa9\xe2\x82\xac\"", NULL },
	{ S("\"\\ud83d\\ude00\""), "\"\xf0\x9f\x98\x80\"", NULL },
	{ S("\"\\uDBFF\\uDFFF\""), "\"\xf4\x8f\xbf\xbf\"", NULL },
	{ S("\"\\u0000\""), "\"\\u0000\"", NULL },
	{ S("\"\\/\""), "\"/\"", NULL },
	{ S("\"\\b\\f\\n\\r\\t\\\"\\\\\""), "\"\\b\\f\\n\\r\\t\\\"\\\\\"", NULL },
	{ S("\"\\u001F\\u007f\""), "\"\\u001f\x7f\"", NULL },
	{ S("\"\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf\""),
	  "\"\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf\"", NULL },
	{ S("\"\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf\""), "\"\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf\"", NULL },
	{ S("\"a\\nb\xc3\xa9\""), "\"a\\nb\xc3\xa9\"", NULL },
	{ S(""), NULL, "unexpected end of input at byte 1 (expected a value)" },
	{ S("  "), NULL, "unexpected end of input at byte 3 (expected a value)" },
	{ S("[1,]"), NULL, "unexpected character ']' at byte 4 (expected a value)" },
	{ S("{\"a\":1,}"), NULL, "unexpected character '}' at byte 8 (expected a string key)" },
	{ S("[1 2]"), NULL, "unexpected character '2' at byte 4 (expected ',' or ']')" },
	{ S("{\"a\" 1}"), NULL, "unexpected character '1' at byte 6 (expected ':')" },
	{ S("{\"a\":1 \"b\":2}"), NULL, "unexpected character '\"' at byte 8 (expected ',' or '}')" },
	{ S("{1:2}"), NULL, "unexpected character '1' at byte 2 (expected a string key)" },
	{ S("{a:1}"), NULL, "unexpected character 'a' at byte 2 (expected a string key)" },
	{ S("[1,2"), NULL, "unexpected end of input at byte 5 (expected ',' or ']')" },
	{ S("{\"a\":"), NULL, "unexpected end of input at byte 6 (expected a value)" },
	{ S("01"), NULL, "leading zero in number at byte 1" },
	{ S("[-01]"), NULL, "leading zero in number at byte 2" },
	{ S("1."), NULL, "unexpected end of input in number at byte 3 (expected a digit)" },
	{ S("1.e5"), NULL, "unexpected character 'e' in number at byte 3 (expected a digit)" },
	{ S("1e"), NULL, "unexpected end of input in number at byte 3 (expected a digit)" },
	{ S("1e+"), NULL, "unexpected end of input in number at byte 4 (expected a digit)" },
	{ S("-"), NULL, "unexpected end of input in number at byte 2 (expected a digit)" },
	{ S("- 1"), NULL, "unexpected byte 0x20 in number at byte 2 (expected a digit)" },
	{ S(".5"), NULL, "unexpected character '.' at byte 1 (expected a value)" },
	{ S("+1"), NULL, "unexpected character '+' at byte 1 (expected a value)" },
	{ S("0x10"), NULL, "unexpected character 'x' at byte 2 (expected end of input)" },
	{ S("NaN"), NULL, "unexpected character 'N' at byte 1 (expected a value)" },
	{ S("-Infinity"), NULL, "unexpected character 'I' in number at byte 2 (expected a digit)" },
	{ S("nul"), NULL, "unexpected end of input at byte 4 (expected 'null')" },
	{ S("nulL"), NULL, "unexpected character 'L' at byte 4 (expected 'null')" },
	{ S("True"), NULL, "unexpected character 'T' at byte 1 (expected a value)" },
	{ S("truee"), NULL, "unexpected character 'e' at byte 5 (expected end of input)" },
	{ S("/* c */ 1"), NULL, "unexpected character '/' at byte 1 (expected a value)" },
	{ S("1 // c"), NULL, "unexpected character '/' at byte 3 (expected end of input)" },
	{ S("[1] [2]"), NULL, "unexpected character '[' at byte 5 (expected end of input)" },
	{ S("1\0"), NULL, "unexpected byte 0x00 at byte 2 (expected end of input)" },
	{ S("\xef\xbb\xbf" "1"), NULL, "unexpected byte 0xEF at byte 1 (expected a value)" },
	{ S("\"abc"), NULL, "unterminated string at byte 1" },
	{ S("[\"a\\n"), NULL, "unterminated string at byte 2" },
	{ S("\"a\nb\""), NULL, "control character 0x0A in string at byte 3" },
	{ S("\"\t\""), NULL, "control character 0x09 in string at byte 2" },
	{ S("\"\\n\x1f\""), NULL, "control character 0x1F in string at byte 4" },
	{ S("\"\0\""), NULL, "control character 0x00 in string at byte 2" },
	{ S("\"\\x\""), NULL, "invalid escape '\\x' at byte 2" },
	{ S("\"\\U0041\""), NULL, "invalid escape '\\U' at byte 2" },
	{ S("\"\\'\""), NULL, "invalid escape '\\'' at byte 2" },
	{ S("\"ab\\"), NULL, "invalid escape at byte 4" },
	{ S("\"\\u12\""), NULL, "invalid \\u escape (four hex digits expected) at byte 2" },
	{ S("\"\\u12G4\""), NULL, "invalid \\u escape (four hex digits expected) at byte 2" },
	{ S("\"\\uD800\""), NULL, "lone surrogate \\uD800 at byte 2" },
	{ S("\"\\uDC00\""), NULL, "lone surrogate \\uDC00 at byte 2" },
	{ S("\"x\\uD83D\\u0041\""), NULL, "lone surrogate \\uD83D at byte 3" },
	{ S("\"\\uD83Dx\""), NULL, "lone surrogate \\uD83D at byte 2" },
	{ S("\"\\uD83D\\uD83D\""), NULL, "lone surrogate \\uD83D at byte 2" },
	{ S("\"\x80\""), NULL, "invalid UTF-8 at byte 2" },
	{ S("\"ab\xc0\xaf\""), NULL, "invalid UTF-8 at byte 4" },
	{ S("\"\xc1\xbf\""), NULL, "invalid UTF-8 at byte 2" },
	{ S("\"\xe0\x80\xaf\""), NULL, "invalid UTF-8 at byte 2" },
	{ S("\"\xed\xa0\x80\""), NULL, "invalid UTF-8 at byte 2" },
	{ S("\"\xf0\x80\x80\xaf\""), NULL, "invalid UTF-8 at byte 2" },
	{ S("\"\xf4\x90\x80\x80\""), NULL, "invalid UTF-8 at byte 2" },
	{ S("\"\xf5\x80\x80\x80\""), NULL, "invalid UTF-8 at byte 2" },
	{ S("\"\xff\""), NULL, "invalid UTF-8 at byte 2" },
	{ S("\"\xe2\x82\""), NULL, "invalid UTF-8 at byte 2" },
	{ S("\"\\n\xe2\x82"), NULL, "invalid UTF-8 at byte 4" },
	{ S("\"\xc3"), NULL, "invalid UTF-8 at byte 2" },
	{ S("\xc3\xa9"), NULL, "unexpected byte 0xC3 at byte 1 (expected a value)" },
};

/* Encoding: a Lua expression, the options (a Lua expression, or NULL);
 * the text, or NULL and the exact error. */
static const struct {
	const char *expr, *opts, *out, *err;
} encodes[] = {
	{ "json.null", NULL, "null", NULL },
	{ "true", NULL, "true", NULL },
	{ "false", NULL, "false", NULL },
	{ "0", NULL, "0", NULL },
	{ "-17", NULL, "-17", NULL },
	{ "math.maxinteger", NULL, "9223372036854775807", NULL },
	{ "math.mininteger", NULL, "-9223372036854775808", NULL },
	{ "1.0", NULL, "1.0", NULL },
	{ "-0.0", NULL, "-0.0", NULL },
	{ "0.0", NULL, "0.0", NULL },
	{ "100.0", NULL, "100.0", NULL },
	{ "-2.5", NULL, "-2.5", NULL },
	{ "0.1", NULL, "0.1", NULL },
	{ "0.1 + 0.2", NULL, "0.30000000000000004", NULL },
	{ "1/3", NULL, "0.3333333333333333", NULL },
	{ "math.pi", NULL, "3.141592653589793", NULL },
	{ "2^53", NULL, "9007199254740992.0", NULL },
	{ "2^63", NULL, "9.223372036854776e+18", NULL },
	{ "123456789012345.0", NULL, "123456789012345.0", NULL },
	{ "1234567890123456.0", NULL, "1234567890123456.0", NULL },
	{ "1e15", NULL, "1e+15", NULL },
	{ "1e100", NULL, "1e+100", NULL },
	{ "1e-7", NULL, "1e-07", NULL },
	{ "5e-324", NULL, "5e-324", NULL },
	{ "-2.5e-320", NULL, "-2.5e-320", NULL },
	{ "1.7976931348623157e308", NULL, "1.7976931348623157e+308", NULL },
	{ "0/0", NULL, NULL, "json.encode: cannot encode NaN at $" },
	{ "{x = 1/0}", NULL, NULL, "json.encode: cannot encode inf at $.x" },
	{ "{-1/0}", NULL, NULL, "json.encode: cannot encode -inf at $[1]" },
	{ "''", NULL, "\"\"", NULL },
	{ "'a\"b\\\\c/d'", NULL, "\"a\\\"b\\\\c/d\"", NULL },
	{ "'\\0\\1\\8\\9\\10\\12\\13\\31\\32\\127'", NULL,
	  "\"\\u0000\\u0001\\b\\t\\n\\f\\r\\u001f \x7f\"", NULL },
	{ "'\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80'", NULL, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", NULL },
	{ "'ab\\xff'", NULL, NULL, "json.encode: invalid UTF-8 at byte 3 of the string at $" },
	{ "{s = 'x\\xed\\xa0\\x80'}", NULL, NULL,
	  "json.encode: invalid UTF-8 at byte 2 of the string at $.s" },
	{ "{a = {['\\xc0\\x80'] = 1}}", NULL, NULL,
	  "json.encode: invalid UTF-8 at byte 1 of a key at $.a" },
	{ "{}", NULL, "{}", NULL },
	{ "json.array()", NULL, "[]", NULL },
	{ "json.array{}", NULL, "[]", NULL },
	{ "json.array{1, 2}", NULL, "[1,2]", NULL },
	{ "{1, 2, 3}", NULL, "[1,2,3]", NULL },
	{ "{{}, {{}}}", NULL, "[{},[{}]]", NULL },
	{ "{a = {}}", NULL, "{\"a\":{}}", NULL },
	{ "{[1] = 'a', [2] = 'b'}", NULL, "[\"a\",\"b\"]", NULL },
	{ "{'a', json.null, 'c'}", NULL, "[\"a\",null,\"c\"]", NULL },
	{ "{1, nil, 3}", NULL, NULL,
	  "json.encode: sparse array at $ (integer keys must be exactly 1..n)" },
	{ "{a = {b = {[2] = 1}}}", NULL, NULL,
	  "json.encode: sparse array at $.a.b (integer keys must be exactly 1..n)" },
	{ "{[0] = 1}", NULL, NULL,
	  "json.encode: sparse array at $ (integer keys must be exactly 1..n)" },
	{ "{[-1] = 1, 2}", NULL, NULL,
	  "json.encode: sparse array at $ (integer keys must be exactly 1..n)" },
	{ "{1, 2, x = 1}", NULL, NULL, "json.encode: table mixes integer and string keys at $" },
	{ "{x = {y = 1, [1] = 2}}", NULL, NULL,
	  "json.encode: table mixes integer and string keys at $.x" },
	{ "{x = {y = 1, [1] = 2}}", "{sort_keys = true}", NULL,
	  "json.encode: table mixes integer and string keys at $.x" },
	{ "{[true] = 1}", NULL, NULL, "json.encode: table has a boolean key at $" },
	{ "{[1.5] = 1}", NULL, NULL, "json.encode: table has a float key at $" },
	{ "{a = {[{}] = 1}}", NULL, NULL, "json.encode: table has a table key at $.a" },
	{ "{a = {x = 1, [print] = 1}}", NULL, NULL,
	  "json.encode: table has a function key at $.a" },
	{ "json.array{x = 1}", NULL, NULL,
	  "json.encode: table marked as array has a string key at $" },
	{ "nil", NULL, NULL, "json.encode: cannot encode nil at $ (use json.null)" },
	{ "print", NULL, NULL, "json.encode: cannot encode a function at $" },
	{ "{a = {b = {1, 2, print}}}", NULL, NULL,
	  "json.encode: cannot encode a function at $.a.b[3]" },
	{ "{co = coroutine.create(print)}", NULL, NULL,
	  "json.encode: cannot encode a thread at $.co" },
	{ "{io.stdout}", NULL, NULL, "json.encode: cannot encode a userdata at $[1]" },
	{ "{['a b'] = {['x.y'] = {['q\"\\0'] = {print}}}}", NULL, NULL,
	  "json.encode: cannot encode a function at $[\"a b\"][\"x.y\"][\"q\\x22\\x00\"][1]" },
	{ "{_ok9 = {['9a'] = {print}}}", NULL, NULL,
	  "json.encode: cannot encode a function at $._ok9[\"9a\"][1]" },
	{ "(function() local t = {} t.self = t return t end)()", NULL, NULL,
	  "json.encode: reference cycle at $.self (the same table as $)" },
	{ "(function() local t = {} t[1] = {{t}} return {x = t} end)()", NULL, NULL,
	  "json.encode: reference cycle at $.x[1][1][1] (the same table as $.x)" },
	{ "(function() local s = {1} return {a = s, b = {s}} end)()",
	  "{sort_keys = true}", "{\"a\":[1],\"b\":[[1]]}", NULL },
	{ "{b = 1, a = 2, A = 3, ['a\\0'] = 4, [''] = 5, ab = 6}", "{sort_keys = true}",
	  "{\"\":5,\"A\":3,\"a\":2,\"a\\u0000\":4,\"ab\":6,\"b\":1}", NULL },
	{ "{b = {d = 1, c = 2}}", "{sort_keys = true}", "{\"b\":{\"c\":2,\"d\":1}}", NULL },
	{ "{a = {1, 2}, b = {}, c = json.array(), d = 'x', e = {f = true}}",
	  "{pretty = true, sort_keys = true}",
	  "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": [],\n"
	  "  \"d\": \"x\",\n  \"e\": {\n    \"f\": true\n  }\n}", NULL },
	{ "{{}, {1}}", "{pretty = true}", "[\n  {},\n  [\n    1\n  ]\n]", NULL },
	{ "'x'", "{pretty = true}", "\"x\"", NULL },
	{ "{a = 1}", "{pretty = false, sort_keys = false}", "{\"a\":1}", NULL },
};

/* Texts that decode and encode (sorted keys) back byte for byte. */
static const char *round_trips[] = {
	"[1,1.0,-1,-1.5,0,0.0,-0.0,1e+300,5e-324,0.1,123456789.125]",
	"[9223372036854775807,-9223372036854775808,9.223372036854776e+18]",
	"{\"\":{},\"a\":[],\"b\":[[],[{}]],\"c\":null,\"d\":[null,true,false]}",
	"\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f \x7f\xc3\xa9\xf0\x9f\x98\x80\"",
	"{\"a\\u0000b\":1,\"a\\nb\":2,\"z\":{\"y\":{\"x\":[1,[2,[3]]]}}}",
	"[\"\xe4\xb8\xad\xe6\x96\x87\",\"\xd0\xba\xd0\xb8\xd1\x80\",\"mixed \xc3\xa9 ascii \xe2\x82\xac\"]",
};

static lua_State *L;

/* Runs "return <code>"; on success returns the string it gives (or
 * "<type>"), else the error with *ok 0, less the position of the calling
 * chunk ("[string "..."]:1: "). The result stays on the stack until the
 * next call. */
static const char *eval(const char *code, int *ok)
{
	const char *r, *at;

	lua_settop(L, 0);
	lua_pushfstring(L, "return %s", code);
	*ok = luaL_loadstring(L, lua_tostring(L, -1)) == LUA_OK &&
	      lua_pcall(L, 0, 1, 0) == LUA_OK;
	if (lua_type(L, -1) != LUA_TSTRING)
		lua_pushstring(L, luaL_typename(L, -1));
	r = lua_tostring(L, -1);
	if (!*ok && strncmp(r, "[string ", 8) == 0 && (at = strstr(r, "]:1: ")))
		r = at + 5;
	return r;
}

/* (s) of (n) bytes, printable: \xNN escapes, cut at 48 bytes. Four
 * calls can share one printf. */
static const char *show(const char *s, size_t n)
{
	static char bufs[4][256];
	static int next;
	char *out = bufs[next++ % 4];
	size_t o = 0;

	for (size_t i = 0; i < n && i < 48; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, sizeof(bufs[0]) - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	snprintf(out + o, sizeof(bufs[0]) - o, "%s", n > 48 ? "..." : "");
	return out;
}

/* Decodes (n) bytes at (s): returns 1 with the value on the stack, or 0
 * with the error message there. */
static int decode(const char *s, size_t n)
{
	lua_settop(L, 0);
	lua_getglobal(L, "json");
	lua_getfield(L, -1, "decode");
	lua_pushlstring(L, s, n);
	if (lua_pcall(L, 1, 2, 0) != LUA_OK)
		return 0;
	if (lua_isnil(L, -2) && lua_isstring(L, -1))
		return 0;
	lua_pop(L, 1);
	return 1;
}

/* The value on top, encoded with sorted keys, or the error. */
static const char *canon(void)
{
	lua_getglobal(L, "canon");
	lua_insert(L, -2);
	lua_pcall(L, 1, 1, 0);
	return lua_tostring(L, -1);
}

static void test_decode_table(void)
{
	for (size_t i = 0; i < sizeof(decodes) / sizeof(decodes[0]); i++) {
		const char *in = show(decodes[i].in, decodes[i].len);
		int ok = decode(decodes[i].in, decodes[i].len);
		const char *got = ok ? canon() : lua_tostring(L, -1);

		if (decodes[i].out)
			CHECK(ok && strcmp(got, decodes[i].out) == 0,
			      "decode %s -> %s (got %s)", in,
			      show(decodes[i].out, strlen(decodes[i].out)),
			      ok ? show(got, strlen(got)) : got);
		else
			CHECK(!ok && got && strcmp(got, decodes[i].err) == 0,
			      "decode %s: nil, \"%s\" (got %s)", in, decodes[i].err,
			      ok ? "a value" : got);
	}
}

static void test_encode_table(void)
{
	char code[512];
	int ok;

	for (size_t i = 0; i < sizeof(encodes) / sizeof(encodes[0]); i++) {
		const char *want = encodes[i].out ? encodes[i].out : encodes[i].err;
		const char *got;

		snprintf(code, sizeof(code), "json.encode(%s, %s)", encodes[i].expr,
			 encodes[i].opts ? encodes[i].opts : "nil");
		got = eval(code, &ok);
		CHECK(ok == (encodes[i].out != NULL) && strcmp(got, want) == 0,
		      "encode %s%s%s -> %s (got %s)", encodes[i].expr,
		      encodes[i].opts ? " " : "",
		      encodes[i].opts ? encodes[i].opts : "", show(want, strlen(want)),
		      show(got, strlen(got)));
	}
}

static void test_round_trips(void)
{
	for (size_t i = 0; i < sizeof(round_trips) / sizeof(round_trips[0]); i++) {
		const char *t = round_trips[i];
		int ok = decode(t, strlen(t));
		const char *got = ok ? canon() : lua_tostring(L, -1);

		CHECK(ok && strcmp(got, t) == 0, "round trip %s (got %s)",
		      show(t, strlen(t)), show(got, strlen(got)));
	}
}

/* Lua snippets that must return true. */
static const struct {
	const char *name, *code;
} facts[] = {
	{ "json.null is a light userdata", "type(json.null) == 'userdata' and "
	  "json.decode('null') == json.null and json.decode('[null]')[1] == json.null" },
	{ "decoded null object members stay", "json.decode('{\"a\":null}').a == json.null" },
	{ "decoded arrays carry json.array_mt",
	  "getmetatable(json.decode('[1]')) == json.array_mt and "
	  "getmetatable(json.decode('[]')) == json.array_mt" },
	{ "decoded objects have no metatable", "getmetatable(json.decode('{}')) == nil" },
	{ "json.array_mt is the registry's json.array",
	  "debug.getregistry()['json.array'] == json.array_mt" },
	{ "a decoded array shows nothing extra to pairs",
	  "(function() local n = 0 for _ in pairs(json.decode('[1,2,3]')) do n = n + 1 end "
	  "return n == 3 end)()" },
	{ "[] and {} survive a round trip", "json.encode(json.decode('[]')) == '[]' and "
	  "json.encode(json.decode('{}')) == '{}' and "
	  "json.encode(json.decode('{\"a\":[],\"b\":{}}'), {sort_keys = true}) == '{\"a\":[],\"b\":{}}'" },
	{ "a decoded array grows as an array",
	  "(function() local t = json.decode('[1]') t[2] = 2 return json.encode(t) == '[1,2]' end)()" },
	{ "json.array returns its table", "(function() local t = {} return json.array(t) == t end)()" },
	{ "json.array twice is fine", "(function() local t = json.array() return json.array(t) == t end)()" },
	{ "decoded integers and floats keep their subtype",
	  "math.type(json.decode('1')) == 'integer' and math.type(json.decode('1.0')) == 'float' and "
	  "math.type(json.decode('1e0')) == 'float'" },
	{ "-0.0 keeps its sign both ways", "1 / json.decode(json.encode(-0.0)) == -1 / 0" },
	{ "keys written out of order still encode as an array",
	  "(function() local t = {} for i = 50, 1, -1 do t[i] = i end "
	  "local s = json.encode(t) return s:sub(1, 8) == '[1,2,3,4' and s:sub(-4) == ',50]' end)()" },
	{ "a big array round-trips",
	  "(function() local t = {} for i = 1, 100000 do t[i] = i * 0.5 end "
	  "local u = json.decode(json.encode(t)) for i = 1, 100000 do if u[i] ~= t[i] then "
	  "return false end end return #u == 100000 end)()" },
	{ "long strings with escapes round-trip",
	  "(function() local s = ('a\"\\\\\\n\\1\\xc3\\xa9'):rep(5000) "
	  "return json.decode(json.encode(s)) == s end)()" },
	{ "encode ignores __index and __pairs",
	  "json.encode(setmetatable({a = 1}, {__index = function() return 2 end, "
	  "__pairs = function() error('no') end})) == '{\"a\":1}'" },
	{ "decode wants a string",
	  "not pcall(json.decode, 12) and not pcall(json.decode) and not pcall(json.decode, {})" },
	{ "decode's error names the argument",
	  "select(2, pcall(json.decode, 12)):find('bad argument #1', 1, true) ~= nil" },
	{ "encode wants a value", "not pcall(json.encode)" },
	{ "encode refuses unknown options",
	  "select(2, pcall(json.encode, 1, {prettty = true})):find(\"unknown option 'prettty'\", 1, true) ~= nil" },
	{ "encode refuses non-boolean options",
	  "select(2, pcall(json.encode, 1, {pretty = 1})):find(\"option 'pretty' must be a boolean\", 1, true) ~= nil" },
	{ "encode refuses non-table options", "not pcall(json.encode, 1, 'pretty')" },
	{ "json.array refuses a table with another metatable",
	  "select(2, pcall(json.array, setmetatable({}, {}))):find('already has a metatable', 1, true) ~= nil" },
	{ "json.array refuses a non-table", "not pcall(json.array, 5)" },
	{ "a decode error returns nil, err",
	  "(function() local v, e = json.decode('[') return v == nil and type(e) == 'string' end)()" },
};

static void test_facts(void)
{
	char code[1024];
	int ok;

	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++) {
		const char *got;

		snprintf(code, sizeof(code), "tostring(%s)", facts[i].code);
		got = eval(code, &ok);
		CHECK(ok && strcmp(got, "true") == 0, "%s%s%s", facts[i].name,
		      ok ? "" : ": ", ok ? "" : got);
	}
}

/* n nested arrays (open brackets only when (open_only)). */
static char *nested(size_t n, int open_only)
{
	char *s = malloc(2 * n + 1);

	memset(s, '[', n);
	memset(s + n, ']', open_only ? 0 : n);
	s[open_only ? n : 2 * n] = 0;
	return s;
}

static void test_depth(void)
{
	char *s = nested(512, 0), *t = nested(513, 0), *u = nested(200000, 1);
	int ok = decode(s, strlen(s));
	const char *got = ok ? canon() : lua_tostring(L, -1);

	CHECK(ok && strcmp(got, s) == 0, "512 nested arrays decode and encode back");
	ok = decode(t, strlen(t));
	CHECK(!ok && strcmp(lua_tostring(L, -1), "nesting deeper than 512 at byte 513") == 0,
	      "513 nested arrays: nil, \"nesting deeper than 512 at byte 513\"");
	ok = decode(u, strlen(u));
	CHECK(!ok && strcmp(lua_tostring(L, -1), "nesting deeper than 512 at byte 513") == 0,
	      "200000 open brackets fail the same way, no stack overflow");
	free(s), free(t), free(u);
	s = malloc(7 * 600 + 1);
	for (int i = 0; i < 600; i++)
		memcpy(s + 5 * i, "{\"a\":", 5);
	ok = decode(s, 5 * 600);
	CHECK(!ok && strcmp(lua_tostring(L, -1), "nesting deeper than 512 at byte 2561") == 0,
	      "513 nested objects fail at the 513th");
	free(s);
	got = eval("(function() local t = {} local c = t for i = 1, 511 do c[1] = {} "
		   "c = c[1] end return json.encode(t) end)()", &ok);
	CHECK(ok && strlen(got) == 1024, "512 nested tables encode");
	got = eval("(function() local t = {} local c = t for i = 1, 512 do c[1] = {} "
		   "c = c[1] end return json.encode(t) end)()", &ok);
	CHECK(!ok && strstr(got, "json.encode: nesting deeper than 512 at $[1][1][1]") == got,
	      "513 nested tables raise, naming the path (%.60s)", got);
}

/* What encode must make of (n) bytes at (s) (valid UTF-8), byte by byte. */
static size_t reference_string(char *out, const unsigned char *s, size_t n)
{
	size_t o = 0;

	out[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" :
				  c == '\n' ? "\\n" : c == '\t' ? "\\t" : NULL;
		if (esc)
			o += (size_t)sprintf(out + o, "%s", esc);
		else if (c < 0x20 && c != '\b' && c != '\f' && c != '\r')
			o += (size_t)sprintf(out + o, "\\u%04x", c);
		else if (c < 0x20)
			o += (size_t)sprintf(out + o, "\\%c", c == '\b' ? 'b' : c == '\f' ? 'f' : 'r');
		else
			out[o++] = (char)c;
	}
	out[o++] = '"';
	return o;
}

/* Every length up to 40 with one special byte at every offset: the word
 * scan must stop at each, whatever its alignment. */
static void test_string_offsets(void)
{
	static const char *specials[] = { "\"", "\\", "\n", "\x1f", "\x7f",
					  "\xc3\xa9", "\xe2\x82\xac", "\xff" };
	unsigned char s[48];
	char want[400];

	for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
		size_t sl = strlen(specials[k]), bad = 0, cases = 0;

		for (size_t n = sl; n <= 40; n++) {
			for (size_t at = 0; at + sl <= n; at++, cases++) {
				size_t wl;
				int ok;
				const char *got;

				memset(s, 'a', n);
				memcpy(s + at, specials[k], sl);
				lua_settop(L, 0);
				lua_getglobal(L, "json");
				lua_getfield(L, -1, "encode");
				lua_pushlstring(L, (char *)s, n);
				ok = lua_pcall(L, 1, 1, 0) == LUA_OK;
				got = lua_tostring(L, -1);
				if (specials[k][0] == '\xff') {
					snprintf(want, sizeof(want), "json.encode: invalid "
						 "UTF-8 at byte %zu of the string at $", at + 1);
					bad += ok || strcmp(got, want) != 0;
					continue;
				}
				wl = reference_string(want, s, n);
				bad += !ok || lua_rawlen(L, -1) != wl || memcmp(got, want, wl);
				ok = ok && decode(want, wl);
				bad += !ok || lua_rawlen(L, -1) != n || memcmp(lua_tostring(L, -1), s, n);
			}
		}
		CHECK(bad == 0, "%s at every offset of strings up to 40 bytes (%zu cases, %zu bad)",
		      show(specials[k], sl), cases, bad);
	}
}

int main(void)
{
	L = luaL_newstate();
	luaL_openlibs(L);
	luaL_requiref(L, "json", luaopen_json, 1);
	lua_pop(L, 1);
	if (luaL_dostring(L, "function canon(v) return json.encode(v, {sort_keys = true}) end"))
		return 1;

	test_decode_table();
	test_encode_table();
	test_round_trips();
	test_facts();
	test_depth();
	test_string_offsets();
	lua_close(L);
	CHECK_EXIT();
}
