/*
 * virtio_blk.c -- virtio-blk (virtio 1.2, 5.2) behind plat_blk_info,
 * plat_blk_submit and plat_blk_poll.
 *
 * Negotiated when offered: VIRTIO_BLK_F_RO (writes refused with -EROFS
 * before they reach the device), VIRTIO_BLK_F_BLK_SIZE (the logical block
 * size becomes the sector size of the seam, when it is a power of 2 from
 * 512 to 64 KiB), VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_SIZE_MAX and
 * VIRTIO_BLK_F_SEG_MAX (data split into segments of at most size_max
 * bytes, no more than seg_max of them). No multiqueue, no discard.
 *
 * A request is a descriptor chain (5.2.6): the 16-byte header (type,
 * sector in 512-byte units whatever the block size), the data (the
 * caller's buffer itself, written by the device for a read), and the
 * status byte the device writes. Header, status and tag live in arrays
 * indexed by the chain's head descriptor, so many requests are in flight
 * at once and complete in any order.
 *
 * PLAT_BLK_FLUSH is VIRTIO_BLK_T_FLUSH when the device offers it. A
 * device without VIRTIO_BLK_F_FLUSH has no volatile write cache (5.2.5:
 * it is write-through, as Linux also assumes), so everything it completed
 * is durable already: the flush completes at once, through the same poll.
 */
#include "virtio.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

/* struct virtio_blk_config */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define BLK_MAX 8
#define BLK_QUEUE 256
#define STATUS_UNSET 0xff

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk {
	struct virtio_dev *dev;
	struct virtq q;
	struct blk_hdr *hdr;  /* per head descriptor */
	uint8_t *status;      /* per head descriptor */
	uintptr_t *tag;       /* per head descriptor */
	uintptr_t *done;      /* flushes completed without the device */
	uint16_t done_head, done_count;
	uint64_t sectors;     /* of sector_size bytes */
	uint32_t sector_size;
	uint32_t seg_bytes;   /* the most one descriptor may carry */
	uint32_t seg_max;     /* the most data descriptors a request may use */
	bool readonly, flush;
};

static struct blk blks[BLK_MAX];
static unsigned nblks;

static bool has(const struct blk *b, int bit)
{
	return b->dev->features & (1ull << bit);
}

/* Reads the geometry the device offers. */
static void configure(struct blk *b)
{
	struct virtio_dev *d = b->dev;
	uint32_t bs = has(b, VIRTIO_BLK_F_BLK_SIZE) ? virtio_cfg32(d, CFG_BLK_SIZE) : 512;

	if (bs < 512 || bs > 65536 || (bs & (bs - 1)))
		bs = 512;
	b->sector_size = bs;
	b->sectors = virtio_cfg64(d, CFG_CAPACITY) / (bs / 512);
	b->readonly = has(b, VIRTIO_BLK_F_RO);
	b->flush = has(b, VIRTIO_BLK_F_FLUSH);
	b->seg_bytes = PLAT_BLK_MAX_BYTES;
	if (has(b, VIRTIO_BLK_F_SIZE_MAX) && virtio_cfg32(d, CFG_SIZE_MAX) >= 512 &&
	    virtio_cfg32(d, CFG_SIZE_MAX) < b->seg_bytes)
		b->seg_bytes = virtio_cfg32(d, CFG_SIZE_MAX);
	b->seg_max = b->q.size - 2;
	if (has(b, VIRTIO_BLK_F_SEG_MAX) && virtio_cfg32(d, CFG_SEG_MAX) > 0 &&
	    virtio_cfg32(d, CFG_SEG_MAX) < b->seg_max)
		b->seg_max = virtio_cfg32(d, CFG_SEG_MAX);
}

int virtio_blk_probe(struct virtio_dev *d)
{
	struct blk *b = &blks[nblks];
	uint64_t wanted = 1ull << VIRTIO_BLK_F_RO | 1ull << VIRTIO_BLK_F_BLK_SIZE |
			  1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_SIZE_MAX |
			  1ull << VIRTIO_BLK_F_SEG_MAX;
	size_t n;

	if (nblks == BLK_MAX)
		return virtio_fail(d, "one block device too many");
	*b = (struct blk){ .dev = d };
	if (virtio_negotiate(d, wanted, 0) || virtq_init(d, &b->q, 0, BLK_QUEUE))
		return -ENODEV;
	n = b->q.size;
	if (n < 4) /* a request takes 3 descriptors; sizes are powers of 2 */
		return virtio_fail(d, "its queue is too small");
	b->hdr = virtio_alloc(n * sizeof(*b->hdr), 16, true);
	b->status = virtio_alloc(n, 1, true);
	b->tag = virtio_alloc(n * sizeof(*b->tag), 8, true);
	b->done = virtio_alloc(n * sizeof(*b->done), 8, true);
	if (!b->hdr || !b->status || !b->tag || !b->done)
		return virtio_fail(d, "out of memory for its requests");
	configure(b);
	if (virtio_start(d))
		return -ENODEV;
	nblks++;
	return 0;
}

