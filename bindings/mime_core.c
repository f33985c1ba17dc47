/*
 * mime_core.c -- the `mime.core` module: LuaSocket's low-level MIME
 * filters, which Debian's mime.lua (and through it socket.http and
 * socket.smtp) builds its LTN12 filters on. C, because they run byte by
 * byte over whole message bodies.
 *
 * Each filter takes the context the previous call returned and the next
 * chunk, nil at the end of the stream, and returns its output and the new
 * context, as LuaSocket 3's mime.core does (its reference manual, "MIME:
 * low-level filters"):
 *
 *   mime.b64(C [, D]) -> A, B      Base64 (RFC 2045 6.8, RFC 4648 4)
 *   mime.unb64(C [, D]) -> A, B    its inverse; other characters are ignored
 *   mime.qp(C [, D, marker]) -> A, B   Quoted-Printable (RFC 2045 6.7)
 *   mime.unqp(C [, D]) -> A, B     its inverse
 *   mime.wrp(n [, B, length]) -> A, m    lines of at most length bytes
 *   mime.qpwrp(n [, B, length]) -> A, m  the same with soft line breaks
 *   mime.eol(C [, D, marker]) -> A, B    end-of-line normalisation
 *   mime.dot(m [, B]) -> A, n      SMTP dot-stuffing (RFC 5321 4.5.2)
 *
 * For the codecs, A is the output for the longest prefix of C..D that can
 * be coded now and B the bytes held back; when D is nil the rest is coded
 * (padded) and B is nil; an empty A at the end is nil. With C nil they
 * return nil, nil.
 */
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "runtime.h"

#define CRLF "\r\n"
#define EQCRLF "=\r\n"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char hex_digits[] = "0123456789ABCDEF";

/* A group of bytes held back between calls: up to 4. */
struct atom {
	unsigned char c[4];
	size_t n;
};

/* Pushes what a codec returns at the end: A, or nil if it is empty; nil. */
static int push_end(lua_State *L, luaL_Buffer *b)
{
	size_t len;

	luaL_pushresult(b);
	lua_tolstring(L, -1, &len);
	if (len == 0) {
		lua_pop(L, 1);
		lua_pushnil(L);
	}
	lua_pushnil(L);
	return 2;
}

/* Pushes A and the held-back bytes B. */
static int push_more(lua_State *L, luaL_Buffer *b, const struct atom *a)
{
	luaL_pushresult(b);
	lua_pushlstring(L, (const char *)a->c, a->n);
	return 2;
}

/* ---- Base64 */

static void b64_put(unsigned char c, struct atom *a, luaL_Buffer *b)
{
	unsigned long v;
	char out[4];

	a->c[a->n++] = c;
	if (a->n < 3)
		return;
	v = (unsigned long)a->c[0] << 16 | (unsigned long)a->c[1] << 8 | a->c[2];
	for (int i = 3; i >= 0; i--, v >>= 6)
		out[i] = b64_alphabet[v & 63];
	luaL_addlstring(b, out, 4);
	a->n = 0;
}

/* The last 1 or 2 bytes, padded with '=' (RFC 4648 4). */
static void b64_pad(struct atom *a, luaL_Buffer *b)
{
	unsigned long v;
	char out[4] = { '=', '=', '=', '=' };

	if (a->n == 0)
		return;
	v = (unsigned long)a->c[0] << 16 |
	    (a->n > 1 ? (unsigned long)a->c[1] << 8 : 0);
	out[0] = b64_alphabet[(v >> 18) & 63];
	out[1] = b64_alphabet[(v >> 12) & 63];
	if (a->n > 1)
		out[2] = b64_alphabet[(v >> 6) & 63];
	luaL_addlstring(b, out, 4);
	a->n = 0;
}

/* Value of a Base64 character; '=' counts as 0 (padding); 255: ignored. */
static unsigned b64_value(unsigned char c)
{
	const char *p;

	if (c == '=')
		return 0;
	p = c ? strchr(b64_alphabet, c) : NULL;
	return p ? (unsigned)(p - b64_alphabet) : 255;
}

