/*
 * entropy.c -- random bytes: mbedTLS's entropy source over the platform,
 * and the runtime's deterministic random bit generator.
 *
 * mbedTLS collects entropy only through mbedtls_hardware_poll() below
 * (MBEDTLS_ENTROPY_HARDWARE_ALT in deps/mbedtls/lunik_mbedtls_config.h),
 * which reads plat_random() (RDSEED/RDRAND, else virtio-rng) through
 * rt_entropy_read, a seam for tests. Every mbedtls_entropy_context has it
 * as its one strong source; there is no weak fallback, so a machine
 * without a source cannot seed anything.
 *
 * rt_random() draws from one CTR-DRBG (NIST SP 800-90A, AES-256) seeded
 * on first use from mbedtls_entropy_func (a SHA-512 pool over that
 * source), so images that never ask for randomness never seed it or wait
 * for the device. mbedTLS reseeds it from the pool every
 * MBEDTLS_CTR_DRBG_RESEED_INTERVAL (10000) requests; a reseed that fails
 * fails the request, it never keeps going on old state.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#include "runtime.h"

#if !defined(LUNIK_MBEDTLS_CONFIG) || !defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
#error "mbedTLS headers without lunik's configuration (deps/mbedtls)"
#endif

/* How long one poll waits for a busy virtio-rng before it reports 0
 * bytes. mbedtls_entropy_func polls at most 256 times for a seed, so a
 * source that never answers fails seeding after about a second. */
#define POLL_WAIT_NS 4000000ull

#define PERSONALIZATION "lunik rt_random"

static mbedtls_entropy_context pool;
static mbedtls_ctr_drbg_context drbg;
static bool seeded;

/* Why the source last failed: -ENODEV, -ETIMEDOUT, or 0. */
static int source_err;

/* plat_random, unless a test image links its own rt_entropy_read */
__attribute__((weak)) long rt_entropy_read(void *buf, size_t len)
{
	return plat_random(buf, len);
}

int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len,
			  size_t *olen);

/* mbedTLS's hook for a hardware source (its library/entropy_poll.h, not
 * installed since 3.0, declares it as above): (data) is NULL.
 * Gives what the source has, possibly 0 bytes, which mbedTLS tolerates
 * by polling again; waits a little first for a busy virtio-rng. */
int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len,
			  size_t *olen)
{
	uint64_t deadline = plat_monotonic_ns() + POLL_WAIT_NS;
	long n;

	*olen = 0;
	for (;;) {
		n = rt_entropy_read(out, len);
		if (n < 0) {
			source_err = n == -ENODEV ? -ENODEV : -EIO;
			return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
		}
		if (n > 0 || plat_monotonic_ns() >= deadline)
			break;
		rt_halt(deadline);
	}
	if ((size_t)n > len)
		plat_panic(__FILE__, __LINE__, "entropy source gave more than asked");
	if (n == 0)
		source_err = -ETIMEDOUT; /* cleared again by the next bytes */
	else
		source_err = 0;
	*olen = (size_t)n;
	return 0;
}

/* The errno for a failed seed or reseed. */
static int seed_error(void)
{
	return source_err ? source_err : -EIO;
}

static int seed(void)
{
	int ret;

	if (seeded)
		return 0;
	mbedtls_entropy_init(&pool);
	mbedtls_ctr_drbg_init(&drbg);
	source_err = 0;
	ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &pool,
				    (const unsigned char *)PERSONALIZATION,
				    sizeof(PERSONALIZATION) - 1);
	if (ret != 0) {
		mbedtls_ctr_drbg_free(&drbg);
		mbedtls_entropy_free(&pool);
		return seed_error();
	}
	seeded = true;
	return 0;
}

int rt_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t left = len;
	int err = seed();

	while (err == 0 && left > 0) {
		size_t n = left < MBEDTLS_CTR_DRBG_MAX_REQUEST ?
				   left : MBEDTLS_CTR_DRBG_MAX_REQUEST;

		if (mbedtls_ctr_drbg_random(&drbg, p, n) != 0)
			err = seed_error();
		p += n;
		left -= n;
	}
	if (err)
		memset(buf, 0, len);
	return err;
}

int rt_random_mbedtls(void *ctx, unsigned char *buf, size_t len)
{
	return rt_random(buf, len) ? MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED : 0;
}

const char *rt_random_strerror(int err)
{
	switch (err) {
	case 0:
		return "no error";
	case -ENODEV:
		return "no entropy source: the machine has no RDSEED/RDRAND "
		       "and no virtio-rng device";
	case -ETIMEDOUT:
		return "entropy source timed out";
	default:
		return "entropy source failed";
	}
}
