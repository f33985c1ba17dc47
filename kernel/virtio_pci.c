/*
 * virtio_pci.c -- virtio over PCI (virtio 1.2, 4.1), modern interface
 * only: finding the devices on the bus, their structures through the
 * vendor capabilities (4.1.4: common configuration, notifications, ISR
 * status, device configuration), and the register accesses of struct
 * virtio_ops; virtio.c does the rest.
 *
 * A virtio function has vendor 0x1af4 and device 0x1040 + type (modern
 * only) or 0x1000-0x103f (transitional, the type in the subsystem ID;
 * 4.1.2.1). One that has no common configuration capability offers only
 * the legacy interface (QEMU: disable-modern=on) and is refused with a
 * line naming it. Any other function but a bridge is listed on the
 * console and left alone.
 *
 * Interrupts: MSI-X entry 0 for every queue (no configuration-change
 * vector: nothing here reacts to one), edge-triggered, nothing to
 * acknowledge. Without MSI-X, the INTx line the firmware assigned, shared
 * and level-triggered, acknowledged by reading the ISR byte (4.1.4.5);
 * without either, the device is polled (the event loop's deadlines).
 */
#include "pci.h"
#include "virtio.h"

#define VENDOR_VIRTIO 0x1af4
#define DEVICE_LEGACY_FIRST 0x1000
#define DEVICE_MODERN_FIRST 0x1040
#define DEVICE_LAST 0x107f

/* struct virtio_pci_cap (4.1.4) and its cfg_type values. */
#define CAP_CFG_TYPE 3
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_NOTIFY_MULT 16
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_ISR 3
#define CFG_DEVICE 4

/* struct virtio_pci_common_cfg (4.1.4.3). */
#define COMMON_DFSELECT 0x00
#define COMMON_DF 0x04
#define COMMON_GFSELECT 0x08
#define COMMON_GF 0x0c
#define COMMON_NUMQ 0x12
#define COMMON_STATUS 0x14
#define COMMON_CFGGEN 0x15
#define COMMON_Q_SELECT 0x16
#define COMMON_Q_SIZE 0x18
#define COMMON_Q_MSIX 0x1a
#define COMMON_Q_ENABLE 0x1c
#define COMMON_Q_NOFF 0x1e
#define COMMON_Q_DESC 0x20
#define COMMON_Q_DRIVER 0x28
#define COMMON_Q_DEVICE 0x30
#define COMMON_LEN 0x38

#define NO_VECTOR 0xffff
#define DEVS_MAX 32

static struct virtio_dev devs[DEVS_MAX];
static unsigned ndevs;

static uint8_t get_status(struct virtio_dev *d)
{
	return mmio_read8(d->regs + COMMON_STATUS);
}

static void set_status(struct virtio_dev *d, uint8_t status)
{
	mmio_write8(d->regs + COMMON_STATUS, status);
}

static uint64_t get_features(struct virtio_dev *d)
{
	uint64_t f;

	mmio_write32(d->regs + COMMON_DFSELECT, 1);
	f = (uint64_t)mmio_read32(d->regs + COMMON_DF) << 32;
	mmio_write32(d->regs + COMMON_DFSELECT, 0);
	return f | mmio_read32(d->regs + COMMON_DF);
}

static void set_features(struct virtio_dev *d, uint64_t f)
{
	mmio_write32(d->regs + COMMON_GFSELECT, 1);
	mmio_write32(d->regs + COMMON_GF, (uint32_t)(f >> 32));
	mmio_write32(d->regs + COMMON_GFSELECT, 0);
	mmio_write32(d->regs + COMMON_GF, (uint32_t)f);
}

static uint32_t generation(struct virtio_dev *d)
{
	return mmio_read8(d->regs + COMMON_CFGGEN);
}

static unsigned queue_max(struct virtio_dev *d, unsigned index)
{
	if (index >= mmio_read16(d->regs + COMMON_NUMQ))
		return 0;
	mmio_write16(d->regs + COMMON_Q_SELECT, (uint16_t)index);
	if (mmio_read16(d->regs + COMMON_Q_ENABLE))
		return 0;
	return mmio_read16(d->regs + COMMON_Q_SIZE);
}

/* A 64-bit field as two 32-bit writes, low half first (4.1.3.1). */
static void write64(uintptr_t at, const volatile void *p)
{
	mmio_write32(at, (uint32_t)(uintptr_t)p);
	mmio_write32(at + 4, (uint32_t)((uintptr_t)p >> 32));
}

/* 4.1.5.1.3, after queue_max selected the queue. */
static int queue_enable(struct virtio_dev *d, struct virtq *q)
{
	uint16_t vector = d->msix ? 0 : NO_VECTOR;

	mmio_write16(d->regs + COMMON_Q_SIZE, q->size);
	mmio_write16(d->regs + COMMON_Q_MSIX, vector);
	if (mmio_read16(d->regs + COMMON_Q_MSIX) != vector)
		return virtio_fail(d, "refused its MSI-X vector");
	write64(d->regs + COMMON_Q_DESC, q->desc);
	write64(d->regs + COMMON_Q_DRIVER, q->avail);
	write64(d->regs + COMMON_Q_DEVICE, q->used);
	q->notify = d->notify +
		    (uintptr_t)mmio_read16(d->regs + COMMON_Q_NOFF) * d->notify_mul;
	mmio_write16(d->regs + COMMON_Q_ENABLE, 1);
	return 0;
}

/* The queue's index, 16 bits, at its notification address (4.1.4.4). */
static void notify(const struct virtq *q)
{
	mmio_write16(q->notify, q->index);
}

