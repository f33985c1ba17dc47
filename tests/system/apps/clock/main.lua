local sys = require "sys"
print(string.format("time %.3f", sys.time()))
print("os.time " .. os.time())
print("date " .. os.date("!%Y-%m-%d"))
local last = -1
for _, p in ipairs(sys.boot_timeline()) do
  print(string.format("phase %s %.1f", p.name, p.us))
  assert(p.us >= last, "phases out of order")
  last = p.us
end
local m = sys.mem()
print(string.format("mem total=%d used=%d lua=%d", m.heap_total, m.heap_used, m.lua))
local a, b = sys.monotonic(), sys.monotonic()
print("monotonic steps: " .. tostring(b >= a))
print(string.format("uptime %.6f", sys.uptime()))
