/*
 * kvcodec.c -- the `kvcodec` module: the hot loops of stdlib/kv.lua.
 *
 * CRC-32C, encoding and decoding of kv log records (docs/kv-format.md,
 * version 1), the scan that rebuilds the index on open, and byte-order
 * sorting of keys. No I/O and no yielding: kv.lua reads and writes the
 * device and hands buffers here. Pure C over Lua's API, so the host unit
 * tests link it as it is (tests/unit/test_kv.c).
 *
 * A record: a 24-byte little-endian header, the key, the value.
 *   0 crc u32   CRC-32C of bytes 4.. of the record, seeded with the
 *               store's salt (so records of another store never check)
 *   4 seq u64   one more than the record before it in the log
 *  12 gen u32   the generation that wrote it; never decreases along a log
 *  16 vlen u32  value length (0 for a delete)
 *  20 klen u16  key length, 1..KV_KEY_MAX
 *  22 type u8   1 set, 2 delete
 *  23 flags u8  bit 0: commit (the last record of an atomic group)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "runtime.h"

#define HDR 24
#define KEY_MAX 1024
#define VAL_MAX (1024 * 1024)
#define T_SET 1
#define T_DEL 2
#define F_COMMIT 1

static uint32_t crc_table[8][256];

/* Slicing-by-8 tables for the reflected Castagnoli polynomial (RFC 3720,
 * appendix B.4), built once; constant afterwards. */
