/*
 * test_http_parser.c -- the http.parser binding on the host, under the
 * sanitizers: runs the in-guest spec tests/lua/http_parser_spec.lua with
 * stdlib/test.lua on the host's Lua, the binding preloaded as in an image.
 *
 * sources: bindings/http_parser.c bindings/httpp.c bindings/httpp_chunked.c
 * needs: lua
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "check.h"

int luaopen_http_parser(lua_State *L);

#define SPEC "tests/lua/http_parser_spec.lua"

int main(void)
{
	lua_State *L = luaL_newstate();
	int status;

	luaL_openlibs(L);
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, luaopen_http_parser);
	lua_setfield(L, -2, "http.parser");
	lua_pop(L, 1);
	status = luaL_dostring(L,
		"package.path = 'stdlib/?.lua;stdlib/?/init.lua'\n"
		"local passed, failed = require('test').run({ '" SPEC "' })\n"
		"return passed, failed");
	if (status != LUA_OK) {
		CHECK(0, "%s loads: %s", SPEC, lua_tostring(L, -1));
	} else {
		lua_Integer passed = lua_tointeger(L, -2), failed = lua_tointeger(L, -1);

		CHECK(failed == 0 && passed > 0, "%s on the host: %lld passed, %lld failed",
		      SPEC, (long long)passed, (long long)failed);
	}
	lua_close(L);
	CHECK_EXIT();
}
