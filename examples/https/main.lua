-- https: examples/api over TLS. The routes are examples/api's own
-- (items.lua and store.lua, bundled from there at build time); this file
-- only adds the certificate. See README.md for making one with openssl.
--
--   examples/https/make-cert.sh                  # certs/ for localhost
--   tools/lunik run examples/https --lua-path examples/api -p 8443:8443
--   curl --cacert examples/https/certs/ca.pem https://localhost:8443/healthz
--
-- Boot arguments: port= (default 8443), http_port= to also serve plain
-- HTTP (e.g. for a load balancer's health checks).
local log = require "log"
local store = require "store"
local sys = require "sys"

local port = tonumber(sys.args.port) or 8443
local db, where = store.open()
local app = require("items")(db, where)

local ok, err = pcall(function()
  assert(app:listen(port, { tls = { cert = "certs/server.pem", key = "certs/server.key" } }))
end)
if not ok then
  print("https: cannot serve TLS: " .. tostring(err))
  print("make a certificate first: examples/https/make-cert.sh (see README.md)")
  sys.exit(1)
end
if sys.args.http_port then assert(app:listen(tonumber(sys.args.http_port))) end
log.info("https listening", { port = port, store = where })
print(string.format("try: curl --cacert examples/https/certs/ca.pem https://localhost:%d/healthz", port))
