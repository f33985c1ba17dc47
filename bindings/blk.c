/*
 * blk.c -- the `blk` module: the machine's block devices, sector by sector.
 *
 *   blk.devices() -> { {name=, sectors=, sector_size=, readonly=}, ... }
 *   blk.open([name or index]) -> dev       (default: the first; index from 1)
 *   dev:read(sector, count) -> string      dev:write(sector, data) -> true
 *   dev:flush() -> true                    dev:info() -> {name=, ...}
 *
 * Failures return nil and "out of range", "read-only", "i/o error", "not
 * supported" or "no such device". A call queues its requests with the
 * platform and yields the task until they complete, so other tasks run
 * while the disk works; requests over PLAT_BLK_MAX_BYTES are split and
 * all queued at once. A write has reached the device when it returns; it
 * is durable once a later flush returns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "runtime.h"

#define DEV_MT "blk.dev"
#define MAX_DEVS 16

/* One Lua call: its pieces in flight and the first error among them. */
struct req {
	int op;
	unsigned dev;
	uint64_t sector;
	uint32_t count, chunk;	/* sectors in all, per piece */
	uint32_t submitted;	/* sectors queued so far */
	unsigned pending;	/* pieces queued, not completed */
	int status;
	char *buf;
	struct rt_waitq wq;
};

struct dev {
	unsigned index;
	struct plat_blk_info info;
};

static struct rt_waitq room[MAX_DEVS]; /* waiting for the queue to drain */
static unsigned in_flight;

static void poll_devices(void)
{
	if (!in_flight)
		return;
	for (unsigned d = 0; d < MAX_DEVS; d++) {
		uintptr_t tag;
		int status, r;

		while ((r = plat_blk_poll(d, &tag, &status)) == 1) {
			struct req *q = (struct req *)tag;

			in_flight--;
			if (status && !q->status)
				q->status = status;
			if (--q->pending == 0)
				rt_wake_all(&q->wq);
			rt_wake_all(&room[d]);
		}
		if (r == -ENODEV)
			break;
	}
}

static const char *strerr(int err)
{
	switch (-err) {
	case EINVAL:
		return "out of range";
	case EROFS:
		return "read-only";
	case EOPNOTSUPP:
		return "not supported";
	case ENODEV:
		return "no such device";
	default:
		return "i/o error";
	}
}

static struct dev *check_dev(lua_State *L)
{
	return luaL_checkudata(L, 1, DEV_MT);
}

/* Queues what is left of (q); returns 0, or the error that stopped it
 * (-EAGAIN: the device's queue is full, wait for room). */
static int submit(struct req *q, uint32_t sector_size)
{
	do {
		uint32_t n = q->count - q->submitted;
		int err;

		if (n > q->chunk)
			n = q->chunk;
		err = plat_blk_submit(q->dev, q->op, q->sector + q->submitted, n,
				      q->buf ? q->buf + (size_t)q->submitted *
							    sector_size
					     : NULL,
				      (uintptr_t)q);
		if (err)
			return err;
		q->pending++;
		in_flight++;
		q->submitted += n;
	} while (q->submitted < q->count);
	return 0;
}

/* Pushes the outcome of a finished request and frees it. */
static int finish(lua_State *L, struct req *q)
{
	int status = q->status;

	if (status) {
		free(q);
		luaL_pushfail(L);
		lua_pushstring(L, strerr(status));
		return 2;
	}
	if (q->op == PLAT_BLK_READ)
		lua_pushlstring(L, q->buf, (size_t)q->count *
						    check_dev(L)->info.sector_size);
	else
		lua_pushboolean(L, 1);
	free(q);
	return 1;
}

/* Every call: stack [dev, ...], ctx the request. */
static int io_k(lua_State *L, int status, lua_KContext ctx)
{
	struct req *q = (struct req *)ctx;
	struct dev *d = check_dev(L);

	if (q->submitted < q->count && !q->status) {
		int err = submit(q, d->info.sector_size);

		if (err == -EAGAIN)
			return rt_wait(L, &room[d->index], UINT64_MAX, ctx, io_k);
		if (err) {
			q->status = err;
			q->count = q->submitted; /* queue no more */
		}
	}
	if (q->pending)
		return rt_wait(L, &q->wq, UINT64_MAX, ctx, io_k);
	return finish(L, q);
}

static int start(lua_State *L, int op, uint64_t sector, uint32_t count,
		 const char *data)
{
	struct dev *d = check_dev(L);
	size_t extra = op == PLAT_BLK_READ ? (size_t)count * d->info.sector_size : 0;
	struct req *q = malloc(sizeof(*q) + extra);

	if (!q)
		return luaL_error(L, "not enough memory");
	memset(q, 0, sizeof(*q));
	q->op = op;
	q->dev = d->index;
	q->sector = sector;
	q->count = count ? count : 1; /* a flush is one piece */
	q->chunk = PLAT_BLK_MAX_BYTES / d->info.sector_size;
	q->buf = op == PLAT_BLK_READ ? (char *)(q + 1) : (char *)data;
	if (op == PLAT_BLK_FLUSH)
		q->chunk = 1;
	return io_k(L, LUA_OK, (lua_KContext)q);
}

/* Sector range checks: misuse (negative, not an integer) raises; past the
 * end is a failure of the world ("out of range"). */
static uint64_t check_sector(lua_State *L, int idx)
{
	lua_Integer s = luaL_checkinteger(L, idx);

	luaL_argcheck(L, s >= 0, idx, "sector must be 0 or more");
	return (uint64_t)s;
}

