/*
 * task.c -- the `task` module: spawn tasks, join them, yield, and
 * channels between them. The scheduling itself is runtime/sched.c's.
 *
 *   task.spawn(fn, ...) -> t        t:join([timeout]) -> true, ... | nil, err
 *   task.yield()                    task.current() -> t
 *   task.watchdog([seconds]) -> previous limit (0: off)
 *   task.count() -> tasks that have not ended
 *   task.channel([capacity]) -> ch  ch:send(v [, timeout]) -> true | nil, err
 *                                   ch:receive([timeout]) -> v | nil, err
 *                                   ch:close()   #ch (values waiting)
 */
#include <lauxlib.h>
#include <lua.h>

#include "runtime.h"

#define CHAN_MT "task.Channel"

/* task.spawn(fn, ...) */
static int m_spawn(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	rt_spawn(L, lua_gettop(L) - 1);
	return 1;
}

static int join_k(lua_State *L, int status, lua_KContext deadline)
{
	struct rt_task *t = rt_check_task(L, 1);

	if (rt_task_done(t))
		return rt_task_results(L, 1, t);
	if (plat_monotonic_ns() >= (uint64_t)deadline) {
		luaL_pushfail(L);
		lua_pushliteral(L, "timeout");
		return 2;
	}
	return rt_wait(L, rt_task_joiners(t), (uint64_t)deadline, deadline,
		       join_k);
}

/* t:join([timeout]) */
static int m_join(lua_State *L)
{
	struct rt_task *t = rt_check_task(L, 1);
	uint64_t deadline = rt_check_deadline(L, 2);

	luaL_argcheck(L, t != rt_current(), 1, "a task cannot join itself");
	lua_settop(L, 1);
	return join_k(L, LUA_OK, (lua_KContext)deadline);
}

/* t:id() */
static int m_id(lua_State *L)
{
	lua_pushinteger(L, rt_task_id(rt_check_task(L, 1)));
	return 1;
}

/* t:done() */
static int m_done(lua_State *L)
{
	lua_pushboolean(L, rt_task_done(rt_check_task(L, 1)));
	return 1;
}

static int yield_k(lua_State *L, int status, lua_KContext ctx)
{
	return 0;
}

/* task.yield(): the ready tasks run, then this one goes on. */
static int m_yield(lua_State *L)
{
	return rt_wait(L, NULL, plat_monotonic_ns(), 0, yield_k);
}

/* task.watchdog([seconds]) -> the limit before: how long a task may run
 * without yielding before an error stops it (runtime/sched.c); 0 turns
 * the watchdog off. Without an argument it only reports the limit. */
static int m_watchdog(lua_State *L)
{
	lua_Number before = (lua_Number)rt_watchdog_get() / 1e9;

	if (!lua_isnoneornil(L, 1)) {
		lua_Number s = luaL_checknumber(L, 1);

		luaL_argcheck(L, s >= 0 && s < 1e9, 1,
			      "limit must be from 0 to 1e9 seconds");
		rt_watchdog_set((uint64_t)(s * 1e9));
	}
	lua_pushnumber(L, before);
	return 1;
}

/* task.count() */
static int m_count(lua_State *L)
{
	lua_pushinteger(L, rt_task_count());
	return 1;
}

/* task.current() */
static int m_current(lua_State *L)
{
	struct rt_task *t = rt_current();

	if (!t)
		return luaL_error(L, "not in a task");
	rt_push_task(L, t);
	return 1;
}

/* ---- channels: a queue of values in the user value table, slots
 * [first, first + count). A send goes through while count < capacity +
 * the receivers waiting, so capacity 0 hands values to waiting receivers
 * only. */
struct chan {
	lua_Integer first, count, capacity;
	int receivers_waiting;
	bool closed;
	struct rt_waitq senders, receivers;
};

static struct chan *check_chan(lua_State *L)
{
	return luaL_checkudata(L, 1, CHAN_MT);
}

