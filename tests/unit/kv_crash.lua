-- kv_crash.lua -- crash safety: a store is built and closed, then a list
-- of steps (sets, batches, compactions) runs again and again with the
-- fake device crashing instead of its 1st, 2nd, ... event (a sector write
-- or a flush), the unflushed sectors dropped ("none"), kept up to the
-- crash, i.e. torn at a sector boundary ("all"), or kept out of order
-- ("odd", "even", "late": all but the first). After each crash the store
-- must open to the state of the steps acknowledged so far, or of one
-- more, never anything else; and writing on and reopening must not
-- bring back anything the crash left behind. Run by tests/unit/test_kv.c, which provides check(cond, name).

local kv = require "kv"
local fakedev = require "kv_fakedev"

local path = os.tmpname()
local POLICIES = { "none", "all", "odd", "even",
  function(i) return i > 1 end }

local function dump(db)
  local t = {}
  for k in db:keys() do t[k] = assert(db:get(k)) end
  return t
end

local function same(a, b)
  if not a or not b then return false end
  for k, v in pairs(a) do if b[k] ~= v then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

-- The default writes after recovery: a small and a multi-sector value.
local function default_post(db)
  assert(db:set("post", "q"))
  assert(db:set("post2", ("p"):rep(1300)))
  return { post = "q", post2 = ("p"):rep(1300) }
end

-- Opens the store in path afresh.
local function open_file(sc)
  local dev = fakedev.open(path, { sector_size = sc.ssize })
  local db, err = kv.open(dev, sc.kvopts)
  return db, err, dev
end

-- One crash: restore base, crash instead of event j under policy, reopen
-- and check. Returns nil or what went wrong.
local function crash_once(sc, base, states, j, policy)
  fakedev.restore(path, base)
  local db, err, dev = open_file(sc)
  if not db then return "open before the crash: " .. err end
  dev.crash_at, dev.policy = j, policy
  local acked = 0
  for i, step in ipairs(sc.steps) do
    if step(db) ~= true then break end
    acked = i
  end
  db:close()
  dev:close()
  db, err, dev = open_file(sc)
  if not db then return "reopen failed: " .. tostring(err) end
  local st = dump(db)
  local which = same(st, states[acked + 1]) and acked or
    same(st, states[acked + 2]) and acked + 1
  if not which then
    return string.format("state after %d acknowledged steps is neither " ..
      "that nor the next (%d keys)", acked, count(st))
  end
  for k, v in pairs((sc.post or default_post)(db)) do st[k] = v end
  db:close()
  dev:close()
  db, err, dev = open_file(sc)
  local ok = db and same(dump(db), st)
  if db then db:close() end
  dev:close()
  if not ok then return "writing on after recovery and reopening differs" end
  return nil
end

