/*
 * tls.c -- the `tls` module: TLS 1.3 and 1.2 contexts for servers and
 * clients over mbedTLS 3.6 (deps/mbedtls/lunik_mbedtls_config.h fixes what
 * is offered: ECDHE with AEAD suites only). Connections live in tls_conn.c
 * and tls_io.c; docs/tls.md is the reference.
 *
 *   tls.server{cert=, key= [, alpn=] [, sni={[name]={cert=, key=}}]
 *              [, min_version=] [, max_version=]} -> ctx
 *   tls.client{ca= [, verify=] [, server_name=] [, alpn=]
 *              [, min_version=] [, max_version=]} -> ctx
 *   tls.wrap(conn, ctx [, server_name]) -> tls conn
 *   tls.connect(host, port, ctx [, timeout]) -> tls conn, handshaken
 *   tls.stats() -> {handshakes = {{version=, result=, count=}, ...}}
 *
 * Certificates and keys are PEM text, or paths of files in the image
 * (PEM or DER); ca = "system" is the bundle `lunik build --ca-bundle`
 * packed at CA_BUNDLE. Bad ones, and a machine without entropy, return
 * nil, err; misuse (a wrong type, an unknown option) raises.
 *
 * A context offers TLS 1.2 and 1.3 and prefers 1.3; min_version and
 * max_version ("1.2" or "1.3") narrow that. A server context issues
 * session tickets for both versions (mbedtls_ssl_ticket, AES-256-GCM keys
 * from the runtime's DRBG, rotated every TICKET_LIFETIME); a client
 * context remembers the last session of each "name:port" it talked to (a
 * TLS 1.2 session after its handshake, a TLS 1.3 ticket when it arrives),
 * up to TLS_SESSIONS of them, and offers it on the next connection there.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/error.h>

#include "net.h"
#include "tls.h"

#define CA_BUNDLE ".lunik/ca-bundle.pem" /* tools/lunik's --ca-bundle */
#define TLS_SESSIONS 32
#define TICKET_LIFETIME 86400 /* s: mbedTLS's recommended default */
#define ALPN_MAX 16

struct tls_sni {
	char *name;		/* lower case; "*.example.com" for a wildcard */
	mbedtls_x509_crt cert;
	mbedtls_pk_context key;
};

struct tls_session {
	char *peer;		/* NULL: a free slot */
	mbedtls_ssl_session s;
	unsigned long used;
};

/* ---- loading certificates and keys */

/* Pushes the text of the certificate or key at (idx): the string itself
 * when it holds PEM, else the content of the image file it names. Returns
 * the bytes and, in (*len), the length mbedTLS wants (PEM counts its
 * terminating NUL, which Lua strings have); or NULL with an error
 * message pushed instead. */
static const unsigned char *load(lua_State *L, int idx, const char *what,
				 size_t *len)
{
	const char *s = lua_tolstring(L, idx, len);
	char name[512];
	struct rom_file f;
	int n;

	if (strstr(s, "-----BEGIN")) {
		lua_pushvalue(L, idx);
		(*len)++;
		return (const unsigned char *)s;
	}
	n = rt_path_to_rom(s, name, sizeof(name));
	if (n < 0 || rom_find(&rt_rom, name, (size_t)n, &f) != ROM_OK) {
		lua_pushfstring(L, "bad %s: '%s' is neither PEM text nor a file "
				"in the image", what, s);
		return NULL;
	}
	lua_pushlstring(L, (const char *)f.data, f.size);
	s = lua_tolstring(L, -1, len);
	if (strstr(s, "-----BEGIN"))
		(*len)++;
	return (const unsigned char *)s;
}

/* Pushes "(what): (mbedTLS's reason)". */
static void push_mbedtls_error(lua_State *L, const char *what, int ret)
{
	char buf[128];

	lua_pushfstring(L, "%s: %s", what, tls_strerror(ret, buf, sizeof(buf)));
}

/* Parses the certificate (chain) at (idx) into (crt). Returns true, or
 * false with an error message pushed. A (bundle) may have certificates
 * mbedTLS cannot read (they are skipped) as long as one is good. */
