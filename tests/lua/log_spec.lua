local log = require "log"

-- Runs fn with io.stdout captured; returns the lines written.
local function capture(fn)
  local real, buf = io.stdout, {}
  io.stdout = { write = function(self, ...) for _, s in ipairs({ ... }) do buf[#buf + 1] = s end return self end }
  local ok, err = pcall(fn)
  io.stdout = real
  assert(ok, err)
  local lines = {}
  for l in table.concat(buf):gmatch("[^\n]+") do lines[#lines + 1] = l end
  return lines
end

describe("log", function()
  after_each(function() log.set_level("info"); log.set_format("text") end)

  it("writes text lines with a timestamp, level, message and sorted fields", function()
    local lines = capture(function()
      log.info("listening", { port = 8080, addr = "0.0.0.0", note = "two words" })
    end)
    assert.equal(1, #lines)
    assert.truthy(lines[1]:match(
      '^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ INFO listening addr=0%.0%.0%.0 note="two words" port=8080$'),
      lines[1])
  end)

  it("filters by level", function()
    local lines = capture(function()
      log.debug("hidden"); log.info("shown"); log.warn("w"); log.error("e")
      log.set_level("error"); log.warn("hidden too"); log.error("e2")
      log.set_level("debug"); log.debug("d")
    end)
    local levels = {}
    for _, l in ipairs(lines) do levels[#levels + 1] = l:match("Z (%u+) ") end
    assert.same({ "INFO", "WARN", "ERROR", "ERROR", "DEBUG" }, levels)
    assert.equal("debug", log.level())
  end)

  it("writes one JSON object per line", function()
    local json = require "json"
    log.set_format("json")
    local lines = capture(function() log.warn("slow", { ms = 12.5, path = "/x" }) end)
    local obj = assert(json.decode(lines[1]))
    assert.equal("warn", obj.level)
    assert.equal("slow", obj.msg)
    assert.equal(12.5, obj.ms)
    assert.equal("/x", obj.path)
    assert.truthy(obj.ts:match("Z$"))
  end)

  it("logs JSON lines even for NaN, infinity and invalid UTF-8", function()
    local json = require "json"
    log.set_format("json")
    local lines = capture(function()
      log.info("bad \255 bytes", { nan = 0 / 0, inf = math.huge, bin = "a\x80b", f = print })
    end)
    local obj = assert(json.decode(lines[1]))
    assert.equal("bad \\xFF bytes", obj.msg)
    assert.equal("a\\x80b", obj.bin)
    assert.equal("inf", obj.inf)
    assert.truthy(obj.f:find("function", 1, true))
  end)

  it("refuses unknown levels, formats and non-table fields", function()
    assert.error(function() log.set_level("loud") end, "log level must be debug, info, warn, error or off, not loud")
    assert.error(function() log.set_format("xml") end, "log format must be text or json, not xml")
    assert.error(function() log.info("x", "not a table") end, "log fields must be a table")
  end)
end)
