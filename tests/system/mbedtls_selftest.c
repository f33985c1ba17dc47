/*
 * mbedtls_selftest.c -- a test-only Lua module ("mbedtls_selftest") linked
 * into test images with `lunik build --link`: runs mbedTLS's own
 * self-tests for every algorithm lunik's configuration enables, and shows
 * how mbedTLS judges a certificate's validity dates against the guest's
 * clock. A normal image never carries the self-tests: they are only
 * linked when referenced, and only this object references them.
 *
 *   mbedtls_selftest.run() -> { {name=, ok=}, ... } in the order of
 *       mbedTLS's programs/test/selftest.c
 *   mbedtls_selftest.cert_dates(pem) -> { from=, to=, expired=,
 *       not_yet_valid= }, or nil, err when pem does not parse
 */
#include <stdio.h>

#include <lauxlib.h>
#include <lua.h>

#include <mbedtls/aes.h>
#include <mbedtls/base64.h>
#include <mbedtls/bignum.h>
#include <mbedtls/chacha20.h>
#include <mbedtls/chachapoly.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hmac_drbg.h>
#include <mbedtls/poly1305.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

#include "runtime.h"

#if !defined(LUNIK_MBEDTLS_CONFIG) || !defined(MBEDTLS_SELF_TEST)
#error "needs lunik's mbedTLS configuration, with MBEDTLS_SELF_TEST"
#endif

static const struct {
	const char *name;
	int (*fn)(int verbose);
} tests[] = {
	{ "sha1", mbedtls_sha1_self_test },
	{ "sha256", mbedtls_sha256_self_test },
	{ "sha384", mbedtls_sha384_self_test },
	{ "sha512", mbedtls_sha512_self_test },
	{ "aes", mbedtls_aes_self_test },
	{ "gcm", mbedtls_gcm_self_test },
	{ "chacha20", mbedtls_chacha20_self_test },
	{ "poly1305", mbedtls_poly1305_self_test },
	{ "chacha20-poly1305", mbedtls_chachapoly_self_test },
	{ "base64", mbedtls_base64_self_test },
	{ "mpi", mbedtls_mpi_self_test },
	{ "rsa", mbedtls_rsa_self_test },
	{ "ctr_drbg", mbedtls_ctr_drbg_self_test },
	{ "hmac_drbg", mbedtls_hmac_drbg_self_test },
	{ "ecp", mbedtls_ecp_self_test },
	{ "entropy", mbedtls_entropy_self_test },
};

static int m_run(lua_State *L)
{
	int n = (int)(sizeof(tests) / sizeof(tests[0]));

	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		lua_createtable(L, 0, 2);
		lua_pushstring(L, tests[i].name);
		lua_setfield(L, -2, "name");
		lua_pushboolean(L, tests[i].fn(0) == 0);
		lua_setfield(L, -2, "ok");
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static void push_time(lua_State *L, const mbedtls_x509_time *t)
{
	lua_pushfstring(L, "%d-%s%d-%s%d %s%d:%s%d:%s%d", t->year,
			t->mon < 10 ? "0" : "", t->mon, t->day < 10 ? "0" : "",
			t->day, t->hour < 10 ? "0" : "", t->hour,
			t->min < 10 ? "0" : "", t->min, t->sec < 10 ? "0" : "",
			t->sec);
}

static int m_cert_dates(lua_State *L)
{
	size_t len;
	const char *pem = luaL_checklstring(L, 1, &len);
	mbedtls_x509_crt crt;
	char msg[128];
	int ret;

	mbedtls_x509_crt_init(&crt);
	/* PEM input is parsed with its terminating NUL counted */
	ret = mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, len + 1);
	if (ret != 0) {
		mbedtls_x509_crt_free(&crt);
		mbedtls_strerror(ret, msg, sizeof(msg));
		luaL_pushfail(L);
		lua_pushstring(L, msg);
		return 2;
	}
	lua_createtable(L, 0, 4);
	push_time(L, &crt.valid_from);
	lua_setfield(L, -2, "from");
	push_time(L, &crt.valid_to);
	lua_setfield(L, -2, "to");
	lua_pushboolean(L, mbedtls_x509_time_is_past(&crt.valid_to));
	lua_setfield(L, -2, "expired");
	lua_pushboolean(L, mbedtls_x509_time_is_future(&crt.valid_from));
	lua_setfield(L, -2, "not_yet_valid");
	mbedtls_x509_crt_free(&crt);
	return 1;
}

static const luaL_Reg funcs[] = {
	{ "run", m_run },
	{ "cert_dates", m_cert_dates },
	{ NULL, NULL },
};

static int luaopen_mbedtls_selftest(lua_State *L)
{
	luaL_newlib(L, funcs);
	return 1;
}

RT_MODULE("mbedtls_selftest", luaopen_mbedtls_selftest);
