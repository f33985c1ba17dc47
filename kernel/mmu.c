/*
 * mmu.c -- the page tables the kernel runs on, for good: an identity map
 * (virtual == physical) of the RAM in the PVH memory map and of the MMIO
 * window at the top of the first 4 GiB, with W^X over the image:
 *
 *   page 0                       unmapped (NULL dereferences fault)
 *   text                         read + execute
 *   rodata, .ksyms               read-only, no-execute
 *   data, bss, .noinit           read-write, no-execute
 *   stack guard pages (.noinit)  unmapped (overflows fault)
 *   other RAM (heap included)    read-write, no-execute
 *   0xfe000000 - 4 GiB           read-write, no-execute, uncached
 *   later, on demand (mmu_map)   firmware tables read-only, PCI BARs
 *                                uncached, both no-execute
 *
 * Ranges use 2 MiB pages where aligned and long enough, 4 KiB pages
 * elsewhere (SDM vol. 3A, 4.5). Table pages, like the virtio rings and
 * buffers, come from mmu_take: the RAM below the image first (otherwise
 * unused: PVH loads the image at 1 MiB), then the top of the heap's
 * region, so a small machine spends little on them and the image carries
 * no pool sized for the largest. This file also knows the memory layout
 * well enough to name the region of a faulting address for panic
 * reports.
 */
#include "kernel.h"
#include "ksyms.h"

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_A 0x20ull  /* preset: the CPU need not write them back */
#define PTE_D 0x40ull
#define PTE_PS 0x80ull /* in a PD entry: a 2 MiB page */
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define MAPPED_LIMIT (512ull << 30) /* what one PDPT covers */

static uint64_t *pml4;
static uint64_t nx; /* PTE_NX, or 0 on a CPU without it */
static uintptr_t heap_start, heap_end;
static uintptr_t low_next, low_end; /* RAM below the image, for mmu_take */
static uint64_t ram_bytes;
static uintptr_t image_end; /* past the symbol table (ksyms_bytes) */
static bool heap_given;

void *mmu_take(size_t size, size_t align)
{
	uintptr_t at = ALIGN_UP(low_next, align);

	if (at >= low_next && at <= low_end && size <= low_end - at) {
		low_next = at + size;
		return (void *)at;
	}
	if (heap_given || size > heap_end - heap_start)
		return NULL;
	at = ALIGN_DOWN(heap_end - size, align);
	if (at < heap_start)
		return NULL;
	heap_end = ALIGN_DOWN(at, PAGE_SIZE); /* the heap stays page aligned */
	return (void *)at;
}

uint64_t mmu_ram_bytes(void)
{
	return ram_bytes;
}

static uint64_t *alloc_table(void)
{
	uint64_t *t = mmu_take(PAGE_SIZE, PAGE_SIZE);

	if (!t)
		PANIC("no memory left for page tables");
	for (int i = 0; i < 512; i++)
		t[i] = 0;
	return t;
}

/* Where mmu_take takes from: the RAM region below the image (page 0
 * excepted) and the rest of the RAM region the image ends in, the heap. */
static void find_regions(const struct pvh_mem *m, size_t n)
{
	uintptr_t lo = (uintptr_t)__text_start, hi = image_end;

	for (size_t i = 0; i < n; i++) {
		uint64_t start = ALIGN_UP(m[i].addr, PAGE_SIZE);
		uint64_t end = ALIGN_DOWN(m[i].addr + m[i].size, PAGE_SIZE);

		if (m[i].type != PVH_MEM_RAM || start >= end)
			continue;
		ram_bytes += end - start;
		if (end > MAPPED_LIMIT)
			end = MAPPED_LIMIT;
		if (start < PAGE_SIZE)
			start = PAGE_SIZE;
		if (start < lo && low_end - low_next < (end < lo ? end : lo) - start) {
			low_next = start;
			low_end = end < lo ? end : lo;
		}
		if (m[i].addr <= hi && hi < end) {
			heap_start = hi;
			heap_end = end;
		}
	}
	if (!heap_end)
		PANIC("the image does not end inside RAM of the PVH memory map");
	ASSERT(heap_start % PAGE_SIZE == 0);
}

