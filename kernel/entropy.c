/*
 * entropy.c -- plat_random: RDSEED, else RDRAND (both checked with
 * CPUID), else the virtio-rng device (virtio_rng.c), else -ENODEV.
 *
 * RDSEED gives conditioned entropy straight from the source, which is
 * what seeding a DRBG wants; RDRAND gives the output of the CPU's own
 * DRBG, reseeded from that source. Either may report (CF = 0) that it has
 * nothing yet. Following Intel's DRNG software implementation guide
 * (5.2.1 and 5.3.1): RDRAND is retried up to 10 times, after which the
 * DRNG is taken to be broken; RDSEED is retried with a pause between,
 * here a bounded 100 times before RDRAND stands in. An all-ones value is
 * treated as a failure too (some AMD parts return ~0 with CF = 1 after a
 * resume). Under QEMU's TCG with -cpu qemu64 there is neither
 * instruction, and the virtio-rng device is the only source.
 */
#include "virtio.h"

#define CPUID1_ECX_RDRAND (1u << 30)
#define CPUID7_EBX_RDSEED (1u << 18)
#define RDRAND_TRIES 10
#define RDSEED_TRIES 100

static bool has_rdrand, has_rdseed;

void entropy_init(void)
{
	uint32_t max_leaf = cpuid(0, 0).eax;

	has_rdrand = cpuid(1, 0).ecx & CPUID1_ECX_RDRAND;
	has_rdseed = max_leaf >= 7 && (cpuid(7, 0).ebx & CPUID7_EBX_RDSEED);
}

static bool rdrand(uint64_t *v)
{
	uint8_t ok;

	__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
	return ok && *v != ~0ull;
}

static bool rdseed(uint64_t *v)
{
	uint8_t ok;

	__asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
	return ok && *v != ~0ull;
}

/* Eight random bytes from the CPU; false when it has none to give. */
static bool cpu_word(uint64_t *v)
{
	for (int i = 0; has_rdseed && i < RDSEED_TRIES; i++) {
		if (rdseed(v))
			return true;
		__asm__ volatile("pause");
	}
	for (int i = 0; has_rdrand && i < RDRAND_TRIES; i++)
		if (rdrand(v))
			return true;
	return false;
}

long plat_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t done = 0;
	long more;

	if (!has_rdseed && !has_rdrand)
		return virtio_rng_read(buf, len);
	while (done < len) {
		uint64_t v;
		size_t n = len - done < 8 ? len - done : 8;

		if (!cpu_word(&v))
			break;
		virtio_copy(p + done, &v, n);
		done += n;
	}
	if (done == len)
		return (long)len;
	/* The CPU's source failed: the device stands in, if there is one. */
	more = virtio_rng_read(p + done, len - done);
	return more >= 0 ? (long)done + more : -EIO;
}
