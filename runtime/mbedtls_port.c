/*
 * mbedtls_port.c -- the hooks mbedTLS 3.6 takes from its platform, beyond
 * entropy (entropy.c), and PSA crypto's start-up.
 *
 * deps/mbedtls/lunik_mbedtls_config.h names what comes from here:
 * mbedtls_ms_time() (MBEDTLS_PLATFORM_MS_TIME_ALT), the clock of TLS 1.3
 * ticket ages, and mbedtls_psa_external_get_random()
 * (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG), which makes PSA crypto draw from
 * rt_random like the rest of mbedTLS: one DRBG, one entropy source.
 * psa_crypto_init() runs once, when the tls binding first sets up a
 * context (rt_crypto_start), so an image without TLS links no PSA; with
 * the external generator it needs no entropy then, and an image without
 * an entropy source fails only where randomness is asked for.
 */
#include <mbedtls/platform_time.h>
#include <psa/crypto.h>

#include "internal.h"
#include "runtime.h"

#if !defined(LUNIK_MBEDTLS_CONFIG) || !defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
#error "mbedTLS headers without lunik's configuration (deps/mbedtls)"
#endif

static psa_status_t psa_status;
static bool psa_started;

mbedtls_ms_time_t mbedtls_ms_time(void)
{
	return (mbedtls_ms_time_t)(plat_monotonic_ns() / 1000000u);
}

/* PSA's random generator (crypto_extra.h): rt_random, whose failure is
 * the entropy source's. */
psa_status_t mbedtls_psa_external_get_random(
	mbedtls_psa_external_random_context_t *context, uint8_t *output,
	size_t output_size, size_t *output_length)
{
	*output_length = 0;
	if (rt_random(output, output_size) != 0)
		return PSA_ERROR_INSUFFICIENT_ENTROPY;
	*output_length = output_size;
	return PSA_SUCCESS;
}

const char *rt_crypto_start(void)
{
	if (!psa_started) {
		psa_status = psa_crypto_init();
		psa_started = true;
	}
	if (psa_status == PSA_SUCCESS)
		return NULL;
	return psa_status == PSA_ERROR_INSUFFICIENT_MEMORY
		       ? "out of memory (PSA crypto did not start)"
		       : "PSA crypto did not start";
}
