/*
 * irq.c -- the legacy 8259 PICs, masked for good, and the I/O APICs that
 * deliver device interrupts (Intel 82093AA datasheet; the interface is
 * in irq.h). Each GSI gets vector VEC_IRQ_BASE + gsi, delivered fixed, in
 * physical mode, to this CPU; message-signalled interrupts (PCI MSI-X)
 * get vectors from VEC_MSI_BASE up, one per irq_msi call. The handler
 * runs, then the local APIC gets its EOI (which, for a level-triggered
 * input, also tells the I/O APIC the line may be sampled again), and
 * plat_wait() is told to return.
 */
#include "irq.h"
#include "kernel.h"

#define PIC1 0x20 /* command port; data at +1 */
#define PIC2 0xa0

#define IOAPIC_BASES { 0xfec00000, 0xfec10000 }
#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOAPIC_VER 0x01
#define IOAPIC_REDTBL(n) (0x10 + 2 * (n))

#define RTE_ACTIVE_LOW (1u << 13)
#define RTE_LEVEL (1u << 15)
#define RTE_MASKED (1u << 16)

struct ioapic {
	uintptr_t base;
	unsigned gsi_base, count;
};

struct route {
	irq_handler_fn *fn;
	void *arg;
};

static struct ioapic ioapics[2];
static unsigned nioapics;
static struct route routes[VEC_IRQ_COUNT];
static struct route msis[VEC_MSI_COUNT];
static unsigned nmsis;
static volatile bool pending;

static uint32_t ioapic_read(const struct ioapic *io, uint32_t reg)
{
	mmio_write32(io->base + IOREGSEL, reg);
	return mmio_read32(io->base + IOWIN);
}

static void ioapic_write(const struct ioapic *io, uint32_t reg, uint32_t v)
{
	mmio_write32(io->base + IOREGSEL, reg);
	mmio_write32(io->base + IOWIN, v);
}

/* The I/O APIC serving (gsi), and the input's index on it; NULL if none. */
static const struct ioapic *find(unsigned gsi, unsigned *pin)
{
	for (unsigned i = 0; i < nioapics; i++) {
		if (gsi >= ioapics[i].gsi_base &&
		    gsi < ioapics[i].gsi_base + ioapics[i].count) {
			*pin = gsi - ioapics[i].gsi_base;
			return &ioapics[i];
		}
	}
	return NULL;
}

/* Remaps the 8259s away from the exception vectors (their default, 8-15,
 * would alias #DF and friends if one ever fired) and masks every line
 * (8259A datasheet: ICW1-ICW4, then OCW1). */
static void pic_disable(void)
{
	outb(PIC1, 0x11); /* ICW1: edge, cascade, ICW4 follows */
	outb(PIC2, 0x11);
	outb(PIC1 + 1, VEC_PIC_BASE); /* ICW2: vector base */
	outb(PIC2 + 1, VEC_PIC_BASE + 8);
	outb(PIC1 + 1, 0x04); /* ICW3: slave on IR2 */
	outb(PIC2 + 1, 0x02);
	outb(PIC1 + 1, 0x01); /* ICW4: 8086 mode */
	outb(PIC2 + 1, 0x01);
	outb(PIC1 + 1, 0xff); /* OCW1: mask all */
	outb(PIC2 + 1, 0xff);
}

static void irq_interrupt(unsigned vector)
{
	const struct route *r = &routes[vector - VEC_IRQ_BASE];

	if (r->fn)
		r->fn(r->arg);
	pending = true;
	lapic_eoi();
}

static void msi_interrupt(unsigned vector)
{
	const struct route *r = &msis[vector - VEC_MSI_BASE];

	if (r->fn)
		r->fn(r->arg);
	pending = true;
	lapic_eoi();
}

void irq_init(void)
{
	static const uintptr_t bases[] = IOAPIC_BASES;
	unsigned gsi = 0;

	pic_disable();
	/* An absent I/O APIC reads as 0 (QEMU) or all ones. */
	for (unsigned i = 0; i < ARRAY_SIZE(bases); i++) {
		struct ioapic *io = &ioapics[nioapics];
		uint32_t ver;

		io->base = bases[i];
		ver = ioapic_read(io, IOAPIC_VER);
		if ((ver & 0xff) == 0 || (ver & 0xff) == 0xff)
			break;
		io->gsi_base = gsi;
		io->count = (ver >> 16 & 0xff) + 1;
		if (gsi + io->count > VEC_IRQ_COUNT)
			io->count = VEC_IRQ_COUNT - gsi;
		for (unsigned pin = 0; pin < io->count; pin++) {
			ioapic_write(io, IOAPIC_REDTBL(pin), RTE_MASKED);
			ioapic_write(io, IOAPIC_REDTBL(pin) + 1, 0);
		}
		gsi += io->count;
		nioapics++;
	}
	for (unsigned v = 0; v < VEC_IRQ_COUNT; v++)
		trap_set_handler(VEC_IRQ_BASE + v, irq_interrupt);
}

int irq_route(unsigned gsi, unsigned flags, irq_handler_fn *fn, void *arg)
{
	const struct ioapic *io;
	unsigned pin;
	uint32_t lo = VEC_IRQ_BASE + gsi;
	uint64_t intr;

	if (!fn || !(io = find(gsi, &pin)))
		return -EINVAL;
	if (routes[gsi].fn)
		return -EBUSY;
	if (flags & IRQ_LEVEL)
		lo |= RTE_LEVEL;
	if (flags & IRQ_ACTIVE_LOW)
		lo |= RTE_ACTIVE_LOW;
	/* Interrupts off: a handler may mask or unmask, and the I/O APIC's
	 * select/window pair must not be interleaved. Destination first, then
	 * the low half, which unmasks. */
	intr = intr_save();
	routes[gsi] = (struct route){ fn, arg };
	ioapic_write(io, IOAPIC_REDTBL(pin) + 1, lapic_id() << 24);
	ioapic_write(io, IOAPIC_REDTBL(pin), lo);
	intr_restore(intr);
	return 0;
}

/* The message: address 0xfee00000 with the destination APIC ID in bits
 * 19:12 (physical mode, no redirection hint); data the vector, with
 * fixed delivery and edge trigger (both zero). */
int irq_msi(irq_handler_fn *fn, void *arg, uint64_t *addr, uint32_t *data)
{
	unsigned v;

	if (!fn)
		return -EINVAL;
	if (nmsis == VEC_MSI_COUNT)
		return -EBUSY;
	v = nmsis++;
	msis[v] = (struct route){ fn, arg };
	trap_set_handler(VEC_MSI_BASE + v, msi_interrupt);
	*addr = 0xfee00000u | (lapic_id() & 0xff) << 12;
	*data = VEC_MSI_BASE + v;
	return 0;
}

static void set_mask(unsigned gsi, bool masked)
{
	const struct ioapic *io;
	unsigned pin;
	uint32_t lo;
	uint64_t intr;

	if (!(io = find(gsi, &pin)) || !routes[gsi].fn)
		return;
	intr = intr_save();
	lo = ioapic_read(io, IOAPIC_REDTBL(pin));
	lo = masked ? lo | RTE_MASKED : lo & ~RTE_MASKED;
	ioapic_write(io, IOAPIC_REDTBL(pin), lo);
	intr_restore(intr);
}

void irq_mask(unsigned gsi)
{
	set_mask(gsi, true);
}

void irq_unmask(unsigned gsi)
{
	set_mask(gsi, false);
}

bool irq_take_pending(void)
{
	bool p = pending;

	pending = false;
	return p;
}
