/*
 * lunik-pack -- writes and reads ROM archives (runtime/rom.h) for the
 * lunik command (tools/lunikcli/).
 *
 *   lunik-pack -o OUT [--file NAME=PATH]... [--entry NAME]
 *       packs the files given (which files of an app folder go in is
 *       decided once, by tools/lunikcli/rom.py); --entry records which
 *       ROM file the image runs instead of app/main.lua. The archive is
 *       read back and checked before it is written.
 *   lunik-pack --ls FILE|-
 *       checks an archive with the guest's own reader (runtime/rom.c) and
 *       prints one line per file: offset, size and name, tab-separated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rom.h"
#include "rompack.h"

static void usage(void)
{
	fprintf(stderr, "usage: lunik-pack -o OUT [--file NAME=PATH]... "
			"[--entry NAME]\n"
			"       lunik-pack --ls FILE|-\n");
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

/* Reads all of (f) into a malloc'd buffer; NULL when out of memory or on
 * a read error. */
static uint8_t *slurp(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0, got;
	uint8_t *buf = malloc(cap);

	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			uint8_t *b = realloc(buf, cap *= 2);
			if (!b)
				free(buf);
			buf = b;
		}
	}
	if (buf && ferror(f)) {
		free(buf);
		buf = NULL;
	}
	*len = n;
	return buf;
}

static int list(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct rom rom;
	size_t len;
	uint8_t *buf;
	int err;

	if (!f) {
		fprintf(stderr, "lunik-pack: cannot open %s\n", path);
		return 1;
	}
	buf = slurp(f, &len);
	if (f != stdin)
		fclose(f);
	if (!buf) {
		fprintf(stderr, "lunik-pack: cannot read %s\n", path);
		return 1;
	}
	if ((err = rom_open(&rom, buf, len))) {
		fprintf(stderr, "lunik-pack: %s\n", rom_strerror(err));
		free(buf);
		return 1;
	}
	for (uint32_t i = 0; i < rom.count; i++) {
		struct rom_file e;

		rom_entry(&rom, i, &e);
		printf("%lu\t%lu\t%.*s\n", (unsigned long)(e.data - buf),
		       (unsigned long)e.size, (int)e.name_len, e.name);
	}
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	struct rompack *p;
	const char *out = NULL;
	uint8_t *buf;
	size_t len;
	struct rom rom;
	FILE *f;
	int err;

	if (argc == 3 && strcmp(argv[1], "--ls") == 0)
		return list(argv[2]);
	if (!(p = rompack_new()))
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		int rc = 0;

		if (i + 1 >= argc)
			usage();
		if (strcmp(opt, "-o") == 0) {
			out = argv[++i];
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
