/*
 * fe25519.h -- arithmetic modulo 2^255 - 19 for the Montgomery ladder of
 * X25519 (RFC 7748, section 5), in five 51-bit limbs. ecp_alt.c plugs its
 * ladder step into mbedTLS; tests/unit/test_fe25519.c checks it against
 * RFC 7748's test vectors. Everything here runs in constant time.
 */
#ifndef LUNIK_RUNTIME_FE25519_H
#define LUNIK_RUNTIME_FE25519_H

#include <stdint.h>

/* A field element: sum of limb[i] * 2^(51 i); limbs may exceed 51 bits
 * between operations (fe25519.c bounds them). */
typedef struct {
	uint64_t limb[5];
} fe25519;

/* (h) from the value of the four little-endian 64-bit words (w), which
 * must be below 2^255; fe25519_to_words writes the canonical value of
 * (f), in [0, 2^255 - 19), as four such words. */
void fe25519_from_words(fe25519 *h, const uint64_t w[4]);
void fe25519_to_words(uint64_t w[4], const fe25519 *f);

/* h = f * g (h may be f or g); the operands reduced or sums of two
 * reduced ones, as the ladder step makes them. */
void fe25519_mul(fe25519 *h, const fe25519 *f, const fe25519 *g);

/* One step of the ladder in x/z coordinates (RFC 7748, section 5; the
 * formulas of mbedTLS's ecp_double_add_mxz, mladd-1987-m): with P =
 * (x2 : z2), Q = (x3 : z3) and x1 the affine x of P - Q, replaces P with
 * 2P and Q with P + Q. */
void fe25519_ladder_step(fe25519 *x2, fe25519 *z2, fe25519 *x3, fe25519 *z3,
			 const fe25519 *x1);

#endif
