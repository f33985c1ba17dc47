-- kvcrash -- the kv crash test's guest side. The host boots it with a disk,
-- kills QEMU (SIGKILL) at a random moment, boots it again, and so on, and
-- finally boots it with kvcrash=verify. Boot arguments:
--   kvcrash=write   (default) open the store (formatting a blank disk),
--                   check what is there, then write records from the first
--                   missing one on, printing "ack N" once record N's set
--                   (or the batch holding it) has returned true
--   kvcrash=verify  check and exit: 0 when records 1..last are all there
--                   and right, 1 otherwise
--   count=N         stop writing after record N (default 1000000)
--   compact=K       compact after every K records (default 97), so kills
--                   also land inside compactions
-- Lines the host reads:
--   found N        records 1..N were on the disk and right
--   ack N          record N is acknowledged (durable)
--   compacted K    the K-th compaction of this boot finished
--   done N         the writer reached count
--   verify ok last=N / verify bad: why
-- The host's check: after a kill, the next boot finds N with
-- last ack <= N <= last ack + (records in flight: 1, or 5 for a batch).
-- The disk needs about 4 KiB per record (values average 1.5 KiB, and the
-- store keeps two areas). tests/unit/kv_app.lua runs this file on the
-- host over the fake device, crashes included.

local kv = require "kv"
local sys = require "sys"

local mode = sys.args.kvcrash or "write"
local count = tonumber(sys.args.count) or 1000000
local every = tonumber(sys.args.compact) or 97

local function key(n) return string.format("r%09d", n) end

-- Record n's value: 1 to 3000 bytes (sector sizes vary), ending in n.
local function value(n)
  return string.rep(string.char(65 + n % 26), 1 + (n * 7919) % 3000) ..
    ":" .. n
end

local db, err = kv.open()
if not db then
  print("open failed: " .. tostring(err))
  sys.exit(1)
end

-- The last n such that records 1..n are all present and right; fails
-- when any record past it is present (a hole would mean a lost write).
local function survey()
  local n = 0
  while true do
    local v = db:get(key(n + 1))
    if v == nil then break end
    if v ~= value(n + 1) then
      return nil, "record " .. (n + 1) .. " has a wrong value"
    end
    n = n + 1
  end
  local total = db:stats().keys
  if total ~= n then
    return nil, string.format("%d keys but records 1..%d end at a hole",
      total, n)
  end
  return n
end

local last, why = survey()
if mode == "verify" then
  if last then
    print("verify ok last=" .. last)
    sys.exit(0)
  end
  print("verify bad: " .. why)
  sys.exit(1)
end
if not last then
  print("found bad: " .. why)
  sys.exit(1)
end
print("found " .. last)

local n, compactions = last + 1, 0
local next_compact = n + every
while n <= count do
  local ok, werr
  if n % 10 == 3 and n + 4 <= count then -- a batch of five
    ok, werr = db:batch(function(b)
      for i = n, n + 4 do b:set(key(i), value(i)) end
    end)
    if ok then
      for i = n, n + 4 do print("ack " .. i) end
      n = n + 5
    end
  else
    ok, werr = db:set(key(n), value(n))
    if ok then
      print("ack " .. n)
      n = n + 1
    end
  end
  if not ok then
    print("write failed: " .. tostring(werr))
    sys.exit(1)
  end
  if n >= next_compact then
    next_compact = n + every
    local cok, cerr = db:compact()
    if not cok then
      print("compact failed: " .. tostring(cerr))
      sys.exit(1)
    end
    compactions = compactions + 1
    print("compacted " .. compactions)
  end
end
print("done " .. count)
db:close()
