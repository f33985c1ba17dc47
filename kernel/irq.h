/*
 * irq.h -- device interrupts, for the kernel's device drivers (virtio).
 * Kernel-private: nothing above kernel/ includes it.
 *
 * The 8259 PICs are masked for good; device interrupts come through the
 * I/O APICs, one vector per global system interrupt (GSI): the first I/O
 * APIC (0xfec00000) serves GSIs 0-23, and QEMU's microvm adds a second one
 * (0xfec10000, GSIs 24-47) when ACPI is on, where its virtio-mmio
 * transports live. Without it, microvm wires virtio-mmio to GSIs 16-23
 * (ACPI on) or 5-12 (ACPI off); the "virtio_mmio.device=" words QEMU
 * appends to the command line name the GSI of each transport.
 *
 * PCI devices with MSI-X signal vectors of their own instead (irq_msi).
 * Any routed interrupt wakes plat_wait().
 */
#ifndef LUNIK_IRQ_H
#define LUNIK_IRQ_H

#include <stdbool.h>
#include <stdint.h>

/* Trigger mode and polarity of an I/O APIC input (82093AA datasheet,
 * 3.2.4). ISA interrupts are edge/high; virtio-mmio on microvm asserts a
 * level that stays up until the driver acknowledges the device. */
#define IRQ_EDGE 0
#define IRQ_LEVEL 1
#define IRQ_ACTIVE_LOW 2

/* A device-interrupt handler. It runs with interrupts off on the shared
 * interrupt stack, in kernel C only (no newlib: the FPU/SSE registers of
 * the interrupted code are not saved); it should acknowledge the device
 * (for IRQ_LEVEL it must, or the interrupt fires again at once) and note
 * what happened for the code that plat_wait() returns to. The local APIC
 * EOI is sent for it after it returns. */
typedef void irq_handler_fn(void *arg);

/* Masks every I/O APIC input and the 8259s. Called once at boot. */
void irq_init(void);

/* Routes (gsi) with (flags) (IRQ_EDGE or IRQ_LEVEL, optionally
 * | IRQ_ACTIVE_LOW) to its vector on this CPU, calls (fn)(arg) on each
 * interrupt, and unmasks it. Returns 0, -EINVAL (no I/O APIC has that
 * input, or fn is NULL) or -EBUSY (already routed). */
int irq_route(unsigned gsi, unsigned flags, irq_handler_fn *fn, void *arg);

/* Takes a free vector for a message-signalled interrupt (PCI MSI-X),
 * calls (fn)(arg) on each, and sets (*addr) and (*data) to the message
 * that raises it on this CPU: fixed delivery, edge, physical destination
 * (SDM vol. 3A, 11.11). Returns 0, -EINVAL for a NULL fn, or -EBUSY when
 * every vector is taken. */
int irq_msi(irq_handler_fn *fn, void *arg, uint64_t *addr, uint32_t *data);

/* Masks or unmasks a routed (gsi); no effect on one never routed. */
void irq_mask(unsigned gsi);
void irq_unmask(unsigned gsi);

/* Whether a routed device interrupt arrived since the last call; clears
 * the note. For plat_wait(), with interrupts off. */
bool irq_take_pending(void);

#endif
