-- lunik.socket_base: what socket.core's TCP and UDP objects share (see
-- stdlib/socket/core.lua): their private state, their classes and the
-- checks of their arguments, descriptor numbers, LuaSocket's two
-- timeouts, and LuaSocket's names for failures.
local net = require "net"
local sys = require "sys"

local M = {}

local max, min, floor = math.max, math.min, math.floor
local format, type, tostring, getmetatable = string.format, type, tostring, getmetatable
local now = sys.monotonic
M.now = now

-- Each object's state, keyed by the object: objects are tables whose
-- fields are all methods, as LuaSocket's userdata show nothing else.
M.state = setmetatable({}, { __mode = "k" })

-- A kind of socket object, (kind) "tcp" or "udp": returns its metatable,
-- its method table and check(self, classes, method), which returns the
-- state of self when it is an object of this kind in one of (classes), a
-- set of class names with the name of the set ({ client = true, name =
-- "tcp{client}" }), and otherwise raises as LuaSocket does, blaming the
-- method's caller.
function M.kind(kind)
  local methods = {}
  local mt = { __index = methods }
  mt.__tostring = function(self)
    return format("%s{%s}: %p", kind, M.state[self].class, self)
  end
  local function check(self, classes, method)
    local st = M.state[self]
    if not st or getmetatable(self) ~= mt then
      error(format("bad argument #1 to '%s' (%s object expected, got %s)",
        method, kind, type(self)), 3)
    end
    if not classes[st.class] then
      error(format("bad argument #1 to '%s' (%s expected, got %s{%s})",
        method, classes.name, kind, st.class), 3)
    end
    return st
  end
  return mt, methods, check
end

-- Argument (n) of (method) as a string (a number is turned into one);
-- anything else raises, blaming the method's caller.
function M.check_string(v, n, method)
  if type(v) == "number" then return tostring(v) end
  if type(v) ~= "string" then
    error(format("bad argument #%d to '%s' (string expected, got %s)", n,
      method, type(v)), 3)
  end
  return v
end

-- Argument (n) of (method) as a port number, 0..65535; else it raises.
function M.check_port(v, n, method)
  local p = tonumber(v)
  if not p or p ~= floor(p) or p < 0 or p > 65535 then
    error(format("bad argument #%d to '%s' (port expected)", n, method), 3)
  end
  return p
end

-- getfd() numbers -> objects, so socket.select also takes what only has
-- a getfd method (the sinks and sources of socket.lua).
M.by_fd = setmetatable({}, { __mode = "v" })
local last_fd = 2

function M.new_fd(obj)
  last_fd = last_fd + 1
  M.by_fd[last_fd] = obj
  return last_fd
end

-- LuaSocket's words for net's failures: a reset connection is "closed".
local words = {
  ["connection reset"] = "closed",
  ["connection aborted"] = "closed",
  ["address in use"] = "address already in use",
}

function M.err(e)
  return words[e] or e
end

-- The first wait of a call: the total timeout or a slice of the block
-- timeout (see next_wait), the smaller; nil for none.
local function first_wait(st)
  local b, t = st.block, st.total
  if b then b = min(b, max(b / 4, 0.01)) end
  if b and t then return min(b, t) end
  return b or t
end

-- obj:settimeout(value [, mode]): mode "b" (default) bounds each wait of a
-- call, "t" (or "r") the whole call; nil or a negative value: no bound.
function M.settimeout(st, value, mode)
  if value ~= nil and type(value) ~= "number" then
    error("bad argument #2 to 'settimeout' (number expected, got " ..
      type(value) .. ")", 3)
  end
  if value and (value < 0 or value ~= value) then value = nil end
  mode = mode or "b"
  if mode == "b" then
    st.block = value
  elseif mode == "t" or mode == "r" then
    st.total = value
  else
    error("bad argument #3 to 'settimeout' (invalid timeout mode)", 3)
  end
  st.first = first_wait(st)
  return 1
end

function M.gettimeout(st)
  return st.block or -1, st.total or -1
end

-- Whether option (name) of (method) is one the object knows (a key of
-- the table known), false when it is one of LuaSocket's that lunik does
-- not support (a key of unsupported); other names raise.
function M.check_option(known, unsupported, name, method)
  if known[name] ~= nil then return true end
  if unsupported[name] then return false end
  error(format("bad argument #2 to '%s' (unsupported option '%s')", method,
    tostring(name)), 3)
end

-- The methods both kinds have alike, into (methods): close, settimeout,
-- gettimeout, getfd, setfd, getfamily, for objects of (classes) (check
-- being the kind's, see M.kind).
function M.add_common(methods, check, classes)
  function methods:close()
    local st = check(self, classes, "close")
    if st.sock then st.sock:close(); st.sock = nil end
    if st.server then st.server:close(); st.server = nil end
    if st.fd >= 0 then M.by_fd[st.fd] = nil; st.fd = -1 end
    return 1
  end
  function methods:settimeout(value, mode)
    return M.settimeout(check(self, classes, "settimeout"), value, mode)
  end
  function methods:gettimeout()
    return M.gettimeout(check(self, classes, "gettimeout"))
  end
  function methods:getfd()
    return check(self, classes, "getfd").fd
  end
  function methods:setfd()
    error("setfd: lunik sockets have no descriptors to set", 2)
  end
  function methods:getfamily()
    check(self, classes, "getfamily")
    return "inet"
  end
end

-- Gives the net object of st the timeout w, unless it has it: calls that
-- do not time out then cost no settimeout. st.nt is what it has (false:
-- not known, for a new net object).
function M.set_wait(st, w)
  if st.nt ~= w then
    st.sock:settimeout(w)
    st.nt = w
  end
end

-- The time a call that began at (start), last made progress at (last),
-- may wait next, (t) being now: seconds, nil for no bound, or false when
-- the call is out of time. A block timeout is waited in slices of a
-- quarter, so a call that keeps receiving is not cut short by it: it ends
-- within a quarter more of the block timeout after the last byte.
function M.next_wait(st, start, last, t)
  local w
  if st.total then
    w = st.total - (t - start)
    if w <= 0 then return false end
  end
  if st.block then
    local b = st.block - (t - last)
    if b <= 0 then return false end
    b = min(b, max(st.block / 4, 0.01))
    if not w or b < w then w = b end
  end
  return w
end

-- The bound of a call that waits once (connect, accept, UDP): the
-- smaller timeout, nil for none.
function M.single_wait(st)
  local b, t = st.block, st.total
  if b and t then return min(b, t) end
  return b or t
end

-- "A.B.C.D" for a host as LuaSocket takes it: "*" and "" are any,
-- "localhost" the loopback, other names go through DNS (this may wait).
-- Returns the address, or nil and an error.
function M.address(host)
  if host == "*" or host == "" then return "0.0.0.0" end
  if host == "localhost" then return "127.0.0.1" end
  if host:match("^%d+%.%d+%.%d+%.%d+$") then return host end
  local r, err = net.resolve(host)
  if not r then return nil, err end
  return r[1]
end

return M
