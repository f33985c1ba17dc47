-- metrics: counters, gauges and histograms with labels, rendered in
-- Prometheus's text exposition format 0.0.4 (what Prometheus,
-- VictoriaMetrics, Grafana Agent and OpenMetrics checks scrape).
--
--   local metrics = require "metrics"
--   local hits = metrics.counter("app_hits_total", "Hits.", { "kind" })
--   hits:labels("page"):inc()
--   local temp = metrics.gauge("app_temperature_celsius", "Now.")
--   temp:set(21.5)
--   local lat = metrics.histogram("app_latency_seconds", "Latency.", {},
--     { buckets = { 0.01, 0.1, 1 } })
--   lat:observe(0.042)
--   metrics.render() -> the exposition text of the default registry
--
-- Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
-- [a-zA-Z_][a-zA-Z0-9_]* (not starting with "__"); a bad one, a name
-- registered twice, or a label set of the wrong size raises at the call
-- that makes it. Cardinality is bounded: past max_series label sets
-- (default 500, settable per metric) a metric folds new ones into one
-- series whose labels all read "_other", and counts them in
-- lunik_metrics_folded_total{metric=...}, instead of eating memory.
--
-- Pure Lua without bindings: tests/unit/test_metrics.lua runs it on the
-- host.

local M = {}

local concat, floor, format = table.concat, math.floor, string.format
local mtype = math.type

local NAME_RE = "^[a-zA-Z_:][a-zA-Z0-9_:]*$"
local LABEL_RE = "^[a-zA-Z_][a-zA-Z0-9_]*$"
local OTHER = "_other"
M.DEFAULT_BUCKETS = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 }
M.DEFAULT_MAX_SERIES = 500

-- ---- text

-- A sample value as the exposition format writes it (Go's ParseFloat
-- reads it back): integers plainly, +Inf, -Inf, NaN, else the shortest
-- of %.15g, %.16g, %.17g that reads back as the same number.
local function number(v)
  if mtype(v) == "integer" then return tostring(v) end
  if v ~= v then return "NaN" end
  if v == math.huge then return "+Inf" end
  if v == -math.huge then return "-Inf" end
  if v == floor(v) and v > -2^53 and v < 2^53 then return format("%d", v) end
  for _, f in ipairs({ "%.15g", "%.16g" }) do -- the shortest that reads back
    local s = format(f, v)
    if tonumber(s) == v then return s end
  end
  return format("%.17g", v)
end
M.format_number = number

