/*
 * test_httpp.c -- the HTTP/1.1 parser library (bindings/httpp.h) on its
 * own: tables of raw messages and what parsing them must give, each also
 * fed in every split, with LF line ends and with bytes after it.
 *
 *   build/tests/test_httpp bench   parse throughput (build with -O2 for
 *                                  figures: see docs/http-internals.md)
 *
 * sources: bindings/httpp.c bindings/httpp_chunked.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "httpp.h"

#define MAX_FIELDS 8

static struct httpp_field fields[HTTPP_MAX_FIELDS + 1];
static const struct httpp_limits lim = { 256, MAX_FIELDS, 1000 };

/* One line saying what a parse gave: "more", "STATUS why", or the message
 * as "METHOD path[?query] 1.MINOR body[:length] [flags] | Name: value...". */
static void describe(char *out, size_t size, const char *buf, int r,
		     const struct httpp_msg *m, int response)
{
	static const char *const bodies[] = { "none", "length", "chunked", "close" };
	size_t n;

	if (r == HTTPP_MORE) {
		snprintf(out, size, "more");
		return;
	}
	if (r < 0) {
		snprintf(out, size, "%d %s", m->error, m->why);
		return;
	}
	if (response)
		n = (size_t)snprintf(out, size, "%d %.*s", m->status, (int)m->reason.len,
				     buf + m->reason.off);
	else
		n = (size_t)snprintf(out, size, "%.*s %.*s%s%.*s", (int)m->method.len,
				     buf + m->method.off, (int)m->path.len,
				     buf + m->path.off,
				     m->flags & HTTPP_HAS_QUERY ? "?" : "",
				     (int)m->query.len, buf + m->query.off);
	n += (size_t)snprintf(out + n, size - n, " 1.%d %s", m->minor, bodies[m->body]);
	if (m->body == HTTPP_BODY_LENGTH)
		n += (size_t)snprintf(out + n, size - n, ":%llu",
				      (unsigned long long)m->length);
	n += (size_t)snprintf(out + n, size - n, "%s%s%s%s",
			      m->flags & HTTPP_KEEP_ALIVE ? " ka" : "",
			      m->flags & HTTPP_EXPECT_CONTINUE ? " 100" : "",
			      m->flags & HTTPP_ASTERISK ? " *" : "",
			      m->flags & HTTPP_UPGRADE ? " up" : "");
	if (m->flags & HTTPP_ABSOLUTE)
		n += (size_t)snprintf(out + n, size - n, " abs=%.*s",
				      (int)m->authority.len, buf + m->authority.off);
	for (uint32_t i = 0; i < m->nfields && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, " | %.*s: %.*s",
				      (int)m->fields[i].name.len,
				      buf + m->fields[i].name.off,
				      (int)m->fields[i].value.len,
				      buf + m->fields[i].value.off);
}

static int parse(const char *buf, size_t len, int response, char *out,
		 size_t size)
{
	struct httpp_msg m;
	int r;

	m.fields = fields;
	if (response)
		r = httpp_response(buf, len, &lim, response == 2, &m);
	else
		r = httpp_request(buf, len, &lim, &m);
	describe(out, size, buf, r, &m, response);
	return r;
}


struct head_case {
	const char *name;
	const char *raw;
	const char *want; /* as describe() says it */
};

#define H "Host: x\r\n"
#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A256 A64 A64 A64 A64