static void unb64_put(unsigned char c, struct atom *a, luaL_Buffer *b)
{
	unsigned long v = 0;
	char out[3];

	if (b64_value(c) == 255)
		return;
	a->c[a->n++] = c;
	if (a->n < 4)
		return;
	for (int i = 0; i < 4; i++)
		v = v << 6 | b64_value(a->c[i]);
	out[0] = (char)(v >> 16);
	out[1] = (char)(v >> 8);
	out[2] = (char)v;
	luaL_addlstring(b, out, a->c[2] == '=' ? 1 : a->c[3] == '=' ? 2 : 3);
	a->n = 0;
}

typedef void (*put_fn)(unsigned char, struct atom *, luaL_Buffer *);

/* The shape b64 and unb64 share; (pad) codes what is held at the end. */
static int codec(lua_State *L, put_fn put, void (*pad)(struct atom *, luaL_Buffer *))
{
	size_t clen, dlen;
	const char *c = luaL_optlstring(L, 1, NULL, &clen);
	const char *d = luaL_optlstring(L, 2, NULL, &dlen);
	struct atom a = { .n = 0 };
	luaL_Buffer b;

	if (!c) {
		lua_pushnil(L);
		lua_pushnil(L);
		return 2;
	}
	lua_settop(L, 2);
	luaL_buffinit(L, &b);
	for (size_t i = 0; i < clen; i++)
		put((unsigned char)c[i], &a, &b);
	if (!d) {
		if (pad)
			pad(&a, &b);
		return push_end(L, &b);
	}
	for (size_t i = 0; i < dlen; i++)
		put((unsigned char)d[i], &a, &b);
	return push_more(L, &b, &a);
}

/* mime.b64(C [, D]) */
static int m_b64(lua_State *L)
{
	return codec(L, b64_put, b64_pad);
}

/* mime.unb64(C [, D]): an incomplete group at the end is dropped */
static int m_unb64(lua_State *L)
{
	return codec(L, unb64_put, NULL);
}

/* ---- Quoted-Printable (RFC 2045 6.7): a CR LF becomes the marker; '=',
 * controls and bytes over 126 are quoted; a space or tab is quoted only
 * before a line break (rule 3), so up to 3 bytes wait to be decided. */

enum { QP_PLAIN, QP_QUOTED, QP_CR, QP_IF_LAST };

static int qp_class(unsigned char c)
{
	if (c == '\r')
		return QP_CR;
	if (c == ' ' || c == '\t')
		return QP_IF_LAST;
	if (c >= 33 && c <= 126 && c != '=')
		return QP_PLAIN;
	return QP_QUOTED;
}

static void qp_quote(unsigned char c, luaL_Buffer *b)
{
	luaL_addchar(b, '=');
	luaL_addchar(b, hex_digits[c >> 4]);
	luaL_addchar(b, hex_digits[c & 15]);
}

static void shift(struct atom *a)
{
	memmove(a->c, a->c + 1, --a->n);
}

static void qp_put(unsigned char c, struct atom *a, luaL_Buffer *b,
		   const char *marker)
{
	a->c[a->n++] = c;
	while (a->n > 0) {
		switch (qp_class(a->c[0])) {
		case QP_CR:
			if (a->n < 2)
				return;
			if (a->c[1] == '\n') {
				luaL_addstring(b, marker);
				a->n = 0;
				return;
			}
			qp_quote(a->c[0], b);
			break;
		case QP_IF_LAST:
			if (a->n < 3)
				return;
			if (a->c[1] == '\r' && a->c[2] == '\n') {
				qp_quote(a->c[0], b);
				luaL_addstring(b, marker);
				a->n = 0;
				return;
			}
			luaL_addchar(b, (char)a->c[0]);
			break;
		case QP_QUOTED:
			qp_quote(a->c[0], b);
			break;
		default:
			luaL_addchar(b, (char)a->c[0]);
		}
		shift(a);
	}
}

