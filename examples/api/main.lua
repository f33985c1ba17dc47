-- api: a small REST service. Items are kept in the kv store on the first
-- disk, so they survive a reboot (in memory when there is no disk).
--
--   lunik run examples/api -p 8080:8080 --disk api.img:64M
--   curl -s localhost:8080/items -d '{"name":"tea","price":3.5}'
--   curl -s localhost:8080/items/1
--
--   curl -s localhost:8080/metrics    # Prometheus's text format
--
-- Boot arguments: port= (default 8080), log=, log_format=, metrics=off
-- (no /metrics and no counting).
local log = require "log"
local store = require "store"
local sys = require "sys"

local port = tonumber(sys.args.port) or 8080
local db, where = store.open()
local app = require("items")(db, where)
if sys.args.metrics ~= "off" then app:metrics() end
local server = assert(app:listen(port))
log.info("api listening", { port = port, store = where })
print(string.format("try: curl -s http://127.0.0.1:%d/items -d '{\"name\":\"tea\",\"price\":3.5}'", port))
