-- kv/disk.lua -- the storage engine under `kv` (stdlib/kv.lua): the
-- header, the log and its scan, writes, compaction, reads. Format
-- version 1, as docs/kv-format.md describes it; the reasons live there.
--
-- A db table (made by kv.open) holds the device (dev), its geometry and
-- the in-memory state: index (key -> offset << 21 | length of its newest
-- record), nkeys, live (bytes of live records), head (end of the log),
-- partial (the bytes of the head's sector before the head), seq, gen.
-- The device's methods may yield the calling task; kv serialises the
-- calls that reach here, one at a time per db.

local codec = require "kvcodec"

local disk = {}

disk.FORMAT_VERSION = 1
disk.T_SET, disk.T_DEL = 1, 2

local MAGIC = "lunik-kv"
local SB_FMT = "<c8I4I4I8I8I4I4I4I4" -- see docs/kv-format.md, "Header"
local SB_LEN = 48                      -- then its CRC-32C, u32
local HDR = codec.HEADER
local T_SET, T_DEL = disk.T_SET, disk.T_DEL
local F_COMMIT = 1
local LEN_BITS = 21                    -- index entry: offset << 21 | length
local LEN_MASK = (1 << LEN_BITS) - 1
local IO_MAX = 1024 * 1024             -- bytes per device call at most
local MIN_AREA = 4096                  -- bytes; smaller devices are refused

---------------------------------------------------------------- device

-- Reads count sectors from sector, in pieces of at most IO_MAX bytes.
local function dev_read(db, sector, count)
  local per = IO_MAX // db.ssize
  if count <= per then return db.dev:read(sector, count) end
  local parts = {}
  while count > 0 do
    local n = math.min(count, per)
    local s, err = db.dev:read(sector, n)
    if not s then return nil, err end
    parts[#parts + 1] = s
    sector, count = sector + n, count - n
  end
  return table.concat(parts)
end

-- Writes data (whole sectors) from sector, in pieces of at most IO_MAX.
local function dev_write(db, sector, data)
  local step = IO_MAX - IO_MAX % db.ssize
  for at = 1, #data, step do
    local ok, err = db.dev:write(sector, data:sub(at, at + step - 1))
    if not ok then return nil, err or "i/o error" end
    sector = sector + step // db.ssize
  end
  return true
end

-- How long flushes take, for the metrics (kv_flush_duration_seconds):
-- counts per bucket of upper bounds le (the last bucket is everything
-- above), their sum and number. The clock is sys.monotonic in a guest,
-- os.clock on the host Lua.
local has_sys, sys = pcall(require, "sys")
local clock = has_sys and sys.monotonic or os.clock
disk.flush_stats = { le = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
  0.1, 0.25, 0.5, 1 }, counts = {}, sum = 0, count = 0 }
for i = 1, #disk.flush_stats.le do disk.flush_stats.counts[i] = 0 end

local function dev_flush(db)
  local t0 = clock()
  local ok, err = db.dev:flush()
  local dt, f = clock() - t0, disk.flush_stats
  for i, le in ipairs(f.le) do
    if dt <= le then f.counts[i] = f.counts[i] + 1; break end
  end
  f.sum, f.count = f.sum + dt, f.count + 1
  if not ok then return nil, err or "i/o error" end
  return true
end

local function zeros(n)
  return string.rep("\0", n)
end

-- data padded with zeros to a whole number of sectors
local function pad(db, data)
  local r = #data % db.ssize
  if r == 0 then return data end
  return data .. zeros(db.ssize - r)
end

---------------------------------------------------------------- header

local function sb_pack(db, area, start_seq, area_gen, gen)
  local s = string.pack(SB_FMT, MAGIC, disk.FORMAT_VERSION, db.ssize,
    db.asec, start_seq, gen, area, db.salt, area_gen)
  s = s .. string.pack("<I4", codec.crc32c(s))
  return s .. zeros(db.ssize - #s)
end

-- The header in sector s: a table, or nil and "blank", "foreign",
-- "corrupt" or "version" (then the version found).
local function sb_parse(s)
  if s:sub(1, #MAGIC) ~= MAGIC then
    return nil, s:find("[^\0]") and "foreign" or "blank"
  end
  local version = string.unpack("<I4", s, #MAGIC + 1)
  if version ~= disk.FORMAT_VERSION then return nil, "version", version end
  if codec.crc32c(s:sub(1, SB_LEN)) ~= string.unpack("<I4", s, SB_LEN + 1) then
    return nil, "corrupt"
  end
  local _, _, ssize, asec, start_seq, gen, area, salt, area_gen =
    string.unpack(SB_FMT, s)
  return { ssize = ssize, asec = asec, start_seq = start_seq, gen = gen,
           area_gen = area_gen,
           area = area, salt = salt }
end

-- Writes the header for (area, start_seq, area_gen, gen) into the slot that
-- does not
-- hold the current one, and flushes. The current one stays whole until the
-- new one is durable, so a torn header write loses nothing.
local function sb_write(db, area, start_seq, area_gen, gen)
  local slot = 1 - db.slot
  local sb = sb_pack(db, area, start_seq, area_gen, gen)
  local ok, err = dev_write(db, slot, sb)
  if ok then ok, err = dev_flush(db) end
  if not ok then return nil, err end
  db.slot = slot
  return true
end

---------------------------------------------------------------- index

-- Applies one committed record to the in-memory index.
local function apply(db, key, kind, off, len)
  local index = db.index
  local old = index[key]
  if old then
    db.live = db.live - (old & LEN_MASK)
  end
  if kind == T_SET then
    if not old then
      db.nkeys = db.nkeys + 1
      db.sorted = nil
    end
    index[key] = off << LEN_BITS | len
    db.live = db.live + len
  elseif old then
    index[key] = nil
    db.nkeys = db.nkeys - 1
    db.sorted = nil
  end
end

-- Reads the log of the current area from its start, in chunks, and calls
-- each(key, kind, offset, length, buf, pos) for every committed record
-- (buf holds the record at byte pos, 0-based). Stops at the first record
-- that does not check or does not follow, or at byte limit; a group not
-- closed by a commit record is dropped. Returns the offset and the seq
-- just after the last committed record, or nil, err.
local function scan(db, limit, each)
  local ssize, salt = db.ssize, db.salt
  local chunk = IO_MAX - IO_MAX % ssize
  local buf, bufoff, p = "", 0, 0
  local seq, gen = db.start_seq, db.area_gen
  local out, pend, np = {}, {}, 0
  local endoff, endseq = 0, seq
  while true do
    local n, more, seq0
    seq0 = seq
    n, p, seq, gen, more = codec.scan(buf, p, salt, seq, gen, out)
    for i = 1, 4 * n, 4 do
      local key, kind, pos, len = out[i], out[i + 1], out[i + 2], out[i + 3]
      local off = bufoff + pos
      if off + len > limit then more = false break end
      if kind >> 8 & F_COMMIT == 0 then -- part of a group: wait for its end
        pend[np + 1], pend[np + 2], pend[np + 3] = key, kind & 0xff, off
        pend[np + 4], pend[np + 5], pend[np + 6] = len, buf, pos
        np = np + 6
      else
        for j = 1, np, 6 do
          each(pend[j], pend[j + 1], pend[j + 2], pend[j + 3], pend[j + 4],
            pend[j + 5])
        end
        np = 0
        each(key, kind & 0xff, off, len, buf, pos)
        endoff, endseq = off + len, seq0 + (i + 3) // 4
      end
    end
    local readto = bufoff + #buf
    if not more or readto >= limit then break end
    local count = math.min(chunk, limit - readto)
    count = (count + ssize - 1) // ssize
    local data, err = dev_read(db, db.base + readto // ssize, count)
    if not data then return nil, err end
    buf, bufoff, p = buf:sub(p + 1) .. data, bufoff + p, 0
  end
  return endoff, endseq
end

---------------------------------------------------------------- open

local function random_salt()
  local t = math.floor((os.clock() * 1e6) % 0x100000000)
  return (math.random(0, 0xffffffff) ~ os.time() ~ t) & 0xffffffff
end

-- Sets the geometry of a store with sectors of ssize bytes and areas of
-- asec sectors.
local function geometry(db, ssize, asec)
  db.ssize = ssize
  db.hsec = math.max(2, 4096 // ssize)
  db.asec = asec
  db.cap = asec * ssize
end

-- Writes a new, empty store over whatever the device holds.
local function format(db, info, oldgen)
  local hsec = math.max(2, 4096 // info.sector_size)
  local asec = (info.sectors - hsec) // 2
  if asec * info.sector_size < MIN_AREA then return nil, "device too small" end
  geometry(db, info.sector_size, asec)
  db.salt = random_salt()
  local head = sb_pack(db, 0, 1, oldgen + 1, oldgen + 1)
  local ok, err = dev_write(db, 0, head .. zeros((db.hsec - 1) * db.ssize))
  if ok then ok, err = dev_flush(db) end
  if not ok then return nil, err end
  return { ssize = db.ssize, asec = asec, start_seq = 1, gen = oldgen + 1,
           area_gen = oldgen + 1, area = 0, salt = db.salt }, 0
end

-- Chooses the newest whole header of the header area, formats a blank
-- device (or any with opts.format), refuses anything else.
local function mount_header(db, info, opts)
  local hsec = math.max(2, 4096 // info.sector_size)
  local area, err = dev_read(db, 0, hsec)
  if not area then return nil, err end
  local best, slot, version, oldgen = nil, 0, nil, 0
  for i = 0, 1 do
    local sb, w, v = sb_parse(area:sub(i * info.sector_size + 1,
                                        (i + 1) * info.sector_size))
    if sb and (not best or sb.gen > best.gen) then best, slot = sb, i end
    if sb then oldgen = math.max(oldgen, sb.gen) end
    if w == "version" then version = v end
  end
  if best and not opts.format then return best, slot end
  if opts.format or (not version and not area:find("[^\0]")) then
    if info.readonly then return nil, "read-only" end
    return format(db, info, oldgen)
  end
  if version then
    return nil, string.format(
      "unsupported kv format version %d (this kv reads version %d)",
      version, disk.FORMAT_VERSION)
  end
  return nil, "not a kv store (open with {format = true} to erase it)"
end

-- Rebuilds the index from the current area's log.
local function mount_log(db)
  db.index, db.nkeys, db.live = {}, 0, 0
  local off, seq = scan(db, db.cap, function(key, kind, o, len)
    apply(db, key, kind, o, len)
  end)
  if not off then return nil, seq end
  db.head, db.seq = off, seq
  db.partial = ""
  local r = off % db.ssize
  if r > 0 then
    local s, err = dev_read(db, db.base + off // db.ssize, 1)
    if not s then return nil, err end
    db.partial = s:sub(1, r)
  end
  return true
end

-- disk.mount(db, info, opts) -> true, or nil, err: reads the header (or
-- formats the device) and rebuilds the index from the log.
function disk.mount(db, info, opts)
  local ss = info.sector_size
  if math.type(ss) ~= "integer" or ss < 512 or ss & (ss - 1) ~= 0 then
    return nil, "unsupported sector size"
  end
  db.ssize = ss
  local sb, slot = mount_header(db, info, opts)
  if not sb then return nil, slot end
  if sb.ssize ~= ss then
    return nil, "not a kv store (sector size differs)"
  end
  geometry(db, ss, sb.asec)
  if db.hsec + 2 * db.asec > info.sectors then
    return nil, "device smaller than the store"
  end
  db.slot, db.salt, db.area = slot, sb.salt, sb.area
  db.base = db.hsec + sb.area * sb.asec
  db.start_seq, db.gen, db.gen_hi = sb.start_seq, sb.gen, sb.gen
  db.area_gen = sb.area_gen
  db.devbytes = info.sectors * ss
  db.readonly = info.readonly and true or false
  -- Records after a crash may lie past the end of the log with this gen:
  -- the first write of this session moves to a new one (kv-format.md).
  db.bump = true
  return mount_log(db)
end

---------------------------------------------------------------- writing

-- Moves this session to a new generation (see db.bump in disk.mount).
local function bump(db)
  local gen = db.gen_hi + 1
  db.gen_hi = gen
  local ok, err = sb_write(db, db.area, db.start_seq, db.area_gen, gen)
  if not ok then return nil, err end
  db.gen, db.bump = gen, false
  return true
end

-- Writes data (records) at the end of the log with the partial sector
-- before it, and flushes. The head moves only once all is durable.
local function log_write(db, data)
  local head, ssize = db.head, db.ssize
  local all = pad(db, db.partial .. data)
  local ok, err = dev_write(db, db.base + head // ssize, all)
  if ok then ok, err = dev_flush(db) end
  if not ok then
    db.bump = true -- part of it may be on the disk past the head
    return nil, err
  end
  local newhead = head + #data
  local from = newhead - newhead % ssize - (head - head % ssize)
  db.partial = all:sub(from + 1, from + newhead % ssize)
  db.head = newhead
  return true
end

local compact -- below

-- Makes room for need more bytes of log: compacts when the area is full or
-- its dead bytes pass the threshold. nil, "no space" when it cannot fit.
local function make_room(db, need)
  local cap = db.cap
  if db.head + need > cap or db.head - db.live > db.threshold * cap then
    if db.live + need <= cap and db.head > db.live then
      local ok, err = compact(db)
      if not ok then return nil, err end
    end
  end
  if db.head + need > cap then return nil, "no space" end
  return true
end

-- disk.commit(db, ops) -> true, or nil, err: appends the operations ops
-- (flat: type, key, value, ...) as one atomic group, flushed; then applies
-- them to the index.
function disk.commit(db, ops)
  if db.broken then return nil, db.broken end
  if db.readonly then return nil, "read-only" end
  local n, need = #ops // 3, 0
  for i = 1, #ops, 3 do need = need + HDR + #ops[i + 1] + #ops[i + 2] end
  local ok, err = make_room(db, need)
  if ok and db.bump then ok, err = bump(db) end
  if not ok then return nil, err end
  local parts, seq, gen, salt = {}, db.seq, db.gen, db.salt
  for j = 1, n do
    local i = 3 * j - 2
    parts[j] = codec.encode(salt, seq + j - 1, gen, ops[i],
      j == n and F_COMMIT or 0, ops[i + 1], ops[i + 2])
  end
  local off = db.head
  ok, err = log_write(db, table.concat(parts))
  if not ok then return nil, err end
  db.seq = seq + n
  for j = 1, n do
    local i = 3 * j - 2
    apply(db, ops[i + 1], ops[i], off, #parts[j])
    off = off + #parts[j]
  end
  return true
end

---------------------------------------------------------------- compaction

-- Gathers records and writes them from sector base on in big pieces,
-- whole sectors each; drain(true) writes the rest, padded, and leaves the
-- bytes of its last partial sector in w.partial.
local function writer(db, base)
  local ssize = db.ssize
  local w = { parts = {}, n = 0, size = 0, at = base, partial = "" }
  function w.drain(last)
    local data = table.concat(w.parts, "", 1, w.n)
    local keep = #data % ssize
    local out = data
    if last then
      out = pad(db, data)
      w.partial = data:sub(#data - keep + 1)
      keep = 0
    elseif keep > 0 then
      out = data:sub(1, #data - keep)
    end
    w.parts, w.n, w.size = { data:sub(#data - keep + 1) }, 1, keep
    if keep == 0 then w.n = 0 end
    if #out == 0 then return true end
    local ok, err = dev_write(db, w.at, out)
    w.at = w.at + #out // ssize
    return ok, err
  end
  function w.add(rec)
    w.n = w.n + 1
    w.parts[w.n] = rec
    w.size = w.size + #rec
    if w.size >= IO_MAX then return w.drain(false) end
    return true
  end
  return w
end

-- disk.compact(db) -> true, or nil, err: copies the live records into
-- the other area, then switches to it.
function compact(db)
  local to = 1 - db.area
  local base = db.hsec + to * db.asec
  local gen, seq0 = db.gen_hi + 1, db.seq
  db.gen_hi = gen
  local index, salt = db.index, db.salt
  local nindex, nlive, seq, copied = {}, 0, seq0, 0
  local w, failed = writer(db, base), nil
  local off, err = scan(db, db.head, function(key, kind, o, len, buf, pos)
    if failed or index[key] ~= (o << LEN_BITS | len) then return end
    local rec = codec.reseal(buf, pos, len, salt, seq, gen)
    if not rec then failed = "i/o error" return end
    nindex[key] = nlive << LEN_BITS | len
    nlive, seq, copied = nlive + len, seq + 1, copied + 1
    local ok, werr = w.add(rec)
    if not ok then failed = werr end
  end)
  if not off then return nil, err end
  if failed then return nil, failed end
  if off ~= db.head or copied ~= db.nkeys then return nil, "i/o error" end
  local ok
  ok, err = w.drain(true)
  if ok then ok, err = dev_flush(db) end
  if not ok then return nil, err end
  ok, err = sb_write(db, to, seq0, gen, gen)
  if not ok then
    -- The disk may hold either header now: no more writes this session.
    db.broken = "i/o error"
    return nil, err
  end
  db.area, db.base, db.start_seq, db.seq = to, base, seq0, seq
  db.area_gen = gen
  db.gen, db.bump = gen, false
  db.index, db.live, db.head, db.partial = nindex, nlive, nlive, w.partial
  db.compactions = db.compactions + 1
  return true
end

-- disk.get(db, k) -> value, nil when k is absent, or nil, err
function disk.get(db, k)
  local e = db.index[k]
  if not e then return nil end
  local ssize = db.ssize
  local off, len = e >> LEN_BITS, e & LEN_MASK
  local first = off // ssize
  local count = (off + len - 1) // ssize - first + 1
  local data, err = dev_read(db, db.base + first, count)
  if not data then return nil, err end
  local v = codec.value(data, off - first * ssize, len, db.salt, k)
  if not v then return nil, "i/o error" end
  return v
end

disk.compact = compact

return disk
