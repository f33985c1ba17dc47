/*
 * httpp.c -- HTTP/1.1 heads (RFC 9112): request and status lines, field
 * sections, and the framing and connection rules their fields imply. The
 * contract is in httpp.h; the chunked decoder is in httpp_chunked.c.
 *
 * One pass, no copies, no allocation: the parser walks the buffer line by
 * line (memchr finds each line's end), checks every byte against a class
 * table, and notes the fields that decide framing as it stores them. It
 * looks at no more than limits.max_head bytes, so a slow or endless head
 * costs at most that much per call.
 */
#include <string.h>

#include "httpp.h"
#include "httpp_internal.h"

#define T HTTPP_C_TOKEN
#define V HTTPP_C_VALUE
#define U HTTPP_C_TARGET
#define A HTTPP_C_HOST

/* Byte classes: RFC 9110 5.6.2 tchar, 5.5 field-vchar / SP / HTAB, the
 * visible ASCII of a request-target (RFC 3986, less '#'), and the bytes of
 * a Host value or authority (reg-name, IP literal, port; no userinfo). */
const unsigned char httpp_class[256] = {
	['\t'] = V, [' '] = V,
	['!'] = T | V | U | A, ['"'] = V | U, ['#'] = T | V,
	['$'] = T | V | U | A, ['%'] = T | V | U | A, ['&'] = T | V | U | A,
	['\''] = T | V | U | A, ['('] = V | U | A, [')'] = V | U | A,
	['*'] = T | V | U | A, ['+'] = T | V | U | A, [','] = V | U | A,
	['-'] = T | V | U | A, ['.'] = T | V | U | A, ['/'] = V | U,
	['0' ... '9'] = T | V | U | A, [':'] = V | U | A, [';'] = V | U | A,
	['<'] = V | U, ['='] = V | U | A, ['>'] = V | U, ['?'] = V | U,
	['@'] = V | U, ['A' ... 'Z'] = T | V | U | A, ['['] = V | U | A,
	['\\'] = V | U, [']'] = V | U | A, ['^'] = T | V | U,
	['_'] = T | V | U | A, ['`'] = T | V | U, ['a' ... 'z'] = T | V | U | A,
	['{'] = V | U, ['|'] = T | V | U, ['}'] = V | U, ['~'] = T | V | U | A,
	[0x80 ... 0xff] = V,
};

/* Fields that decide framing and connection handling (ctx.seen). */
#define SEEN_CL 0x01
#define SEEN_TE 0x02
#define SEEN_CHUNKED 0x04      /* "chunked" appeared in Transfer-Encoding */
#define SEEN_CHUNKED_LAST 0x08 /* ... and is the final coding so far */
#define SEEN_TE_OTHER 0x10     /* a coding we do not implement */
#define SEEN_CLOSE 0x20
#define SEEN_KEEP 0x40
#define SEEN_CONTINUE 0x80
#define SEEN_EXPECT_OTHER 0x100
#define SEEN_HOST_BAD 0x200

static struct httpp_span span(size_t from, size_t to)
{
	return (struct httpp_span){ (uint32_t)from, (uint32_t)(to - from) };
}

int httpp_fail(struct httpp_msg *m, int status, const char *why)
{
	m->error = status;
	m->why = why;
	return HTTPP_ERROR;
}

/* The input ran out at the look-ahead bound: need more bytes, unless the
 * bound is the limit, in which case the head is too large. */
static int short_of(struct httpp_ctx *c, int status, const char *why)
{
	if (c->len < c->max_head)
		return HTTPP_MORE;
	return httpp_fail(c->m, status, why);
}

/* short_of for a field section: a head too large mostly because of its
 * request target is 414 (RFC 9110 15.5.15), else 431 (RFC 6585 5). */
static int section_short_of(struct httpp_ctx *c)
{
	if (c->m->target.len > c->max_head / 2)
		return short_of(c, 414, "request target too long");
	return short_of(c, 431, "header section too large");
}

/* Compares (n) bytes of a token at (s) with lowercase (lit), ignoring
 * case: safe for tokens, whose bytes | 0x20 only meet letters as letters. */
static int ieq(const unsigned char *s, size_t n, const char *lit, size_t litn)
{
	if (n != litn)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((s[i] | 0x20) != (unsigned char)lit[i])
			return 0;
	return 1;
}

#define IEQ(s, n, lit) ieq(s, n, lit, sizeof(lit) - 1)

static int is_ows(unsigned char ch)
{
	return ch == ' ' || ch == '\t';
}

