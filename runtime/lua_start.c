/*
 * lua_start.c -- the Lua VM as lunik runs it.
 *
 * Creates the state with the standard libraries docs/design.md allows (no
 * os.execute, io.popen, temp files or binary chunks), makes `require`,
 * `loadfile` and `dofile` read the ROM (the app's modules first, then
 * stdlib's), registers the C bindings linked into the image in
 * package.preload, makes a require of a module the build left out say
 * how to put it in (.lunik/omitted), and runs the
 * entry script (app/main.lua, or the one named by the ROM's .lunik/entry,
 * as `lunik test` sets) as the first task of the event loop (loop.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "internal.h"
#include "runtime.h"

#define ROM_PATH "/app/?.lua;/app/?/init.lua;/stdlib/?.lua;/stdlib/?/init.lua"
#define ENTRY_FILE ".lunik/entry"
#define OMITTED_FILE ".lunik/omitted"
#define BYTECODE_FILE ".lunik/bytecode"
#define DEFAULT_ENTRY "app/main.lua"

/* The linker set of RT_MODULE entries: GNU ld names the bounds of a
 * section whose name is a C identifier (kernel/link.ld keeps the names). */
extern const struct rt_module __start_lunik_modules[], __stop_lunik_modules[];

/* Whether (name) is a line of ROM file (list), one of lunik build's
 * (tools/lunikcli/image.py): .lunik/omitted, .lunik/bytecode. */
static bool rom_lists(const char *list, const char *name, size_t len)
{
	struct rom_file f;
	const char *p, *end;

	if (rom_find(&rt_rom, list, strlen(list), &f) != ROM_OK)
		return false;
	for (p = (const char *)f.data, end = p + f.size; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		if (n == len && memcmp(p, name, len) == 0)
			return true;
		p += n + 1;
	}
	return false;
}

/* Where the chunk of a file's (size) bytes at (p) starts, as stock Lua's
 * luaL_loadfilex skips: a UTF-8 byte-order mark, then a first line that
 * starts with '#' (a "#!/usr/bin/env lua" line), whose newline is kept so
 * line numbers stay those of the file. */
static size_t chunk_start(const char *p, size_t size)
{
	size_t i = 0;

	if (size >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	if (i < size && p[i] == '#') {
		const char *nl = memchr(p + i, '\n', size - i);
		i = nl ? (size_t)(nl - p) : size;
	}
	return i;
}

/* Loads ROM file (name) as a chunk; its chunk name drops the "app/"
 * prefix so messages read "main.lua:3:". A file listed in .lunik/bytecode
 * is bytecode the build compiled from the app's or the stdlib's source
 * with the host's Lua of this version and configuration (its chunk names
 * already so); every other file loads as text only, so an app's own
 * binary chunks stay refused. Returns a lua_load status with the chunk or
 * a message pushed. */
static int load_rom(lua_State *L, const char *name, size_t len,
		    const struct rom_file *f)
{
	bool built = rom_lists(BYTECODE_FILE, name, len);
	const char *shown = strncmp(name, "app/", 4) == 0 ? name + 4 : name;
	const char *chunkname = lua_pushfstring(L, "@%s", shown);
	size_t skip = chunk_start((const char *)f->data, f->size);
	int status = luaL_loadbufferx(L, (const char *)f->data + skip,
				      f->size - skip, chunkname,
				      built ? "b" : "t");

	lua_remove(L, -2);
	return status;
}

/* Resolves a Lua-visible path and loads it; pushes the chunk or a message. */
static int load_path(lua_State *L, const char *path)
{
	char name[512];
	int n = rt_path_to_rom(path, name, sizeof(name));
	struct rom_file f;

	if (n < 0 || rom_find(&rt_rom, name, (size_t)n, &f) != ROM_OK) {
		lua_pushfstring(L, "cannot open %s: no such file in the image",
				path);
		return LUA_ERRFILE;
	}
	return load_rom(L, name, (size_t)n, &f);
}

/* package.searchers[2]: modules along package.path, looked up in the ROM.
 * Not found, it returns what it tried as stock Lua's searcher does,
 * "no file 'A'\n\tno file 'B'": require puts each searcher's message on a
 * line of its own. */
static int searcher_rom(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const char *path, *modpath;
	luaL_Buffer tried;

	lua_getfield(L, lua_upvalueindex(1), "path");
	path = lua_tostring(L, -1);
	if (!path)
		return luaL_error(L, "'package.path' must be a string");
	modpath = luaL_gsub(L, name, ".", "/");
	luaL_buffinit(L, &tried);
	while (*path) {
		const char *end = strchr(path, ';');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		const char *file;
		char rom_name[512];
		struct rom_file f;
		int n;

		lua_pushlstring(L, path, len);
		file = luaL_gsub(L, lua_tostring(L, -1), "?", modpath);
		lua_remove(L, -2);
		n = rt_path_to_rom(file, rom_name, sizeof(rom_name));
		if (n > 0 && rom_find(&rt_rom, rom_name, (size_t)n, &f) == ROM_OK) {
			if (load_rom(L, rom_name, (size_t)n, &f) != LUA_OK)
				return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s",
						  name, file, lua_tostring(L, -1));
			lua_pushstring(L, file);
			return 2;
		}
		lua_pushfstring(L, "%sno file '%s'",
				luaL_bufflen(&tried) ? "\n\t" : "", file);
		lua_remove(L, -2);
		luaL_addvalue(&tried);
		path += len + (end != NULL);
	}
	luaL_pushresult(&tried);
	return 1;
}

