/*
 * sys.c -- the `sys` module: boot arguments, clocks, memory figures, the
 * boot timeline, the image's files, and exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "runtime.h"

#define NS_PER_S 1e9

/* sys.time() -> seconds since the Unix epoch, as a float */
static int m_time(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)plat_wall_ns() / NS_PER_S);
	return 1;
}

/* sys.monotonic() -> seconds since boot, as a float (ns resolution) */
static int m_monotonic(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)plat_monotonic_ns() / NS_PER_S);
	return 1;
}

/* sys.cpu() -> seconds the CPU has worked since boot (not halted waiting
 * for a deadline or a device): the guest's CPU time */
static int m_cpu(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)rt_cpu_ns() / NS_PER_S);
	return 1;
}

static void set_int(lua_State *L, const char *key, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, key);
}

/* sys.mem() -> { heap_total=, heap_used=, heap_peak=, lua= } in bytes */
static int m_mem(lua_State *L)
{
	struct plat_mem m;

	plat_mem(&m);
	lua_createtable(L, 0, 4);
	set_int(L, "heap_total", (lua_Integer)m.total);
	set_int(L, "heap_used", (lua_Integer)m.in_use);
	set_int(L, "heap_peak", (lua_Integer)m.brk);
	set_int(L, "lua", (lua_Integer)lua_gc(L, LUA_GCCOUNT, 0) * 1024 +
				  lua_gc(L, LUA_GCCOUNTB, 0));
	return 1;
}

/* sys.boot_timeline() -> { {name=, us=}, ... } from the PVH entry on */
static int m_boot_timeline(lua_State *L)
{
	struct plat_phase phases[64];
	size_t n = rt_timeline(phases, 64);

	if (n > 64)
		n = 64;
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 2);
		lua_pushstring(L, phases[i].name);
		lua_setfield(L, -2, "name");
		lua_pushnumber(L, (lua_Number)phases[i].ns / 1e3);
		lua_setfield(L, -2, "us");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* sys.files([dir]) -> sorted list of the image's file paths under dir
 * (default: the app), relative to it */
static int m_files(lua_State *L)
{
	const char *dir = luaL_optstring(L, 1, ".");
	char prefix[512];
	int n = rt_path_to_rom(dir, prefix, sizeof(prefix));
	struct rom_file f;
	lua_Integer count = 0;

	if (n < 0)
		return luaL_argerror(L, 1, "not a path inside the image");
	lua_newtable(L);
	for (uint32_t i = 0; i < rt_rom.count; i++) {
		rom_entry(&rt_rom, i, &f);
		if (n == 0) {
			if (f.name[0] == '.')
				continue;
			lua_pushlstring(L, f.name, f.name_len);
		} else if (f.name_len > (uint32_t)n &&
			   memcmp(f.name, prefix, (size_t)n) == 0 &&
			   f.name[n] == '/') {
			lua_pushlstring(L, f.name + n + 1, f.name_len - n - 1);
		} else {
			continue;
		}
		lua_rawseti(L, -2, ++count);
	}
	return 1;
}

/* sys.exit([code]) flushes output and ends the machine; code is an integer
 * 0..126 or a boolean (true = 0, false = 1) */
static int m_exit(lua_State *L)
{
	lua_Integer code;

	if (lua_isboolean(L, 1))
		code = lua_toboolean(L, 1) ? 0 : 1;
	else
		code = luaL_optinteger(L, 1, 0);
	luaL_argcheck(L, code >= 0 && code <= 126, 1, "exit code out of 0..126");
	fflush(NULL);
	exit((int)code);
}

/* sys.on_shutdown(fn [, phase]) -> fn: fn() runs when the machine shuts
 * down gracefully (stdlib/lunik/shutdown.lua has the phases). */
static int m_on_shutdown(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_settop(L, 2);
	lua_getglobal(L, "require");
	lua_pushliteral(L, "lunik.shutdown");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "on");
	lua_remove(L, -2);
	lua_insert(L, 1);
	lua_call(L, 2, 1);
	return 1;
}

/* sys.shutdown([why]): begins the graceful shutdown, as the power button
 * does, in a task of its own (so a handler that calls it is drained like
 * any other request); returns at once. */
static int m_shutdown(lua_State *L)
{
	const char *why = luaL_optstring(L, 1, "sys.shutdown");

	lua_getglobal(L, "require");
	lua_pushliteral(L, "lunik.shutdown");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "request");
	lua_pushstring(L, why);
	rt_spawn(L, 1);
	return 0;
}

static const luaL_Reg funcs[] = {
	{ "on_shutdown", m_on_shutdown },
	{ "shutdown", m_shutdown },
	{ "time", m_time },
	{ "monotonic", m_monotonic },
	{ "uptime", m_monotonic },
	{ "cpu", m_cpu },
	{ "mem", m_mem },
	{ "boot_timeline", m_boot_timeline },
	{ "files", m_files },
	{ "exit", m_exit },
	{ NULL, NULL },
};

int luaopen_sys(lua_State *L)
{
	luaL_newlib(L, funcs);
	rt_push_args(L);
	lua_setfield(L, -2, "args");
	lua_pushstring(L, plat_cmdline());
	lua_setfield(L, -2, "cmdline");
	return 1;
}

RT_MODULE("sys", luaopen_sys);
