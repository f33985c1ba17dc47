/*
 * timer.c -- the `timer` module: sleep, and callbacks after a delay or
 * at an interval.
 *
 *   timer.sleep(s)                       yields the calling task for s seconds
 *   timer.after(s, fn) -> h              fn() once, s seconds from now
 *   timer.every(s, fn) -> h              fn() every s seconds
 *   h:cancel()  h:active() -> bool      timer.count() -> active timers
 *
 * Each timer runs its callbacks in a task of its own, so a callback may
 * block; an interval timer never overlaps itself: if a callback outlasts
 * the interval, the ticks it missed are skipped, not queued. An error in a
 * callback is logged with its traceback; an interval timer keeps going.
 */
#include <math.h>
#include <stdio.h>

#include <lauxlib.h>
#include <lua.h>

#include "runtime.h"

#define TIMER_MT "timer.Timer"
#define NS_PER_S 1e9

struct timer {
	uint64_t due, interval; /* interval 0: once */
	bool active;
	struct rt_waitq wq; /* its task waits here; cancel wakes it */
};

static unsigned active_timers;

static uint64_t check_seconds(lua_State *L, int idx)
{
	lua_Number s = luaL_checknumber(L, idx);

	luaL_argcheck(L, s >= 0 && s < 1e9 && !isnan(s), idx,
		      "seconds must be a number from 0 to 1e9");
	return (uint64_t)(s * NS_PER_S);
}

static int sleep_k(lua_State *L, int status, lua_KContext deadline)
{
	if (plat_monotonic_ns() < (uint64_t)deadline)
		return rt_wait(L, NULL, (uint64_t)deadline, deadline, sleep_k);
	return 0;
}

/* timer.sleep(seconds) */
static int m_sleep(lua_State *L)
{
	uint64_t deadline = plat_monotonic_ns() + check_seconds(L, 1);

	return rt_wait(L, NULL, deadline, (lua_KContext)deadline, sleep_k);
}

static void deactivate(struct timer *t)
{
	if (t->active) {
		t->active = false;
		active_timers--;
		rt_wake_all(&t->wq);
	}
}

static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	luaL_traceback(L, L, msg ? msg : luaL_typename(L, 1), 1);
	return 1;
}

static int body_k(lua_State *L, int status, lua_KContext ctx);

/* After a callback: log its error, schedule the next tick. */
static int fired_k(lua_State *L, int status, lua_KContext ctx)
{
	struct timer *t = lua_touserdata(L, 1);
	uint64_t now = plat_monotonic_ns();

	if (status != LUA_OK && status != LUA_YIELD) {
		fflush(stdout);
		fprintf(stderr, "lunik: timer callback failed: %s\n",
			lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	if (!t->interval) {
		deactivate(t);
	} else {
		t->due += t->interval;
		if (t->due <= now) /* missed ticks are skipped */
			t->due = now + t->interval;
	}
	return body_k(L, LUA_OK, 0);
}

/* The timer's task: stack [timer, traceback]. */
static int body_k(lua_State *L, int status, lua_KContext ctx)
{
	struct timer *t = lua_touserdata(L, 1);

	if (!t->active)
		return 0;
	if (plat_monotonic_ns() < t->due)
		return rt_wait(L, &t->wq, t->due, 0, body_k);
	lua_getiuservalue(L, 1, 1);
	return fired_k(L, lua_pcallk(L, 0, 0, 2, 0, fired_k), 0);
}

static int body(lua_State *L)
{
	lua_settop(L, 1);
	lua_pushcfunction(L, traceback);
	return body_k(L, LUA_OK, 0);
}

static int start(lua_State *L, bool every)
{
	uint64_t ns = check_seconds(L, 1);
	struct timer *t;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	luaL_argcheck(L, !every || ns > 0, 1, "an interval must be positive");
	t = lua_newuserdatauv(L, sizeof(*t), 1);
	*t = (struct timer){ .due = plat_monotonic_ns() + ns,
			     .interval = every ? ns : 0, .active = true };
	luaL_setmetatable(L, TIMER_MT);
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, -2, 1);
	active_timers++;
	lua_pushcfunction(L, body);
	lua_pushvalue(L, -2);
	rt_spawn(L, 1);
	lua_pop(L, 1);
	return 1;
}

/* timer.after(seconds, fn) */
static int m_after(lua_State *L)
{
	return start(L, false);
}

/* timer.every(seconds, fn) */
static int m_every(lua_State *L)
{
	return start(L, true);
}

/* h:cancel(): no more callbacks (one running now finishes). Idempotent. */
static int m_cancel(lua_State *L)
{
	deactivate(luaL_checkudata(L, 1, TIMER_MT));
	return 0;
}

/* h:active() */
static int m_active(lua_State *L)
{
	struct timer *t = luaL_checkudata(L, 1, TIMER_MT);

	lua_pushboolean(L, t->active);
	return 1;
}

/* timer.count() */
static int m_count(lua_State *L)
{
	lua_pushinteger(L, active_timers);
	return 1;
}

static const luaL_Reg methods[] = {
	{ "cancel", m_cancel },
	{ "active", m_active },
	{ NULL, NULL },
};

static const luaL_Reg funcs[] = {
	{ "sleep", m_sleep },
	{ "after", m_after },
	{ "every", m_every },
	{ "count", m_count },
	{ NULL, NULL },
};

int luaopen_timer(lua_State *L)
{
	luaL_newmetatable(L, TIMER_MT);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}

RT_MODULE("timer", luaopen_timer);