/* package.searchers[3]: after the preload and ROM searchers found
 * nothing, a module the build left out raises an error that says how to
 * put it in; any other name is not found as usual. */
static int searcher_omitted(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);

	if (!rom_lists(OMITTED_FILE, name, strlen(name)))
		return 0;
	return luaL_error(L, "module '%s' is not in this image: lunik build "
			     "left it out, as nothing in the app's "
			     "code names it (build with --include %s)",
			  name, name);
}

/* load(chunk [, chunkname [, mode [, env]]]): text chunks only. */
static int m_load(lua_State *L)
{
	const char *mode = luaL_optstring(L, 3, "bt");
	lua_CFunction orig = lua_tocfunction(L, lua_upvalueindex(1));

	if (!strchr(mode, 't')) {
		luaL_pushfail(L);
		lua_pushliteral(L, "binary chunks are not supported");
		return 2;
	}
	if (lua_gettop(L) < 3)
		lua_settop(L, 3);
	lua_pushliteral(L, "t");
	lua_replace(L, 3);
	return orig(L);
}

/* loadfile(filename [, mode [, env]]): a ROM file, as a text chunk. */
static int m_loadfile(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *mode = luaL_optstring(L, 2, "bt");
	int has_env = !lua_isnone(L, 3);

	if (!strchr(mode, 't')) {
		luaL_pushfail(L);
		lua_pushliteral(L, "binary chunks are not supported");
		return 2;
	}
	if (load_path(L, path) != LUA_OK) {
		luaL_pushfail(L);
		lua_insert(L, -2);
		return 2;
	}
	if (has_env) {
		lua_pushvalue(L, 3);
		if (!lua_setupvalue(L, -2, 1))
			lua_pop(L, 1);
	}
	return 1;
}

static int dofile_done(lua_State *L, int status, lua_KContext ctx)
{
	return lua_gettop(L) - 1;
}

/* dofile(filename): runs a ROM file; errors propagate. */
static int m_dofile(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);

	lua_settop(L, 1);
	if (load_path(L, path) != LUA_OK)
		return lua_error(L);
	lua_callk(L, 0, LUA_MULTRET, 0, dofile_done);
	return dofile_done(L, 0, 0);
}

static void remove_fields(lua_State *L, const char *lib, const char *const *names)
{
	lua_getglobal(L, lib);
	for (; *names; names++) {
		lua_pushnil(L);
		lua_setfield(L, -2, *names);
	}
	lua_pop(L, 1);
}

static void wrap_global(lua_State *L, const char *name, lua_CFunction fn)
{
	lua_getglobal(L, name);
	lua_pushcclosure(L, fn, 1);
	lua_setglobal(L, name);
}

