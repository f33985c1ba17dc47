-- ngx: the part of OpenResty's ngx API that cosocket libraries use, so
-- that libraries such as lua-resty-redis run unmodified. `require "ngx"`
-- also makes it the global `ngx` (OpenResty code expects one) and
-- installs the Lua 5.1 globals (compat51). docs/compat.md lists it all.
--
--   ngx.socket.tcp()  ngx.socket.connect(host, port)    (lunik.ngx_tcp)
--   ngx.null  ngx.sleep  ngx.now  ngx.time  ngx.update_time  ngx.today
--   ngx.localtime  ngx.utctime  ngx.timer.at / every  ngx.thread.spawn / wait
--   ngx.log(level, ...) with ngx.STDERR .. ngx.DEBUG   ngx.say  ngx.print
--   ngx.worker.pid / id / count / exiting   ngx.config   ngx.ctx
--   ngx.encode_base64 / decode_base64   ngx.sha1_bin   ngx.hmac_sha1
--
-- Not here: ngx.re, ngx.var, ngx.req, ngx.shared, ngx.location, ngx.exit.
require "compat51"
local crypto = require "crypto"
local json = require "json"
local sys = require "sys"
local task = require "task"
local timer = require "timer"
local tcp = require "lunik.ngx_tcp"

local floor, concat, select, tostring, type = math.floor, table.concat, select, tostring, type

local ngx = {}

ngx.null = json.null -- a light userdata, as OpenResty's (cjson's null too)

ngx.OK, ngx.ERROR, ngx.AGAIN, ngx.DONE, ngx.DECLINED = 0, -1, -2, -4, -5

-- ---- logging: levels as nginx's; lines at the threshold or more urgent
-- go to stderr. The threshold is the boot argument ngx_log= (a level
-- name, default warn).
local LEVELS = { "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug" }
LEVELS[0] = "stderr"
ngx.STDERR, ngx.EMERG, ngx.ALERT, ngx.CRIT = 0, 1, 2, 3
ngx.ERR, ngx.WARN, ngx.NOTICE, ngx.INFO, ngx.DEBUG = 4, 5, 6, 7, 8

local threshold = ngx.WARN
for n = 0, #LEVELS do
  if sys.args.ngx_log == LEVELS[n] then threshold = n end
end

