/*
 * test_crypto_codec.c -- base16 and base64 of the crypto module
 * (bindings/crypto_codec.c) against RFC 4648 section 10, the URL-safe
 * alphabet, every kind of bad input, and round trips of all byte values.
 *
 * sources: bindings/crypto_codec.c
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crypto_codec.h"

/* RFC 4648 section 10 */
static const struct {
	const char *in, *b64, *b16;
} rfc[] = {
	{ "", "", "" },
	{ "f", "Zg==", "66" },
	{ "fo", "Zm8=", "666F" },
	{ "foo", "Zm9v", "666F6F" },
	{ "foob", "Zm9vYg==", "666F6F62" },
	{ "fooba", "Zm9vYmE=", "666F6F6261" },
	{ "foobar", "Zm9vYmFy", "666F6F626172" },
};

/* Bad input: what it is, how it decodes, where the error is (from 0). */
static const struct {
	const char *in;
	bool url;
	int err;
	size_t pos;
} bad64[] = {
	{ "Zg", false, CRYPTO_CODEC_PADDING, 2 },      /* padding missing */
	{ "Zg=", false, CRYPTO_CODEC_PADDING, 2 },     /* partial padding */
	{ "Zg=", true, CRYPTO_CODEC_PADDING, 2 },
	{ "Zg===", false, CRYPTO_CODEC_PADDING, 2 },
	{ "Z===", false, CRYPTO_CODEC_PADDING, 1 },
	{ "====", false, CRYPTO_CODEC_PADDING, 0 },
	{ "Zg==Zg==", false, CRYPTO_CODEC_PADDING, 2 }, /* '=' inside */
	{ "Z", false, CRYPTO_CODEC_LENGTH, 1 },
	{ "Zm9vY", true, CRYPTO_CODEC_LENGTH, 5 },
	{ "Zh==", false, CRYPTO_CODEC_BITS, 1 },       /* "f" + stray bits */
	{ "Zm9=", false, CRYPTO_CODEC_BITS, 2 },
	{ "Zh", true, CRYPTO_CODEC_BITS, 1 },
	{ "Zm9v\n", false, CRYPTO_CODEC_CHAR, 4 },     /* no line breaks */
	{ " Zm9v", false, CRYPTO_CODEC_CHAR, 0 },
	{ "Zm9v.", false, CRYPTO_CODEC_CHAR, 4 },
	{ "+/8=", true, CRYPTO_CODEC_CHAR, 0 },        /* wrong alphabet */
	{ "-_8=", false, CRYPTO_CODEC_CHAR, 0 },
	{ "Zm\x80v", false, CRYPTO_CODEC_CHAR, 2 },
};

static void test_rfc(void)
{
	char out[64];
	unsigned char bin[64];
	size_t pos = 99;

	for (size_t i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		size_t len = strlen(rfc[i].in), n;
		long got;
		char lower[32];

		n = crypto_base64_encode(out, (const unsigned char *)rfc[i].in, len, false);
		CHECK(n == strlen(rfc[i].b64) && n == crypto_base64_len(len, false) &&
		      memcmp(out, rfc[i].b64, n) == 0,
		      "base64 '%s' = '%s'", rfc[i].in, rfc[i].b64);
		got = crypto_base64_decode(bin, rfc[i].b64, strlen(rfc[i].b64), false, &pos);
		CHECK(got == (long)len && memcmp(bin, rfc[i].in, len) == 0,
		      "unbase64 '%s' = '%s'", rfc[i].b64, rfc[i].in);

		crypto_hex_encode(out, (const unsigned char *)rfc[i].in, len);
		for (n = 0; rfc[i].b16[n]; n++)
			lower[n] = (char)(rfc[i].b16[n] | 0x20);
		CHECK(memcmp(out, lower, 2 * len) == 0, "hex '%s' = lowercase '%s'",
		      rfc[i].in, rfc[i].b16);
		got = crypto_hex_decode(bin, rfc[i].b16, 2 * len, &pos);
		CHECK(got == (long)len && memcmp(bin, rfc[i].in, len) == 0,
		      "unhex '%s' (uppercase) = '%s'", rfc[i].b16, rfc[i].in);
		got = crypto_hex_decode(bin, lower, 2 * len, &pos);
		CHECK(got == (long)len && memcmp(bin, rfc[i].in, len) == 0,
		      "unhex lowercase of '%s'", rfc[i].b16);
	}
}

