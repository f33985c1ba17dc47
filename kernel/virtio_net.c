/*
 * virtio_net.c -- virtio-net (virtio 1.2, 5.1) behind plat_net_info,
 * plat_net_send and plat_net_recv.
 *
 * Negotiated: VIRTIO_F_VERSION_1 and VIRTIO_NET_F_MAC, nothing else: no
 * checksum or segmentation offloads (the stack above computes its own
 * checksums and sends frames of at most mtu + 14 bytes), no mergeable
 * receive buffers, one queue pair, no control queue. With VERSION_1 every
 * frame is preceded by the 12-byte struct virtio_net_hdr (5.1.6), all
 * zero on transmit.
 *
 * Receive: every descriptor of the receive queue is posted at start-up,
 * each with a buffer of its own big enough for any frame (5.1.6.3.1 asks
 * for 1526 bytes without mergeable buffers); a frame is copied out and
 * its buffer posted again at once. Receive interrupts are suppressed
 * while frames keep coming (a call that returns a frame turns them off)
 * and turned back on by the call that finds the ring empty, which then
 * looks once more: so a caller that drains until 0 before halting is
 * always woken by the next frame, and a busy one takes no interrupt per
 * frame.
 *
 * Transmit: a frame is copied into the buffer that belongs to the
 * descriptor it takes; completed descriptors are reclaimed by the next
 * send. Transmit interrupts stay off except while the ring is full, so
 * that a sender told -EAGAIN is woken when room appears.
 */
#include "virtio.h"

#define VIRTIO_NET_F_MAC 5

#define NET_MAX 2
#define NET_QUEUE 256 /* entries per queue, at most */
#define NET_QUEUE_MIN 32
#define NET_HDR 12    /* struct virtio_net_hdr, num_buffers included */
#define NET_BUF 1536  /* header + a 1514-byte frame + a VLAN tag, rounded */
#define NET_MTU 1500
#define NET_FRAME_MAX (NET_MTU + 14)
#define RXQ 0
#define TXQ 1

struct net {
	struct virtio_dev *dev;
	struct virtq rx, tx;
	uint8_t *rxbuf, *txbuf; /* NET_BUF bytes per descriptor */
	uint8_t mac[6];
	bool rx_quiet;   /* receive interrupts off */
	bool tx_waiting; /* transmit interrupts on */
};

static struct net nets[NET_MAX];
static unsigned nnets;

static struct net *find(unsigned dev)
{
	return dev < nnets ? &nets[dev] : NULL;
}

/* Without VIRTIO_NET_F_MAC the driver makes up its own address
 * (5.1.5): locally administered, unicast, from the TSC. */
static void make_mac(struct net *nt)
{
	uint64_t t = rdtsc() ^ nt->dev->cfg;

	nt->mac[0] = 0x02;
	for (int i = 1; i < 6; i++, t >>= 8)
		nt->mac[i] = (uint8_t)(t ^ t >> 40);
}

/* Entries per queue: NET_QUEUE, halved (down to NET_QUEUE_MIN) until a
 * device's buffers take at most a sixteenth of the RAM, so that a small
 * machine keeps its memory for the heap: 64 at 4 MiB, 256 from 16 MiB. */
static unsigned queue_len(void)
{
	unsigned n = NET_QUEUE;

	while (n > NET_QUEUE_MIN && 2ull * n * NET_BUF > mmu_ram_bytes() / 16)
		n /= 2;
	return n;
}

int virtio_net_probe(struct virtio_dev *d)
{
	struct net *nt = &nets[nnets];
	unsigned qlen = queue_len();

	if (nnets == NET_MAX)
		return virtio_fail(d, "one network device too many");
	*nt = (struct net){ .dev = d };
	if (virtio_negotiate(d, 1ull << VIRTIO_NET_F_MAC, 0) ||
	    virtq_init(d, &nt->rx, RXQ, qlen) ||
	    virtq_init(d, &nt->tx, TXQ, qlen))
		return -ENODEV;
	nt->rxbuf = virtio_alloc((size_t)nt->rx.size * NET_BUF, 64, false);
	nt->txbuf = virtio_alloc((size_t)nt->tx.size * NET_BUF, 64, false);
	if (!nt->rxbuf || !nt->txbuf)
		return virtio_fail(d, "out of memory for its buffers");
	if (d->features & (1ull << VIRTIO_NET_F_MAC))
		for (int i = 0; i < 6; i++)
			nt->mac[i] = virtio_cfg8(d, (unsigned)i);
	else
		make_mac(nt);
	for (unsigned i = 0; i < nt->rx.size; i++) {
		uint16_t id = (uint16_t)virtq_chain(&nt->rx, 1);

		virtq_fill(&nt->rx, id, nt->rxbuf + (size_t)id * NET_BUF,
			   NET_BUF, true);
		virtq_push(&nt->rx, id);
	}
	virtq_interrupts(&nt->tx, false);
	if (virtio_start(d))
		return -ENODEV;
	virtq_kick(&nt->rx); /* no notification before DRIVER_OK (3.1.1) */
	nnets++;
	return 0;
}

