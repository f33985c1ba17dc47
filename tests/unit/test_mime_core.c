/*
 * test_mime_core.c -- the mime.core module (bindings/mime_core.c) on a
 * host Lua: a table of calls and the values they return, shown as Lua
 * would print them quoted ('Zg==',nil). Base64 against RFC 4648 section
 * 10's vectors, Quoted-Printable against RFC 2045 6.7's rules, the
 * filters' chunking contract (held-back bytes, the end of the stream),
 * line wrapping, end-of-line normalisation and SMTP dot-stuffing.
 *
 * sources: bindings/mime_core.c
 * needs: lua
 */
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "check.h"

int luaopen_mime_core(lua_State *L);

static const struct {
	const char *call, *want;
} cases[] = {
	/* RFC 4648 section 10; the empty string gives nil, as LuaSocket's */
	{ "b64('')", "nil,nil" },
	{ "b64('f')", "'Zg==',nil" },
	{ "b64('fo')", "'Zm8=',nil" },
	{ "b64('foo')", "'Zm9v',nil" },
	{ "b64('foob')", "'Zm9vYg==',nil" },
	{ "b64('fooba')", "'Zm9vYmE=',nil" },
	{ "b64('foobar')", "'Zm9vYmFy',nil" },
	{ "b64('\\0\\255\\128\\1')", "'AP+AAQ==',nil" },
	{ "unb64('Zg==')", "'f',nil" },
	{ "unb64('Zm8=')", "'fo',nil" },
	{ "unb64('Zm9vYmFy')", "'foobar',nil" },
	{ "unb64('AP+AAQ==')", "'\\0\\255\\128\\1',nil" },
	{ "unb64('Zm9v\\r\\nYm Fy')", "'foobar',nil" },
	{ "unb64('Zm9vY')", "'foo',nil" },
	{ "unb64('')", "nil,nil" },
	/* chunks: what cannot be coded yet is handed back */
	{ "b64('fo', 'ob')", "'Zm9v','b'" },
	{ "b64('', 'f')", "'','f'" },
	{ "b64(nil)", "nil,nil" },
	{ "unb64('Zm9', 'vYg')", "'foo','Yg'" },
	{ "unb64(nil, 'x')", "nil,nil" },
	/* Quoted-Printable: '=' and 8-bit bytes quoted, CRLF kept, a space
	 * before a line break quoted, a soft break at the end */
	{ "qp('a=b')", "'a=3Db',nil" },
	{ "qp('caf\\233')", "'caf=E9',nil" },
	{ "qp('a b\\r\\nc')", "'a b\\r\\nc',nil" },
	{ "qp('a \\r\\nb')", "'a=20\\r\\nb',nil" },
	{ "qp('tab\\t\\r\\n')", "'tab=09\\r\\n',nil" },
	{ "qp('end ')", "'end=20=\\r\\n',nil" },
	{ "qp('x\\r\\ny', nil, '=0D=0A')", "'x=0D=0Ay',nil" },
	{ "qp('\\n')", "'=0A',nil" },
	{ "qp('\\r')", "'=0D=\\r\\n',nil" },
	{ "qp('ab ', '')", "'ab',' '" },
	{ "qp('a \\r', '\\nb')", "'a=20\\r\\nb',''" },
	{ "unqp('a=3Db')", "'a=b',nil" },
	{ "unqp('caf=E9')", "'caf\\233',nil" },
	{ "unqp('soft=\\r\\nbreak')", "'softbreak',nil" },
	{ "unqp('=4a=4A')", "'JJ',nil" },
	{ "unqp('=ZZ')", "'=ZZ',nil" },
	{ "unqp('a\\r\\nb')", "'a\\r\\nb',nil" },
	{ "unqp('\\1x\\127')", "'x',nil" },
	{ "unqp('a=', '3D')", "'a=',''" },
	{ "unqp('a=3')", "'a',nil" },
	/* wrapping: (left) bytes left in the line, then the new count */
	{ "wrp(4, 'abcdefghij', 4)", "'abcd\\r\\nefgh\\r\\nij',2" },
	{ "wrp(10, 'ab\\ncd', 10)", "'ab\\r\\ncd',8" },
	{ "wrp(10, 'ab\\r\\ncd', 10)", "'ab\\r\\ncd',8" },
	{ "wrp(76, nil)", "nil,76" },
	{ "wrp(3, nil)", "'\\r\\n',76" },
	{ "qpwrp(5, 'abc=3Dxyz', 5)", "'abc=\\r\\n=3Dx=\\r\\nyz',3" },
	{ "qpwrp(76, nil)", "nil,76" },
	{ "qpwrp(10, nil)", "'=\\r\\n',76" },
	/* end-of-line: CR, LF, CRLF and LFCR are one break; CRCR two */
	{ "eol(0, 'a\\nb\\rc\\r\\nd\\n\\re\\r\\rf')",
	  "'a\\r\\nb\\r\\nc\\r\\nd\\r\\ne\\r\\n\\r\\nf',0" },
	{ "eol(0, 'x\\n', '\\n')", "'x\\n',10" },
	{ "eol(0, 'a\\r')", "'a\\r\\n',13" },
	{ "eol(13, '\\nb')", "'b',0" },
	{ "eol(0, nil)", "nil,0" },
	/* dot-stuffing: a '.' at the start of a line is doubled */
	{ "dot(2, '.a\\r\\n.b\\r\\nc.')", "'..a\\r\\n..b\\r\\nc.',0" },
	{ "dot(0, 'x\\r')", "'x\\r',1" },
	{ "dot(1, '\\n.')", "'\\n..',0" },
	{ "dot(2, nil)", "nil,2" },
	{ "_VERSION", "'MIME 1.0.3'" },
};

