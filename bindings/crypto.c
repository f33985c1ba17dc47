/*
 * crypto.c -- the `crypto` module: SHA-1/256/512 and HMAC over them
 * (mbedTLS), random bytes (the runtime's DRBG, rt_random), hex and base64
 * (crypto_codec.c), and constant-time comparison. docs/crypto.md is the
 * reference.
 *
 * Digests are raw binary strings; crypto.hex() turns them into text.
 * Misuse (wrong types, an unknown algorithm) raises; bad data to decode
 * and a machine without entropy return nil, err.
 */
#include <errno.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "crypto_codec.h"
#include "runtime.h"

#if !defined(LUNIK_MBEDTLS_CONFIG)
#error "mbedTLS headers without lunik's configuration (deps/mbedtls)"
#endif

#define HASH_MT "crypto.hash"

struct alg {
	const char *name;
	mbedtls_md_type_t type;
	size_t block; /* HMAC's block size: the length of its ipad and opad */
};

static const struct alg algs[] = {
	{ "sha1", MBEDTLS_MD_SHA1, 64 },
	{ "sha256", MBEDTLS_MD_SHA256, 64 },
	{ "sha512", MBEDTLS_MD_SHA512, 128 },
};

#define SHA1 (&algs[0])
#define SHA256 (&algs[1])
#define SHA512 (&algs[2])

#define BLOCK_MAX 128 /* the largest HMAC block (SHA-512's) */

/* A streaming hash or HMAC. (scratch) has the same set-up as (md), so
 * digest() finishes a copy and (md) can go on. An HMAC is built from the
 * plain hash as RFC 2104, section 2 says, (md) started with the key's
 * inner pad: mbedTLS's own HMAC context cannot be copied through its
 * public API (mbedtls_md_clone copies the hash state, not the pads). */
struct hash {
	mbedtls_md_context_t md, scratch;
	const struct alg *alg;
	int hmac;
	unsigned char ipad[BLOCK_MAX], opad[BLOCK_MAX]; /* HMAC: K ^ 0x36, 0x5c */
};

static const struct alg *check_alg(lua_State *L, int arg)
{
	const char *name = luaL_checkstring(L, arg);

	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(name, algs[i].name) == 0)
			return &algs[i];
	luaL_argerror(L, arg, lua_pushfstring(L, "unknown hash '%s' "
					      "(sha1, sha256, sha512)", name));
	return NULL;
}

static const mbedtls_md_info_t *md_info(const struct alg *alg)
{
	return mbedtls_md_info_from_type(alg->type);
}

/* Raises for an mbedTLS failure: only memory can fail here. */
static void check_md(lua_State *L, int ret)
{
	if (ret == MBEDTLS_ERR_MD_ALLOC_FAILED)
		luaL_error(L, "not enough memory");
	else if (ret != 0)
		luaL_error(L, "crypto: mbedTLS error -0x%04x", -ret);
}

/* ---- Streaming hashes and HMACs */

static struct hash *check_hash(lua_State *L)
{
	return luaL_checkudata(L, 1, HASH_MT);
}

/* Starts (h->md) afresh: empty, or after the inner pad of an HMAC. */
static void restart(lua_State *L, struct hash *h)
{
	check_md(L, mbedtls_md_starts(&h->md));
	if (h->hmac)
		check_md(L, mbedtls_md_update(&h->md, h->ipad, h->alg->block));
}

/* Pushes a new hash object of (alg), an HMAC keyed with (key) when
 * (hmac). The userdata is closed (both contexts empty) until set up, so
 * __gc is safe whatever fails. */
static int push_hash(lua_State *L, const struct alg *alg, int hmac,
		     const char *key, size_t keylen)
{
	struct hash *h = lua_newuserdatauv(L, sizeof(*h), 0);

	mbedtls_md_init(&h->md);
	mbedtls_md_init(&h->scratch);
	h->alg = alg;
	h->hmac = hmac;
	luaL_setmetatable(L, HASH_MT);
	check_md(L, mbedtls_md_setup(&h->md, md_info(alg), 0));
	check_md(L, mbedtls_md_setup(&h->scratch, md_info(alg), 0));
	if (hmac) {
		unsigned char k[BLOCK_MAX] = { 0 };

		if (keylen > alg->block) /* a long key is hashed first */
			check_md(L, mbedtls_md(md_info(alg),
					       (const unsigned char *)key, keylen, k));
		else
			memcpy(k, key, keylen);
		for (size_t i = 0; i < alg->block; i++) {
			h->ipad[i] = k[i] ^ 0x36;
			h->opad[i] = k[i] ^ 0x5c;
		}
		mbedtls_platform_zeroize(k, sizeof(k));
	}
	restart(L, h);
	return 1;
}

