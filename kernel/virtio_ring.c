/*
 * virtio_ring.c -- the driver's side of a split virtqueue (virtio 1.2,
 * 2.7): free descriptors, the available ring, the used ring, and the two
 * flags that suppress notifications each way (2.7.7, 2.7.10; without
 * VIRTIO_F_EVENT_IDX, which no driver here negotiates).
 *
 * x86 keeps stores in order and loads in order, so publishing needs only
 * the compiler held back; a store followed by a load that must see the
 * device's latest (kick after publishing, re-enabling interrupts then
 * rechecking) needs mfence.
 */
#include "virtio.h"

static inline void compiler_barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

static inline void full_barrier(void)
{
	__asm__ volatile("mfence" : : : "memory");
}

int virtq_chain(struct virtq *q, unsigned n)
{
	uint16_t head = q->free_head, i = head;

	if (n == 0 || q->nfree < n)
		return -1;
	for (unsigned k = 1; k < n; k++) {
		q->desc[i].flags = VIRTQ_DESC_F_NEXT;
		i = q->desc[i].next;
	}
	q->desc[i].flags = 0;
	q->free_head = q->desc[i].next;
	q->nfree -= (uint16_t)n;
	return head;
}

uint16_t virtq_fill(struct virtq *q, uint16_t i, const void *addr,
		    uint32_t len, bool device_writes)
{
	volatile struct virtq_desc *d = &q->desc[i];

	d->addr = (uintptr_t)addr;
	d->len = len;
	if (device_writes)
		d->flags |= VIRTQ_DESC_F_WRITE;
	else
		d->flags &= (uint16_t)~VIRTQ_DESC_F_WRITE;
	return d->next;
}

void virtq_free(struct virtq *q, uint16_t head)
{
	uint16_t i = head, n = 1;

	while ((q->desc[i].flags & VIRTQ_DESC_F_NEXT) && n < q->size) {
		i = q->desc[i].next;
		n++;
	}
	q->desc[i].next = q->free_head;
	q->free_head = head;
	q->nfree += n;
}

void virtq_push(struct virtq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	q->avail_idx++;
}

void virtq_kick(struct virtq *q)
{
	compiler_barrier(); /* ring entries before the index (2.7.13) */
	q->avail->idx = q->avail_idx;
	full_barrier();     /* the index out before reading the flag */
	if (!(q->used->flags & VIRTQ_USED_F_NO_NOTIFY))
		q->dev->ops->notify(q);
}

bool virtq_take(struct virtq *q, uint32_t *id, uint32_t *len)
{
	uint16_t slot;

	if (q->used->idx == q->last_used)
		return false;
	compiler_barrier(); /* the index before the entry it covers */
	slot = q->last_used & (q->size - 1);
	*id = q->used->ring[slot].id;
	*len = q->used->ring[slot].len;
	q->last_used++;
	return true;
}

bool virtq_interrupts(struct virtq *q, bool on)
{
	q->avail->flags = on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
	if (on)
		full_barrier();
	return q->used->idx != q->last_used;
}
