-- hello: the smallest lunik service. It greets, tells how long the boot
-- took, shows its boot arguments, sleeps a moment and exits 0.
--
--   lunik run examples/hello -- name=you sleep=0.5
local sys = require "sys"
local timer = require "timer"

local args = sys.args
print("hello, " .. (args.name or "world") .. ", from lunik on " .. _VERSION)

local timeline = sys.boot_timeline()
local main = timeline[#timeline]
print(string.format("booted in %.0f us (PVH entry to %s)", main.us, main.name))

local words = {}
for k, v in pairs(args) do words[#words + 1] = k .. "=" .. tostring(v) end
table.sort(words)
print("args: " .. (#words > 0 and table.concat(words, " ") or "(none)"))

local t0 = sys.monotonic()
timer.sleep(tonumber(args.sleep) or 0.1)
print(string.format("slept %.3f s", sys.monotonic() - t0))