/* The table that (table)[(idx)] points to, made if missing; NULL if that
 * entry is a large page (the range is mapped already). */
static uint64_t *next_level(uint64_t *table, unsigned idx)
{
	if (!(table[idx] & PTE_P))
		table[idx] = (uintptr_t)alloc_table() | PTE_P | PTE_W;
	if (table[idx] & PTE_PS)
		return NULL;
	return (uint64_t *)(uintptr_t)(table[idx] & PTE_ADDR);
}

/* Maps [start, end) (page aligned) to itself with (flags). A page mapped
 * already keeps its first mapping, so the image is mapped before the RAM
 * around it. */
static void map_range(uintptr_t start, uintptr_t end, uint64_t flags)
{
	flags |= PTE_P | PTE_A | PTE_D;
	for (uintptr_t va = start; va < end;) {
		uint64_t *pdpt = next_level(pml4, va >> 39 & 511);
		uint64_t *pd = next_level(pdpt, va >> 30 & 511);
		uint64_t *pde = &pd[va >> 21 & 511];
		uintptr_t stop = ALIGN_DOWN(va, PAGE_2M) + PAGE_2M;
		uint64_t *pt;

		if (va + PAGE_2M == stop && end >= stop && !(*pde & PTE_P)) {
			*pde = va | flags | PTE_PS;
			va = stop;
			continue;
		}
		/* 4 KiB pages up to the end of this 2 MiB range */
		pt = next_level(pd, va >> 21 & 511);
		if (end < stop)
			stop = end;
		for (; va < stop; va += PAGE_SIZE)
			if (pt && !(pt[va >> 12 & 511] & PTE_P))
				pt[va >> 12 & 511] = va | flags;
	}
}

static void map_image(void)
{
	uintptr_t ist = (uintptr_t)boot_ist_area;

	map_range((uintptr_t)__text_start, (uintptr_t)__text_end, 0);
	map_range((uintptr_t)__rodata_start, (uintptr_t)__rodata_end, nx);
	map_range((uintptr_t)__data_start, (uintptr_t)__bss_end, PTE_W | nx);
	/* .noinit, but for the guard page under each stack */
	map_range((uintptr_t)__noinit_start, (uintptr_t)boot_stack_guard,
		  PTE_W | nx);
	map_range((uintptr_t)boot_stack_bottom, (uintptr_t)boot_stack_top,
		  PTE_W | nx);
	for (int i = 0; i < IST_COUNT; i++)
		map_range(ist + i * IST_SLOT + PAGE_SIZE, ist + (i + 1) * IST_SLOT,
			  PTE_W | nx);
	map_range(ist + IST_COUNT * IST_SLOT, (uintptr_t)__noinit_end,
		  PTE_W | nx);
	if (image_end > (uintptr_t)__ksyms_start)
		map_range((uintptr_t)__ksyms_start, image_end, nx);
}

/* Maps RAM [start, end) read-write, but never page 0 nor the image, whose
 * holes (guard pages) must stay holes. */
static void map_ram(uintptr_t start, uintptr_t end)
{
	uintptr_t lo = (uintptr_t)__text_start, hi = image_end;

	if (start < PAGE_SIZE)
		start = PAGE_SIZE;
	if (start < lo && start < end)
		map_range(start, end < lo ? end : lo, PTE_W | nx);
	if (end > hi && start < end)
		map_range(start > hi ? start : hi, end, PTE_W | nx);
}

void mmu_init(void)
{
	const struct pvh_mem *m;
	size_t n = pvh_memmap(&m);

	image_end = ALIGN_UP((uintptr_t)__ksyms_start + ksyms_bytes(), PAGE_SIZE);
	find_regions(m, n);
	nx = rdmsr(MSR_EFER) & EFER_NXE ? PTE_NX : 0;
	pml4 = alloc_table();
	map_image();
	map_range(MMIO_BASE, 1ull << 32, PTE_W | PTE_PCD | PTE_PWT | nx);
	for (size_t i = 0; i < n; i++) {
		uint64_t start = ALIGN_UP(m[i].addr, PAGE_SIZE);
		uint64_t end = ALIGN_DOWN(m[i].addr + m[i].size, PAGE_SIZE);

		if (m[i].type != PVH_MEM_RAM || start >= end)
			continue;
		if (end > MAPPED_LIMIT)
			end = MAPPED_LIMIT;
		map_ram(start, end);
	}
	write_cr3((uintptr_t)pml4);
}