int plat_net_info(unsigned dev, struct plat_net_info *info)
{
	struct net *nt = find(dev);

	if (!nt)
		return -ENODEV;
	virtio_copy(info->mac, nt->mac, 6);
	info->mtu = NET_MTU;
	return 0;
}

/* Returns the descriptors of frames the device has sent to the free list. */
static void reclaim(struct net *nt)
{
	uint32_t id, len;

	while (virtq_take(&nt->tx, &id, &len))
		if (id < nt->tx.size)
			virtq_free(&nt->tx, (uint16_t)id);
}

/* A free transmit descriptor, or -1 with transmit interrupts on. */
static int tx_slot(struct net *nt)
{
	int id;

	reclaim(nt);
	id = virtq_chain(&nt->tx, 1);
	if (id < 0 && !nt->tx_waiting) {
		nt->tx_waiting = true;
		if (virtq_interrupts(&nt->tx, true)) {
			reclaim(nt);
			id = virtq_chain(&nt->tx, 1);
		}
	}
	if (id >= 0 && nt->tx_waiting) {
		nt->tx_waiting = false;
		virtq_interrupts(&nt->tx, false);
	}
	return id;
}

int plat_net_send(unsigned dev, const struct plat_iov *iov, unsigned n)
{
	struct net *nt = find(dev);
	size_t total = 0;
	uint8_t *buf;
	int id;

	if (!nt)
		return -ENODEV;
	for (unsigned i = 0; i < n; i++) {
		if (iov[i].len > NET_FRAME_MAX - total)
			return -EMSGSIZE;
		total += iov[i].len;
	}
	if ((id = tx_slot(nt)) < 0)
		return -EAGAIN;
	buf = nt->txbuf + (size_t)id * NET_BUF;
	virtio_zero(buf, NET_HDR);
	for (unsigned i = 0, at = NET_HDR; i < n; at += iov[i].len, i++)
		virtio_copy(buf + at, iov[i].base, iov[i].len);
	virtq_fill(&nt->tx, (uint16_t)id, buf, (uint32_t)(NET_HDR + total),
		   false);
	virtq_push(&nt->tx, (uint16_t)id);
	virtq_kick(&nt->tx);
	return 0;
}

/* The next received buffer: its descriptor and length, with receive
 * interrupts off; false, with them on, when there is none. */
static bool rx_next(struct net *nt, uint32_t *id, uint32_t *len)
{
	if (!virtq_take(&nt->rx, id, len)) {
		if (!nt->rx_quiet)
			return false;
		nt->rx_quiet = false;
		if (!virtq_interrupts(&nt->rx, true) ||
		    !virtq_take(&nt->rx, id, len))
			return false;
	}
	if (!nt->rx_quiet) {
		nt->rx_quiet = true;
		virtq_interrupts(&nt->rx, false);
	}
	return true;
}

int plat_net_recv(unsigned dev, void *buf, size_t size)
{
	struct net *nt = find(dev);
	uint32_t id, len;
	int rc;

	if (!nt)
		return -ENODEV;
	for (;;) {
		if (!rx_next(nt, &id, &len))
			return 0;
		if (id >= nt->rx.size)
			continue; /* not a descriptor of ours: nothing to post */
		if (len < NET_HDR + 14 || len > NET_BUF) {
			rc = -1; /* not a whole frame: dropped */
		} else if (len - NET_HDR > size) {
			rc = -EMSGSIZE;
		} else {
			rc = (int)(len - NET_HDR);
			virtio_copy(buf, nt->rxbuf + (size_t)id * NET_BUF + NET_HDR,
				    (size_t)rc);
		}
		virtq_push(&nt->rx, (uint16_t)id);
		virtq_kick(&nt->rx);
		if (rc != -1)
			return rc;
	}
}
