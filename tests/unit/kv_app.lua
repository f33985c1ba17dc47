-- kv_app.lua -- the crash test's guest app (tests/system/apps/kvcrash) on
-- the host: `sys` and `blk` are stubs over the fake device, and a "kill"
-- is the device crashing at a chosen event. Each boot after a kill must
-- find every acknowledged record and at most one batch more, and the last
-- boot's verify must pass. Run by tests/unit/test_kv.c.

local fakedev = require "kv_fakedev"

local APP = "tests/system/apps/kvcrash/main.lua"
local path = os.tmpname()

-- Boots the app once with args; crash_at and policy for the device.
-- Returns its printed lines and its exit status (nil if it ran off its
-- end).
local function boot(args, crash_at, policy)
  local dev = fakedev.open(path)
  dev.crash_at, dev.policy = crash_at, policy
  local lines, status = {}, nil
  package.loaded.sys = { args = args, exit = function(code)
    status = code
    error("exit", 0)
  end }
  package.loaded.blk = { open = function() return dev end }
  package.loaded.kv = nil
  local real_print = print
  print = function(...) lines[#lines + 1] = table.concat({ ... }, " ") end
  local ok, err = pcall(dofile, APP)
  print = real_print
  dev:close()
  if not ok and err ~= "exit" then error(err, 0) end
  return lines, status
end

local function find(lines, pattern)
  local last
  for _, l in ipairs(lines) do
    local v = l:match(pattern)
    if v then last = tonumber(v) end
  end
  return last
end

fakedev.create(path, 4096):close()
local lines, status = boot({ count = "60", compact = "20" })
check(status == nil and find(lines, "^done (%d+)") == 60 and
  find(lines, "^ack (%d+)") == 60 and find(lines, "^compacted (%d+)") == 3,
  "kvcrash writes, acknowledges and compacts to the end")
lines, status = boot({ kvcrash = "verify" })
check(status == 0 and lines[1] == "verify ok last=60", "and verifies")

-- kills at many moments, each boot going on from what it found
local acked, bad, kills = 60, nil, 0
local count = 60
for k = 1, 40 do
  count = count + 12
  local policy = ({ "none", "all", "odd", "even" })[k % 4 + 1]
  lines = boot({ count = tostring(count), compact = "7" }, 3 + k * 7 % 23,
    policy)
  local found = find(lines, "^found (%d+)")
  if not found or found < acked or found > acked + 5 then
    bad = bad or string.format("boot %d found %s after %d acks", k,
      tostring(found), acked)
  end
  acked = find(lines, "^ack (%d+)") or found or acked
  if find(lines, "^done (%d+)") then count = acked end
  kills = kills + 1
end
lines, status = boot({ kvcrash = "verify" })
local last = lines[1] and tonumber(lines[1]:match("last=(%d+)"))
check(bad == nil and status == 0 and last and last >= acked and
  last <= acked + 5, string.format("%d kills in writes and compactions " ..
  "lose no acknowledged record (%d acknowledged, %s on disk)%s", kills,
  acked, tostring(last), bad and ": " .. bad or ""))
os.remove(path)