int plat_blk_info(unsigned dev, struct plat_blk_info *info)
{
	struct blk *b = dev < nblks ? &blks[dev] : NULL;

	if (!b)
		return -ENODEV;
	info->sectors = b->sectors;
	info->sector_size = b->sector_size;
	info->readonly = b->readonly;
	return 0;
}

/* A flush the device need not see: completed at once, polled later. */
static int complete_now(struct blk *b, uintptr_t tag)
{
	if (b->done_count == b->q.size)
		return -EAGAIN;
	b->done[(b->done_head + b->done_count++) % b->q.size] = tag;
	return 0;
}

/* Checks a read or write; sets (*bytes) and (*segs), the data
 * descriptors it needs. */
static int check_rw(const struct blk *b, int op, uint64_t sector,
		    uint32_t count, uint64_t *bytes, unsigned *segs)
{
	if (count == 0 || sector >= b->sectors || count > b->sectors - sector)
		return -EINVAL;
	*bytes = (uint64_t)count * b->sector_size;
	if (*bytes > PLAT_BLK_MAX_BYTES)
		return -EINVAL;
	*segs = (unsigned)((*bytes + b->seg_bytes - 1) / b->seg_bytes);
	if (*segs > b->seg_max)
		return -EINVAL;
	if (op == PLAT_BLK_WRITE && b->readonly)
		return -EROFS;
	return 0;
}

int plat_blk_submit(unsigned dev, int op, uint64_t sector, uint32_t count,
		    void *buf, uintptr_t tag)
{
	struct blk *b = dev < nblks ? &blks[dev] : NULL;
	uint64_t bytes = 0;
	unsigned segs = 0;
	uint16_t i;
	int head, rc;

	if (!b)
		return -ENODEV;
	if (op == PLAT_BLK_FLUSH && !b->flush)
		return complete_now(b, tag);
	if (op != PLAT_BLK_FLUSH && op != PLAT_BLK_READ && op != PLAT_BLK_WRITE)
		return -EINVAL;
	if (op != PLAT_BLK_FLUSH &&
	    (rc = check_rw(b, op, sector, count, &bytes, &segs)))
		return rc;
	if ((head = virtq_chain(&b->q, segs + 2)) < 0)
		return -EAGAIN;
	b->hdr[head] = (struct blk_hdr){
		.type = op == PLAT_BLK_READ ? VIRTIO_BLK_T_IN :
			op == PLAT_BLK_WRITE ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_FLUSH,
		.sector = op == PLAT_BLK_FLUSH ? 0 : sector * (b->sector_size / 512),
	};
	b->status[head] = STATUS_UNSET;
	b->tag[head] = tag;
	i = virtq_fill(&b->q, (uint16_t)head, &b->hdr[head], sizeof(b->hdr[head]),
		       false);
	for (uint64_t at = 0; at < bytes; at += b->seg_bytes) {
		uint64_t len = bytes - at < b->seg_bytes ? bytes - at : b->seg_bytes;

		i = virtq_fill(&b->q, i, (uint8_t *)buf + at, (uint32_t)len,
			       op == PLAT_BLK_READ);
	}
	virtq_fill(&b->q, i, &b->status[head], 1, true);
	virtq_push(&b->q, (uint16_t)head);
	virtq_kick(&b->q);
	return 0;
}

int plat_blk_poll(unsigned dev, uintptr_t *tag, int *status)
{
	struct blk *b = dev < nblks ? &blks[dev] : NULL;
	uint32_t id, len;

	if (!b)
		return -ENODEV;
	if (b->done_count) {
		*tag = b->done[b->done_head];
		*status = 0;
		b->done_head = (uint16_t)((b->done_head + 1) % b->q.size);
		b->done_count--;
		return 1;
	}
	do {
		if (!virtq_take(&b->q, &id, &len))
			return 0;
	} while (id >= b->q.size); /* not a chain of ours */
	*tag = b->tag[id];
	switch (b->status[id]) {
	case VIRTIO_BLK_S_OK:
		*status = 0;
		break;
	case VIRTIO_BLK_S_UNSUPP:
		*status = -EOPNOTSUPP;
		break;
	default:
		*status = -EIO;
	}
	virtq_free(&b->q, (uint16_t)id);
	return 1;
}