/* h:update(s) -> h */
static int m_update(lua_State *L)
{
	struct hash *h = check_hash(L);
	size_t len;
	const char *s = luaL_checklstring(L, 2, &len);
	const unsigned char *p = (const unsigned char *)s;

	check_md(L, mbedtls_md_update(&h->md, p, len));
	lua_settop(L, 1);
	return 1;
}

/* h:digest() -> the digest of everything given so far, binary; h can
 * still be updated */
static int m_digest(lua_State *L)
{
	struct hash *h = check_hash(L);
	unsigned char out[MBEDTLS_MD_MAX_SIZE];

	check_md(L, mbedtls_md_clone(&h->scratch, &h->md));
	check_md(L, mbedtls_md_finish(&h->scratch, out));
	if (h->hmac) { /* H(K ^ opad || H(K ^ ipad || text)) */
		check_md(L, mbedtls_md_starts(&h->scratch));
		check_md(L, mbedtls_md_update(&h->scratch, h->opad, h->alg->block));
		check_md(L, mbedtls_md_update(&h->scratch, out,
					      mbedtls_md_get_size(md_info(h->alg))));
		check_md(L, mbedtls_md_finish(&h->scratch, out));
	}
	lua_pushlstring(L, (const char *)out, mbedtls_md_get_size(md_info(h->alg)));
	return 1;
}

/* h:reset() -> h, as new (an HMAC keeps its key) */
static int m_reset(lua_State *L)
{
	struct hash *h = check_hash(L);

	restart(L, h);
	lua_settop(L, 1);
	return 1;
}

static int m_hash_tostring(lua_State *L)
{
	struct hash *h = check_hash(L);

	lua_pushfstring(L, HASH_MT " (%s%s): %p", h->hmac ? "hmac-" : "",
			h->alg->name, (void *)h);
	return 1;
}

static int m_hash_gc(lua_State *L)
{
	struct hash *h = check_hash(L);

	mbedtls_md_free(&h->md);
	mbedtls_md_free(&h->scratch);
	mbedtls_platform_zeroize(h->ipad, sizeof(h->ipad));
	mbedtls_platform_zeroize(h->opad, sizeof(h->opad));
	return 0;
}

/* ---- One-shot hashes and HMAC */

/* crypto.sha256(s) -> digest; crypto.sha256() -> a hash object */
static int hash_call(lua_State *L, const struct alg *alg)
{
	unsigned char out[MBEDTLS_MD_MAX_SIZE];
	size_t len;
	const char *s;

	if (lua_isnoneornil(L, 1))
		return push_hash(L, alg, 0, NULL, 0);
	s = luaL_checklstring(L, 1, &len);
	check_md(L, mbedtls_md(md_info(alg), (const unsigned char *)s, len, out));
	lua_pushlstring(L, (const char *)out, mbedtls_md_get_size(md_info(alg)));
	return 1;
}

static int m_sha1(lua_State *L)
{
	return hash_call(L, SHA1);
}

static int m_sha256(lua_State *L)
{
	return hash_call(L, SHA256);
}

static int m_sha512(lua_State *L)
{
	return hash_call(L, SHA512);
}

/* crypto.hmac(alg, key, msg) -> mac; crypto.hmac(alg, key) -> an HMAC
 * object */
static int m_hmac(lua_State *L)
{
	const struct alg *alg = check_alg(L, 1);
	size_t keylen, len;
	const char *key = luaL_checklstring(L, 2, &keylen);
	const char *msg;
	unsigned char out[MBEDTLS_MD_MAX_SIZE];

	if (lua_isnoneornil(L, 3))
		return push_hash(L, alg, 1, key, keylen);
	msg = luaL_checklstring(L, 3, &len);
	check_md(L, mbedtls_md_hmac(md_info(alg), (const unsigned char *)key,
				    keylen, (const unsigned char *)msg, len, out));
	lua_pushlstring(L, (const char *)out, mbedtls_md_get_size(md_info(alg)));
	return 1;
}

/* ---- Random bytes and comparison */

/* crypto.random(n) -> n random bytes, or nil, err without entropy */
static int m_random(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 1);
	luaL_Buffer b;
	char *p;
	int err;

	luaL_argcheck(L, n >= 0, 1, "negative length");
	p = luaL_buffinitsize(L, &b, (size_t)n);
	err = rt_random(p, (size_t)n);
	if (err) {
		luaL_pushfail(L);
		lua_pushstring(L, rt_random_strerror(err));
		return 2;
	}
	luaL_pushresultsize(&b, (size_t)n);
	return 1;
}