static void crc_init(void)
{
	if (crc_table[0][1])
		return;
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[0][n] = c;
	}
	for (uint32_t n = 0; n < 256; n++)
		for (int t = 1; t < 8; t++)
			crc_table[t][n] = (crc_table[t - 1][n] >> 8) ^
					  crc_table[0][crc_table[t - 1][n] & 0xff];
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void wr64(unsigned char *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

/* CRC-32C of (len) bytes at (p), continuing from (seed) (0 to start). */
static uint32_t crc32c(uint32_t seed, const unsigned char *p, size_t len)
{
	uint32_t c = ~seed;

	while (len && ((uintptr_t)p & 7)) {
		c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
		len--;
	}
	while (len >= 8) {
		uint32_t lo = c ^ rd32(p), hi = rd32(p + 4);
		c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		    crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		    crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		    crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

static uint32_t check_u32(lua_State *L, int arg)
{
	lua_Integer v = luaL_checkinteger(L, arg);
	luaL_argcheck(L, v >= 0 && v <= 0xffffffff, arg, "not a u32");
	return (uint32_t)v;
}

/* kvcodec.crc32c(s [, seed]) -> CRC-32C of s, continuing from seed */
static int m_crc32c(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	uint32_t seed = (uint32_t)luaL_optinteger(L, 2, 0);

	lua_pushinteger(L, crc32c(seed, (const unsigned char *)s, len));
	return 1;
}

/* kvcodec.encode(salt, seq, gen, type, flags, key [, value]) -> record */
static int m_encode(lua_State *L)
{
	uint32_t salt = check_u32(L, 1);
	lua_Integer seq = luaL_checkinteger(L, 2);
	uint32_t gen = check_u32(L, 3);
	lua_Integer type = luaL_checkinteger(L, 4);
	lua_Integer flags = luaL_checkinteger(L, 5);
	size_t klen, vlen = 0;
	const char *k = luaL_checklstring(L, 6, &klen);
	const char *v = luaL_optlstring(L, 7, "", &vlen);
	luaL_Buffer b;
	unsigned char *p;

	luaL_argcheck(L, type == T_SET || type == T_DEL, 4, "bad type");
	luaL_argcheck(L, klen >= 1 && klen <= KEY_MAX, 6, "bad key length");
	luaL_argcheck(L, vlen <= VAL_MAX && (type == T_SET || !vlen), 7,
		      "bad value length");
	p = (unsigned char *)luaL_buffinitsize(L, &b, HDR + klen + vlen);
	wr64(p + 4, (uint64_t)seq);
	wr32(p + 12, gen);
	wr32(p + 16, (uint32_t)vlen);
	p[20] = (unsigned char)klen;
	p[21] = (unsigned char)(klen >> 8);
	p[22] = (unsigned char)type;
	p[23] = (unsigned char)flags;
	memcpy(p + HDR, k, klen);
	memcpy(p + HDR + klen, v, vlen);
	wr32(p, crc32c(salt, p + 4, HDR - 4 + klen + vlen));
	luaL_pushresultsize(&b, HDR + klen + vlen);
	return 1;
}

/* Checks the header at (p), (avail) bytes readable, against the (seq) and
 * (mingen) the log expects. Returns the record's length, 0 when it is not
 * the next record, or -1 when it may be but more bytes are needed. */
static long header_ok(const unsigned char *p, size_t avail, uint64_t seq,
		      uint32_t mingen)
{
	uint32_t klen, vlen;

	if (avail < HDR)
		return -1;
	klen = (uint32_t)p[20] | (uint32_t)p[21] << 8;
	vlen = rd32(p + 16);
	if (rd64(p + 4) != seq || rd32(p + 12) < mingen || klen < 1 ||
	    klen > KEY_MAX || vlen > VAL_MAX || (p[23] & ~F_COMMIT) ||
	    (p[22] != T_SET && (p[22] != T_DEL || vlen)))
		return 0;
	if (avail < HDR + klen + vlen)
		return -1;
	return (long)(HDR + klen + vlen);
}

/* kvcodec.scan(buf, pos, salt, seq, mingen, out) -> n, pos, seq, gen, more
 * Decodes the records that follow each other from byte pos (0-based) of
 * buf: each must check, carry the expected seq (then seq + 1, ...) and a
 * gen no lower than the one before (from mingen). Sets four values per
 * record in out[1 .. 4n] (what is past them is left as it was): key,
 * type | flags << 8, its position, its length.
 * Returns the count, where decoding stopped, the next expected seq, the
 * last gen, and whether it stopped only because buf ended (true: read
 * more and scan again from pos) rather than at something that is not the
 * next record (false: the log ends there). */
static int m_scan(lua_State *L)
{
	size_t len;
	const unsigned char *buf =
		(const unsigned char *)luaL_checklstring(L, 1, &len);
	lua_Integer pos = luaL_checkinteger(L, 2);
	uint32_t salt = check_u32(L, 3);
	uint64_t seq = (uint64_t)luaL_checkinteger(L, 4);
	uint32_t gen = check_u32(L, 5);
	lua_Integer n = 0, t = 0;
	int more = 0;

	luaL_checktype(L, 6, LUA_TTABLE);
	luaL_argcheck(L, pos >= 0 && (size_t)pos <= len, 2, "out of range");
	for (;;) {
		const unsigned char *p = buf + pos;
		long rl = header_ok(p, len - (size_t)pos, seq, gen);
		if (rl <= 0) {
			more = rl < 0;
			break;
		}
		if (crc32c(salt, p + 4, (size_t)rl - 4) != rd32(p))
			break;
		lua_pushlstring(L, (const char *)p + HDR,
				(size_t)p[20] | (size_t)p[21] << 8);
		lua_rawseti(L, 6, ++t);
		lua_pushinteger(L, p[22] | p[23] << 8);
		lua_rawseti(L, 6, ++t);
		lua_pushinteger(L, pos);
		lua_rawseti(L, 6, ++t);
		lua_pushinteger(L, rl);
		lua_rawseti(L, 6, ++t);
		gen = rd32(p + 12);
		seq++;
		n++;
		pos += rl;
	}
	lua_pushinteger(L, n);
	lua_pushinteger(L, pos);
	lua_pushinteger(L, (lua_Integer)seq);
	lua_pushinteger(L, gen);
	lua_pushboolean(L, more);
	return 5;
}

/* Checks the whole record of (len) bytes at byte (pos) of the string at
 * (arg) with (salt); returns a pointer to it or raises nothing and returns
 * NULL when it does not check. */
static const unsigned char *whole_record(lua_State *L, int arg, lua_Integer pos,
					 lua_Integer len, uint32_t salt)
{
	size_t blen;
	const unsigned char *p =
		(const unsigned char *)luaL_checklstring(L, arg, &blen);
	uint32_t klen, vlen;

	if (pos < 0 || len < HDR || (size_t)pos > blen ||
	    (size_t)len > blen - (size_t)pos)
		return NULL;
	p += pos;
	klen = (uint32_t)p[20] | (uint32_t)p[21] << 8;
	vlen = rd32(p + 16);
	if ((lua_Integer)(HDR + klen + vlen) != len ||
	    crc32c(salt, p + 4, (size_t)len - 4) != rd32(p))
		return NULL;
	return p;
}

/* kvcodec.value(buf, pos, len, salt, key) -> value of the set record of
 * len bytes at byte pos of buf, or nil when it does not check or is not
 * a set of key */
static int m_value(lua_State *L)
{
	lua_Integer pos = luaL_checkinteger(L, 2), len = luaL_checkinteger(L, 3);
	uint32_t salt = check_u32(L, 4);
	size_t klen;
	const char *key = luaL_checklstring(L, 5, &klen);
	const unsigned char *p = whole_record(L, 1, pos, len, salt);

	if (!p || p[22] != T_SET || ((size_t)p[20] | (size_t)p[21] << 8) != klen ||
	    memcmp(p + HDR, key, klen) != 0) {
		lua_pushnil(L);
		return 1;
	}
	lua_pushlstring(L, (const char *)p + HDR + klen, rd32(p + 16));
	return 1;
}

/* kvcodec.reseal(buf, pos, len, salt, seq, gen) -> a copy of the record of
 * len bytes at byte pos of buf with a new seq and gen, committed, checked
 * anew; nil when the original does not check */
static int m_reseal(lua_State *L)
{
	lua_Integer pos = luaL_checkinteger(L, 2), len = luaL_checkinteger(L, 3);
	uint32_t salt = check_u32(L, 4);
	lua_Integer seq = luaL_checkinteger(L, 5);
	uint32_t gen = check_u32(L, 6);
	const unsigned char *p = whole_record(L, 1, pos, len, salt);
	luaL_Buffer b;
	unsigned char *q;

	if (!p) {
		lua_pushnil(L);
		return 1;
	}
	q = (unsigned char *)luaL_buffinitsize(L, &b, (size_t)len);
	memcpy(q, p, (size_t)len);
	wr64(q + 4, (uint64_t)seq);
	wr32(q + 12, gen);
	q[23] = F_COMMIT;
	wr32(q, crc32c(salt, q + 4, (size_t)len - 4));
	luaL_pushresultsize(&b, (size_t)len);
	return 1;
}

struct item {
	const char *s;
	size_t len;
	lua_Integer at;
};

static int bytecmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int item_cmp(const void *x, const void *y)
{
	const struct item *a = x, *b = y;
	return bytecmp(a->s, a->len, b->s, b->len);
}

/* kvcodec.sort(list) -> a new list of the strings of list in byte order */
static int m_sort(lua_State *L)
{
	lua_Integer n = (lua_Integer)luaL_len(L, 1);
	struct item *v;

	luaL_checktype(L, 1, LUA_TTABLE);
	v = lua_newuserdatauv(L, sizeof(*v) * (size_t)(n ? n : 1), 0);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, 1, i);
		v[i - 1].s = luaL_checklstring(L, -1, &v[i - 1].len);
		v[i - 1].at = i;
		lua_pop(L, 1); /* list still holds it */
	}
	qsort(v, (size_t)n, sizeof(*v), item_cmp);
	lua_createtable(L, (int)n, 0);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, 1, v[i - 1].at);
		lua_rawseti(L, -2, i);
	}
	return 1;
}

