/*
 * ksyms.h -- the symbol table panics print backtraces with.
 *
 * The image carries it in the section ".ksyms", last, at __ksyms_start
 * (link.ld), loaded by the PT_LOAD link.ld keeps empty for it. It is not
 * linked: an image is linked once, without it, and the host tool
 * (tools/lunikcli/elf.py) appends the table it makes from that link's
 * symbols; nothing else moves. Without a table backtraces show bare
 * addresses.
 *
 * Format, little-endian, no padding anywhere:
 *
 *   header   char     magic[4]     "KSYM" (no NUL)
 *            uint32_t count        number of entries
 *            uint32_t size         bytes of the whole table, header
 *                                  included: where the image ends
 *   entries  count times, sorted by addr ascending (12 bytes each):
 *            uint32_t addr         the symbol's address in the image
 *                                  (images live below 4 GiB, link.ld)
 *            uint32_t name_off     offset of its name, counted from the
 *                                  first byte after the last entry
 *            uint32_t size         its size in bytes; 0 if unknown
 *   names    NUL-terminated strings, in any order; entries may share one
 *
 * So the names start at byte 12 + 12 * count of the section. Only code
 * symbols are useful (nm types t, T, w, W). A table that does not fit the
 * section, or whose magic differs, is ignored.
 */
#ifndef LUNIK_KSYMS_H
#define LUNIK_KSYMS_H

#include <stdbool.h>
#include <stdint.h>

struct ksyms_header {
	char magic[4];
	uint32_t count;
	uint32_t size;
};

struct ksyms_entry {
	uint32_t addr;
	uint32_t name_off;
	uint32_t size;
};

/* Finds the symbol that holds (addr): sets (*name) and (*off), the offset
 * of addr into it, and returns true; false if no symbol holds addr (or
 * the image has no table). Safe in a panic: no allocation, no locks. */
bool ksyms_lookup(uintptr_t addr, const char **name, uintptr_t *off);

/* The bytes of the table at __ksyms_start (its header's size), 0 if
 * there is none: where the image ends, for mmu.c. */
size_t ksyms_bytes(void);

#endif
