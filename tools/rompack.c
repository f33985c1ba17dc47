/*
 * rompack.c -- the ROM archive writer (format: runtime/rom.h).
 */
#include "rompack.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rom.h"

#define MAX_NAME 1024
#define MAX_TOTAL 0xffff0000u

struct entry {
	char *name;
	uint8_t *data;
	size_t len;
};

struct rompack {
	struct entry *v;
	size_t n, cap;
	size_t total;
	char err[512];
};

static int fail(struct rompack *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return -1;
}

struct rompack *rompack_new(void)
{
	return calloc(1, sizeof(struct rompack));
}

void rompack_free(struct rompack *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].data);
	}
	free(p->v);
	free(p);
}

const char *rompack_error(const struct rompack *p)
{
	return p->err;
}

static int valid_name(const char *name)
{
	const char *s = name;

	if (!*s || *s == '/' || strlen(name) >= MAX_NAME)
		return 0;
	while (*s) {
		const char *end = strchr(s, '/');
		size_t len = end ? (size_t)(end - s) : strlen(s);

		if (len == 0 || (len == 1 && s[0] == '.') ||
		    (len == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (!end)
			break;
		s = end + 1;
		if (!*s)
			return 0; /* trailing slash */
	}
	return 1;
}

int rompack_add(struct rompack *p, const char *name, const void *data,
		size_t len)
{
	struct entry *e;

	if (!valid_name(name))
		return fail(p, "invalid name in archive: '%s'", name);
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return fail(p, "duplicate name in archive: '%s'", name);
	if (len > MAX_TOTAL - p->total)
		return fail(p, "archive too large at '%s' (4 GiB limit)", name);
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct entry *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return fail(p, "out of memory");
		p->v = v;
		p->cap = cap;
	}
	e = &p->v[p->n];
	e->name = strdup(name);
	e->data = malloc(len ? len : 1);
	if (!e->name || !e->data) {
		free(e->name);
		free(e->data);
		return fail(p, "out of memory");
	}
	memcpy(e->data, data, len);
	e->len = len;
	p->total += len + strlen(name) + 32;
	p->n++;
	return 0;
}

int rompack_add_file(struct rompack *p, const char *name, const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, got;
	int rc;

	if (!f)
		return fail(p, "%s: %s", path, strerror(errno));
	do {
		if (len == cap) {
			uint8_t *b = realloc(buf, cap = cap ? 2 * cap : 65536);
			if (!b) {
				free(buf);
				fclose(f);
				return fail(p, "out of memory");
			}
			buf = b;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return fail(p, "%s: read error", path);
	}
	fclose(f);
	rc = rompack_add(p, name, buf, len);
	free(buf);
	return rc;
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
		      ((const struct entry *)b)->name);
}

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

int rompack_finish(struct rompack *p, uint8_t **out, size_t *len)
{
	size_t names_off = ROM_HEADER_SIZE + p->n * ROM_ENTRY_SIZE;
	size_t names_len = 0, data_off, size;
	uint8_t *b;

	if (p->n) /* an empty archive has no array at all */
		qsort(p->v, p->n, sizeof(*p->v), cmp_entry);
	for (size_t i = 0; i < p->n; i++)
		names_len += strlen(p->v[i].name) + 1;
	data_off = ALIGN8(names_off + names_len);
	size = data_off;
	for (size_t i = 0; i < p->n; i++)
		size = ALIGN8(size + p->v[i].len);
	if (size > MAX_TOTAL)
		return fail(p, "archive too large (4 GiB limit)");
	if (!(b = calloc(1, size)))
		return fail(p, "out of memory");

	size_t name_pos = 0, data_pos = data_off;
	for (size_t i = 0; i < p->n; i++) {
		uint8_t *e = b + ROM_HEADER_SIZE + i * ROM_ENTRY_SIZE;
		size_t nl = strlen(p->v[i].name);

		put32(e, (uint32_t)name_pos);
		put32(e + 4, (uint32_t)nl);
		put32(e + 8, (uint32_t)data_pos);
		put32(e + 12, (uint32_t)p->v[i].len);
		memcpy(b + names_off + name_pos, p->v[i].name, nl + 1);
		memcpy(b + data_pos, p->v[i].data, p->v[i].len);
		name_pos += nl + 1;
		data_pos = ALIGN8(data_pos + p->v[i].len);
	}
	memcpy(b, ROM_MAGIC, 8);
	put32(b + 8, ROM_VERSION);
	put32(b + 12, (uint32_t)p->n);
	put32(b + 16, (uint32_t)names_off);
	put32(b + 20, (uint32_t)data_off);
	put32(b + 24, (uint32_t)size);
	put32(b + 28, rom_checksum(b, (uint32_t)size));
	*out = b;
	*len = size;
	return 0;
}
