/*
 * test_httpp_chunked.c -- the chunked-body decoder and percent-decoding of
 * bindings/httpp.h: a table of bodies and what decoding them gives, each
 * fed whole, split at every point, and byte by byte, as a caller that keeps
 * the bytes the decoder left would feed it.
 *
 * sources: bindings/httpp.c bindings/httpp_chunked.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "httpp.h"

#define MAX_BODY 100
#define MAX_TRAILER 64
#define MAX_TRAILER_FIELDS 4

/* Decodes (len) bytes of (in) handed over in pieces that end at the (n)
 * offsets of (cuts), then at len. Says what came out in (out): the state
 * ("more", "done" or "STATUS why"), the body, the trailer fields, and how
 * many bytes were left unconsumed. */
static void decode(const char *in, size_t len, const size_t *cuts, size_t n,
		   char *out, size_t size)
{
	struct httpp_chunked c;
	struct httpp_span d;
	char body[256], held[8192];
	size_t nbody = 0, nheld = 0, given = 0, used, k;
	int r = HTTPP_CHUNK_MORE;

	httpp_chunked_init(&c, MAX_BODY, MAX_TRAILER, MAX_TRAILER_FIELDS);
	for (size_t i = 0; i <= n && r != HTTPP_CHUNK_DONE && r != HTTPP_CHUNK_ERROR; i++) {
		size_t to = i < n ? cuts[i] : len;

		memcpy(held + nheld, in + given, to - given);
		nheld += to - given;
		given = to;
		while ((r = httpp_chunked_decode(&c, held, nheld, &used, &d)) == HTTPP_CHUNK_DATA) {
			if (nbody + d.len <= sizeof(body))
				memcpy(body + nbody, held + d.off, d.len);
			nbody += d.len;
			memmove(held, held + used, nheld - used);
			nheld -= used;
		}
		if (r == HTTPP_CHUNK_ERROR)
			break;
		k = (size_t)snprintf(out, size, "%s '%.*s'", r == HTTPP_CHUNK_DONE ? "done" : "more",
				     (int)nbody, body);
		if (r == HTTPP_CHUNK_DONE) {
			struct httpp_field f[MAX_TRAILER_FIELDS];
			uint32_t nf = httpp_fields(held + d.off, d.len, f, MAX_TRAILER_FIELDS);

			for (uint32_t j = 0; j < nf; j++)
				k += (size_t)snprintf(out + k, size - k, " | %.*s: %.*s",
						      (int)f[j].name.len, held + d.off + f[j].name.off,
						      (int)f[j].value.len, held + d.off + f[j].value.off);
		}
		memmove(held, held + used, nheld - used);
		nheld -= used;
		snprintf(out + k, size - k, " rest=%zu", nheld + (len - given));
	}
	if (r == HTTPP_CHUNK_ERROR)
		snprintf(out, size, "%d %s '%.*s'", c.error, c.why, (int)nbody, body);
}

