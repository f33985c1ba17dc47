/*
 * json_bench.c -- throughput of the json module on the host, beside
 * Debian's lua-cjson when it is installed, on the same Lua 5.4 (Debian's
 * liblua5.4, so both modules run on one optimised VM).
 *
 *   apt-get install liblua5.4-dev lua-cjson        (cjson is optional)
 *   cc -O2 -Iruntime -Ikernel -I/usr/include/lua5.4 -o build/json_bench \
 *      bench/json_bench.c bindings/json*.c -llua5.4 -lm
 *   build/json_bench [seconds per figure, default 1]
 *
 * The document is an API response of about 100 KB (230 user records) with
 * integers, floats, booleans, nulls, short and longer strings (some with
 * escapes and non-ASCII), nested objects and arrays. Figures are MB/s of
 * JSON text (10^6 bytes) per second of process CPU time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_json(lua_State *L);

static int cpu_seconds(lua_State *L)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
	return 1;
}

static const char bench_lua[] =
	"local budget = ...\n"
	"local json = require 'json'\n"
	"package.cpath = '/usr/lib/x86_64-linux-gnu/lua/5.4/?.so;' .. package.cpath\n"
	"local has_cjson, cjson = pcall(require, 'cjson')\n"
	"local words = {'alpha', 'beta', 'gamma', 'delta', 'Zürich', 'naïve café',\n"
	"  'quote \"x\"', 'tab\\tnewline\\n', 'a/b', '東京'}\n"
	"local function make(null)\n"
	"local users = {}\n"
	"for i = 1, 230 do\n"
	"  local w = words[i % #words + 1]\n"
	"  users[i] = {\n"
	"    id = i, uuid = string.format('%08x-%04x-4%03x', i * 2654435761 % 2^32, i, i),\n"
	"    name = 'User ' .. w .. ' ' .. i, email = 'user' .. i .. '@example.com',\n"
	"    active = i % 3 ~= 0, score = i * 1.37, balance = (i * 7919 % 100000) / 100,\n"
	"    created = '2024-03-' .. string.format('%02d', i % 28 + 1) .. 'T12:34:56Z',\n"
	"    tags = {w, 'tag' .. i % 7, 'tag' .. i % 11},\n"
	"    address = {street = i .. ' Main Street', city = w, zip = tostring(10000 + i),\n"
	"      geo = {lat = 47.0 + i / 997, lon = 8.0 + i / 991}},\n"
	"    manager = i % 5 == 0 and null or i - 1,\n"
	"    bio = ('Lorem ipsum dolor sit amet, ' .. w .. '. '):rep(i % 3 + 1),\n"
	"  }\n"
	"end\n"
	"return {data = users, page = 1, per_page = #users, total = 12345,\n"
	"  next = '/api/users?page=2'}\n"
	"end\n"
	"local doc = make(json.null)\n"
	"local text = json.encode(doc)\n"
	"local function rate(f, arg, bytes)\n"
	"  local n, t0 = 0, cpu_seconds()\n"
	"  repeat f(arg); n = n + 1 until cpu_seconds() - t0 >= budget\n"
	"  local dt = cpu_seconds() - t0\n"
	"  return bytes * n / dt / 1e6, dt / n * 1e6\n"
	"end\n"
	"local function row(name, enc, dec, doc)\n"
	"  local s = enc(doc)\n"
	"  local me, ue = rate(enc, doc, #s)\n"
	"  local md, ud = rate(dec, text, #text)\n"
	"  print(string.format('%-22s encode %7.1f MB/s (%6.0f us)   decode %7.1f MB/s (%6.0f us)',\n"
	"    name, me, ue, md, ud))\n"
	"end\n"
	"print(string.format('document: %d bytes, %d records', #text, #doc.data))\n"
	"row('lunik json', json.encode, json.decode, doc)\n"
	"row('lunik json sort_keys', function(v) return json.encode(v, {sort_keys = true}) end,\n"
	"  json.decode, doc)\n"
	"if has_cjson then\n"
	"  row('lua-cjson ' .. cjson._VERSION, cjson.encode, cjson.decode, make(cjson.null))\n"
	"else\n"
	"  print('lua-cjson: not installed (' .. tostring(cjson):match('[^\\n]*') .. ')')\n"
	"end\n";

int main(int argc, char **argv)
{
	lua_State *L = luaL_newstate();
	double budget = argc > 1 ? atof(argv[1]) : 1.0;

	luaL_openlibs(L);
	luaL_requiref(L, "json", luaopen_json, 0);
	lua_pop(L, 1);
	lua_register(L, "cpu_seconds", cpu_seconds);
	if (luaL_loadbuffer(L, bench_lua, sizeof(bench_lua) - 1, "=json_bench")) {
		fprintf(stderr, "json_bench: %s\n", lua_tostring(L, -1));
		return 1;
	}
	lua_pushnumber(L, budget > 0 ? budget : 1.0);
	if (lua_pcall(L, 1, 0, 0)) {
		fprintf(stderr, "json_bench: %s\n", lua_tostring(L, -1));
		return 1;
	}
	lua_close(L);
	return 0;
}
