/*
 * fault.c -- a test-only Lua module ("fault") linked into test images with
 * `lunik build --link`, to prove that memory protection holds and that a
 * fault ends in a readable panic report, and (linked into a --hosted-asan
 * executable, build/hosted-asan/tests/) that the sanitizers report what
 * the guest cannot see. Never part of a normal image.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "runtime.h"

/* Writes into the code of this very function: text is read+execute only. */
static int m_write_text(lua_State *L)
{
	volatile unsigned char *code = (volatile unsigned char *)(uintptr_t)m_write_text;

	code[0] = 0xc3;
	return 0;
}

/* Copies a `ret` into the heap and calls it: the heap is no-execute. */
static int m_exec_heap(lua_State *L)
{
	unsigned char *p = malloc(16);
	void (*fn)(void);

	memset(p, 0xc3, 16);
	fn = (void (*)(void))(uintptr_t)p;
	fn();
	return 0;
}

/* Reads page 0, which is never mapped. */
static int m_null(lua_State *L)
{
	volatile int *p = (volatile int *)(uintptr_t)lua_tointeger(L, 1);

	lua_pushinteger(L, *p);
	return 1;
}

/* Recurses until the stack runs into its guard page. */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int __attribute__((noinline)) deep(volatile char *prev)
{
	volatile char frame[512];

	frame[0] = prev ? prev[0] + 1 : 0;
	return deep(frame) + frame[1];
}

static int m_stack_overflow(lua_State *L)
{
	lua_pushinteger(L, deep(NULL));
	return 1;
}

/* Writes a byte past the end of a heap block: memory protection can't
 * see it; the hosted platform's AddressSanitizer does. */
static int m_heap_overflow(lua_State *L)
{
	size_t n = (size_t)luaL_optinteger(L, 1, 16);
	volatile char *p = malloc(n);

	if (!p)
		return luaL_error(L, "out of memory");
	p[n] = 1;
	free((void *)p);
	return 0;
}

/* Signed overflow, undefined in C: UBSan's to find. */
static int m_int_overflow(lua_State *L)
{
	volatile int x = (int)luaL_optinteger(L, 1, 0x7fffffff);

	lua_pushinteger(L, x + 1);
	return 1;
}

static int m_panic(lua_State *L)
{
	plat_panic(__FILE__, __LINE__, luaL_optstring(L, 1, "test panic"));
}

static const luaL_Reg funcs[] = {
	{ "write_text", m_write_text },
	{ "exec_heap", m_exec_heap },
	{ "null", m_null },
	{ "stack_overflow", m_stack_overflow },
	{ "panic", m_panic },
	{ "heap_overflow", m_heap_overflow },
	{ "int_overflow", m_int_overflow },
	{ NULL, NULL },
};

static int luaopen_fault(lua_State *L)
{
	luaL_newlib(L, funcs);
	return 1;
}

RT_MODULE("fault", luaopen_fault);
