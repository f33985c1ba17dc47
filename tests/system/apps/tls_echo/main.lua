-- tls_echo: a TLS line echo server for tests/system/suite_tls.py, which
-- copies this file and the certificates it made (certs/) into an app.
-- Each connection gets a task: the handshake (at most hs= seconds), then
-- every line comes back until "bye" or the client closes. What happens to
-- each connection is printed, for the test to check.
--
-- Boot arguments: port= (default 8443), hs= (handshake timeout, 5 s).
local net = require "net"
local sys = require "sys"
local task = require "task"
local tls = require "tls"

local port = tonumber(sys.args.port) or 8443
local hs_timeout = tonumber(sys.args.hs) or 5

local ctx = assert(tls.server{ cert = "certs/server.pem", key = "certs/server.key",
                               alpn = { "echo/1", "http/1.1" } })
local n = 0

local function serve(conn, id)
  local c = assert(tls.wrap(conn, ctx))
  local ok, err = c:handshake(hs_timeout)
  if not ok then
    print(string.format("conn %d: handshake: %s", id, err))
    c:close()
    return
  end
  print(string.format("conn %d: %s %s reused=%s alpn=%s sni=%s", id,
    select(2, c:cipher()), (c:cipher()), tostring(c:session_reused()),
    tostring(c:alpn()), tostring(c:sni())))
  c:settimeout(30)
  while true do
    local line, rerr = c:receive()
    if not line then
      print(string.format("conn %d: end: %s", id, rerr))
      break
    end
    if line == "bye" then
      c:send("bye\n")
      print(string.format("conn %d: bye", id))
      break
    end
    c:send(line .. "\n")
  end
  c:close()
end

local srv = assert(net.listen("*", port))
print("tls_echo: ready on " .. port)
while true do
  local conn = srv:accept()
  if conn then
    n = n + 1
    task.spawn(serve, conn, n)
  end
end