/* crypto.equal(a, b) -> whether the strings are equal, in time that
 * depends on their lengths only */
static int m_equal(lua_State *L)
{
	size_t la, lb;
	const char *a = luaL_checklstring(L, 1, &la);
	const char *b = luaL_checklstring(L, 2, &lb);

	lua_pushboolean(L, la == lb && mbedtls_ct_memcmp(a, b, la) == 0);
	return 1;
}

/* ---- Codecs */

/* nil, "invalid hex: bad character at 3" (positions count from 1) */
static int decode_fail(lua_State *L, const char *what, long err, size_t pos)
{
	luaL_pushfail(L);
	if (err == CRYPTO_CODEC_LENGTH)
		lua_pushfstring(L, "invalid %s: %s", what,
				crypto_codec_strerror((int)err));
	else
		lua_pushfstring(L, "invalid %s: %s at %I", what,
				crypto_codec_strerror((int)err),
				(lua_Integer)pos + 1);
	return 2;
}

/* crypto.hex(s) -> lowercase hex digits */
static int m_hex(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	luaL_Buffer b;
	char *p;

	luaL_argcheck(L, len <= ((size_t)-1) / 2, 1, "too long");
	p = luaL_buffinitsize(L, &b, 2 * len);
	crypto_hex_encode(p, (const unsigned char *)s, len);
	luaL_pushresultsize(&b, 2 * len);
	return 1;
}

/* crypto.unhex(s) -> bytes, or nil, err */
static int m_unhex(lua_State *L)
{
	size_t len, pos;
	const char *s = luaL_checklstring(L, 1, &len);
	luaL_Buffer b;
	char *p = luaL_buffinitsize(L, &b, len / 2);
	long n = crypto_hex_decode((unsigned char *)p, s, len, &pos);

	if (n < 0)
		return decode_fail(L, "hex", n, pos);
	luaL_pushresultsize(&b, (size_t)n);
	return 1;
}

static int opt_url(lua_State *L, int arg)
{
	luaL_argexpected(L, lua_isnoneornil(L, arg) || lua_isboolean(L, arg),
			 arg, "boolean");
	return lua_toboolean(L, arg);
}

/* crypto.base64(s [, url]) -> RFC 4648 base64 (padded), or base64url
 * (unpadded) when url */
static int m_base64(lua_State *L)
{
	size_t len, n;
	const char *s = luaL_checklstring(L, 1, &len);
	int url = opt_url(L, 2);
	luaL_Buffer b;
	char *p;

	luaL_argcheck(L, len <= ((size_t)-1) / 2, 1, "too long");
	p = luaL_buffinitsize(L, &b, crypto_base64_len(len, url));
	n = crypto_base64_encode(p, (const unsigned char *)s, len, url);
	luaL_pushresultsize(&b, n);
	return 1;
}

/* crypto.unbase64(s [, url]) -> bytes, or nil, err */
static int m_unbase64(lua_State *L)
{
	size_t len, pos;
	const char *s = luaL_checklstring(L, 1, &len);
	int url = opt_url(L, 2);
	luaL_Buffer b;
	char *p = luaL_buffinitsize(L, &b, (len + 3) / 4 * 3);
	long n = crypto_base64_decode((unsigned char *)p, s, len, url, &pos);

	if (n < 0)
		return decode_fail(L, url ? "base64url" : "base64", n, pos);
	luaL_pushresultsize(&b, (size_t)n);
	return 1;
}

static const luaL_Reg hash_methods[] = {
	{ "update", m_update },
	{ "digest", m_digest },
	{ "reset", m_reset },
	{ NULL, NULL },
};

static const luaL_Reg hash_meta[] = {
	{ "__tostring", m_hash_tostring },
	{ "__gc", m_hash_gc },
	{ NULL, NULL },
};

static const luaL_Reg funcs[] = {
	{ "sha1", m_sha1 },
	{ "sha256", m_sha256 },
	{ "sha512", m_sha512 },
	{ "hmac", m_hmac },
	{ "random", m_random },
	{ "equal", m_equal },
	{ "hex", m_hex },
	{ "unhex", m_unhex },
	{ "base64", m_base64 },
	{ "unbase64", m_unbase64 },
	{ NULL, NULL },
};

int luaopen_crypto(lua_State *L)
{
	luaL_newmetatable(L, HASH_MT);
	luaL_setfuncs(L, hash_meta, 0);
	luaL_newlib(L, hash_methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}

RT_MODULE("crypto", luaopen_crypto);
