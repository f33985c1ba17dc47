/*
 * pvh.c -- what the loader hands over: the PVH hvm_start_info (Xen's
 * xen/include/public/arch-x86/hvm/start_info.h, version 1 and later have
 * the memory map). pvh_init copies the command line and the memory map
 * into the kernel first thing, because the loader leaves them in RAM that
 * becomes the heap.
 *
 * The command line is capped at CMDLINE_MAX - 1 bytes: a longer one is cut
 * at the last whole word that fits, and a warning says so.
 */
#include "kernel.h"

#define START_INFO_MAGIC 0x336ec578
#define CMDLINE_MAX 4096
#define MEMMAP_MAX 128

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

static char cmdline[CMDLINE_MAX];
static struct pvh_mem memmap[MEMMAP_MAX];
static size_t memmap_len;
static uint64_t rsdp;

/* Copies the NUL-terminated (src); returns whether it had to be cut. */
static bool copy_cmdline(const char *src)
{
	size_t n = 0;

	while (n < CMDLINE_MAX - 1 && src[n]) {
		cmdline[n] = src[n];
		n++;
	}
	if (!src[n]) {
		cmdline[n] = '\0';
		return false;
	}
	/* Cut at the last space, so no word arrives half. */
	while (n > 0 && cmdline[n - 1] != ' ')
		n--;
	cmdline[n] = '\0';
	return true;
}

void pvh_init(uint32_t paddr)
{
	const struct hvm_start_info *si =
		(const struct hvm_start_info *)(uintptr_t)paddr;
	const struct hvm_memmap_table_entry *e;
	uint32_t n;

	if (!paddr || si->magic != START_INFO_MAGIC)
		PANIC("no PVH start_info: boot this image through its PVH "
		      "entry (qemu -M microvm -kernel, or a PVH loader)");
	if (si->cmdline_paddr && copy_cmdline((const char *)(uintptr_t)si->cmdline_paddr))
		kprintf("lunik: warning: command line longer than %d bytes, cut "
			"to \"%s\"\n", CMDLINE_MAX - 1, cmdline);
	if (si->version < 1 || !si->memmap_paddr || !si->memmap_entries)
		PANIC("PVH start_info has no memory map (version 0): this "
		      "loader is too old");
	rsdp = si->rsdp_paddr;
	e = (const struct hvm_memmap_table_entry *)(uintptr_t)si->memmap_paddr;
	n = si->memmap_entries;
	if (n > MEMMAP_MAX) {
		kprintf("lunik: warning: memory map has %u entries, using the "
			"first %d\n", n, MEMMAP_MAX);
		n = MEMMAP_MAX;
	}
	for (uint32_t i = 0; i < n; i++)
		if (e[i].size) /* QEMU's firmware ends the table with an empty one */
			memmap[memmap_len++] =
				(struct pvh_mem){ e[i].addr, e[i].size, e[i].type };
}

size_t pvh_memmap(const struct pvh_mem **map)
{
	*map = memmap;
	return memmap_len;
}

uint64_t pvh_rsdp(void)
{
	return rsdp;
}

const char *plat_cmdline(void)
{
	return cmdline;
}
