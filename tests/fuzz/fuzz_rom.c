/*
 * fuzz_rom.c -- libFuzzer target for the ROM reader (runtime/rom.c), which
 * every image trusts at boot: any bytes, with the CRC field patched to
 * match so that mutations reach the structural checks. An archive that
 * opens must keep its promises: every entry's name and data inside the
 * buffer, each entry found again by its name, its folders seen as such.
 *
 * sources: runtime/rom.c
 */
#include <stdlib.h>
#include <string.h>

#include "rom.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	struct rom rom;

	memcpy(buf, data, size);
	if (size >= ROM_HEADER_SIZE && size <= UINT32_MAX)
		put32(buf + 28, rom_checksum(buf, (uint32_t)size));
	if (rom_open(&rom, buf, size) == ROM_OK) {
		for (uint32_t i = 0; i < rom.count; i++) {
			struct rom_file f, g;
			rom_entry(&rom, i, &f);
			if (f.name < (const char *)buf ||
			    f.name + f.name_len >= (const char *)buf + size ||
			    (f.size && (f.data < buf || f.data + f.size > buf + size)))
				abort();
			if (rom_find(&rom, f.name, f.name_len, &g) != ROM_OK ||
			    g.data != f.data || g.size != f.size)
				abort();
			for (uint32_t j = 1; j < f.name_len; j++)
				if (f.name[j] == '/' &&
				    !rom_is_dir(&rom, f.name, j))
					abort();
		}
	}
	free(buf);
	return 0;
}
