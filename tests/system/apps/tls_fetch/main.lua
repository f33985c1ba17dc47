-- tls_fetch: a TLS client for tests/system/suite_tls.py, which copies this
-- file and its certificates (certs/) into an app. It fetches "/" twice
-- from an `openssl s_server -tls1_3 -www` on the host (QEMU's gateway
-- 10.0.2.2) with the certificate verified, the second time resuming, then
-- tries names, CAs and a version that must be refused.
--
-- Boot arguments: port= (the server's), host= (default 10.0.2.2).
local sys = require "sys"
local tls = require "tls"

local host = sys.args.host or "10.0.2.2"
local port = assert(tonumber(sys.args.port), "port= is required")

print("system ca: " .. select(2, tls.client{ ca = "system" }))

local ctx = assert(tls.client{ ca = "certs/ca.pem", server_name = "localhost" })
-- twice: the second offers the TLS 1.3 ticket the first read
for _, name in ipairs({ "fetch", "fetch again" }) do
  local c, err = tls.connect(host, port, ctx, 30)
  if not c then
    print(name .. ": " .. err)
    sys.exit(1)
  end
  print(name .. ": " .. table.concat({ c:cipher() }, " ") .. " reused=" ..
    tostring(c:session_reused()))
  assert(c:send("GET / HTTP/1.0\r\n\r\n"))
  c:settimeout(30)
  local body, rerr, partial = c:receive("*a")
  body = body or partial
  print(name .. " status: " .. (body:match("^[^\r\n]*") or "?"))
  print(name .. " end: " .. tostring(rerr or "close_notify"))
  c:close()
end

for _, case in ipairs({
  { "wrong name", { ca = "certs/ca.pem", server_name = "wrong.lunik" } },
  { "wrong ca", { ca = "certs/other-ca.pem", server_name = "localhost" } },
  { "tls 1.2 only", { ca = "certs/ca.pem", server_name = "localhost", max_version = "1.2" } },
}) do
  local r, e = tls.connect(host, port, assert(tls.client(case[2])), 30)
  print(case[1] .. ": " .. tostring(r and "accepted" or e))
  if r then r:close() end
end
print("done")
