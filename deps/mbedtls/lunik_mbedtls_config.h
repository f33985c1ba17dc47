/*
 * lunik_mbedtls_config.h -- lunik's configuration of mbedTLS 2.28.
 *
 * The whole configuration, not an overlay: mbedTLS's own config.h is never
 * read. The library is built with -DMBEDTLS_CONFIG_FILE naming this file
 * (deps/mbedtls/mbedtls.mk), and it is installed as the sysroot's
 * mbedtls/config.h, so code that includes an mbedTLS header sees the same
 * structures the library was built with, with or without the -D. Our own
 * files check LUNIK_MBEDTLS_CONFIG to be sure.
 *
 * Platform: a single-threaded unikernel on newlib. No file system
 * (MBEDTLS_FS_IO off: certificates and keys come from the ROM or boot
 * arguments as buffers), no threads, no BSD sockets (MBEDTLS_NET_C off:
 * the tls binding feeds records through lwIP callbacks), no OS timing
 * (MBEDTLS_TIMING_C off: it serves DTLS retransmission only, and DTLS is
 * off). Memory is newlib's calloc/free directly (MBEDTLS_PLATFORM_C off).
 * Time is newlib's time() and gmtime_r(), which reach the platform's wall
 * clock through runtime/syscalls.c: X.509 validity checks need it.
 *
 * Entropy: no platform entropy (MBEDTLS_NO_PLATFORM_ENTROPY: there is no
 * /dev/urandom) and no default weak sources. Our one source is
 * mbedtls_hardware_poll() (MBEDTLS_ENTROPY_HARDWARE_ALT, in
 * runtime/entropy.c) over plat_random(): RDSEED/RDRAND or virtio-rng. It
 * is a strong source, so every mbedtls_entropy_context gets it, including
 * the one behind the runtime's CTR-DRBG (AES-256) and the entropy
 * self-test. A machine without a source makes seeding fail; nothing falls
 * back to anything weaker.
 *
 * TLS: 1.2 only (no SSLv3, TLS 1.0/1.1, DTLS or TLS 1.3 experiment), for
 * servers and clients, with
 *   - key exchange: ECDHE only (forward secrecy), signed by RSA or ECDSA
 *     certificates. No static RSA, DHE, PSK or ECDH key exchanges.
 *   - curves: X25519 and P-256 for ECDHE; P-384 as well, because widely
 *     used CAs sign with P-384 keys (e.g. Let's Encrypt's ECDSA roots and
 *     intermediates) and a client must verify those chains. No obsolete
 *     curves (192/224-bit, Koblitz, Brainpool, P-521, X448).
 *   - ciphers: AES-GCM (128 and 256) and ChaCha20-Poly1305, AEAD only.
 *     No CBC mode at all, hence no CBC suites, no encrypt-then-MAC and no
 *     Lucky-13 class of problems; no RC4, DES, 3DES, CCM, Camellia, ARIA.
 *     MBEDTLS_SSL_CIPHERSUITES fixes the server's order (Mozilla's
 *     "intermediate" list for TLS 1.2).
 *   - certificates: X.509 parsing (PEM and DER), RSA with PKCS#1 v1.5 and
 *     PSS (RSASSA-PSS certificates), ECDSA (deterministic, RFC 6979).
 *     No CRL/CSR parsing or certificate writing. Encrypted PEM keys are
 *     not supported (they need MD5 and CBC): keys come unencrypted from
 *     the image or, better, from boot arguments.
 *   - hashes: SHA-256, SHA-384, SHA-512 for signatures and the TLS 1.2
 *     PRF. SHA-1 is compiled for the crypto module (crypto.sha1, HMAC-SHA1)
 *     but is never accepted in a signature: the default X.509 profile
 *     (mbedtls_x509_crt_profile_default) allows SHA-224 and up only, and
 *     MBEDTLS_TLS_DEFAULT_ALLOW_SHA1_IN_KEY_EXCHANGE stays undefined so
 *     the TLS 1.2 signature_algorithms list has no SHA-1 either. No MD5,
 *     MD4, MD2 or RIPEMD-160.
 *   - extensions: SNI, ALPN, max fragment length, session tickets (client
 *     side, and the server's ticket keys in ssl_ticket.c), extended master
 *     secret (RFC 7627). No renegotiation, no truncated HMAC, no
 *     fallback SCSV (one version only), no record splitting (TLS 1.0).
 *   - records: 16 KiB in and out (the default). A TLS handshake message
 *     must fit one record buffer, and certificate chains often pass 4 KiB,
 *     so the output buffer stays full size.
 *
 * Everything else is off, and what is on but unused by an image (the
 * self-tests, the test certificates of certs.c, error strings) costs
 * nothing: images link with --gc-sections and the library is compiled
 * with -ffunction-sections -fdata-sections.
 *
 * MBEDTLS_SELF_TEST is on so a test image can run the self-tests of every
 * algorithm enabled here (tests/system/mbedtls_selftest.c); MBEDTLS_CERTS_C
 * gives the X.509 self-test its certificates.
 *
 * mbedTLS's own consistency check (check_config.h) runs on every file that
 * includes this one, at the end.
 */
#ifndef MBEDTLS_CONFIG_H
#define MBEDTLS_CONFIG_H

#define LUNIK_MBEDTLS_CONFIG 1

/* ---- System */
#define MBEDTLS_HAVE_ASM          /* x86-64 inline assembly for bignums */
#define MBEDTLS_HAVE_TIME         /* newlib's time() */
#define MBEDTLS_HAVE_TIME_DATE    /* newlib's gmtime_r(): X.509 validity */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT /* mbedtls_hardware_poll: runtime/entropy.c */

/* ---- Feature options */
#define MBEDTLS_AES_ROM_TABLES    /* AES tables in read-only data, no lazy init */
#define MBEDTLS_REMOVE_ARC4_CIPHERSUITES
#define MBEDTLS_REMOVE_3DES_CIPHERSUITES
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_LEGACY_CONTEXT
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_SELF_TEST
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT

/* ---- Modules */
#define MBEDTLS_AESNI_C           /* AES-NI and PCLMULQDQ when CPUID has them */
#define MBEDTLS_AES_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_CERTS_C           /* test certificates, for the self-test */
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_ERROR_C           /* mbedtls_strerror, for tls error messages */
#define MBEDTLS_GCM_C
#define MBEDTLS_HMAC_DRBG_C       /* deterministic ECDSA */
#define MBEDTLS_MD_C
#define MBEDTLS_OID_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_RSA_C
#define MBEDTLS_SHA1_C            /* crypto.sha1 and HMAC-SHA1 only */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C          /* SHA-384 and SHA-512 */
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_TICKET_C
#define MBEDTLS_VERSION_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

/* ---- Module parameters (mbedTLS's defaults unless said) */
#define MBEDTLS_ENTROPY_MIN_HARDWARE 32 /* bytes of plat_random per seed */
#define MBEDTLS_SSL_CIPHERSUITES                                  \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,          \
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,            \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,          \
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,            \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,    \
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256

#include "mbedtls/check_config.h"

#endif /* MBEDTLS_CONFIG_H */
