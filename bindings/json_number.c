/*
 * json_number.c -- floats as JSON text: the fewest significant digits that
 * read back to the same double (by runtime/float_read.c, as the decoder reads
 * them), always with a '.' or an 'e' so the text decodes as a float again.
 *
 * The text is what the first of %.15g, %.16g, %.17g that reads back would
 * print (subnormals may need fewer than 15 digits, and start from %.1g).
 * printf and strtod are slow (newlib's more so), so for the magnitudes API
 * documents are made of, 1e-4 <= |d| < 1e15, the same text is found
 * exactly with 128-bit integers: the shortest decimal inside the interval
 * of reals that round to d.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_internal.h"

typedef unsigned __int128 u128;

/* (m) with (k) of its digits after the point: "12.5", "0.0025". */
static size_t fixed(char *out, uint64_t m, int k)
{
	char digits[24];
	int nd = 0;
	size_t o = 0;

	do {
		digits[nd++] = (char)('0' + m % 10);
		m /= 10;
	} while (m);
	if (nd <= k) {
		out[o++] = '0';
		out[o++] = '.';
		for (int i = nd; i < k; i++)
			out[o++] = '0';
		while (nd)
			out[o++] = digits[--nd];
		return o;
	}
	while (nd > k)
		out[o++] = digits[--nd];
	out[o++] = '.';
	if (!k)
		out[o++] = '0';
	while (nd)
		out[o++] = digits[--nd];
	return o;
}

/* For 1e-4 <= a < 1e15, a not an integer: writes a's shortest text and
 * returns its length, or 0 if none is found (never expected).
 *
 * a = f * 2^-s. The doubles beside it are one ulp (2^-s) away, or half an
 * ulp below when f is the smallest mantissa; a decimal reads back as a iff
 * it lies within half of each gap, ends included when f is even (strtod
 * rounds ties to even). In units of 2^-(s+2) that interval is [lo, hi].
 * For k = 0, 1, ... fractional digits, the integers in [lo, hi] * 10^k /
 * 2^(s+2) are the k-digit candidates; the first k that has one wins, and
 * of its candidates the one nearest a, which is what printf's correctly
 * rounded digits give. Below 1e15 and above 1e-4, s + 2 <= 68 and k <= 21
 * keep every product under 2^125. */
static size_t shortest_fixed(char *out, double a)
{
	uint64_t bits, fm, f;
	int shift, even;
	u128 x, lo, hi, mask;

	memcpy(&bits, &a, sizeof(bits));
	fm = bits & ((1ull << 52) - 1);
	f = fm | (1ull << 52);
	shift = 1075 - (int)(bits >> 52) + 2;
	even = (f & 1) == 0;
	x = (u128)f << 2;
	hi = x + 2;
	lo = fm ? x - 2 : x - 1;
	mask = ((u128)1 << shift) - 1;
	for (int k = 0; k <= 21; k++) {
		u128 l = (lo >> shift) + ((lo & mask) != 0 || !even);
		u128 h = (hi >> shift) - ((hi & mask) == 0 && !even);

		if (l <= h) {
			u128 m = x >> shift, rem = x & mask;
			u128 half = (u128)1 << (shift - 1);

			if (rem > half || (rem == half && (m & 1)))
				m++;
			m = m < l ? l : m > h ? h : m;
			return fixed(out, (uint64_t)m, k);
		}
		x *= 10;
		lo *= 10;
		hi *= 10;
	}
	return 0;
}

/* The first of %.Ng (N from 15, or from 1 for subnormals, whose precision
 * is less than DBL_DIG's 15) that reads back as (d). */
static size_t shortest_printf(char *out, double d)
{
	int n = 0;

	for (int prec = fabs(d) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
		n = snprintf(out, JSON_NUMBER_MAX, "%.*g", prec, d);
		if (prec == 17 || rt_read_float(out, out + n) == d)
			break;
	}
	if (!strpbrk(out, ".e"))
		out[n++] = '.', out[n++] = '0';
	return (size_t)n;
}

size_t json_format_float(char *out, double d)
{
	double a = fabs(d);
	size_t n;

	if (a == 0) {
		memcpy(out, signbit(d) ? "-0.0" : "0.0", 4);
		return signbit(d) ? 4 : 3;
	}
	if (a >= 1e-4 && a < 1e15) {
		n = d < 0;
		out[0] = '-';
		if (a == floor(a))
			n += fixed(out + n, (uint64_t)a, 0);
		else
			n += shortest_fixed(out + n, a);
		if (n > (size_t)(d < 0))
			return n;
	}
	return shortest_printf(out, d);
}
