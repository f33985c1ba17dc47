-- lunik.socket_udp: socket.core's UDP objects, LuaSocket 3's
-- udp{unconnected} and udp{connected}, over net.udp (see
-- stdlib/socket/core.lua and docs/compat.md). Names are resolved where
-- LuaSocket takes them (setsockname, setpeername, sendto), which may wait.
local net = require "net"
local base = require "lunik.socket_base"

local state, err = base.state, base.err
local check_string, check_port = base.check_string, base.check_port
local floor = math.floor

local M = {}
local mt, methods, check = base.kind("udp")

local UNCONNECTED = { unconnected = true, name = "udp{unconnected}" }
local CONNECTED = { connected = true, name = "udp{connected}" }
local ANY = { unconnected = true, connected = true, name = "udp" }
local DGRAM_MAX = 65507

local function new(sock)
  local obj = setmetatable({}, mt)
  state[obj] = {
    class = "unconnected", sock = sock,
    opts = { broadcast = false, dontroute = false, reuseaddr = false,
             reuseport = false },
    fd = base.new_fd(obj),
  }
  return obj
end

function M.udp()
  local s, e = net.udp()
  if not s then return nil, e end
  return new(s)
end

-- sock:setsockname(address, port): binds; "*" is any address
function methods:setsockname(address, port)
  local st = check(self, UNCONNECTED, "setsockname")
  address = check_string(address, 2, "setsockname")
  port = check_port(port, 3, "setsockname")
  if not st.sock then return nil, "closed" end
  local _, bound = st.sock:getsockname()
  if bound and bound ~= 0 then return nil, "already bound" end
  local ip, e = base.address(address)
  if not ip then return nil, e end
  local s
  s, e = net.udp(ip, port)
  if not s then return nil, err(e) end
  st.sock:close()
  st.sock = s
  return 1
end

-- sock:setpeername(address, port): send and receive then use that peer
-- only; setpeername("*") forgets the peer (the socket keeps its port)
function methods:setpeername(address, port)
  local st = check(self, ANY, "setpeername")
  address = check_string(address, 2, "setpeername")
  if not st.sock then return nil, "closed" end
  if address == "*" then
    local ip, p = st.sock:getsockname()
    local s, e
    if p and p ~= 0 then s, e = net.udp(ip, p) else s, e = net.udp() end
    if not s then return nil, err(e) end
    st.sock:close()
    st.sock, st.class, st.peer = s, "unconnected", nil
    return 1
  end
  port = check_port(port, 3, "setpeername")
  local ip, e = base.address(address)
  if not ip then return nil, e end
  local ok
  ok, e = st.sock:setpeername(ip, port)
  if not ok then return nil, err(e) end
  st.class, st.peer = "connected", { ip, port }
  return 1
end

function methods:getpeername()
  local st = check(self, CONNECTED, "getpeername")
  if not st.sock then return nil, "closed" end
  return st.peer[1], st.peer[2], "inet"
end

-- sock:send(datagram) -> bytes sent (connected sockets)
function methods:send(data)
  local st = check(self, CONNECTED, "send")
  data = check_string(data, 2, "send")
  if not st.sock then return nil, "closed" end
  local ok, e = st.sock:send(data)
  if not ok then return nil, err(e) end
  return #data
end

-- sock:sendto(datagram, address, port) -> bytes sent (unconnected)
function methods:sendto(data, address, port)
  local st = check(self, UNCONNECTED, "sendto")
  data = check_string(data, 2, "sendto")
  address = check_string(address, 3, "sendto")
  port = check_port(port, 4, "sendto")
  if not st.sock then return nil, "closed" end
  local ip, e = base.address(address)
  if not ip then return nil, e end
  local ok
  ok, e = st.sock:sendto(data, ip, port)
  if not ok then return nil, err(e) end
  return #data
end

local function receive(self, st, size, from)
  size = size == nil and DGRAM_MAX or tonumber(size)
  if not size then
    error("bad argument #2 to 'receive' (number expected)", 3)
  end
  size = floor(size)
  if size > DGRAM_MAX then size = DGRAM_MAX end
  if not st.sock then return nil, "closed" end
  st.sock:settimeout(base.single_wait(st))
  local data, a, b
  if from then
    data, a, b = st.sock:receivefrom(size > 0 and size or 1)
  else
    data, a = st.sock:receive(size > 0 and size or 1)
  end
  if not data then return nil, err(a) end
  if size <= 0 then data = "" end
  return data, a, b
end

-- sock:receive([size]) -> datagram (bytes past size are dropped)
function methods:receive(size)
  return receive(self, check(self, ANY, "receive"), size, false)
end

-- sock:receivefrom([size]) -> datagram, ip, port (unconnected)
function methods:receivefrom(size)
  return receive(self, check(self, UNCONNECTED, "receivefrom"), size, true)
end

function methods:getsockname()
  local st = check(self, ANY, "getsockname")
  if not st.sock then return nil, "closed" end
  local ip, p = st.sock:getsockname()
  return ip, p, "inet"
end

base.add_common(methods, check, ANY)

function methods:dirty()
  check(self, ANY, "dirty")
  return false
end

-- Options are kept for getoption; multicast and IPv6 ones are not
-- supported; other names raise.
local UNSUPPORTED = {
  ["ip-multicast-if"] = true, ["ip-multicast-ttl"] = true,
  ["ip-multicast-loop"] = true, ["ip-add-membership"] = true,
  ["ip-drop-membership"] = true, ["ipv6-v6only"] = true,
  ["ipv6-unicast-hops"] = true, ["ipv6-multicast-hops"] = true,
  ["ipv6-multicast-loop"] = true, ["ipv6-add-membership"] = true,
  ["ipv6-drop-membership"] = true, ["recv-buffer-size"] = true,
  ["send-buffer-size"] = true,
}

function methods:setoption(name, value)
  local st = check(self, ANY, "setoption")
  if not base.check_option(st.opts, UNSUPPORTED, name, "setoption") then
    return nil, "not supported"
  end
  st.opts[name] = not not value
  return 1
end

function methods:getoption(name)
  local st = check(self, ANY, "getoption")
  if not base.check_option(st.opts, UNSUPPORTED, name, "getoption") then
    return nil, "not supported"
  end
  return st.opts[name]
end

return M
