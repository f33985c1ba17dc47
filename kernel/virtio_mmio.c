/*
 * virtio_mmio.c -- virtio over MMIO (virtio 1.2, 4.2), modern interface
 * (version 2) only: finding the transports and the register accesses of
 * struct virtio_ops (status, features, virtqueue set-up 4.2.3.2,
 * notification, interrupt acknowledgement); virtio.c does the rest.
 *
 * Finding transports. QEMU's microvm names each transport that has a
 * device in a "virtio_mmio.device=<size>@<base>:<gsi>" word it appends to
 * the command line, but only when ACPI is off (with ACPI on, Linux reads
 * them from the DSDT instead). So: those words when there are any, else a
 * probe of microvm's window (24 transports of 512 bytes from 0xfeb00000;
 * transport i interrupts on GSI 24 + i, on the second I/O APIC, or 16 + i
 * when there is none, as QEMU 7.2's microvm_devices_init lays them out).
 * QEMU plugs devices into the transports from the top down, so taking
 * transports in decreasing address order numbers devices in the order of
 * QEMU's command line. A transport outside the MMIO window mmu.c maps
 * (0xfe000000 to 4 GiB; Firecracker's start at 0xd0000000) is refused
 * with a console line.
 *
 * Interrupts are level-triggered and shared per GSI (virtio_route_gsi):
 * the handler reads and acknowledges InterruptStatus of each transport on
 * the line and notes nothing else; irq.c makes plat_wait() return.
 */
#include "irq.h"
#include "virtio.h"

#define MMIO_MAGIC 0x000
#define MMIO_VERSION 0x004
#define MMIO_DEVICE_ID 0x008
#define MMIO_DEVICE_FEATURES 0x010
#define MMIO_DEVICE_FEATURES_SEL 0x014
#define MMIO_DRIVER_FEATURES 0x020
#define MMIO_DRIVER_FEATURES_SEL 0x024
#define MMIO_QUEUE_SEL 0x030
#define MMIO_QUEUE_NUM_MAX 0x034
#define MMIO_QUEUE_NUM 0x038
#define MMIO_QUEUE_READY 0x044
#define MMIO_QUEUE_NOTIFY 0x050
#define MMIO_INTERRUPT_STATUS 0x060
#define MMIO_INTERRUPT_ACK 0x064
#define MMIO_STATUS 0x070
#define MMIO_QUEUE_DESC 0x080 /* low word, then high at + 4 */
#define MMIO_QUEUE_DRIVER 0x090
#define MMIO_QUEUE_DEVICE 0x0a0
#define MMIO_CONFIG_GENERATION 0x0fc
#define MMIO_CONFIG 0x100
#define MMIO_SIZE 0x200

#define MAGIC_VIRT 0x74726976 /* "virt" */

/* QEMU 7.2 microvm (hw/i386/microvm.c). */
#define MICROVM_BASE 0xfeb00000
#define MICROVM_TRANSPORTS 24
#define MICROVM_GSI_IOAPIC2 24
#define MICROVM_GSI_ACPI 16

#define TRANSPORTS_MAX 32
#define CMDLINE_KEY "virtio_mmio.device="

struct transport {
	uintptr_t base;
	unsigned gsi;
	bool named;     /* by a command-line word, not found by the probe */
};

static struct virtio_dev devs[TRANSPORTS_MAX];
static unsigned ndevs;

static uint32_t rd(const struct virtio_dev *d, unsigned reg)
{
	return mmio_read32(d->regs + reg);
}

static void wr(const struct virtio_dev *d, unsigned reg, uint32_t v)
{
	mmio_write32(d->regs + reg, v);
}

static uint8_t get_status(struct virtio_dev *d)
{
	return (uint8_t)rd(d, MMIO_STATUS);
}

static void set_status(struct virtio_dev *d, uint8_t status)
{
	wr(d, MMIO_STATUS, status);
}

