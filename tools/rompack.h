/*
 * rompack.h -- builds ROM archives (format: runtime/rom.h) on the host.
 *
 * Entries are collected in memory, then sorted and written out; the same
 * inputs always give the same bytes (no time stamps, no host paths).
 */
#ifndef LUNIK_ROMPACK_H
#define LUNIK_ROMPACK_H

#include <stddef.h>
#include <stdint.h>

struct rompack;

/* Returns a new, empty builder, or NULL when out of memory. */
struct rompack *rompack_new(void);
void rompack_free(struct rompack *p);

/* Adds file (name) with (len) bytes of (data), copied. Returns 0, or -1 with
 * a message in rompack_error(p): bad name (empty, absolute, "." or ".."
 * parts, empty parts), duplicate, too large, out of memory. */
int rompack_add(struct rompack *p, const char *name, const void *data,
		size_t len);

/* Adds host file (path) as (name). Returns 0, or -1 with a message. */
int rompack_add_file(struct rompack *p, const char *name, const char *path);

/* Writes the archive to a new malloc'd buffer (*out) of (*len) bytes.
 * Returns 0, or -1 with a message. */
int rompack_finish(struct rompack *p, uint8_t **out, size_t *len);

/* The last error's message. */
const char *rompack_error(const struct rompack *p);

#endif
