-- Entropy through the seam, the boot arguments a loader's
-- virtio_mmio.device= words must not reach, and the devices found
-- (tests/system/suite_devices.py).
local d = require "devtest"
local sys = require "sys"

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local what = sys.args.what or "random"
if what == "random" then
  for i = 1, 2 do
    local r, err = d.random(32, 5)
    print("random " .. (r and hex(r) or err))
  end
  local big, err = d.random(4096, 10)
  print("random 4096: " .. (big and #big or err))
  if big then
    local counts = {}
    for i = 1, #big do local b = big:byte(i); counts[b] = (counts[b] or 0) + 1 end
    local distinct = 0
    for _ in pairs(counts) do distinct = distinct + 1 end
    print("distinct byte values: " .. distinct)
  end
elseif what == "power" then
  -- The test presses the button (QMP system_powerdown) on "ready".
  print("no press yet: " .. select(2, d.power_button(0)))
  print("ready")
  local t0 = sys.monotonic()
  local ok, err = d.power_button(60)
  print(string.format("power button: %s after %.1f s", ok and "pressed" or err,
                      sys.monotonic() - t0))
  print("taken once: " .. select(2, d.power_button(0)))
elseif what == "args" then
  local keys = {}
  for k, v in pairs(sys.args) do keys[#keys + 1] = k .. "=" .. tostring(v) end
  table.sort(keys)
  print("args: " .. table.concat(keys, " "))
  print("getenv: " .. tostring(os.getenv("virtio_mmio.device")))
  print("cmdline has words: " .. tostring(sys.cmdline:find("virtio_mmio.device=", 1, true) ~= nil))
end
local function count(info)
  local n = 0
  while n < 16 and info(n) do n = n + 1 end
  return n
end
print("devices: net " .. count(d.net_info) .. " blk " .. count(d.blk_info))
for _, p in ipairs(sys.boot_timeline()) do print(string.format("phase %s %.1f", p.name, p.us)) end
print("net0: " .. (d.net_info(0) or select(2, d.net_info(0))))
local b = d.blk_info(0)
print("blk0: " .. (b and b.sectors .. " sectors" or select(2, d.blk_info(0))))
print("done")
