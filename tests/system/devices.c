/*
 * devices.c -- a test-only Lua module ("devtest") linked into test images
 * with `lunik build --link`: the raw device seam of kernel/platform.h
 * (plat_net_*, plat_blk_*, plat_random, plat_power_button) as Lua functions, so the system
 * tests (suite_devices.py) can drive the virtio drivers without lwIP or
 * the blk binding. Never part of a normal image.
 *
 * Failures come back as nil plus the errno's name ("EINVAL", "EROFS"),
 * taken from newlib's <errno.h>: a test that expects "EROFS" also proves
 * the kernel's numbering matches the C library's. Waits halt the CPU
 * through plat_wait() and end with nil, "timeout".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "runtime.h"

#define FRAME_MAX 2048
#define TIMEOUT_S 10.0

static int fail(lua_State *L, int rc)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
		{ EIO, "EIO" }, { EAGAIN, "EAGAIN" }, { EBUSY, "EBUSY" },
		{ ENODEV, "ENODEV" }, { EINVAL, "EINVAL" }, { EROFS, "EROFS" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { EMSGSIZE, "EMSGSIZE" },
	};

	lua_pushnil(L);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (-rc == names[i].e) {
			lua_pushstring(L, names[i].name);
			return 2;
		}
	lua_pushfstring(L, "errno %d", -rc);
	return 2;
}

static uint64_t deadline(lua_State *L, int arg)
{
	double s = luaL_optnumber(L, arg, TIMEOUT_S);

	return plat_monotonic_ns() + (uint64_t)(s * 1e9);
}

static unsigned devno(lua_State *L, int arg)
{
	lua_Integer d = luaL_optinteger(L, arg, 0);

	luaL_argcheck(L, d >= 0 && d < 64, arg, "device number out of range");
	return (unsigned)d;
}

/* devtest.net_info([dev]) -> "52:54:00:12:34:56", mtu | nil, err */
static int m_net_info(lua_State *L)
{
	struct plat_net_info info;
	int rc = plat_net_info(devno(L, 1), &info);
	const uint8_t *m = info.mac;
	char mac[18];

	if (rc)
		return fail(L, rc);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
		 m[2], m[3], m[4], m[5]);
	lua_pushstring(L, mac);
	lua_pushinteger(L, info.mtu);
	return 2;
}

/* devtest.net_send(dev, frame [, wait]) -> true, eagains | nil, err.
 * With wait, -EAGAIN halts until the device makes room (up to 10 s). */
static int m_net_send(lua_State *L)
{
	unsigned dev = devno(L, 1);
	struct plat_iov iov[2];
	size_t len;
	lua_Integer eagains = 0;
	uint64_t until = plat_monotonic_ns() + (uint64_t)(TIMEOUT_S * 1e9);
	int rc;

	iov[0].base = luaL_checklstring(L, 2, &len);
	/* Two pieces, to exercise the gather. */
	iov[0].len = len / 2;
	iov[1].base = (const char *)iov[0].base + len / 2;
	iov[1].len = len - len / 2;
	while ((rc = plat_net_send(dev, iov, 2)) == -EAGAIN && lua_toboolean(L, 3)) {
		eagains++;
		if (plat_monotonic_ns() >= until)
			break;
		plat_wait(until);
	}
	if (rc)
		return fail(L, rc);
	lua_pushboolean(L, 1);
	lua_pushinteger(L, eagains);
	return 2;
}

/* devtest.net_recv(dev [, timeout [, size]]) -> frame | nil, err.
 * Receives until a frame arrives or the timeout (default 10 s) passes. */
static int m_net_recv(lua_State *L)
{
	unsigned dev = devno(L, 1);
	uint64_t until = deadline(L, 2);
	lua_Integer size = luaL_optinteger(L, 3, FRAME_MAX);
	char buf[FRAME_MAX];
	int rc;

	luaL_argcheck(L, size >= 0 && size <= FRAME_MAX, 3, "size out of range");
	while ((rc = plat_net_recv(dev, buf, (size_t)size)) == 0) {
		if (plat_monotonic_ns() >= until) {
			lua_pushnil(L);
			lua_pushliteral(L, "timeout");
			return 2;
		}
		plat_wait(until);
	}
	if (rc < 0)
		return fail(L, rc);
	lua_pushlstring(L, buf, (size_t)rc);
	return 1;
}

