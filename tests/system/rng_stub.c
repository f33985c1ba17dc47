/*
 * rng_stub.c -- a test-only entropy source and its Lua control module
 * ("rngstub"), linked into test images with `lunik build --link`. It
 * defines rt_entropy_read, which runtime/entropy.c declares weak, so
 * mbedTLS's entropy pools read this instead of plat_random, and a test
 * can drive runtime/entropy.c through what a source may do: deliver,
 * dribble (a busy virtio-rng), never answer, be absent, fail. Never part
 * of a normal image: its bytes are NOT random (xorshift64* over the clock).
 *
 *   rngstub.set(mode)   "ok" (default), "partial" (at most 5 bytes a call,
 *                       none every other call), "stuck" (always 0 bytes),
 *                       "none" (-ENODEV), "fail" (-EIO)
 *   rngstub.calls()     how many times the source was read
 */
#include <errno.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "runtime.h"

enum mode { OK, PARTIAL, STUCK, NONE, FAIL };

static const char *const mode_names[] = { "ok", "partial", "stuck", "none",
					  "fail", NULL };
static enum mode mode;
static lua_Integer calls;
static uint64_t state;

static uint64_t next(void)
{
	if (state == 0)
		state = plat_monotonic_ns() | 1;
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545f4914f6cdd1dull;
}

long rt_entropy_read(void *buf, size_t len)
{
	unsigned char *p = buf;

	calls++;
	switch (mode) {
	case NONE:
		return -ENODEV;
	case FAIL:
		return -EIO;
	case STUCK:
		return 0;
	case PARTIAL:
		if (calls % 2)
			return 0;
		if (len > 5)
			len = 5;
		break;
	case OK:
		break;
	}
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(next() >> 56);
	return (long)len;
}

static int m_set(lua_State *L)
{
	mode = (enum mode)luaL_checkoption(L, 1, NULL, mode_names);
	return 0;
}

static int m_calls(lua_State *L)
{
	lua_pushinteger(L, calls);
	return 1;
}

static const luaL_Reg funcs[] = {
	{ "set", m_set },
	{ "calls", m_calls },
	{ NULL, NULL },
};

static int luaopen_rngstub(lua_State *L)
{
	luaL_newlib(L, funcs);
	return 1;
}

RT_MODULE("rngstub", luaopen_rngstub);