/* The next element of a comma-separated list (RFC 9110 5.6.1) in [*p, e):
 * empty elements are skipped, OWS around an element dropped. Returns 0 at
 * the end of the list. */
static int next_elem(const unsigned char *b, size_t *p, size_t e, size_t *s,
		     size_t *n)
{
	size_t i = *p, j;

	while (i < e && (b[i] == ',' || is_ows(b[i])))
		i++;
	if (i == e)
		return 0;
	for (j = i; j < e && b[j] != ','; j++)
		;
	*p = j;
	while (is_ows(b[j - 1]))
		j--;
	*s = i;
	*n = j - i;
	return 1;
}

/* Content-Length: 1*DIGIT, or a list of identical values (RFC 9110 8.6). */
static int note_length(struct httpp_ctx *c, size_t p, size_t e)
{
	const unsigned char *b = c->b;
	size_t s, n;
	int any = 0;

	while (next_elem(b, &p, e, &s, &n)) {
		uint64_t v = 0;

		for (size_t i = s; i < s + n; i++) {
			if (b[i] < '0' || b[i] > '9')
				return httpp_fail(c->m, 400, "invalid content-length");
			if (v <= HTTPP_MAX_LENGTH)
				v = v * 10 + (b[i] - '0');
		}
		if (v > HTTPP_MAX_LENGTH)
			v = HTTPP_MAX_LENGTH + 1;
		if ((c->seen & SEEN_CL) && v != c->cl)
			return httpp_fail(c->m, 400, "conflicting content-length");
		c->seen |= SEEN_CL;
		c->cl = v;
		any = 1;
	}
	if (!any)
		return httpp_fail(c->m, 400, "invalid content-length");
	return 0;
}

/* Transfer-Encoding: codings in the order applied (RFC 9112 6.1); we
 * implement chunked only, and it may be applied once, last. */
static int note_coding(struct httpp_ctx *c, size_t p, size_t e)
{
	const unsigned char *b = c->b;
	size_t s, n;

	c->seen |= SEEN_TE;
	while (next_elem(b, &p, e, &s, &n)) {
		if (!(httpp_class[b[s]] & T))
			return httpp_fail(c->m, 400, "invalid transfer-encoding");
		if (IEQ(b + s, n, "chunked")) {
			if (c->seen & SEEN_CHUNKED)
				return httpp_fail(c->m, 400, "chunked applied twice");
			c->seen |= SEEN_CHUNKED | SEEN_CHUNKED_LAST;
		} else {
			c->seen &= ~SEEN_CHUNKED_LAST;
			c->seen |= SEEN_TE_OTHER;
		}
	}
	return 0;
}

static void note_connection(struct httpp_ctx *c, size_t p, size_t e)
{
	const unsigned char *b = c->b;
	size_t s, n;

	while (next_elem(b, &p, e, &s, &n)) {
		if (IEQ(b + s, n, "close"))
			c->seen |= SEEN_CLOSE;
		else if (IEQ(b + s, n, "keep-alive"))
			c->seen |= SEEN_KEEP;
		else if (IEQ(b + s, n, "upgrade"))
			c->m->flags |= HTTPP_UPGRADE;
	}
}

static void note_expect(struct httpp_ctx *c, size_t p, size_t e)
{
	const unsigned char *b = c->b;
	size_t s, n;

	while (next_elem(b, &p, e, &s, &n)) {
		if (IEQ(b + s, n, "100-continue"))
			c->seen |= SEEN_CONTINUE;
		else
			c->seen |= SEEN_EXPECT_OTHER;
	}
}

static void note_host(struct httpp_ctx *c, size_t p, size_t e)
{
	c->hosts++;
	for (; p < e; p++)
		if (!(httpp_class[c->b[p]] & A))
			c->seen |= SEEN_HOST_BAD;
}

/* Notes a field of a head that matters to framing or the connection. */
static int note(struct httpp_ctx *c, const struct httpp_field *f)
{
	const unsigned char *n = c->b + f->name.off;
	size_t p = f->value.off, e = p + f->value.len;

	switch (f->name.len) {
	case 4:
		if (IEQ(n, 4, "host"))
			note_host(c, p, e);
		break;
	case 6:
		if (IEQ(n, 6, "expect"))
			note_expect(c, p, e);
		break;
	case 10:
		if (IEQ(n, 10, "connection"))
			note_connection(c, p, e);
		break;
	case 14:
		if (IEQ(n, 14, "content-length"))
			return note_length(c, p, e);
		break;
	case 17:
		if (IEQ(n, 17, "transfer-encoding"))
			return note_coding(c, p, e);
		break;
	}
	return 0;
}

