/*
 * test_rom.c -- the ROM archive: packing and reading back, nested paths,
 * empty files, directory queries, bad names, determinism, and rejection of
 * every truncation and every single-byte corruption.
 *
 * sources: tools/rompack.c runtime/rom.c
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "rom.h"
#include "rompack.h"

static const struct {
	const char *name;
	const char *data;
} files[] = {
	{ "app/main.lua", "print('hi')\n" },
	{ "app/lib/deep/er/mod.lua", "return 42\n" },
	{ "app/empty.txt", "" },
	{ "app/lib.lua", "return 'file beside a folder of the same stem'\n" },
	{ "app/lib-x/a", "dash sorts before slash" },
	{ "stdlib/test.lua", "return {}\n" },
};
#define NFILES (sizeof(files) / sizeof(files[0]))

static uint8_t *pack_all(size_t *len, int reverse)
{
	struct rompack *p = rompack_new();
	uint8_t *buf = NULL;

	for (size_t i = 0; i < NFILES; i++) {
		size_t k = reverse ? NFILES - 1 - i : i;
		if (rompack_add(p, files[k].name, files[k].data,
				strlen(files[k].data)))
			printf("# add %s: %s\n", files[k].name, rompack_error(p));
	}
	if (rompack_finish(p, &buf, len))
		printf("# finish: %s\n", rompack_error(p));
	rompack_free(p);
	return buf;
}

static void test_round_trip(void)
{
	size_t len;
	uint8_t *buf = pack_all(&len, 0);
	struct rom rom;
	struct rom_file f;

	CHECK(rom_open(&rom, buf, len) == ROM_OK, "a packed archive opens");
	CHECK(rom.count == NFILES, "it holds %zu files", NFILES);
	for (size_t i = 0; i < NFILES; i++) {
		const char *n = files[i].name;
		int found = rom_find(&rom, n, strlen(n), &f) == ROM_OK;
		CHECK(found && f.size == strlen(files[i].data) &&
			      memcmp(f.data, files[i].data, f.size) == 0,
		      "%s reads back intact", n);
	}
	CHECK(rom_find(&rom, "app/main", 8, &f) == ROM_ENOENT,
	      "a prefix of a name is not found");
	CHECK(rom_find(&rom, "app/nope.lua", 12, &f) == ROM_ENOENT,
	      "a missing name is not found");
	CHECK(rom_is_dir(&rom, "app/lib", 7), "app/lib is a folder");
	CHECK(rom_is_dir(&rom, "app/lib/deep", 12), "nested folders are folders");
	CHECK(!rom_is_dir(&rom, "app/main.lua", 12), "a file is not a folder");
	CHECK(!rom_is_dir(&rom, "app/li", 6), "a name prefix is not a folder");
	for (uint32_t i = 1; i < rom.count; i++) {
		struct rom_file a, b;
		rom_entry(&rom, i - 1, &a);
		rom_entry(&rom, i, &b);
		if (strcmp(a.name, b.name) >= 0)
			CHECK(0, "entries sorted at %u", i);
	}
	free(buf);
}

static void test_deterministic(void)
{
	size_t l1, l2;
	uint8_t *a = pack_all(&l1, 0), *b = pack_all(&l2, 1);

	CHECK(l1 == l2 && memcmp(a, b, l1) == 0,
	      "the same files in another order give the same bytes");
	free(a);
	free(b);
}

static void test_truncation(void)
{
	size_t len, bad = 0;
	uint8_t *buf = pack_all(&len, 0);
	struct rom rom;

	for (size_t n = 0; n < len; n++) {
		int err = rom_open(&rom, buf, n);
		if (err != ROM_ETRUNC)
			bad++;
	}
	CHECK(bad == 0, "every one of %zu truncations is rejected as truncated", len);
	free(buf);
}

static void test_corruption(void)
{
	size_t len, accepted = 0;
	uint8_t *buf = pack_all(&len, 0);
	struct rom rom;

	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1 << bit);
			if (rom_open(&rom, buf, len) == ROM_OK)
				accepted++;
			buf[i] ^= (uint8_t)(1 << bit);
		}
	}
	CHECK(accepted == 0, "all %zu single-bit flips are rejected", len * 8);
	CHECK(rom_open(&rom, "#!/bin/sh\necho not a rom archive\n", 33) ==
		      ROM_EMAGIC,
	      "a file that is no archive is rejected as such");
	buf[8] = 9;
	CHECK(rom_open(&rom, buf, len) == ROM_EVERSION,
	      "an unknown version is rejected");
	CHECK(strstr(rom_strerror(ROM_ECRC), "corrupt") != NULL,
	      "the corruption message says so: %s", rom_strerror(ROM_ECRC));
	free(buf);
}

static void test_bad_names(void)
{
	static const char *bad[] = { "", "/abs", "a/../b", "a//b", "./a",
				     "a/", "..", "a/." };
	struct rompack *p = rompack_new();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(rompack_add(p, bad[i], "x", 1) == -1,
		      "name '%s' is refused", bad[i]);
	CHECK(rompack_add(p, "a", "x", 1) == 0 && rompack_add(p, "a", "y", 1) == -1 &&
		      strstr(rompack_error(p), "duplicate"),
	      "a duplicate name is refused");
	rompack_free(p);
}

static void test_empty_archive(void)
{
	struct rompack *p = rompack_new();
	struct rom rom;
	struct rom_file f;
	uint8_t *buf;
	size_t len;

	CHECK(rompack_finish(p, &buf, &len) == 0 && rom_open(&rom, buf, len) == ROM_OK &&
		      rom.count == 0 && rom_find(&rom, "a", 1, &f) == ROM_ENOENT,
	      "an empty archive is valid and finds nothing");
	free(buf);
	rompack_free(p);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

/* Files come from the host by path; which files of an app folder go in
 * is decided by tools/lunikcli/rom.py (tests/cli/test_rom.py). */
static void test_add_file(void)
{
	char dir[] = "/tmp/lunik-rom-XXXXXX", path[256];
	struct rompack *p = rompack_new();
	struct rom rom;
	struct rom_file f;
	uint8_t *buf;
	size_t len;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/x.lua", dir);
	write_file(path, "x");
	CHECK(rompack_add_file(p, "app/sub/inner/x.lua", path) == 0,
	      "a host file packs under any name");
	snprintf(path, sizeof(path), "%s/empty", dir);
	write_file(path, "");
	CHECK(rompack_add_file(p, "app/empty", path) == 0, "an empty file packs");
	rompack_finish(p, &buf, &len);
	CHECK(rom_open(&rom, buf, len) == ROM_OK && rom.count == 2,
	      "it holds both (got %u files)", rom.count);
	CHECK(rom_find(&rom, "app/sub/inner/x.lua", 19, &f) == ROM_OK && f.size == 1 &&
		      f.data[0] == 'x',
	      "nested names keep their path");
	CHECK(rom_find(&rom, "app/empty", 9, &f) == ROM_OK && f.size == 0,
	      "an empty file is kept, empty");
	CHECK(rompack_add_file(p, "x", "/nonexistent/lunik") == -1 &&
		      strstr(rompack_error(p), "No such file"),
	      "a missing file is a clear error: %s", rompack_error(p));
	CHECK(rompack_add_file(p, "app/dir", dir) == -1,
	      "a folder is not a file: %s", rompack_error(p));
	free(buf);
	rompack_free(p);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path))
		printf("# cleanup failed\n");
}

int main(void)
{
	test_round_trip();
	test_deterministic();
	test_truncation();
	test_corruption();
	test_bad_names();
	test_empty_archive();
	test_add_file();
	CHECK_EXIT();
}
