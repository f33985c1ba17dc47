/*
 * test_fe25519.c -- the X25519 field arithmetic and ladder step that
 * runtime/ecp_alt.c gives mbedTLS (runtime/fe25519.c), as X25519 itself:
 * RFC 7748's ladder (section 5) around fe25519_ladder_step, checked
 * against the section 5.2 vectors (one and 1,000 iterations), the section
 * 6.1 key pair, the ladder with randomized projective coordinates (as
 * mbedTLS runs it), and canonical outputs for values at and above p.
 *
 * sources: runtime/fe25519.c
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fe25519.h"

static void hex(uint8_t *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char b[3] = { s[2 * i], s[2 * i + 1], 0 };

		out[i] = (uint8_t)strtoul(b, NULL, 16);
	}
}

static void words_le(uint64_t w[4], const uint8_t b[32])
{
	for (int i = 0; i < 4; i++) {
		w[i] = 0;
		for (int j = 7; j >= 0; j--)
			w[i] = w[i] << 8 | b[8 * i + j];
	}
}

static void bytes_le(uint8_t b[32], const uint64_t w[4])
{
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(w[i / 8] >> (8 * (i % 8)));
}

static void set_small(fe25519 *f, uint64_t v)
{
	uint64_t w[4] = { v, 0, 0, 0 };

	fe25519_from_words(f, w);
}

static void cswap(fe25519 *a, fe25519 *b, uint64_t bit)
{
	uint64_t m = 0 - bit;

	for (int i = 0; i < 5; i++) {
		uint64_t t = m & (a->limb[i] ^ b->limb[i]);

		a->limb[i] ^= t;
		b->limb[i] ^= t;
	}
}

/* f^(p - 2) = 1 / f, by square and multiply over p - 2 = 2^255 - 21. */
static void invert(fe25519 *out, const fe25519 *f)
{
	fe25519 r;

	set_small(&r, 1);
	for (int i = 254; i >= 0; i--) {
		fe25519_mul(&r, &r, &r);
		if (i != 2 && i != 4) /* the zero bits of 2^255 - 21 */
			fe25519_mul(&r, &r, f);
	}
	*out = r;
}

/* X25519(k, u) (RFC 7748, section 5), the start point's z being (zinit)
 * and the zero point's x (xinit), as mbedTLS randomizes them. */
static void x25519(uint8_t out[32], const uint8_t k_in[32],
		   const uint8_t u_in[32], uint64_t zinit)
{
	uint8_t k[32], u[32];
	uint64_t w[4], swap = 0;
	fe25519 x1, x2, z2, x3, z3, zi;

	memcpy(k, k_in, 32);
	memcpy(u, u_in, 32);
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
	u[31] &= 127;
	words_le(w, u);
	fe25519_from_words(&x1, w);
	set_small(&x2, 1);
	set_small(&z2, 0);
	set_small(&zi, zinit);
	fe25519_mul(&x3, &x1, &zi); /* (u * z : z) is the same point */
	z3 = zi;
	for (int t = 254; t >= 0; t--) {
		uint64_t bit = (k[t / 8] >> (t % 8)) & 1;

		swap ^= bit;
		cswap(&x2, &x3, swap);
		cswap(&z2, &z3, swap);
		swap = bit;
		fe25519_ladder_step(&x2, &z2, &x3, &z3, &x1);
	}
	cswap(&x2, &x3, swap);
	cswap(&z2, &z3, swap);
	invert(&z2, &z2);
	fe25519_mul(&x2, &x2, &z2);
	fe25519_to_words(w, &x2);
	bytes_le(out, w);
}

static bool x25519_is(const char *k, const char *u, const char *want,
		      uint64_t zinit)
{
	uint8_t kb[32], ub[32], wb[32], got[32];

	hex(kb, k, 32);
	hex(ub, u, 32);
	hex(wb, want, 32);
	x25519(got, kb, ub, zinit);
	return memcmp(got, wb, 32) == 0;
}

int main(void)
{
	static const char *const vec[][3] = { /* RFC 7748, section 5.2 */
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	uint8_t k[32] = { 9 }, u[32] = { 9 }, r[32];
	uint64_t w[4];
	fe25519 f;

	for (int i = 0; i < 2; i++) {
		CHECK(x25519_is(vec[i][0], vec[i][1], vec[i][2], 1),
		      "RFC 7748 5.2 vector %d", i + 1);
		CHECK(x25519_is(vec[i][0], vec[i][1], vec[i][2], 0x123456789abcdefull),
		      "RFC 7748 5.2 vector %d, randomized z", i + 1);
	}
	for (int i = 1; i <= 1000; i++) { /* k, u = X25519(k, u), k */
		x25519(r, k, u, 1);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1) {
			uint8_t want[32];

			hex(want, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079", 32);
			CHECK(memcmp(k, want, 32) == 0, "RFC 7748 5.2, 1 iteration");
		}
	}
	hex(r, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", 32);
	CHECK(memcmp(k, r, 32) == 0, "RFC 7748 5.2, 1,000 iterations");
	memset(u, 0, 32);
	u[0] = 9;
	CHECK(x25519_is("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
			"0900000000000000000000000000000000000000000000000000000000000000",
			"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", 7),
	      "RFC 7748 6.1, Alice's public key");
	/* p = 2^255 - 19 and p + 5 come out as 0 and 5 */
	w[0] = 0xffffffffffffffedull;
	w[1] = w[2] = ~0ull;
	w[3] = 0x7fffffffffffffffull;
	fe25519_from_words(&f, w);
	fe25519_to_words(w, &f);
	CHECK(!w[0] && !w[1] && !w[2] && !w[3], "p is canonically 0");
	w[0] = 0xfffffffffffffff2ull;
	w[1] = w[2] = ~0ull;
	w[3] = 0x7fffffffffffffffull;
	fe25519_from_words(&f, w);
	fe25519_to_words(w, &f);
	CHECK(w[0] == 5 && !w[1] && !w[2] && !w[3], "p + 5 is canonically 5");
	CHECK_EXIT();
}