local function pieces(out, ...)
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if v == ngx.null then v = "null" end
    out[#out + 1] = tostring(v)
  end
  return out
end

function ngx.log(level, ...)
  if type(level) ~= "number" or not LEVELS[level] then
    error("bad argument #1 to 'log' (bad log level)", 2)
  end
  if level > threshold then return end
  local info = debug.getinfo(2, "Sl")
  local where = info and info.currentline > 0 and
    (info.short_src .. ":" .. info.currentline .. ": ") or ""
  io.stdout:flush()
  io.stderr:write("[", LEVELS[level], "] ", where,
    concat(pieces({}, ...)), "\n")
end

-- ngx.print / ngx.say: the console stands for the response body; nested
-- arrays of strings are flattened as cosockets' send does.
local function flatten(v, out)
  if type(v) == "table" and v ~= ngx.null then
    for i = 1, #v do flatten(v[i], out) end
  else
    pieces(out, v)
  end
  return out
end

function ngx.print(...)
  local out = {}
  for i = 1, select("#", ...) do flatten(select(i, ...), out) end
  io.stdout:write(concat(out))
  return 1
end

function ngx.say(...)
  ngx.print(...)
  io.stdout:write("\n")
  return 1
end

-- ---- time: wall clock, millisecond resolution; always up to date
function ngx.now()
  return floor(sys.time() * 1000) / 1000
end

function ngx.time()
  return floor(sys.time())
end

function ngx.update_time() end

function ngx.today() return os.date("!%Y-%m-%d") end
function ngx.localtime() return os.date("!%Y-%m-%d %H:%M:%S") end
function ngx.utctime() return os.date("!%Y-%m-%d %H:%M:%S") end

function ngx.sleep(s)
  s = tonumber(s)
  if not s or s < 0 then error("bad argument #1 to 'sleep' (bad seconds)", 2) end
  timer.sleep(s)
end

-- ---- timers: callbacks run in tasks of their own, as (premature, ...)
-- with premature false (a lunik machine never shuts its workers down).
ngx.timer = {}

local function check_timer(delay, cb, what)
  delay = tonumber(delay)
  if not delay or delay < 0 then
    error("bad argument #1 to '" .. what .. "' (bad delay)", 3)
  end
  if type(cb) ~= "function" then
    error("bad argument #2 to '" .. what .. "' (function expected)", 3)
  end
  return delay
end

function ngx.timer.at(delay, cb, ...)
  delay = check_timer(delay, cb, "at")
  local args = table.pack(...)
  timer.after(delay, function() cb(false, table.unpack(args, 1, args.n)) end)
  return true
end

function ngx.timer.every(delay, cb, ...)
  delay = check_timer(delay, cb, "every")
  if delay == 0 then error("bad argument #1 to 'every' (bad delay)", 2) end
  local args = table.pack(...)
  timer.every(delay, function() cb(false, table.unpack(args, 1, args.n)) end)
  return true
end

function ngx.timer.running_count() return 0 end
function ngx.timer.pending_count() return timer.count() end

-- ---- light threads are tasks. spawn runs the thread once the caller
-- waits (OpenResty runs it at once, up to its first wait).
ngx.thread = {}

function ngx.thread.spawn(f, ...)
  if type(f) ~= "function" then
    error("bad argument #1 to 'spawn' (function expected)", 2)
  end
  return task.spawn(f, ...)
end

local function outcome(ok, ...)
  if ok then return true, ... end
  return false, ...
end

-- ngx.thread.wait(t1, ...): the outcome of the first to end: true and
-- its results, or false and its error.
function ngx.thread.wait(...)
  local n = select("#", ...)
  if n == 0 then error("at least one thread expected", 2) end
  local threads = { ... }
  for i = 1, n do
    local t = threads[i]
    if type(t) ~= "userdata" or not pcall(t.done, t) then
      error("bad argument #" .. i .. " to 'wait' (thread expected)", 2)
    end
    if t:done() then return outcome(t:join()) end
  end
  local first = task.channel(n)
  for i = 1, n do
    task.spawn(function()
      threads[i]:join()
      first:send(i)
    end)
  end
  local i = first:receive()
  first:close()
  return outcome(threads[i]:join())
end

function ngx.thread.kill()
  return nil, "killing threads is not supported"
end

-- ---- one worker
ngx.worker = {
  pid = function() return 1 end,
  id = function() return 0 end,
  count = function() return 1 end,
  exiting = function() return false end,
}

ngx.config = {
  subsystem = "http",
  ngx_lua_version = 10021,
  nginx_version = 1021004,
  debug = false,
  prefix = function() return "/" end,
}

ngx.ctx = {}

-- ---- codecs
function ngx.encode_base64(s, no_padding)
  local b = crypto.base64(tostring(s))
  if no_padding then b = b:gsub("=+$", "") end
  return b
end

function ngx.decode_base64(s)
  if type(s) ~= "string" then
    error("bad argument #1 to 'decode_base64' (string expected)", 2)
  end
  local pad = #s % 4
  if pad > 0 then s = s .. ("="):rep(4 - pad) end -- padding is optional
  return crypto.unbase64(s)
end

ngx.sha1_bin = crypto.sha1

function ngx.hmac_sha1(key, data)
  return crypto.hmac("sha1", key, data)
end

-- ---- cosockets
ngx.socket = {
  tcp = tcp.tcp,
  connect = function(host, port, opts)
    local sock = tcp.tcp()
    local ok, err = sock:connect(host, port, opts)
    if not ok then return nil, err end
    return sock
  end,
  udp = function() return nil, "ngx.socket.udp is not supported" end,
}

_G.ngx = ngx
return ngx
