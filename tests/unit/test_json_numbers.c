/*
 * test_json_numbers.c -- the json module's numbers in bulk, against glibc
 * (whose printf and strtod are exact): random floats print with the
 * fewest digits, correctly rounded, and read back to the same bits;
 * random number texts, numbers of thousands of digits, and the texts at,
 * above and below halfway points between doubles decode as strtod reads
 * them.
 *
 * sources: bindings/json.c bindings/json_encode.c bindings/json_decode.c
 * sources: bindings/json_number.c runtime/float_read.c
 * needs: lua
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "check.h"

int luaopen_json(lua_State *L);

static lua_State *L;

/* Decodes (n) bytes at (s): returns 1 with the value on the stack, or 0
 * with the error message there. */
static int decode(const char *s, size_t n)
{
	lua_settop(L, 0);
	lua_getglobal(L, "json");
	lua_getfield(L, -1, "decode");
	lua_pushlstring(L, s, n);
	if (lua_pcall(L, 1, 2, 0) != LUA_OK)
		return 0;
	if (lua_isnil(L, -2) && lua_isstring(L, -1))
		return 0;
	lua_pop(L, 1);
	return 1;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Significant digits of a number's text: "1.50e+3" has 2. */
static int significant(const char *t, size_t n)
{
	const char *first = NULL, *last = NULL;

	for (size_t i = 0; i < n && t[i] != 'e'; i++) {
		if (t[i] >= '1' && t[i] <= '9') {
			if (!first)
				first = t + i;
			last = t + i;
		}
	}
	if (!first)
		return 1;
	int k = 0;
	for (const char *p = first; p <= last; p++)
		k += *p >= '0' && *p <= '9';
	return k;
}

/* Random doubles: any bit pattern, decimal-looking ones (m / 10^k), and
 * any mantissa at the magnitudes of everyday numbers (with powers of two,
 * whose lower neighbour is closer). Each prints with the fewest significant
 * digits that read back exactly, those digits correctly rounded (as %.Ng
 * gives them), with a '.' or an 'e' so it stays a float, and decodes to the
 * same bits. */
static void test_floats(void)
{
	enum { N = 40000 };
	static double v[N];
	size_t len, bad_trip = 0, bad_short = 0, bad_marker = 0, bad_round = 0;
	const char *s, *p;

	lua_settop(L, 0);
	lua_getglobal(L, "json");
	lua_getfield(L, -1, "encode");
	lua_createtable(L, N, 0);
	for (int i = 0; i < N; i++) {
		uint64_t r = next_random();
		if (i % 3 == 1) {
			v[i] = (double)(r % 100000000) / pow(10, (double)((r >> 40) % 12));
		} else if (i % 3 == 2) {
			/* any mantissa, magnitudes 1e-5 .. 1e16 */
			v[i] = ldexp((double)((r >> 11) | (1ull << 52)),
				     (int)(r % 71) - 52 - 17);
			if (i % 7 == 0)
				v[i] = ldexp(1.0, (int)(r % 60) - 14);
			if (r & 1)
				v[i] = -v[i];
		} else {
			memcpy(&v[i], &r, 8);
			if (!isfinite(v[i]))
				v[i] = (double)i;
		}
		lua_pushnumber(L, v[i]);
		lua_rawseti(L, -2, i + 1);
	}
	CHECK(lua_pcall(L, 1, 1, 0) == LUA_OK, "encode %d random floats", N);
	s = lua_tolstring(L, -1, &len);
	p = s + 1;
	for (int i = 0; i < N && p < s + len; i++) {
		size_t n = strcspn(p, ",]");
		char tok[40], shorter[400];
		int k;

		snprintf(tok, sizeof(tok), "%.*s", (int)n, p);
		bad_trip += strtod(tok, NULL) != v[i];
		bad_marker += !strpbrk(tok, ".e");
		k = significant(tok, n);
		if (k > 1) {
			snprintf(shorter, sizeof(shorter), "%.*g", k - 1, v[i]);
			bad_short += strtod(shorter, NULL) == v[i];
		}
		if (v[i] != floor(v[i])) {
			snprintf(shorter, sizeof(shorter), "%.*g", k, v[i]);
			bad_round += strcmp(shorter, tok) != 0;
		}
		p += n + 1;
	}
	CHECK(bad_trip == 0, "every float's text reads back exactly (%zu bad)", bad_trip);
	CHECK(bad_short == 0, "no float has a shorter exact text (%zu bad)", bad_short);
	CHECK(bad_marker == 0, "every float's text has '.' or 'e' (%zu bad)", bad_marker);
	CHECK(bad_round == 0, "every float's digits are correctly rounded (%zu bad)", bad_round);
	bad_trip = 0;
	if (decode(s, len)) {
		for (int i = 0; i < N; i++) {
			lua_rawgeti(L, -1, i + 1);
			bad_trip += !lua_isnumber(L, -1) || lua_isinteger(L, -1) ||
				    memcmp(&(double){ lua_tonumber(L, -1) }, &v[i], 8);
			lua_pop(L, 1);
		}
	}
	CHECK(bad_trip == 0, "%d floats decode to the same bits (%zu bad)", N, bad_trip);
}

/* Random number texts, from short integers to 40 digits with exponents
 * past both ends of the range: decode agrees with the C library's strtod
 * (and strtoll for integers that fit). */
static void test_number_texts(void)
{
	enum { N = 30000 };
	static char tok[N][80];
	size_t bad = 0, range = 0;

	for (int i = 0; i < N; i++) {
		uint64_t r = next_random();
		int ndig = 1 + (int)(r % 20) + (r >> 60 == 0 ? 20 : 0);
		int nfrac = (r >> 8) & 1 ? (int)((r >> 9) % 20) + 1 : 0;
		char *t = tok[i];

		if ((r >> 14) & 1)
			*t++ = '-';
		*t++ = (char)('1' + next_random() % 9);
		for (int j = 1; j < ndig; j++)
			*t++ = (char)('0' + next_random() % 10);
		if (nfrac) {
			*t++ = '.';
			for (int j = 0; j < nfrac; j++)
				*t++ = (char)('0' + next_random() % 10);
		}
		if ((r >> 15) & 1)
			t += sprintf(t, "e%d", (int)((r >> 16) % 700) - 350);
		*t = 0;
	}
	for (int i = 0; i < N; i++) {
		int fits = !strpbrk(tok[i], ".e");
		int ok = decode(tok[i], strlen(tok[i]));
		double want = strtod(tok[i], NULL);
		long long wi;

		if (isinf(want)) {
			range++;
			bad += ok || !strstr(lua_tostring(L, -1), "number out of range");
			continue;
		}
		if (fits) {
			char *end;
			errno = 0;
			wi = strtoll(tok[i], &end, 10);
			fits = errno == 0;
		}
		if (!ok)
			bad++, printf("# %s: %s\n", tok[i], lua_tostring(L, -1));
		else if (fits)
			bad += !lua_isinteger(L, -1) || lua_tointeger(L, -1) != wi;
		else
			bad += lua_isinteger(L, -1) ||
			       memcmp(&(double){ lua_tonumber(L, -1) }, &want, 8) != 0;
	}
	CHECK(bad == 0, "%d random number texts decode as strtod reads them, "
	      "%zu out of range (%zu bad)", N, range, bad);
}

/* Numbers with thousands of digits: cut to 800 significant digits for
 * strtod's sake, they must still round as the full text does, ties and
 * one-past-the-tie included, and quickly. */
static void test_long_numbers(void)
{
	static const char tie[] = "1.00000000000000011102230246251565404236316680908203125";
	static const char above_2_53[] = "9007199254740993";
	char *t = malloc(200000);
	size_t bad = 0, n;
	int ok;

	/* the tie, zeros, then a 1 far past 800 digits: rounds up */
	n = (size_t)sprintf(t, "%s", tie);
	memset(t + n, '0', 3000);
	strcpy(t + n + 3000, "1");
	ok = decode(t, strlen(t));
	CHECK(ok && !lua_isinteger(L, -1) && lua_tonumber(L, -1) == 1.0000000000000002,
	      "a tie with a 1 digit 3000 places later rounds up");
	t[n + 3000] = '0';
	ok = decode(t, strlen(t));
	CHECK(ok && lua_tonumber(L, -1) == 1.0, "a tie with 3000 zeros after it rounds to even");
	n = (size_t)sprintf(t, "-%s", above_2_53);
	memset(t + n, '0', 5000);
	n += 5000;
	n += (size_t)sprintf(t + n, "7e-5001");
	ok = decode(t, n);
	CHECK(ok && lua_tonumber(L, -1) == -9007199254740994.0,
	      "2^53 + 1 and a 7 5000 digits later: -9007199254740994.0");
	memset(t, '9', 150000);
	ok = decode(t, 150000);
	CHECK(!ok && strcmp(lua_tostring(L, -1), "number out of range at byte 1") == 0,
	      "150000 nines: out of range");
	memcpy(t, "0.", 2);
	memset(t + 2, '0', 150000);
	strcpy(t + 150002, "123e150300");
	ok = decode(t, strlen(t));
	CHECK(ok && lua_tonumber(L, -1) == 1.23e299, "0.(150000 zeros)123e150300 is 1.23e299");
	for (int i = 0; i < 300; i++) {
		uint64_t r = next_random();
		size_t digits = 700 + r % 2000, at = 0;
		double want;

		if (r & 1)
			t[at++] = '-';
		t[at++] = (char)('1' + r % 9);
		for (size_t j = 1; j < digits; j++) {
			if (j == 1 + (r >> 8) % 40)
				t[at++] = '.';
			t[at++] = (char)('0' + next_random() % 10);
		}
		at += (size_t)sprintf(t + at, "e%d", (int)((r >> 20) % 640) - 320);
		t[at] = 0;
		want = strtod(t, NULL);
		ok = decode(t, at);
		if (isinf(want))
			bad += ok;
		else
			bad += !ok || lua_tonumber(L, -1) != want;
	}
	CHECK(bad == 0, "300 random numbers of 700 to 2700 digits read as strtod reads them "
	      "(%zu bad)", bad);
	free(t);
}

/* Halfway points between neighbouring doubles, normal and subnormal,
 * written out exactly (glibc's printf is exact): each must round to the
 * even neighbour, and a hair above or below it to that side, as glibc's
 * strtod says. Ties are where a conversion is most easily wrong. */
static void test_halfway(void)
{
	static char text[1200];
	size_t bad = 0, cases = 0;

	for (int i = 0; i < 1500; i++) {
		uint64_t r = next_random(), bits = r & 0x7fefffffffffffffull;
		double lo, hi;

		if (i % 5 == 0)
			bits &= 0x000fffffffffffffull; /* subnormal */
		else if (i % 5 == 1)
			bits = (bits & 0x000fffffffffffffull) |
			       ((uint64_t)(1023 + (int)(r >> 52) % 120 - 60) << 52);
		memcpy(&lo, &bits, 8);
		hi = nextafter(lo, INFINITY);
		/* the midpoint is exact in a long double (64-bit mantissa),
		 * and its decimal has at most 767 significant digits */
		snprintf(text, sizeof(text), "%.800Le", ((long double)lo + hi) / 2);
		for (int v = 0; v < 3; v++) {
			char t[1200];
			char *e = strchr(text, 'e');
			size_t mant = (size_t)(e - text);
			double want;
			int ok;

			/* v = 0: the tie; 1: a 1 after the last digit; 2: the
			 * last nonzero digit one less (just below) */
			memcpy(t, text, mant);
			t[mant] = 0;
			while (mant > 2 && t[mant - 1] == '0')
				t[--mant] = 0;
			if (v == 1)
				t[mant++] = '1', t[mant] = 0;
			if (v == 2) {
				size_t k = mant - 1;
				while (t[k] == '0' || t[k] == '.')
					k--;
				t[k]--;
			}
			strcat(t, e);
			want = strtod(t, NULL);
			ok = decode(t, strlen(t));
			bad += !ok || memcmp(&(double){ lua_tonumber(L, -1) }, &want, 8) != 0;
			cases++;
		}
	}
	CHECK(bad == 0, "%zu texts at, above and below halfway points round as strtod "
	      "(%zu bad)", cases, bad);
}

int main(void)
{
	L = luaL_newstate();
	luaL_openlibs(L);
	luaL_requiref(L, "json", luaopen_json, 1);
	lua_pop(L, 1);

	test_floats();
	test_number_texts();
	test_long_numbers();
	test_halfway();
	lua_close(L);
	CHECK_EXIT();
}
