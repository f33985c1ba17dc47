/*
 * fe25519.c -- the field of X25519, GF(2^255 - 19), in radix 2^51: five
 * 64-bit limbs, products in 128 bits, the top carry folded back times 19
 * (2^255 = 19 mod p). This is the representation of curve25519-donna's
 * 64-bit code and of RFC 7748's reference implementations; mbedTLS's
 * generic bignums, which its X25519 key generation would otherwise use
 * for every ladder step (ecp_alt.c says why that matters), allocate and
 * loop over arbitrary lengths instead.
 *
 * Bounds: a reduced element (the output of mul and of from_words) has
 * limbs below 2^51 + 2^13; add of two reduced elements stays below 2^52,
 * sub (f + 2p - g) below 2^53; mul accepts limbs below 2^54, so its
 * column sums stay below 2^115 and every carry fits 64 bits. No branch or
 * memory index depends on a value.
 */
#include "fe25519.h"

#define MASK51 ((1ull << 51) - 1)

typedef unsigned __int128 u128;

void fe25519_from_words(fe25519 *h, const uint64_t w[4])
{
	h->limb[0] = w[0] & MASK51;
	h->limb[1] = (w[0] >> 51 | w[1] << 13) & MASK51;
	h->limb[2] = (w[1] >> 38 | w[2] << 26) & MASK51;
	h->limb[3] = (w[2] >> 25 | w[3] << 39) & MASK51;
	h->limb[4] = (w[3] >> 12) & MASK51;
}

/* One pass of carries: limbs below 2^51, the top one's excess folded
 * into limb 0 (which may then pass 2^51 by a little). */
static void carry(uint64_t t[5])
{
	for (int i = 0; i < 4; i++) {
		t[i + 1] += t[i] >> 51;
		t[i] &= MASK51;
	}
	t[0] += 19 * (t[4] >> 51);
	t[4] &= MASK51;
}

void fe25519_to_words(uint64_t w[4], const fe25519 *f)
{
	uint64_t t[5], q;

	for (int i = 0; i < 5; i++)
		t[i] = f->limb[i];
	carry(t);
	carry(t); /* now t < 2^255 with every limb below 2^51 */
	/* q = 1 exactly when t >= p, that is when t + 19 reaches 2^255 */
	q = (t[0] + 19) >> 51;
	for (int i = 1; i < 5; i++)
		q = (t[i] + q) >> 51;
	t[0] += 19 * q; /* t - p = t + 19 - 2^255: drop bit 255 below */
	for (int i = 0; i < 4; i++) {
		t[i + 1] += t[i] >> 51;
		t[i] &= MASK51;
	}
	t[4] &= MASK51;
	w[0] = t[0] | t[1] << 51;
	w[1] = t[1] >> 13 | t[2] << 38;
	w[2] = t[2] >> 26 | t[3] << 25;
	w[3] = t[3] >> 39 | t[4] << 12;
}

static void add(fe25519 *h, const fe25519 *f, const fe25519 *g)
{
	for (int i = 0; i < 5; i++)
		h->limb[i] = f->limb[i] + g->limb[i];
}

/* h = f - g, as f + 2p - g so that no limb goes negative (g reduced). */
static void sub(fe25519 *h, const fe25519 *f, const fe25519 *g)
{
	h->limb[0] = f->limb[0] + 0xfffffffffffdaull - g->limb[0];
	for (int i = 1; i < 5; i++)
		h->limb[i] = f->limb[i] + 0xffffffffffffeull - g->limb[i];
}

/* Carries the 128-bit column sums (r) into the reduced element (h). */
static void reduce(fe25519 *h, u128 r[5])
{
	uint64_t c;

	for (int i = 0; i < 4; i++) {
		r[i + 1] += (uint64_t)(r[i] >> 51);
		r[i] = (uint64_t)r[i] & MASK51;
	}
	c = (uint64_t)(r[4] >> 51);
	h->limb[4] = (uint64_t)r[4] & MASK51;
	h->limb[0] = (uint64_t)r[0] + c * 19;
	h->limb[1] = (uint64_t)r[1] + (h->limb[0] >> 51);
	h->limb[0] &= MASK51;
	h->limb[2] = (uint64_t)r[2];
	h->limb[3] = (uint64_t)r[3];
}

void fe25519_mul(fe25519 *h, const fe25519 *f, const fe25519 *g)
{
	const uint64_t *a = f->limb, *b = g->limb;
	uint64_t b1 = 19 * b[1], b2 = 19 * b[2], b3 = 19 * b[3], b4 = 19 * b[4];
	u128 r[5];

	r[0] = (u128)a[0] * b[0] + (u128)a[1] * b4 + (u128)a[2] * b3 +
	       (u128)a[3] * b2 + (u128)a[4] * b1;
	r[1] = (u128)a[0] * b[1] + (u128)a[1] * b[0] + (u128)a[2] * b4 +
	       (u128)a[3] * b3 + (u128)a[4] * b2;
	r[2] = (u128)a[0] * b[2] + (u128)a[1] * b[1] + (u128)a[2] * b[0] +
	       (u128)a[3] * b4 + (u128)a[4] * b3;
	r[3] = (u128)a[0] * b[3] + (u128)a[1] * b[2] + (u128)a[2] * b[1] +
	       (u128)a[3] * b[0] + (u128)a[4] * b4;
	r[4] = (u128)a[0] * b[4] + (u128)a[1] * b[3] + (u128)a[2] * b[2] +
	       (u128)a[3] * b[1] + (u128)a[4] * b[0];
	reduce(h, r);
}

/* h = f * 121666, the curve's (A + 2) / 4 (mbedTLS's grp->A). */
static void mul_a24(fe25519 *h, const fe25519 *f)
{
	u128 r[5];

	for (int i = 0; i < 5; i++)
		r[i] = (u128)f->limb[i] * 121666;
	reduce(h, r);
}

void fe25519_ladder_step(fe25519 *x2, fe25519 *z2, fe25519 *x3, fe25519 *z3,
			 const fe25519 *x1)
{
	fe25519 pp, pm, qp, qm, pp2, pm2, e, t;

	add(&pp, x2, z2);	/* Pp = X2 + Z2 */
	sub(&pm, x2, z2);	/* Pm = X2 - Z2 */
	add(&qp, x3, z3);	/* Qp = X3 + Z3 */
	sub(&qm, x3, z3);	/* Qm = X3 - Z3 */
	fe25519_mul(&qm, &qm, &pp);	/* Qm * Pp */
	fe25519_mul(&qp, &qp, &pm);	/* Qp * Pm */
	fe25519_mul(&pp2, &pp, &pp);	/* Pp^2 */
	fe25519_mul(&pm2, &pm, &pm);	/* Pm^2 */
	fe25519_mul(x2, &pp2, &pm2);	/* X4 = Pp^2 * Pm^2 */
	sub(&e, &pp2, &pm2);	/* E = Pp^2 - Pm^2 */
	mul_a24(&t, &e);
	add(&t, &t, &pm2);	/* A * E + Pm^2 */
	fe25519_mul(z2, &e, &t);	/* Z4 = E * (A * E + Pm^2) */
	add(&t, &qm, &qp);
	fe25519_mul(x3, &t, &t);	/* X5 = (Qm*Pp + Qp*Pm)^2 */
	sub(&t, &qm, &qp);
	fe25519_mul(&t, &t, &t);
	fe25519_mul(z3, x1, &t);	/* Z5 = X1 * (Qm*Pp - Qp*Pm)^2 */
}
