-- kv.lua -- a crash-safe key-value store on a block device.
--
-- The store is a log of checksummed records in one of two equal areas of
-- the device; an in-memory index maps each key to its newest record and is
-- rebuilt on open by scanning the log. Compaction copies the live records
-- into the other area, then switches to it by writing a new header: a
-- crash at any moment leaves the old or the new area whole. The format is
-- in docs/kv-format.md, the API in docs/kv.md.
--
-- This file is the API: arguments, the db and batch objects, one call at a
-- time per db. The storage engine is stdlib/kv/disk.lua; its hot loops
-- (CRC-32C, record coding, the open scan, key sorting) are in C:
-- bindings/kvcodec.c. Runs on the host Lua as well.
--
-- The device is a `blk` device object (or anything with its methods):
-- info(), read(sector, count), write(sector, data), flush(). Those may
-- yield the calling task, so nothing here calls them from a context that
-- cannot yield.

local codec = require "kvcodec"
local disk = require "kv.disk"
-- The graceful shutdown closes open stores last (not on the host Lua).
local has_shutdown, shutdown = pcall(require, "lunik.shutdown")

local kv = {}

kv.FORMAT_VERSION = disk.FORMAT_VERSION
kv.KEY_MAX = codec.KEY_MAX       -- 1024 bytes
kv.VALUE_MAX = codec.VALUE_MAX   -- 1 MiB

local T_SET, T_DEL = disk.T_SET, disk.T_DEL

-- Operations since boot over every store, by kind, and how the device's
-- flushes went (the metrics read both: kv_operations_total,
-- kv_flush_duration_seconds).
kv.totals = { ops = { get = 0, set = 0, delete = 0, batch = 0, keys = 0,
  compact = 0 }, flush = disk.flush_stats }
local ops = kv.totals.ops

local Db = { __name = "kv.db" }
Db.__index = Db
local Batch = { __name = "kv.batch" }
Batch.__index = Batch

---------------------------------------------------------------- open

local function resolve_device(dev)
  if dev == nil or type(dev) == "string" or math.type(dev) == "integer" then
    local blk = require "blk"
    local d, err
    if dev == nil then d, err = blk.open() else d, err = blk.open(dev) end
    if not d then return nil, err or "no such device" end
    return d, true
  end
  local t = type(dev)
  if (t ~= "table" and t ~= "userdata") or not dev.read then
    error("kv.open: bad device (a blk device, a name or an index)", 3)
  end
  return dev, false
end