static const struct {
	const char *name, *in, *want;
} cases[] = {
	{ "one chunk", "5\r\nhello\r\n0\r\n\r\n", "done 'hello' rest=0" },
	{ "the next message stays", "5\r\nhello\r\n0\r\n\r\nGET /", "done 'hello' rest=5" },
	{ "three chunks", "3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n", "done 'abcdef' rest=0" },
	{ "empty body", "0\r\n\r\n", "done '' rest=0" },
	{ "hex sizes", "A\r\n0123456789\r\nb\r\n0123456789a\r\n0\r\n\r\n",
	  "done '01234567890123456789a' rest=0" },
	{ "leading zeros", "0003\r\nabc\r\n000\r\n\r\n", "done 'abc' rest=0" },
	{ "extensions", "3;a=b;c\r\nabc\r\n0;x=\"y z\"\r\n\r\n", "done 'abc' rest=0" },
	{ "whitespace before extensions", "3 ;a\r\nabc\r\n2\t; a = b\r\nde\r\n0\r\n\r\n",
	  "done 'abcde' rest=0" },
	{ "LF line ends", "3\nabc\n0\n\n", "done 'abc' rest=0" },
	{ "chunk data with CR LF in it", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "done '\r\n\r\n' rest=0" },
	{ "trailers", "1\r\na\r\n0\r\nX: 1\r\nY:  2 \r\n\r\nNEXT", "done 'a' | X: 1 | Y: 2 rest=4" },
	{ "trailers, LF line ends", "0\nX: 1\n\n", "done '' | X: 1 rest=0" },
	{ "at the body limit", "32\r\n0123456789012345678901234567890123456789012345678\n\r\n"
			       "32\r\n0123456789012345678901234567890123456789012345678\n\r\n0\r\n\r\n",
	  "done '0123456789012345678901234567890123456789012345678\n"
	  "0123456789012345678901234567890123456789012345678\n' rest=0" },
	{ "incomplete data", "5\r\nhel", "more 'hel' rest=0" },
	{ "incomplete size line", "5;ext", "more '' rest=0" },
	{ "incomplete trailers are held", "5\r\nhello\r\n0\r\nX: 1\r\n", "more 'hello' rest=6" },
	{ "no size", "\r\n", "400 invalid chunk size ''" },
	{ "not hex", "x\r\n", "400 invalid chunk size ''" },
	{ "negative", "-5\r\n", "400 invalid chunk size ''" },
	{ "0x prefix", "0x5\r\nhello\r\n", "400 invalid chunk size ''" },
	{ "space after the size", "5 \r\nhello\r\n", "400 invalid chunk extension ''" },
	{ "control byte in an extension", "5;a\x01\r\nhello\r\n", "400 invalid chunk extension ''" },
	{ "bare CR in the size line", "5\rhello", "400 bare CR ''" },
	{ "data longer than its size", "5\r\nhelloX\r\n", "400 missing line break after chunk data 'hello'" },
	{ "CR then junk after data", "5\r\nhello\rX", "400 missing line break after chunk data 'hello'" },
	{ "chunk over the body limit", "65\r\n", "413 body too large ''" },
	{ "chunks over the body limit", "32\r\n01234567890123456789012345678901234567890123456789\r\n33\r\n",
	  "413 body too large '01234567890123456789012345678901234567890123456789'" },
	{ "size overflows", "ffffffffffffffffffffffffffffffff\r\n", "413 body too large ''" },
	{ "obs-fold in trailers", "0\r\nX: 1\r\n 2\r\n\r\n", "400 obsolete line folding ''" },
	{ "bad trailer name", "0\r\nX Y: 1\r\n\r\n", "400 whitespace before colon ''" },
	{ "too many trailers", "0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", "431 too many header fields ''" },
	{ "trailers too large", "0\r\nX: 0123456789012345678901234567890123456789012345678901234567890123456789\r\n\r\n",
	  "431 header section too large ''" },
};

/* (s) with CR and LF shown as \\r and \\n, for one-line reports; each
 * of the last four results stays valid. */
static const char *esc(const char *s)
{
	static char bufs[4][2048];
	static int next;
	char *out = bufs[next++ % 4];
	size_t n = 0;

	for (; *s && n + 3 < sizeof(bufs[0]); s++) {
		if (*s == '\r' || *s == '\n') {
			out[n++] = '\\';
			out[n++] = *s == '\r' ? 'r' : 'n';
		} else {
			out[n++] = *s;
		}
	}
	out[n] = 0;
	return out;
}

