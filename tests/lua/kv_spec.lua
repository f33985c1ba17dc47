-- kv_spec.lua -- kv inside a booted image, over the real `blk` device.
--
-- Not run yet: it needs the virtio-blk driver and the `blk` binding. Once
-- they land, boot it with a scratch disk of at least 64 MiB as the first
-- block device (its contents are erased) and move it to tests/lua/.

local kv = require "kv"
local blk = require "blk"

local function open_fresh()
  local db = assert(kv.open(nil, { format = true }))
  return db
end

describe("kv over blk", function()
  local db
  before_each(function() db = open_fresh() end)
  after_each(function() if db then db:close() end end)

  it("formats the first block device and round-trips values", function()
    assert.equal(0, db:stats().keys)
    assert.is_true(db:set("a", "1"))
    assert.equal("1", db:get("a"))
    assert.is_nil(db:get("b"))
    assert.is_true(db:delete("a"))
    assert.is_nil(db:get("a"))
  end)

  it("opens a device given as an object, a name or an index", function()
    db:close()
    local dev = assert(blk.open())
    local info = dev:info()
    local d1 = assert(kv.open(dev))
    assert.is_true(d1:set("x", "y"))
    d1:close()
    local d2 = assert(kv.open(info.name))
    assert.equal("y", d2:get("x"))
    d2:close()
    db = assert(kv.open())
    assert.equal("y", db:get("x"))
  end)

  it("keeps what it acknowledged across a reopen", function()
    for i = 1, 200 do assert.is_true(db:set("k" .. i, ("v"):rep(i))) end
    db:close()
    db = assert(kv.open())
    assert.equal(200, db:stats().keys)
    for i = 1, 200, 17 do assert.equal(("v"):rep(i), db:get("k" .. i)) end
  end)

  it("walks keys in byte order, by prefix", function()
    for _, k in ipairs({ "b", "a/2", "a/10", "a/1", "\255", "A" }) do
      assert(db:set(k, k))
    end
    local got = {}
    for k in db:keys("a/") do got[#got + 1] = k end
    assert.same({ "a/1", "a/10", "a/2" }, got)
    got = {}
    for k in db:keys() do got[#got + 1] = k end
    assert.same({ "A", "a/1", "a/10", "a/2", "b", "\255" }, got)
  end)

  it("applies a batch whole, or nothing when it raises", function()
    assert(db:set("keep", "old"))
    assert.error(function()
      db:batch(function(b)
        b:set("n", "1")
        b:delete("keep")
        error("boom")
      end)
    end, "boom")
    assert.is_nil(db:get("n"))
    assert.equal("old", db:get("keep"))
    assert.is_true(db:batch(function(b)
      for i = 1, 1000 do b:set("b" .. i, tostring(i)) end
    end))
    assert.equal("1000", db:get("b1000"))
  end)

  it("stores 1 MiB values", function()
    local big = ("0123456789abcdef"):rep(65536)
    assert.is_true(db:set("big", big))
    db:close()
    db = assert(kv.open())
    assert.equal(big, db:get("big"))
  end)

  it("compacts and keeps every live value", function()
    for round = 1, 4 do
      for i = 1, 100 do assert(db:set("k" .. i, round .. ("x"):rep(i))) end
    end
    local s = db:stats()
    assert.truthy(s.dead_bytes > 0)
    assert.is_true(db:compact())
    s = db:stats()
    assert.equal(0, s.dead_bytes)
    assert.equal(1, s.compactions)
    db:close()
    db = assert(kv.open())
    for i = 1, 100 do assert.equal("4" .. ("x"):rep(i), db:get("k" .. i)) end
  end)

  it("holds 100,000 keys", function()
    for base = 0, 99999, 5000 do
      assert(db:batch(function(b)
        for i = base, base + 4999 do b:set(string.format("%06d", i), "v") end
      end))
    end
    db:close()
    db = assert(kv.open())
    assert.equal(100000, db:stats().keys)
  end)

  it("raises on misuse and after close", function()
    assert.error(function() db:set(1, "x") end, "kv: key must be a string, got number")
    assert.error(function() db:set("k", ("x"):rep(1024 * 1024 + 1)) end, "kv: value of 1048577 bytes over 1048576")
    db:close()
    assert.is_true(db:close())
    assert.error(function() db:get("a") end, "closed")
    db = nil
  end)

  it("raises rather than hangs where a task cannot yield", function()
    assert(db:set("a", "1"))
    assert(db:set("b", "2"))
    local list = { "a", "b" }
    assert.error(function()
      table.sort(list, function(x, y) return db:get(x) < db:get(y) end)
    end, "cannot block here: Lua cannot yield inside require, a metamethod, table.sort, a string.gsub callback or __gc")
    assert.error(function()
      string.gsub("a", "%a", function(k) return db:get(k) end)
    end, "cannot block here: Lua cannot yield inside require, a metamethod, table.sort, a string.gsub callback or __gc")
  end)

  it("serves two tasks at once", function()
    local task = require "task"
    local ts = {}
    for t = 1, 3 do
      ts[t] = task.spawn(function()
        for i = 1, 50 do
          assert(db:set(t .. ":" .. i, ("v"):rep(i)))
          assert(db:get(t .. ":" .. i) == ("v"):rep(i))
        end
      end)
    end
    for _, t in ipairs(ts) do t:join() end
    assert.equal(150, db:stats().keys)
  end)
end)

describe("kv on a full disk", function()
  it("says no space, changes nothing, and stays readable", function()
    -- vdc: a 1 MiB scratch disk the test runner attaches for this
    local db = assert(kv.open("vdc", { format = true }))
    local value = string.rep("x", 64 * 1024)
    local n, err = 0, nil
    for i = 1, 100 do
      local ok
      ok, err = db:set("k" .. i, value)
      if not ok then break end
      n = i
    end
    assert.equal("no space", err)
    assert.truthy(n > 0)
    for i = 1, n do assert.equal(value, db:get("k" .. i)) end
    assert.equal(nil, db:get("k" .. (n + 1)))
    assert.same({ nil, "no space" }, { db:set("k" .. (n + 1), value) })
    db:close()
    db = assert(kv.open("vdc"))
    assert.equal(n, db:stats().keys)
    assert.truthy(db:delete("k1"))
    db:close()
  end)
end)
