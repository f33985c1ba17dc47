/*
 * trap.c -- how interrupts and exceptions reach their handlers: the
 * descriptor tables (SDM vol. 3A, chapters 3, 6 and 7) and the dispatch
 * that isr.S calls after saving the registers.
 *
 * Long mode ignores segment bases and limits, so the GDT has one flat code
 * and one flat data segment, plus the TSS, whose only use here is its
 * Interrupt Stack Table: every vector switches to a known-good stack
 * (kernel.h lists them), so the interrupted stack, its red zone included,
 * is never written, and a stack overflow still gets a report. The GDT is
 * in .data, not .rodata: the CPU writes the TSS descriptor's busy bit on
 * ltr (and would write accessed bits, which are preset).
 *
 * Exceptions (vectors 0-31) end in a panic report; other vectors go to the
 * handler that lapic.c (timer) or irq.c (devices) installed. Anything else
 * is either spurious (ignored, as the SDM and the 8259 datasheet require)
 * or a bug (a panic naming the vector).
 */
#include "kernel.h"

/* Descriptors (SDM vol. 3A, 3.4.5): 64-bit code (L, P, DPL 0, type
 * execute/read, accessed), data (P, type read/write, accessed). */
#define GDT_CODE64 0x00af9b000000ffffull
#define GDT_DATA 0x00cf93000000ffffull

static uint64_t trap_gdt[5] __attribute__((aligned(16))) = {
	0, GDT_CODE64, GDT_DATA, 0, 0, /* the TSS takes two slots */
};

/* The pseudo-descriptor for lgdt, global for boot.S, which loads it in
 * 32-bit mode, where only the low 32 bits of the base are read (the GDT
 * is below 4 GiB). */
struct {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed)) trap_gdt_ptr = {
	sizeof(trap_gdt) - 1,
	(uintptr_t)trap_gdt,
};

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7]; /* ist[0] is IST 1 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type; /* P, DPL 0, 64-bit interrupt gate: 0x8e */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
};

static struct tss tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));

extern char isr_stubs[];

static void load_tss(void)
{
	uintptr_t base = (uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	for (int i = 0; i < IST_COUNT; i++) {
		uintptr_t slot = (uintptr_t)boot_ist_area + (uintptr_t)i * IST_SLOT;

		tss.ist[i] = slot + IST_SLOT; /* stacks grow down from the top */
	}
	tss.iomap_base = sizeof(tss); /* no I/O bitmap */

	/* The 16-byte system descriptor, type 9: available 64-bit TSS. */
	trap_gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
				(0x89ull << 40) | ((limit >> 16 & 0xf) << 48) |
				((uint64_t)(base >> 24 & 0xff) << 56);
	trap_gdt[SEL_TSS / 8 + 1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS) : "memory");
}

/* Exceptions that may come while another one is being handled get their
 * own stacks, so that they do not overwrite its frame: #DF comes when an
 * exception fails to be delivered, NMI and #MC at any moment. Everything
 * else shares IST 1: interrupt gates keep interrupts off in handlers, and
 * any other fault inside a handler is a panic that never returns. */
static unsigned ist_of(unsigned vector)
{
	switch (vector) {
	case 2:
		return IST_NMI;
	case 8:
		return IST_DF;
	case 18:
		return IST_MC;
	default:
		return IST_SHARED;
	}
}

void trap_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uintptr_t)idt };

	load_tss();
	for (unsigned v = 0; v < 256; v++) {
		uintptr_t stub = (uintptr_t)isr_stubs + v * TRAP_STUB_SIZE;

		idt[v] = (struct idt_gate){
			.offset_lo = stub & 0xffff,
			.selector = SEL_KERNEL_CS,
			.ist = ist_of(v),
			.type = 0x8e,
			.offset_mid = stub >> 16 & 0xffff,
			.offset_hi = stub >> 32,
		};
	}
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

static trap_handler_fn *handlers[256];

void trap_set_handler(unsigned vector, trap_handler_fn *fn)
{
	ASSERT(vector >= 32 && vector < 256);
	handlers[vector] = fn;
}

void trap_dispatch(struct trap_frame *f)
{
	unsigned v = (unsigned)f->vector;

	if (v < 32)
		panic_trap(f);
	if (handlers[v]) {
		handlers[v](v);
		return;
	}
	/* The local APIC's spurious vector takes no EOI (SDM vol. 3A,
	 * 11.9). A masked 8259 can still raise a spurious IRQ 7 or 15 while
	 * the APIC is in virtual-wire mode; it needs no EOI either. */
	if (v == VEC_SPURIOUS || v == VEC_PIC_BASE + 7 || v == VEC_PIC_BASE + 15)
		return;
	panic_trap(f);
}
