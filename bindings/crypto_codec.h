/*
 * crypto_codec.h -- base16 and base64 (RFC 4648) for the crypto module,
 * plain C with no Lua, so the host unit and fuzz tests run them as is.
 *
 * Decoding is strict: exactly one encoding of each byte string is
 * accepted, so decode(s) succeeds only when encode(decode(s)) == s (up to
 * the case of hex digits, and the optional padding of base64url). No
 * whitespace, no line breaks, no prefixes.
 */
#ifndef LUNIK_CRYPTO_CODEC_H
#define LUNIK_CRYPTO_CODEC_H

#include <stdbool.h>
#include <stddef.h>

/* Why a decode failed; (*pos) then says where, counted from 0. */
enum crypto_codec_err {
	CRYPTO_CODEC_LENGTH = -1,  /* a length no encoding has (pos: len) */
	CRYPTO_CODEC_CHAR = -2,    /* a character outside the alphabet */
	CRYPTO_CODEC_PADDING = -3, /* '=' where it cannot be, or missing */
	CRYPTO_CODEC_BITS = -4,    /* the last character's unused bits are not
				    * zero (RFC 4648 section 3.5) */
};

/* A short message for (err), e.g. "bad character". */
const char *crypto_codec_strerror(int err);

/* Writes the 2 * (len) lowercase hex digits of (in) to (out). */
void crypto_hex_encode(char *out, const unsigned char *in, size_t len);

/* Decodes the (len) hex digits of (in), either case, into (out), which
 * has room for len / 2 bytes. Returns len / 2, or a crypto_codec_err:
 * LENGTH for an odd length, CHAR for a non-digit. */
long crypto_hex_decode(unsigned char *out, const char *in, size_t len,
		       size_t *pos);

/* The length of the base64 encoding of (len) bytes: padded to a multiple
 * of 4 with '=' in the standard alphabet (RFC 4648 section 4), unpadded
 * in the URL and file name safe one ("-_" for "+/", section 5) when (url). */
size_t crypto_base64_len(size_t len, bool url);

/* Writes the crypto_base64_len(len, url) characters encoding (in) to
 * (out); returns their count. */
size_t crypto_base64_encode(char *out, const unsigned char *in, size_t len,
			    bool url);

/* Decodes the (len) characters of (in) into (out), which has room for
 * 3 * ((len + 3) / 4) bytes, and returns the byte count, or a
 * crypto_codec_err. The standard alphabet needs its padding; the URL one
 * takes it or not, but never a partial one. */
long crypto_base64_decode(unsigned char *out, const char *in, size_t len,
			  bool url, size_t *pos);

#endif