/* kvcodec.search(list, s) -> the first index i of the sorted list with
 * list[i] >= s in byte order, #list + 1 when there is none */
static int m_search(lua_State *L)
{
	size_t slen;
	const char *s = luaL_checklstring(L, 2, &slen);
	lua_Integer lo = 1, hi = (lua_Integer)luaL_len(L, 1) + 1;

	while (lo < hi) {
		lua_Integer mid = lo + (hi - lo) / 2;
		size_t mlen;
		const char *m;
		lua_rawgeti(L, 1, mid);
		m = luaL_checklstring(L, -1, &mlen);
		if (bytecmp(m, mlen, s, slen) < 0)
			lo = mid + 1;
		else
			hi = mid;
		lua_pop(L, 1);
	}
	lua_pushinteger(L, lo);
	return 1;
}

static const luaL_Reg funcs[] = {
	{ "crc32c", m_crc32c }, { "encode", m_encode }, { "scan", m_scan },
	{ "value", m_value },	{ "reseal", m_reseal }, { "sort", m_sort },
	{ "search", m_search }, { NULL, NULL },
};

int luaopen_kvcodec(lua_State *L)
{
	crc_init();
	luaL_newlib(L, funcs);
	lua_pushinteger(L, HDR);
	lua_setfield(L, -2, "HEADER");
	lua_pushinteger(L, KEY_MAX);
	lua_setfield(L, -2, "KEY_MAX");
	lua_pushinteger(L, VAL_MAX);
	lua_setfield(L, -2, "VALUE_MAX");
	return 1;
}

RT_MODULE("kvcodec", luaopen_kvcodec);
