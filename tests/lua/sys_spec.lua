local sys = require "sys"

describe("sys", function()
  it("gives the boot arguments as a table", function()
    assert.equal("table", type(sys.args))
    assert.equal("string", type(sys.cmdline))
  end)

  it("has a monotonic clock that advances", function()
    local a = sys.monotonic()
    local b = sys.monotonic()
    assert.truthy(b >= a)
    assert.truthy(a > 0)
    assert.equal(sys.monotonic() >= b, true)
  end)

  it("counts CPU time: all of a busy loop, little of a sleep", function()
    local timer = require "timer"
    local c0, t0 = sys.cpu(), sys.monotonic()
    while sys.monotonic() - t0 < 0.2 do end
    local busy_cpu, busy_t = sys.cpu() - c0, sys.monotonic() - t0
    -- nothing halts inside the loop: its CPU time is its whole time
    assert.truthy(math.abs(busy_cpu - busy_t) < 0.005,
      "busy: cpu " .. busy_cpu .. " s in " .. busy_t .. " s")
    c0, t0 = sys.cpu(), sys.monotonic()
    timer.sleep(0.3)
    local slept_cpu, slept_t = sys.cpu() - c0, sys.monotonic() - t0
    assert.truthy(slept_cpu < slept_t / 2,
      "sleep: cpu " .. slept_cpu .. " s in " .. slept_t .. " s")
    assert.truthy(sys.cpu() <= sys.monotonic())
  end)

  it("has a wall clock after 2024", function()
    assert.truthy(sys.time() > 1704067200)
    assert.truthy(math.abs(sys.time() - os.time()) < 2)
  end)

  it("reports memory figures", function()
    local m = sys.mem()
    assert.truthy(m.heap_total > 0)
    assert.truthy(m.heap_used > 0 and m.heap_used <= m.heap_total)
    assert.truthy(m.heap_peak >= m.heap_used)
    local before = sys.mem().lua
    local big = {}
    for i = 1, 10000 do big[i] = i end
    assert.truthy(sys.mem().lua > before)
  end)

  it("counts the bytes in live allocations as heap_used", function()
    collectgarbage()
    local m0 = sys.mem()
    assert.truthy(m0.heap_used >= m0.lua, "Lua's memory is part of the heap")
    local s = string.rep("x", 1 << 20)
    local m1 = sys.mem()
    assert.truthy(m1.heap_used >= m0.heap_used + (1 << 20),
      ("1 MiB more in use: %d -> %d"):format(m0.heap_used, m1.heap_used))
    assert.truthy(m1.heap_used <= m1.heap_peak and m1.heap_peak <= m1.heap_total)
    s = nil
    collectgarbage()
    local m2 = sys.mem()
    assert.truthy(m2.heap_used < m1.heap_used - (1 << 19),
      ("freed: %d -> %d"):format(m1.heap_used, m2.heap_used))
    for _ = 1, 50 do
      local m = sys.mem()
      assert.truthy(m.heap_used > 0 and m.heap_used <= m.heap_peak)
    end
  end)

  it("has a boot timeline from the platform's start to main.lua", function()
    local t = sys.boot_timeline()
    -- the guest's starts at pvh_entry (system/clocks_and_timeline checks
    -- it), the hosted process's at exec
    assert.truthy(t[1].name == "pvh_entry" or t[1].name == "exec")
    assert.equal(0, t[1].us)
    assert.equal("main.lua", t[#t].name)
    for i = 2, #t do assert.truthy(t[i].us >= t[i - 1].us) end
  end)

  it("lists the image's files", function()
    local files = sys.files()
    local seen = {}
    for _, f in ipairs(files) do seen[f] = true end
    assert.truthy(seen["sys_spec.lua"])
    assert.truthy(seen["data/two_lines.txt"])
    assert.same({ "two_lines.txt" }, sys.files("data"))
    local std = {}
    for _, f in ipairs(sys.files("/stdlib")) do std[f] = true end
    assert.truthy(std["test.lua"])
  end)

  it("refuses a bad exit code before converting it", function()
    local range = "bad argument #1 to 'exit' (exit code out of 0..126)"
    assert.error(function() sys.exit(300) end, range)
    assert.error(function() sys.exit(2^32) end, range)
    assert.error(function() sys.exit(-1) end, range)
    assert.error(function() sys.exit(1 << 62) end, range)
    assert.error(function() sys.exit("x") end,
      "bad argument #1 to 'exit' (number expected, got string)")
    assert.error(function() sys.exit(1.5) end,
      "bad argument #1 to 'exit' (number has no integer representation)")
  end)
end)
