/*
 * ecp_alt.c -- X25519's ladder step for mbedTLS, through its hook for
 * alternative elliptic-curve arithmetic (MBEDTLS_ECP_INTERNAL_ALT with
 * MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT, library/ecp_internal_alt.h in mbedTLS's
 * tree), computed by fe25519.c.
 *
 * Why: TLS 1.3 makes its key share through PSA crypto, whose X25519 key
 * generation (psa_generate_key, then psa_export_public_key, which
 * recomputes the public key) runs mbedTLS's generic Montgomery ladder
 * twice per handshake; Project Everest's X25519 serves only the ECDH
 * contexts (the shared secret, and all of TLS 1.2). With this step the
 * same ladder, its coordinate randomization and its constant-time swaps
 * stay mbedTLS's, and only the field arithmetic of each of its 256 steps
 * is ours. docs/bench.md has the measurements.
 *
 * Other curves are not "capable" here and keep mbedTLS's code. The
 * bignums are read and written through their limbs, which mbedTLS keeps
 * private, as the points' coordinates (MBEDTLS_PRIVATE): its public byte
 * conversions would cost more than the arithmetic.
 */
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>

#include "fe25519.h"

#if !defined(LUNIK_MBEDTLS_CONFIG) || !defined(MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT)
#error "mbedTLS headers without lunik's configuration (deps/mbedtls)"
#endif

/* ecp_internal_alt.h's contract, which mbedTLS does not install. */
unsigned char mbedtls_internal_ecp_grp_capable(const mbedtls_ecp_group *grp);
int mbedtls_internal_ecp_init(const mbedtls_ecp_group *grp);
void mbedtls_internal_ecp_free(const mbedtls_ecp_group *grp);
int mbedtls_internal_ecp_double_add_mxz(const mbedtls_ecp_group *grp,
					mbedtls_ecp_point *R,
					mbedtls_ecp_point *S,
					const mbedtls_ecp_point *P,
					const mbedtls_ecp_point *Q,
					const mbedtls_mpi *d);

#define LIMBS(x) ((x)->MBEDTLS_PRIVATE(p))
#define NLIMBS(x) ((x)->MBEDTLS_PRIVATE(n))
#define SIGN(x) ((x)->MBEDTLS_PRIVATE(s))
#define PX(pt) (&(pt)->MBEDTLS_PRIVATE(X))
#define PZ(pt) (&(pt)->MBEDTLS_PRIVATE(Z))

unsigned char mbedtls_internal_ecp_grp_capable(const mbedtls_ecp_group *grp)
{
	return grp->id == MBEDTLS_ECP_DP_CURVE25519;
}

int mbedtls_internal_ecp_init(const mbedtls_ecp_group *grp)
{
	return 0;
}

void mbedtls_internal_ecp_free(const mbedtls_ecp_group *grp)
{
}

/* (h) from the bignum (x), a field element mbedTLS keeps reduced, in
 * [0, p); 0 or MBEDTLS_ERR_ECP_BAD_INPUT_DATA for anything else. */
static int load(fe25519 *h, const mbedtls_mpi *x)
{
	uint64_t w[4] = { 0, 0, 0, 0 };
	size_t n = NLIMBS(x);

	if (SIGN(x) < 0)
		return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
	for (size_t i = 0; i < n; i++) {
		if (i < 4)
			w[i] = LIMBS(x)[i];
		else if (LIMBS(x)[i])
			return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
	}
	if (w[3] >> 63)
		return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
	fe25519_from_words(h, w);
	return 0;
}

/* The bignum (x) := the canonical value of (f). */
static int store(mbedtls_mpi *x, const fe25519 *f)
{
	uint64_t w[4];
	int ret = mbedtls_mpi_grow(x, 4);

	if (ret)
		return ret;
	fe25519_to_words(w, f);
	for (size_t i = 0; i < NLIMBS(x); i++)
		LIMBS(x)[i] = i < 4 ? w[i] : 0;
	SIGN(x) = 1;
	return 0;
}

/* R = 2P, S = P + Q, with d = X(P - Q); R may be P and S may be Q (the
 * ladder calls it so). */
int mbedtls_internal_ecp_double_add_mxz(const mbedtls_ecp_group *grp,
					mbedtls_ecp_point *R,
					mbedtls_ecp_point *S,
					const mbedtls_ecp_point *P,
					const mbedtls_ecp_point *Q,
					const mbedtls_mpi *d)
{
	fe25519 x2, z2, x3, z3, x1;
	int ret;

	if ((ret = load(&x2, PX(P))) || (ret = load(&z2, PZ(P))) ||
	    (ret = load(&x3, PX(Q))) || (ret = load(&z3, PZ(Q))) ||
	    (ret = load(&x1, d)))
		return ret;
	fe25519_ladder_step(&x2, &z2, &x3, &z3, &x1);
	if ((ret = store(PX(R), &x2)) || (ret = store(PZ(R), &z2)) ||
	    (ret = store(PX(S), &x3)) || (ret = store(PZ(S), &z3)))
		return ret;
	return 0;
}
