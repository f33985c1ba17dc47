/*
 * args.c -- the boot arguments: the kernel command line split into words.
 *
 * A word is "key=value" or a bare "flag"; double quotes group spaces into a
 * value (msg="hello world") and are removed. The "key=value" words become
 * both the environment (os.getenv) and sys.args; bare words are true in
 * sys.args.
 *
 * Words a loader adds for the kernel are left out of both: the
 * "virtio_mmio.device=" words naming virtio transports (QEMU's microvm
 * with ACPI off, Firecracker). sys.cmdline still shows the whole line.
 */
#include <stdlib.h>
#include <string.h>

#include <lua.h>

#include "internal.h"
#include "runtime.h"

extern char **environ;

/* Copies the next word of (*p) into (out) (size >= 1), unquoting, and
 * advances (*p). Returns 0 when no word is left. Words longer than the
 * buffer are cut. */
static int next_word(const char **p, char *out, size_t size)
{
	const char *s = *p;
	size_t n = 0;
	int quoted = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (!*s)
		return 0;
	for (; *s && (quoted || (*s != ' ' && *s != '\t' && *s != '\n')); s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (n + 1 < size)
			out[n++] = *s;
	}
	out[n] = '\0';
	*p = s;
	return 1;
}

/* Whether (word) is meant for the kernel, not the app. */
static int kernel_word(const char *word)
{
	static const char *const prefixes[] = { "virtio_mmio.device=" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(word, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

void rt_args_to_environ(void)
{
	static char *empty[1];
	const char *p = plat_cmdline();
	size_t n = 0, cap = 8;
	char **env = malloc(cap * sizeof(*env));
	char word[1024];

	environ = empty;
	if (!env)
		return;
	while (next_word(&p, word, sizeof(word))) {
		if (!strchr(word, '=') || kernel_word(word))
			continue;
		if (n + 1 == cap) {
			char **bigger = realloc(env, 2 * cap * sizeof(*env));
			if (!bigger)
				break;
			env = bigger;
			cap *= 2;
		}
		if (!(env[n] = strdup(word)))
			break;
		n++;
	}
	env[n] = NULL;
	environ = env;
}

void rt_push_args(lua_State *L)
{
	const char *p = plat_cmdline();
	char word[1024];

	lua_newtable(L);
	while (next_word(&p, word, sizeof(word))) {
		char *eq = strchr(word, '=');

		if (kernel_word(word))
			continue;
		if (eq) {
			lua_pushlstring(L, word, (size_t)(eq - word));
			lua_pushstring(L, eq + 1);
		} else {
			lua_pushstring(L, word);
			lua_pushboolean(L, 1);
		}
		lua_rawset(L, -3);
	}
}
