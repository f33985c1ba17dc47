/*
 * virtio_rng.c -- virtio-rng (virtio 1.2, 5.4), the entropy source of
 * last resort behind plat_random (entropy.c prefers RDSEED and RDRAND).
 *
 * One request is kept outstanding: a device-writable buffer the device
 * fills with random bytes. Reads are served from the last buffer it
 * returned; the bytes are wiped as they are handed out, and the next
 * request is posted as soon as the buffer is used up, so the bytes are
 * usually there before they are asked for. No features beyond
 * VIRTIO_F_VERSION_1 exist for this device.
 */
#include "virtio.h"

#define RNG_QUEUE 8
#define RNG_BUF 256

static struct {
	struct virtio_dev *dev;
	struct virtq q;
	uint8_t *buf;
	uint32_t have, at; /* bytes the device gave, bytes handed out */
	bool pending;      /* a request is with the device */
} rng;

static void request(void)
{
	uint16_t id = (uint16_t)virtq_chain(&rng.q, 1);

	virtq_fill(&rng.q, id, rng.buf, RNG_BUF, true);
	virtq_push(&rng.q, id);
	virtq_kick(&rng.q);
	rng.pending = true;
}

int virtio_rng_probe(struct virtio_dev *d)
{
	if (rng.dev)
		return virtio_fail(d, "one entropy device too many");
	if (virtio_negotiate(d, 0, 0) || virtq_init(d, &rng.q, 0, RNG_QUEUE))
		return -ENODEV;
	if (!(rng.buf = virtio_alloc(RNG_BUF, 64, false)))
		return virtio_fail(d, "out of memory for its buffer");
	if (virtio_start(d))
		return -ENODEV;
	rng.dev = d;
	request();
	return 0;
}

long virtio_rng_read(void *buf, size_t len)
{
	uint32_t id, got;
	size_t n;

	if (!rng.dev)
		return -ENODEV;
	if (rng.pending && virtq_take(&rng.q, &id, &got)) {
		if (id < rng.q.size)
			virtq_free(&rng.q, (uint16_t)id);
		rng.pending = false;
		rng.have = got < RNG_BUF ? got : RNG_BUF;
		rng.at = 0;
	}
	if (rng.pending)
		return 0;
	n = rng.have - rng.at;
	if (n > len)
		n = len;
	virtio_copy(buf, rng.buf + rng.at, n);
	virtio_zero(rng.buf + rng.at, n);
	rng.at += (uint32_t)n;
	if (rng.at == rng.have)
		request();
	return (long)n;
}
