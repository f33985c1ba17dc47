/*
 * timer.c -- the `timer` module. For now: sleep, which halts the CPU until
 * the deadline (the event loop will make it yield the calling task only).
 */
#include <math.h>

#include <lauxlib.h>
#include <lua.h>

#include "runtime.h"

/* timer.sleep(seconds): seconds >= 0, a number */
static int m_sleep(lua_State *L)
{
	lua_Number s = luaL_checknumber(L, 1);

	luaL_argcheck(L, s >= 0 && s < 1e9 && !isnan(s), 1,
		      "seconds must be a number from 0 to 1e9");
	rt_sleep_until(plat_monotonic_ns() + (uint64_t)(s * 1e9));
	return 0;
}

static const luaL_Reg funcs[] = {
	{ "sleep", m_sleep },
	{ NULL, NULL },
};

int luaopen_timer(lua_State *L)
{
	luaL_newlib(L, funcs);
	return 1;
}

RT_MODULE("timer", luaopen_timer);
