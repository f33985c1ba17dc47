-- httpd: the HTTP server under test from the host (tests/system/suite_http.py).
local crypto = require "crypto"
local http = require "http"
local sys = require "sys"

local app = http.app()
local server
app:get("/small", function() return { message = "hello, world", n = 42 } end)
app:get("/healthz", function() return { ok = true } end)
app:post("/upload", function(req)
  local body = req:body()
  return { bytes = #body, sha256 = crypto.hex(crypto.sha256(body)) }
end)
app:get("/boom", function() error("secret internal detail") end)
app:get("/slow", function() require("timer").sleep(0.2); return "slow" end)
-- a runaway handler: only the watchdog ends it
app:get("/busy", function() while true do end end)
-- answers without reading the body it was sent
app:get("/ignore", function() return "ignored" end)
-- a streamed body: chunked for HTTP/1.1, raw then a close for HTTP/1.0
app:get("/stream", function()
  local n = 0
  return function()
    n = n + 1
    if n <= 3 then return "piece " .. n .. "\n" end
  end
end)
app:get("/refused", function()
  local out = {}
  for status, n in pairs(server:stats().refused) do out[tostring(status)] = n end
  return out
end)
local port = tonumber(sys.args.port) or 8080
server = assert(app:listen(port, {
  max_body = 16 * 1024 * 1024,
  header_timeout = tonumber(sys.args.header_timeout) or 2,
  log = sys.args.quiet == nil,
}))
-- the same routes with a limit far above the guest's memory
local big = http.app()
big:put("/big", function(req) return { bytes = #req:body() } end)
assert(big:listen(port + 1, { max_body = 2 * 1024 * 1024 * 1024, log = false }))
print("httpd ready on " .. port)
app:get("/stats", function() return require("net").stats() end)
