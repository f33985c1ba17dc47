describe("the standard libraries", function()
  it("read files of the image", function()
    local f = assert(io.open("data/two_lines.txt"))
    assert.equal("line one", f:read("l"))
    assert.equal("line two\n", f:read("a"))
    assert.equal(nil, f:read("l"))
    f:close()
    local lines = {}
    for l in io.lines("data/two_lines.txt") do lines[#lines + 1] = l end
    assert.same({ "line one", "line two" }, lines)
  end)

  it("refuse writes with a clear error", function()
    local f, err = io.open("new.txt", "w")
    assert.is_nil(f)
    assert.matches("Read%-only file system", err)
    assert.error(function() io.output("x.txt") end, "cannot open file 'x.txt' (Read-only file system)")
  end)

  it("format numbers like Lua on Linux", function()
    assert.equal("3.14", string.format("%.2f", math.pi))
    assert.equal("9007199254740993", tostring(9007199254740993))
    assert.equal("0x1p+0", string.format("%a", 1.0))
    assert.equal(1e300 * 1e10, math.huge)
    assert.equal("1e+100", tostring(1e100))
    assert.equal(255, tonumber("ff", 16))
    assert.equal(0.1, tonumber("0.1"))
  end)

  it("give dates in UTC", function()
    assert.equal("1970-01-01 00:00:00", os.date("!%Y-%m-%d %H:%M:%S", 0))
    assert.equal(86400, os.time({ year = 1970, month = 1, day = 2, hour = 0 }))
  end)

  it("run coroutines, closures and string patterns", function()
    local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1); return b * 2 end)
    assert.equal(2, co(1))
    assert.equal(10, co(5))
    assert.equal("h-e-l-l-o", ("hello"):gsub(".", "%0-"):sub(1, -2))
    assert.equal(3, utf8.len("añb"))
  end)

  it("sort and concatenate", function()
    local t = {}
    for i = 1, 1000 do t[i] = (i * 7919) % 1000 end
    table.sort(t)
    for i = 2, #t do assert.truthy(t[i - 1] <= t[i]) end
    assert.equal("a,b", table.concat({ "a", "b" }, ","))
  end)

  it("collect garbage", function()
    local before = collectgarbage("count")
    do local junk = {} for i = 1, 100000 do junk[i] = { i } end end
    collectgarbage()
    assert.truthy(collectgarbage("count") < before + 1000)
  end)
end)