/* dev:read(sector, count) -> data */
static int m_read(lua_State *L)
{
	struct dev *d = check_dev(L);
	uint64_t sector = check_sector(L, 2);
	lua_Integer count = luaL_checkinteger(L, 3);

	luaL_argcheck(L, count > 0 && count <= (1 << 30) / d->info.sector_size, 3,
		      "count must be 1 sector to 1 GiB");
	if (sector + (uint64_t)count > d->info.sectors) {
		luaL_pushfail(L);
		lua_pushliteral(L, "out of range");
		return 2;
	}
	lua_settop(L, 1);
	return start(L, PLAT_BLK_READ, sector, (uint32_t)count, NULL);
}

/* dev:write(sector, data) -> true; #data a whole number of sectors */
static int m_write(lua_State *L)
{
	struct dev *d = check_dev(L);
	uint64_t sector = check_sector(L, 2);
	size_t len;
	const char *data = luaL_checklstring(L, 3, &len);
	uint64_t count = len / d->info.sector_size;

	luaL_argcheck(L, len && len % d->info.sector_size == 0, 3,
		      "data must be a whole, non-zero number of sectors");
	luaL_argcheck(L, len <= (1u << 30), 3, "data over 1 GiB");
	if (d->info.readonly) {
		luaL_pushfail(L);
		lua_pushliteral(L, "read-only");
		return 2;
	}
	if (sector + count > d->info.sectors) {
		luaL_pushfail(L);
		lua_pushliteral(L, "out of range");
		return 2;
	}
	lua_settop(L, 3); /* data stays anchored while the device reads it */
	return start(L, PLAT_BLK_WRITE, sector, (uint32_t)count, data);
}

/* dev:flush() -> true once everything written before is durable */
static int m_flush(lua_State *L)
{
	check_dev(L);
	lua_settop(L, 1);
	return start(L, PLAT_BLK_FLUSH, 0, 0, NULL);
}

static void push_info(lua_State *L, unsigned index,
		      const struct plat_blk_info *info)
{
	char name[8];

	snprintf(name, sizeof(name), "vd%c", 'a' + index);
	lua_createtable(L, 0, 4);
	lua_pushstring(L, name);
	lua_setfield(L, -2, "name");
	lua_pushinteger(L, (lua_Integer)info->sectors);
	lua_setfield(L, -2, "sectors");
	lua_pushinteger(L, info->sector_size);
	lua_setfield(L, -2, "sector_size");
	lua_pushboolean(L, info->readonly);
	lua_setfield(L, -2, "readonly");
}

/* dev:info() */
static int m_info(lua_State *L)
{
	struct dev *d = check_dev(L);

	push_info(L, d->index, &d->info);
	return 1;
}

static int m_tostring(lua_State *L)
{
	struct dev *d = check_dev(L);

	lua_pushfstring(L, "block device vd%c (%I sectors of %d bytes%s)",
			'a' + d->index, (lua_Integer)d->info.sectors,
			(int)d->info.sector_size,
			d->info.readonly ? ", read-only" : "");
	return 1;
}

/* blk.devices() */
static int m_devices(lua_State *L)
{
	struct plat_blk_info info;

	lua_newtable(L);
	for (unsigned i = 0; i < MAX_DEVS && plat_blk_info(i, &info) == 0; i++) {
		push_info(L, i, &info);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* blk.open([name or index]) -> dev */
static int m_open(lua_State *L)
{
	struct plat_blk_info info;
	lua_Integer index = 1;
	struct dev *d;

	if (lua_type(L, 1) == LUA_TSTRING) {
		const char *name = lua_tostring(L, 1);

		if (strlen(name) != 3 || strncmp(name, "vd", 2) ||
		    name[2] < 'a' || name[2] >= 'a' + MAX_DEVS) {
			luaL_pushfail(L);
			lua_pushfstring(L, "no such device: %s", name);
			return 2;
		}
		index = name[2] - 'a' + 1;
	} else if (!lua_isnoneornil(L, 1)) {
		index = luaL_checkinteger(L, 1);
	}
	if (index < 1 || index > MAX_DEVS ||
	    plat_blk_info((unsigned)index - 1, &info) != 0) {
		if (lua_isnoneornil(L, 1)) {
			luaL_pushfail(L);
			lua_pushliteral(L, "no block device (lunik run --disk FILE:SIZE)");
			return 2;
		}
		lua_pushfstring(L, "no such device: %s", luaL_tolstring(L, 1, NULL));
		luaL_pushfail(L);
		lua_insert(L, -2);
		return 2;
	}
	d = lua_newuserdatauv(L, sizeof(*d), 0);
	d->index = (unsigned)index - 1;
	d->info = info;
	luaL_setmetatable(L, DEV_MT);
	return 1;
}

static const luaL_Reg methods[] = {
	{ "read", m_read },
	{ "write", m_write },
	{ "flush", m_flush },
	{ "info", m_info },
	{ NULL, NULL },
};

static const luaL_Reg funcs[] = {
	{ "devices", m_devices },
	{ "open", m_open },
	{ NULL, NULL },
};

int luaopen_blk(lua_State *L)
{
	static bool polling;

	if (!polling) {
		rt_add_poller(poll_devices, NULL);
		polling = true;
	}
	luaL_newmetatable(L, DEV_MT);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, m_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}

RT_MODULE("blk", luaopen_blk);
