-- metrics: the exposition text, names, labels and the cardinality bound,
-- on the host Lua. tests/system/suite_metrics.py checks the same output
-- with promtool and a real Prometheus.
package.path = "stdlib/?.lua;stdlib/?/init.lua;" .. package.path
local metrics = require "metrics"

local function check(name, cond, detail)
  print((cond and "ok - " or "FAIL - ") .. name ..
    (cond and "" or (": " .. tostring(detail))))
end

local function raises(name, fn, want)
  local ok, err = pcall(fn)
  check(name, not ok and tostring(err):find(want, 1, true), err)
end

-- the text, exactly
local r = metrics.registry()
local c = r:counter("http_requests_total", "Requests \\ served.\nSecond line.",
  { "method", "code" })
c:labels("GET", 200):inc()
c:labels("GET", "200"):inc(2)
c:labels("POST", 500):inc()
local g = r:gauge("temperature_celsius", "Now.")
g:set(21.5)
local h = r:histogram("latency_seconds", "Latency.", { "route" },
  { buckets = { 0.1, 1 } })
h:labels('/a"b\\c\nd'):observe(0.05)
h:labels('/a"b\\c\nd'):observe(0.5)
h:labels('/a"b\\c\nd'):observe(5)
local want = table.concat({
  '# HELP http_requests_total Requests \\\\ served.\\nSecond line.',
  '# TYPE http_requests_total counter',
  'http_requests_total{method="GET",code="200"} 3',
  'http_requests_total{method="POST",code="500"} 1',
  '# HELP temperature_celsius Now.',
  '# TYPE temperature_celsius gauge',
  'temperature_celsius 21.5',
  '# HELP latency_seconds Latency.',
  '# TYPE latency_seconds histogram',
  'latency_seconds_bucket{route="/a\\"b\\\\c\\nd",le="0.1"} 1',
  'latency_seconds_bucket{route="/a\\"b\\\\c\\nd",le="1"} 2',
  'latency_seconds_bucket{route="/a\\"b\\\\c\\nd",le="+Inf"} 3',
  'latency_seconds_sum{route="/a\\"b\\\\c\\nd"} 5.55',
  'latency_seconds_count{route="/a\\"b\\\\c\\nd"} 3',
}, "\n") .. "\n"
local got = r:render()
check("renders the text exposition format 0.0.4", got == want, "\n" .. got)

-- numbers
for _, case in ipairs({ { 1, "1" }, { 1.0, "1" }, { 0.25, "0.25" },
    { math.huge, "+Inf" }, { -math.huge, "-Inf" }, { 0 / 0, "NaN" },
    { 2^60, "1.152921504606847e+18" }, { -3, "-3" } }) do
  check("number " .. tostring(case[1]) .. " -> " .. case[2],
    metrics.format_number(case[1]) == case[2], metrics.format_number(case[1]))
end

-- misuse raises at the call that makes it
raises("a name with a space raises with its name",
  function() r:counter("bad name", "x") end, 'bad metric name "bad name"')
raises("a name starting with a digit", function() r:gauge("1x") end,
  'bad metric name "1x"')
raises("a label name with a dash", function() r:gauge("ok_1", "", { "a-b" }) end,
  'bad label name "a-b"')
raises("a reserved label name", function() r:gauge("ok_2", "", { "__x" }) end,
  'bad label name "__x"')
raises("le on a histogram", function() r:histogram("ok_3", "", { "le" }) end,
  "cannot have the label le")
raises("twice the same name", function() r:counter("http_requests_total") end,
  "http_requests_total is registered already")
raises("too few label values", function() c:labels("GET") end,
  "http_requests_total takes 2 label value(s) (method, code), given 1")
raises("a labelled metric used bare", function() c:inc() end,
  "has labels (method, code)")
raises("a counter going down", function() c:labels("GET", 200):inc(-1) end,
  "a counter only goes up")
raises("buckets out of order", function()
  r:histogram("ok_4", "", {}, { buckets = { 1, 0.5 } }) end, "increasing")

-- the bound: past max_series, label sets fold into _other and are counted
local b = metrics.registry()
local paths = b:counter("hits_total", "Hits.", { "path" }, { max_series = 10 })
for i = 1, 10000 do paths:labels("/random/" .. i):inc() end
local text = b:render()
local lines = select(2, text:gsub('\nhits_total{', ""))
check("10,000 label sets keep 10 series and one _other", lines == 11 and
  text:find('hits_total{path="_other"} 9990', 1, true), text:sub(1, 400))
check("the folded ones are counted", text:find(
  'lunik_metrics_folded_total{metric="hits_total"} 9990', 1, true), text)

-- collectors run before each render
local reg2 = metrics.registry()
local now = reg2:gauge("calls", "Renders so far.")
local n = 0
reg2:collect(function() n = n + 1; now:set(n) end)
reg2:render()
check("collectors run at each render", reg2:render():find("\ncalls 2\n", 1, true))
