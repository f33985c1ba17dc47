local sys = require "sys"
local timer = require "timer"

describe("timer.sleep", function()
  it("sleeps about as long as asked", function()
    local t0 = sys.monotonic()
    timer.sleep(0.05)
    local dt = sys.monotonic() - t0
    assert.truthy(dt >= 0.05, "woke early: " .. dt)
    assert.truthy(dt < 0.5, "slept far too long: " .. dt)
  end)

  it("returns at once for 0", function()
    local t0 = sys.monotonic()
    timer.sleep(0)
    assert.truthy(sys.monotonic() - t0 < 0.05)
  end)

  it("refuses negative, NaN and non-numbers", function()
    assert.error(function() timer.sleep(-1) end, "bad argument #1 to 'sleep' (seconds must be a number from 0 to 1e9)")
    assert.error(function() timer.sleep(0 / 0) end, "bad argument #1 to 'sleep' (seconds must be a number from 0 to 1e9)")
    assert.error(function() timer.sleep("soon") end, "bad argument #1 to 'sleep' (number expected, got string)")
  end)
end)