local function check_opts(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error("kv.open: opts must be a table", 3) end
  local th = opts.compact_threshold
  if th ~= nil and (type(th) ~= "number" or not (th > 0 and th <= 1)) then
    error("kv.open: compact_threshold must be a number in (0, 1]", 3)
  end
  if opts.wait ~= nil and type(opts.wait) ~= "function" then
    error("kv.open: wait must be a function", 3)
  end
  return opts
end

local default_wait

-- kv.open([dev] [, opts]) -> db, or nil, err
function kv.open(dev, opts)
  if type(dev) == "table" and opts == nil and dev.read == nil then
    dev, opts = nil, dev
  end
  opts = check_opts(opts)
  local owned
  dev, owned = resolve_device(dev)
  if not dev then return nil, owned end
  local db = setmetatable({ dev = dev, owned = owned, busy = false,
    compactions = 0, threshold = opts.compact_threshold or 0.5,
    wait = opts.wait or default_wait }, Db)
  local ok, res, err = pcall(function()
    local info, ierr = dev:info()
    if not info then return nil, ierr or "i/o error" end
    return disk.mount(db, info, opts)
  end)
  if ok and res then
    if has_shutdown then
      db.on_shutdown = shutdown.on(function() db:close() end, "close")
    end
    return db
  end
  if owned and dev.close then dev:close() end
  if not ok then error(res, 0) end
  return nil, err
end

---------------------------------------------------------------- checks

local function check_key(k, level)
  if type(k) ~= "string" then
    error("kv: key must be a string, got " .. type(k), level + 1)
  end
  if #k == 0 or #k > kv.KEY_MAX then
    error(string.format("kv: key length %d not in 1..%d", #k, kv.KEY_MAX),
      level + 1)
  end
end

local function check_value(v, level)
  if type(v) ~= "string" then
    error("kv: value must be a string, got " .. type(v), level + 1)
  end
  if #v > kv.VALUE_MAX then
    error(string.format("kv: value of %d bytes over %d", #v, kv.VALUE_MAX),
      level + 1)
  end
end

---------------------------------------------------------------- methods

-- Waits for another task's call on the same db to finish: the device
-- methods yield, so two tasks could otherwise interleave their writes.
function default_wait()
  local ok, task = pcall(require, "task")
  if ok and type(task) == "table" and task.yield then return task.yield() end
  local tok, timer = pcall(require, "timer")
  if tok and type(timer) == "table" and timer.sleep then
    return timer.sleep(0.001)
  end
  error("kv: db used by two tasks at once and no task module to wait with")
end

local function check_open(db)
  if getmetatable(db) ~= Db then error("kv: not a db (use db:method)", 3) end
  if db.closed then error("closed", 3) end
end

-- Runs fn(db, ...) with the db to itself; errors pass through.
local function locked(db, op, fn, ...)
  ops[op] = ops[op] + 1
  while db.busy do db.wait() end
  db.busy = true
  local ok, a, b = pcall(fn, db, ...)
  db.busy = false
  if not ok then error(a, 0) end
  return a, b
end

-- db:get(k) -> value, or nil when k is absent, or nil, err
function Db:get(k)
  check_open(self)
  check_key(k, 2)
  return locked(self, "get", disk.get, k)
end

-- db:set(k, v) -> true, or nil, err
function Db:set(k, v)
  check_open(self)
  check_key(k, 2)
  check_value(v, 2)
  return locked(self, "set", disk.commit, { T_SET, k, v })
end

-- db:delete(k) -> true, or nil, err (true also when k was absent)
function Db:delete(k)
  check_open(self)
  check_key(k, 2)
  if not self.index[k] then return true end
  return locked(self, "delete", disk.commit, { T_DEL, k, "" })
end

function Batch:set(k, v)
  if self.done then error("kv: batch used after its function returned", 2) end
  check_key(k, 2)
  check_value(v, 2)
  local ops = self.ops
  ops[#ops + 1], ops[#ops + 2], ops[#ops + 3] = T_SET, k, v
end

function Batch:delete(k)
  if self.done then error("kv: batch used after its function returned", 2) end
  check_key(k, 2)
  local ops = self.ops
  ops[#ops + 1], ops[#ops + 2], ops[#ops + 3] = T_DEL, k, ""
end

-- db:batch(fn) -> true, or nil, err. fn(b) records b:set and b:delete;
-- when it returns they are written as one atomic group with one flush.
-- An error in fn applies nothing and propagates.
function Db:batch(fn)
  check_open(self)
  if type(fn) ~= "function" then error("kv: batch needs a function", 2) end
  local b = setmetatable({ ops = {} }, Batch)
  local ok, err = pcall(fn, b)
  b.done = true
  if not ok then error(err, 0) end
  if self.closed then error("closed", 2) end
  if #b.ops == 0 then return true end
  return locked(self, "batch", disk.commit, b.ops)
end

-- db:keys([prefix]) -> iterator over the keys (with prefix) in byte order.
-- It walks the keys as they were when called, skipping those deleted
-- since; keys added meanwhile may be missed.
function Db:keys(prefix)
  check_open(self)
  if prefix ~= nil and type(prefix) ~= "string" then
    error("kv: prefix must be a string", 2)
  end
  ops.keys = ops.keys + 1
  local list = self.sorted
  if not list then
    local n = 0
    list = {}
    for k in next, self.index do
      n = n + 1
      list[n] = k
    end
    list = codec.sort(list)
    self.sorted = list
  end
  local i = prefix and codec.search(list, prefix) or 1
  local plen = prefix and #prefix or 0
  return function()
    while true do
      local k = list[i]
      if k == nil or self.closed then return nil end
      if plen > 0 and k:sub(1, plen) ~= prefix then return nil end
      i = i + 1
      if self.index[k] then return k end
    end
  end
end

-- db:stats() -> table of figures (docs/kv.md)
function Db:stats()
  check_open(self)
  return {
    keys = self.nkeys,
    live_bytes = self.live,
    dead_bytes = self.head - self.live,
    used_bytes = self.head,
    free_bytes = self.cap - self.head,
    area_bytes = self.cap,
    device_bytes = self.devbytes,
    compactions = self.compactions,
    generation = self.gen,
    sequence = self.seq,
    area = self.area,
  }
end

-- db:compact() -> true, or nil, err
function Db:compact()
  check_open(self)
  return locked(self, "compact", function(db)
    if db.broken then return nil, db.broken end
    if db.readonly then return nil, "read-only" end
    return disk.compact(db)
  end)
end

-- db:close() -> true; idempotent. Closes the device when kv opened it.
function Db:close()
  if getmetatable(self) ~= Db then error("kv: not a db (use db:close())", 2) end
  if self.closed then return true end
  while self.busy do self.wait() end
  self.closed = true
  if self.on_shutdown then shutdown.off(self.on_shutdown) end
  self.index, self.sorted = nil, nil
  if self.owned and self.dev.close then self.dev:close() end
  return true
end

Db.__close = Db.close

return kv