/* devtest.blk_info(dev) -> { sectors=, sector_size=, readonly= } | nil, err */
static int m_blk_info(lua_State *L)
{
	struct plat_blk_info info;
	int rc = plat_blk_info(devno(L, 1), &info);

	if (rc)
		return fail(L, rc);
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, (lua_Integer)info.sectors);
	lua_setfield(L, -2, "sectors");
	lua_pushinteger(L, info.sector_size);
	lua_setfield(L, -2, "sector_size");
	lua_pushboolean(L, info.readonly);
	lua_setfield(L, -2, "readonly");
	return 1;
}

/* Submits one request and polls until its tag completes; returns the
 * submit error or the completion status. */
static int blk_sync(unsigned dev, int op, uint64_t sector, uint32_t count,
		    void *buf)
{
	uintptr_t tag = (uintptr_t)buf ^ 0x5a5a, got;
	uint64_t until = plat_monotonic_ns() + (uint64_t)(TIMEOUT_S * 1e9);
	int rc = plat_blk_submit(dev, op, sector, count, buf, tag), status;

	if (rc)
		return rc;
	while ((rc = plat_blk_poll(dev, &got, &status)) == 0) {
		if (plat_monotonic_ns() >= until)
			return -ETIMEDOUT;
		plat_wait(until);
	}
	if (rc < 0)
		return rc;
	return got == tag ? status : -EPROTO;
}

static int sync_result(lua_State *L, int rc)
{
	if (rc == -ETIMEDOUT) {
		lua_pushnil(L);
		lua_pushliteral(L, "timeout");
		return 2;
	}
	if (rc == -EPROTO)
		return luaL_error(L, "a completion came back with the wrong tag");
	if (rc)
		return fail(L, rc);
	lua_pushboolean(L, 1);
	return 1;
}

static uint32_t sector_size(unsigned dev)
{
	struct plat_blk_info info;

	return plat_blk_info(dev, &info) ? 512 : info.sector_size;
}

/* devtest.blk_read(dev, sector, count) -> data | nil, err */
static int m_blk_read(lua_State *L)
{
	unsigned dev = devno(L, 1);
	lua_Integer sector = luaL_checkinteger(L, 2);
	lua_Integer count = luaL_checkinteger(L, 3);
	size_t bytes = (size_t)count * sector_size(dev);
	char *buf;
	int rc;

	luaL_argcheck(L, sector >= 0, 2, "negative sector");
	luaL_argcheck(L, count >= 0 && count <= 1 << 20, 3, "count out of range");
	if (!(buf = malloc(bytes ? bytes : 1)))
		return luaL_error(L, "out of memory");
	rc = blk_sync(dev, PLAT_BLK_READ, (uint64_t)sector, (uint32_t)count, buf);
	if (rc == 0)
		lua_pushlstring(L, buf, bytes);
	if (rc != -ETIMEDOUT) /* else the device may still write into it */
		free(buf);
	return rc == 0 ? 1 : sync_result(L, rc);
}

/* devtest.blk_write(dev, sector, data) -> true | nil, err; data is a
 * whole number of sectors */
static int m_blk_write(lua_State *L)
{
	unsigned dev = devno(L, 1);
	lua_Integer sector = luaL_checkinteger(L, 2);
	size_t len;
	const char *data = luaL_checklstring(L, 3, &len);
	uint32_t ss = sector_size(dev);
	char *buf;
	int rc;

	luaL_argcheck(L, sector >= 0, 2, "negative sector");
	luaL_argcheck(L, len % ss == 0, 3, "not a whole number of sectors");
	if (!(buf = malloc(len ? len : 1)))
		return luaL_error(L, "out of memory");
	memcpy(buf, data, len);
	rc = blk_sync(dev, PLAT_BLK_WRITE, (uint64_t)sector, (uint32_t)(len / ss), buf);
	free(buf);
	return sync_result(L, rc);
}

/* devtest.blk_flush(dev) -> true | nil, err */
static int m_blk_flush(lua_State *L)
{
	return sync_result(L, blk_sync(devno(L, 1), PLAT_BLK_FLUSH, 0, 0, NULL));
}

/* devtest.blk_op(dev, op, sector, count) -> the submit result as a name
 * ("ok" or "EINVAL"), for refusals; an accepted request is waited for. */
