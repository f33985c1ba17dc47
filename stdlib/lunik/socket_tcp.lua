-- lunik.socket_tcp: socket.core's TCP objects, LuaSocket 3's tcp{master},
-- tcp{client} and tcp{server}, over net's connections and servers (see
-- stdlib/socket/core.lua and docs/compat.md).
--
-- A master becomes a client by connect, or a server by bind and listen.
-- Calls that wait yield the calling task only. Timeouts follow LuaSocket:
-- "b" bounds each wait (a receive that keeps receiving goes on), "t" the
-- whole call.
local net = require "net"
local base = require "lunik.socket_base"

local state, now, err = base.state, base.now, base.err
local next_wait, single_wait, set_wait = base.next_wait, base.single_wait, base.set_wait
local check_string = base.check_string
local find, gsub, sub = string.find, string.gsub, string.sub
local floor, max, type = math.floor, math.max, type

local M = {}
local mt, methods, check = base.kind("tcp")

local MASTER = { master = true, name = "tcp{master}" }
local CLIENT = { client = true, name = "tcp{client}" }
local SERVER = { server = true, name = "tcp{server}" }
local BOUND = { master = true, client = true, server = true, name = "tcp" }

local function new(class, sock)
  local obj = setmetatable({}, mt)
  state[obj] = {
    class = class, sock = sock, received = 0, sent = 0, birth = now(),
    nt = false,
    opts = { ["tcp-nodelay"] = true, keepalive = false, reuseaddr = false,
             reuseport = false, linger = { on = false, timeout = 0 } },
    fd = base.new_fd(obj),
  }
  return obj
end

function M.tcp()
  return new("master")
end

-- ---- receiving

local PATTERNS = { ["*a"] = "a", a = "a", ["*l"] = "l", l = "l" }

-- A line without its CRs: LuaSocket's "*l" ignores every CR, not only
-- the one before the LF. (keep) leading bytes are the prefix, kept as is.
local function strip_cr(s, keep)
  if not find(s, "\r", keep + 1, true) then return s end
  return sub(s, 1, keep) .. (gsub(sub(s, keep + 1), "\r", ""))
end

local function check_pattern(pattern)
  if pattern == nil then return "l" end
  local p = PATTERNS[pattern]
  if p then return p end
  local n = tonumber(pattern)
  if not n or n < 0 or n ~= floor(n) then
    error("bad argument #2 to 'receive' (invalid receive pattern)", 3)
  end
  return floor(n)
end

-- client:receive([pattern [, prefix]]): "*l", "*a" or a byte count; on
-- failure nil, err and the partial result (prefix included). The first
-- wait needs no clock reading: calls that do not time out stay cheap.
function methods:receive(pattern, prefix)
  local st = state[self]
  if not st or st.class ~= "client" then st = check(self, CLIENT, "receive") end
  local pat = pattern == nil and "l" or PATTERNS[pattern] or check_pattern(pattern)
  if prefix ~= nil and type(prefix) ~= "string" then
    prefix = check_string(prefix, 3, "receive")
  end
  local c = st.sock
  if not c then return nil, "closed", prefix or "" end
  local plen, got, w = prefix and #prefix or 0, prefix, st.first
  local start, last
  while true do
    set_wait(st, w)
    local had = got and #got or 0
    local want = pat
    if type(pat) == "number" then want = pat - (had - plen) end
    local data, e, partial = c:receive(want, got)
    st.received = st.received + #(data or partial) - had
    if data then
      return pat == "l" and strip_cr(data, plen) or data
    end
    if pat == "l" then partial = strip_cr(partial, plen) end
    if e ~= "timeout" then return nil, err(e), partial end
    local t = now()
    if not start then start, last = t - (w or 0), t - (w or 0) end
    if #partial > had then last = t end
    got = partial
    w = next_wait(st, start, last, t)
    if w == false then return nil, "timeout", partial end
  end
end

