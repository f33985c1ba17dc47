/*
 * fuzz_http_chunked.c -- libFuzzer target for the chunked decoder: any
 * bytes, decoded whole, in three pieces and (when short) byte by byte, as
 * a caller that keeps the bytes the decoder left would feed them. Every
 * way must give the same body, end, trailers and error; a body the decoder
 * accepts must be what a plain reading of the chunk sizes gives.
 *
 * sources: bindings/httpp.c bindings/httpp_chunked.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpp.h"

#define EXPECT(cond)                                                        \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",    \
				__FILE__, __LINE__, #cond);                 \
			abort();                                            \
		}                                                           \
	} while (0)

#define MAX_BODY 65536

struct outcome {
	int r;               /* the last result: MORE, DONE or ERROR */
	int error;
	const char *why;
	size_t nbody, end;   /* body bytes; input consumed when DONE */
	unsigned char body[MAX_BODY];
	size_t trailer_off, trailer_len; /* in the input, when DONE */
};

/* Feeds (len) bytes of (in) in pieces ending at the (n) offsets of (cuts),
 * then at len; the bytes not consumed are held and given again. */
static void decode(const unsigned char *in, size_t len, const size_t *cuts,
		   size_t n, struct outcome *o)
{
	struct httpp_chunked c;
	struct httpp_span d;
	size_t start = 0, given = 0, used; /* held: in[start, given) */

	httpp_chunked_init(&c, MAX_BODY, 256, 8);
	o->nbody = 0;
	o->r = HTTPP_CHUNK_MORE;
	for (size_t i = 0; i <= n; i++) {
		given = i < n ? cuts[i] : len;
		/* An exact copy, so reading past it is caught. */
		unsigned char *held = malloc(given - start + 1);
		memcpy(held, in + start, given - start);
		size_t at = 0, have = given - start;
		int r;

		while ((r = httpp_chunked_decode(&c, (char *)held + at, have - at, &used, &d)) ==
		       HTTPP_CHUNK_DATA) {
			EXPECT(d.len > 0 && d.off + d.len <= used && used <= have - at);
			EXPECT(o->nbody + d.len <= MAX_BODY);
			memcpy(o->body + o->nbody, held + at + d.off, d.len);
			o->nbody += d.len;
			at += used;
		}
		EXPECT(used <= have - at);
		if (r == HTTPP_CHUNK_DONE) {
			EXPECT(d.off + d.len == used);
			o->trailer_off = start + at + d.off;
			o->trailer_len = d.len;
		}
		at += used;
		start += at;
		free(held);
		o->r = r;
		if (r == HTTPP_CHUNK_ERROR) {
			o->error = c.error;
			o->why = c.why;
			EXPECT(c.error == 400 || c.error == 413 || c.error == 431);
		}
		if (r != HTTPP_CHUNK_MORE)
			break;
	}
	EXPECT(c.total == o->nbody || o->r != HTTPP_CHUNK_DONE);
	o->end = start;
}

static int same(const struct outcome *a, const struct outcome *b)
{
	if (a->r != b->r || a->nbody != b->nbody ||
	    memcmp(a->body, b->body, a->nbody) != 0)
		return 0;
	if (a->r == HTTPP_CHUNK_ERROR)
		return a->error == b->error && strcmp(a->why, b->why) == 0;
	if (a->r == HTTPP_CHUNK_DONE)
		return a->end == b->end && a->trailer_off == b->trailer_off &&
		       a->trailer_len == b->trailer_len;
	return 1;
}

static int hex(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* A plain reading of an accepted body: sizes, skip to LF, data, a line
 * break; after the last chunk, lines to an empty one. */
static void plain(const unsigned char *in, size_t len, const struct outcome *o)
{
	size_t p = 0, n = 0;

	for (;;) {
		uint64_t size = 0;

		for (; hex(in[p]) >= 0; p++)
			size = size * 16 + (uint64_t)hex(in[p]);
		while (in[p] != '\n')
			p++;
		p++;
		if (size == 0)
			break;
		EXPECT(memcmp(in + p, o->body + n, size) == 0);
		n += size;
		p += size + (in[p + size] == '\r') + 1;
	}
	EXPECT(n == o->nbody);
	EXPECT(p == o->trailer_off);
	while (in[p] != '\n' && in[p] != '\r') {
		while (in[p] != '\n')
			p++;
		p++;
	}
	p += (in[p] == '\r') + 1;
	EXPECT(p == o->end && p <= len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct outcome whole, pieces, bytes;
	static size_t cuts[1024];

	decode(data, size, NULL, 0, &whole);
	if (whole.r == HTTPP_CHUNK_DONE)
		plain(data, size, &whole);
	if (size == 0)
		return 0;
	cuts[0] = (size_t)data[0] * size / 256;
	cuts[1] = cuts[0] + ((size_t)data[size - 1] * (size - cuts[0]) / 256);
	decode(data, size, cuts, 2, &pieces);
	EXPECT(same(&whole, &pieces));
	if (size <= 1024) {
		for (size_t k = 0; k + 1 < size; k++)
			cuts[k] = k + 1;
		decode(data, size, cuts, size - 1, &bytes);
		EXPECT(same(&whole, &bytes));
	}
	return 0;
}
