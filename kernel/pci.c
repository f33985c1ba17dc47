/*
 * pci.c -- the PCI bus (PCI Local Bus 3.0): configuration space through
 * the ports 0xcf8/0xcfc, a walk of the bus and of the buses behind
 * PCI-to-PCI bridges, memory BARs, the capability list, and MSI-X entry
 * 0 (the only one lunik's drivers use). The interface is in pci.h.
 *
 * Every configuration access is two port accesses, which under a
 * hypervisor are two exits: the walk reads each slot's vendor ID, and
 * only the functions present get more.
 */
#include "pci.h"

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA 0xcfc
#define CONFIG_ENABLE 0x80000000u

#define HEADER_MULTI 0x80  /* multi-function device */
#define HEADER_BRIDGE 0x01 /* PCI-to-PCI bridge (header type 1) */
#define BRIDGE_SECONDARY 0x19
#define STATUS_CAPS 0x0010
#define BAR0 0x10
#define BAR_IO 0x1
#define BAR_TYPE_64 0x4

/* The MSI-X capability (6.8.2): message control, table offset and BIR. */
#define MSIX_CONTROL 2
#define MSIX_TABLE 4
#define MSIX_ENABLE 0x8000
#define MSIX_MASK_ALL 0x4000
#define MSIX_ENTRY 16    /* bytes per table entry */
#define MSIX_VECTOR_CTRL 12
#define MSIX_MASKED 1

#define BUSES_MAX 32 /* bridges followed, at most */

static void select_reg(uint32_t bdf, unsigned off)
{
	outl(CONFIG_ADDRESS, CONFIG_ENABLE | bdf << 8 | (off & 0xfc));
}

uint32_t pci_read32(uint32_t bdf, unsigned off)
{
	select_reg(bdf, off);
	return inl(CONFIG_DATA);
}

uint16_t pci_read16(uint32_t bdf, unsigned off)
{
	return (uint16_t)(pci_read32(bdf, off) >> (off & 2) * 8);
}

uint8_t pci_read8(uint32_t bdf, unsigned off)
{
	return (uint8_t)(pci_read32(bdf, off) >> (off & 3) * 8);
}

void pci_write16(uint32_t bdf, unsigned off, uint16_t v)
{
	select_reg(bdf, off);
	outw((uint16_t)(CONFIG_DATA + (off & 2)), v);
}

bool pci_scan(void (*fn)(uint32_t bdf))
{
	unsigned buses[BUSES_MAX] = { 0 };
	unsigned nbuses = 1;

	if (pci_read16(PCI_BDF(0, 0, 0), PCI_VENDOR) == 0xffff)
		return false;
	for (unsigned b = 0; b < nbuses; b++) {
		for (unsigned dev = 0; dev < 32; dev++) {
			uint32_t bdf = PCI_BDF(buses[b], dev, 0);
			uint8_t header;
			unsigned fns;

			if (pci_read16(bdf, PCI_VENDOR) == 0xffff)
				continue;
			header = pci_read8(bdf, PCI_HEADER);
			fns = header & HEADER_MULTI ? 8 : 1;
			for (unsigned f = 0; f < fns; f++, bdf++) {
				if (f && pci_read16(bdf, PCI_VENDOR) == 0xffff)
					continue;
				header = pci_read8(bdf, PCI_HEADER);
				if ((header & 0x7f) == HEADER_BRIDGE &&
				    nbuses < BUSES_MAX &&
				    pci_read8(bdf, BRIDGE_SECONDARY) > buses[b])
					buses[nbuses++] =
						pci_read8(bdf, BRIDGE_SECONDARY);
				fn(bdf);
			}
		}
	}
	return true;
}

uint64_t pci_bar(uint32_t bdf, unsigned n)
{
	uint32_t lo;
	uint64_t addr;

	if (n > 5 || (pci_read8(bdf, PCI_HEADER) & 0x7f) != 0)
		return 0;
	lo = pci_read32(bdf, BAR0 + 4 * n);
	if (lo & BAR_IO)
		return 0;
	addr = lo & ~0xfull;
	if ((lo & 0x6) == BAR_TYPE_64 && n < 5)
		addr |= (uint64_t)pci_read32(bdf, BAR0 + 4 * (n + 1)) << 32;
	return addr;
}

unsigned pci_cap(uint32_t bdf, uint8_t id, unsigned from)
{
	unsigned off, hops = 0;

	if (!(pci_read16(bdf, PCI_STATUS) & STATUS_CAPS))
		return 0;
	off = from ? pci_read8(bdf, from + 1) : pci_read8(bdf, PCI_CAPS);
	/* 48 capabilities fill the 192 bytes after the header: a longer
	 * list loops. */
	for (; off >= 0x40 && hops < 48; hops++) {
		off &= 0xfc;
		if (pci_read8(bdf, off) == id)
			return off;
		off = pci_read8(bdf, off + 1);
	}
	return 0;
}

int pci_msix_enable(uint32_t bdf, irq_handler_fn *fn, void *arg,
		    uintptr_t *table)
{
	unsigned cap = pci_cap(bdf, PCI_CAP_MSIX, 0);
	uint32_t where, data;
	uint64_t bar, addr;
	uint16_t ctrl;
	int rc;

	if (!cap)
		return -ENODEV;
	where = pci_read32(bdf, cap + MSIX_TABLE);
	if (!(bar = pci_bar(bdf, where & 7)))
		return -ENODEV;
	if ((rc = irq_msi(fn, arg, &addr, &data)))
		return rc;
	*table = (uintptr_t)(bar + (where & ~7u));
	ctrl = pci_read16(bdf, cap + MSIX_CONTROL);
	mmu_map(*table, ((ctrl & 0x7ff) + 1u) * MSIX_ENTRY, true);
	mmio_write32(*table + MSIX_VECTOR_CTRL, MSIX_MASKED);
	mmio_write32(*table, (uint32_t)addr);
	mmio_write32(*table + 4, (uint32_t)(addr >> 32));
	mmio_write32(*table + 8, data);
	/* Every other entry stays masked, as reset leaves them (6.8.2.9). */
	pci_write16(bdf, cap + MSIX_CONTROL,
		    (uint16_t)((ctrl | MSIX_ENABLE) & ~MSIX_MASK_ALL));
	pci_write16(bdf, PCI_COMMAND,
		    pci_read16(bdf, PCI_COMMAND) | PCI_COMMAND_INTX_OFF);
	return 0;
}

void pci_msix_unmask(uintptr_t table)
{
	mmio_write32(table + MSIX_VECTOR_CTRL, 0);
}

void pci_name(uint32_t bdf, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned bus = bdf >> 8, dev = bdf >> 3 & 31;

	out[0] = hex[bus >> 4 & 0xf];
	out[1] = hex[bus & 0xf];
	out[2] = ':';
	out[3] = hex[dev >> 4];
	out[4] = hex[dev & 0xf];
	out[5] = '.';
	out[6] = (char)('0' + (bdf & 7));
	out[7] = '\0';
}