/* One field line [p, e), its line break already removed (RFC 9112 5):
 * field-name ":" OWS field-value OWS. */
static int field_line(struct httpp_ctx *c, size_t p, size_t e)
{
	const unsigned char *b = c->b;
	struct httpp_field f;
	size_t s = p, vs, ve;

	while (p < e && (httpp_class[b[p]] & T))
		p++;
	if (p == e || b[p] != ':' || p == s) {
		if (p < e && is_ows(b[p]) && p > s)
			return httpp_fail(c->m, 400, "whitespace before colon");
		return httpp_fail(c->m, 400, "invalid header name");
	}
	f.name = span(s, p);
	vs = p + 1;
	while (vs < e && is_ows(b[vs]))
		vs++;
	for (p = vs; p < e; p++)
		if (!(httpp_class[b[p]] & V))
			return httpp_fail(c->m, 400, b[p] == '\r' ? "bare CR" :
					  "invalid header value");
	for (ve = e; ve > vs && is_ows(b[ve - 1]); ve--)
		;
	f.value = span(vs, ve);
	if (c->m->nfields == c->max_fields)
		return httpp_fail(c->m, 431, "too many header fields");
	if (c->m->fields)
		c->m->fields[c->m->nfields] = f;
	c->m->nfields++;
	return c->head ? note(c, &f) : 0;
}

/* Parses field lines from (p) through the empty line that ends them.
 * Returns the offset after that line, HTTPP_MORE or HTTPP_ERROR. */
int httpp_parse_fields(struct httpp_ctx *c, size_t p)
{
	const unsigned char *b = c->b;

	for (;;) {
		const unsigned char *nl;
		size_t e;
		int r;

		if (p >= c->end)
			return section_short_of(c);
		if (b[p] == '\n')
			return (int)p + 1;
		if (b[p] == '\r') {
			if (p + 1 >= c->end)
				return section_short_of(c);
			if (b[p + 1] != '\n')
				return httpp_fail(c->m, 400, "bare CR");
			return (int)p + 2;
		}
		if (is_ows(b[p]))
			return httpp_fail(c->m, 400, "obsolete line folding");
		nl = memchr(b + p, '\n', c->end - p);
		if (!nl)
			return section_short_of(c);
		e = (size_t)(nl - b);
		if (b[e - 1] == '\r')
			e--;
		r = field_line(c, p, e);
		if (r < 0)
			return r;
		p = (size_t)(nl - b) + 1;
	}
}

/* "HTTP/" DIGIT "." DIGIT at *p (RFC 9112 2.3), as far as the bytes go. */
static int version(struct httpp_ctx *c, size_t *pp)
{
	static const char form[] = "HTTP/0.0";
	const unsigned char *b = c->b;
	size_t p = *pp;

	for (int i = 0; i < 8; i++, p++) {
		if (p >= c->end)
			return short_of(c, 400, "invalid version");
		if (form[i] == '0' ? (b[p] < '0' || b[p] > '9') : b[p] != form[i])
			return httpp_fail(c->m, 400, "invalid version");
	}
	if (b[p - 3] != '1')
		return httpp_fail(c->m, 505, "unsupported version");
	c->m->minor = b[p - 1] == '0' ? 0 : 1;
	*pp = p;
	return 1;
}

/* After a start line's last token at *pp: CRLF or LF. */
static int line_end(struct httpp_ctx *c, size_t *pp, const char *why)
{
	size_t p = *pp;

	if (p < c->end && c->b[p] == '\r')
		p++;
	if (p >= c->end)
		return short_of(c, 400, why);
	if (c->b[p] != '\n')
		return httpp_fail(c->m, 400, c->b[*pp] == '\r' ? "bare CR" : why);
	*pp = p + 1;
	return 1;
}

/* absolute-form (RFC 9112 3.2.2): http[s]://authority[path][?query]. */
static int absolute_form(struct httpp_ctx *c, size_t p, size_t e)
{
	const unsigned char *b = c->b;
	struct httpp_msg *m = c->m;
	size_t s = p;

	while (p < e && b[p] != ':')
		p++;
	if (!(IEQ(b + s, p - s, "http") || IEQ(b + s, p - s, "https")) ||
	    e - p < 3 || b[p + 1] != '/' || b[p + 2] != '/')
		return httpp_fail(m, 400, "invalid request target");
	s = p += 3;
	while (p < e && (httpp_class[b[p]] & HTTPP_C_HOST))
		p++;
	if (p == s || (p < e && b[p] != '/' && b[p] != '?'))
		return httpp_fail(m, 400, "invalid authority");
	m->authority = span(s, p);
	m->flags |= HTTPP_ABSOLUTE;
	return (int)p;
}