static int m_blk_op(lua_State *L)
{
	unsigned dev = devno(L, 1);
	int op = (int)luaL_checkinteger(L, 2);
	lua_Integer sector = luaL_checkinteger(L, 3);
	lua_Integer count = luaL_checkinteger(L, 4);
	char *buf = calloc(1, 1 << 20);
	int rc;

	luaL_argcheck(L, count >= 0 && (size_t)count * sector_size(dev) <= 1 << 20,
		      4, "count out of range");
	if (!buf)
		return luaL_error(L, "out of memory");
	rc = blk_sync(dev, op, (uint64_t)sector, (uint32_t)count, buf);
	if (rc != -ETIMEDOUT)
		free(buf);
	if (rc == 0) {
		lua_pushliteral(L, "ok");
		return 1;
	}
	sync_result(L, rc);
	return 1;
}

struct many {
	lua_Integer inflight, eagain, dup, unknown, errors;
};

/* Queues (n) one-sector requests (op) from sector (first), tag 1000 + i,
 * without polling until the queue refuses one (-EAGAIN), then takes one
 * completion at a time; checks each tag comes back exactly once. */
static int many_pass(unsigned dev, int op, uint64_t first, size_t n,
		     char *area, uint32_t ss, char *seen, struct many *m)
{
	uint64_t until = plat_monotonic_ns() + (uint64_t)(TIMEOUT_S * 1e9);
	size_t submitted = 0, completed = 0, inflight = 0;

	memset(seen, 0, n);
	while (completed < n) {
		uintptr_t tag;
		int rc, status;

		if (submitted < n) {
			rc = plat_blk_submit(dev, op, first + submitted, 1,
					     area + submitted * ss, 1000 + submitted);
			if (rc == 0) {
				submitted++;
				if (++inflight > (size_t)m->inflight)
					m->inflight = (lua_Integer)inflight;
				continue;
			}
			if (rc != -EAGAIN)
				return rc;
			m->eagain++;
		}
		rc = plat_blk_poll(dev, &tag, &status);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			if (tag < 1000 || tag - 1000 >= n) {
				m->unknown++;
				continue;
			}
			if (seen[tag - 1000]++)
				m->dup++;
			if (status)
				m->errors++;
			completed++;
			inflight--;
		} else if (plat_monotonic_ns() >= until) {
			return -ETIMEDOUT;
		} else {
			plat_wait(until);
		}
	}
	return 0;
}

