/*
 * virtio.c -- the half of virtio that no transport changes (virtio 1.2,
 * 3.1.1 and 2.7): the device status handshake and feature negotiation,
 * configuration space reads, virtqueue memory and set-up, devices sharing
 * an interrupt line, the memory rings and buffers come from, and the
 * hand-over of each device found to the driver of its type. The
 * transports (virtio_mmio.c, virtio_pci.c) supply the register accesses
 * through struct virtio_ops (virtio.h).
 *
 * Discovery order is the device numbering of the seam: the PCI bus first
 * (slot order, which is QEMU's -device order), then virtio-mmio (top
 * down, also QEMU's order). A machine has one or the other in practice.
 */
#include "irq.h"
#include "virtio.h"

#define RESET_SPINS 100000

static struct virtio_dev *on_gsi[VEC_IRQ_COUNT];
static unsigned counts[VIRTIO_ID_RNG + 1]; /* devices named, per type */

void *virtio_alloc(size_t size, size_t align, bool zero)
{
	void *p = mmu_take(size, align);

	if (p && zero)
		virtio_zero(p, size);
	return p;
}

int virtio_fail(struct virtio_dev *d, const char *why)
{
	kprintf("lunik: virtio %s %s: %s; left out\n", d->name, d->where, why);
	d->ops->set_status(d, d->ops->get_status(d) | VIRTIO_STATUS_FAILED);
	return -ENODEV;
}

/* Writing 0 resets the device; it says it is done by reading 0 (2.1.2,
 * 4.1.4.3.2, 4.2.3.1). */
static bool reset(struct virtio_dev *d)
{
	d->ops->set_status(d, 0);
	for (int i = 0; i < RESET_SPINS; i++)
		if (d->ops->get_status(d) == 0)
			return true;
	return false;
}

static void add_status(struct virtio_dev *d, uint8_t bits)
{
	d->ops->set_status(d, d->ops->get_status(d) | bits);
}

int virtio_negotiate(struct virtio_dev *d, uint64_t wanted, uint64_t needed)
{
	uint64_t offered, missing;
	char why[48];

	needed |= 1ull << VIRTIO_F_VERSION_1;
	if (!reset(d))
		return virtio_fail(d, "does not come out of reset");
	add_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	add_status(d, VIRTIO_STATUS_DRIVER);
	offered = d->ops->get_features(d);
	missing = needed & ~offered;
	if (missing & (1ull << VIRTIO_F_VERSION_1))
		return virtio_fail(d, "offers only the legacy interface "
				      "(no VIRTIO_F_VERSION_1)");
	if (missing) {
		int bit = __builtin_ctzll(missing);
		const char *msg = "lacks feature bit ";
		size_t n = 0;

		while (*msg)
			why[n++] = *msg++;
		if (bit >= 10)
			why[n++] = (char)('0' + bit / 10);
		why[n++] = (char)('0' + bit % 10);
		why[n] = '\0';
		return virtio_fail(d, why);
	}
	d->features = offered & (wanted | needed);
	d->ops->set_features(d, d->features);
	add_status(d, VIRTIO_STATUS_FEATURES_OK);
	if (!(d->ops->get_status(d) & VIRTIO_STATUS_FEATURES_OK))
		return virtio_fail(d, "refused the negotiated features");
	return 0;
}

uint8_t virtio_cfg8(const struct virtio_dev *d, unsigned off)
{
	return mmio_read8(d->cfg + off);
}

uint16_t virtio_cfg16(const struct virtio_dev *d, unsigned off)
{
	return mmio_read16(d->cfg + off);
}

uint32_t virtio_cfg32(const struct virtio_dev *d, unsigned off)
{
	return mmio_read32(d->cfg + off);
}

uint64_t virtio_cfg64(struct virtio_dev *d, unsigned off)
{
	uint32_t gen, lo, hi;
	int tries = 0;

	do {
		gen = d->ops->generation(d);
		lo = mmio_read32(d->cfg + off);
		hi = mmio_read32(d->cfg + off + 4);
	} while (gen != d->ops->generation(d) && ++tries < 16);
	return (uint64_t)hi << 32 | lo;
}

/* The ring layout and alignments are those of 2.7; the transport then
 * tells the device where they are (4.1.5.1.3, 4.2.3.2). */
int virtq_init(struct virtio_dev *d, struct virtq *q, unsigned index,
	       unsigned max)
{
	unsigned size = d->ops->queue_max(d, index);

	if (size == 0)
		return virtio_fail(d, "a virtqueue is missing or in use");
	if (size > max)
		size = max;
	size = 1u << (31 - __builtin_clz(size)); /* a power of 2 */
	*q = (struct virtq){ .dev = d, .index = (uint16_t)index,
			     .size = (uint16_t)size, .nfree = (uint16_t)size };
	q->desc = virtio_alloc(16 * size, 16, true);
	q->avail = virtio_alloc(2 * (3 + size), 2, true);
	q->used = virtio_alloc(4 + 8 * size + 2, 4, true);
	if (!q->desc || !q->avail || !q->used)
		return virtio_fail(d, "out of memory for its rings");
	for (uint32_t i = 0; i + 1 < size; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	return d->ops->queue_enable(d, q);
}

/* Acknowledges every device on the line. */
static void gsi_interrupt(void *arg)
{
	for (struct virtio_dev *d = arg; d; d = d->next_on_gsi)
		if (d->ops->ack(d))
			d->irqs++;
}

int virtio_route_gsi(struct virtio_dev *d, unsigned flags)
{
	struct virtio_dev **head;
	uint64_t intr;
	int rc = 0;

	if (d->gsi >= VEC_IRQ_COUNT)
		return -EINVAL;
	head = &on_gsi[d->gsi];
	intr = intr_save(); /* the handler walks the list */
	if (*head) {
		d->next_on_gsi = *head;
		*head = d;
	} else if ((rc = irq_route(d->gsi, flags, gsi_interrupt, d)) == 0) {
		*head = d;
	}
	intr_restore(intr);
	return rc;
}

int virtio_start(struct virtio_dev *d)
{
	add_status(d, VIRTIO_STATUS_DRIVER_OK);
	if (d->ops->get_status(d) & VIRTIO_STATUS_FAILED)
		return virtio_fail(d, "failed when started");
	if (d->ops->start_irq(d))
		return virtio_fail(d, "no interrupt line for it");
	return 0;
}

const char *virtio_type_name(uint32_t type)
{
	return type == VIRTIO_ID_NET ? "net" :
	       type == VIRTIO_ID_BLK ? "blk" :
	       type == VIRTIO_ID_RNG ? "rng" : NULL;
}

bool virtio_known(uint32_t type)
{
	return virtio_type_name(type) != NULL;
}

int virtio_add(struct virtio_dev *d)
{
	const char *t = virtio_type_name(d->type);
	unsigned n;
	int rc;

	if (!t)
		return -ENODEV;
	n = counts[d->type];
	virtio_copy(d->name, t, 3);
	d->name[3] = (char)('0' + n % 10);
	d->name[4] = '\0';
	rc = d->type == VIRTIO_ID_NET ? virtio_net_probe(d) :
	     d->type == VIRTIO_ID_BLK ? virtio_blk_probe(d) :
					virtio_rng_probe(d);
	if (rc == 0)
		counts[d->type]++;
	return rc;
}

void virtio_init(void)
{
	virtio_mmio_init(!virtio_pci_init());
}
