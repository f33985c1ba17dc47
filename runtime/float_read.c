/*
 * float_read.c -- decimal number text to the nearest double, ties to even:
 * for the decoder (whose exact fast path takes short numbers first) and
 * for the encoder's check that a text reads back.
 *
 * Not the C library's strtod: it is slow on long inputs (quadratic: newlib
 * took 5 s on a 100 KB number), and newlib 3.3's rounds some ties up
 * rather than to even (1 + 2^-53 written as 54 digits and e-53, or with
 * the point after the 27th). Two exact methods instead:
 *
 * - up to 19 significant digits, m * 10^e with m < 2^64 (nearly every
 *   number there is): big-integer arithmetic on m * 5^e, or a division by
 *   5^-e, gives the leading bits and whether anything is left over, which
 *   is all rounding needs;
 * - more digits: the first 19 give the answer unless the value is within
 *   a unit of the 19th digit of a halfway point; then the simple decimal
 *   conversion (as in Go's strconv and Wuffs): up to 800 significant
 *   digits, a flag for nonzero digits dropped after them, and a decimal
 *   exponent, shifted by powers of two until the value is in [1/2, 1),
 *   then 53 bits taken and rounded. Every step is exact but the drop, and
 *   halfway points between doubles have at most 767 significant digits,
 *   so the flag decides ties right.
 */
#include <math.h>
#include <string.h>

#include <stdint.h>

#include "runtime.h"

typedef unsigned __int128 u128;

/* ------------------------------------------------------------ rounding */

/* The double nearest (q + x) * 2^e2, for some 0 <= x < 1 that is 0 iff
 * (sticky) is 0; q has at least 55 bits, so the rounding bit is in it. */