static bool parse_cert(lua_State *L, int idx, mbedtls_x509_crt *crt,
		       const char *what, bool bundle)
{
	size_t len;
	const unsigned char *p = load(L, idx, what, &len);
	int ret;

	if (!p)
		return false;
	ret = mbedtls_x509_crt_parse(crt, p, len);
	lua_pop(L, 1);
	if (ret < 0) {
		push_mbedtls_error(L, lua_pushfstring(L, "bad %s", what), ret);
		lua_remove(L, -2);
		return false;
	}
	if (ret > 0 && !bundle) {
		lua_pushfstring(L, "bad %s: %d of its certificates could not be "
				"parsed", what, ret);
		return false;
	}
	return true;
}

static bool parse_key(lua_State *L, int idx, mbedtls_pk_context *pk)
{
	size_t len;
	const unsigned char *p = load(L, idx, "key", &len);
	int ret;

	if (!p)
		return false;
	ret = mbedtls_pk_parse_key(pk, p, len, NULL, 0, rt_random_mbedtls, NULL);
	lua_pop(L, 1);
	if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED) {
		lua_pushliteral(L, "bad key: encrypted keys are not supported");
		return false;
	}
	if (ret != 0) {
		push_mbedtls_error(L, "bad key", ret);
		return false;
	}
	return true;
}

/* Loads cert= and key= of the table at (tbl) and checks they belong
 * together. Returns true, or false with an error message pushed. */
static bool load_pair(lua_State *L, int tbl, mbedtls_x509_crt *crt,
		      mbedtls_pk_context *pk)
{
	bool ok;

	lua_getfield(L, tbl, "cert");
	lua_getfield(L, tbl, "key");
	if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "cert and key are required, as PEM text or paths");
	ok = parse_cert(L, -2, crt, "certificate", false) &&
	     parse_key(L, -1, pk);
	if (ok && mbedtls_pk_check_pair(&crt->pk, pk, rt_random_mbedtls, NULL) != 0) {
		lua_pushliteral(L, "key does not match certificate");
		ok = false;
	}
	if (!ok)
		lua_replace(L, -3);
	lua_pop(L, ok ? 2 : 1);
	return ok;
}

/* ---- contexts */

struct tls_ctx *tls_check_ctx(lua_State *L, int idx)
{
	struct tls_ctx *x = luaL_checkudata(L, idx, TLS_CTX_MT);

	luaL_argcheck(L, x->ready, idx, "an unfinished tls context");
	return x;
}

/* Raises for a key of the options table at 1 that is not in (known). */
static void check_options(lua_State *L, const char *const *known,
			  const char *list)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING
					? lua_tostring(L, -2) : NULL;
		int i = 0;

		while (k && known[i] && strcmp(k, known[i]) != 0)
			i++;
		if (!k || !known[i])
			luaL_error(L, "unknown tls option '%s' (%s)",
				   k ? k : luaL_typename(L, -2), list);
		lua_pop(L, 1);
	}
}

/* Pushes a new, empty context: everything initialised, so __gc can free
 * it whatever fails later. */
static struct tls_ctx *new_ctx(lua_State *L, bool server)
{
	struct tls_ctx *x = lua_newuserdatauv(L, sizeof(*x), 0);

	memset(x, 0, sizeof(*x));
	mbedtls_ssl_config_init(&x->conf);
	mbedtls_x509_crt_init(&x->ca);
	mbedtls_x509_crt_init(&x->cert);
	mbedtls_pk_init(&x->key);
	mbedtls_ssl_ticket_init(&x->ticket);
	x->server = server;
	luaL_setmetatable(L, TLS_CTX_MT);
	return x;
}

/* The key exchange groups, most preferred first (docs/bench.md measures
 * the choice). The list also bounds the curves of EC keys accepted in
 * certificates and the TLS 1.3 key shares a client sends (the first). */
static const uint16_t tls_groups[] = {
	MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
	MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_NONE,
};

/* The TLS version named by the option (name) in the table at 1, or (def)
 * when it is absent; misuse raises. */