/* The end of the stream: what is held is coded, then a soft line break
 * says no line break follows. */
static void qp_pad(struct atom *a, luaL_Buffer *b)
{
	for (size_t i = 0; i < a->n; i++) {
		if (qp_class(a->c[i]) == QP_PLAIN)
			luaL_addchar(b, (char)a->c[i]);
		else
			qp_quote(a->c[i], b);
	}
	if (a->n)
		luaL_addstring(b, EQCRLF);
	a->n = 0;
}

/* mime.qp(C [, D, marker]) */
static int m_qp(lua_State *L)
{
	size_t clen, dlen;
	const char *c = luaL_optlstring(L, 1, NULL, &clen);
	const char *d = luaL_optlstring(L, 2, NULL, &dlen);
	const char *marker = luaL_optstring(L, 3, CRLF);
	struct atom a = { .n = 0 };
	luaL_Buffer b;

	if (!c) {
		lua_pushnil(L);
		lua_pushnil(L);
		return 2;
	}
	lua_settop(L, 3);
	luaL_buffinit(L, &b);
	for (size_t i = 0; i < clen; i++)
		qp_put((unsigned char)c[i], &a, &b, marker);
	if (!d) {
		qp_pad(&a, &b);
		return push_end(L, &b);
	}
	for (size_t i = 0; i < dlen; i++)
		qp_put((unsigned char)d[i], &a, &b, marker);
	return push_more(L, &b, &a);
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decoding: "=XY" is a byte, "=" CR LF a soft line break; a CR LF stays;
 * other controls are dropped (RFC 2045 6.7, note 4); a bad "=" sequence
 * is kept as it is. */
static void unqp_put(unsigned char c, struct atom *a, luaL_Buffer *b)
{
	a->c[a->n++] = c;
	switch (a->c[0]) {
	case '=':
		if (a->n < 3)
			return;
		if (a->c[1] == '\r' && a->c[2] == '\n')
			break;
		if (hex_value(a->c[1]) < 0 || hex_value(a->c[2]) < 0)
			luaL_addlstring(b, (const char *)a->c, 3);
		else
			luaL_addchar(b, (char)(hex_value(a->c[1]) << 4 |
					       hex_value(a->c[2])));
		break;
	case '\r':
		if (a->n < 2)
			return;
		if (a->c[1] == '\n')
			luaL_addlstring(b, CRLF, 2);
		break;
	default:
		if (a->c[0] == '\t' || (a->c[0] >= 32 && a->c[0] <= 126))
			luaL_addchar(b, (char)a->c[0]);
	}
	a->n = 0;
}

/* mime.unqp(C [, D]): an incomplete sequence at the end is dropped */
static int m_unqp(lua_State *L)
{
	return codec(L, unqp_put, NULL);
}

/* ---- line wrapping. (left): room in the current line; returned updated. */

/* mime.wrp(n [, B, length]) */
static int m_wrp(lua_State *L)
{
	lua_Integer left = luaL_checkinteger(L, 1);
	size_t len;
	const char *s = luaL_optlstring(L, 2, NULL, &len);
	lua_Integer length = luaL_optinteger(L, 3, 76);
	luaL_Buffer b;

	if (!s) {
		if (left < length)
			lua_pushliteral(L, CRLF);
		else
			lua_pushnil(L);
		lua_pushinteger(L, length);
		return 2;
	}
	lua_settop(L, 3);
	luaL_buffinit(L, &b);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r')
			continue;
		if (s[i] == '\n') {
			luaL_addstring(&b, CRLF);
			left = length;
			continue;
		}
		if (left <= 0) {
			luaL_addstring(&b, CRLF);
			left = length;
		}
		luaL_addchar(&b, s[i]);
		left--;
	}
	luaL_pushresult(&b);
	lua_pushinteger(L, left);
	return 2;
}

/* mime.qpwrp(n [, B, length]): breaks with soft line breaks, never inside
 * an "=XY" sequence (RFC 2045 6.7 rule 5: lines of at most 76) */
