local sys = require "sys"
local task = require "task"
local timer = require "timer"

describe("task", function()
  it("spawns a task that runs once the caller waits", function()
    local ran = false
    local t = task.spawn(function() ran = true end)
    assert.falsy(ran)
    assert.same({ true }, { t:join() })
    assert.truthy(ran)
  end)

  it("passes arguments and returns results through join", function()
    local t = task.spawn(function(a, b) return a + b, "x" end, 2, 3)
    assert.same({ true, 5, "x" }, { t:join() })
    assert.same({ true, 5, "x" }, { t:join() }) -- joining again is fine
    assert.truthy(t:done())
  end)

  it("reports an error in a task to its joiner, and only ends that task", function()
    local t = task.spawn(function() error("boom", 0) end)
    local ok, err = t:join()
    assert.equal(nil, ok)
    assert.equal("boom", err)
  end)

  it("times out a join", function()
    local t = task.spawn(function() timer.sleep(0.3) return 1 end)
    local t0 = sys.monotonic()
    local ok, err = t:join(0.05)
    assert.equal(nil, ok)
    assert.equal("timeout", err)
    assert.truthy(sys.monotonic() - t0 < 0.25)
    assert.same({ true, 1 }, { t:join() })
  end)

  it("interleaves tasks at yields", function()
    local log = {}
    local function worker(name)
      for i = 1, 3 do log[#log + 1] = name .. i; task.yield() end
    end
    local a, b = task.spawn(worker, "a"), task.spawn(worker, "b")
    a:join(); b:join()
    assert.equal("a1 b1 a2 b2 a3 b3", table.concat(log, " "))
  end)

  it("knows the current task and refuses to join itself", function()
    local me = task.current()
    assert.truthy(me:id() >= 1)
    assert.error(function() me:join() end, "calling 'join' on bad self (a task cannot join itself)")
  end)

  it("runs thousands of tasks at once", function()
    local n, done = 5000, 0
    local ts = {}
    for i = 1, n do
      ts[i] = task.spawn(function() timer.sleep(0.01); done = done + 1 end)
    end
    for i = 1, n do ts[i]:join() end
    assert.equal(n, done)
  end)

  it("lets a coroutine inside a task block without leaving the task", function()
    local gen = coroutine.wrap(function()
      for i = 1, 3 do timer.sleep(0.001); coroutine.yield(i) end
    end)
    assert.equal(1, gen()); assert.equal(2, gen()); assert.equal(3, gen())
    local co = coroutine.create(function(x) timer.sleep(0.001); return x * 2 end)
    assert.same({ true, 42 }, { coroutine.resume(co, 21) })
    assert.equal("dead", coroutine.status(co))
  end)

  it("refuses to block where Lua cannot yield, with a clear message", function()
    local ok, err = pcall(table.sort, { 3, 1, 2 }, function(a, b)
      timer.sleep(0); return a < b
    end)
    assert.falsy(ok)
    assert.truthy(tostring(err):find("cannot block here", 1, true), err)
  end)
end)

describe("task.channel", function()
  it("passes values in order through a buffered channel", function()
    local ch = task.channel(3)
    assert.truthy(ch:send(1)); assert.truthy(ch:send(2)); assert.truthy(ch:send(3))
    assert.equal(3, #ch)
    assert.same({ nil, "timeout" }, { ch:send(4, 0) })
    assert.equal(1, ch:receive()); assert.equal(2, ch:receive())
    assert.equal(3, ch:receive())
    assert.same({ nil, "timeout" }, { ch:receive(0.01) })
  end)

  it("hands values from producer to consumer tasks, unbuffered", function()
    local ch = task.channel()
    local got = {}
    local consumer = task.spawn(function()
      for _ = 1, 100 do got[#got + 1] = ch:receive() end
    end)
    for i = 1, 100 do assert.truthy(ch:send(i, 1)) end
    consumer:join()
    assert.equal(100, #got)
    for i = 1, 100 do assert.equal(i, got[i]) end
  end)

  it("blocks a sender until there is room", function()
    local ch = task.channel(1)
    ch:send("a")
    local t = task.spawn(function() return ch:send("b") end)
    task.yield()
    assert.falsy(t:done())
    assert.equal("a", ch:receive())
    assert.same({ true, true }, { t:join(1) })
    assert.equal("b", ch:receive())
  end)

  it("drains then fails with closed after close", function()
    local ch = task.channel(2)
    ch:send(1)
    local waiter = task.spawn(function() return ch:receive() end)
    ch:close()
    assert.same({ nil, "closed" }, { ch:send(2) })
    assert.same({ true, 1 }, { waiter:join() })
    assert.same({ nil, "closed" }, { ch:receive() })
  end)

  it("refuses nil values and bad capacities", function()
    assert.error(function() task.channel(-1) end, "bad argument #1 to 'channel' (capacity must be 0 or more)")
    assert.error(function() task.channel():send(nil) end, "bad argument #1 to 'send' (cannot send nil)")
  end)
end)

describe("timer callbacks", function()
  it("fires after callbacks in deadline order", function()
    local log = {}
    timer.after(0.03, function() log[#log + 1] = "c" end)
    timer.after(0.01, function() log[#log + 1] = "a" end)
    timer.after(0.02, function() log[#log + 1] = "b" end)
    timer.sleep(0.08)
    assert.equal("abc", table.concat(log))
  end)

  it("cancels a pending timer", function()
    local fired = false
    local h = timer.after(0.02, function() fired = true end)
    assert.truthy(h:active())
    h:cancel(); h:cancel()
    assert.falsy(h:active())
    timer.sleep(0.05)
    assert.falsy(fired)
  end)

  it("repeats every interval until cancelled, and counts timers", function()
    local base = timer.count()
    local n = 0
    local h = timer.every(0.01, function() n = n + 1 end)
    assert.equal(base + 1, timer.count())
    timer.sleep(0.105)
    h:cancel()
    assert.equal(base, timer.count())
    local seen = n
    assert.truthy(n >= 5 and n <= 11, "fired " .. n .. " times")
    timer.sleep(0.03)
    assert.equal(seen, n)
  end)

  it("never overlaps a slow callback with itself", function()
    local running, overlaps, calls = 0, 0, 0
    local h = timer.every(0.005, function()
      running = running + 1
      if running > 1 then overlaps = overlaps + 1 end
      calls = calls + 1
      timer.sleep(0.02)
      running = running - 1
    end)
    timer.sleep(0.1)
    h:cancel()
    assert.equal(0, overlaps)
    assert.truthy(calls >= 2 and calls <= 6, calls .. " calls")
  end)

  it("keeps an interval timer going after its callback fails", function()
    local n = 0
    local h = timer.every(0.01, function() n = n + 1; error("tick failed") end)
    timer.sleep(0.055)
    h:cancel()
    assert.truthy(n >= 3, n)
  end)
end)

describe("the watchdog", function()
  local WATCHDOG = "stopped by the watchdog: the task ran for more than 0.2 s without yielding"

  it("stops a task that never yields, and the others go on", function()
    local before = task.watchdog(0.2)
    local ticks = 0
    local ticker = task.spawn(function()
      for _ = 1, 5 do timer.sleep(0.01); ticks = ticks + 1 end
    end)
    local runaway = task.spawn(function() while true do end end)
    local ok, err = runaway:join()
    task.watchdog(before)
    assert.equal(nil, ok)
    assert.truthy(err:find(WATCHDOG, 1, true), err)
    assert.truthy(ticker:join())
    assert.equal(5, ticks)
  end)

  it("reaches into coroutines and comes back after a pcall caught it", function()
    local before = task.watchdog(0.2)
    local t = task.spawn(function()
      local caught = 0
      for _ = 1, 2 do
        local ok, err = pcall(coroutine.wrap(function() while true do end end))
        if not ok and err:find(WATCHDOG, 1, true) then caught = caught + 1 end
      end
      return caught
    end)
    local ok, caught = t:join()
    task.watchdog(before)
    assert.equal(true, ok)
    assert.equal(2, caught)
  end)

  it("leaves alone a task that yields in time", function()
    local before = task.watchdog(0.2)
    local t = task.spawn(function()
      local t0 = require("sys").monotonic()
      while require("sys").monotonic() - t0 < 0.5 do
        for _ = 1, 1000 do end
        task.yield()
      end
      return "done"
    end)
    assert.same({ true, "done" }, { t:join() })
    task.watchdog(before)
  end)

  it("reports and checks its limit", function()
    local before = task.watchdog()
    assert.equal(5, before)
    assert.equal(5, task.watchdog(2.5))
    assert.equal(2.5, task.watchdog(before))
    assert.error(function() task.watchdog(-1) end,
      "bad argument #1 to 'watchdog' (limit must be from 0 to 1e9 seconds)")
  end)
end)
