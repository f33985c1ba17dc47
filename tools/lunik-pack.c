/*
 * lunik-pack -- packs folders and files into a ROM archive (runtime/rom.h).
 *
 *   lunik-pack -o OUT [--dir PREFIX=DIR]... [--file NAME=PATH]... [--entry NAME]
 *
 * --entry records which ROM file the image runs instead of app/main.lua.
 * The archive is read back and checked before it is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rom.h"
#include "rompack.h"

static void usage(void)
{
	fprintf(stderr, "usage: lunik-pack -o OUT [--dir PREFIX=DIR]... "
			"[--file NAME=PATH]... [--entry NAME]\n");
	exit(2);
}

static char *split(char *arg, const char *opt)
{
	char *eq = strchr(arg, '=');

	if (!eq) {
		fprintf(stderr, "lunik-pack: %s wants NAME=PATH, got '%s'\n", opt, arg);
		exit(2);
	}
	*eq = '\0';
	return eq + 1;
}

int main(int argc, char **argv)
{
	struct rompack *p = rompack_new();
	const char *out = NULL;
	uint8_t *buf;
	size_t len;
	struct rom rom;
	FILE *f;
	int err;

	if (!p)
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		int rc = 0;

		if (i + 1 >= argc)
			usage();
		if (strcmp(opt, "-o") == 0) {
			out = argv[++i];
		} else if (strcmp(opt, "--dir") == 0) {
			char *dir = split(argv[++i], opt);
			rc = rompack_add_dir(p, argv[i], dir);
		} else if (strcmp(opt, "--file") == 0) {
			char *path = split(argv[++i], opt);
			rc = rompack_add_file(p, argv[i], path);
		} else if (strcmp(opt, "--entry") == 0) {
			const char *e = argv[++i];
			rc = rompack_add(p, ".lunik/entry", e, strlen(e));
		} else {
			usage();
		}
		if (rc) {
			fprintf(stderr, "lunik-pack: %s\n", rompack_error(p));
			return 1;
		}
	}
	if (!out)
		usage();
	if (rompack_finish(p, &buf, &len)) {
		fprintf(stderr, "lunik-pack: %s\n", rompack_error(p));
		return 1;
	}
	if ((err = rom_open(&rom, buf, len))) {
		fprintf(stderr, "lunik-pack: self-check failed: %s\n", rom_strerror(err));
		return 1;
	}
	f = fopen(out, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "lunik-pack: cannot write %s\n", out);
		return 1;
	}
	free(buf);
	rompack_free(p);
	return 0;
}
