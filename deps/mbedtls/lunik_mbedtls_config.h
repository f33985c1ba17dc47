/*
 * lunik_mbedtls_config.h -- lunik's configuration of mbedTLS 3.6.
 *
 * The whole configuration, not an overlay: mbedTLS's own mbedtls_config.h
 * is never read. The library is built with -DMBEDTLS_CONFIG_FILE naming
 * this file (deps/mbedtls/mbedtls.mk), and it is installed as the
 * sysroot's mbedtls/mbedtls_config.h, which mbedtls/build_info.h reads
 * when no MBEDTLS_CONFIG_FILE is given, so code that includes an mbedTLS
 * header sees the same structures the library was built with, with or
 * without the -D. Our own files check LUNIK_MBEDTLS_CONFIG to be sure.
 * build_info.h derives the PSA_WANT_ symbols from what is on here (no
 * MBEDTLS_PSA_CRYPTO_CONFIG) and runs mbedTLS's consistency check
 * (check_config.h) on every file that includes it.
 *
 * Platform: a single-threaded unikernel on newlib. No file system
 * (MBEDTLS_FS_IO off: certificates and keys come from the ROM or boot
 * arguments as buffers; no PSA key storage), no threads, no BSD sockets
 * (MBEDTLS_NET_C off: the tls binding feeds records through lwIP
 * callbacks), no OS timing (MBEDTLS_TIMING_C off: it serves DTLS only).
 * Memory is newlib's calloc/free (MBEDTLS_PLATFORM_C is on only for
 * MBEDTLS_PLATFORM_MS_TIME_ALT; its defaults are the C library's). Time
 * is newlib's time() and gmtime_r(), which reach the platform's wall clock
 * through kernel/newlib.c (X.509 validity checks), and mbedtls_ms_time()
 * (TLS 1.3 ticket ages) is runtime/mbedtls_port.c's over the monotonic
 * clock: mbedTLS's own wants _POSIX_VERSION, which newlib defines only for
 * Cygwin.
 *
 * Randomness: one DRBG for everything. mbedTLS's entropy module has one
 * source, mbedtls_hardware_poll() (MBEDTLS_ENTROPY_HARDWARE_ALT, in
 * runtime/entropy.c) over plat_random(): RDSEED/RDRAND or virtio-rng, a
 * strong source, so every mbedtls_entropy_context gets it, including the
 * one behind the runtime's CTR-DRBG (AES-256) and the entropy self-test;
 * no platform entropy (there is no /dev/urandom) and no weak source. PSA
 * crypto (which TLS 1.3 uses) draws from that same DRBG through
 * mbedtls_psa_external_get_random() (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG,
 * runtime/mbedtls_port.c), so psa_crypto_init() at boot needs no entropy
 * yet and a machine without a source fails when randomness is asked for,
 * never at boot; nothing falls back to anything weaker.
 *
 * TLS: 1.3 and 1.2 (no SSLv3, TLS 1.0/1.1 or DTLS), servers and clients:
 *   - TLS 1.3 key exchange: ECDHE (ephemeral), and resumption by tickets
 *     with ECDHE (psk_dhe_ke). Pure PSK (psk_ke, no forward secrecy) and
 *     0-RTT early data are off. Middlebox compatibility mode on (RFC 8446,
 *     D.4), as OpenSSL and the browsers send it.
 *   - TLS 1.2 key exchange: ECDHE only (forward secrecy), signed by RSA or
 *     ECDSA certificates. No static RSA, DHE, PSK or ECDH key exchanges.
 *   - groups: X25519, P-256 and P-384 (tls.c sets the order). P-384 also
 *     because widely used CAs sign with P-384 keys (e.g. Let's Encrypt's
 *     ECDSA roots and intermediates) and a client must verify those
 *     chains. X25519 is Project Everest's verified implementation
 *     (3rdparty/everest, MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED), which also
 *     serves PSA's X25519 key agreement. No finite-field groups, no
 *     obsolete curves (192/224-bit, Koblitz, Brainpool, P-521, X448).
 *   - ciphers: AES-GCM (128 and 256) and ChaCha20-Poly1305, AEAD only;
 *     TLS 1.3 has nothing else anyway. No CBC mode at all, hence no CBC
 *     suites, no encrypt-then-MAC and no Lucky-13 class of problems; no
 *     CCM, Camellia, ARIA or DES. MBEDTLS_SSL_CIPHERSUITES fixes the
 *     server's order: the TLS 1.3 suites, then Mozilla's "intermediate"
 *     list for TLS 1.2.
 *   - certificates: X.509 parsing (PEM and DER), RSA with PKCS#1 v1.5 and
 *     PSS (TLS 1.3 signs with RSA-PSS; RSASSA-PSS certificates), ECDSA
 *     (deterministic, RFC 6979). No CRL/CSR parsing or certificate
 *     writing. Encrypted PEM keys are not supported (they need MD5 and
 *     CBC): keys come unencrypted from the image or, better, from boot
 *     arguments.
 *   - hashes: SHA-256, SHA-384, SHA-512 for signatures, the TLS 1.2 PRF
 *     and TLS 1.3's HKDF. SHA-1 is compiled for the crypto module
 *     (crypto.sha1, HMAC-SHA1) but is never accepted in a signature:
 *     mbedTLS 3.6's default X.509 profile and default signature_algorithms
 *     lists carry no SHA-1. No MD5, RIPEMD-160 or SHA-3.
 *   - extensions: SNI, ALPN, max fragment length, session tickets (both
 *     versions; the server's ticket keys in ssl_ticket.c), extended master
 *     secret (RFC 7627). No renegotiation, no record size limit, no
 *     connection IDs, no context serialization.
 *   - records: 16 KiB in and out (the default). A TLS handshake message
 *     must fit one record buffer, and certificate chains often pass 4 KiB,
 *     so the output buffer stays full size.
 *
 * Elliptic curve speed (docs/bench.md has the measurements): the comb
 * tables of each curve's generator are precomputed in read-only data
 * (MBEDTLS_ECP_FIXED_POINT_OPTIM, 3.x's default), so key generation and
 * ECDSA signatures need no per-handshake table; NIST curves use the fast
 * reduction (MBEDTLS_ECP_NIST_OPTIM); bignums use the x86-64 inline
 * assembly (MBEDTLS_HAVE_ASM); MBEDTLS_ECP_WINDOW_SIZE is below.
 *
 * Everything else is off, and what is on but unused by an image (the
 * self-tests, error strings) costs nothing: images link with
 * --gc-sections and the library is compiled with -ffunction-sections
 * -fdata-sections. MBEDTLS_SELF_TEST is on so a test image can run the
 * self-tests of every algorithm enabled here
 * (tests/system/mbedtls_selftest.c).
 */
