-- lunik.socket_base: what socket.core's TCP and UDP objects share (see
-- stdlib/socket/core.lua): their private state, descriptor numbers,
-- LuaSocket's two timeouts, and LuaSocket's names for failures.
local net = require "net"
local sys = require "sys"

local M = {}

local max, min = math.max, math.min
local now = sys.monotonic
M.now = now

-- Each object's state, keyed by the object: objects are tables whose
-- fields are all methods, as LuaSocket's userdata show nothing else.
M.state = setmetatable({}, { __mode = "k" })

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