static uint64_t get_features(struct virtio_dev *d)
{
	uint64_t f;

	wr(d, MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd(d, MMIO_DEVICE_FEATURES) << 32;
	wr(d, MMIO_DEVICE_FEATURES_SEL, 0);
	return f | rd(d, MMIO_DEVICE_FEATURES);
}

static void set_features(struct virtio_dev *d, uint64_t f)
{
	wr(d, MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(d, MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, MMIO_DRIVER_FEATURES, (uint32_t)f);
}

static uint32_t generation(struct virtio_dev *d)
{
	return rd(d, MMIO_CONFIG_GENERATION);
}

static unsigned queue_max(struct virtio_dev *d, unsigned index)
{
	wr(d, MMIO_QUEUE_SEL, index);
	return rd(d, MMIO_QUEUE_READY) ? 0 : rd(d, MMIO_QUEUE_NUM_MAX);
}

static void wr64(const struct virtio_dev *d, unsigned reg, const volatile void *p)
{
	wr(d, reg, (uint32_t)(uintptr_t)p);
	wr(d, reg + 4, (uint32_t)((uintptr_t)p >> 32));
}

/* 4.2.3.2, after queue_max selected the queue. */
static int queue_enable(struct virtio_dev *d, struct virtq *q)
{
	q->notify = d->regs + MMIO_QUEUE_NOTIFY;
	wr(d, MMIO_QUEUE_NUM, q->size);
	wr64(d, MMIO_QUEUE_DESC, q->desc);
	wr64(d, MMIO_QUEUE_DRIVER, q->avail);
	wr64(d, MMIO_QUEUE_DEVICE, q->used);
	wr(d, MMIO_QUEUE_READY, 1);
	return 0;
}

static void notify(const struct virtq *q)
{
	mmio_write32(q->notify, q->index);
}

/* InterruptStatus bit 0 is a used buffer, bit 1 a configuration change
 * (4.2.2). */
static uint32_t ack(struct virtio_dev *d)
{
	uint32_t st = rd(d, MMIO_INTERRUPT_STATUS);

	if (st)
		wr(d, MMIO_INTERRUPT_ACK, st);
	return st;
}

static int start_irq(struct virtio_dev *d)
{
	int rc = virtio_route_gsi(d, IRQ_LEVEL);

	/* A probed transport guessed the second I/O APIC; without it,
	 * microvm wires transport i to GSI 16 + i (ACPI on; with ACPI off
	 * QEMU names the transports on the command line). */
	if (rc == -EINVAL && d->gsi_guessed) {
		d->gsi = d->gsi - MICROVM_GSI_IOAPIC2 + MICROVM_GSI_ACPI;
		rc = virtio_route_gsi(d, IRQ_LEVEL);
	}
	return rc;
}

static const struct virtio_ops mmio_ops = {
	.get_status = get_status, .set_status = set_status,
	.get_features = get_features, .set_features = set_features,
	.generation = generation, .queue_max = queue_max,
	.queue_enable = queue_enable, .notify = notify,
	.start_irq = start_irq, .ack = ack,
};

/* Parses a number: decimal or 0x hex, then (suffix) K, M or G when asked
 * (Linux's memparse). Advances (*p); false when there are no digits. */
static bool parse_num(const char **p, bool suffix, uint64_t *out)
{
	const char *s = *p;
	unsigned base = 10;
	uint64_t v = 0;
	int digits = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	for (;; s++, digits++) {
		unsigned c = (unsigned char)*s, dv;

		if (c >= '0' && c <= '9')
			dv = c - '0';
		else if (base == 16 && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			dv = (c | 0x20) - 'a' + 10;
		else
			break;
		v = v * base + dv;
	}
	if (suffix && (*s == 'K' || *s == 'k'))
		v <<= 10, s++;
	else if (suffix && (*s == 'M' || *s == 'm'))
		v <<= 20, s++;
	else if (suffix && (*s == 'G' || *s == 'g'))
		v <<= 30, s++;
	*p = s;
	*out = v;
	return digits > 0;
}

/* One "virtio_mmio.device=<size>@<base>:<gsi>[:<id>]" value at (s)
 * (Linux's drivers/virtio/virtio_mmio.c syntax). */
static bool parse_word(const char *s, struct transport *t)
{
	uint64_t size, base, gsi;

	if (!parse_num(&s, true, &size) || *s++ != '@' ||
	    !parse_num(&s, false, &base) || *s++ != ':' ||
	    !parse_num(&s, false, &gsi))
		return false;
	if (*s == ':') { /* a platform device id: of no use here */
		uint64_t id;

		s++;
		if (!parse_num(&s, false, &id))
			return false;
	}
	if (*s && *s != ' ' && *s != '\t' && *s != '\n')
		return false;
	t->base = base;
	t->gsi = (unsigned)gsi;
	t->named = true;
	return size >= MMIO_CONFIG && gsi < VEC_IRQ_COUNT;
}

/* The transports the command line names, as runtime/args.c splits words
 * (double quotes group), into (t); returns how many. */
static unsigned from_cmdline(struct transport *t, unsigned max)
{
	const char *s = plat_cmdline();
	const size_t keylen = sizeof(CMDLINE_KEY) - 1;
	unsigned n = 0;

	while (*s) {
		const char *w;
		bool quoted = false;
		size_t i;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		w = s;
		for (; *s && (quoted || (*s != ' ' && *s != '\t' && *s != '\n')); s++)
			if (*s == '"')
				quoted = !quoted;
		for (i = 0; i < keylen && w[i] == CMDLINE_KEY[i]; i++)
			;
		if (i < keylen || n == max)
			continue;
		if (parse_word(w + keylen, &t[n])) {
			n++;
		} else {
			char word[80];
			size_t len = (size_t)(s - w) < sizeof(word) - 1 ?
					     (size_t)(s - w) : sizeof(word) - 1;

			virtio_copy(word, w, len);
			word[len] = '\0';
			kprintf("lunik: virtio: cannot read the command-line "
				"word %s\n", word);
		}
	}
	return n;
}

/* QEMU microvm's transports, top down, found by their magic value: for
 * when the command line names none (ACPI on). */
static unsigned probe_window(struct transport *t, unsigned max)
{
	unsigned n = 0;

	for (int i = MICROVM_TRANSPORTS - 1; i >= 0 && n < max; i--) {
		uintptr_t base = MICROVM_BASE + (uintptr_t)i * MMIO_SIZE;

		if (mmio_read32(base + MMIO_MAGIC) != MAGIC_VIRT ||
		    mmio_read32(base + MMIO_DEVICE_ID) == 0)
			continue;
		t[n].base = base;
		t[n].gsi = MICROVM_GSI_IOAPIC2 + (unsigned)i;
		t[n].named = false;
		n++;
	}
	return n;
}

/* "at 0x" and (base) in hex, for console lines. */
static void fmt_where(char *out, uintptr_t base)
{
	static const char hex[] = "0123456789abcdef";
	const char *p = "at 0x";
	int n = 0, shift = 28;

	while (*p)
		out[n++] = *p++;
	while (shift > 0 && !(base >> shift & 0xf))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		out[n++] = hex[base >> shift & 0xf];
	out[n] = '\0';
}

/* Whether (t) is a modern transport with a device we drive; prints why
 * not, but stays silent for an empty slot the probe did not name. */
static bool usable(const struct transport *t, uint32_t *type)
{
	uint32_t magic, version;

	if (t->base < MMIO_BASE || t->base > (1ull << 32) - MMIO_SIZE ||
	    t->base % 4) {
		kprintf("lunik: virtio-mmio at 0x%lx: outside the MMIO window "
			"the kernel maps (0x%x-4G); left out\n",
			(unsigned long)t->base, MMIO_BASE);
		return false;
	}
	magic = mmio_read32(t->base + MMIO_MAGIC);
	version = mmio_read32(t->base + MMIO_VERSION);
	*type = mmio_read32(t->base + MMIO_DEVICE_ID);
	if (magic != MAGIC_VIRT) {
		kprintf("lunik: virtio-mmio at 0x%lx: no transport there "
			"(magic 0x%x)\n", (unsigned long)t->base, magic);
		return false;
	}
	if (*type == 0) {
		if (t->named)
			kprintf("lunik: virtio-mmio at 0x%lx: no device\n",
				(unsigned long)t->base);
		return false;
	}
	if (version != 2) {
		kprintf("lunik: virtio-mmio at 0x%lx: legacy interface "
			"(version %u) not supported; left out (QEMU: -global "
			"virtio-mmio.force-legacy=false)\n",
			(unsigned long)t->base, version);
		return false;
	}
	if (!virtio_known(*type)) {
		kprintf("lunik: virtio-mmio at 0x%lx: device type %u not "
			"supported; left alone\n", (unsigned long)t->base, *type);
		return false;
	}
	return true;
}

void virtio_mmio_init(bool probe)
{
	struct transport t[TRANSPORTS_MAX];
	unsigned n = from_cmdline(t, TRANSPORTS_MAX);

	if (n == 0 && probe)
		n = probe_window(t, TRANSPORTS_MAX);
	/* Top down (insertion sort: a handful of entries). */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && t[j].base > t[j - 1].base; j--) {
			struct transport x = t[j];

			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	for (unsigned i = 0; i < n; i++) {
		struct virtio_dev *d = &devs[ndevs];
		uint32_t type;

		if ((i > 0 && t[i].base == t[i - 1].base) || !usable(&t[i], &type))
			continue;
		*d = (struct virtio_dev){ .ops = &mmio_ops, .regs = t[i].base,
					  .cfg = t[i].base + MMIO_CONFIG,
					  .gsi = t[i].gsi, .type = type,
					  .gsi_guessed = !t[i].named };
		fmt_where(d->where, t[i].base);
		if (virtio_add(d) == 0)
			ndevs++;
	}
}
