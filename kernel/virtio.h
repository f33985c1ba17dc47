/*
 * virtio.h -- what the virtio files of kernel/ share: the MMIO transport
 * (virtio_mmio.c), split virtqueues (virtio_ring.c), and the probe entry
 * of each device driver (virtio_net.c, virtio_blk.c, virtio_rng.c).
 * Kernel-private: nothing above kernel/ includes it.
 *
 * Only the modern interface is driven (virtio 1.2: MMIO version 2,
 * VIRTIO_F_VERSION_1, split virtqueues, little-endian fields, which on
 * x86 need no swapping). Guest memory is identity mapped (mmu.c), so a
 * pointer is the address the device is given.
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

/* A device behind one MMIO transport. */
struct virtio_dev {
	uintptr_t base;       /* the transport's registers */
	unsigned gsi;         /* its interrupt */
	bool gsi_guessed;     /* found by probing, not named by the loader */
	uint32_t type;        /* VIRTIO_ID_* */
	uint64_t features;    /* as negotiated */
	char name[8];         /* "net0", "blk1": for console lines */
	struct virtio_dev *next_on_gsi; /* transports sharing the interrupt */
	unsigned long irqs;   /* interrupts taken (for the curious) */
};

/* ---- virtio_mmio.c (virtio_init is in kernel.h) */

/* Resets (d), acknowledges it, and negotiates features: accepts those of
 * (wanted) the device offers, plus VIRTIO_F_VERSION_1, which must be
 * offered, as must every bit of (needed). Returns 0 with d->features set
 * (FEATURES_OK accepted by the device), or -ENODEV after printing why and
 * marking the device FAILED. */
int virtio_negotiate(struct virtio_dev *d, uint64_t wanted, uint64_t needed);

/* Reads device configuration field (off) of 1, 2, 4 or 8 bytes (4.2.2.2:
 * accesses of the field's own width, a 64-bit one as two 32-bit reads
 * retried until ConfigGeneration holds still). */
uint8_t virtio_cfg8(const struct virtio_dev *d, unsigned off);
uint16_t virtio_cfg16(const struct virtio_dev *d, unsigned off);
uint32_t virtio_cfg32(const struct virtio_dev *d, unsigned off);
uint64_t virtio_cfg64(const struct virtio_dev *d, unsigned off);

/* Sets DRIVER_OK and routes the device's interrupt; returns 0, or -ENODEV
 * after printing why (the device is then marked FAILED). */
int virtio_start(struct virtio_dev *d);

/* Marks (d) FAILED after printing "(d->name): (why)". Returns -ENODEV. */
int virtio_fail(struct virtio_dev *d, const char *why);

/* Memory for rings and buffers, from a fixed arena in .noinit (so it
 * costs no boot time to zero): (size) bytes aligned to (align) (a power
 * of 2), zeroed when (zero). NULL when the arena is spent; never freed. */
void *virtio_alloc(size_t size, size_t align, bool zero);

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

/* ---- split virtqueues (2.7): set up by virtio_mmio.c, driven by
 * virtio_ring.c. One CPU and handlers that never touch a ring: no locks. */

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
	uintptr_t notify;   /* the transport's QueueNotify register */
	uint16_t index;     /* the queue's number on its device */
	uint16_t size;      /* entries: a power of 2 */
	uint16_t avail_idx; /* the avail->idx virtq_kick publishes */
	uint16_t last_used; /* the next used entry to take */
	uint16_t free_head; /* free descriptors, chained through next */
	uint16_t nfree;
};

/* Sets up queue (index) of (d) with at most (max) entries (the device's
 * maximum if lower, rounded down to a power of 2), every descriptor free,
 * interrupts on. Returns 0, or -ENODEV after printing why. */
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
