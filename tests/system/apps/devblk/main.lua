-- The raw block seam (devtest) against virtio-blk disks the system test
-- attaches (tests/system/suite_devices.py). what=main: blk0 a fresh
-- 8 MiB disk, blk1 a disk the host wrote, blk2 a read-only one.
-- what=wt: blk0 a write-through disk with 4 KiB sectors and no FLUSH.
local d = require "devtest"
local sys = require "sys"

local function check(cond, msg)
  if not cond then print("FAILED: " .. msg); sys.exit(1) end
end

local function info(dev)
  local i, err = d.blk_info(dev)
  if not i then return "blk" .. dev .. " " .. err end
  return string.format("blk%d sectors=%d sector_size=%d readonly=%s", dev,
    i.sectors, i.sector_size, tostring(i.readonly))
end

-- A sector's worth of text, padded.
local function sector(text, size)
  return text .. string.rep(".", (size or 512) - #text)
end

local what = sys.args.what or "main"

if what == "wt" then
  print(info(0))
  local i = d.blk_info(0)
  check(d.blk_write(0, 1, sector("four KiB sector one", i.sector_size)), "write")
  print("flush: " .. tostring(d.blk_flush(0)))
  print("read back: " .. d.blk_read(0, 1, 1):sub(1, 19))
  print("past the end: " .. tostring(select(2, d.blk_read(0, i.sectors, 1))))
  print("done")
  return
end

for dev = 0, 3 do print(info(dev)) end
local a = d.blk_info(0)

-- Writes the host checks, and a read of what the host wrote.
check(d.blk_write(0, 0, sector("lunik sector 0")), "write 0")
check(d.blk_write(0, 100, sector("lunik sector 100") .. sector("lunik sector 101")), "write 100")
print("flush: " .. tostring(d.blk_flush(0)))
print("host wrote: " .. d.blk_read(1, 3, 1):match("^[^.]*"))
print("read back: " .. d.blk_read(0, 101, 1):match("^[^.]*"))

-- One request of a whole megabyte, and the largest the seam allows.
local mib = {}
for i = 1, 2048 do mib[i] = string.format("%8d", i) .. string.rep("m", 503) .. "\n" end
mib = table.concat(mib)
check(d.blk_write(0, 2048, mib), "1 MiB write")
check(d.blk_read(0, 2048, 2048) == mib, "1 MiB read back")
print("1 MiB request: ok")
local max = d.BLK_MAX_BYTES // a.sector_size
local big, err = d.blk_read(0, 0, max)
print("largest read: " .. (big and #big .. " bytes" or err))
print("over the largest: " .. tostring(select(2, d.blk_read(0, 0, max + 1))))

-- Refusals.
print("past the end: " .. d.blk_op(0, d.READ, a.sectors, 1))
print("across the end: " .. d.blk_op(0, d.READ, a.sectors - 1, 2))
print("last sector: " .. d.blk_op(0, d.READ, a.sectors - 1, 1))
print("count 0: " .. d.blk_op(0, d.READ, 0, 0))
print("bad op: " .. d.blk_op(0, 9, 0, 1))
print("read-only write: " .. tostring(select(2, d.blk_write(2, 0, sector("nope")))))
print("read-only read: " .. d.blk_read(2, 0, 1):match("^[^.]*"))
print("read-only flush: " .. tostring(d.blk_flush(2)))
print("no such disk: " .. tostring(select(2, d.blk_read(3, 0, 1))))

-- Many requests in flight, with distinct tags, and two disks at once.
local m = d.blk_many(0, 4096, 300)
print(string.format("many: inflight=%d eagain=%d dup=%d unknown=%d errors=%d mismatches=%d",
  m.inflight, m.eagain, m.dup, m.unknown, m.errors, m.mismatches))
print("two disks: " .. tostring(d.blk_two(0, 1, 200, sector("both disks"))))
print("done")
