-- httpd: the HTTP server under test from the host (tests/system/suite_http.py).
local crypto = require "crypto"
local http = require "http"
local sys = require "sys"

local app = http.app()
app:get("/small", function() return { message = "hello, world", n = 42 } end)
app:post("/upload", function(req)
  local body = req:body()
  return { bytes = #body, sha256 = crypto.hex(crypto.sha256(body)) }
end)
app:get("/boom", function() error("secret internal detail") end)
app:get("/slow", function() require("timer").sleep(0.2); return "slow" end)
local port = tonumber(sys.args.port) or 8080
assert(app:listen(port, {
  max_body = 16 * 1024 * 1024,
  header_timeout = tonumber(sys.args.header_timeout) or 2,
  log = sys.args.quiet == nil,
}))
print("httpd ready on " .. port)
app:get("/stats", function() return require("net").stats() end)