/* After mmu_init only entries that were not present are filled in, and
 * the SDM (vol. 3A, 4.10.4.3) asks for no invalidation then. */
void mmu_map(uintptr_t addr, size_t size, bool device)
{
	uintptr_t start = ALIGN_DOWN(addr, PAGE_SIZE);
	uintptr_t end = ALIGN_UP(addr + size, PAGE_SIZE);

	if (start < PAGE_SIZE)
		start = PAGE_SIZE; /* page 0 stays a hole */
	/* The image is mapped already, and its guard pages must stay holes. */
	if (end > (uintptr_t)__text_start && start < image_end)
		return;
	if (start < end)
		map_range(start, end,
			  device ? PTE_W | PTE_PCD | PTE_PWT | nx : nx);
}

void mmu_heap(uintptr_t *start, uintptr_t *end)
{
	heap_given = true; /* from now on mmu_take leaves it alone */
	*start = heap_start;
	*end = heap_end;
}

bool mmu_stack_of(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
	uintptr_t ist = (uintptr_t)boot_ist_area;

	if (addr >= (uintptr_t)boot_stack_bottom &&
	    addr < (uintptr_t)boot_stack_top) {
		*lo = (uintptr_t)boot_stack_bottom;
		*hi = (uintptr_t)boot_stack_top;
		return true;
	}
	if (addr < ist || addr >= ist + IST_COUNT * IST_SLOT ||
	    (addr - ist) % IST_SLOT < PAGE_SIZE)
		return false;
	*lo = ALIGN_DOWN(addr - ist, IST_SLOT) + ist + PAGE_SIZE;
	*hi = *lo + IST_SIZE;
	return true;
}

/* The region of an address inside the image. */
static const char *image_region(uintptr_t a, const char **diagnosis)
{
	uintptr_t ist = (uintptr_t)boot_ist_area, lo, hi;

	if (a < (uintptr_t)__text_end)
		return "text";
	if (a < (uintptr_t)__rodata_end)
		return "rodata";
	if (a < (uintptr_t)__bss_start)
		return "data";
	if (a >= (uintptr_t)boot_stack_guard &&
	    a < (uintptr_t)boot_stack_bottom) {
		*diagnosis = "stack overflow";
		return "the main stack's guard page";
	}
	if (a >= ist && a < ist + IST_COUNT * IST_SLOT &&
	    (a - ist) % IST_SLOT < PAGE_SIZE) {
		*diagnosis = "interrupt stack overflow";
		return "an interrupt stack's guard page";
	}
	if (mmu_stack_of(a, &lo, &hi))
		return lo == (uintptr_t)boot_stack_bottom ? "main stack"
							  : "interrupt stack";
	if (a < (uintptr_t)__bss_end)
		return "bss";
	if (a < (uintptr_t)__noinit_end)
		return "stacks";
	return "symbol table";
}

const char *mmu_region(uintptr_t a, const char **diagnosis)
{
	const char *dummy;

	if (!diagnosis)
		diagnosis = &dummy;
	*diagnosis = NULL;
	if (a < PAGE_SIZE) {
		*diagnosis = "null pointer dereference";
		return "page 0";
	}
	if (a >= (uintptr_t)__text_start && a < image_end)
		return image_region(a, diagnosis);
	if (a >= heap_start && a < heap_end)
		return "heap";
	if (a < (uintptr_t)__text_start)
		return "low memory (page tables, virtio buffers)";
	if (a >= MMIO_BASE && a < (1ull << 32))
		return "MMIO window";
	if (a >= 0x0000800000000000ull && a < 0xffff800000000000ull)
		return "non-canonical address";
	return NULL;
}
