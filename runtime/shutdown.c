/*
 * shutdown.c -- the power button, as the event that starts the graceful
 * shutdown. A poller of the event loop takes each press from the platform
 * (plat_power_button: the ACPI power button that `virsh shutdown` and
 * QEMU's system_powerdown press) and runs stdlib/lunik/shutdown.lua's
 * request("power button") in a task of its own; a second press forces the
 * machine off (that module decides).
 */
#include <stdio.h>

#include <lauxlib.h>
#include <lua.h>

#include "internal.h"
#include "runtime.h"

static lua_State *main_L;

static void request(const char *why)
{
	lua_State *L = main_L;

	lua_getglobal(L, "require");
	lua_pushliteral(L, "lunik.shutdown");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		fprintf(stderr, "lunik: %s, but no shutdown: %s\n", why,
			lua_tostring(L, -1));
		lua_pop(L, 1);
		return;
	}
	lua_getfield(L, -1, "request");
	lua_remove(L, -2);
	lua_pushstring(L, why);
	rt_spawn(L, 1);
	lua_pop(L, 1);
}

static void poll_button(void)
{
	while (plat_power_button())
		request("power button");
}

void shutdown_init(lua_State *L)
{
	main_L = L;
	rt_add_poller(poll_button, NULL);
}