local function escape_label(v)
  return (v:gsub('[\\"\n]', { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

local function escape_help(v)
  return (v:gsub("[\\\n]", { ["\\"] = "\\\\", ["\n"] = "\\n" }))
end

-- ---- the registry

local Registry = {}
Registry.__index = Registry

-- metrics.registry() -> a registry of its own (metrics.default is the one
-- the module-level functions and app:metrics() use).
function M.registry()
  local r = setmetatable({ list = {}, by_name = {}, collectors = {} }, Registry)
  r.folded = r:counter("lunik_metrics_folded_total",
    "Label sets folded into the _other series once a metric had max_series.",
    { "metric" }, { max_series = 1000 })
  return r
end

-- registry:collect(fn): fn() runs before every render, to set gauges
-- from figures that are read rather than counted (memory, connections).
function Registry:collect(fn)
  if type(fn) ~= "function" then error("metrics: collect takes a function", 2) end
  self.collectors[#self.collectors + 1] = fn
end

-- registry:get(name) -> the metric registered under name, or nil.
function Registry:get(name)
  return self.by_name[name]
end

local Metric = {}
Metric.__index = Metric

local function check_labels(name, labels, level)
  if labels == nil then return {} end
  if type(labels) ~= "table" then
    error("metrics: " .. name .. ": labels must be a list of names", level)
  end
  local out, seen = {}, {}
  for i, l in ipairs(labels) do
    if type(l) ~= "string" or not l:find(LABEL_RE) or l:sub(1, 2) == "__" then
      error(format("metrics: %s: bad label name %q", name, tostring(l)), level)
    end
    if seen[l] then error(format("metrics: %s: label %q twice", name, l), level) end
    seen[l] = true
    out[i] = l
  end
  return out
end

local function register(reg, kind, name, help, labels, opts, level)
  level = level + 1
  if type(name) ~= "string" or not name:find(NAME_RE) then
    error(format("metrics: bad metric name %q (expected [a-zA-Z_:][a-zA-Z0-9_:]*)",
      tostring(name)), level)
  end
  if reg.by_name[name] then
    error(format("metrics: %s is registered already", name), level)
  end
  if help ~= nil and type(help) ~= "string" then
    error("metrics: " .. name .. ": help must be a string", level)
  end
  opts = opts or {}
  local max = opts.max_series or M.DEFAULT_MAX_SERIES
  if mtype(max) ~= "integer" or max < 1 then
    error("metrics: " .. name .. ": max_series must be a positive integer", level)
  end
  local m = setmetatable({ registry = reg, kind = kind, name = name,
    help = help or "", label_names = check_labels(name, labels, level),
    max_series = max, series = {}, nseries = 0, children = {} }, Metric)
  if kind == "histogram" then
    for _, l in ipairs(m.label_names) do
      if l == "le" then error("metrics: " .. name .. ": a histogram cannot have the label le", level) end
    end
    local b = opts.buckets or M.DEFAULT_BUCKETS
    if type(b) ~= "table" or #b == 0 then
      error("metrics: " .. name .. ": buckets must be a non-empty list", level)
    end
    for i, v in ipairs(b) do
      if type(v) ~= "number" or (i > 1 and v <= b[i - 1]) then
        error("metrics: " .. name .. ": buckets must be increasing numbers", level)
      end
    end
    m.buckets = b
  end
  reg.list[#reg.list + 1] = m
  reg.by_name[name] = m
  if #m.label_names == 0 then m.root = m:child({}) end
  return m
end

function Registry:counter(name, help, labels, opts)
  return register(self, "counter", name, help, labels, opts, 2)
end

function Registry:gauge(name, help, labels, opts)
  return register(self, "gauge", name, help, labels, opts, 2)
end

function Registry:histogram(name, help, labels, opts)
  return register(self, "histogram", name, help, labels, opts, 2)
end

-- ---- series (one label set of a metric)

local Series = {}
Series.__index = Series
-- A histogram's series: observe() is on the path of every request an app
-- with metrics serves, so its kind is in its metatable, not checked per call.
local HSeries = setmetatable({}, { __index = Series })
HSeries.__index = HSeries

function Metric:child(values)
  local hist = self.kind == "histogram"
  local s = setmetatable({ metric = self, values = values, value = 0 },
    hist and HSeries or Series)
  if hist then
    s.counts, s.sum, s.count = {}, 0, 0
    for i = 1, #self.buckets do s.counts[i] = 0 end
  end
  self.nseries = self.nseries + 1
  self.series[self.nseries] = s
  return s
end

-- metric:labels(v1, v2, ...) -> the series of those label values (strings
-- or numbers, one per label name), made on first use.
function Metric:labels(...)
  local names = self.label_names
  local n = select("#", ...)
  if n ~= #names then
    error(format("metrics: %s takes %d label value(s) (%s), given %d", self.name,
      #names, concat(names, ", "), n), 2)
  end
  if n == 0 then return self.root end
  local node = self.children
  for i = 1, n - 1 do
    local v = select(i, ...)
    if type(v) ~= "string" then v = tostring(v) end -- 200 and "200" alike
    local next_node = node[v]
    if not next_node then
      next_node = {}
      node[v] = next_node
    end
    node = next_node
  end
  local last = select(n, ...)
  if type(last) ~= "string" then last = tostring(last) end
  local s = node[last]
  if s then return s end
  local values = { ... }
  for i = 1, n do
    local v = values[i]
    local tv = type(v)
    if tv ~= "string" and tv ~= "number" and tv ~= "boolean" then
      error(format("metrics: %s: label %s must be a string or a number, not %s",
        self.name, names[i], tv), 2)
    end
    values[i] = tostring(v)
  end
  if self.nseries >= self.max_series then
    if not self.other then
      local o = {}
      for i = 1, n do o[i] = OTHER end
      self.other = self:child(o)
    end
    self.registry.folded:labels(self.name):inc()
    return self.other
  end
  s = self:child(values)
  node[last] = s
  return s
end

local function root(m, what)
  local s = m.root
  if not s then
    error(format("metrics: %s has labels (%s): use :labels(...):%s", m.name,
      concat(m.label_names, ", "), what), 3)
  end
  return s
end

function Series:inc(n)
  n = n or 1
  if type(n) ~= "number" then error("metrics: inc takes a number", 2) end
  if self.metric.kind == "counter" and n < 0 then
    error("metrics: " .. self.metric.name .. ": a counter only goes up", 2)
  end
  self.value = self.value + n
end

function Series:dec(n)
  if self.metric.kind ~= "gauge" then error("metrics: only a gauge goes down", 2) end
  self.value = self.value - (n or 1)
end

function Series:set(v)
  if self.metric.kind ~= "gauge" then error("metrics: only a gauge is set", 2) end
  if type(v) ~= "number" then error("metrics: set takes a number", 2) end
  self.value = v
end

function Series:observe()
  error("metrics: only a histogram observes", 2)
end

function HSeries:observe(v)
  if type(v) ~= "number" then error("metrics: observe takes a number", 2) end
  local b, counts = self.metric.buckets, self.counts
  for i = 1, #b do
    if v <= b[i] then counts[i] = counts[i] + 1; break end
  end
  self.sum = self.sum + v
  self.count = self.count + 1
end

function Metric:inc(n) root(self, "inc"):inc(n) end
function Metric:dec(n) root(self, "dec"):dec(n) end
function Metric:set(v) root(self, "set"):set(v) end
function Metric:observe(v) root(self, "observe"):observe(v) end

-- ---- rendering

local function label_text(names, values, extra_name, extra_value)
  local n = #names
  if n == 0 and not extra_name then return "" end
  local parts = {}
  for i = 1, n do
    parts[i] = names[i] .. '="' .. escape_label(values[i]) .. '"'
  end
  if extra_name then parts[n + 1] = extra_name .. '="' .. extra_value .. '"' end
  return "{" .. concat(parts, ",") .. "}"
end

local function render_metric(m, out)
  if m.nseries == 0 then return end
  out[#out + 1] = "# HELP " .. m.name .. " " .. escape_help(m.help) .. "\n"
  out[#out + 1] = "# TYPE " .. m.name .. " " .. m.kind .. "\n"
  local names = m.label_names
  for i = 1, m.nseries do
    local s = m.series[i]
    if m.kind == "histogram" then
      local cum = 0
      for j, le in ipairs(m.buckets) do
        cum = cum + s.counts[j]
        out[#out + 1] = m.name .. "_bucket" .. label_text(names, s.values, "le",
          number(le)) .. " " .. cum .. "\n"
      end
      out[#out + 1] = m.name .. "_bucket" .. label_text(names, s.values, "le",
        "+Inf") .. " " .. s.count .. "\n"
      out[#out + 1] = m.name .. "_sum" .. label_text(names, s.values) .. " " ..
        number(s.sum) .. "\n"
      out[#out + 1] = m.name .. "_count" .. label_text(names, s.values) .. " " ..
        s.count .. "\n"
    else
      out[#out + 1] = m.name .. label_text(names, s.values) .. " " ..
        number(s.value) .. "\n"
    end
  end
end

-- registry:render() -> the text exposition (format 0.0.4) of every metric.
function Registry:render()
  for _, fn in ipairs(self.collectors) do fn() end
  local out = {}
  for _, m in ipairs(self.list) do render_metric(m, out) end
  return concat(out)
end

M.CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

-- ---- the default registry

M.default = M.registry()
function M.counter(name, help, labels, opts)
  return register(M.default, "counter", name, help, labels, opts, 2)
end
function M.gauge(name, help, labels, opts)
  return register(M.default, "gauge", name, help, labels, opts, 2)
end
function M.histogram(name, help, labels, opts)
  return register(M.default, "histogram", name, help, labels, opts, 2)
end
function M.render() return M.default:render() end
function M.collect(fn) return M.default:collect(fn) end
function M.get(name) return M.default:get(name) end

return M
