-- kv_fakedev.lua -- a block device in a host file, shaped like the device
-- objects of `blk` (info, read, write, flush, close), for the kv tests.
--
-- Writes go to the file at once, but every sector written since the last
-- flush keeps its former content, so a crash can be simulated: the device
-- then decides which unflushed sector writes reached the "disk" (policy)
-- and restores the others, and from then on every call fails with
-- "i/o error", as a machine that lost power would. Faults:
--   dev.fail_after = n   after n more sectors, writes fail (the sectors of
--                        the failing call before that point land)
--   dev.fail_err         the error those writes return ("i/o error")
--   dev.fail_flush = err the next flush fails with err (and flushes nothing)
--   dev.crash_at = n     the n-th device event (one per sector written and
--                        one per flush, counted from 1 since the device was
--                        opened) does not happen: the device crashes first
--   dev.policy           which unflushed sector writes survive a crash:
--                        "none", "all" (torn at a sector boundary), "odd",
--                        "even" (out of order), or a function(i, sector)
-- dev.nocrash = true skips the undo copies (and so crashes) for speed.
-- dev.events counts the events so far; dev.log, when a table, gets
-- { "w", sector } and { "f" } entries.

local M = {}
local Dev = {}
Dev.__index = Dev

local SIZE = 512

-- M.create(path, sectors [, sector_size]) -> dev over a new zero-filled file
function M.create(path, sectors, ssize)
  ssize = ssize or SIZE
  local f = assert(io.open(path, "w+b"))
  f:seek("set", sectors * ssize - 1)
  f:write("\0")
  f:close()
  return M.open(path, { sector_size = ssize })
end

-- M.open(path [, opts]) -> dev over an existing file; opts: sector_size,
-- readonly
function M.open(path, opts)
  opts = opts or {}
  local f = assert(io.open(path, opts.readonly and "rb" or "r+b"))
  local ssize = opts.sector_size or SIZE
  local size = f:seek("end")
  return setmetatable({ f = f, path = path, ssize = ssize,
    sectors = size // ssize, readonly = opts.readonly or false,
    pending = {}, events = 0, fail_err = "i/o error", policy = "none" }, Dev)
end

function Dev:info()
  if self.dead then return nil, "i/o error" end
  return { name = "fake", sectors = self.sectors, sector_size = self.ssize,
           readonly = self.readonly }
end

function Dev:read(sector, count)
  assert(math.type(sector) == "integer" and math.type(count) == "integer",
    "fakedev: read(sector, count) takes integers")
  if self.dead then return nil, "i/o error" end
  if sector < 0 or count < 1 or sector + count > self.sectors then
    return nil, "out of range"
  end
  self.f:seek("set", sector * self.ssize)
  local s = self.f:read(count * self.ssize)
  assert(s and #s == count * self.ssize, "fakedev: short read")
  self.reads = (self.reads or 0) + 1
  return s
end

-- Picks the unflushed sector writes that survive, restores the others.
function Dev:crash()
  local policy, keep = self.policy, {}
  for i, ev in ipairs(self.pending) do
    local k
    if type(policy) == "function" then k = policy(i, ev.sector)
    elseif policy == "all" then k = true
    elseif policy == "odd" then k = i % 2 == 1
    elseif policy == "even" then k = i % 2 == 0
    else k = false end
    keep[i] = k
  end
  local final, order = {}, {}
  for i, ev in ipairs(self.pending) do
    if final[ev.sector] == nil then
      final[ev.sector] = ev.old
      order[#order + 1] = ev.sector
    end
    if keep[i] then final[ev.sector] = ev.new end
  end
  for _, s in ipairs(order) do
    self.f:seek("set", s * self.ssize)
    self.f:write(final[s])
  end
  self.f:flush()
  self.pending = {}
  self.dead = true
end

-- Counts one event; false when the device crashed instead.
function Dev:event(kind, sector)
  self.events = self.events + 1
  if self.crash_at and self.events >= self.crash_at then
    self:crash()
    return false
  end
  if self.log then self.log[#self.log + 1] = { kind, sector } end
  return true
end

function Dev:write(sector, data)
  assert(math.type(sector) == "integer" and type(data) == "string",
    "fakedev: write(sector, data) takes an integer and a string")
  if self.dead then return nil, "i/o error" end
  if self.readonly then return nil, "read-only" end
  local ss = self.ssize
  assert(#data % ss == 0 and #data > 0, "fakedev: data not whole sectors")
  local count = #data // ss
  if sector < 0 or sector + count > self.sectors then
    return nil, "out of range"
  end
  if self.nocrash and not self.fail_after and not self.crash_at then
    self.f:seek("set", sector * ss) -- no faults, no undo: one write
    self.f:write(data)
    self.writes = (self.writes or 0) + 1
    return true
  end
  for i = 0, count - 1 do
    if self.fail_after then
      if self.fail_after <= 0 then return nil, self.fail_err end
      self.fail_after = self.fail_after - 1
    end
    if not self:event("w", sector + i) then return nil, "i/o error" end
    local s = sector + i
    self.f:seek("set", s * ss)
    local old = self.f:read(ss)
    self.f:seek("set", s * ss)
    self.f:write(data:sub(i * ss + 1, (i + 1) * ss))
    if not self.nocrash then
      self.pending[#self.pending + 1] = { sector = s, old = old,
        new = data:sub(i * ss + 1, (i + 1) * ss) }
    end
  end
  self.writes = (self.writes or 0) + 1
  return true
end

function Dev:flush()
  if self.dead then return nil, "i/o error" end
  if self.fail_flush then
    local err = self.fail_flush
    self.fail_flush = nil
    return nil, err
  end
  if not self:event("f") then return nil, "i/o error" end
  self.f:flush()
  self.pending = {}
  self.flushes = (self.flushes or 0) + 1
  return true
end

function Dev:close()
  if self.f then
    if not self.dead then self.f:flush() end
    self.f:close()
    self.f = nil
    self.dead = true
  end
  return true
end

-- The file's bytes, and putting them back (to rerun from one state).
function M.image(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

function M.restore(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
end

return M
