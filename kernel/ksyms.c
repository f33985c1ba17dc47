/*
 * ksyms.c -- address to symbol name, over the table in .ksyms (format in
 * ksyms.h). Called from panics only, so it trusts nothing: a table whose
 * entries do not fit its size is ignored, and each name is bounds-checked.
 * Its size is read once, at boot (mmu.c maps what it says), and kept.
 */
#include "kernel.h"
#include "ksyms.h"

/* Bounds the table: the image ends below 4 GiB (link.ld). */
#define KSYMS_MAX (64u << 20)

static size_t table_len;

size_t ksyms_bytes(void)
{
	const struct ksyms_header *h = (const struct ksyms_header *)__ksyms_start;

	/* No libc here (panics call this): compare the magic by hand. */
	if (!table_len && h->magic[0] == 'K' && h->magic[1] == 'S' &&
	    h->magic[2] == 'Y' && h->magic[3] == 'M' && h->size >= sizeof(*h) &&
	    h->size <= KSYMS_MAX)
		table_len = h->size;
	return table_len;
}

/* The table's entries and names, or false if there is no usable table. */
static bool table(const struct ksyms_entry **entries, uint32_t *count,
		  const char **names, size_t *names_len)
{
	const char *start = __ksyms_start;
	size_t len = table_len;
	const struct ksyms_header *h = (const struct ksyms_header *)start;

	if (len < sizeof(*h) ||
	    h->count > (len - sizeof(*h)) / sizeof(struct ksyms_entry))
		return false;
	*entries = (const struct ksyms_entry *)(start + sizeof(*h));
	*count = h->count;
	*names = start + sizeof(*h) + (size_t)h->count * sizeof(**entries);
	*names_len = (size_t)(start + len - *names);
	return h->count > 0;
}

bool ksyms_lookup(uintptr_t addr, const char **name, uintptr_t *off)
{
	const struct ksyms_entry *e;
	const char *names;
	size_t names_len;
	uint32_t count, lo, hi;

	if (!table(&e, &count, &names, &names_len) || addr > UINT32_MAX)
		return false;
	/* The last entry with e[i].addr <= addr: lo ends as its index + 1. */
	lo = 0;
	hi = count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (e[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	e += lo - 1;
	/* Size 0 (assembly labels) holds anything up to the next symbol;
	 * text ends the last one. */
	if (e->size ? addr - e->addr >= e->size
		    : addr >= (uintptr_t)__text_end)
		return false;
	if (e->name_off >= names_len)
		return false;
	/* The name must end inside the table. */
	for (size_t i = e->name_off; names[i]; i++)
		if (i + 1 >= names_len)
			return false;
	*name = names + e->name_off;
	*off = addr - e->addr;
	return true;
}