static mbedtls_ssl_protocol_version check_version(lua_State *L,
						  const char *name,
						  mbedtls_ssl_protocol_version def)
{
	const char *v;

	lua_getfield(L, 1, name);
	v = lua_tostring(L, -1);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return def;
	}
	if (lua_type(L, -1) != LUA_TSTRING || (strcmp(v, "1.2") && strcmp(v, "1.3")))
		luaL_error(L, "%s must be \"1.2\" or \"1.3\"", name);
	lua_pop(L, 1);
	return v[2] == '2' ? MBEDTLS_SSL_VERSION_TLS1_2 : MBEDTLS_SSL_VERSION_TLS1_3;
}

/* The common part of both kinds: defaults, randomness, versions, groups.
 * Returns NULL, or why it failed. */
static const char *setup_conf(lua_State *L, struct tls_ctx *x)
{
	unsigned char probe;
	mbedtls_ssl_protocol_version min, max;
	const char *why;
	int err;

	min = check_version(L, "min_version", MBEDTLS_SSL_VERSION_TLS1_2);
	max = check_version(L, "max_version", MBEDTLS_SSL_VERSION_TLS1_3);
	if (min > max)
		luaL_error(L, "min_version is above max_version");
	if ((why = rt_crypto_start()))
		return why;
	if ((err = rt_random(&probe, 1)))
		return rt_random_strerror(err);
	if (mbedtls_ssl_config_defaults(&x->conf, x->server ? MBEDTLS_SSL_IS_SERVER
							     : MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT) != 0)
		return "out of memory";
	mbedtls_ssl_conf_rng(&x->conf, rt_random_mbedtls, NULL);
	mbedtls_ssl_conf_min_tls_version(&x->conf, min);
	mbedtls_ssl_conf_max_tls_version(&x->conf, max);
	mbedtls_ssl_conf_groups(&x->conf, tls_groups);
	return NULL;
}

/* alpn = "proto" or { "proto", ... } in the options table at 1. */
static void set_alpn(lua_State *L, struct tls_ctx *x)
{
	size_t n;

	lua_getfield(L, 1, "alpn");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	if (lua_type(L, -1) == LUA_TSTRING) {
		lua_createtable(L, 1, 0);
		lua_insert(L, -2);
		lua_rawseti(L, -2, 1);
	}
	if (lua_type(L, -1) != LUA_TTABLE)
		luaL_error(L, "alpn must be a protocol name or a list of them");
	n = lua_rawlen(L, -1);
	if (n < 1 || n > ALPN_MAX)
		luaL_error(L, "alpn must list 1 to %d protocols", ALPN_MAX);
	x->alpn = calloc(n + 1, sizeof(*x->alpn));
	if (!x->alpn)
		luaL_error(L, "not enough memory");
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *p;

		lua_rawgeti(L, -1, (lua_Integer)i + 1);
		p = lua_tolstring(L, -1, &len);
		if (lua_type(L, -1) != LUA_TSTRING || len < 1 || len > 255)
			luaL_error(L, "alpn protocol names are strings of 1 "
				      "to 255 bytes");
		x->alpn[i] = strdup(p);
		if (!x->alpn[i])
			luaL_error(L, "not enough memory");
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	mbedtls_ssl_conf_alpn_protocols(&x->conf, (const char **)x->alpn);
}

/* sni = { [name] = {cert=, key=}, ... } in the options table at 1.
 * Returns true, or false with an error message pushed. */
static bool set_sni(lua_State *L, struct tls_ctx *x)
{
	size_t n = 0;

	lua_getfield(L, 1, "sni");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return true;
	}
	luaL_argcheck(L, lua_type(L, -1) == LUA_TTABLE, 1,
		      "sni must be a table of name = {cert=, key=}");
	for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1))
		n++;
	x->sni = calloc(n ? n : 1, sizeof(*x->sni));
	if (!x->sni)
		luaL_error(L, "not enough memory");
	for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
		struct tls_sni *e = &x->sni[x->nsni++];
		const char *name;

		mbedtls_x509_crt_init(&e->cert);
		mbedtls_pk_init(&e->key);
		if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TTABLE)
			luaL_error(L, "sni must be a table of name = {cert=, key=}");
		name = lua_tostring(L, -2);
		e->name = strdup(name);
		if (!e->name)
			luaL_error(L, "not enough memory");
		for (char *c = e->name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (!load_pair(L, lua_gettop(L), &e->cert, &e->key)) {
			lua_pushfstring(L, "sni '%s': %s", name, lua_tostring(L, -1));
			return false;
		}
	}
	lua_pop(L, 1);
	return true;
}