/* Splits the request-target [s, e) into path and query (RFC 9112 3.2). */
static int target(struct httpp_ctx *c, size_t s, size_t e)
{
	const unsigned char *b = c->b;
	struct httpp_msg *m = c->m;
	size_t p = s, q;
	int r;

	m->target = span(s, e);
	if (IEQ(b + m->method.off, m->method.len, "connect"))
		return httpp_fail(m, 501, "CONNECT is not supported");
	if (b[s] == '*' && e - s == 1) {
		if (!IEQ(b + m->method.off, m->method.len, "options"))
			return httpp_fail(m, 400, "asterisk-form is for OPTIONS");
		m->path = m->target;
		m->flags |= HTTPP_ASTERISK;
		return 1;
	}
	if (b[s] != '/') {
		r = absolute_form(c, s, e);
		if (r < 0)
			return r;
		p = (size_t)r;
	}
	for (q = p; q < e && b[q] != '?'; q++)
		;
	m->path = span(p, q);
	if (q < e) {
		m->query = span(q + 1, e);
		m->flags |= HTTPP_HAS_QUERY;
	}
	return 1;
}

/* request-line = method SP request-target SP HTTP-version (RFC 9112 3),
 * after any empty lines (2.2). Returns the offset after it, HTTPP_MORE or
 * HTTPP_ERROR; errors are found as early as the bytes allow. */
static int request_line(struct httpp_ctx *c)
{
	const unsigned char *b = c->b;
	size_t p = 0, s, ts;
	int r;

	while (p < c->end && (b[p] == '\r' || b[p] == '\n')) {
		if (b[p] == '\r' && p + 1 < c->end && b[p + 1] != '\n')
			return httpp_fail(c->m, 400, "bare CR");
		p++;
	}
	for (s = p; p < c->end && (httpp_class[b[p]] & T); p++)
		;
	if (p == c->end)
		return short_of(c, 400, "method too long");
	if (b[p] != ' ' || p == s)
		return httpp_fail(c->m, 400, "invalid method");
	c->m->method = span(s, p);
	for (ts = ++p; p < c->end && (httpp_class[b[p]] & U); p++)
		;
	if (p == c->end)
		return short_of(c, 414, "request target too long");
	if (b[p] != ' ' || p == ts)
		return httpp_fail(c->m, 400, "invalid request target");
	s = p++;
	if ((r = version(c, &p)) < 1 || (r = line_end(c, &p, "invalid version")) < 1)
		return r;
	r = target(c, ts, s);
	return r < 1 ? r : (int)p;
}

static void start(struct httpp_ctx *c, const char *buf, size_t len,
		  const struct httpp_limits *lim, struct httpp_msg *m)
{
	struct httpp_field *fields = m->fields;

	memset(m, 0, sizeof(*m));
	m->fields = fields;
	memset(c, 0, sizeof(*c));
	c->b = (const unsigned char *)buf;
	c->len = len;
	c->max_head = lim->max_head < HTTPP_HEAD_CAP ? lim->max_head : HTTPP_HEAD_CAP;
	c->end = len < c->max_head ? len : c->max_head;
	c->max_fields = lim->max_fields;
	c->head = 1;
	c->m = m;
}

/* Framing and connection rules for requests (RFC 9112 6, 9.3; RFC 9110
 * 7.2, 10.1.1). */
static int request_rules(struct httpp_ctx *c, uint64_t max_body)
{
	struct httpp_msg *m = c->m;

	if (c->hosts > 1 || (c->hosts == 0 && m->minor == 1))
		return httpp_fail(m, 400, c->hosts ? "repeated host" : "missing host");
	if (c->seen & SEEN_HOST_BAD)
		return httpp_fail(m, 400, "invalid host");
	if (c->seen & SEEN_TE) {
		if (m->minor == 0)
			return httpp_fail(m, 400, "transfer-encoding in HTTP/1.0");
		if (c->seen & SEEN_CL)
			return httpp_fail(m, 400, "both content-length and transfer-encoding");
		if (!(c->seen & SEEN_CHUNKED_LAST))
			return httpp_fail(m, 400, "chunked is not the final coding");
		if (c->seen & SEEN_TE_OTHER)
			return httpp_fail(m, 501, "unsupported transfer coding");
		m->body = HTTPP_BODY_CHUNKED;
	} else if (c->seen & SEEN_CL) {
		if (c->cl > max_body)
			return httpp_fail(m, 413, "body too large");
		m->length = c->cl;
		m->body = c->cl ? HTTPP_BODY_LENGTH : HTTPP_BODY_NONE;
	}
	if (m->minor == 1 && (c->seen & SEEN_EXPECT_OTHER))
		return httpp_fail(m, 417, "unsupported expectation");
	if (m->minor == 1 && (c->seen & SEEN_CONTINUE))
		m->flags |= HTTPP_EXPECT_CONTINUE;
	if (!(c->seen & SEEN_CLOSE) && (m->minor == 1 || (c->seen & SEEN_KEEP)))
		m->flags |= HTTPP_KEEP_ALIVE;
	return 0;
}

