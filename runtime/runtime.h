/*
 * runtime.h -- what runtime/ offers bindings/: the mounted ROM, path
 * resolution, the boot timeline, memory figures, waiting, and the linker set
 * through which bindings register their Lua modules.
 *
 * runtime/ turns the platform (kernel/platform.h) into a C environment for
 * newlib and Lua. Bindings use this header and the platform header; nothing
 * else below them.
 */
#ifndef LUNIK_RUNTIME_H
#define LUNIK_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"
#include "rom.h"

struct lua_State;

/* The image's read-only archive, mounted at boot. */
extern struct rom rt_rom;

/* Maps a path as Lua code sees it to a ROM name: relative paths are under
 * the app ("data/x.txt" -> "app/data/x.txt"), "/app/..." and "/stdlib/..."
 * are absolute; "." and ".." are folded. Writes the NUL-terminated name to
 * (out) of (size) bytes and returns its length, or -1 if it escapes the ROM
 * root or does not fit. */
int rt_path_to_rom(const char *path, char *out, size_t size);

/* Records boot phase (name) (a string literal) at the current time. */
void rt_mark(const char *name);

/* Fills (out) with up to (max) phases, kernel's first, and returns the
 * total number of phases. */
size_t rt_timeline(struct plat_phase *out, size_t max);

/* Heap figures in bytes. */
struct rt_mem {
	size_t total;   /* RAM given to the heap */
	size_t brk;     /* taken from it so far by malloc (high-water mark) */
	size_t in_use;  /* held by live allocations */
};
void rt_mem(struct rt_mem *m);

/* Halts until plat_monotonic_ns() >= (deadline_ns). */
void rt_sleep_until(uint64_t deadline_ns);

/* The boot arguments as a table: "key=value" words as strings, bare words
 * as true. Pushes it on (L)'s stack. */
void rt_push_args(struct lua_State *L);

/* A Lua module written in C, registered in package.preload at start-up.
 * Declare one per module with RT_MODULE("name", luaopen_name). */
struct rt_module {
	const char *name;
	int (*open)(struct lua_State *L);
};

#define RT_MODULE(modname, fn)                                              \
	static const struct rt_module rt_module_##fn                        \
		__attribute__((used, section("lunik_modules"), aligned(8))) = { \
			modname, fn                                         \
		}

#endif
