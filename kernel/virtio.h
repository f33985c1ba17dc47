/*
 * virtio.h -- what the virtio files of kernel/ share: the device model
 * and its generic half (virtio.c: status handshake, feature negotiation,
 * configuration reads, virtqueue set-up, interrupt lines, memory), the
 * transports below it (virtio_mmio.c, virtio_pci.c), split virtqueues
 * (virtio_ring.c), and the probe entry of each device driver
 * (virtio_net.c, virtio_blk.c, virtio_rng.c). Kernel-private: nothing
 * above kernel/ includes it.
 *
 * A transport finds its devices, fills in a struct virtio_dev with its
 * operations (struct virtio_ops) and hands it to virtio_add, which calls
 * the driver for its type; drivers know nothing of the transport. Only
 * the modern interface is driven (virtio 1.2: MMIO version 2, PCI
 * capabilities, VIRTIO_F_VERSION_1, split virtqueues, little-endian
 * fields, which on x86 need no swapping). Guest memory is identity mapped
 * (mmu.c), so a pointer is the address the device is given.
 */
#ifndef LUNIK_VIRTIO_H
#define LUNIK_VIRTIO_H

#include "kernel.h"

/* Device types (virtio 1.2, 5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLK 2
#define VIRTIO_ID_RNG 4

/* Feature bits common to every device (6). */
#define VIRTIO_F_VERSION_1 32

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_FAILED 128

struct virtio_dev;
struct virtq;

/* What a transport does for the generic code. Every call takes the
 * device; none blocks for long. */
struct virtio_ops {
	uint8_t (*get_status)(struct virtio_dev *d);
	void (*set_status)(struct virtio_dev *d, uint8_t status);
	/* The 64 feature bits the device offers; the ones the driver takes. */
	uint64_t (*get_features)(struct virtio_dev *d);
	void (*set_features)(struct virtio_dev *d, uint64_t features);
	/* The configuration generation (2.5.1): changes when the device
	 * changes its configuration space. */
	uint32_t (*generation)(struct virtio_dev *d);
	/* The largest size of queue (index), or 0 when it does not exist or
	 * is in use already. */
	unsigned (*queue_max)(struct virtio_dev *d, unsigned index);
	/* Gives the device (q)'s size and ring addresses and enables it;
	 * returns 0 or -ENODEV after printing why. */
	int (*queue_enable)(struct virtio_dev *d, struct virtq *q);
	/* Tells the device that queue (q) has new buffers. */
	void (*notify)(const struct virtq *q);
	/* Starts the device's interrupts (called once, after DRIVER_OK);
	 * returns 0 or a negative errno after printing why. */
	int (*start_irq)(struct virtio_dev *d);
	/* For a line shared by several devices (virtio_route_gsi): reads and
	 * acknowledges the device's interrupt status; nonzero if it was set. */
	uint32_t (*ack)(struct virtio_dev *d);
};

/* A device behind one transport. */
struct virtio_dev {
	const struct virtio_ops *ops;
	uintptr_t regs;       /* MMIO: the transport's registers; PCI: the
			       * common configuration structure */
	uintptr_t cfg;        /* the device configuration space (memory) */
	uintptr_t isr;        /* PCI: the ISR status byte */
	uintptr_t notify;     /* PCI: the notification area ... */
	uint32_t notify_mul;  /* ... and its notify_off_multiplier */
	unsigned gsi;         /* its interrupt line, when it uses one */
	bool gsi_guessed;     /* MMIO: found by probing, not named */
	bool msix;            /* PCI: interrupts by MSI-X entry 0 */
	uint16_t msix_ctrl;   /* PCI: config offset of the MSI-X cap */
	uintptr_t msix_table; /* PCI: the MSI-X table */
	uint32_t bdf;         /* PCI: bus, device, function */
	uint32_t type;        /* VIRTIO_ID_* */
	uint64_t features;    /* as negotiated */
	char name[8];         /* "net0", "blk1": for console lines */
	char where[24];       /* "at 0xfeb00e00", "at pci 00:03.0" */
	struct virtio_dev *next_on_gsi; /* devices sharing the line */
	unsigned long irqs;   /* interrupts taken (for the curious) */
};

/* ---- virtio.c (virtio_init is in kernel.h) */

/* Names (d) after its type ("net" plus its number among the devices of
 * that type) and sets it up with the driver of its type. Returns 0, or
 * -ENODEV when the driver refused it (it printed why). (d) must stay put:
 * drivers keep the pointer. */
int virtio_add(struct virtio_dev *d);

/* Whether virtio_add has a driver for device type (type). */
bool virtio_known(uint32_t type);

/* The name of device type (type) for console lines ("net", "blk",
 * "rng"), or NULL for one no driver here knows. */
const char *virtio_type_name(uint32_t type);

/* Resets (d), acknowledges it, and negotiates features: accepts those of
 * (wanted) the device offers, plus VIRTIO_F_VERSION_1, which must be
 * offered, as must every bit of (needed). Returns 0 with d->features set
 * (FEATURES_OK accepted by the device), or -ENODEV after printing why and
 * marking the device FAILED. */
int virtio_negotiate(struct virtio_dev *d, uint64_t wanted, uint64_t needed);

/* Reads device configuration field (off) of 1, 2, 4 or 8 bytes (2.5:
 * accesses of the field's own width, a 64-bit one as two 32-bit reads
 * retried until the configuration generation holds still). */
