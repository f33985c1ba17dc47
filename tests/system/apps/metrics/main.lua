-- metrics: an app with app:metrics() for tests/system/suite_metrics.py.
local http = require "http"
local log = require "log"
local metrics = require "metrics"
local sys = require "sys"

local app = http.app()
local orders = metrics.counter("shop_orders_total", "Orders taken.", { "kind" })
app:get("/ok", function() return { ok = true } end)
app:get("/items/:id", function(req) return { id = req.params.id } end)
app:post("/orders/:kind", function(req)
  orders:labels(req.params.kind):inc()
  log.info("order", { id = req.id, kind = req.params.kind })
  return 201, { kind = req.params.kind }
end)
app:get("/boom", function() error("on purpose") end)
app:metrics()
local port = tonumber(sys.args.port) or 8080
assert(app:listen(port))
print("metrics app ready")
