/*
 * netpoll.c -- the `netpoll` module: waiting on several sockets at once,
 * what LuaSocket's socket.select (stdlib/socket/core.lua) stands on.
 *
 *   netpoll.wait(readers, writers [, timeout]) -> rready, wready
 *
 * readers and writers are arrays of net objects ("net.tcp", "net.server",
 * "net.udp"). The call returns as soon as one of them is ready (a read of
 * a reader, a write of a writer would not wait; see net_ready in net.h), or
 * when the timeout (seconds; nil: none) has passed: rready and wready list
 * the positions of the ready ones, both empty on a timeout. Meanwhile the
 * calling task waits on all their queues at once (rt_wait_many), so the
 * machine stays idle. A non-socket element raises.
 */
#include <lauxlib.h>
#include <lua.h>

#include "net.h"

/* stack: [readers, writers]; ctx: the deadline */
static int wait_k(lua_State *L, int status, lua_KContext deadline)
{
	lua_Integer len[2];
	struct rt_waitq **qs;
	size_t nq = 0;
	int ready = 0;

	lua_settop(L, 2);
	len[0] = luaL_len(L, 1);
	len[1] = luaL_len(L, 2);
	qs = lua_newuserdatauv(L, (size_t)(len[0] + len[1] + 1) * sizeof(*qs), 0);
	for (int list = 0; list < 2; list++) {
		lua_Integer n = 0;

		lua_newtable(L);
		for (lua_Integer i = 1; i <= len[list]; i++) {
			struct rt_waitq *q;
			int r;

			lua_geti(L, list + 1, i);
			r = net_ready(L, -1, list == 1, &q);
			if (r < 0)
				return luaL_error(L, "netpoll.wait: element %d of the %s "
						  "is a %s, not a net socket", (int)i,
						  list ? "writers" : "readers",
						  luaL_typename(L, -1));
			lua_pop(L, 1);
			if (r) {
				lua_pushinteger(L, i);
				lua_rawseti(L, -2, ++n);
				ready++;
			} else if (q) {
				qs[nq++] = q;
			}
		}
	}
	if (ready || plat_monotonic_ns() >= (uint64_t)deadline)
		return 2;
	return rt_wait_many(L, qs, nq, (uint64_t)deadline, deadline, wait_k);
}

/* netpoll.wait(readers, writers [, timeout]) */
static int m_wait(lua_State *L)
{
	uint64_t deadline;

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checktype(L, 2, LUA_TTABLE);
	deadline = rt_check_deadline(L, 3);
	return wait_k(L, LUA_OK, (lua_KContext)deadline);
}

static const luaL_Reg funcs[] = {
	{ "wait", m_wait },
	{ NULL, NULL },
};

int luaopen_netpoll(lua_State *L)
{
	luaL_newlib(L, funcs);
	return 1;
}

RT_MODULE("netpoll", luaopen_netpoll);