static void test_cases(void)
{
	char whole[1024], got[1024];
	size_t cuts[8192];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in), k, bad = 0;

		decode(cases[i].in, len, NULL, 0, whole, sizeof(whole));
		CHECK(strcmp(whole, cases[i].want) == 0, "%s (got \"%s\")", cases[i].name, esc(whole));
		for (k = 1; k < len && !bad; k++) {
			decode(cases[i].in, len, &k, 1, got, sizeof(got));
			bad = strcmp(got, whole) ? k : 0;
		}
		CHECK(!bad, "%s: in two pieces (split at %zu: \"%s\")", cases[i].name, bad, esc(got));
		for (k = 0; k + 1 < len; k++)
			cuts[k] = k + 1;
		decode(cases[i].in, len, cuts, len ? len - 1 : 0, got, sizeof(got));
		CHECK(strcmp(got, whole) == 0, "%s: byte by byte (\"%s\")", cases[i].name, esc(got));
	}
}

static void test_line_limit(void)
{
	char in[6000];
	char got[256];

	memset(in, 'x', sizeof(in));
	memcpy(in, "5;", 2);
	decode(in, sizeof(in), NULL, 0, got, sizeof(got));
	CHECK(strcmp(got, "400 chunk line too long ''") == 0,
	      "a chunk line of endless extensions is refused (\"%s\")", got);
}

static void test_after_the_end(void)
{
	struct httpp_chunked c;
	struct httpp_span d;
	size_t used;
	int r;

	httpp_chunked_init(&c, MAX_BODY, MAX_TRAILER, MAX_TRAILER_FIELDS);
	r = httpp_chunked_decode(&c, "0\r\n\r\n", 5, &used, &d);
	CHECK(r == HTTPP_CHUNK_DONE && used == 5, "the last chunk ends the body");
	r = httpp_chunked_decode(&c, "1\r\nx\r\n", 6, &used, &d);
	CHECK(r == HTTPP_CHUNK_DONE && used == 0, "after the end nothing is consumed");
	httpp_chunked_init(&c, MAX_BODY, MAX_TRAILER, MAX_TRAILER_FIELDS);
	r = httpp_chunked_decode(&c, "z", 1, &used, &d);
	CHECK(r == HTTPP_CHUNK_ERROR && c.error == 400, "a bad size is an error");
	r = httpp_chunked_decode(&c, "0\r\n\r\n", 5, &used, &d);
	CHECK(r == HTTPP_CHUNK_ERROR && used == 0, "an error stays");
	httpp_chunked_init(&c, MAX_BODY, MAX_TRAILER, MAX_TRAILER_FIELDS);
	r = httpp_chunked_decode(&c, "2\r\nab", 5, &used, &d);
	CHECK(r == HTTPP_CHUNK_DATA && used == 5 && d.off == 3 && d.len == 2 && c.total == 2,
	      "data is a span of the input, counted in total");
}

static const struct {
	const char *in;
	int plus;
	const char *want;
} escapes[] = {
	{ "plain", 0, "plain" },
	{ "a%20b", 0, "a b" },
	{ "%41%7a%7A", 0, "Azz" },
	{ "a+b", 0, "a+b" },
	{ "a+b", 1, "a b" },
	{ "%2B+", 1, "+ " },
	{ "%2f%2F", 0, "//" },
	{ "100%", 0, "100%" },
	{ "%4", 0, "%4" },
	{ "%zz%4g", 0, "%zz%4g" },
	{ "%%41", 0, "%A" },
	{ "%C3%A9", 0, "\xc3\xa9" },
	{ "", 0, "" },
};

static void test_unescape(void)
{
	char out[64];

	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		size_t n = httpp_unescape(out, escapes[i].in, strlen(escapes[i].in), escapes[i].plus);
		CHECK(n == strlen(escapes[i].want) && memcmp(out, escapes[i].want, n) == 0,
		      "unescape '%s'%s -> '%s' (got '%.*s')", escapes[i].in,
		      escapes[i].plus ? " with plus" : "", escapes[i].want, (int)n, out);
	}
	strcpy(out, "a%41%42+c");
	size_t n = httpp_unescape(out, out, strlen(out), 1);
	CHECK(n == 5 && memcmp(out, "aAB c", 5) == 0, "unescape in place");
}

int main(void)
{
	test_cases();
	test_line_limit();
	test_after_the_end();
	test_unescape();
	CHECK_EXIT();
}
