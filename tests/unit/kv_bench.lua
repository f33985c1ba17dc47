-- kv_bench.lua -- host figures for kv over the fake device (a file; its
-- flush is a stdio flush, not an fsync, so these are CPU costs of kv and
-- Lua, not of a disk). Not part of `make test`: build an optimised
-- test_kv (docs/kv.md, "Figures") and run
--   build/bench-kv/test_kv tests/unit/kv_bench.lua
-- It still reports through check().

local kv = require "kv"
local fakedev = require "kv_fakedev"

local path = os.tmpname()
local now = wall
local N = 100000

local function rate(n, t) return string.format("%.0f/s", n / t) end

local function fresh(sectors)
  local dev = fakedev.create(path, sectors)
  dev.nocrash = true -- no undo copies: plain write-through
  return dev, assert(kv.open(dev, { format = true }))
end

local function key(i) return string.format("user:%08d", i) end
local VALUE = ("v"):rep(100)

-- single sets: one write and one flush each
local dev, db = fresh(262144) -- 128 MiB: areas of 64 MiB
local t0 = now()
for i = 1, 20000 do assert(db:set(key(i), VALUE)) end
local t = now() - t0
print(string.format("# set, one per flush: %s (%d writes, %d flushes)",
  rate(20000, t), dev.writes, dev.flushes))

-- batched sets
dev, db = fresh(262144)
t0 = now()
for b = 0, N - 1, 1000 do
  assert(db:batch(function(bt)
    for i = b, b + 999 do bt:set(key(i), VALUE) end
  end))
end
t = now() - t0
print(string.format("# set in batches of 1000: %s", rate(N, t)))

-- gets
t0 = now()
local x = 12345
for _ = 1, N do
  x = (x * 1103515245 + 12345) % 2147483648
  assert(db:get(key(x % N)))
end
t = now() - t0
print(string.format("# get, random keys of %d: %s", N, rate(N, t)))

-- keys()
t0 = now()
local n = 0
for _ in db:keys() do n = n + 1 end
print(string.format("# keys() over %d keys (sorting included): %.3f s", n,
  now() - t0))

-- open
db:close()
dev:close()
dev = fakedev.open(path)
t0 = now()
db = assert(kv.open(dev))
t = now() - t0
local s = db:stats()
print(string.format("# open with %d keys (%.1f MiB of log): %.3f s", s.keys,
  s.used_bytes / 2 ^ 20, t))

-- compaction: overwrite half, then compact
assert(db:batch(function(bt)
  for i = 0, N - 1, 2 do bt:set(key(i), VALUE .. "2") end
end))
s = db:stats()
t0 = now()
assert(db:compact())
t = now() - t0
print(string.format("# compact %d keys (%.1f MiB live, %.1f MiB dead): %.3f s",
  s.keys, s.live_bytes / 2 ^ 20, s.dead_bytes / 2 ^ 20, t))

-- 1 MiB values
local big = ("b"):rep(1024 * 1024)
t0 = now()
for i = 1, 20 do assert(db:set("big" .. i, big)) end
t = now() - t0
print(string.format("# 1 MiB sets: %.1f MiB/s", 20 / t))
t0 = now()
for i = 1, 20 do assert(db:get("big" .. i) == big) end
t = now() - t0
print(string.format("# 1 MiB gets: %.1f MiB/s", 20 / t))
check(db:stats().keys == N + 20, "bench: the store holds what was written")
db:close()
dev:close()
os.remove(path)