#ifndef LUNIK_MBEDTLS_CONFIG_H
#define LUNIK_MBEDTLS_CONFIG_H

#define LUNIK_MBEDTLS_CONFIG 1
#define MBEDTLS_CONFIG_VERSION 0x03000000 /* the 3.x format of this file */

/* ---- System */
#define MBEDTLS_HAVE_ASM          /* x86-64 inline assembly for bignums */
#define MBEDTLS_HAVE_TIME         /* newlib's time() */
#define MBEDTLS_HAVE_TIME_DATE    /* newlib's gmtime_r(): X.509 validity */
#define MBEDTLS_PLATFORM_MS_TIME_ALT /* mbedtls_ms_time: runtime/mbedtls_port.c */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT /* mbedtls_hardware_poll: runtime/entropy.c */

/* ---- Feature options */
#define MBEDTLS_AES_ROM_TABLES    /* AES tables in read-only data, no lazy init */
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED /* X25519: 3rdparty/everest */
#define MBEDTLS_ECP_INTERNAL_ALT     /* X25519's ladder step: runtime/ecp_alt.c */
#define MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG /* runtime/mbedtls_port.c */
#define MBEDTLS_PSA_KEY_STORE_DYNAMIC /* a key per handshake in flight, no cap */
#define MBEDTLS_SELF_TEST
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE /* TLS 1.3 needs it */
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT

/* ---- Modules */
#define MBEDTLS_AESNI_C           /* AES-NI and PCLMULQDQ when CPUID has them */
#define MBEDTLS_AES_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_BIGNUM_C
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
#define MBEDTLS_HKDF_C            /* TLS 1.3's key schedule (PSA HKDF) */
#define MBEDTLS_HMAC_DRBG_C       /* deterministic ECDSA */
#define MBEDTLS_MD_C
#define MBEDTLS_OID_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PLATFORM_C        /* for MBEDTLS_PLATFORM_MS_TIME_ALT */
#define MBEDTLS_POLY1305_C
#define MBEDTLS_PSA_CRYPTO_C      /* TLS 1.3 runs on PSA crypto */
#define MBEDTLS_RSA_C
#define MBEDTLS_SHA1_C            /* crypto.sha1 and HMAC-SHA1 only */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
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
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,                        \
	MBEDTLS_TLS1_3_AES_256_GCM_SHA384,                        \
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,                  \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,          \
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,            \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,          \
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,            \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,    \
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256

#endif /* LUNIK_MBEDTLS_CONFIG_H */
