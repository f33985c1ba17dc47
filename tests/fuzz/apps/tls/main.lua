-- The app of stack_tls.c: an HTTPS http.app (TLS 1.2 and 1.3) and a
-- client task that sends each fuzz input raw on a new connection over
-- lwIP's loopback, half-closes, and reads the server's answer to the end.
-- certs/ is made for each run (tests/run.py, certs.wanted).
local fuzz = require "fuzz"
local http = require "http"
local net = require "net"

local app = http.app()
app:get("/", function() return { ok = true } end)
app:post("/echo", function(req) return req:body() end)
assert(app:listen(8443, { tls = { cert = "certs/server.pem",
                                  key = "certs/server.key" },
                          header_timeout = 1, body_timeout = 1,
                          idle_timeout = 1, send_timeout = 1, log = false }))

while true do
  local input = fuzz.next()
  local c = net.connect("127.0.0.1", 8443, 2)
  if c then
    c:settimeout(2)
    c:send(input)
    c:shutdown("send")
    repeat local data = c:receiveany(65536) until not data
    c:close()
  end
  fuzz.done()
end