/* Calls in the environment of mime.core's functions; the results are
 * shown quoted, bytes outside printable ASCII as \ddd. */
static const char prelude[] =
	"local mime, call = ...\n"
	"local function q(v)\n"
	"  if type(v) ~= 'string' then return tostring(v) end\n"
	"  return \"'\" .. v:gsub(\"[^ -&(-~]\", function(c)\n"
	"    local t = { ['\\r'] = '\\\\r', ['\\n'] = '\\\\n', ['\\t'] = '\\\\t' }\n"
	"    return t[c] or ('\\\\' .. c:byte()) end) .. \"'\"\n"
	"end\n"
	"local r = table.pack(load('return ' .. call, call, 't', mime)())\n"
	"local out = {}\n"
	"for i = 1, r.n do out[i] = q(r[i]) end\n"
	"return table.concat(out, ',')\n";

static const char *run(lua_State *L, const char *call)
{
	lua_settop(L, 0);
	if (luaL_loadstring(L, prelude) != LUA_OK)
		return lua_tostring(L, -1);
	lua_getglobal(L, "mime");
	lua_pushstring(L, call);
	if (lua_pcall(L, 2, 1, 0) != LUA_OK)
		return lua_tostring(L, -1);
	return lua_tostring(L, -1);
}

/* Misuse raises: a call that must fail. */
static int raises(lua_State *L, const char *call)
{
	lua_settop(L, 0);
	lua_getglobal(L, "mime");
	if (luaL_loadbufferx(L, call, strlen(call), call, "t") != LUA_OK)
		return 0;
	lua_pushvalue(L, 1);
	lua_setupvalue(L, -2, 1);
	return lua_pcall(L, 0, 0, 0) != LUA_OK;
}

int main(void)
{
	lua_State *L = luaL_newstate();

	luaL_openlibs(L);
	luaL_requiref(L, "mime.core", luaopen_mime_core, 0);
	lua_setglobal(L, "mime");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = run(L, cases[i].call);

		CHECK(got && strcmp(got, cases[i].want) == 0, "%s -> %s (got %s)",
		      cases[i].call, cases[i].want, got ? got : "(nothing)");
	}
	CHECK(raises(L, "wrp()"), "wrp() raises: the line count is needed");
	CHECK(raises(L, "eol('x')"), "eol('x') raises: the context is a number");
	CHECK(raises(L, "b64({})"), "b64({}) raises");
	CHECK(!raises(L, "b64('x')"), "b64('x') does not raise");
	lua_close(L);
	CHECK_EXIT();
}
