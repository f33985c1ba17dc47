-- The app of stack_tls.c: an HTTPS http.app (TLS 1.2 and 1.3) and
-- fuzz_tcp's client, which sends each input raw on a new connection.
-- certs/ is made for each run (tests/run.py, certs.wanted).
local http = require "http"

local app = http.app()
app:get("/", function() return { ok = true } end)
app:post("/echo", function(req) return req:body() end)
assert(app:listen(8443, { tls = { cert = "certs/server.pem",
                                  key = "certs/server.key" },
                          header_timeout = 1, body_timeout = 1,
                          idle_timeout = 1, send_timeout = 1, log = false }))

require("fuzz_tcp").run(8443)
