/*
 * path.c -- how Lua-visible paths name ROM files (contract in runtime.h).
 * Pure string work, so host unit tests build it too.
 */
#include <string.h>

#include "runtime.h"

int rt_path_to_rom(const char *path, char *out, size_t size)
{
	size_t n = 0;
	const char *p = path;

	if (*p == '/') {
		p++;
	} else {
		if (size < 4)
			return -1;
		memcpy(out, "app", 3);
		n = 3;
	}
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 0 || (len == 1 && p[0] == '.')) {
			/* empty or "." part: nothing to add */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (n == 0)
				return -1;
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
		} else {
			if (n + (n > 0) + len + 1 > size)
				return -1;
			if (n > 0)
				out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len + (end != NULL);
	}
	out[n] = '\0';
	return (int)n;
}