static void test_url(void)
{
	static const unsigned char in[] = { 0xfb, 0xff, 0xbf };
	char out[8];
	unsigned char bin[8];
	size_t pos, n;

	n = crypto_base64_encode(out, in, 3, false);
	CHECK(n == 4 && memcmp(out, "+/+/", 4) == 0, "standard alphabet: +/+/");
	n = crypto_base64_encode(out, in, 3, true);
	CHECK(n == 4 && memcmp(out, "-_-_", 4) == 0, "url alphabet: -_-_");
	n = crypto_base64_encode(out, in, 2, true);
	CHECK(n == 3 && n == crypto_base64_len(2, true) && memcmp(out, "-_8", 3) == 0,
	      "url is unpadded: -_8");
	CHECK(crypto_base64_decode(bin, "-_8", 3, true, &pos) == 2 &&
	      bin[0] == 0xfb && bin[1] == 0xff, "url decodes unpadded");
	CHECK(crypto_base64_decode(bin, "-_8=", 4, true, &pos) == 2 &&
	      bin[0] == 0xfb && bin[1] == 0xff, "url decodes padded too");
	CHECK(crypto_base64_decode(bin, "Zg", 2, true, &pos) == 1 && bin[0] == 'f',
	      "url decodes Zg to f");
}

static void test_bad(void)
{
	unsigned char bin[64];

	for (size_t i = 0; i < sizeof(bad64) / sizeof(bad64[0]); i++) {
		size_t pos = 99;
		long got = crypto_base64_decode(bin, bad64[i].in, strlen(bad64[i].in),
						bad64[i].url, &pos);

		CHECK(got == bad64[i].err && pos == bad64[i].pos,
		      "bad base64%s #%zu: %s at %zu (got %ld at %zu)",
		      bad64[i].url ? "url" : "", i, crypto_codec_strerror(bad64[i].err),
		      bad64[i].pos, got, pos);
	}
	size_t pos = 99;
	CHECK(crypto_hex_decode(bin, "abc", 3, &pos) == CRYPTO_CODEC_LENGTH && pos == 3,
	      "unhex: odd length");
	CHECK(crypto_hex_decode(bin, "zz", 2, &pos) == CRYPTO_CODEC_CHAR && pos == 0,
	      "unhex: bad first digit");
	CHECK(crypto_hex_decode(bin, "0g", 2, &pos) == CRYPTO_CODEC_CHAR && pos == 1,
	      "unhex: bad second digit");
	CHECK(crypto_hex_decode(bin, "00 1", 4, &pos) == CRYPTO_CODEC_CHAR && pos == 2,
	      "unhex: no spaces");
	CHECK(crypto_hex_decode(bin, "0x00", 4, &pos) == CRYPTO_CODEC_CHAR && pos == 1,
	      "unhex: no 0x prefix");
	CHECK(strcmp(crypto_codec_strerror(CRYPTO_CODEC_BITS), "nonzero trailing bits") == 0,
	      "error messages");
}

/* Every length 0..300 over all byte values, both alphabets: decode undoes
 * encode exactly, and no output byte is written past the decoded length. */
static void test_round_trips(void)
{
	unsigned char in[300], bin[420];
	char text[610];
	int ok = 1;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(in) && ok; len++) {
		for (int url = 0; url < 2 && ok; url++) {
			size_t pos, n = crypto_base64_encode(text, in, len, url);

			memset(bin, 0xa5, sizeof(bin));
			ok = n == crypto_base64_len(len, url) &&
			     crypto_base64_decode(bin, text, n, url, &pos) == (long)len &&
			     memcmp(bin, in, len) == 0 && bin[len] == 0xa5;
		}
		crypto_hex_encode(text, in, len);
		size_t pos;
		ok = ok && crypto_hex_decode(bin, text, 2 * len, &pos) == (long)len &&
		     memcmp(bin, in, len) == 0;
	}
	CHECK(ok, "round trips of 0..300 bytes, base64, base64url and hex");
}

int main(void)
{
	test_rfc();
	test_url();
	test_bad();
	test_round_trips();
	CHECK_EXIT();
}
