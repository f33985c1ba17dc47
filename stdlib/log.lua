-- log: leveled log lines on the console, as text or one JSON object per
-- line.
--
--   log.debug(msg [, fields])  log.info  log.warn  log.error
--   log.set_level("debug" | "info" | "warn" | "error" | "off")
--   log.set_format("text" | "json")   log.level() -> current level
--
-- The level and format come from the boot arguments log= and log_format=
-- (default info and text), so one image logs differently per deployment.
-- Text lines read
--   2026-11-23T19:40:00.123Z INFO listening port=8080 addr="0.0.0.0"
-- JSON lines carry ts, level and msg, then the fields.
local sys = require "sys"

local M = {}

local LEVELS = { debug = 1, info = 2, warn = 3, error = 4, off = 5 }
local NAMES = { "DEBUG", "INFO", "WARN", "ERROR" }
local threshold, format = LEVELS.info, "text"
local json -- loaded on first use, for the JSON format

function M.set_level(name)
  local n = LEVELS[name]
  if not n then
    error("log level must be debug, info, warn, error or off, not " ..
      tostring(name), 2)
  end
  threshold = n
end

function M.level()
  for name, n in pairs(LEVELS) do
    if n == threshold then return name end
  end
end

-- log.enabled(level) -> whether a line at level would be written (so a
-- caller can skip building its fields).
function M.enabled(name)
  local n = LEVELS[name]
  if not n then error("log level must be debug, info, warn, error or off, not " ..
    tostring(name), 2) end
  return n >= threshold and n < LEVELS.off
end

function M.set_format(name)
  if name ~= "text" and name ~= "json" then
    error("log format must be text or json, not " .. tostring(name), 2)
  end
  format = name
end

local function timestamp()
  local t = sys.time()
  local s = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) ..
    string.format(".%03dZ", math.floor((t - s) * 1000))
end

-- key=value, quoting values with spaces, quotes or equals signs.
local function text_value(v)
  local s = tostring(v)
  if s == "" or s:find('[%s"=]') then
    s = '"' .. s:gsub('[\\"]', "\\%0"):gsub("\n", "\\n") .. '"'
  end
  return s
end

local function text_line(level, msg, fields)
  local parts = { timestamp(), NAMES[level], tostring(msg) }
  if fields then
    local keys = {}
    for k in pairs(fields) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v = fields[k]
      if v == nil then v = fields[tonumber(k)] end
      parts[#parts + 1] = k .. "=" .. text_value(v)
    end
  end
  return table.concat(parts, " ")
end

-- A string json.encode accepts: invalid UTF-8 bytes become \xNN.
local function valid_utf8(s)
  if utf8.len(s) then return s end
  local out, i = {}, 1
  while i <= #s do
    local ok, n = pcall(utf8.codepoint, s, i)
    local len = ok and #utf8.char(n) or 0
    if ok and utf8.len(s:sub(i, i + len - 1)) then
      out[#out + 1] = s:sub(i, i + len - 1)
      i = i + len
    else
      out[#out + 1] = string.format("\\x%02X", s:byte(i))
      i = i + 1
    end
  end
  return table.concat(out)
end

-- Every field as something json.encode takes: a log call never raises
-- because of what it is asked to log.
local function json_value(v)
  local t = type(v)
  if t == "string" then return valid_utf8(v) end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return tostring(v) end
    return v
  end
  if t == "boolean" or v == json.null then return v end
  return valid_utf8(tostring(v))
end

local function json_line(level, msg, fields)
  json = json or require "json"
  local obj = {}
  if fields then
    for k, v in pairs(fields) do obj[valid_utf8(tostring(k))] = json_value(v) end
  end
  obj.ts, obj.level, obj.msg = timestamp(), NAMES[level]:lower(),
    valid_utf8(tostring(msg))
  return json.encode(obj)
end

local function emit(level, msg, fields)
  if level < threshold then return end
  if fields ~= nil and type(fields) ~= "table" then
    error("log fields must be a table", 3)
  end
  local line = format == "json" and json_line(level, msg, fields)
    or text_line(level, msg, fields)
  io.stdout:write(line, "\n")
end

function M.debug(msg, fields) emit(1, msg, fields) end
function M.info(msg, fields) emit(2, msg, fields) end
function M.warn(msg, fields) emit(3, msg, fields) end
function M.error(msg, fields) emit(4, msg, fields) end

-- The boot arguments' choice; a bad one is said once and ignored.
local ok, err = pcall(M.set_level, sys.args.log or "info")
if not ok then io.stderr:write("lunik: log=", tostring(sys.args.log), ": ", err, "\n") end
ok, err = pcall(M.set_format, sys.args.log_format or "text")
if not ok then
  io.stderr:write("lunik: log_format=", tostring(sys.args.log_format), ": ", err, "\n")
end

return M
