-- The app of stack_kv.c: each fuzz input becomes the whole disk (24 KiB),
-- then kv opens it as after a crash and is used: every key read, a set,
-- a delete, a compaction. Failing to open ("corrupt", "too small") is a
-- fine answer; a crash, a hang or a sanitizer finding is not.
local blk = require "blk"
local fuzz = require "fuzz"
local kv = require "kv"

local SIZE = 24576
local dev = assert(blk.open("vda"))
assert(dev:info().sectors * dev:info().sector_size == SIZE, "a 24 KiB disk")

while true do
  local input = fuzz.next()
  local image = input:sub(1, SIZE) .. string.rep("\0", SIZE - math.min(#input, SIZE))
  assert(dev:write(0, image))
  assert(dev:flush())
  local db = kv.open(dev)
  if db then
    for k in db:keys() do db:get(k) end
    db:set("fuzz", "value")
    db:delete("a")
    db:compact()
    db:close()
  end
  fuzz.done()
end
