/*
 * httpp.h -- HTTP/1.1 message syntax (RFC 9112) with no Lua and no runtime:
 * request and response heads, an incremental chunked-body decoder, and
 * percent-decoding. bindings/http_parser.c puts it in front of Lua; the
 * host unit tests and fuzzers link it alone.
 *
 * The head parsers are stateless: they are handed every byte received so
 * far (possibly a partial head, possibly several pipelined messages) and
 * parse one message head from the start, in one pass, copying nothing.
 * What they find is returned as spans of the caller's buffer. Callers run
 * them again from the start when more bytes arrive.
 *
 * Choices where RFC 9112 leaves room (docs/http-internals.md lists them):
 * a lone LF ends a line like CRLF (2.2); a CR not followed by LF, obs-fold
 * (5.2), whitespace before a field's colon (5.1) and whitespace before the
 * first field line (2.2) are errors; empty lines before a request line are
 * skipped (2.2).
 */
#ifndef LUNIK_HTTPP_H
#define LUNIK_HTTPP_H

#include <stddef.h>
#include <stdint.h>

/* A piece of the caller's buffer: (len) bytes at offset (off). */
struct httpp_span {
	uint32_t off, len;
};

/* One field line: name as sent (not lowercased), value with the optional
 * whitespace around it removed. */
struct httpp_field {
	struct httpp_span name, value;
};

/* How the body that follows a head is framed (RFC 9112 6.3). */
enum httpp_body {
	HTTPP_BODY_NONE,    /* no body bytes follow */
	HTTPP_BODY_LENGTH,  /* exactly msg.length bytes (> 0) */
	HTTPP_BODY_CHUNKED, /* chunked: use the decoder below */
	HTTPP_BODY_CLOSE,   /* responses only: until the connection closes */
};

struct httpp_limits {
	uint32_t max_head;   /* bytes of start line plus field section */
	uint32_t max_fields; /* field lines in a head or a trailer section */
	uint64_t max_body;   /* request body bytes (Content-Length or chunked) */
};

#define HTTPP_MAX_HEAD 16384
#define HTTPP_MAX_FIELDS 100
#define HTTPP_MAX_BODY (1024 * 1024)
#define HTTPP_MAX_LENGTH 1000000000000000000ull /* any Content-Length above: too large */

/* msg.flags */
#define HTTPP_KEEP_ALIVE 0x01      /* the connection may carry another message */
#define HTTPP_EXPECT_CONTINUE 0x02 /* HTTP/1.1 request with Expect: 100-continue */
#define HTTPP_HAS_QUERY 0x04       /* the target has a '?' (query may be empty) */
#define HTTPP_ABSOLUTE 0x08        /* absolute-form target: see authority */
#define HTTPP_ASTERISK 0x10        /* "OPTIONS *" */
#define HTTPP_UPGRADE 0x20         /* Connection lists "upgrade" */

struct httpp_msg {
	/* Set by the caller before parsing: where field lines go, room for
	 * limits.max_fields of them. */
	struct httpp_field *fields;

	/* Requests. The path and query are the target's, undecoded; for an
	 * absolute-form target, authority is "host[:port]" and an empty path
	 * stands for "/". For "OPTIONS *" the path is "*". */
	struct httpp_span method, target, path, query, authority;
	/* Responses. */
	int status;
	struct httpp_span reason;

	int minor;              /* HTTP/1.minor: 0 or 1 (1.2 and up read as 1.1) */
	enum httpp_body body;
	uint64_t length;        /* for HTTPP_BODY_LENGTH */
	unsigned flags;
	uint32_t nfields;

	/* On HTTPP_ERROR: the status code to answer with (400, 413, 414, 417,
	 * 431, 501, 505) and a short lowercase phrase saying what was wrong.
	 * For responses the code only classifies the fault. */
	int error;
	const char *why;
};

/* Results of the head parsers; a positive value is the head's length. */
#define HTTPP_MORE 0   /* the head is not complete yet */
#define HTTPP_ERROR -1 /* malformed or over a limit: see msg.error */

/* Parses the request head at the start of (buf) of (len) bytes with limits
 * (lim) into (m). Returns the head's length in bytes (the body or the next
 * request starts there), HTTPP_MORE, or HTTPP_ERROR. An error found in a
 * partial head is final: more bytes never turn it into success. */
int httpp_request(const char *buf, size_t len, const struct httpp_limits *lim,
		  struct httpp_msg *m);

/* Parses the response head at the start of (buf) of (len) bytes, the answer
 * to a HEAD request if (head) is non-zero. Returns as httpp_request does;
 * lim->max_body is not applied. 1xx responses are complete heads with no
 * body: the caller parses the final response after them. */
int httpp_response(const char *buf, size_t len, const struct httpp_limits *lim,
		   int head, struct httpp_msg *m);

/* Incremental decoder of a chunked body (RFC 9112 7.1): chunk extensions
 * are checked and ignored, the trailer section is checked and handed back.
 * Initialise with httpp_chunked_init; its fields are private but for
 * total, error and why. */
struct httpp_chunked {
	int state;
	uint64_t left;    /* bytes left in the current chunk */
	uint64_t total;   /* body bytes announced so far */
	uint32_t ext;     /* bytes of the current chunk line */
	uint64_t max_body;
	uint32_t max_trailer, max_fields;
	int error;        /* as in struct httpp_msg */
	const char *why;
};

/* Results of httpp_chunked_decode. */
#define HTTPP_CHUNK_MORE 0   /* give more bytes */
#define HTTPP_CHUNK_DATA 1   /* (data) holds body bytes */
#define HTTPP_CHUNK_DONE 2   /* the body and its trailer section ended */
#define HTTPP_CHUNK_ERROR -1 /* see c->error; every later call says so too */

/* A decoder for a body of at most (max_body) bytes whose trailer section
 * holds at most (max_trailer) bytes and (max_fields) field lines. */
void httpp_chunked_init(struct httpp_chunked *c, uint64_t max_body,
			uint32_t max_trailer, uint32_t max_fields);

/* Decodes from (buf) of (len) bytes, the bytes that follow what earlier
 * calls consumed. Stores in (*used) how many bytes it consumed and returns:
 * HTTPP_CHUNK_DATA with (*data) the next run of body bytes, inside what it
 * consumed; HTTPP_CHUNK_MORE when every byte given was consumed, except an
 * incomplete trailer section, which is left for the next call to see whole;
 * HTTPP_CHUNK_DONE when the body ended, with (*data) the trailer section's
 * field lines (perhaps empty; parse them with httpp_fields) and (*used)
 * ending just after the body; HTTPP_CHUNK_ERROR. */
int httpp_chunked_decode(struct httpp_chunked *c, const char *buf, size_t len,
			 size_t *used, struct httpp_span *data);

/* Splits a complete, checked field section (such as a trailer section from
 * the decoder: field lines, each ending in CRLF or LF) of (len) bytes at
 * (buf) into (out), room for (max). Returns the number of field lines. */
uint32_t httpp_fields(const char *buf, size_t len, struct httpp_field *out,
		      uint32_t max);

/* Percent-decodes (len) bytes of (src) into (dst), which has room for len
 * bytes (it may be src itself), '+' as a space when (plus) is non-zero.
 * Like the WHATWG URL Standard, a '%' not followed by two hex digits is
 * kept as it is. Returns the decoded length. */
size_t httpp_unescape(char *dst, const char *src, size_t len, int plus);

#endif