-- Runs scenario sc: sc.setup(db) builds the store, sc.steps the
-- operations crashed into. sc.sectors, sc.ssize, sc.kvopts, sc.post.
local function scenario(name, sc)
  local dev = fakedev.create(path, sc.sectors or 512, sc.ssize)
  local db = assert(kv.open(dev, sc.kvopts))
  if sc.setup then sc.setup(db) end
  db:close()
  dev:close()
  local base = fakedev.image(path)
  local err
  db, err, dev = open_file(sc)
  assert(db, err)
  local states = { dump(db) }
  for i, step in ipairs(sc.steps) do
    assert(step(db) == true, "step " .. i .. " of a clean run failed")
    states[i + 1] = dump(db)
  end
  local events = dev.events
  if sc.check_clean then sc.check_clean(db) end
  db:close()
  dev:close()
  local runs, bad = 0, nil
  for j = 1, events do
    for _, policy in ipairs(POLICIES) do
      local why = crash_once(sc, base, states, j, policy)
      runs = runs + 1
      if why and not bad then
        bad = string.format("crash at event %d of %d (%s): %s", j, events,
          type(policy) == "string" and policy or "late", why)
      end
    end
  end
  check(bad == nil, string.format("%s: crashes at each of %d events x %d " ..
    "policies (%d runs) open to an acknowledged state%s", name, events,
    #POLICIES, runs, bad and ": " .. bad or ""))
end

local function keys(db, n, fmt, size)
  for i = 1, n do
    assert(db:set(string.format(fmt, i), ("v" .. i):rep(size)))
  end
end

scenario("single sets and deletes", {
  setup = function(db) keys(db, 10, "k%d", 20) end,
  steps = {
    function(db) return db:set("big", ("b"):rep(3000)) end,
    function(db) return db:set("k1", "changed") end,
    function(db) return db:delete("k2") end,
    function(db) return db:set("big", ("c"):rep(2000)) end,
  },
})

-- Records of exactly one sector, so that a write after recovery can end
-- exactly where a stale record of the crashed batch begins: that record
-- follows in seq, but must not be taken (it is of an older generation).
local function rec512(i)
  return string.format("b%02d", i), ("x"):rep(484) .. i % 10
end
scenario("a batch of sector-sized records", {
  setup = function(db) for i = 60, 64 do assert(db:set(rec512(i))) end end,
  steps = {
    function(db)
      return db:batch(function(b)
        for i = 1, 6 do b:set(rec512(i)) end
        b:set(rec512(60))
      end)
    end,
    function(db) return db:set(rec512(50)) end,
  },
  post = function(db)
    local k, v = rec512(99)
    assert(db:set(k, v))
    return { [k] = v }
  end,
})

scenario("compaction", {
  setup = function(db)
    for round = 1, 3 do keys(db, 30, "k%02d", round * 7) end
    for i = 1, 30, 3 do assert(db:delete(string.format("k%02d", i))) end
  end,
  steps = {
    function(db) return db:compact() end,
    function(db) return db:set("k02", "after") end,
    function(db) return db:compact() end,
  },
  check_clean = function(db)
    assert(db:stats().compactions == 2, "compacted twice")
  end,
})

scenario("automatic compaction inside a set", {
  sectors = 64,
  setup = function(db)
    for i = 1, 40 do assert(db:set("k" .. i % 6, ("z"):rep(300) .. i)) end
  end,
  steps = {
    function(db) return db:set("k1", ("n"):rep(2500)) end,
    function(db) return db:set("k2", ("m"):rep(2500)) end,
    function(db) return db:set("k1", ("o"):rep(2500)) end,
    function(db) return db:set("k2", ("p"):rep(2500)) end,
    function(db) return db:set("k1", ("q"):rep(2500)) end,
  },
  check_clean = function(db)
    assert(db:stats().compactions >= 1, "a set compacted")
  end,
})

scenario("4096-byte sectors", {
  sectors = 64, ssize = 4096,
  setup = function(db) keys(db, 20, "k%d", 50) end,
  steps = {
    function(db) return db:set("big", ("b"):rep(9000)) end,
    function(db)
      return db:batch(function(b) for i = 1, 20 do b:set("k" .. i, "s") end end)
    end,
    function(db) return db:compact() end,
  },
})

do -- a crash while formatting a blank device
  local bad
  for j = 1, 12 do
    for _, policy in ipairs(POLICIES) do
      local dev = fakedev.create(path, 256)
      dev.crash_at, dev.policy = j, policy
      local db = kv.open(dev)
      if db then db:close() end
      dev:close()
      dev = fakedev.open(path)
      db = kv.open(dev)
      local ok = db and db:stats().keys == 0 and db:set("a", "1") and
        db:get("a") == "1"
      if db then db:close() end
      dev:close()
      if not ok and not bad then bad = j .. " " .. policy end
    end
  end
  check(bad == nil, "a crash at any event of formatting leaves a device " ..
    "that opens as an empty store" .. (bad and ": " .. bad or ""))
end

do -- every byte-level truncation of a record: bytes are not atomic here
  local dev = fakedev.create(path, 256)
  local db = assert(kv.open(dev))
  keys(db, 8, "k%d", 30)
  db:close()
  dev:close()
  local before = fakedev.image(path)
  dev = fakedev.open(path)
  db = assert(kv.open(dev))
  local old = dump(db)
  assert(db:set("t", ("t"):rep(1500)))
  local new = dump(db)
  db:close()
  dev:close()
  local after = fakedev.image(path)
  local hdr = 4096
  local lo, hi
  for i = hdr + 1, #after do
    if before:byte(i) ~= after:byte(i) then
      lo = lo or i
      hi = i
    end
  end
  local bad, cuts = nil, 0
  for c = lo, hi + 1 do
    fakedev.restore(path, after:sub(1, c - 1) .. before:sub(c))
    cuts = cuts + 1
    dev = fakedev.open(path)
    db = kv.open(dev)
    local want = c == hi + 1 and new or old
    if not (db and same(dump(db), want)) and not bad then bad = c - lo end
    if db then db:close() end
    dev:close()
  end
  check(bad == nil and cuts > 1500, string.format("a record cut after " ..
    "each of its %d bytes is dropped whole on open%s", cuts - 1,
    bad and ": not at byte " .. bad or ""))
end

do -- damage: random bytes changed anywhere; open and reads never raise
  local dev = fakedev.create(path, 128)
  local db = assert(kv.open(dev))
  keys(db, 30, "k%d", 40)
  assert(db:compact())
  keys(db, 10, "k%d", 41)
  db:close()
  dev:close()
  local good = fakedev.image(path)
  local used = 4096 + 2 * 60 * 512
  local seed, raised, opened = 7, nil, 0
  for trial = 1, 300 do
    local img = { good:byte(1, used) }
    for _ = 1, 1 + trial % 4 do
      seed = (seed * 1103515245 + 12345) % 2147483648
      local at = trial % 3 == 0 and seed % 1024 + 1 or seed % used + 1
      img[at] = (img[at] + 1 + seed % 255) % 256
    end
    local parts = {}
    for i = 1, #img, 4096 do
      parts[#parts + 1] = string.char(table.unpack(img, i,
        math.min(i + 4095, #img)))
    end
    fakedev.restore(path, table.concat(parts) .. good:sub(used + 1))
    dev = fakedev.open(path)
    local ok, err = pcall(function()
      local d = kv.open(dev)
      if not d then return end
      opened = opened + 1
      for k in d:keys() do d:get(k) end
      d:set("new", "x")
      d:close()
    end)
    dev:close()
    if not ok and not raised then raised = trial .. ": " .. tostring(err) end
  end
  check(raised == nil and opened > 200, "300 damaged devices: open, " ..
    "reads and writes return errors or work, never raise (" .. opened ..
    " opened)" .. (raised and ": " .. raised or ""))
end

os.remove(path)