-- client:send(data [, i [, j]]) -> index of the last byte sent, or nil,
-- err, index of the last byte sent
function methods:send(data, i, j)
  local st = state[self]
  if not st or st.class ~= "client" then st = check(self, CLIENT, "send") end
  if type(data) ~= "string" then data = check_string(data, 2, "send") end
  local from = i or 1
  if from < 0 then from = max(#data + from + 1, 1) elseif from == 0 then from = 1 end
  local c = st.sock
  if not c then return nil, "closed", from - 1 end
  local first, w = from, st.first
  local start, last
  while true do
    set_wait(st, w)
    local n, e, sent = c:send(data, from, j)
    st.sent = st.sent + max((n or sent) - from + 1, 0)
    if n then return n end
    if e ~= "timeout" then return nil, err(e), sent end
    local t = now()
    if not start then start, last = t - (w or 0), t - (w or 0) end
    if sent >= from then last, from = t, sent + 1 end
    w = next_wait(st, start, last, t)
    if w == false then return nil, "timeout", max(sent, first - 1) end
  end
end

-- ---- connecting and serving

-- master:connect(address, port): the master becomes a client
function methods:connect(address, port)
  local st = check(self, MASTER, "connect")
  address = check_string(address, 2, "connect")
  port = tonumber(port)
  if not port then error("bad argument #3 to 'connect' (number expected)", 2) end
  if st.server then
    return nil, "binding a client's local address is not supported"
  end
  if address == "" or address == "*" then return nil, "host not found" end
  local c, e = net.connect(address, port, single_wait(st))
  if not c then return nil, err(e) end
  c:setoption("tcp-nodelay", st.opts["tcp-nodelay"])
  if st.opts.keepalive then c:setoption("keepalive", true) end
  st.sock, st.class, st.nt = c, "client", false
  return 1
end
methods.setpeername = methods.connect

-- master:bind(address, port): "*" is any address; port 0 an ephemeral one
function methods:bind(address, port)
  local st = check(self, MASTER, "bind")
  address = check_string(address, 2, "bind")
  port = tonumber(port)
  if not port then error("bad argument #3 to 'bind' (number expected)", 2) end
  if st.server then return nil, "already bound" end
  local ip, e = base.address(address)
  if not ip then return nil, e end
  local srv
  srv, e = net.listen(ip, port, { backlog = 32 })
  if not srv then return nil, err(e) end
  st.server, st.backlog = srv, 32
  return 1
end
methods.setsockname = methods.bind

-- master:listen([backlog]): the master becomes a server (bound to an
-- ephemeral port if it was not bound)
function methods:listen(backlog)
  local st = check(self, MASTER, "listen")
  backlog = floor(tonumber(backlog) or 32)
  if backlog < 1 then backlog = 1 elseif backlog > 65535 then backlog = 65535 end
  if not st.server then
    local ok, e = methods.bind(self, "*", 0)
    if not ok then return nil, e end
  end
  if backlog ~= st.backlog then -- net sizes the queue when listening
    local ip, p = st.server:getsockname()
    st.server:close()
    local srv, e = net.listen(ip, p, { backlog = backlog })
    st.server = nil
    if not srv then return nil, err(e) end
    st.server, st.backlog = srv, backlog
  end
  st.sock, st.server, st.class = st.server, nil, "server"
  return 1
end

-- server:accept() -> client, or nil, "timeout" / "closed"
function methods:accept()
  local st = check(self, SERVER, "accept")
  if not st.sock then return nil, "closed" end
  local c, e = st.sock:accept(single_wait(st) or nil)
  if not c then return nil, e end
  return new("client", c)
end

-- ---- the rest of LuaSocket's methods

local HOW = { send = true, receive = true, both = true }

function methods:shutdown(how)
  local st = check(self, CLIENT, "shutdown")
  how = how or "both"
  if not HOW[how] then
    error("bad argument #2 to 'shutdown' (invalid shutdown method)", 2)
  end
  if not st.sock then return nil, "closed" end
  local ok, e = st.sock:shutdown(how)
  if not ok then return nil, err(e) end
  return 1
end

function methods:getpeername()
  local st = check(self, CLIENT, "getpeername")
  if not st.sock then return nil, "closed" end
  local ip, p = st.sock:getpeername()
  if not ip then return nil, err(p) end
  return ip, p, "inet"
end

function methods:getsockname()
  local st = check(self, BOUND, "getsockname")
  local s = st.sock or st.server
  if not s then
    if st.fd < 0 then return nil, "closed" end
    return "0.0.0.0", 0, "inet"
  end
  local ip, p = s:getsockname()
  if not ip then return nil, err(p) end
  return ip, p, "inet"
end

base.add_common(methods, check, BOUND)

function methods:dirty()
  local st = check(self, BOUND, "dirty")
  return st.class == "client" and st.sock ~= nil and st.sock:dirty()
end

function methods:getstats()
  local st = check(self, BOUND, "getstats")
  return st.received, st.sent, now() - st.birth
end

function methods:setstats(received, sent, age)
  local st = check(self, BOUND, "setstats")
  st.received, st.sent = tonumber(received) or 0, tonumber(sent) or 0
  st.birth = now() - (tonumber(age) or 0)
  return 1
end

-- Options: tcp-nodelay and keepalive act; reuseaddr, reuseport (lwIP
-- listeners reuse addresses anyway) and linger are kept for getoption;
-- the rest of LuaSocket's are "not supported"; other names raise.
local ACTING = { ["tcp-nodelay"] = true, keepalive = true }
local KNOWN = { reuseaddr = true, reuseport = true, linger = true,
                ["tcp-nodelay"] = true, keepalive = true }
local UNSUPPORTED = {
  ["ipv6-v6only"] = true, ["tcp-keepidle"] = true, ["tcp-keepcnt"] = true,
  ["tcp-keepintvl"] = true, ["tcp-defer-accept"] = true,
  ["tcp-fastopen"] = true, ["tcp-fastopen-connect"] = true,
  ["recv-buffer-size"] = true, ["send-buffer-size"] = true,
}

function methods:setoption(name, value)
  local st = check(self, BOUND, "setoption")
  if not base.check_option(KNOWN, UNSUPPORTED, name, "setoption") then
    return nil, "not supported"
  end
  if name == "linger" then
    if type(value) ~= "table" then
      error("bad argument #3 to 'setoption' (table expected)", 2)
    end
    value = { on = not not value.on, timeout = tonumber(value.timeout) or 0 }
  else
    value = not not value
  end
  st.opts[name] = value
  if ACTING[name] and st.class == "client" and st.sock then
    local ok, e = st.sock:setoption(name, value)
    if not ok then return nil, err(e) end
  end
  return 1
end

function methods:getoption(name)
  local st = check(self, BOUND, "getoption")
  if not base.check_option(KNOWN, UNSUPPORTED, name, "getoption") then
    return nil, "not supported"
  end
  return st.opts[name]
end

return M
