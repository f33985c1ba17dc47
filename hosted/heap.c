/*
 * heap.c -- the heap of --mem bytes on the hosted platform.
 *
 * glibc's malloc (or the sanitizers') does the allocating; the link wraps
 * the program's malloc, calloc, realloc, free and strdup (ld --wrap, the
 * flags in each variant's ldflags, mk/hosted.mk) so that every byte Lua, lwIP, mbedTLS
 * and the runtime hold is counted, and an allocation that would take the
 * total past --mem fails as it does when the guest's heap runs out: Lua
 * raises "not enough memory", lwIP answers ERR_MEM. The limit counts live
 * bytes (malloc_usable_size), not an address range, so fragmentation does
 * not count against it as it does in the guest (docs/hosted.md).
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "hosted.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);

static size_t limit = SIZE_MAX, in_use, peak;

void heap_init(size_t bytes)
{
	limit = bytes;
}

static int fits(size_t more)
{
	return more <= limit && in_use <= limit - more;
}

static void take(void *p)
{
	if (p) {
		in_use += malloc_usable_size(p);
		if (in_use > peak)
			peak = in_use;
	}
}

void *__wrap_malloc(size_t size)
{
	void *p;

	if (!fits(size))
		return NULL;
	p = __real_malloc(size);
	take(p);
	return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	if (!fits(n * size))
		return NULL;
	p = __real_calloc(n, size);
	take(p);
	return p;
}

void *__wrap_realloc(void *p, size_t size)
{
	size_t old = p ? malloc_usable_size(p) : 0;
	void *q;

	if (size > old && !fits(size - old))
		return NULL;
	q = __real_realloc(p, size);
	if (q || !size) {
		in_use -= old;
		take(q);
	}
	return q;
}

void __wrap_free(void *p)
{
	if (p) {
		in_use -= malloc_usable_size(p);
		__real_free(p);
	}
}

char *__wrap_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = __wrap_malloc(n);

	return p ? memcpy(p, s, n) : NULL;
}

void plat_mem(struct plat_mem *m)
{
	m->total = limit;
	m->brk = peak;
	m->in_use = in_use;
}
