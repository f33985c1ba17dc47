/*
 * stack.h -- the harness of the whole-stack fuzz targets (stack_*.c):
 * the real runtime (the hosted platform's sanitizer variant, build/hosted-asan,
 * compiled with libFuzzer's coverage) runs a Lua app of apps/NAME on a
 * thread of its own, and each input goes to that app through the "fuzz"
 * module: fuzz.next() blocks the app's task until libFuzzer has an input
 * and returns it, fuzz.done() hands control back. What the app does with
 * the bytes (send them on a TCP connection into an http.app, write them
 * as a disk image and recover a kv store from it) runs through lwIP,
 * mbedTLS, the bindings and the stdlib exactly as in a guest.
 *
 * One thread runs the runtime at a time: libFuzzer's waits while the app
 * works. The runtime sleeps in plat_wait; clock_event() (hosted/clock.c,
 * safe from any thread) wakes it for a new input. A crash, a sanitizer
 * finding, a panic or the runtime ending (its status becomes the
 * process's) is a crash to libFuzzer.
 *
 * A target defines STACK_ARGS, the hosted options and boot arguments
 * ({"--net", "none", "--", "log=off"}), then includes this file.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "hosted.h"
#include "runtime.h"

static pthread_mutex_t stack_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stack_cv = PTHREAD_COND_INITIALIZER;
static const uint8_t *stack_data;
static size_t stack_size;
static int stack_have, stack_finished;
static struct rt_waitq stack_waiters;

static void stack_poll(void)
{
	if (__atomic_load_n(&stack_have, __ATOMIC_ACQUIRE))
		rt_wake_all(&stack_waiters);
}

static int m_next(lua_State *L);

static int next_k(lua_State *L, int status, intptr_t ctx)
{
	return m_next(L);
}

/* fuzz.next() -> the next input as a string, when libFuzzer has one */
static int m_next(lua_State *L)
{
	if (__atomic_load_n(&stack_have, __ATOMIC_ACQUIRE)) {
		lua_pushlstring(L, (const char *)stack_data, stack_size);
		return 1;
	}
	return rt_wait(L, &stack_waiters, UINT64_MAX, 0, next_k);
}

/* fuzz.done(): the input is finished with; libFuzzer goes on */
static int m_done(lua_State *L)
{
	pthread_mutex_lock(&stack_mu);
	__atomic_store_n(&stack_have, 0, __ATOMIC_RELEASE);
	stack_finished = 1;
	pthread_cond_signal(&stack_cv);
	pthread_mutex_unlock(&stack_mu);
	return 0;
}

static int luaopen_fuzz(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "next", m_next },
		{ "done", m_done },
		{ NULL, NULL },
	};

	rt_add_poller(stack_poll, NULL);
	luaL_newlib(L, funcs);
	return 1;
}

RT_MODULE("fuzz", luaopen_fuzz);

static void *stack_thread(void *arg)
{
	static char *argv[] = { "fuzz", STACK_ARGS, NULL };

	hosted_main((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64u << 20);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, stack_thread, NULL))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pthread_mutex_lock(&stack_mu);
	stack_data = data;
	stack_size = size;
	stack_finished = 0;
	__atomic_store_n(&stack_have, 1, __ATOMIC_RELEASE);
	clock_event();
	while (!stack_finished)
		pthread_cond_wait(&stack_cv, &stack_mu);
	pthread_mutex_unlock(&stack_mu);
	return 0;
}
