/*
 * fuzz_crypto_codec.c -- the crypto module's strict decoders
 * (bindings/crypto_codec.c) on arbitrary input: they never read or write
 * out of bounds, and whatever they accept is the one canonical encoding
 * of what they return (re-encoding gives the input back, up to hex case
 * and base64url's optional padding). Encoding the input as bytes and
 * decoding it back gives it unchanged.
 *
 * sources: bindings/crypto_codec.c
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_codec.h"

static void check_base64(const char *in, size_t len, bool url)
{
	unsigned char *bin = malloc(3 * ((len + 3) / 4) + 1);
	char *text = malloc(len + 4);
	size_t pos, n, stripped = len;
	long got = crypto_base64_decode(bin, in, len, url, &pos);

	if (got >= 0) {
		n = crypto_base64_encode(text, bin, (size_t)got, url);
		while (url && stripped > 0 && in[stripped - 1] == '=')
			stripped--;
		if (n != stripped || memcmp(text, in, n) != 0)
			abort();
	} else if (pos > len) {
		abort();
	}
	free(bin);
	free(text);
}

static void check_hex(const char *in, size_t len)
{
	unsigned char *bin = malloc(len / 2 + 1);
	char *text = malloc(len + 1);
	size_t pos;
	long got = crypto_hex_decode(bin, in, len, &pos);

	if (got >= 0) {
		crypto_hex_encode(text, bin, (size_t)got);
		for (size_t i = 0; i < len; i++)
			if (text[i] != tolower((unsigned char)in[i]))
				abort();
	} else if (pos > len) {
		abort();
	}
	free(bin);
	free(text);
}

static void check_encode(const uint8_t *data, size_t len)
{
	char *text = malloc(2 * len + 4);
	unsigned char *bin = malloc(len + 3);
	size_t pos, n;

	for (int url = 0; url < 2; url++) {
		n = crypto_base64_encode(text, data, len, url);
		if (n != crypto_base64_len(len, url) ||
		    crypto_base64_decode(bin, text, n, url, &pos) != (long)len ||
		    memcmp(bin, data, len) != 0)
			abort();
	}
	crypto_hex_encode(text, data, len);
	if (crypto_hex_decode(bin, text, 2 * len, &pos) != (long)len ||
	    memcmp(bin, data, len) != 0)
		abort();
	free(text);
	free(bin);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exact-size copies, so ASan sees any read past the end */
	char *in = malloc(size ? size : 1);

	memcpy(in, data, size);
	check_base64(in, size, false);
	check_base64(in, size, true);
	check_hex(in, size);
	check_encode(data, size);
	free(in);
	return 0;
}
