-- http.metrics: what app:metrics([path]) installs. An app's requests are
-- counted by method, route pattern and status, timed by method and route,
-- and the registry (metrics.default) is served at GET path ("/metrics")
-- with the runtime's, the network's and the storage's figures read at
-- each scrape. docs/http.md lists every metric.
--
-- Labels stay bounded whatever clients send: the route is the pattern
-- that matched ("/items/:id"), or "unmatched"; a method outside HTTP's
-- own is "other"; statuses are three digits.

local metrics = require "metrics"
local sys = require "sys"

local M = {}

local METHODS = { GET = true, HEAD = true, POST = true, PUT = true,
  DELETE = true, PATCH = true, OPTIONS = true, CONNECT = true, TRACE = true }
local UNMATCHED = "unmatched"

local monotonic = sys.monotonic

-- The HTTP metrics of a registry, made once however many apps use it.
local function http_metrics(reg)
  if reg._http then return reg._http end
  local h = {
    requests = reg:counter("http_requests_total",
      "HTTP requests answered, by method, route pattern and status.",
      { "method", "route", "status" }),
    duration = reg:histogram("http_request_duration_seconds",
      "Time from a request's head to the end of its answer.",
      { "method", "route" }),
    in_flight = reg:gauge("http_requests_in_flight",
      "Requests being handled now."),
    connections = reg:gauge("http_connections_open",
      "HTTP connections open now."),
    bytes_in = reg:counter("http_request_body_bytes_total",
      "Request body bytes read."),
    bytes_out = reg:counter("http_response_body_bytes_total",
      "Response body bytes sent."),
    servers = setmetatable({}, { __mode = "k" }),
  }
  reg:collect(function()
    local n = 0
    for server in pairs(h.servers) do
      if not server.closing then n = n + server.active end
    end
    h.connections:set(n)
  end)
  reg._http = h
  return h
end

-- The hooks http.server calls around each request of an app that has
-- metrics: begin() as the handler starts, done() once the answer is out.
-- They run on every request, so the series of each (route, method,
-- status) are looked up once and kept (a few hundred at most: the labels
-- are bounded above), not found again through labels() each time.
local function hooks(h)
  local requests, duration = h.requests, h.duration
  local in_flight = h.in_flight.root
  local bytes_in, bytes_out = h.bytes_in.root, h.bytes_out.root
  local series = {} -- series[route][method][status] = { requests, duration }
  local out = { servers = h.servers }

  local function lookup(route, method, status)
    local by_method = series[route]
    if not by_method then by_method = {}; series[route] = by_method end
    local by_status = by_method[method]
    if not by_status then by_status = {}; by_method[method] = by_status end
    local pair = by_status[status]
    if not pair then
      pair = { requests:labels(method, route, status), duration:labels(method, route) }
      by_status[status] = pair
    end
    return pair
  end

  function out.begin()
    in_flight.value = in_flight.value + 1
  end

  function out.done(req, status, sent, t0)
    in_flight.value = in_flight.value - 1
    local method = req.method
    if not METHODS[method] then method = "other" end
    local pair = lookup(req.route or UNMATCHED, method, status)
    local count = pair[1]
    count.value = count.value + 1
    pair[2]:observe(monotonic() - t0)
    local body = req._body
    if body then bytes_in.value = bytes_in.value + #body end
    if sent then bytes_out.value = bytes_out.value + sent end
  end
  return out
end

-- app:metrics([path [, registry]])
function M.install(app, path, reg)
  path = path or "/metrics"
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then
    error("app:metrics: path must start with /", 3)
  end
  reg = reg or metrics.default
  require("lunik.runtime_metrics").install(reg)
  app._metrics = hooks(http_metrics(reg))
  app:get(path, function()
    return 200, reg:render(), { ["content-type"] = metrics.CONTENT_TYPE }
  end)
  return reg
end

return M
