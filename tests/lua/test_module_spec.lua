-- The test module checks itself: hooks order and assertion failures.
local log = {}

describe("hooks", function()
  before_each(function() log[#log + 1] = "outer before" end)
  after_each(function() log[#log + 1] = "outer after" end)
  describe("inner", function()
    before_each(function() log[#log + 1] = "inner before" end)
    after_each(function() log[#log + 1] = "inner after" end)
    it("runs outer before inner", function()
      assert.same({ "outer before", "inner before" }, log)
    end)
  end)
  it("ran inner after before outer after", function()
    assert.same({ "outer before", "inner before", "inner after", "outer after",
                  "outer before" }, log)
  end)
end)

describe("assertions", function()
  it("fail with expected and actual", function()
    local err = assert.error_matches(function() assert.equal(1, 2) end, "expected: 1", 1, true)
    assert.matches("expected: 1", err)
    assert.matches("actual: 2", err)
  end)
  it("compare tables deeply", function()
    assert.same({ a = { 1, 2, { b = true } } }, { a = { 1, 2, { b = true } } })
    assert.error_matches(function() assert.same({ 1 }, { 1, 2 }) end, "expected (deep): { [1] = 1 }", 1, true)
    local cyc = {}; cyc.self = cyc
    local cyc2 = {}; cyc2.self = cyc2
    assert.same(cyc, cyc2)
  end)
  it("match error messages with or without their position", function()
    assert.error(function() error("plain") end, "plain")
    assert.error(function() error({ code = 7 }) end, { code = 7 })
    assert.error(function() assert.error(function() end, "an error") end,
      "expected an error, none was raised")
  end)
end)
