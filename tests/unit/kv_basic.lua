-- kv_basic.lua -- kv's API on the fake device: round trips, misuse, key
-- order and prefixes, batches, big values, 100,000 keys, reopening,
-- compaction, a full device, i/o errors, read-only, foreign and future
-- devices. Run by tests/unit/test_kv.c, which provides check(cond, name).

local kv = require "kv"
local codec = require "kvcodec"
local fakedev = require "kv_fakedev"

local path = os.tmpname()
local clock = wall

local function raises(fn, pattern)
  local ok, err = pcall(fn)
  return not ok and (pattern == nil or tostring(err):find(pattern) ~= nil)
end

local function fresh(sectors, ssize)
  return fakedev.create(path, sectors or 8192, ssize)
end

-- Closes db and opens the same file again.
local function reopen(db, opts)
  db:close()
  db.dev:close()
  local dev = fakedev.open(path, opts)
  return kv.open(dev, opts)
end

local function all_keys(db, prefix)
  local t = {}
  for k in db:keys(prefix) do t[#t + 1] = k end
  return t
end

local function same_list(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

-- codec ---------------------------------------------------------------

check(codec.crc32c("123456789") == 0xe3069283,
  "codec: CRC-32C of '123456789' is the check value e3069283")
check(codec.crc32c("56789", codec.crc32c("1234")) == 0xe3069283,
  "codec: CRC-32C continues from a seed")
do
  local long = string.rep("abcdefgh", 1000) .. "xyz"
  local crc = 0
  for i = 1, #long, 7 do crc = codec.crc32c(long:sub(i, i + 6), crc) end
  check(crc == codec.crc32c(long), "codec: CRC-32C of pieces equals the whole")
  local rec = codec.encode(7, 41, 3, 1, 1, "key", "value")
  local out = {}
  local n, pos, seq, gen, more = codec.scan(rec .. rec, 0, 7, 41, 0, out)
  check(n == 1 and pos == #rec and seq == 42 and gen == 3 and not more and
    out[1] == "key" and out[2] == 1 | 1 << 8 and out[3] == 0 and
    out[4] == #rec, "codec: scan takes one record and stops at a wrong seq")
  n = codec.scan(rec, 0, 8, 41, 0, out)
  check(n == 0, "codec: a record of another salt does not check")
  n, pos, seq, gen, more = codec.scan(rec:sub(1, 30), 0, 7, 41, 0, out)
  check(n == 0 and more and pos == 0, "codec: a cut record asks for more")
  check(codec.value(rec, 0, #rec, 7, "key") == "value" and
    codec.value(rec, 0, #rec, 7, "kex") == nil,
    "codec: value checks the record and its key")
  local sorted = codec.sort({ "b", "a\0b", "\255", "a", "", "ab", "a\0" })
  check(same_list(sorted, { "", "a", "a\0", "a\0b", "ab", "b", "\255" }),
    "codec: sort is byte order (zeros and high bytes included)")
  check(codec.search(sorted, "a\0") == 3 and codec.search(sorted, "c") == 7 and
    codec.search(sorted, "\255\255") == 8, "codec: search finds lower bounds")
end

-- round trips -----------------------------------------------------------

local db, err = kv.open(fresh())
check(db ~= nil, "a blank device is formatted on first open " .. tostring(err))
check(db:get("missing") == nil, "get of a missing key is nil")
check(db:set("a", "1") == true and db:get("a") == "1", "set then get")
check(db:set("a", "22") == true and db:get("a") == "22", "set overwrites")
check(db:set("e", "") == true and db:get("e") == "", "an empty value")
local bin = {}
for i = 0, 255 do bin[#bin + 1] = string.char(i) end
bin = table.concat(bin):rep(3)
check(db:set("bin\0\255", bin) and db:get("bin\0\255") == bin,
  "binary keys and values round-trip")
check(db:delete("a") == true and db:get("a") == nil, "delete")
check(db:delete("never") == true, "delete of a missing key is true")
check(db:stats().keys == 2, "stats counts the keys")

-- misuse ----------------------------------------------------------------

check(raises(function() db:get(1) end, "key must be a string"),
  "a number key raises")
check(raises(function() db:set("", "v") end, "key length"),
  "an empty key raises")
check(raises(function() db:set(("k"):rep(1025), "v") end, "key length"),
  "a key over 1 KiB raises")
check(db:set(("k"):rep(1024), "max") and db:get(("k"):rep(1024)) == "max",
  "a key of 1 KiB is fine")
check(raises(function() db:set("k", 5) end, "value must be a string"),
  "a number value raises")
check(raises(function() db:set("k") end, "value must be a string"),
  "a missing value raises")
check(raises(function() db:set("k", ("v"):rep(1024 * 1024 + 1)) end,
  "value of"), "a value over 1 MiB raises")
check(raises(function() db.get("a") end, "not a db"),
  "db.get without self raises")
check(raises(function() db:batch("x") end, "function"),
  "batch of a non-function raises")
check(raises(function() db:keys(3) end, "prefix"), "keys(3) raises")
check(raises(function() kv.open(42.5) end, "bad device"),
  "kv.open of a float raises")
check(raises(function() kv.open(db.dev, { compact_threshold = 2 }) end,
  "compact_threshold"), "a bad option raises")

-- order and prefixes ----------------------------------------------------

do
  db = assert(kv.open(fresh(), { format = true }))
  local keys = { "b", "a", "ab", "a\0", "\255x", "aa", "b/1", "b/2", "b/10",
    "b0", "\1", "A" }
  for i, k in ipairs(keys) do assert(db:set(k, tostring(i))) end
  local want = { "\1", "A", "a", "a\0", "aa", "ab", "b", "b/1", "b/10",
    "b/2", "b0", "\255x" }
  check(same_list(all_keys(db), want), "keys() walks every key in byte order")
  check(same_list(all_keys(db, "b/"), { "b/1", "b/10", "b/2" }),
    "keys(prefix) gives just the keys with the prefix")
  check(same_list(all_keys(db, "a"), { "a", "a\0", "aa", "ab" }),
    "keys('a') includes 'a' itself")
  check(#all_keys(db, "zz") == 0 and #all_keys(db, "\255y") == 0,
    "a prefix nothing has gives nothing")
  local it = db:keys("b")
  check(it() == "b", "an iterator starts")
  assert(db:delete("b/1"))
  assert(db:set("b/05", "new"))
  local rest = {}
  for k in it do rest[#rest + 1] = k end
  check(same_list(rest, { "b/10", "b/2", "b0" }),
    "an iterator skips keys deleted while it runs")
  check(same_list(all_keys(db, "b/"), { "b/05", "b/10", "b/2" }),
    "a new iterator sees the new keys")
  db = reopen(db)
  check(same_list(all_keys(db, "b/"), { "b/05", "b/10", "b/2" }) and
    db:get("b/05") == "new", "order and values survive a reopen")
end

-- batches ---------------------------------------------------------------

do
  db = assert(kv.open(fresh(), { format = true }))
  assert(db:set("keep", "old"))
  local ok, e = pcall(db.batch, db, function(b)
    b:set("x", "1")
    b:delete("keep")
    error("boom")
  end)
  check(not ok and tostring(e):find("boom"),
    "an error inside batch propagates")
  check(db:get("x") == nil and db:get("keep") == "old",
    "a batch that raised applied nothing")
  local saved
  check(db:batch(function(b)
    saved = b
    for i = 1, 50 do b:set("k" .. i, ("v"):rep(i * 20)) end
    b:delete("keep")
    b:set("dup", "first")
    b:set("dup", "second")
    b:set("gone", "x")
    b:delete("gone")
  end) == true, "a batch commits")
  local good = db:get("keep") == nil and db:get("dup") == "second" and
    db:get("gone") == nil
  for i = 1, 50 do good = good and db:get("k" .. i) == ("v"):rep(i * 20) end
  check(good, "a batch applies every operation in order")
  check(raises(function() saved:set("late", "x") end, "batch used after"),
    "a batch object used after its function raises")
  check(raises(function() db:batch(function(b) b:set(1, "x") end) end,
    "key must be a string"), "misuse inside a batch raises")
  check(db:batch(function() end) == true, "an empty batch is fine")
  local flushes = db.dev.flushes
  assert(db:batch(function(b) for i = 1, 100 do b:set("f" .. i, "v") end end))
  check(db.dev.flushes == flushes + 1, "a batch of 100 sets is one flush")
  db = reopen(db)
  good = db:get("dup") == "second" and db:get("keep") == nil and
    db:get("f100") == "v"
  for i = 1, 50 do good = good and db:get("k" .. i) == ("v"):rep(i * 20) end
  check(good, "a batch survives a reopen")
end

-- 1 MiB values ------------------------------------------------------------

do
  db = assert(kv.open(fresh(16384), { format = true }))
  local big = {}
  for i = 1, 1024 * 1024 // 16 do big[i] = string.format("%015d\n", i) end
  big = table.concat(big)
  check(#big == 1024 * 1024 and db:set("big", big) and db:get("big") == big,
    "a 1 MiB value round-trips")
  assert(db:set("small", "s"))
  local big2 = big:reverse()
  check(db:set("big2", big2) and db:get("big2") == big2,
    "a second 1 MiB value, not sector aligned")
  db = reopen(db)
  check(db and db:get("big") == big and db:get("big2") == big2 and
    db:get("small") == "s", "1 MiB values survive a reopen")
  check(db:compact() and db:get("big") == big and db:get("big2") == big2,
    "1 MiB values survive a compaction")
  db:close()
end

-- 100,000 keys ----------------------------------------------------------

do
  local N = 100000
  db = assert(kv.open(fresh(65536), { format = true }))
  local t0 = clock()
  for i = 0, N - 1, 10000 do
    assert(db:batch(function(b)
      for j = i, i + 9999 do
        b:set(string.format("key%06d", j), "value" .. j)
      end
    end))
  end
  local tset = clock() - t0
  check(db:stats().keys == N, "100,000 keys in 10 batches")
  db = reopen(db)
  t0 = clock()
  local n = 0
  local last, ordered = "", true
  for k in db:keys() do
    n = n + 1
    ordered = ordered and k > last
    last = k
  end
  local tkeys = clock() - t0
  check(n == N and ordered, "they all come back after reopen, in order")
  local good = true
  for i = 0, N - 1, 997 do
    good = good and db:get(string.format("key%06d", i)) == "value" .. i
  end
  check(good, "sampled values are right")
  t0 = clock()
  local db2 = reopen(db)
  local topen = clock() - t0
  check(db2:stats().keys == N, "reopen finds 100,000 keys")
  t0 = clock()
  check(db2:compact() and db2:stats().keys == N, "and compacts them")
  local tcomp = clock() - t0
  print(string.format("# 100k keys (host Lua with ASan): batches %.2fs, " ..
    "open %.2fs, keys() %.2fs, compact %.2fs", tset, topen, tkeys, tcomp))
  db2:close()
  db = db2
end

-- compaction ------------------------------------------------------------

do
  db = assert(kv.open(fresh(), { format = true, compact_threshold = 1 }))
  for round = 1, 5 do
    for i = 1, 40 do assert(db:set("k" .. i, ("r" .. round):rep(i))) end
  end
  for i = 1, 40, 2 do assert(db:delete("k" .. i)) end
  local s = db:stats()
  check(s.dead_bytes > s.live_bytes and s.compactions == 0,
    "overwrites and deletes leave dead bytes")
  check(db:compact() == true, "compact")
  local s2 = db:stats()
  check(s2.dead_bytes == 0 and s2.live_bytes == s.live_bytes and
    s2.keys == 20 and s2.compactions == 1 and s2.area ~= s.area,
    "compaction drops the dead bytes and moves to the other area")
  local good = true
  for i = 1, 40 do
    good = good and db:get("k" .. i) == (i % 2 == 0 and ("r5"):rep(i) or nil)
  end
  check(good, "every live value is right after compaction")
  assert(db:set("after", "x"))
  db = reopen(db)
  good = db:get("after") == "x" and db:stats().keys == 21
  for i = 1, 40 do
    good = good and db:get("k" .. i) == (i % 2 == 0 and ("r5"):rep(i) or nil)
  end
  check(good, "and after reopening the compacted store")
  check(db:compact() and db:compact() and db:get("k40") == ("r5"):rep(40),
    "compaction back and forth between the areas")
  db:close()
end

do -- automatic compaction, by threshold and when the area fills
  db = assert(kv.open(fresh(200), { format = true }))
  local s = db:stats()
  for i = 1, 2000 do assert(db:set("k" .. i % 10, ("x"):rep(100) .. i)) end
  s = db:stats()
  check(s.compactions > 0 and s.keys == 10 and
    db:get("k7") == ("x"):rep(100) .. 1997,
    "overwrites on a small device compact by themselves (" ..
    s.compactions .. " compactions)")
  check(s.dead_bytes <= s.area_bytes * 0.5 + 200,
    "dead bytes stay near the threshold")
  db:close()
end

-- a full device -----------------------------------------------------------

do
  db = assert(kv.open(fresh(64), { format = true }))
  local s = db:stats()
  check(s.device_bytes == 64 * 512 and s.area_bytes == 28 * 512,
    "a 32 KiB device has two areas of 14 KiB")
  local n, err2 = 0, nil
  repeat
    n = n + 1
    local ok
    ok, err2 = db:set("k" .. n, ("v"):rep(1000))
  until not ok or n > 100
  check(err2 == "no space", "filling the device gives nil, 'no space'")
  local good = db:get("k" .. n) == nil
  for i = 1, n - 1 do good = good and db:get("k" .. i) == ("v"):rep(1000) end
  check(good and db:stats().keys == n - 1,
    "the failed set changed nothing and the store stays readable")
  local before = db:get("k1")
  check(select(2, db:set("k1", ("w"):rep(1000))) == "no space" and
    db:get("k1") == before, "an overwrite that cannot fit changes nothing")
  check(select(2, db:batch(function(b)
    b:delete("k2")
    b:set("k3", ("z"):rep(5000))
  end)) == "no space" and db:get("k2") and db:get("k3") == ("v"):rep(1000),
    "a batch that cannot fit applies nothing")
  db = reopen(db)
  good = db:get("k" .. n) == nil
  for i = 1, n - 1 do good = good and db:get("k" .. i) == ("v"):rep(1000) end
  check(good, "the full store reopens whole")
  assert(db:delete("k1") and db:delete("k2"))
  check(db:set("k" .. n, ("v"):rep(1000)) == true,
    "deleting makes room again (by compaction)")
  db:close()
end

-- i/o errors ------------------------------------------------------------

do
  db = assert(kv.open(fresh(256), { format = true }))
  assert(db:set("a", "1"))
  db.dev.fail_after = 3
  local ok, e = db:set("b", ("x"):rep(4000))
  check(not ok and e == "i/o error", "a failing write gives nil, 'i/o error'")
  check(db:get("a") == "1" and db:get("b") == nil,
    "the store stays readable and unchanged")
  db.dev.fail_after = nil
  check(db:set("c", "3") == true and db:get("c") == "3",
    "writes work again once the device does")
  db.dev.fail_flush = "i/o error"
  ok, e = db:set("d", "4")
  check(not ok and e == "i/o error", "a failing flush gives nil, 'i/o error'")
  assert(db:set("e", "5"))
  db = reopen(db)
  check(db:get("a") == "1" and db:get("c") == "3" and db:get("e") == "5" and
    db:get("b") == nil and (db:get("d") == nil or db:get("d") == "4"),
    "after reopening: the acknowledged writes, the failed one whole or not")
  db:close()
  db.dev:close()
end

do -- i/o errors during compaction
  db = assert(kv.open(fresh(256), { format = true, compact_threshold = 1 }))
  for i = 1, 60 do assert(db:set("k" .. i % 12, ("c"):rep(90) .. i)) end
  local area = db:stats().area
  db.dev.fail_after = 2
  local ok, e = db:compact()
  check(not ok and e == "i/o error" and db:stats().area == area,
    "a compaction whose writes fail gives nil, 'i/o error' and stays put")
  db.dev.fail_after = nil
  check(db:get("k5") == ("c"):rep(90) .. 53 and db:set("k5", "w") and
    db:compact() and db:get("k5") == "w" and
    db:get("k6") == ("c"):rep(90) .. 54,
    "then writes and compaction work again")
  db.dev.fail_flush = "i/o error"
  -- the data flush of the next compaction succeeds, its header's fails
  local flush = db.dev.flush
  local n = 0
  db.dev.fail_flush = nil
  db.dev.flush = function(dev)
    n = n + 1
    if n == 2 then return nil, "i/o error" end
    return flush(dev)
  end
  ok, e = db:compact()
  db.dev.flush = nil
  check(not ok and e == "i/o error" and select(2, db:set("x", "1")) ==
    "i/o error" and db:get("k6") == ("c"):rep(90) .. 54,
    "when the switch to the new area is uncertain, writes stop, reads go on")
  db = reopen(db)
  check(db and db:get("k5") == "w" and db:get("k6") == ("c"):rep(90) .. 54 and
    db:set("x", "1"), "and the store reopens whole")
  db:close()
  db.dev:close()
end

do -- two tasks on one db, with a device that yields on every call
  local dev = fresh(512)
  local ydev = setmetatable({}, { __index = function(_, name)
    return function(_, ...)
      coroutine.yield()
      return dev[name](dev, ...)
    end
  end })
  local tasks, waits = {}, 0
  db = nil
  local opener = coroutine.create(function()
    db = assert(kv.open(ydev, { wait = function()
      waits = waits + 1
      coroutine.yield()
    end }))
  end)
  while coroutine.status(opener) ~= "dead" do
    assert(coroutine.resume(opener))
  end
  for t = 1, 3 do
    tasks[t] = coroutine.create(function()
      for i = 1, 30 do
        assert(db:set(t .. ":" .. i, ("v"):rep(i * 10) .. t))
        assert(db:get(t .. ":" .. i) == ("v"):rep(i * 10) .. t)
        if i % 10 == 0 then assert(db:compact()) end
      end
    end)
  end
  local live = #tasks
  while live > 0 do
    live = 0
    for _, co in ipairs(tasks) do
      if coroutine.status(co) ~= "dead" then
        local ok, e = coroutine.resume(co)
        if not ok then error(e) end
        live = live + 1
      end
    end
  end
  check(waits > 0, "tasks found the db busy and waited (" .. waits .. " times)")
  db = kv.open(dev)
  local good = db:stats().keys == 90
  for t = 1, 3 do
    for i = 1, 30 do
      good = good and db:get(t .. ":" .. i) == ("v"):rep(i * 10) .. t
    end
  end
  check(good, "three tasks interleaving sets, gets and compactions leave " ..
    "every value whole")
  db:close()
  dev:close()
end

-- read-only, foreign, future --------------------------------------------

do
  local dev = fresh(256)
  db = assert(kv.open(dev))
  assert(db:set("a", "1"))
  db:close()
  dev:close()
  dev = fakedev.open(path, { readonly = true })
  db = kv.open(dev)
  check(db and db:get("a") == "1", "a read-only device opens")
  check(select(2, db:set("b", "2")) == "read-only",
    "writes to it give nil, 'read-only'")
  db:close()
  dev:close()
  fresh(256):close()
  dev = fakedev.open(path, { readonly = true })
  check(select(2, kv.open(dev)) == "read-only",
    "a blank read-only device cannot be formatted")
  dev:close()

  dev = fresh(256)
  local junk = ("not a kv store, just some file system "):rep(20):sub(1, 512)
  assert(dev:write(0, junk))
  local d, e = kv.open(dev)
  check(d == nil and e:find("^not a kv store"),
    "a foreign device is refused: " .. tostring(e))
  check(dev:read(0, 1) == junk, "and left as it was")
  d = kv.open(dev, { format = true })
  check(d and d:get("x") == nil and d:set("x", "y"),
    "format = true erases it and makes a store")
  d:close()
  d = kv.open(dev)
  check(d and d:get("x") == "y", "which opens afterwards")
  d:close()

  -- a header of a later version, written by hand from docs/kv-format.md
  local s = dev:read(0, 1)
  local v2 = s:sub(1, 8) .. string.pack("<I4", 2) .. s:sub(13, 48)
  v2 = v2 .. string.pack("<I4", codec.crc32c(v2))
  assert(dev:write(0, v2 .. ("\0"):rep(512 - #v2)))
  assert(dev:write(1, ("\0"):rep(512)))
  d, e = kv.open(dev)
  check(d == nil and e:find("unsupported kv format version 2"),
    "a later format version is refused: " .. tostring(e))
  dev:close()
end

do -- closing
  db = assert(kv.open(fresh(256), { format = true }))
  assert(db:set("a", "1"))
  check(db:close() == true and db:close() == true, "close is idempotent")
  check(raises(function() db:get("a") end, "closed$") and
    raises(function() db:set("a", "2") end, "closed$") and
    raises(function() db:keys() end, "closed$") and
    raises(function() db:stats() end, "closed$"),
    "use after close raises 'closed'")
  db.dev:close()
  local dev = fresh(256)
  do
    local d <close> = assert(kv.open(dev))
    assert(d:set("z", "1"))
    db = d
  end
  check(db.closed == true, "a <close> variable closes the db")
  dev:close()
end

do -- 4096-byte sectors
  local dev = fresh(64, 4096)
  db = assert(kv.open(dev))
  for i = 1, 300 do assert(db:set("k" .. i % 30, ("v"):rep(i))) end
  db = reopen(db, { sector_size = 4096 })
  local good = db ~= nil
  for i = 271, 300 do good = good and db:get("k" .. i % 30) == ("v"):rep(i) end
  check(good, "4096-byte sectors work")
  db:close()
  db.dev:close()
end

os.remove(path)
