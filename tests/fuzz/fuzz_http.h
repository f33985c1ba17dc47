/*
 * fuzz_http.h -- what the HTTP head fuzzers share: the invariants every
 * parse must keep, and a comparison of two parses.
 */
#ifndef LUNIK_FUZZ_HTTP_H
#define LUNIK_FUZZ_HTTP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpp.h"

#define FUZZ_FIELDS 16

#define EXPECT(cond)                                                        \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",    \
				__FILE__, __LINE__, #cond);                 \
			abort();                                            \
		}                                                           \
	} while (0)

static const struct httpp_limits fuzz_lim = { 1024, FUZZ_FIELDS, 4096 };

/* The result of one parse, kept to compare with another. */
struct parse {
	int r;
	struct httpp_msg m;
	struct httpp_field f[FUZZ_FIELDS];
};

static int fuzz_is_token(const unsigned char *s, uint32_t n)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (n == 0)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') ||
		      (s[i] && strchr(extra, s[i]))))
			return 0;
	return 1;
}

static void fuzz_span_in(struct httpp_span s, int r)
{
	EXPECT((uint64_t)s.off + s.len <= (uint64_t)r);
}

/* What any parse of (buf) must satisfy. */
static void fuzz_check(const unsigned char *buf, size_t len, const struct parse *p)
{
	const struct httpp_msg *m = &p->m;

	EXPECT(p->r == HTTPP_MORE || p->r == HTTPP_ERROR ||
	       (p->r > 0 && (size_t)p->r <= len && (size_t)p->r <= fuzz_lim.max_head));
	if (p->r == HTTPP_ERROR) {
		EXPECT(m->why != NULL);
		EXPECT(m->error == 400 || m->error == 413 || m->error == 414 ||
		       m->error == 417 || m->error == 431 || m->error == 501 ||
		       m->error == 505);
	}
	if (p->r <= 0)
		return;
	EXPECT(m->nfields <= FUZZ_FIELDS);
	EXPECT(m->minor == 0 || m->minor == 1);
	for (uint32_t i = 0; i < m->nfields; i++) {
		struct httpp_span v = p->f[i].value;

		fuzz_span_in(p->f[i].name, p->r);
		fuzz_span_in(v, p->r);
		EXPECT(fuzz_is_token(buf + p->f[i].name.off, p->f[i].name.len));
		EXPECT(buf[p->f[i].name.off + p->f[i].name.len] == ':');
		for (uint32_t j = 0; j < v.len; j++) {
			unsigned char ch = buf[v.off + j];
			EXPECT(ch == '\t' || ch >= ' ');
			EXPECT(ch != 0x7f);
		}
		if (v.len)
			EXPECT(buf[v.off] != ' ' && buf[v.off] != '\t' &&
			       buf[v.off + v.len - 1] != ' ' && buf[v.off + v.len - 1] != '\t');
	}
	EXPECT(m->body != HTTPP_BODY_LENGTH || m->length > 0);
	EXPECT(m->body != HTTPP_BODY_CHUNKED || m->minor == 1);
	EXPECT(buf[p->r - 1] == '\n');
}

/* Whether two parses of the same bytes agree in everything. */
static int fuzz_same(const struct parse *a, const struct parse *b)
{
	struct httpp_msg x = a->m, y = b->m;

	if (a->r != b->r)
		return 0;
	if (a->r == HTTPP_ERROR)
		return x.error == y.error && strcmp(x.why, y.why) == 0;
	if (a->r == HTTPP_MORE)
		return 1;
	x.fields = y.fields = NULL;
	x.error = y.error = 0;
	x.why = y.why = NULL;
	return memcmp(&x, &y, sizeof(x)) == 0 &&
	       memcmp(a->f, b->f, sizeof(a->f[0]) * x.nfields) == 0;
}

/* Parses (len) bytes of (data) copied to a buffer of exactly that size,
 * so that reading past them is caught. */
static void fuzz_parse(const unsigned char *data, size_t len, int which,
		       struct parse *p)
{
	unsigned char *copy = malloc(len ? len : 1);

	memcpy(copy, data, len);
	memset(p, 0, sizeof(*p));
	p->m.fields = p->f;
	if (which == 0)
		p->r = httpp_request((const char *)copy, len, &fuzz_lim, &p->m);
	else
		p->r = httpp_response((const char *)copy, len, &fuzz_lim, which == 2, &p->m);
	free(copy);
}

/* The head parser's contract on (data): invariants hold; a prefix needs
 * more or fails the same way; a complete head parses the same alone. */
static void fuzz_head(const unsigned char *data, size_t len, int which)
{
	static struct parse whole, part;
	size_t cuts[3];

	fuzz_parse(data, len, which, &whole);
	fuzz_check(data, len, &whole);
	if (len == 0)
		return;
	cuts[0] = len / 2;
	cuts[1] = (size_t)data[len - 1] * len / 256;
	cuts[2] = whole.r > 0 ? (size_t)whole.r : len - 1;
	for (int i = 0; i < 3; i++) {
		size_t k = cuts[i];

		fuzz_parse(data, k, which, &part);
		fuzz_check(data, k, &part);
		if (whole.r > 0 && k >= (size_t)whole.r)
			EXPECT(fuzz_same(&part, &whole));
		else if (whole.r >= 0)
			EXPECT(part.r == HTTPP_MORE);
		else
			EXPECT(part.r == HTTPP_MORE || fuzz_same(&part, &whole));
	}
}

#endif