/* Returns nil, (the message at the top). */
static int fail_top(lua_State *L)
{
	luaL_pushfail(L);
	lua_insert(L, -2);
	return 2;
}

/* tls.server{cert=, key= [, alpn=] [, sni=] [, min_version=] [, max_version=]} -> ctx */
static int l_server(lua_State *L)
{
	static const char *const opts[] = { "cert", "key", "alpn", "sni",
					    "min_version", "max_version", NULL };
	struct tls_ctx *x;
	const char *err;

	check_options(L, opts, "cert, key, alpn, sni, min_version, max_version");
	lua_settop(L, 1);
	x = new_ctx(L, true);
	if ((err = setup_conf(L, x)))
		return net_fail(L, err);
	if (!load_pair(L, 1, &x->cert, &x->key))
		return fail_top(L);
	if (mbedtls_ssl_conf_own_cert(&x->conf, &x->cert, &x->key) != 0)
		return net_fail(L, "out of memory");
	mbedtls_ssl_conf_authmode(&x->conf, MBEDTLS_SSL_VERIFY_NONE);
	set_alpn(L, x);
	if (!set_sni(L, x))
		return fail_top(L);
	mbedtls_ssl_conf_sni(&x->conf, tls_sni_pick, x); /* for conn:sni() too */
	if (mbedtls_ssl_ticket_setup(&x->ticket, rt_random_mbedtls, NULL,
				     MBEDTLS_CIPHER_AES_256_GCM,
				     TICKET_LIFETIME) != 0)
		return net_fail(L, "cannot set up session tickets");
	mbedtls_ssl_conf_session_tickets_cb(&x->conf, mbedtls_ssl_ticket_write,
					    mbedtls_ssl_ticket_parse, &x->ticket);
	x->ready = true;
	lua_settop(L, 2);
	return 1;
}

/* ca = PEM, a path, or "system"; into (x->ca). */
static bool load_ca(lua_State *L, int idx, struct tls_ctx *x)
{
	struct rom_file f;

	if (strcmp(lua_tostring(L, idx), "system") != 0)
		return parse_cert(L, idx, &x->ca, "CA certificate", false);
	if (rom_find(&rt_rom, CA_BUNDLE, strlen(CA_BUNDLE), &f) != ROM_OK) {
		lua_pushliteral(L, "ca = \"system\": this image has no CA bundle "
				   "(build it with lunik build --ca-bundle FILE)");
		return false;
	}
	lua_pushliteral(L, "/" CA_BUNDLE);
	lua_replace(L, idx);
	return parse_cert(L, idx, &x->ca, "CA bundle", true);
}

/* tls.client{ca= [, verify=true] [, server_name=] [, alpn=]} -> ctx */
static int l_client(lua_State *L)
{
	static const char *const opts[] = { "ca", "verify", "server_name",
					    "alpn", "min_version", "max_version",
					    NULL };
	struct tls_ctx *x;
	const char *err;

	check_options(L, opts, "ca, verify, server_name, alpn, min_version, "
			       "max_version");
	lua_settop(L, 1);
	lua_getfield(L, 1, "ca");		/* 2 */
	lua_getfield(L, 1, "verify");		/* 3 */
	lua_getfield(L, 1, "server_name");	/* 4 */
	luaL_argcheck(L, lua_isnil(L, 2) || lua_type(L, 2) == LUA_TSTRING, 1,
		      "ca must be PEM text, a path or \"system\"");
	luaL_argcheck(L, lua_isnil(L, 3) || lua_isboolean(L, 3), 1,
		      "verify must be a boolean");
	luaL_argcheck(L, lua_isnil(L, 4) || lua_type(L, 4) == LUA_TSTRING, 1,
		      "server_name must be a string");
	x = new_ctx(L, false);			/* 5 */
	x->verify = lua_isnil(L, 3) || lua_toboolean(L, 3);
	if (x->verify && lua_isnil(L, 2))
		luaL_error(L, "tls.client needs ca= (PEM, a path or \"system\"), "
			      "or verify = false");
	if ((err = setup_conf(L, x)))
		return net_fail(L, err);
	if (!lua_isnil(L, 2) && !load_ca(L, 2, x))
		return fail_top(L);
	mbedtls_ssl_conf_ca_chain(&x->conf, &x->ca, NULL);
	mbedtls_ssl_conf_authmode(&x->conf, x->verify ? MBEDTLS_SSL_VERIFY_REQUIRED
						       : MBEDTLS_SSL_VERIFY_NONE);
	if (!lua_isnil(L, 4) && !(x->server_name = strdup(lua_tostring(L, 4))))
		luaL_error(L, "not enough memory");
	set_alpn(L, x);
	/* TLS 1.3 tickets come after the handshake: tls_io.c saves them */
	mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
		&x->conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
	x->sessions = calloc(TLS_SESSIONS, sizeof(*x->sessions));
	if (!x->sessions)
		luaL_error(L, "not enough memory");
	x->ready = true;
	lua_settop(L, 5);
	return 1;
}

