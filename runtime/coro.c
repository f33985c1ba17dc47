/*
 * coro.c -- coroutine.resume and coroutine.wrap for a world of tasks.
 *
 * A blocking call (rt_wait) yields its coroutine with a private token. When
 * that coroutine is one the app made itself (a generator, an iterator) the
 * yield would land in the app's coroutine.resume instead of the event
 * loop. These replacements, modelled on Lua's own lcorolib.c, see the token
 * and yield their own caller with it, level by level, up to the task the
 * loop resumes; when the loop resumes the task, each level resumes the
 * coroutine below it again. So a socket read inside an app's coroutine
 * blocks only the task, as it would outside one. Everything else behaves as
 * Lua's own functions do.
 *
 * main.lua runs as task 1, a coroutine, so that its top level may block.
 * At that top level coroutine.running, coroutine.isyieldable and
 * coroutine.yield answer as they do in a stock Lua's main chunk: the
 * running coroutine is the main one, nothing can be yielded, and a yield
 * raises "attempt to yield from outside a coroutine". Blocking calls
 * (which yield from C) are not affected.
 */
#include <lauxlib.h>
#include <lua.h>

#include "internal.h"
#include "runtime.h"

enum { VIA_RESUME, VIA_WRAP };

static int resume_on(lua_State *L, lua_State *co, int nargs, int via);

static lua_State *coroutine_of(lua_State *L, int via)
{
	lua_State *co = via == VIA_WRAP ? lua_tothread(L, lua_upvalueindex(1))
					: lua_tothread(L, 1);

	luaL_argexpected(L, co, 1, "thread"); /* as Lua's lcorolib.c says */
	return co;
}

/* The loop resumed the task: resume the coroutine that blocked. */
static int resume_again(lua_State *L, int status, lua_KContext via)
{
	return resume_on(L, coroutine_of(L, (int)via), 0, (int)via);
}

/* What coroutine.resume returns for the outcome of resuming (co): true
 * and the values, or false and the error. */
static int resume_result(lua_State *L, lua_State *co, int status, int nres)
{
	if (status == LUA_OK || status == LUA_YIELD) {
		if (!lua_checkstack(L, nres + 1)) {
			lua_pop(co, nres);
			lua_pushboolean(L, 0);
			lua_pushliteral(L, "too many results to resume");
			return 2;
		}
		lua_pushboolean(L, 1);
		lua_xmove(co, L, nres);
		return nres + 1;
	}
	lua_xmove(co, L, 1); /* the message; a no-op when co is L itself */
	lua_pushboolean(L, 0);
	lua_insert(L, -2);
	return 2;
}

/* What the wrapper function returns, or the error it raises, as Lua's
 * auxwrap does: the error gets the caller's position if it is a string.
 * Only a coroutine that died of the error is reset (closing its
 * to-be-closed variables); one that was running or normal, which Lua
 * refused to resume, is left alone: resetting it would be undefined. */
static int wrap_result(lua_State *L, lua_State *co, int status, int nres)
{
	if (status == LUA_OK || status == LUA_YIELD) {
		if (!lua_checkstack(L, nres)) {
			lua_pop(co, nres);
			return luaL_error(L, "too many results to resume");
		}
		lua_xmove(co, L, nres);
		return nres;
	}
	if (co != L && lua_status(co) != LUA_OK && lua_status(co) != LUA_YIELD) {
		status = lua_closethread(co, L); /* Lua 5.4.7's auxwrap */
	}
	lua_xmove(co, L, 1);
	if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
		luaL_where(L, 1);
		lua_insert(L, -2);
		lua_concat(L, 2);
	}
	return lua_error(L);
}

static int resume_on(lua_State *L, lua_State *co, int nargs, int via)
{
	int status, nres;

	if (!lua_checkstack(co, nargs)) {
		lua_pop(L, nargs);
		if (via == VIA_WRAP)
			return luaL_error(L, "too many arguments to resume");
		lua_pushboolean(L, 0);
		lua_pushliteral(L, "too many arguments to resume");
		return 2;
	}
	lua_xmove(L, co, nargs);
	rt_running_L = co; /* where the watchdog's hook must go meanwhile */
	status = lua_resume(co, L, nargs, &nres);
	rt_running_L = L;
	if (status == LUA_YIELD && nres == 1 &&
	    lua_touserdata(co, -1) == &rt_wait_token) {
		lua_pop(co, 1);
		if (!lua_isyieldable(L)) {
			rt_unwait();
			return luaL_error(L, "cannot block here: Lua cannot yield "
					     "inside require, a metamethod, "
					     "table.sort, a string.gsub callback "
					     "or __gc");
		}
		lua_pushlightuserdata(L, &rt_wait_token);
		return lua_yieldk(L, 1, via, resume_again);
	}
	return via == VIA_WRAP ? wrap_result(L, co, status, nres)
			       : resume_result(L, co, status, nres);
}

/* coroutine.resume(co, ...) */
static int m_resume(lua_State *L)
{
	lua_State *co = coroutine_of(L, VIA_RESUME);

	return resume_on(L, co, lua_gettop(L) - 1, VIA_RESUME);
}

static int m_wrapped(lua_State *L)
{
	lua_State *co = coroutine_of(L, VIA_WRAP);

	return resume_on(L, co, lua_gettop(L), VIA_WRAP);
}

/* coroutine.wrap(f) */
static int m_wrap(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_newthread(L);
	lua_pushvalue(L, 1);
	lua_xmove(L, lua_tothread(L, -2), 1);
	lua_pushcclosure(L, m_wrapped, 1);
	return 1;
}

/* coroutine.running() */
static int m_running(lua_State *L)
{
	int ismain = lua_pushthread(L);

	lua_pushboolean(L, ismain || rt_is_main_task(L));
	return 2;
}

/* coroutine.isyieldable([co]) */
static int m_isyieldable(lua_State *L)
{
	lua_State *co = lua_isnone(L, 1) ? L : lua_tothread(L, 1);

	luaL_argexpected(L, co, 1, "thread");
	lua_pushboolean(L, lua_isyieldable(co) && !rt_is_main_task(co));
	return 1;
}

/* coroutine.yield(...) */
static int m_yield(lua_State *L)
{
	if (rt_is_main_task(L))
		return luaL_error(L, "attempt to yield from outside a coroutine");
	return lua_yield(L, lua_gettop(L));
}

void coro_init(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "resume", m_resume },	      { "wrap", m_wrap },
		{ "running", m_running },     { "isyieldable", m_isyieldable },
		{ "yield", m_yield },	      { NULL, NULL },
	};

	lua_getglobal(L, "coroutine");
	luaL_setfuncs(L, fns, 0);
	lua_pop(L, 1);
}
