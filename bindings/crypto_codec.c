/*
 * crypto_codec.c -- base16 and base64 of RFC 4648, strict on decoding.
 * Contracts in crypto_codec.h.
 */
#include "crypto_codec.h"

static const char hex_digits[] = "0123456789abcdef";
static const char b64_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char *crypto_codec_strerror(int err)
{
	switch (err) {
	case CRYPTO_CODEC_LENGTH:
		return "bad length";
	case CRYPTO_CODEC_CHAR:
		return "bad character";
	case CRYPTO_CODEC_PADDING:
		return "bad padding";
	case CRYPTO_CODEC_BITS:
		return "nonzero trailing bits";
	default:
		return "unknown error";
	}
}

void crypto_hex_encode(char *out, const unsigned char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 15];
	}
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long crypto_hex_decode(unsigned char *out, const char *in, size_t len,
		       size_t *pos)
{
	if (len % 2) {
		*pos = len;
		return CRYPTO_CODEC_LENGTH;
	}
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_value((unsigned char)in[i]);
		int lo = hex_value((unsigned char)in[i + 1]);

		if (hi < 0 || lo < 0) {
			*pos = hi < 0 ? i : i + 1;
			return CRYPTO_CODEC_CHAR;
		}
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return (long)(len / 2);
}

size_t crypto_base64_len(size_t len, bool url)
{
	if (!url)
		return (len + 2) / 3 * 4;
	return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}

size_t crypto_base64_encode(char *out, const unsigned char *in, size_t len,
			    bool url)
{
	const char *abc = url ? b64_url : b64_std;
	size_t n = 0, i = 0;

	for (; i + 3 <= len; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 | in[i + 1] << 8 | in[i + 2];

		out[n++] = abc[v >> 18];
		out[n++] = abc[v >> 12 & 63];
		out[n++] = abc[v >> 6 & 63];
		out[n++] = abc[v & 63];
	}
	if (len - i == 1) {
		out[n++] = abc[in[i] >> 2];
		out[n++] = abc[(in[i] & 3) << 4];
		if (!url) {
			out[n++] = '=';
			out[n++] = '=';
		}
	} else if (len - i == 2) {
		out[n++] = abc[in[i] >> 2];
		out[n++] = abc[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[n++] = abc[(in[i + 1] & 15) << 2];
		if (!url)
			out[n++] = '=';
	}
	return n;
}

static int b64_value(unsigned char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/* How many '=' end (in): the padding, whose validity the caller checks. */
static size_t b64_padding(const char *in, size_t len)
{
	size_t pad = 0;

	while (pad < len && in[len - 1 - pad] == '=')
		pad++;
	return pad;
}

long crypto_base64_decode(unsigned char *out, const char *in, size_t len,
			  bool url, size_t *pos)
{
	size_t pad = b64_padding(in, len), data = len - pad, n = 0;
	unsigned long acc = 0;
	int bits = 0;

	for (size_t i = 0; i < data; i++) {
		int v = b64_value((unsigned char)in[i], url);

		if (v < 0) {
			*pos = i;
			return in[i] == '=' ? CRYPTO_CODEC_PADDING : CRYPTO_CODEC_CHAR;
		}
		acc = acc << 6 | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1ul << bits) - 1;
		}
	}
	/* Padding completes the last group of 4 with 1 or 2 '='. */
	if (pad > 2 || (pad > 0 && len % 4 != 0)) {
		*pos = data;
		return CRYPTO_CODEC_PADDING;
	}
	if (data % 4 == 1) {
		*pos = len;
		return CRYPTO_CODEC_LENGTH;
	}
	if (!url && pad == 0 && data % 4 != 0) {
		*pos = len;
		return CRYPTO_CODEC_PADDING;
	}
	if (acc != 0) {
		*pos = data - 1;
		return CRYPTO_CODEC_BITS;
	}
	return (long)n;
}
