/*
 * fuzz_json.c -- json.decode on arbitrary bytes. It never raises: it gives
 * a value, or nil and a message ending "at byte N" with N inside the input
 * (or one past it). Whatever decodes must encode, plain and pretty, and
 * decode again to the same value, compared as canonical text (sorted keys),
 * which tells integers from floats, [] from {}, and -0.0 from 0.0. The
 * same bytes as a Lua string go through json.encode and back when Lua's
 * utf8.len finds them valid, and raise naming the byte it stops at if not.
 *
 * sources: bindings/json.c bindings/json_encode.c bindings/json_decode.c
 * sources: bindings/json_number.c runtime/float_read.c
 * needs: lua
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_json(lua_State *L);

/* Checks, in Lua: (s) the input; raises on any broken promise. */
static const char check_lua[] =
	"local json, s = ...\n"
	"-- the bytes as a Lua string: valid UTF-8 (Lua's utf8.len is the judge)\n"
	"-- encodes and decodes back; anything else raises naming its first bad byte\n"
	"local ok, t = pcall(json.encode, s)\n"
	"local n, bad = utf8.len(s)\n"
	"if n then\n"
	"  assert(ok and json.decode(t) == s, 'string round trip failed')\n"
	"else\n"
	"  assert(not ok and t:match('invalid UTF%-8 at byte (%d+) of the string at %$$') == tostring(bad), t)\n"
	"end\n"
	"local v, err = json.decode(s)\n"
	"if v == nil then\n"
	"  local at = tonumber(err:match(' at byte (%d+)'))\n"
	"  assert(at and at >= 1 and at <= #s + 1, 'bad message: ' .. err)\n"
	"  return\n"
	"end\n"
	"local canon = json.encode(v, {sort_keys = true})\n"
	"for _, opts in ipairs{ {}, {pretty = true}, {sort_keys = true} } do\n"
	"  local text = json.encode(v, opts)\n"
	"  local w, werr = json.decode(text)\n"
	"  assert(werr == nil, werr)\n"
	"  local again = json.encode(w, {sort_keys = true})\n"
	"  assert(again == canon, 'round trip changed ' .. canon .. ' into ' .. again)\n"
	"end\n";

/* One state for the whole run, with the checker in its registry; each
 * input's garbage is collected after it. */
static lua_State *L;
static int check_ref;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!L) {
		L = luaL_newstate();
		luaL_openlibs(L);
		if (luaL_loadbuffer(L, check_lua, sizeof(check_lua) - 1, "=check"))
			abort();
		check_ref = luaL_ref(L, LUA_REGISTRYINDEX);
		luaL_requiref(L, "json", luaopen_json, 0);
		lua_pop(L, 1);
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, check_ref);
	luaL_requiref(L, "json", luaopen_json, 0);
	lua_pushlstring(L, (const char *)data, size);
	if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
		fprintf(stderr, "fuzz_json: %s\n", lua_tostring(L, -1));
		abort();
	}
	lua_gc(L, LUA_GCCOLLECT);
	return 0;
}
