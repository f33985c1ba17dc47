local sys = require "sys"
local timer = require "timer"
local n = tonumber(sys.args.n or "5")
for i = 1, n do
  local t0 = sys.monotonic()
  timer.sleep(0.2)
  print(string.format("slept %.6f", sys.monotonic() - t0))
end
print(pcall(timer.sleep, -1))
print("done")