int httpp_request(const char *buf, size_t len, const struct httpp_limits *lim,
		  struct httpp_msg *m)
{
	struct httpp_ctx c;
	int r;

	start(&c, buf, len, lim, m);
	if ((r = request_line(&c)) < 1 || (r = httpp_parse_fields(&c, (size_t)r)) < 1)
		return r;
	return request_rules(&c, lim->max_body) < 0 ? HTTPP_ERROR : r;
}

/* status-line = HTTP-version SP status-code SP [reason-phrase] (RFC 9112
 * 4); a missing SP after the code is tolerated, as clients do. */
static int status_line(struct httpp_ctx *c)
{
	const unsigned char *b = c->b;
	struct httpp_msg *m = c->m;
	size_t p = 0, s;
	int r;

	if ((r = version(c, &p)) < 1)
		return r;
	for (s = p; p < c->end && p < s + 4; p++) {
		if (p == s ? b[p] != ' ' : (b[p] < '0' || b[p] > '9'))
			return httpp_fail(m, 400, "invalid status line");
		if (p > s)
			m->status = m->status * 10 + (b[p] - '0');
	}
	if (p < s + 4)
		return short_of(c, 400, "status line too long");
	if (m->status < 100)
		return httpp_fail(m, 400, "invalid status code");
	s = p;
	if (p < c->end && b[p] == ' ')
		for (s = ++p; p < c->end && (httpp_class[b[p]] & V); p++)
			;
	m->reason = span(s, p);
	return (r = line_end(c, &p, "invalid status line")) < 1 ? r : (int)p;
}

/* Framing and connection rules for responses (RFC 9112 6.3, 9.3). The
 * framing fields are checked only where they frame a body: an answer to
 * HEAD may name any coding. */
static int response_rules(struct httpp_ctx *c, int head)
{
	struct httpp_msg *m = c->m;
	int st = m->status;

	if (head || st < 200 || st == 204 || st == 304) {
		m->body = HTTPP_BODY_NONE;
	} else if (c->seen & SEEN_TE) {
		if (m->minor == 0)
			return httpp_fail(m, 400, "transfer-encoding in HTTP/1.0");
		if (c->seen & SEEN_TE_OTHER || !(c->seen & SEEN_CHUNKED_LAST))
			return httpp_fail(m, 501, "unsupported transfer coding");
		m->body = HTTPP_BODY_CHUNKED;
		if (c->seen & SEEN_CL) /* a smuggling sign: use it once */
			c->seen |= SEEN_CLOSE;
	} else if (c->seen & SEEN_CL) {
		if (c->cl > HTTPP_MAX_LENGTH)
			return httpp_fail(m, 400, "content-length too large");
		m->length = c->cl;
		m->body = c->cl ? HTTPP_BODY_LENGTH : HTTPP_BODY_NONE;
	} else {
		m->body = HTTPP_BODY_CLOSE;
		c->seen |= SEEN_CLOSE;
	}
	if (!(c->seen & SEEN_CLOSE) && (m->minor == 1 || (c->seen & SEEN_KEEP)))
		m->flags |= HTTPP_KEEP_ALIVE;
	return 0;
}

int httpp_response(const char *buf, size_t len, const struct httpp_limits *lim,
		   int head, struct httpp_msg *m)
{
	struct httpp_ctx c;
	int r;

	start(&c, buf, len, lim, m);
	if ((r = status_line(&c)) < 1 || (r = httpp_parse_fields(&c, (size_t)r)) < 1)
		return r;
	return response_rules(&c, head) < 0 ? HTTPP_ERROR : r;
}

size_t httpp_unescape(char *dst, const char *src, size_t len, int plus)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, n = 0;

	while (i < len) {
		unsigned char ch = s[i++];
		int hi, lo;

		if (ch == '%' && i + 2 <= len && (hi = httpp_hexval(s[i])) >= 0 &&
		    (lo = httpp_hexval(s[i + 1])) >= 0) {
			ch = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (ch == '+' && plus) {
			ch = ' ';
		}
		dst[n++] = (char)ch;
	}
	return n;
}
