/*
 * httpp_chunked.c -- the incremental chunked-body decoder of httpp.h
 * (RFC 9112 7.1).
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *
 * Chunk lines are read byte by byte, so no bytes are held back but an
 * incomplete trailer section; chunk data is handed out as spans of the
 * caller's buffer. A lone LF ends a line, as in heads. httpp_fields,
 * which splits the trailer section it hands back, is here too.
 */
#include <string.h>

#include "httpp.h"
#include "httpp_internal.h"

#define MAX_CHUNK_LINE 4096 /* size and extensions, which are ignored */

enum {
	CH_SIZE0,    /* the first digit of a chunk size */
	CH_SIZE,     /* more digits, or what follows them */
	CH_BWS,      /* whitespace after the size: an extension must follow */
	CH_EXT,      /* extensions, up to the line's end */
	CH_LF,       /* CR seen at the end of the chunk line */
	CH_DATA,     /* chunk data */
	CH_DATA_END, /* the line break after chunk data */
	CH_DATA_LF,  /* ... its CR seen */
	CH_TRAILER,  /* the trailer section */
	CH_DONE,
	CH_ERROR,
};

void httpp_chunked_init(struct httpp_chunked *c, uint64_t max_body,
			uint32_t max_trailer, uint32_t max_fields)
{
	*c = (struct httpp_chunked){ 0 };
	c->state = CH_SIZE0;
	c->max_body = max_body < HTTPP_MAX_LENGTH ? max_body : HTTPP_MAX_LENGTH;
	c->max_trailer = max_trailer;
	c->max_fields = max_fields;
}

static int fail(struct httpp_chunked *c, int status, const char *why)
{
	c->state = CH_ERROR;
	c->error = status;
	c->why = why;
	return HTTPP_CHUNK_ERROR;
}

/* The chunk line ended: data follows, or the trailer section. */
static int size_done(struct httpp_chunked *c)
{
	if (c->left == 0) {
		c->state = CH_TRAILER;
		return 0;
	}
	c->total += c->left;
	c->state = CH_DATA;
	return 0;
}

/* One byte of a chunk line or of the break after chunk data. */
static int line_byte(struct httpp_chunked *c, unsigned char ch)
{
	int v;

	if (++c->ext > MAX_CHUNK_LINE)
		return fail(c, 400, "chunk line too long");
	switch (c->state) {
	case CH_SIZE0:
	case CH_SIZE:
		if ((v = httpp_hexval(ch)) >= 0) {
			c->left = c->left * 16 + (unsigned)v;
			if (c->left > c->max_body - c->total)
				return fail(c, 413, "body too large");
			c->state = CH_SIZE;
			return 0;
		}
		if (c->state == CH_SIZE0)
			return fail(c, 400, "invalid chunk size");
		if (ch == ';' || ch == ' ' || ch == '\t') {
			c->state = ch == ';' ? CH_EXT : CH_BWS;
			return 0;
		}
		break;
	case CH_BWS:
		if (ch == ';')
			c->state = CH_EXT;
		else if (ch != ' ' && ch != '\t')
			return fail(c, 400, "invalid chunk extension");
		return 0;
	case CH_EXT:
		if (ch != '\r' && ch != '\n' &&
		    !(httpp_class[ch] & HTTPP_C_VALUE))
			return fail(c, 400, "invalid chunk extension");
		break;
	case CH_LF:
		if (ch != '\n')
			return fail(c, 400, "bare CR");
		return size_done(c);
	case CH_DATA_END:
	case CH_DATA_LF:
		if (ch == '\r' && c->state == CH_DATA_END) {
			c->state = CH_DATA_LF;
			return 0;
		}
		if (ch != '\n')
			return fail(c, 400, "missing line break after chunk data");
		c->state = CH_SIZE0;
		c->ext = 0;
		return 0;
	}
	if (ch == '\r')
		c->state = CH_LF;
	else if (ch == '\n')
		return size_done(c);
	else if (c->state != CH_EXT)
		return fail(c, 400, "invalid chunk size");
	return 0;
}

/* The trailer section, parsed whole like a header section (RFC 9112
 * 7.1.2) once it is all there. */
static int trailer(struct httpp_chunked *c, const char *buf, size_t len,
		   size_t p, size_t *used, struct httpp_span *data)
{
	struct httpp_msg m = { 0 };
	struct httpp_ctx x = { 0 };
	int r;

	x.b = (const unsigned char *)buf + p;
	x.len = len - p;
	x.max_head = c->max_trailer;
	x.end = x.len < x.max_head ? x.len : x.max_head;
	x.max_fields = c->max_fields;
	x.m = &m;
	r = httpp_parse_fields(&x, 0);
	*used = p;
	if (r == HTTPP_MORE)
		return HTTPP_CHUNK_MORE;
	if (r < 0)
		return fail(c, m.error, m.why);
	c->state = CH_DONE;
	data->off = (uint32_t)p;
	data->len = (uint32_t)r;
	*used = p + (size_t)r;
	return HTTPP_CHUNK_DONE;
}

int httpp_chunked_decode(struct httpp_chunked *c, const char *buf, size_t len,
			 size_t *used, struct httpp_span *data)
{
	const unsigned char *b = (const unsigned char *)buf;
	size_t p = 0;

	*data = (struct httpp_span){ 0, 0 };
	*used = 0;
	if (c->state == CH_ERROR)
		return HTTPP_CHUNK_ERROR;
	if (c->state == CH_DONE)
		return HTTPP_CHUNK_DONE;
	while (p < len) {
		if (c->state == CH_DATA) {
			size_t n = len - p;

			if (n > c->left)
				n = (size_t)c->left;
			data->off = (uint32_t)p;
			data->len = (uint32_t)n;
			c->left -= n;
			if (c->left == 0) {
				c->state = CH_DATA_END;
				c->ext = 0;
			}
			*used = p + n;
			return HTTPP_CHUNK_DATA;
		}
		if (c->state == CH_TRAILER)
			return trailer(c, buf, len, p, used, data);
		if (line_byte(c, b[p++]) < 0)
			return HTTPP_CHUNK_ERROR;
	}
	*used = p;
	return c->state == CH_TRAILER ? trailer(c, buf, len, p, used, data)
				      : HTTPP_CHUNK_MORE;
}

uint32_t httpp_fields(const char *buf, size_t len, struct httpp_field *out,
		      uint32_t max)
{
	const unsigned char *b = (const unsigned char *)buf;
	size_t p = 0;
	uint32_t n = 0;

	while (p < len && n < max) {
		const unsigned char *nl = memchr(b + p, '\n', len - p);
		size_t e = nl ? (size_t)(nl - b) : len, next = e + 1, c, vs, ve;

		if (e > p && b[e - 1] == '\r')
			e--;
		if (e == p)
			break;
		for (c = p; c < e && b[c] != ':'; c++)
			;
		for (vs = c + (c < e); vs < e && (b[vs] == ' ' || b[vs] == '\t'); vs++)
			;
		for (ve = e; ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t'); ve--)
			;
		out[n].name = (struct httpp_span){ (uint32_t)p, (uint32_t)(c - p) };
		out[n++].value = (struct httpp_span){ (uint32_t)vs, (uint32_t)(ve - vs) };
		p = next;
	}
	return n;
}