/* task.channel([capacity]) */
static int m_channel(lua_State *L)
{
	lua_Integer cap = luaL_optinteger(L, 1, 0);
	struct chan *c;

	luaL_argcheck(L, cap >= 0, 1, "capacity must be 0 or more");
	c = lua_newuserdatauv(L, sizeof(*c), 1);
	*c = (struct chan){ .first = 1, .capacity = cap };
	lua_newtable(L);
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, CHAN_MT);
	return 1;
}

static int timeout_or_closed(lua_State *L, struct chan *c)
{
	luaL_pushfail(L);
	if (c->closed)
		lua_pushliteral(L, "closed");
	else
		lua_pushliteral(L, "timeout");
	return 2;
}

static int send_k(lua_State *L, int status, lua_KContext deadline)
{
	struct chan *c = check_chan(L);

	if (c->closed)
		return timeout_or_closed(L, c);
	if (c->count < c->capacity + c->receivers_waiting) {
		lua_getiuservalue(L, 1, 1);
		lua_pushvalue(L, 2);
		lua_rawseti(L, -2, c->first + c->count);
		c->count++;
		rt_wake_one(&c->receivers);
		lua_pushboolean(L, 1);
		return 1;
	}
	if (plat_monotonic_ns() >= (uint64_t)deadline)
		return timeout_or_closed(L, c);
	return rt_wait(L, &c->senders, (uint64_t)deadline, deadline, send_k);
}

/* ch:send(v [, timeout]) */
static int m_send(lua_State *L)
{
	uint64_t deadline;

	check_chan(L);
	luaL_argcheck(L, !lua_isnoneornil(L, 2), 2, "cannot send nil");
	deadline = rt_check_deadline(L, 3);
	lua_settop(L, 2);
	return send_k(L, LUA_OK, (lua_KContext)deadline);
}

static int receive_k(lua_State *L, int status, lua_KContext deadline)
{
	struct chan *c = check_chan(L);

	if (status == LUA_YIELD)
		c->receivers_waiting--;
	if (c->count > 0) {
		lua_getiuservalue(L, 1, 1);
		lua_rawgeti(L, -1, c->first);
		lua_pushnil(L);
		lua_rawseti(L, -3, c->first);
		c->first++;
		c->count--;
		rt_wake_one(&c->senders);
		return 1;
	}
	if (c->closed || plat_monotonic_ns() >= (uint64_t)deadline)
		return timeout_or_closed(L, c);
	c->receivers_waiting++;
	rt_wake_one(&c->senders); /* capacity 0: a sender may go now */
	return rt_wait(L, &c->receivers, (uint64_t)deadline, deadline,
		       receive_k);
}

/* ch:receive([timeout]) */
static int m_receive(lua_State *L)
{
	uint64_t deadline;

	check_chan(L);
	deadline = rt_check_deadline(L, 2);
	lua_settop(L, 1);
	return receive_k(L, LUA_OK, (lua_KContext)deadline);
}

/* ch:close(): sends fail from now on; receives drain what is queued,
 * then fail with "closed". */
static int m_close(lua_State *L)
{
	struct chan *c = check_chan(L);

	c->closed = true;
	rt_wake_all(&c->senders);
	rt_wake_all(&c->receivers);
	return 0;
}

static int m_len(lua_State *L)
{
	lua_pushinteger(L, check_chan(L)->count);
	return 1;
}

static const luaL_Reg task_methods[] = {
	{ "join", m_join },
	{ "id", m_id },
	{ "done", m_done },
	{ NULL, NULL },
};

static const luaL_Reg chan_methods[] = {
	{ "send", m_send },
	{ "receive", m_receive },
	{ "close", m_close },
	{ NULL, NULL },
};

static const luaL_Reg funcs[] = {
	{ "spawn", m_spawn },
	{ "yield", m_yield },
	{ "current", m_current },
	{ "channel", m_channel },
	{ "watchdog", m_watchdog },
	{ "count", m_count },
	{ NULL, NULL },
};

int luaopen_task(lua_State *L)
{
	luaL_getmetatable(L, "task.Task"); /* made by the runtime */
	luaL_newlib(L, task_methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	luaL_newmetatable(L, CHAN_MT);
	luaL_newlib(L, chan_methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, m_len);
	lua_setfield(L, -2, "__len");
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}

RT_MODULE("task", luaopen_task);