static double assemble(uint64_t q, int sticky, long e2, int neg)
{
	int bl = 64 - __builtin_clzll(q);
	long top = e2 + bl - 1; /* exponent of q's leading bit */
	long keep = top < -1022 ? 53 - (-1022 - top) : 53;
	uint64_t mant, rest, half, bits;
	double v;

	if (top > 1023)
		return neg ? -HUGE_VAL : HUGE_VAL;
	if (keep < 0) /* below half the smallest subnormal */
		return neg ? -0.0 : 0.0;
	mant = keep ? q >> (bl - keep) : 0;
	rest = q & ((bl - keep < 64 ? (1ull << (bl - keep)) : 0) - 1);
	half = 1ull << (bl - keep - 1);
	if (rest > half || (rest == half && (sticky || (mant & 1))))
		mant++;
	/* Normal: mant in [2^52, 2^53], and a carry to 2^53 moves into the
	 * exponent by itself; subnormal: the field is mant. */
	bits = top >= -1022 ? ((uint64_t)(top + 1022) << 52) + mant : mant;
	if (bits >= 0x7ff0000000000000ull)
		return neg ? -HUGE_VAL : HUGE_VAL;
	if (neg)
		bits |= 1ull << 63;
	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* -------------------------------------------------------- 19 digits */

#define LIMBS 40 /* 1280 bits: 5^400 * 2^57 fits */

/* An unsigned integer, 32-bit limbs from the least significant. */
struct big {
	uint32_t w[LIMBS];
	int n;
};

static void big_set(struct big *a, uint64_t v)
{
	a->w[0] = (uint32_t)v;
	a->w[1] = (uint32_t)(v >> 32);
	a->n = a->w[1] ? 2 : 1;
}

static void big_mul32(struct big *a, uint32_t x)
{
	uint64_t carry = 0;

	for (int i = 0; i < a->n; i++) {
		carry += (uint64_t)a->w[i] * x;
		a->w[i] = (uint32_t)carry;
		carry >>= 32;
	}
	if (carry)
		a->w[a->n++] = (uint32_t)carry;
}

/* a *= 5^k, k <= 400 */
static void big_mul_pow5(struct big *a, unsigned k)
{
	for (; k >= 13; k -= 13)
		big_mul32(a, 1220703125u); /* 5^13 */
	if (k) {
		uint32_t p = 1;
		while (k--)
			p *= 5;
		big_mul32(a, p);
	}
}

static int big_bits(const struct big *a)
{
	return 32 * (a->n - 1) + 32 - __builtin_clz(a->w[a->n - 1]);
}

/* Bits [bits - 64, bits) of (a), zeros filling in below bit 0; (sticky)
 * is set if any bit under them is 1. */
static uint64_t big_top64(const struct big *a, int bits, int *sticky)
{
	uint64_t r = 0;

	*sticky = 0;
	for (int b = bits - 1; b >= bits - 64; b--) {
		r <<= 1;
		if (b >= 0)
			r |= (a->w[b / 32] >> (b % 32)) & 1;
	}
	for (int b = bits - 65; b >= 0 && !*sticky; b--)
		*sticky = (a->w[b / 32] >> (b % 32)) & 1;
	return r;
}

/* out = m << s */
static void big_shl64(struct big *out, uint64_t m, int s)
{
	memset(out->w, 0, sizeof(out->w));
	out->n = s / 32 + 3;
	for (int i = 0; i < 64; i++)
		if ((m >> i) & 1)
			out->w[(s + i) / 32] |= 1u << ((s + i) % 32);
	while (out->n > 1 && !out->w[out->n - 1])
		out->n--;
}

/* out = a * q */
static void big_mul64(struct big *out, const struct big *a, uint64_t q)
{
	u128 carry = 0;
	int i;

	for (i = 0; i < a->n; i++) {
		carry += (u128)a->w[i] * q;
		out->w[i] = (uint32_t)carry;
		carry >>= 32;
	}
	for (; carry; carry >>= 32)
		out->w[i++] = (uint32_t)carry;
	out->n = i;
}

static int big_cmp(const struct big *a, const struct big *b)
{
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (int i = a->n - 1; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

/* a -= b, a >= b */
static void big_sub(struct big *a, const struct big *b)
{
	int64_t borrow = 0;

	for (int i = 0; i < a->n; i++) {
		borrow += (int64_t)a->w[i] - (i < b->n ? b->w[i] : 0);
		a->w[i] = (uint32_t)borrow;
		borrow = borrow < 0 ? -1 : 0;
	}
	while (a->n > 1 && !a->w[a->n - 1])
		a->n--;
}

/* For e10 >= 0, the top 64 bits of m * 5^e10 and whether anything is
 * under them; for e10 < 0, q = floor(N / D) with D = 5^-e10 and
 * N = m * 2^s, s >= 0 chosen so that q has at least 56 bits: estimated
 * from the top 64 bits of D (too big by at most one, since the estimate's
 * error is under N / D^2 < 1), then checked exactly. */
double rt_scale_float(uint64_t m, long e10, int neg)
{
	struct big d, n, p;
	int sticky, bm = 64 - __builtin_clzll(m);

	if (e10 > 310)
		return neg ? -HUGE_VAL : HUGE_VAL;
	if (e10 < -400)
		return neg ? -0.0 : 0.0;
	if (e10 >= 0) {
		uint64_t top;
		int bits;

		big_set(&d, m);
		big_mul_pow5(&d, (unsigned)e10);
		bits = big_bits(&d);
		top = big_top64(&d, bits, &sticky);
		return assemble(top, sticky, e10 + bits - 64, neg);
	} else {
		int ld, s, dummy;
		uint64_t dtop, q;

		big_set(&d, 1);
		big_mul_pow5(&d, (unsigned)-e10);
		ld = big_bits(&d);
		s = ld - bm + 56 > 0 ? ld - bm + 56 : 0;
		dtop = big_top64(&d, ld, &dummy);
		q = (uint64_t)(((u128)m << (s + 64 - ld)) / dtop);
		big_shl64(&n, m, s);
		big_mul64(&p, &d, q);
		if (big_cmp(&p, &n) > 0) {
			q--;
			big_sub(&p, &d);
		}
		return assemble(q, big_cmp(&p, &n) != 0, -s + e10, neg);
	}
}

/* ----------------------------------------------- more than 19 digits */

#define DEC_DIGITS 800
#define MAX_SHIFT 60 /* bits per shift: n * 10 + 9 stays below 2^64 */

/* 0.d[0]d[1]...d[nd-1] * 10^dp; trunc: nonzero digits were dropped. */
struct decimal {
	unsigned char d[DEC_DIGITS];
	int nd, dp, trunc;
};

static void trim(struct decimal *a)
{
	while (a->nd > 0 && a->d[a->nd - 1] == 0)
		a->nd--;
	if (a->nd == 0)
		a->dp = 0;
}

/* The digits and exponent of JSON number text (p) .. (end). */
static void dec_read(struct decimal *a, const char *p, const char *end)
{
	long dp = 0, exp = 0;
	int point = 0, eneg = 0;

	a->nd = a->trunc = 0;
	for (; p < end && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			point = 1;
		} else if (*p == '-') {
			continue;
		} else if (a->nd == 0 && *p == '0') {
			dp -= point; /* a leading zero after the point */
		} else {
			dp += !point;
			if (a->nd < DEC_DIGITS)
				a->d[a->nd++] = (unsigned char)(*p - '0');
			else if (*p != '0')
				a->trunc = 1;
		}
	}
	if (p < end && (*++p == '+' || *p == '-'))
		eneg = *p++ == '-';
	for (; p < end; p++)
		if (exp < 100000000)
			exp = exp * 10 + (*p - '0');
	dp += eneg ? -exp : exp;
	a->dp = dp > 100000 ? 100000 : dp < -100000 ? -100000 : (int)dp;
	trim(a);
}

/* a /= 2^k, 0 < k <= MAX_SHIFT: long division, digit by digit. */
static void right_shift(struct decimal *a, unsigned k)
{
	uint64_t n = 0, mask = ((uint64_t)1 << k) - 1;
	int r = 0, w = 0;

	for (; (n >> k) == 0; r++) {
		if (r >= a->nd) {
			if (n == 0) {
				a->nd = 0;
				return;
			}
			while ((n >> k) == 0)
				n *= 10, r++;
			break;
		}
		n = n * 10 + a->d[r];
	}
	a->dp -= r - 1;
	for (; r < a->nd; r++) {
		unsigned c = a->d[r];
		a->d[w++] = (unsigned char)(n >> k);
		n = (n & mask) * 10 + c;
	}
	while (n > 0) {
		unsigned dig = (unsigned)(n >> k);
		n = (n & mask) * 10;
		if (w < DEC_DIGITS)
			a->d[w++] = (unsigned char)dig;
		else if (dig)
			a->trunc = 1;
	}
	a->nd = w;
	trim(a);
}

/* a *= 2^k, 0 < k <= MAX_SHIFT: from the last digit up, in place; delta
 * is at least the number of new digits (k * log10(2), plus one). */
static void left_shift(struct decimal *a, unsigned k)
{
	int delta = (int)(k * 3 / 10) + 2;
	int r = a->nd - 1, w = a->nd + delta, top;
	uint64_t n = 0;

	for (; r >= 0 || n > 0; r--) {
		uint64_t q;

		if (r >= 0)
			n += (uint64_t)a->d[r] << k;
		q = n / 10;
		w--;
		if (w < DEC_DIGITS)
			a->d[w] = (unsigned char)(n - q * 10);
		else if (n - q * 10)
			a->trunc = 1;
		n = q;
	}
	top = a->nd + delta < DEC_DIGITS ? a->nd + delta : DEC_DIGITS;
	memmove(a->d, a->d + w, (size_t)(top - w));
	a->nd = top - w;
	a->dp += delta - w;
	trim(a);
}

/* a *= 2^k (k > 0) or a /= 2^-k (k < 0). */
static void shift(struct decimal *a, int k)
{
	while (k > 0) {
		int step = k < MAX_SHIFT ? k : MAX_SHIFT;
		left_shift(a, (unsigned)step);
		k -= step;
	}
	while (k < 0) {
		int step = -k < MAX_SHIFT ? -k : MAX_SHIFT;
		right_shift(a, (unsigned)step);
		k += step;
	}
}

/* The integer part of (a) (a < 2^54 here), rounded to nearest, ties to
 * even unless digits were dropped, which makes a tie a little more. */
static uint64_t rounded_integer(const struct decimal *a)
{
	uint64_t n = 0;
	int i, up;

	for (i = 0; i < a->dp; i++)
		n = n * 10 + (i < a->nd ? a->d[i] : 0);
	if (a->dp < 0 || a->dp >= a->nd)
		return n;
	if (a->d[a->dp] == 5 && a->dp + 1 == a->nd)
		up = a->trunc || (n & 1);
	else
		up = a->d[a->dp] >= 5;
	return n + (uint64_t)up;
}

static double decimal_to_double(const char *p, const char *end)
{
	/* bits needed to shift 10^i below 1, for i = 0..8 */
	static const unsigned char powtab[] = { 1, 3, 6, 9, 13, 16, 19, 23, 26 };
	struct decimal a;
	int neg = *p == '-', exp = 0;
	uint64_t mant, bits;
	double v;

	dec_read(&a, p, end);
	if (a.nd == 0 || a.dp < -330)
		return neg ? -0.0 : 0.0;
	if (a.dp > 310)
		return neg ? -HUGE_VAL : HUGE_VAL;
	while (a.dp > 0) {
		int k = a.dp >= 9 ? 27 : powtab[a.dp];
		right_shift(&a, (unsigned)k);
		exp += k;
	}
	while (a.dp < 0 || (a.dp == 0 && a.d[0] < 5)) {
		int k = -a.dp >= 9 ? 27 : powtab[-a.dp];
		left_shift(&a, (unsigned)k);
		exp -= k;
	}
	/* a in [1/2, 1): the double is (2a) * 2^(exp - 1), 2a in [1, 2) */
	exp--;
	if (exp < -1022) { /* subnormal: fewer bits */
		shift(&a, exp + 1022);
		exp = -1022;
	}
	if (exp > 1023)
		return neg ? -HUGE_VAL : HUGE_VAL;
	shift(&a, 53);
	mant = rounded_integer(&a);
	if (mant == (1ull << 53)) {
		mant >>= 1;
		if (++exp > 1023)
			return neg ? -HUGE_VAL : HUGE_VAL;
	}
	if (!(mant & (1ull << 52)))
		exp = -1023; /* subnormal */
	bits = (mant & ((1ull << 52) - 1)) | ((uint64_t)(exp + 1023) << 52);
	if (neg)
		bits |= 1ull << 63;
	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* More than 19 digits: the first 19 (m) and the rest bracket the value
 * in [m, m + 1) * 10^e10, so where both ends round to the same double, that
 * is the answer; only near a halfway point does it take all the digits. */
double rt_read_float(const char *p, const char *end)
{
	const char *q = p;
	uint64_t m = 0;
	long e10 = 0, exp = 0;
	int neg = *q == '-', digits = 0, point = 0, eneg = 0, rest = 0;
	double v;

	for (q += neg; q < end && *q != 'e' && *q != 'E'; q++) {
		if (*q == '.') {
			point = 1;
		} else if (m == 0 && *q == '0') {
			e10 -= point;
		} else if (digits < 19) {
			m = m * 10 + (uint64_t)(*q - '0');
			digits++;
			e10 -= point;
		} else {
			e10 += !point;
			rest |= *q != '0';
		}
	}
	if (m == 0)
		return neg ? -0.0 : 0.0;
	if (q < end && (*++q == '+' || *q == '-'))
		eneg = *q++ == '-';
	for (; q < end; q++)
		if (exp < 100000000)
			exp = exp * 10 + (*q - '0');
	e10 += eneg ? -exp : exp;
	v = rt_scale_float(m, e10, neg);
	if (rest && rt_scale_float(m + 1, e10, neg) != v)
		return decimal_to_double(p, end);
	return v;
}
