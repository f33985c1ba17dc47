-- busted's pending, finally after a failure, and a failing setup, as
-- tests/system/suite_ci.py counts them: 1 passed, 2 failed, 2 pending.
local ran = {}

describe("pending", function()
  pending("not written yet")
  it("ends as pending inside", function()
    pending("waits for a fix")
    error("not reached")
  end)
end)

describe("finally after a failure", function()
  it("fails on purpose", function()
    finally(function() ran.finally = true end)
    assert.are.equal(1, 2)
  end)
  it("saw the finally run", function() assert.is_true(ran.finally) end)
end)

describe("a setup that fails", function()
  setup(function() error("no database") end)
  it("fails with it", function() end)
end)
