/*
 * test_kv.c -- the kv store (stdlib/kv.lua over bindings/kvcodec.c) on the
 * host Lua, against a file-backed fake device with fault injection
 * (tests/unit/kv_fakedev.lua). The checks are Lua files: kv_basic.lua
 * (API, misuse, order, batches, big values, 100,000 keys, compaction, full
 * disk, i/o errors, foreign and future devices), kv_crash.lua (a crash
 * at every device event of writes, batches and compactions, with the
 * unflushed sectors dropped, kept torn, or kept out of order) and
 * kv_app.lua (the kvcrash guest app, killed again and again). They report
 * through check(cond, name), which prints check.h's lines; wall() gives
 * a monotonic clock in seconds.
 *
 *   test_kv [FILE.lua ...]   runs those files instead (e.g. kv_bench.lua)
 *
 * sources: bindings/kvcodec.c
 * needs: lua
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "check.h"

int luaopen_kvcodec(lua_State *L);

/* check(cond, name) -> cond, as CHECK does */
static int l_check(lua_State *L)
{
	int ok = lua_toboolean(L, 1);
	const char *name = luaL_checkstring(L, 2);

	CHECK(ok, "%s", name);
	fflush(stdout);
	lua_pushboolean(L, ok);
	return 1;
}

/* wall() -> seconds of a monotonic clock, for the figures */
static int l_wall(lua_State *L)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
	return 1;
}

static lua_State *new_state(void)
{
	lua_State *L = luaL_newstate();

	luaL_openlibs(L);
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, luaopen_kvcodec);
	lua_setfield(L, -2, "kvcodec");
	lua_pop(L, 1);
	lua_getglobal(L, "package");
	lua_pushstring(L, "stdlib/?.lua;tests/unit/?.lua");
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);
	lua_register(L, "check", l_check);
	lua_register(L, "wall", l_wall);
	return L;
}

static int traceback(lua_State *L)
{
	luaL_traceback(L, L, lua_tostring(L, 1), 1);
	return 1;
}

/* Runs one file in a fresh state; an error is a failed check. */
static void run_file(const char *path)
{
	lua_State *L = new_state();
	int rc;

	lua_pushcfunction(L, traceback);
	rc = luaL_loadfile(L, path);
	if (rc == LUA_OK)
		rc = lua_pcall(L, 0, 0, -2);
	CHECK(rc == LUA_OK, "%s runs to its end%s%s", path,
	      rc == LUA_OK ? "" : ": ", rc == LUA_OK ? "" : lua_tostring(L, -1));
	lua_close(L);
}

int main(int argc, char **argv)
{
	static const char *files[] = { "tests/unit/kv_basic.lua",
				       "tests/unit/kv_crash.lua",
				       "tests/unit/kv_app.lua" };

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run_file(argv[i]);
	} else {
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			run_file(files[i]);
	}
	CHECK_EXIT();
}
