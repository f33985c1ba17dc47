/*
 * json.c -- the `json` module: encode, decode, null, array, array_mt.
 *
 * This file is the Lua surface: it checks arguments and options and hands
 * the work to json_encode.c and json_decode.c. The module keeps no C
 * globals: the array metatable (registered as "json.array") is an upvalue
 * of every function, and json.null is a light userdata at the address of
 * a constant. docs/json.md is the contract users read.
 */
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "json_internal.h"
#include "runtime.h"

#define ARRAY_MT lua_upvalueindex(1)

const char json_null_tag = 0;

/* opts at (idx): nil, or a table of booleans pretty and sort_keys. */
static void check_opts(lua_State *L, int idx, struct json_encode_opts *o)
{
	o->pretty = o->sort_keys = 0;
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ?
					lua_tostring(L, -2) : "?";
		int *flag = strcmp(k, "pretty") == 0	 ? &o->pretty :
			    strcmp(k, "sort_keys") == 0 ? &o->sort_keys :
							   NULL;

		if (!flag)
			luaL_argerror(L, idx, lua_pushfstring(L,
				"unknown option '%s' (pretty, sort_keys)", k));
		if (!lua_isboolean(L, -1))
			luaL_argerror(L, idx, lua_pushfstring(L,
				"option '%s' must be a boolean", k));
		*flag = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
}

/* json.encode(v [, opts]) -> string; raises on what JSON cannot hold */
static int m_encode(lua_State *L)
{
	struct json_encode_opts o;

	luaL_checkany(L, 1);
	check_opts(L, 2, &o);
	lua_settop(L, 2);
	json_encode(L, 1, ARRAY_MT, &o);
	return 1;
}

/* json.decode(s) -> value, or nil, err */
static int m_decode(lua_State *L)
{
	size_t len;
	const char *s;

	luaL_checktype(L, 1, LUA_TSTRING);
	s = lua_tolstring(L, 1, &len);
	lua_settop(L, 1);
	return json_decode(L, s, len, ARRAY_MT);
}

/* json.array([t]) -> t (or a new table), marked as an array */
static int m_array(lua_State *L)
{
	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	if (lua_getmetatable(L, 1)) {
		luaL_argcheck(L, lua_rawequal(L, -1, ARRAY_MT), 1,
			      "table already has a metatable");
	} else {
		lua_pushvalue(L, ARRAY_MT);
		lua_setmetatable(L, 1);
	}
	lua_settop(L, 1);
	return 1;
}

static const luaL_Reg funcs[] = {
	{ "encode", m_encode },
	{ "decode", m_decode },
	{ "array", m_array },
	{ NULL, NULL },
};

int luaopen_json(lua_State *L)
{
	luaL_newlibtable(L, funcs);
	luaL_newmetatable(L, "json.array");
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, "array_mt");
	luaL_setfuncs(L, funcs, 1);
	lua_pushlightuserdata(L, (void *)&json_null_tag);
	lua_setfield(L, -2, "null");
	return 1;
}

RT_MODULE("json", luaopen_json);
