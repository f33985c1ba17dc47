/*
 * rom.c -- reader of the ROM archive (format in rom.h).
 *
 * Validation happens once, in rom_open: header, checksum, then every entry's
 * bounds and order, so that lookups afterwards can trust the index. Lookup is
 * a binary search over the sorted entries. Built for the guest and the host.
 */
#include "rom.h"

#include <string.h>

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Slicing-by-4 tables, built on first use: a 1 MiB archive checks in well
 * under a millisecond at boot. */
static uint32_t crc_table[4][256];
static int crc_ready;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 4; t++)
			crc_table[t][i] = crc_table[0][crc_table[t - 1][i] & 0xff] ^
					  (crc_table[t - 1][i] >> 8);
	crc_ready = 1;
}

uint32_t rom_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!crc_ready)
		crc_init();
	crc = ~crc;
	while (len >= 4) {
		crc ^= get32(p);
		crc = crc_table[3][crc & 0xff] ^ crc_table[2][(crc >> 8) & 0xff] ^
		      crc_table[1][(crc >> 16) & 0xff] ^ crc_table[0][crc >> 24];
		p += 4;
		len -= 4;
	}
	while (len--)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t rom_checksum(const void *archive, uint32_t size)
{
	const uint8_t *p = archive;
	uint32_t crc = rom_crc32(0, p, 28);

	return rom_crc32(crc, p + ROM_HEADER_SIZE, size - ROM_HEADER_SIZE);
}

const char *rom_strerror(int err)
{
	switch (err) {
	case ROM_OK: return "ok";
	case ROM_ETRUNC: return "archive truncated";
	case ROM_EMAGIC: return "not a lunik ROM archive (bad magic)";
	case ROM_EVERSION: return "unsupported ROM archive version";
	case ROM_ECRC: return "ROM archive corrupt (checksum mismatch)";
	case ROM_EBOUNDS: return "ROM archive corrupt (entry out of bounds)";
	case ROM_EORDER: return "ROM archive corrupt (entries out of order)";
	case ROM_ENOENT: return "no such file";
	}
	return "unknown ROM error";
}

static const uint8_t *entry_at(const struct rom *rom, uint32_t i)
{
	return rom->base + ROM_HEADER_SIZE + (size_t)i * ROM_ENTRY_SIZE;
}

void rom_entry(const struct rom *rom, uint32_t i, struct rom_file *out)
{
	const uint8_t *e = entry_at(rom, i);
	uint32_t names_off = get32(rom->base + 16);

	out->name = (const char *)rom->base + names_off + get32(e);
	out->name_len = get32(e + 4);
	out->data = rom->base + get32(e + 8);
	out->size = get32(e + 12);
}

/* Bytewise order, a shorter name before its extensions. */
static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int check_entries(const struct rom *rom, uint32_t names_off,
			 uint32_t data_off)
{
	struct rom_file f, prev = { 0 };

	for (uint32_t i = 0; i < rom->count; i++) {
		const uint8_t *e = entry_at(rom, i);
		uint64_t name_end = (uint64_t)names_off + get32(e) + get32(e + 4);
		uint64_t data_end = (uint64_t)get32(e + 8) + get32(e + 12);

		if (name_end >= data_off || get32(e + 8) < data_off ||
		    data_end > rom->size)
			return ROM_EBOUNDS;
		rom_entry(rom, i, &f);
		if (f.name_len == 0 || f.name[f.name_len] != '\0')
			return ROM_EBOUNDS;
		if (i && name_cmp(prev.name, prev.name_len, f.name,
				  f.name_len) >= 0)
			return ROM_EORDER;
		prev = f;
	}
	return ROM_OK;
}

int rom_open(struct rom *rom, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t count, names_off, data_off, size;
	int err;

	memset(rom, 0, sizeof(*rom));
	if (len < ROM_HEADER_SIZE)
		return len >= 8 && memcmp(p, ROM_MAGIC, 8) ? ROM_EMAGIC : ROM_ETRUNC;
	if (memcmp(p, ROM_MAGIC, 8))
		return ROM_EMAGIC;
	if (get32(p + 8) != ROM_VERSION)
		return ROM_EVERSION;
	count = get32(p + 12);
	names_off = get32(p + 16);
	data_off = get32(p + 20);
	size = get32(p + 24);
	if (size > len)
		return ROM_ETRUNC;
	if (size < ROM_HEADER_SIZE)
		return ROM_EBOUNDS;
	if (rom_checksum(p, size) != get32(p + 28))
		return ROM_ECRC;
	if ((uint64_t)ROM_HEADER_SIZE + (uint64_t)count * ROM_ENTRY_SIZE >
		    names_off ||
	    names_off > data_off || data_off > size)
		return ROM_EBOUNDS;
	rom->base = p;
	rom->size = size;
	rom->count = count;
	err = check_entries(rom, names_off, data_off);
	if (err)
		memset(rom, 0, sizeof(*rom));
	return err;
}

/* Index of the first entry whose name is >= (name). */
static uint32_t lower_bound(const struct rom *rom, const char *name,
			    size_t len)
{
	uint32_t lo = 0, hi = rom->count;
	struct rom_file f;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		rom_entry(rom, mid, &f);
		if (name_cmp(f.name, f.name_len, name, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int rom_find(const struct rom *rom, const char *name, size_t len,
	     struct rom_file *out)
{
	uint32_t i = lower_bound(rom, name, len);

	if (i == rom->count)
		return ROM_ENOENT;
	rom_entry(rom, i, out);
	if (name_cmp(out->name, out->name_len, name, len))
		return ROM_ENOENT;
	return ROM_OK;
}

int rom_is_dir(const struct rom *rom, const char *dir, size_t len)
{
	struct rom_file f;
	uint32_t i;

	if (len == 0)
		return rom->count > 0;
	i = lower_bound(rom, dir, len);
	for (; i < rom->count; i++) {
		rom_entry(rom, i, &f);
		if (f.name_len < len || memcmp(f.name, dir, len))
			return 0;
		if (f.name_len > len && f.name[len] == '/')
			return 1;
		/* "dir" itself, or "dir-x" before "dir/...": keep looking */
		if (f.name_len > len && (unsigned char)f.name[len] > '/')
			return 0;
	}
	return 0;
}