static void sandbox(lua_State *L)
{
	static const char *const os_gone[] = { "execute", "remove", "rename",
					       "tmpname", "setlocale", NULL };
	static const char *const io_gone[] = { "popen", "tmpfile", NULL };
	static const char *const package_gone[] = { "loadlib", NULL };

	remove_fields(L, "os", os_gone);
	remove_fields(L, "io", io_gone);
	remove_fields(L, "package", package_gone);
	wrap_global(L, "load", m_load);
	lua_register(L, "loadfile", m_loadfile);
	lua_register(L, "dofile", m_dofile);
}

static void setup_package(lua_State *L)
{
	lua_getglobal(L, "package");
	lua_pushliteral(L, ROM_PATH);
	lua_setfield(L, -2, "path");
	lua_pushliteral(L, "");
	lua_setfield(L, -2, "cpath");

	/* searchers: Lua's preload searcher, then the ROM, then the modules
	 * the build left out; no C loaders */
	lua_createtable(L, 3, 0);
	lua_getfield(L, -2, "searchers");
	lua_rawgeti(L, -1, 1);
	lua_rawseti(L, -3, 1);
	lua_pop(L, 1);
	lua_pushvalue(L, -2);
	lua_pushcclosure(L, searcher_rom, 1);
	lua_rawseti(L, -2, 2);
	lua_pushcfunction(L, searcher_omitted);
	lua_rawseti(L, -2, 3);
	lua_setfield(L, -2, "searchers");

	lua_getfield(L, -1, "preload");
	for (const struct rt_module *m = __start_lunik_modules;
	     m < __stop_lunik_modules; m++) {
		lua_pushcfunction(L, m->open);
		lua_setfield(L, -2, m->name);
	}
	lua_pop(L, 2);
}

static int at_panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);

	plat_panic(__FILE__, __LINE__, msg ? msg : "unprotected Lua error");
}

/* Loads the entry script: .lunik/entry names it, else app/main.lua. */
static int load_entry(lua_State *L)
{
	char name[256] = DEFAULT_ENTRY;
	struct rom_file f;

	if (rom_find(&rt_rom, ENTRY_FILE, strlen(ENTRY_FILE), &f) == ROM_OK) {
		size_t n = f.size < sizeof(name) - 1 ? f.size : sizeof(name) - 1;
		memcpy(name, f.data, n);
		name[n] = '\0';
	}
	if (rom_find(&rt_rom, name, strlen(name), &f) != ROM_OK) {
		lua_pushfstring(L, "the image has no %s", name);
		return LUA_ERRFILE;
	}
	return load_rom(L, name, strlen(name), &f);
}

/* The status line (stdlib/lunik/status.lua) of the boot argument
 * lunik.status=SECONDS, as a daemon task: it does not keep the machine
 * running. */
static void start_status(lua_State *L)
{
	const char *every = getenv("lunik.status");

	if (!every || !*every)
		return;
	lua_getglobal(L, "require");
	lua_pushliteral(L, "lunik.status");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		fprintf(stderr, "lunik: no status line: %s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
		return;
	}
	lua_pushstring(L, every);
	rt_spawn(L, 1);
	rt_task_daemon(rt_check_task(L, -1));
	lua_pop(L, 1);
}

int lua_start_run(void)
{
	lua_State *L = luaL_newstate();
	int status;

	if (!L) {
		fprintf(stderr, "lunik: not enough memory for the Lua state\n");
		return 1;
	}
	lua_atpanic(L, at_panic);
	luaL_openlibs(L);
	sandbox(L);
	setup_package(L);
	sched_init(L);
	coro_init(L);
	lua_random_init(L);
	shutdown_init(L);
	rt_mark("lua");

	if (load_entry(L) != LUA_OK) {
		fprintf(stderr, "lunik: %s\n", lua_tostring(L, -1));
		return 1;
	}
	rt_spawn(L, 0); /* main.lua is task 1 */
	lua_pop(L, 1);
	start_status(L);
	rt_mark("main.lua");
	status = rt_loop_run(L);
	return status;
}
