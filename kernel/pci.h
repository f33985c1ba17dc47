/*
 * pci.h -- the PCI bus, for the kernel's device drivers (virtio_pci.c).
 * Kernel-private: nothing above kernel/ includes it.
 *
 * Configuration space is reached through the ports 0xcf8/0xcfc
 * ("configuration mechanism #1", PCI Local Bus 3.0, 3.2.2.3.2), which
 * QEMU's pc and q35 and Cloud Hypervisor all decode; its first 256 bytes
 * are all lunik reads. The firmware (SeaBIOS, or the VMM itself) has
 * assigned the BARs and interrupt lines before the kernel runs; the
 * kernel moves nothing.
 */
#ifndef LUNIK_PCI_H
#define LUNIK_PCI_H

#include "irq.h"
#include "kernel.h"

/* A function's address: bus << 8 | device << 3 | function. */
#define PCI_BDF(bus, dev, fn) ((uint32_t)(bus) << 8 | (dev) << 3 | (fn))

/* Configuration space header fields (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR 0x00
#define PCI_DEVICE 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS 0x0a /* base class << 8 | subclass */
#define PCI_HEADER 0x0e
#define PCI_SUBSYSTEM 0x2e
#define PCI_CAPS 0x34
#define PCI_INT_LINE 0x3c
#define PCI_INT_PIN 0x3d

#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_OFF 0x0400

#define PCI_CAP_MSIX 0x11
#define PCI_CAP_VENDOR 0x09

uint32_t pci_read32(uint32_t bdf, unsigned off);
uint16_t pci_read16(uint32_t bdf, unsigned off);
uint8_t pci_read8(uint32_t bdf, unsigned off);
void pci_write16(uint32_t bdf, unsigned off, uint16_t v);

/* Calls (fn)(bdf) for each function present, bus 0 first, then the buses
 * behind PCI-to-PCI bridges as they are met, each in device order.
 * Returns false, calling nothing, when no host bridge answers (no PCI,
 * e.g. QEMU's microvm). */
bool pci_scan(void (*fn)(uint32_t bdf));

/* The address of memory BAR (n) of (bdf), both halves of a 64-bit one;
 * 0 for an I/O BAR, an unassigned one, or an (n) past the last. */
uint64_t pci_bar(uint32_t bdf, unsigned n);

/* The configuration offset of the first capability (id) after offset
 * (from) (0: from the start of the list); 0 when there is none. */
unsigned pci_cap(uint32_t bdf, uint8_t id, unsigned from);

/* Sets up MSI-X entry 0 of (bdf) to call (fn)(arg), masked, and enables
 * MSI-X with legacy INTx off (PCI Local Bus 3.0, 6.8.2). Sets (*table) to
 * the mapped MSI-X table and returns 0; -ENODEV when the function has no
 * MSI-X capability or its table is in no assigned memory BAR, -EBUSY
 * when no vector is left. */
int pci_msix_enable(uint32_t bdf, irq_handler_fn *fn, void *arg,
		    uintptr_t *table);

/* Unmasks MSI-X entry 0 of the (table) pci_msix_enable gave. */
void pci_msix_unmask(uintptr_t table);

/* Writes "bb:dd.f" of (bdf), NUL-terminated, into (out) (8 bytes). */
void pci_name(uint32_t bdf, char *out);

#endif