static int m_ctx_gc(lua_State *L)
{
	struct tls_ctx *x = luaL_checkudata(L, 1, TLS_CTX_MT);

	x->ready = false;
	mbedtls_ssl_config_free(&x->conf);
	mbedtls_x509_crt_free(&x->ca);
	mbedtls_x509_crt_free(&x->cert);
	mbedtls_pk_free(&x->key);
	mbedtls_ssl_ticket_free(&x->ticket);
	for (size_t i = 0; i < x->nsni; i++) {
		free(x->sni[i].name);
		mbedtls_x509_crt_free(&x->sni[i].cert);
		mbedtls_pk_free(&x->sni[i].key);
	}
	free(x->sni);
	x->sni = NULL;
	x->nsni = 0;
	for (char **p = x->alpn; p && *p; p++)
		free(*p);
	free(x->alpn);
	x->alpn = NULL;
	for (int i = 0; x->sessions && i < TLS_SESSIONS; i++)
		tls_session_drop(x, x->sessions[i].peer);
	free(x->sessions);
	x->sessions = NULL;
	free(x->server_name);
	x->server_name = NULL;
	return 0;
}

static int m_ctx_tostring(lua_State *L)
{
	struct tls_ctx *x = luaL_checkudata(L, 1, TLS_CTX_MT);

	lua_pushfstring(L, "tls %s context: %p", x->server ? "server" : "client",
			(void *)x);
	return 1;
}

/* ---- SNI */

/* Whether (name) of (len) bytes matches (pat): equal ignoring case, or
 * "*.rest" matching one more label in front of "rest". */
static bool name_matches(const char *pat, const char *name, size_t len)
{
	if (pat[0] == '*' && pat[1] == '.') {
		const char *dot = memchr(name, '.', len);

		if (!dot || dot == name)
			return false;
		len -= (size_t)(dot - name);
		name = dot;
		pat++;
	}
	return strlen(pat) == len && strncasecmp(pat, name, len) == 0;
}

int tls_sni_pick(void *p, mbedtls_ssl_context *ssl, const unsigned char *name,
		 size_t len)
{
	struct tls_ctx *x = p;
	struct tls_conn *t = (struct tls_conn *)ssl; /* ssl is its first member */
	const char *n = (const char *)name;

	free(t->sni);
	t->sni = malloc(len + 1);
	if (t->sni) {
		memcpy(t->sni, name, len);
		t->sni[len] = '\0';
	}
	for (int pass = 0; pass < 2; pass++) /* exact names before wildcards */
		for (size_t i = 0; i < x->nsni; i++)
			if ((x->sni[i].name[0] == '*') == pass &&
			    name_matches(x->sni[i].name, n, len))
				return mbedtls_ssl_set_hs_own_cert(
					ssl, &x->sni[i].cert, &x->sni[i].key);
	return 0; /* the default certificate */
}

/* ---- the client's session cache */

static struct tls_session *session_slot(struct tls_ctx *x, const char *peer)
{
	for (int i = 0; x->sessions && i < TLS_SESSIONS; i++)
		if (x->sessions[i].peer && strcmp(x->sessions[i].peer, peer) == 0)
			return &x->sessions[i];
	return NULL;
}