static const struct head_case requests[] = {
	/* complete heads */
	{ "minimal", "GET / HTTP/1.1\r\n" H "\r\n", "GET / 1.1 none ka | Host: x" },
	{ "path and query", "GET /a/b?c=d&e HTTP/1.1\r\n" H "\r\n",
	  "GET /a/b?c=d&e 1.1 none ka | Host: x" },
	{ "empty query", "GET /a? HTTP/1.1\r\n" H "\r\n", "GET /a? 1.1 none ka | Host: x" },
	{ "target characters", "GET /a-b._~!$&'()*+,;=:@%20/\"<>\\^`{|}?/? HTTP/1.1\r\n" H "\r\n",
	  "GET /a-b._~!$&'()*+,;=:@%20/\"<>\\^`{|}?/? 1.1 none ka | Host: x" },
	{ "HTTP/1.0 closes", "GET / HTTP/1.0\r\n\r\n", "GET / 1.0 none" },
	{ "HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	  "GET / 1.0 none ka | Connection: Keep-Alive" },
	{ "HTTP/1.1 close", "GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n",
	  "GET / 1.1 none | Host: x | Connection: close" },
	{ "close wins", "GET / HTTP/1.1\r\n" H "Connection: keep-alive, CLOSE\r\n\r\n",
	  "GET / 1.1 none | Host: x | Connection: keep-alive, CLOSE" },
	{ "close in a second line", "GET / HTTP/1.1\r\n" H "Connection: x\r\nConnection: ,close,\r\n\r\n",
	  "GET / 1.1 none | Host: x | Connection: x | Connection: ,close," },
	{ "upgrade", "GET / HTTP/1.1\r\n" H "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
	  "GET / 1.1 none ka up | Host: x | Connection: Upgrade | Upgrade: websocket" },
	{ "HTTP/1.9 reads as 1.1", "GET / HTTP/1.9\r\n" H "\r\n", "GET / 1.1 none ka | Host: x" },
	{ "unknown method", "BREW /pot HTTP/1.1\r\n" H "\r\n", "BREW /pot 1.1 none ka | Host: x" },
	{ "empty lines first", "\r\n\n\r\nGET / HTTP/1.1\r\n" H "\r\n", "GET / 1.1 none ka | Host: x" },
	{ "OWS trimmed", "GET / HTTP/1.1\r\nHost:\t x \t\r\nX-Empty:\r\nX-Sp:   \r\n\r\n",
	  "GET / 1.1 none ka | Host: x | X-Empty:  | X-Sp: " },
	{ "inner spaces kept", "GET / HTTP/1.1\r\n" H "X:  a  b \r\n\r\n",
	  "GET / 1.1 none ka | Host: x | X: a  b" },
	{ "obs-text", "GET / HTTP/1.1\r\n" H "X: caf\xc3\xa9\r\n\r\n",
	  "GET / 1.1 none ka | Host: x | X: caf\xc3\xa9" },
	{ "name case kept", "GET / HTTP/1.1\r\nhOsT: x\r\nX-a_b.c!#$%&'*+^`|~: 1\r\n\r\n",
	  "GET / 1.1 none ka | hOsT: x | X-a_b.c!#$%&'*+^`|~: 1" },
	{ "empty host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", "GET / 1.1 none ka | Host: " },
	{ "host with port and IPv6", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
	  "GET / 1.1 none ka | Host: [::1]:80" },
	{ "content-length", "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\n",
	  "POST / 1.1 length:5 ka | Host: x | Content-Length: 5" },
	{ "content-length 0", "POST / HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n",
	  "POST / 1.1 none ka | Host: x | Content-Length: 0" },
	{ "content-length at the limit", "POST / HTTP/1.1\r\n" H "Content-Length: 001000\r\n\r\n",
	  "POST / 1.1 length:1000 ka | Host: x | Content-Length: 001000" },
	{ "content-length list of one value", "POST / HTTP/1.1\r\n" H "Content-Length: 7, 7\r\ncontent-length: 7\r\n\r\n",
	  "POST / 1.1 length:7 ka | Host: x | Content-Length: 7, 7 | content-length: 7" },
	{ "chunked", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: Chunked\r\n\r\n",
	  "POST / 1.1 chunked ka | Host: x | Transfer-Encoding: Chunked" },
	{ "chunked after empty elements", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: ,\r\nTransfer-Encoding: , chunked ,\r\n\r\n",
	  "POST / 1.1 chunked ka | Host: x | Transfer-Encoding: , | Transfer-Encoding: , chunked ," },
	{ "100-continue", "PUT /f HTTP/1.1\r\n" H "Expect: 100-Continue\r\nContent-Length: 10\r\n\r\n",
	  "PUT /f 1.1 length:10 ka 100 | Host: x | Expect: 100-Continue | Content-Length: 10" },
	{ "100-continue ignored in 1.0", "PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nExpect: x\r\n\r\n",
	  "PUT /f 1.0 none | Expect: 100-continue | Expect: x" },
	{ "absolute-form", "GET http://Example.com:8080/p?q HTTP/1.1\r\n" H "\r\n",
	  "GET /p?q 1.1 none ka abs=Example.com:8080 | Host: x" },
	{ "absolute-form, no path", "GET HTTPS://h HTTP/1.1\r\n" H "\r\n",
	  "GET  1.1 none ka abs=h | Host: x" },
	{ "absolute-form, query only", "GET http://h?a HTTP/1.1\r\n" H "\r\n",
	  "GET ?a 1.1 none ka abs=h | Host: x" },
	{ "asterisk-form", "OPTIONS * HTTP/1.1\r\n" H "\r\n", "OPTIONS * 1.1 none ka * | Host: x" },
	{ "most field lines", "GET / HTTP/1.1\r\n" H "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\n\r\n",
	  "GET / 1.1 none ka | Host: x | A: 1 | B: 2 | C: 3 | D: 4 | E: 5 | F: 6 | G: 7" },

	/* incomplete heads */
	{ "nothing yet", "", "more" },
	{ "method only", "GET", "more" },
	{ "no empty line", "GET / HTTP/1.1\r\n" H, "more" },
	{ "a CR at the end", "GET / HTTP/1.1\r\n" H "\r", "more" },

	/* request line */
	{ "method with @", "G@T / HTTP/1.1\r\n" H "\r\n", "400 invalid method" },
	{ "leading space", " GET / HTTP/1.1\r\n" H "\r\n", "400 invalid method" },
	{ "TLS to HTTP", "\x16\x03\x01\x02", "400 invalid method" },
	{ "tab separator", "GET\t/ HTTP/1.1\r\n" H "\r\n", "400 invalid method" },
	{ "two spaces", "GET  / HTTP/1.1\r\n" H "\r\n", "400 invalid request target" },
	{ "space at the end", "GET / HTTP/1.1 \r\n" H "\r\n", "400 invalid version" },
	{ "no version", "GET /\r\n" H "\r\n", "400 invalid request target" },
	{ "lowercase version", "GET / http/1.1\r\n" H "\r\n", "400 invalid version" },
	{ "version letters", "GET / HTTP/1.x\r\n" H "\r\n", "400 invalid version" },
	{ "version 2", "GET / HTTP/2.0\r\n" H "\r\n", "505 unsupported version" },
	{ "version 0.9", "GET / HTTP/0.9\r\n" H "\r\n", "505 unsupported version" },
	{ "bare CR in the request line", "GET / HTTP/1.1\rHost: x\r\n\r\n", "400 bare CR" },
	{ "bare CR before it", "\rGET / HTTP/1.1\r\n" H "\r\n", "400 bare CR" },
	{ "control byte in target", "GET /\x01 HTTP/1.1\r\n" H "\r\n", "400 invalid request target" },
	{ "fragment", "GET /a#f HTTP/1.1\r\n" H "\r\n", "400 invalid request target" },
	{ "raw UTF-8 in target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" H "\r\n", "400 invalid request target" },
	{ "relative target", "GET a/b HTTP/1.1\r\n" H "\r\n", "400 invalid request target" },
	{ "other scheme", "GET ftp://h/ HTTP/1.1\r\n" H "\r\n", "400 invalid request target" },
	{ "scheme without //", "GET http:h/ HTTP/1.1\r\n" H "\r\n", "400 invalid request target" },
	{ "userinfo", "GET http://u@h/ HTTP/1.1\r\n" H "\r\n", "400 invalid authority" },
	{ "empty authority", "GET http:///p HTTP/1.1\r\n" H "\r\n", "400 invalid authority" },
	{ "asterisk for GET", "GET * HTTP/1.1\r\n" H "\r\n", "400 asterisk-form is for OPTIONS" },
	{ "CONNECT", "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", "501 CONNECT is not supported" },
	{ "target too long", "GET /" A256,
	  "414 request target too long" },
	{ "head too large by its target", "GET /" A64 A64 " HTTP/1.1\r\n" H "X: " A64 A64 "\r\n\r\n",
	  "414 request target too long" },
	{ "method too long", "GET" A256,
	  "400 method too long" },

	/* field lines */
	{ "missing host", "GET / HTTP/1.1\r\n\r\n", "400 missing host" },
	{ "repeated host", "GET / HTTP/1.1\r\n" H H "\r\n", "400 repeated host" },
	{ "repeated host in 1.0", "GET / HTTP/1.0\r\n" H H "\r\n", "400 repeated host" },
	{ "host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "400 invalid host" },
	{ "host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "400 invalid host" },
	{ "host with userinfo", "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", "400 invalid host" },
	{ "space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", "400 whitespace before colon" },
	{ "tab before colon", "GET / HTTP/1.1\r\n" H "X\t: x\r\n\r\n", "400 whitespace before colon" },
	{ "no name", "GET / HTTP/1.1\r\n" H ": x\r\n\r\n", "400 invalid header name" },
	{ "no colon", "GET / HTTP/1.1\r\n" H "X x\r\n\r\n", "400 whitespace before colon" },
	{ "no colon, no space", "GET / HTTP/1.1\r\n" H "Xx\r\n\r\n", "400 invalid header name" },
	{ "quote in name", "GET / HTTP/1.1\r\n" H "X\"y: x\r\n\r\n", "400 invalid header name" },
	{ "obs-fold", "GET / HTTP/1.1\r\n" H "X: a\r\n b\r\n\r\n", "400 obsolete line folding" },
	{ "whitespace before the first field", "GET / HTTP/1.1\r\n " H "\r\n", "400 obsolete line folding" },
	{ "bare CR in a value", "GET / HTTP/1.1\r\n" H "X: a\rb\r\n\r\n", "400 bare CR" },
	{ "CR CR LF", "GET / HTTP/1.1\r\n" H "X: a\r\r\n\r\n", "400 bare CR" },
	{ "bare CR ends the head", "GET / HTTP/1.1\r\n" H "\rX", "400 bare CR" },
	{ "control byte in a value", "GET / HTTP/1.1\r\n" H "X: a\x01b\r\n\r\n", "400 invalid header value" },
	{ "DEL in a value", "GET / HTTP/1.1\r\n" H "X: a\x7f\r\n\r\n", "400 invalid header value" },
	{ "too many field lines", "GET / HTTP/1.1\r\n" H "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nI: 8\r\n\r\n",
	  "431 too many header fields" },
	{ "head too large", "GET / HTTP/1.1\r\n" H "X: " A256 "\r\n\r\n",
	  "431 header section too large" },

	/* framing */
	{ "content-length letters", "POST / HTTP/1.1\r\n" H "Content-Length: 5a\r\n\r\n", "400 invalid content-length" },
	{ "content-length sign", "POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n", "400 invalid content-length" },
	{ "content-length negative", "POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", "400 invalid content-length" },
	{ "content-length empty", "POST / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n", "400 invalid content-length" },
	{ "content-length inner space", "POST / HTTP/1.1\r\n" H "Content-Length: 1 2\r\n\r\n", "400 invalid content-length" },
	{ "content-length list differs", "POST / HTTP/1.1\r\n" H "Content-Length: 5, 6\r\n\r\n", "400 conflicting content-length" },
	{ "content-lengths differ", "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 50\r\n\r\n", "400 conflicting content-length" },
	{ "content-length over the limit", "POST / HTTP/1.1\r\n" H "Content-Length: 1001\r\n\r\n", "413 body too large" },
	{ "content-length overflows", "POST / HTTP/1.1\r\n" H "Content-Length: 99999999999999999999999999\r\n\r\n", "413 body too large" },
	{ "both framings", "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	  "400 both content-length and transfer-encoding" },
	{ "transfer-encoding in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "400 transfer-encoding in HTTP/1.0" },
	{ "gzip only", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n\r\n", "400 chunked is not the final coding" },
	{ "chunked, then gzip", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
	  "400 chunked is not the final coding" },
	{ "chunked with a parameter", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked;x=1\r\n\r\n", "400 chunked is not the final coding" },
	{ "empty transfer-encoding", "POST / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n\r\n", "400 chunked is not the final coding" },
	{ "chunked twice", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, chunked\r\n\r\n", "400 chunked applied twice" },
	{ "gzip, chunked", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n", "501 unsupported transfer coding" },
	{ "transfer-encoding junk", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: \"chunked\"\r\n\r\n", "400 invalid transfer-encoding" },
	{ "other expectation", "PUT / HTTP/1.1\r\n" H "Expect: 100-continue, x\r\n\r\n", "417 unsupported expectation" },
};

static const struct head_case responses[] = {
	{ "200 with length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
	  "200 OK 1.1 length:5 ka | Content-Length: 5" },
	{ "until close", "HTTP/1.1 200 OK\r\n\r\n", "200 OK 1.1 close" },
	{ "chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	  "200 OK 1.1 chunked ka | Transfer-Encoding: chunked" },
	{ "chunked beats length, once", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
	  "200 OK 1.1 chunked | Transfer-Encoding: chunked | Content-Length: 3" },
	{ "reason with spaces", "HTTP/1.1 404 Not  Found \r\nContent-Length: 0\r\n\r\n",
	  "404 Not  Found  1.1 none ka | Content-Length: 0" },
	{ "no reason", "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n", "200  1.1 length:1 ka | Content-Length: 1" },
	{ "empty reason", "HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\n", "200  1.1 length:1 ka | Content-Length: 1" },
	{ "204", "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", "204 No Content 1.1 none ka | Content-Length: 9" },
	{ "304", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
	  "304 Not Modified 1.1 none ka | Transfer-Encoding: chunked" },
	{ "204 with a coding", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: gzip\r\n\r\n",
	  "204 No Content 1.1 none ka | Transfer-Encoding: gzip" },
	{ "100", "HTTP/1.1 100 Continue\r\n\r\n", "100 Continue 1.1 none ka" },
	{ "101", "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
	  "101 Switching Protocols 1.1 none ka up | Connection: upgrade | Upgrade: websocket" },
	{ "1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n",
	  "200 OK 1.0 length:2 ka | Connection: keep-alive | Content-Length: 2" },
	{ "1.0 until close", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n",
	  "200 OK 1.0 close | Connection: keep-alive" },
	{ "close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n",
	  "200 OK 1.1 length:2 | Connection: close | Content-Length: 2" },
	{ "set-cookie lines kept", "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n",
	  "200 OK 1.1 none ka | Set-Cookie: a=1 | Set-Cookie: b=2 | Content-Length: 0" },
	{ "big length", "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000\r\n\r\n",
	  "200 OK 1.1 length:1000000000000000000 ka | Content-Length: 1000000000000000000" },
	{ "partial", "HTTP/1.1 200 OK\r\n", "more" },
	{ "partial version", "HTTP/1", "more" },
	{ "too big length", "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000001\r\n\r\n", "400 content-length too large" },
	{ "bad length", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "400 invalid content-length" },
	{ "gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "501 unsupported transfer coding" },
	{ "gzip, chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "501 unsupported transfer coding" },
	{ "transfer-encoding in 1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "400 transfer-encoding in HTTP/1.0" },
	{ "two-digit status", "HTTP/1.1 20 OK\r\n\r\n", "400 invalid status line" },
	{ "four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", "400 invalid status line" },
	{ "status below 100", "HTTP/1.1 099 X\r\n\r\n", "400 invalid status code" },
	{ "HTTP/2", "HTTP/2 200 OK\r\n\r\n", "400 invalid version" },
	{ "HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", "505 unsupported version" },
	{ "not HTTP", "ICY 200 OK\r\n\r\n", "400 invalid version" },
	{ "control byte in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", "400 invalid status line" },
	{ "obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n", "400 obsolete line folding" },
};

/* Responses to HEAD requests. */
static const struct head_case head_responses[] = {
	{ "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", "200 OK 1.1 none ka | Content-Length: 500" },
	{ "HEAD, no length", "HTTP/1.1 200 OK\r\n\r\n", "200 OK 1.1 none ka" },
	{ "HEAD, chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	  "200 OK 1.1 none ka | Transfer-Encoding: chunked" },
	{ "HEAD, gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	  "200 OK 1.1 none ka | Transfer-Encoding: gzip" },
	{ "HEAD, still strict on syntax", "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
	  "400 conflicting content-length" },
};

/* One case: whole, followed by other bytes, in every prefix, and with
 * lone LFs for line ends. */
static void run_case(const struct head_case *t, int response)
{
	char got[1024], part[1024], *lf;
	size_t len = strlen(t->raw), k;
	int r = parse(t->raw, len, response, got, sizeof(got)), bad = 0;

	CHECK(strcmp(got, t->want) == 0, "%s: %s (got '%s')", t->name, t->want, got);
	if (r > 0) {
		CHECK((size_t)r == len, "%s: head is all %zu bytes (got %d)", t->name, len, r);
		char *more = malloc(len + 8);
		memcpy(more, t->raw, len);
		memcpy(more + len, "GET / HT", 8);
		int r2 = parse(more, len + 8, response, part, sizeof(part));
		CHECK(r2 == r && strcmp(part, got) == 0, "%s: bytes after it do not matter",
		      t->name);
		free(more);
	}
	/* Every prefix needs more or, for an error, may already fail the same. */
	for (k = 0; k < len && !bad; k++) {
		int rk = parse(t->raw, k, response, part, sizeof(part));
		if (!(rk == HTTPP_MORE || (rk < 0 && r < 0 && strcmp(part, got) == 0)))
			bad = 1;
	}
	CHECK(!bad, "%s: every prefix needs more (prefix %zu gave '%s')", t->name,
	      k - 1, part);
	if (r < 0 || !strstr(t->raw, "\r\n"))
		return;
	lf = malloc(len + 1);
	for (k = 0, len = 0; t->raw[k]; k++)
		if (!(t->raw[k] == '\r' && t->raw[k + 1] == '\n'))
			lf[len++] = t->raw[k];
	int rl = parse(lf, len, response, part, sizeof(part));
	CHECK((r > 0 ? rl == (int)len : rl == r) && strcmp(part, got) == 0, "%s: with LF line ends (got '%s')",
	      t->name, part);
	free(lf);
}

static void test_pipelined(void)
{
	const char *buf = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
			  "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
			  "GET /c HTTP/1.1\r\n";
	size_t len = strlen(buf), at = 0;
	char got[3][256];
	int r;

	for (int i = 0; i < 3; i++) {
		r = parse(buf + at, len - at, 0, got[i], sizeof(got[i]));
		if (r > 0)
			at += (size_t)r + (i == 1 ? 3 : 0);
	}
	CHECK(strcmp(got[0], "GET /a 1.1 none ka | Host: x") == 0 &&
	      strcmp(got[1], "POST /b 1.1 length:3 ka | Host: x | Content-Length: 3") == 0 &&
	      strcmp(got[2], "more") == 0,
	      "pipelined requests parse one after another (got '%s', '%s', '%s')",
	      got[0], got[1], got[2]);
}

/* A request of (n) field lines, Host last, in (buf); returns its length. */
static size_t many_fields(char *buf, size_t size, int n)
{
	size_t len = (size_t)snprintf(buf, size, "GET / HTTP/1.1\r\n");

	for (int i = 1; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "X-%d: v\r\n", i);
	return len + (size_t)snprintf(buf + len, size - len, "Host: h\r\n\r\n");
}

static void test_limits(void)
{
	struct httpp_limits big = { 4096, HTTPP_MAX_FIELDS, HTTPP_MAX_BODY };
	struct httpp_msg m;
	char buf[4200];
	size_t n;
	int r;

	m.fields = fields;
	n = many_fields(buf, sizeof(buf), HTTPP_MAX_FIELDS);
	r = httpp_request(buf, n, &big, &m);
	CHECK(r == (int)n && m.nfields == HTTPP_MAX_FIELDS, "%d field lines (the most) parse",
	      HTTPP_MAX_FIELDS);
	n = many_fields(buf, sizeof(buf), HTTPP_MAX_FIELDS + 1);
	r = httpp_request(buf, n, &big, &m);
	CHECK(r < 0 && m.error == 431 && strcmp(m.why, "too many header fields") == 0,
	      "%d field lines are 431", HTTPP_MAX_FIELDS + 1);

	/* A head of exactly max_head bytes fits; one more byte does not. */
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	memset(buf + n, 'a', 4096 - n - 4);
	memcpy(buf + 4096 - 4, "\r\n\r\n", 4);
	r = httpp_request(buf, 4096, &big, &m);
	CHECK(r == 4096, "a head of exactly max_head bytes parses (got %d)", r);
	r = httpp_request(buf, 4095, &big, &m);
	CHECK(r == HTTPP_MORE, "its first max_head - 1 bytes need more");
	memmove(buf + n + 1, buf + n, 4096 - n);
	r = httpp_request(buf, 4097, &big, &m);
	CHECK(r < 0 && m.error == 431, "a head of max_head + 1 bytes is 431");
	r = httpp_request(buf, 4096, &big, &m);
	CHECK(r < 0 && m.error == 431, "... known as soon as max_head bytes are in");

	/* Large limits are capped, not trusted. */
	big.max_head = UINT32_MAX;
	r = httpp_request(buf, 4097, &big, &m);
	CHECK(r == 4097, "a huge max_head works (got %d)", r);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A browser's GET of about 300 bytes, parsed over and over. */
static int bench(void)
{
	static const char req[] =
		"GET /items/42?sort=asc&page=2 HTTP/1.1\r\n"
		"Host: localhost:8080\r\n"
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0\r\n"
		"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
		"Accept-Language: en-US,en;q=0.5\r\n"
		"Accept-Encoding: gzip, deflate, br\r\n"
		"Connection: keep-alive\r\n"
		"\r\n";
	struct httpp_limits l = { HTTPP_MAX_HEAD, HTTPP_MAX_FIELDS, HTTPP_MAX_BODY };
	struct httpp_msg m;
	long n = 0, total = 0;
	double t0 = now(), t;

	m.fields = fields;
	do {
		for (int i = 0; i < 10000; i++)
			total += httpp_request(req, sizeof(req) - 1, &l, &m);
		n += 10000;
	} while ((t = now() - t0) < 1.0);
	printf("httpp_request: %zu-byte GET, %ld fields: %.2f M heads/s, %.0f ns each, %.0f MB/s\n",
	       sizeof(req) - 1, (long)m.nfields, n / t / 1e6, t / n * 1e9,
	       (double)total / t / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "bench") == 0)
		return bench();
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		run_case(&requests[i], 0);
	for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++)
		run_case(&responses[i], 1);
	for (size_t i = 0; i < sizeof(head_responses) / sizeof(head_responses[0]); i++)
		run_case(&head_responses[i], 2);
	test_pipelined();
	test_limits();
	CHECK_EXIT();
}
