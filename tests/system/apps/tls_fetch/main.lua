-- tls_fetch: a TLS client for tests/system/suite_tls.py, which copies this
-- file and its certificates (certs/) into an app. It fetches "/" from an
-- `openssl s_server -www` on the host (QEMU's gateway 10.0.2.2) with the
-- certificate verified, then tries names and CAs that must be refused.
--
-- Boot arguments: port= (the server's), host= (default 10.0.2.2).
local sys = require "sys"
local tls = require "tls"

local host = sys.args.host or "10.0.2.2"
local port = assert(tonumber(sys.args.port), "port= is required")

print("system ca: " .. select(2, tls.client{ ca = "system" }))

local ctx = assert(tls.client{ ca = "certs/ca.pem", server_name = "localhost" })
local c, err = tls.connect(host, port, ctx, 30)
if not c then
  print("fetch: " .. err)
  sys.exit(1)
end
print("fetch: " .. table.concat({ c:cipher() }, " "))
assert(c:send("GET / HTTP/1.0\r\n\r\n"))
c:settimeout(30)
local body, rerr, partial = c:receive("*a")
body = body or partial
print("fetch status: " .. (body:match("^[^\r\n]*") or "?"))
print("fetch end: " .. tostring(rerr or "close_notify"))
print("fetch bytes: " .. #body)
c:close()

for _, case in ipairs({
  { "wrong name", { ca = "certs/ca.pem", server_name = "wrong.lunik" } },
  { "wrong ca", { ca = "certs/other-ca.pem", server_name = "localhost" } },
}) do
  local r, e = tls.connect(host, port, assert(tls.client(case[2])), 30)
  print(case[1] .. ": " .. tostring(r and "accepted" or e))
  if r then r:close() end
end
print("done")