const mbedtls_ssl_session *tls_session_find(struct tls_ctx *x, const char *peer)
{
	struct tls_session *e = session_slot(x, peer);

	if (!e)
		return NULL;
	e->used = ++x->clock;
	return &e->s;
}

void tls_session_drop(struct tls_ctx *x, const char *peer)
{
	struct tls_session *e = peer ? session_slot(x, peer) : NULL;

	if (!e)
		return;
	mbedtls_ssl_session_free(&e->s);
	free(e->peer);
	e->peer = NULL;
}

void tls_session_save(struct tls_ctx *x, const char *peer,
		      const mbedtls_ssl_context *ssl)
{
	struct tls_session *e = NULL;

	if (!x->sessions)
		return;
	tls_session_drop(x, peer);
	for (int i = 0; i < TLS_SESSIONS; i++) /* a free slot, or the LRU */
		if (!e || !x->sessions[i].peer ||
		    (e->peer && x->sessions[i].used < e->used))
			e = &x->sessions[i];
	tls_session_drop(x, e->peer);
	mbedtls_ssl_session_init(&e->s);
	e->peer = strdup(peer);
	if (!e->peer)
		return;
	if (mbedtls_ssl_get_session(ssl, &e->s) != 0) {
		tls_session_drop(x, peer);
		return;
	}
	e->used = ++x->clock;
}

/* ---- errors */

const char *tls_strerror(int ret, char *buf, size_t size)
{
	switch (ret) {
	case MBEDTLS_ERR_SSL_ALLOC_FAILED:
	case MBEDTLS_ERR_X509_ALLOC_FAILED:
	case MBEDTLS_ERR_PK_ALLOC_FAILED:
		return "out of memory";
	case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
		return "no cipher suite or group in common";
	case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
		return "unsupported protocol version";
	case MBEDTLS_ERR_SSL_DECODE_ERROR:
		return "bad handshake message";
	case MBEDTLS_ERR_SSL_INVALID_RECORD:
		return "invalid record";
	case MBEDTLS_ERR_SSL_INVALID_MAC:
		return "bad record MAC";
	case MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE:
		return "unexpected message";
	}
	mbedtls_strerror(ret, buf, size);
	return buf;
}

/* tls.stats() -> {handshakes = {{version=, result=, count=}, ...}}: the
 * handshakes ended since boot, one entry per version ("1.2", "1.3",
 * "unknown") and result ("full", "resumed", "failed") seen. */
static int l_stats(lua_State *L)
{
	static const char *const versions[] = { "1.2", "1.3", "unknown" };
	static const char *const results[] = { "full", "resumed", "failed" };
	int n = 0;

	lua_createtable(L, 0, 1);
	lua_newtable(L);
	for (int v = 0; v < TLS_NVERSIONS; v++)
		for (int r = 0; r < TLS_NRESULTS; r++) {
			if (!tls_handshakes[v][r])
				continue;
			lua_createtable(L, 0, 3);
			lua_pushstring(L, versions[v]);
			lua_setfield(L, -2, "version");
			lua_pushstring(L, results[r]);
			lua_setfield(L, -2, "result");
			lua_pushinteger(L, (lua_Integer)tls_handshakes[v][r]);
			lua_setfield(L, -2, "count");
			lua_rawseti(L, -2, ++n);
		}
	lua_setfield(L, -2, "handshakes");
	return 1;
}

static const luaL_Reg funcs[] = {
	{ "server", l_server },
	{ "stats", l_stats },
	{ "client", l_client },
	{ "wrap", tls_wrap },
	{ "connect", tls_connect },
	{ NULL, NULL },
};

int luaopen_tls(lua_State *L)
{
	/* connections are net.tcp objects underneath: net's metatables
	 * must exist even if the app never required net itself */
	lua_getglobal(L, "require");
	lua_pushliteral(L, "net");
	lua_call(L, 1, 0);
	luaL_newmetatable(L, TLS_CTX_MT);
	lua_pushcfunction(L, m_ctx_gc);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, m_ctx_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
	tls_conn_open(L);
	luaL_newlib(L, funcs);
	return 1;
}

RT_MODULE("tls", luaopen_tls);
