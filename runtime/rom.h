/*
 * rom.h -- the ROM archive: the app folder and stdlib/ packed read-only into
 * the image.
 *
 * The same code reads an archive inside the guest (runtime/) and on the host
 * (the packer's self-check, unit tests), so it uses no libc beyond memcmp and
 * allocates nothing. Format, version 1, all integers little-endian:
 *
 *   header, 32 bytes:
 *     char     magic[8]      "LUNIKROM"
 *     uint32_t version       1
 *     uint32_t count         number of files
 *     uint32_t names_off     offset of the name table
 *     uint32_t data_off      offset of the first file's data
 *     uint32_t size          size of the whole archive in bytes
 *     uint32_t crc32         CRC-32 (IEEE 802.3) of bytes [0, 28) and
 *                            [32, size): everything but itself
 *   entries, count x 16 bytes, sorted by name (bytewise), names unique:
 *     uint32_t name_off      from names_off; the name is NUL-terminated
 *     uint32_t name_len      without the NUL
 *     uint32_t off           of the data, from the start of the archive
 *     uint32_t size          of the data
 *   names, then data (each file 8-byte aligned, zero padding).
 *
 * Names are relative paths with '/' separators and no "." or ".." parts
 * ("app/main.lua", "stdlib/test.lua"); directories are implied by names.
 */
#ifndef LUNIK_ROM_H
#define LUNIK_ROM_H

#include <stddef.h>
#include <stdint.h>

#define ROM_MAGIC "LUNIKROM"
#define ROM_VERSION 1
#define ROM_HEADER_SIZE 32
#define ROM_ENTRY_SIZE 16

enum {
	ROM_OK = 0,
	ROM_ETRUNC = -1,    /* shorter than its header says */
	ROM_EMAGIC = -2,    /* not a ROM archive */
	ROM_EVERSION = -3,  /* a version this reader does not know */
	ROM_ECRC = -4,      /* checksum mismatch: corrupt */
	ROM_EBOUNDS = -5,   /* an entry points outside the archive */
	ROM_EORDER = -6,    /* entries not sorted or names repeated */
	ROM_ENOENT = -7,    /* no such file */
};

struct rom {
	const uint8_t *base;
	uint32_t size;
	uint32_t count;
};

struct rom_file {
	const char *name;
	uint32_t name_len;
	const uint8_t *data;
	uint32_t size;
};

/* Checks the archive in [buf, buf+len) and fills (rom). Returns ROM_OK or a
 * negative ROM_E* code; on error (rom) is left empty. */
int rom_open(struct rom *rom, const void *buf, size_t len);

/* A short message for a ROM_E* code. */
const char *rom_strerror(int err);

/* Looks up (name) of (len) bytes exactly (no normalisation). Returns ROM_OK
 * and fills (out), or ROM_ENOENT. */
int rom_find(const struct rom *rom, const char *name, size_t len,
	     struct rom_file *out);

/* Fills (out) with entry (i), 0 <= i < rom->count, in name order. */
void rom_entry(const struct rom *rom, uint32_t i, struct rom_file *out);

/* True when some file lives under directory (dir) of (len) bytes. */
int rom_is_dir(const struct rom *rom, const char *dir, size_t len);

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of (len) bytes, continuing
 * from (crc); start with 0. */
uint32_t rom_crc32(uint32_t crc, const void *buf, size_t len);

/* The checksum an archive of (size) bytes at (archive) must carry. */
uint32_t rom_checksum(const void *archive, uint32_t size);

#endif