uint8_t virtio_cfg8(const struct virtio_dev *d, unsigned off);
uint16_t virtio_cfg16(const struct virtio_dev *d, unsigned off);
uint32_t virtio_cfg32(const struct virtio_dev *d, unsigned off);
uint64_t virtio_cfg64(struct virtio_dev *d, unsigned off);

/* Sets DRIVER_OK and starts the device's interrupts; returns 0, or
 * -ENODEV after printing why (the device is then marked FAILED). */
int virtio_start(struct virtio_dev *d);

/* Marks (d) FAILED after printing "(d->name) (d->where): (why)". Returns
 * -ENODEV. */
int virtio_fail(struct virtio_dev *d, const char *why);

/* Adds (d) to the devices interrupting on line d->gsi (level-triggered,
 * shared: the handler calls each one's ops->ack), routing the line with
 * (flags) (irq.h) for the first. Returns irq_route's error. */
int virtio_route_gsi(struct virtio_dev *d, unsigned flags);

/* Memory for rings and buffers, from mmu_take (at boot: the RAM below the
 * image, else the heap's top): (size) bytes aligned to (align) (a power
 * of 2), zeroed when (zero). NULL when there is not enough; never freed. */
void *virtio_alloc(size_t size, size_t align, bool zero);

/* ---- virtio_mmio.c, virtio_pci.c: each finds its transports and calls
 * virtio_add for each device, in discovery order. virtio_pci_init
 * returns whether the machine has a PCI bus; virtio_mmio_init probes
 * microvm's window only when (probe). */
bool virtio_pci_init(void);
void virtio_mmio_init(bool probe);

/* Byte copies and fills that compile to `rep movsb/stosb` (the kernel has
 * no libc, and gcc may turn a loop into a call to memcpy). */
static inline void virtio_copy(void *dst, const void *src, size_t n)
{
	__asm__ volatile("rep movsb"
			 : "+D"(dst), "+S"(src), "+c"(n)
			 :
			 : "memory");
}

static inline void virtio_zero(void *dst, size_t n)
{
	__asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(0) : "memory");
}

/* ---- split virtqueues (2.7): set up by virtio.c and the transport,
 * driven by virtio_ring.c. One CPU and handlers that never touch a ring: no locks. */

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2 /* the device writes this buffer */

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* then used_event, unused without EVENT_IDX */
};

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct {
		uint32_t id;
		uint32_t len;
	} ring[];
};

#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq {
	volatile struct virtq_desc *desc;
	volatile struct virtq_avail *avail;
	volatile struct virtq_used *used;
	struct virtio_dev *dev;
	uintptr_t notify;   /* where the transport's notify writes go */
	uint16_t index;     /* the queue's number on its device */
	uint16_t size;      /* entries: a power of 2 */
	uint16_t avail_idx; /* the avail->idx virtq_kick publishes */
	uint16_t last_used; /* the next used entry to take */
	uint16_t free_head; /* free descriptors, chained through next */
	uint16_t nfree;
};

/* Sets up queue (index) of (d) with at most (max) entries (the device's
 * maximum if lower, rounded down to a power of 2), every descriptor free,
 * interrupts on (virtio.c). Returns 0, or -ENODEV after printing why. */
int virtq_init(struct virtio_dev *d, struct virtq *q, unsigned index,
	       unsigned max);

/* Takes (n) >= 1 free descriptors, linked in a chain through NEXT, and
 * returns the head; -1 (taking none) when fewer than (n) are free. */
int virtq_chain(struct virtq *q, unsigned n);

/* Points descriptor (i) of a chain at (len) bytes at (addr), which the
 * device writes if (device_writes), else reads; returns the next
 * descriptor of the chain. */
uint16_t virtq_fill(struct virtq *q, uint16_t i, const void *addr,
		    uint32_t len, bool device_writes);

/* Returns the chain starting at (head) to the free list. */
void virtq_free(struct virtq *q, uint16_t head);

/* Puts the chain at (head) in the available ring (not yet visible). */
void virtq_push(struct virtq *q, uint16_t head);

/* Publishes what virtq_push queued and notifies the device, unless it
 * said it needs no notification (VIRTQ_USED_F_NO_NOTIFY). */
void virtq_kick(struct virtq *q);

/* Takes the next used entry: sets (*id) (the chain's head) and (*len)
 * and returns true, or returns false when the device has returned
 * nothing new. */
bool virtq_take(struct virtq *q, uint32_t *id, uint32_t *len);

/* Asks the device for interrupts on used buffers (on) or not (off; a
 * hint the device may ignore, 2.7.7). Turning them on returns whether
 * used entries are already waiting, checked after the flag is visible,
 * so a caller that sees false may halt: the next entry interrupts. */
bool virtq_interrupts(struct virtq *q, bool on);

/* ---- drivers: each takes a negotiated-nothing device of its type, sets
 * it up and starts it; returns 0, or -ENODEV after printing why. */
int virtio_net_probe(struct virtio_dev *d);
int virtio_blk_probe(struct virtio_dev *d);
int virtio_rng_probe(struct virtio_dev *d);

/* ---- virtio_rng.c, for entropy.c */
/* Copies up to (len) random bytes the device has delivered into (buf) and
 * returns how many (possibly 0, with a refill under way); -ENODEV when
 * there is no virtio-rng device. */
long virtio_rng_read(void *buf, size_t len);

#endif
