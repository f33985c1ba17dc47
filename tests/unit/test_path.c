/*
 * test_path.c -- how Lua-visible paths map to ROM names (runtime/path.c).
 *
 * sources: runtime/path.c
 */
#include <string.h>

#include "check.h"
#include "runtime.h"

static const struct {
	const char *path;
	const char *name; /* NULL: refused */
} cases[] = {
	{ "main.lua", "app/main.lua" },
	{ "./data/x.txt", "app/data/x.txt" },
	{ "data//x.txt", "app/data/x.txt" },
	{ "/app/main.lua", "app/main.lua" },
	{ "/stdlib/test.lua", "stdlib/test.lua" },
	{ "lib/../main.lua", "app/main.lua" },
	{ "../stdlib/test.lua", "stdlib/test.lua" },
	{ "/app/../../etc", NULL },
	{ "/..", NULL },
	{ ".", "app" },
	{ "/", "" },
};

int main(void)
{
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = rt_path_to_rom(cases[i].path, out, sizeof(out));
		if (cases[i].name)
			CHECK(n == (int)strlen(cases[i].name) && strcmp(out, cases[i].name) == 0,
			      "'%s' -> '%s' (got '%s')", cases[i].path, cases[i].name,
			      n < 0 ? "refused" : out);
		else
			CHECK(n < 0, "'%s' is refused", cases[i].path);
	}
	CHECK(rt_path_to_rom("a/very/long/path/that/does/not/fit/in/the/buffer/at/all",
			     out, 16) < 0,
	      "a name that does not fit is refused");
	CHECK_EXIT();
}
