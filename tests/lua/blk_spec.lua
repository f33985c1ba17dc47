-- blk over the scratch disks `make test` attaches: vda (64 MiB, erased by
-- the kv spec too) and vdb (read-only, 1 MiB).
local blk = require "blk"
local task = require "task"

local function sector(text, size)
  return (text .. string.rep("\0", size)):sub(1, size)
end

describe("blk", function()
  it("lists the devices", function()
    local devs = blk.devices()
    assert.truthy(#devs >= 2)
    assert.equal("vda", devs[1].name)
    assert.equal(512, devs[1].sector_size)
    assert.equal(64 * 2048, devs[1].sectors)
    assert.falsy(devs[1].readonly)
    assert.equal("vdb", devs[2].name)
    assert.truthy(devs[2].readonly)
  end)

  it("opens by name, by index and by default, and refuses unknown ones", function()
    assert.equal("vda", blk.open():info().name)
    assert.equal("vdb", blk.open(2):info().name)
    assert.equal("vdb", blk.open("vdb"):info().name)
    assert.same({ nil, "no such device: vdz" }, { blk.open("vdz") })
    assert.same({ nil, "no such device: 9" }, { blk.open(9) })
  end)

  it("writes, flushes and reads back sectors", function()
    local d = blk.open("vda")
    local data = sector("hello", 512) .. sector("world", 512)
    assert.is_true(d:write(10, data))
    assert.is_true(d:flush())
    assert.equal(data, d:read(10, 2))
    assert.equal(sector("world", 512), d:read(11, 1))
  end)

  it("moves 9 MiB in one call each way (split across requests)", function()
    local d = blk.open("vda")
    local chunk = string.rep("0123456789abcdef", 32 * 1024) -- 512 KiB
    local data = {}
    for i = 1, 18 do data[i] = chunk:sub(i) .. chunk:sub(1, i - 1) end
    data = table.concat(data)
    assert.equal(9 * 1024 * 1024, #data)
    assert.is_true(d:write(4096, data))
    assert.equal(data, d:read(4096, #data // 512))
  end)

  it("lets other tasks run while the disk works", function()
    local d = blk.open("vda")
    local ticks = 0
    local ticker = task.spawn(function()
      for _ = 1, 1000 do ticks = ticks + 1; task.yield() end
    end)
    for i = 0, 63 do d:write(1000 + i, sector("t" .. i, 512)) end
    assert.truthy(ticks > 0)
    ticker:join()
  end)

  it("runs requests of many tasks at once", function()
    local d = blk.open("vda")
    local ts = {}
    for i = 1, 50 do
      ts[i] = task.spawn(function()
        assert(d:write(2000 + i, sector("task " .. i, 512)))
        return d:read(2000 + i, 1)
      end)
    end
    for i = 1, 50 do
      local ok, data = ts[i]:join()
      assert.equal(sector("task " .. i, 512), data)
    end
  end)

  it("says out of range and read-only", function()
    local d = blk.open("vda")
    local n = d:info().sectors
    assert.same({ nil, "out of range" }, { d:read(n, 1) })
    assert.same({ nil, "out of range" }, { d:write(n - 1, string.rep("x", 1024)) })
    local ro = blk.open("vdb")
    assert.same({ nil, "read-only" }, { ro:write(0, string.rep("x", 512)) })
    assert.equal(512, #ro:read(0, 1))
  end)

  it("raises on misuse", function()
    local d = blk.open("vda")
    assert.error(function() d:write(0, "not a sector") end, "bad argument #2 to 'write' (data must be a whole, non-zero number of sectors)")
    assert.error(function() d:read(-1, 1) end, "bad argument #1 to 'read' (sector must be 0 or more)")
    assert.error(function() d:read(0, 0) end, "bad argument #2 to 'read' (count must be 1 sector to 1 GiB)")
  end)
end)