static void set(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

/* devtest.blk_many(dev, first, n) -> { inflight=, eagain=, dup=,
 * unknown=, errors=, mismatches= } | nil, err: writes n sectors with
 * distinct patterns, all in flight at once as far as the queue allows,
 * reads them back the same way, and compares. */
static int m_blk_many(lua_State *L)
{
	unsigned dev = devno(L, 1);
	lua_Integer first = luaL_checkinteger(L, 2);
	lua_Integer n = luaL_checkinteger(L, 3);
	uint32_t ss = sector_size(dev);
	struct many m = { 0 };
	lua_Integer mismatches = 0;
	char *area, *seen;
	int rc;

	luaL_argcheck(L, first >= 0, 2, "negative sector");
	luaL_argcheck(L, n > 0 && n <= 4096, 3, "count out of range");
	area = malloc((size_t)n * ss * 2);
	seen = malloc((size_t)n);
	if (!area || !seen) {
		free(area);
		free(seen);
		return luaL_error(L, "out of memory");
	}
	for (size_t i = 0; i < (size_t)n * ss; i++)
		area[i] = (char)(i / ss * 7 + i % ss * 13 + 1);
	memset(area + (size_t)n * ss, 0, (size_t)n * ss);
	rc = many_pass(dev, PLAT_BLK_WRITE, (uint64_t)first, (size_t)n, area,
		       ss, seen, &m);
	if (rc == 0)
		rc = many_pass(dev, PLAT_BLK_READ, (uint64_t)first, (size_t)n,
			       area + (size_t)n * ss, ss, seen, &m);
	for (size_t i = 0; rc == 0 && i < (size_t)n; i++)
		mismatches += memcmp(area + i * ss, area + ((size_t)n + i) * ss, ss) != 0;
	free(area);
	free(seen);
	if (rc)
		return sync_result(L, rc);
	lua_createtable(L, 0, 6);
	set(L, "inflight", m.inflight);
	set(L, "eagain", m.eagain);
	set(L, "dup", m.dup);
	set(L, "unknown", m.unknown);
	set(L, "errors", m.errors);
	set(L, "mismatches", mismatches);
	return 1;
}

/* devtest.blk_two(dev_a, dev_b, sector, data) -> true | nil, err: the
 * same write queued on two devices before either is polled. */
static int m_blk_two(lua_State *L)
{
	unsigned dev[2] = { devno(L, 1), devno(L, 2) };
	lua_Integer sector = luaL_checkinteger(L, 3);
	size_t len;
	const char *data = luaL_checklstring(L, 4, &len);
	uint64_t until = plat_monotonic_ns() + (uint64_t)(TIMEOUT_S * 1e9);
	bool done[2] = { false, false };
	char *buf;
	int rc = 0;

	luaL_argcheck(L, dev[0] != dev[1], 2, "two different devices");
	luaL_argcheck(L, len && len % sector_size(dev[0]) == 0 &&
			 len % sector_size(dev[1]) == 0, 4,
		      "not a whole number of sectors");
	if (!(buf = malloc(len)))
		return luaL_error(L, "out of memory");
	memcpy(buf, data, len);
	for (int i = 0; i < 2 && rc == 0; i++)
		rc = plat_blk_submit(dev[i], PLAT_BLK_WRITE, (uint64_t)sector,
				     (uint32_t)(len / sector_size(dev[i])), buf,
				     (uintptr_t)(77 + i));
	while (rc == 0 && !(done[0] && done[1])) {
		bool any = false;

		for (int i = 0; i < 2 && rc == 0; i++) {
			uintptr_t tag;
			int status, r = plat_blk_poll(dev[i], &tag, &status);

			if (r < 0 || (r == 1 && tag != (uintptr_t)(77 + i)))
				rc = r < 0 ? r : -EPROTO;
			else if (r == 1)
				rc = status, done[i] = any = true;
		}
		if (rc == 0 && !any) {
			if (plat_monotonic_ns() >= until)
				rc = -ETIMEDOUT;
			else
				plat_wait(until);
		}
	}
	free(buf);
	return sync_result(L, rc);
}

/* devtest.random(n [, timeout]) -> n bytes | nil, err */
static int m_random(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 1);
	uint64_t until = deadline(L, 2);
	luaL_Buffer b;
	char *p;
	size_t done = 0;

	luaL_argcheck(L, n >= 0 && n <= 1 << 16, 1, "size out of range");
	p = luaL_buffinitsize(L, &b, (size_t)n);
	while (done < (size_t)n) {
		long got = plat_random(p + done, (size_t)n - done);

		if (got < 0)
			return fail(L, (int)got);
		done += (size_t)got;
		if (done < (size_t)n) {
			if (plat_monotonic_ns() >= until) {
				lua_pushnil(L);
				lua_pushliteral(L, "timeout");
				return 2;
			}
			plat_wait(until);
		}
	}
	luaL_pushresultsize(&b, (size_t)n);
	return 1;
}

/* devtest.power_button([timeout]) -> true | nil, "timeout": waits in
 * plat_wait() for a press of the ACPI power button (plat_power_button);
 * a timeout of 0 only looks. */
static int m_power_button(lua_State *L)
{
	uint64_t until = deadline(L, 1);

	while (!plat_power_button()) {
		if (plat_monotonic_ns() >= until) {
			lua_pushnil(L);
			lua_pushliteral(L, "timeout");
			return 2;
		}
		plat_wait(until);
	}
	lua_pushboolean(L, 1);
	return 1;
}

static const luaL_Reg funcs[] = {
	{ "net_info", m_net_info },
	{ "net_send", m_net_send },
	{ "net_recv", m_net_recv },
	{ "blk_info", m_blk_info },
	{ "blk_read", m_blk_read },
	{ "blk_write", m_blk_write },
	{ "blk_flush", m_blk_flush },
	{ "blk_op", m_blk_op },
	{ "blk_many", m_blk_many },
	{ "blk_two", m_blk_two },
	{ "random", m_random },
	{ "power_button", m_power_button },
	{ NULL, NULL },
};

static int luaopen_devtest(lua_State *L)
{
	luaL_newlib(L, funcs);
	lua_pushinteger(L, PLAT_BLK_READ);
	lua_setfield(L, -2, "READ");
	lua_pushinteger(L, PLAT_BLK_WRITE);
	lua_setfield(L, -2, "WRITE");
	lua_pushinteger(L, PLAT_BLK_FLUSH);
	lua_setfield(L, -2, "FLUSH");
	lua_pushinteger(L, PLAT_BLK_MAX_BYTES);
	lua_setfield(L, -2, "BLK_MAX_BYTES");
	return 1;
}

RT_MODULE("devtest", luaopen_devtest);