static int m_qpwrp(lua_State *L)
{
	lua_Integer left = luaL_checkinteger(L, 1);
	size_t len;
	const char *s = luaL_optlstring(L, 2, NULL, &len);
	lua_Integer length = luaL_optinteger(L, 3, 76);
	luaL_Buffer b;

	if (!s) {
		if (left < length)
			lua_pushliteral(L, EQCRLF);
		else
			lua_pushnil(L);
		lua_pushinteger(L, length);
		return 2;
	}
	lua_settop(L, 3);
	luaL_buffinit(L, &b);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r')
			continue;
		if (s[i] == '\n') {
			luaL_addstring(&b, CRLF);
			left = length;
			continue;
		}
		if (left <= (s[i] == '=' ? 3 : 1)) {
			luaL_addstring(&b, EQCRLF);
			left = length;
		}
		luaL_addchar(&b, s[i]);
		left--;
	}
	luaL_pushresult(&b);
	lua_pushinteger(L, left);
	return 2;
}

/* ---- end-of-line normalisation: CR, LF, CR LF and LF CR each become one
 * marker; (C) is the last byte of the previous chunk when it was a CR or
 * LF that may pair with the next, else 0. */

static bool eol_char(int c)
{
	return c == '\r' || c == '\n';
}

/* mime.eol(C [, D, marker]) */
static int m_eol(lua_State *L)
{
	lua_Integer last = luaL_checkinteger(L, 1);
	size_t len;
	const char *s = luaL_optlstring(L, 2, NULL, &len);
	const char *marker = luaL_optstring(L, 3, CRLF);
	luaL_Buffer b;

	if (!s) {
		lua_pushnil(L);
		lua_pushinteger(L, 0);
		return 2;
	}
	lua_settop(L, 3);
	luaL_buffinit(L, &b);
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (!eol_char(c)) {
			luaL_addchar(&b, (char)c);
			last = 0;
		} else if (eol_char((int)last)) {
			if (c == last) /* CR CR or LF LF: a second line break */
				luaL_addstring(&b, marker);
			last = 0;
		} else {
			luaL_addstring(&b, marker);
			last = c;
		}
	}
	luaL_pushresult(&b);
	lua_pushinteger(L, last);
	return 2;
}

/* mime.dot(m [, B]): a '.' that starts a line is doubled; (m) counts the
 * bytes of CR LF seen at the end of the previous chunk (2 at the start of
 * a message, which begins a line) */
static int m_dot(lua_State *L)
{
	lua_Integer state = luaL_checkinteger(L, 1);
	size_t len;
	const char *s = luaL_optlstring(L, 2, NULL, &len);
	luaL_Buffer b;

	if (!s) {
		lua_pushnil(L);
		lua_pushinteger(L, 2);
		return 2;
	}
	lua_settop(L, 2);
	luaL_buffinit(L, &b);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		luaL_addchar(&b, c);
		if (c == '\r') {
			state = 1;
		} else if (c == '\n') {
			state = state == 1 ? 2 : 0;
		} else {
			if (c == '.' && state == 2)
				luaL_addchar(&b, '.');
			state = 0;
		}
	}
	luaL_pushresult(&b);
	lua_pushinteger(L, state);
	return 2;
}

static const luaL_Reg funcs[] = {
	{ "b64", m_b64 },
	{ "unb64", m_unb64 },
	{ "qp", m_qp },
	{ "unqp", m_unqp },
	{ "wrp", m_wrp },
	{ "qpwrp", m_qpwrp },
	{ "eol", m_eol },
	{ "dot", m_dot },
	{ NULL, NULL },
};

int luaopen_mime_core(lua_State *L)
{
	luaL_newlib(L, funcs);
	lua_pushliteral(L, "MIME 1.0.3");
	lua_setfield(L, -2, "_VERSION");
	return 1;
}

RT_MODULE("mime.core", luaopen_mime_core);
