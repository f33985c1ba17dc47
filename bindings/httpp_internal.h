/*
 * httpp_internal.h -- what httpp.c shares with httpp_chunked.c: the byte
 * classes and the field-section parser, which trailer sections reuse.
 */
#ifndef LUNIK_HTTPP_INTERNAL_H
#define LUNIK_HTTPP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "httpp.h"

#define HTTPP_C_TOKEN 0x01  /* tchar (RFC 9110 5.6.2) */
#define HTTPP_C_VALUE 0x02  /* field-vchar, SP, HTAB (RFC 9110 5.5) */
#define HTTPP_C_TARGET 0x04 /* request-target bytes */
#define HTTPP_C_HOST 0x08   /* Host value and authority bytes */

extern const unsigned char httpp_class[256];

/* Limits past which no head is parsed, whatever the caller asks. */
#define HTTPP_HEAD_CAP (1u << 24)

/* A field section being parsed: the bytes, how far the parser may look,
 * and what the fields that matter said. */
struct httpp_ctx {
	const unsigned char *b;
	size_t len;      /* bytes given */
	size_t end;      /* bytes the parser may look at: min(len, max_head) */
	size_t max_head;
	uint32_t max_fields;
	int head;        /* a message head, whose fields are noted */
	struct httpp_msg *m;
	uint64_t cl;     /* Content-Length */
	unsigned seen;   /* SEEN_* bits of httpp.c */
	unsigned hosts;  /* Host field lines */
};

/* The value of hex digit (ch), or -1. */
static inline int httpp_hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Sets (m)'s error to (status) and (why); returns HTTPP_ERROR. */
int httpp_fail(struct httpp_msg *m, int status, const char *why);

/* Parses field lines from offset (p) through the empty line that ends
 * them, storing them in c->m->fields when that is set, counting them in
 * c->m->nfields. Returns the offset after the empty line, HTTPP_MORE or
 * HTTPP_ERROR (431 when c->max_head or c->max_fields is passed). */
int httpp_parse_fields(struct httpp_ctx *c, size_t p);

#endif
