/*
 * lua_random.c -- math.random seeded from the machine's entropy source.
 *
 * Stock Lua seeds math.random from the time and the address of its state;
 * in a guest that address is the same on every boot, so two guests booted
 * in the same second drew the same numbers. At start-up the generator is
 * seeded here with 128 bits from plat_random instead: RDSEED or RDRAND, or
 * the virtio-rng device, whose first buffer the kernel requested at boot,
 * so this rarely waits. Everything else is stock: math.randomseed(x [, y])
 * gives the same sequence for the same seed on any Lua 5.4, and
 * math.randomseed() reseeds from the time and an address as stock Lua
 * does. When the machine has no entropy source, Lua's own seed stays.
 */
#include <lauxlib.h>
#include <lua.h>

#include "internal.h"
#include "runtime.h"

#define WAIT_NS 50000000ull /* for a virtio-rng that has not answered yet */

/* Fills (buf) with (len) bytes of entropy; false when there is none. */
static bool entropy(void *buf, size_t len)
{
	uint64_t deadline = plat_monotonic_ns() + WAIT_NS;
	size_t have = 0;

	while (have < len) {
		long n = plat_random((char *)buf + have, len - have);

		if (n < 0 || (n == 0 && plat_monotonic_ns() >= deadline))
			return false;
		if (n == 0)
			rt_halt(deadline);
		have += (size_t)n;
	}
	return true;
}

void lua_random_init(lua_State *L)
{
	lua_Integer seed[2];

	if (!entropy(seed, sizeof(seed)))
		return;
	lua_getglobal(L, "math");
	lua_getfield(L, -1, "randomseed");
	lua_pushinteger(L, seed[0]);
	lua_pushinteger(L, seed[1]);
	lua_call(L, 2, 0);
	lua_pop(L, 1);
}
