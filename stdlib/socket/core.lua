-- socket.core: LuaSocket 3's core module, the half of LuaSocket that is C
-- elsewhere, over lunik's net module, so that LuaSocket's own Lua layer
-- (socket.lua, ltn12.lua, mime.lua, socket/http.lua, ... bundled from
-- Debian's lua-socket with `lunik build --lua-path`) runs unmodified.
-- Blocking calls yield the calling task only. docs/compat.md has the
-- whole surface and where it differs from LuaSocket.
--
--   socket.tcp() / tcp4()    socket.udp() / udp4()    socket.connect(host, port)
--   socket.select(recvt, sendt [, timeout])  socket.sleep(s)  socket.gettime()
--   socket.newtry(fin)  socket.protect(f)  socket.skip(d, ...)
--   socket.dns.toip / tohostname / gethostname / getaddrinfo / getnameinfo
--
-- Lua rather than C: the bytes are buffered, scanned and copied by net's C
-- code; what is left here is the objects' states and LuaSocket's shapes.
local net = require "net"
local netpoll = require "netpoll"
local sys = require "sys"
local timer = require "timer"
local base = require "lunik.socket_base"
local tcp = require "lunik.socket_tcp"
local udp = require "lunik.socket_udp"

local select, type, error, pcall, getmetatable, setmetatable =
  select, type, error, pcall, getmetatable, setmetatable

local socket = {
  _VERSION = "LuaSocket 3.1.0",
  _SETSIZE = 1024,
  _SOCKETINVALID = -1,
}

socket.tcp = tcp.tcp
socket.tcp4 = tcp.tcp
socket.udp = udp.udp
socket.udp4 = udp.udp

function socket.tcp6()
  return nil, "IPv6 is not supported"
end
socket.udp6 = socket.tcp6

-- socket.connect(address, port [, locaddr [, locport [, family]]])
function socket.connect(address, port, locaddr, locport, family)
  if family == "inet6" then return nil, "IPv6 is not supported" end
  if (locaddr and locaddr ~= "*" and locaddr ~= "0.0.0.0") or
     (locport and locport ~= 0) then
    return nil, "binding a client's local address is not supported"
  end
  local s = tcp.tcp()
  local ok, err = s:connect(address, port)
  if not ok then
    s:close()
    return nil, err
  end
  return s
end

-- socket.gettime(): seconds since the Unix epoch, a float
socket.gettime = sys.time

-- socket.sleep(seconds): yields the calling task
function socket.sleep(s)
  s = tonumber(s) or error("bad argument #1 to 'sleep' (number expected)", 2)
  if s > 0 then timer.sleep(s < 1e8 and s or 1e8) end
end

-- socket.skip(d, ...): the arguments after the first d
function socket.skip(d, ...)
  return select(d + 1, ...)
end

-- ---- exceptions: try raises a wrapped error that protect, and only
-- protect, turns back into nil, err (LuaSocket 3's semantics; other
-- errors propagate).
local Thrown = { __tostring = function(e) return tostring(e[1]) end }

function socket.newtry(finalizer)
  if finalizer ~= nil and type(finalizer) ~= "function" then
    error("bad argument #1 to 'newtry' (function expected)", 2)
  end
  return function(...)
    if (...) then return ... end
    if finalizer then finalizer() end
    error(setmetatable({ (select(2, ...)) }, Thrown), 0)
  end
end

local function unwrap(ok, ...)
  if ok then return ... end
  local e = ...
  if getmetatable(e) == Thrown then return nil, e[1] end
  error(e, 0)
end

function socket.protect(f)
  if type(f) ~= "function" then
    error("bad argument #1 to 'protect' (function expected)", 2)
  end
  return function(...)
    return unwrap(pcall(f, ...))
  end
end

socket.try = socket.newtry()

-- ---- select

-- The socket.core object behind a select entry: itself, or the object
-- whose getfd() an entry (socket.sink's wrappers) returns.
local function resolve(o)
  if base.state[o] then return o end
  if type(o) == "table" or type(o) == "userdata" then
    local ok, getfd = pcall(function() return o.getfd end)
    if ok and type(getfd) == "function" then
      local fd = getfd(o)
      return fd and base.by_fd[fd]
    end
  end
end

-- Collects the net objects of list (t) into nets, their entries into
-- owners; (read) also collects entries whose dirty() says bytes wait.
local function collect(t, nets, owners, dirty)
  if t == nil then return end
  if type(t) ~= "table" then
    error("bad argument to 'select' (table expected, got " .. type(t) .. ")", 3)
  end
  local seen = {}
  for i = 1, math.huge do
    local o = t[i]
    if o == nil then break end
    local obj = resolve(o)
    local st = obj and base.state[obj]
    if st and st.sock and st.class ~= "master" and not seen[o] then
      seen[o] = true
      nets[#nets + 1] = st.sock
      owners[#owners + 1] = o
    elseif dirty and not obj and type(o) == "table" and o.dirty and o:dirty() then
      dirty[#dirty + 1] = o
    end
  end
end

local function result(owners, idx, extra)
  local r = {}
  for _, o in ipairs(extra or {}) do
    r[#r + 1] = o
    r[o] = #r
  end
  for _, i in ipairs(idx) do
    local o = owners[i]
    r[#r + 1] = o
    r[o] = #r
  end
  return r
end

-- socket.select(recvt, sendt [, timeout]) -> readable, writable [, "timeout"]:
-- the tables list the ready sockets and map each to its position.
function socket.select(recvt, sendt, timeout)
  local rn, rown, wn, wown, dirty = {}, {}, {}, {}, {}
  collect(recvt, rn, rown, dirty)
  collect(sendt, wn, wown)
  if timeout ~= nil and type(timeout) ~= "number" then
    error("bad argument #3 to 'select' (number expected, got " ..
      type(timeout) .. ")", 2)
  end
  if timeout and timeout < 0 then timeout = nil end
  if #dirty > 0 then timeout = 0 end
  local rr, wr = netpoll.wait(rn, wn, timeout)
  if #rr == 0 and #wr == 0 and #dirty == 0 then
    return {}, {}, "timeout"
  end
  return result(rown, rr, dirty), result(wown, wr)
end

-- ---- names

local dns = {}
socket.dns = dns

local function is_ip(s)
  return type(s) == "string" and s:match("^%d+%.%d+%.%d+%.%d+$") ~= nil
end

-- dns.toip(name) -> "A.B.C.D", { name=, alias={}, ip={...} }
function dns.toip(name)
  if type(name) ~= "string" then
    error("bad argument #1 to 'toip' (string expected)", 2)
  end
  if is_ip(name) then
    return name, { name = name, alias = {}, ip = { name } }
  end
  local r, err = net.resolve(name)
  if not r then return nil, err end
  return r[1], { name = name, alias = {}, ip = r }
end

-- dns.tohostname(address) -> name, resolved: lwIP has no reverse
-- lookups, so an address gives a name only for the loopback.
function dns.tohostname(addr)
  if type(addr) ~= "string" then
    error("bad argument #1 to 'tohostname' (string expected)", 2)
  end
  if addr == "127.0.0.1" or addr == "localhost" then
    return "localhost", { name = "localhost", alias = {}, ip = { "127.0.0.1" } }
  end
  if is_ip(addr) then return nil, "host not found" end
  local ip, resolved = dns.toip(addr)
  if not ip then return nil, resolved end
  return addr, resolved
end

function dns.gethostname()
  local h = sys.args.hostname
  return type(h) == "string" and h or "lunik"
end

-- dns.getaddrinfo(host) -> { { family = "inet", addr = "A.B.C.D" }, ... }
function dns.getaddrinfo(host)
  if type(host) ~= "string" then
    error("bad argument #1 to 'getaddrinfo' (string expected)", 2)
  end
  local ip, err = base.address(host)
  if not ip then return nil, "host or service not provided, or not known" end
  return { { family = "inet", addr = ip } }
end

-- dns.getnameinfo(host [, port]) -> { names }, port as a string
function dns.getnameinfo(host, port)
  local names
  if host then
    local name, err = dns.tohostname(host)
    if not name then return nil, err end
    names = { name }
  end
  return names, port and tostring(port) or nil
end

return socket