/* Reading the ISR status clears it and lowers INTx (4.1.4.5). */
static uint32_t ack(struct virtio_dev *d)
{
	return mmio_read8(d->isr);
}

static void msix_interrupt(void *arg)
{
	((struct virtio_dev *)arg)->irqs++;
}

static int start_irq(struct virtio_dev *d)
{
	unsigned line = pci_read8(d->bdf, PCI_INT_LINE), flags;

	if (d->msix) {
		pci_msix_unmask(d->msix_table);
		return 0;
	}
	if (pci_read8(d->bdf, PCI_INT_PIN) && line < 16) {
		/* An ISA IRQ of the firmware's choosing: its GSI and mode
		 * are the MADT's; PCI's own are level and active low. */
		if (!acpi_isa_irq(line, &d->gsi, &flags)) {
			d->gsi = line;
			flags = IRQ_LEVEL | IRQ_ACTIVE_LOW;
		}
		return virtio_route_gsi(d, flags);
	}
	kprintf("lunik: virtio %s %s: no MSI-X and no INTx line; polled\n",
		d->name, d->where);
	return 0;
}

static const struct virtio_ops pci_ops = {
	.get_status = get_status, .set_status = set_status,
	.get_features = get_features, .set_features = set_features,
	.generation = generation, .queue_max = queue_max,
	.queue_enable = queue_enable, .notify = notify,
	.start_irq = start_irq, .ack = ack,
};

/* The first capability of (cfg_type): its mapped address and length.
 * Returns false, printing why when (required), if there is none or it is
 * not in an assigned memory BAR. */
static bool structure(struct virtio_dev *d, uint8_t cfg_type, unsigned cap,
		      uintptr_t *at, uint32_t *len, unsigned *which)
{
	for (; cap; cap = pci_cap(d->bdf, PCI_CAP_VENDOR, cap)) {
		uint64_t bar;

		if (pci_read8(d->bdf, cap + CAP_CFG_TYPE) != cfg_type)
			continue;
		bar = pci_bar(d->bdf, pci_read8(d->bdf, cap + CAP_BAR));
		if (!bar)
			continue; /* an I/O BAR or an unassigned one */
		*at = (uintptr_t)(bar + pci_read32(d->bdf, cap + CAP_OFFSET));
		*len = pci_read32(d->bdf, cap + CAP_LENGTH);
		*which = cap;
		mmu_map(*at, *len, true);
		return true;
	}
	return false;
}

/* Fills in (d)'s structures (4.1.4); false after printing why not. */
static bool structures(struct virtio_dev *d, uint16_t device)
{
	unsigned first = pci_cap(d->bdf, PCI_CAP_VENDOR, 0), cap;
	uint32_t len, cfg_len;

	if (!structure(d, CFG_COMMON, first, &d->regs, &len, &cap)) {
		kprintf("lunik: pci %s: virtio-%s (%x:%x) offers only the "
			"legacy virtio interface; left out (QEMU: "
			"disable-modern=off)\n", d->where + 7,
			virtio_type_name(d->type), VENDOR_VIRTIO, device);
		return false;
	}
	if (len < COMMON_LEN ||
	    !structure(d, CFG_ISR, first, &d->isr, &len, &cap) ||
	    !structure(d, CFG_NOTIFY, first, &d->notify, &len, &cap)) {
		kprintf("lunik: pci %s: virtio-%s: its common, notify or ISR "
			"structure is missing or short; left out\n",
			d->where + 7, virtio_type_name(d->type));
		return false;
	}
	d->notify_mul = pci_read32(d->bdf, cap + CAP_NOTIFY_MULT);
	if (!structure(d, CFG_DEVICE, first, &d->cfg, &cfg_len, &cap))
		d->cfg = 0; /* rng has no configuration */
	return true;
}

static void add(uint32_t bdf, uint16_t device)
{
	struct virtio_dev *d = &devs[ndevs];
	const char *p = "at pci ";
	unsigned n = 0;

	*d = (struct virtio_dev){ .ops = &pci_ops, .bdf = bdf };
	d->type = device >= DEVICE_MODERN_FIRST ? device - DEVICE_MODERN_FIRST :
						  pci_read16(bdf, PCI_SUBSYSTEM);
	while (*p)
		d->where[n++] = *p++;
	pci_name(bdf, d->where + n);
	if (!virtio_known(d->type)) {
		kprintf("lunik: pci %s: virtio device type %u not supported; "
			"left alone\n", d->where + 7, d->type);
		return;
	}
	if (ndevs == DEVS_MAX || !structures(d, device))
		return;
	pci_write16(bdf, PCI_COMMAND, pci_read16(bdf, PCI_COMMAND) |
		    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	d->msix = pci_msix_enable(bdf, msix_interrupt, d, &d->msix_table) == 0;
	if (virtio_add(d) == 0)
		ndevs++;
}

static void found(uint32_t bdf)
{
	uint16_t vendor = pci_read16(bdf, PCI_VENDOR);
	uint16_t device = pci_read16(bdf, PCI_DEVICE);
	uint16_t class = pci_read16(bdf, PCI_CLASS);
	char name[8];

	if (vendor == VENDOR_VIRTIO && device >= DEVICE_LEGACY_FIRST &&
	    device <= DEVICE_LAST) {
		add(bdf, device);
		return;
	}
	if (class >> 8 == 0x06)
		return; /* a bridge: the machine's own */
	pci_name(bdf, name);
	kprintf("lunik: pci %s: device %04x:%04x (class %04x) has no driver; "
		"left alone\n", name, vendor, device, class);
}

bool virtio_pci_init(void)
{
	return pci_scan(found);
}
