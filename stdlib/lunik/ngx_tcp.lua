-- lunik.ngx_tcp: OpenResty's TCP cosockets (ngx.socket.tcp) over net
-- connections, with a per-host keep-alive pool. See stdlib/ngx.lua and
-- docs/compat.md.
--
-- Timeouts are in milliseconds and bound each wait (60 s by default, as
-- lua_socket_*_timeout); errors other than a read timeout close the
-- socket, as ngx_lua does. receiveuntil reads ahead: the bytes after the
-- pattern wait in the cosocket's own buffer, which every receive serves
-- first.
local net = require "net"
local sys = require "sys"

local find, sub, gsub, concat = string.find, string.sub, string.gsub, table.concat
local type, tostring, tonumber, floor, min = type, tostring, tonumber, math.floor, math.min
local now = sys.monotonic

local M = {}
local methods = {}
local mt = { __index = methods }
mt.__tostring = function(self) return string.format("tcp cosocket: %p", self) end

local DEFAULT_TIMEOUT = 60       -- seconds: lua_socket_*_timeout
local DEFAULT_IDLE = 60          -- seconds: lua_socket_keepalive_timeout
local DEFAULT_POOL_SIZE = 30     -- lua_socket_pool_size
local CHUNK = 65536

-- ---- the keep-alive pools: name -> { size =, idle = { entries... } },
-- most recently used last. An entry: { sock =, reused =, at =, max_idle = }.
local pools = {}

local function expired(e, t)
  return e.max_idle > 0 and t - e.at >= e.max_idle
end

-- Whether an idle connection can be used again: no bytes arrived and the
-- peer did not close it meanwhile (a read that cannot wait tells).
local function healthy(sock)
  sock:settimeout(0)
  local data, err = sock:receiveany(1)
  return data == nil and err == "timeout"
end

local function pool_take(name)
  local p = pools[name]
  if not p then return nil end
  local t = now()
  while #p.idle > 0 do
    local e = table.remove(p.idle)
    if not expired(e, t) and healthy(e.sock) then return e end
    e.sock:close()
  end
end

local function pool_put(name, size, e)
  local p = pools[name]
  if not p then
    p = { idle = {} }
    pools[name] = p
  end
  p.size = size
  local t, kept = now(), {}
  for _, old in ipairs(p.idle) do -- drop the expired while here
    if expired(old, t) then old.sock:close() else kept[#kept + 1] = old end
  end
  p.idle = kept
  while #p.idle >= size do -- full: the least recently used goes
    table.remove(p.idle, 1).sock:close()
  end
  p.idle[#p.idle + 1] = e
end

-- How many idle connections pool (name) holds (for tests and stats).
function M.pool_count(name)
  local p = pools[name]
  return p and #p.idle or 0
end

-- ---- the cosocket object

function M.tcp()
  return setmetatable({
    _buf = "",
    _timeouts = { DEFAULT_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_TIMEOUT },
    _reused = 0,
  }, mt)
end

local CONNECT, SEND, READ = 1, 2, 3

local function close(self)
  if self._sock then self._sock:close() end
  self._sock, self._buf, self._tls = nil, "", nil
end

-- Fails a call: nil, err [, partial]; errors other than a read timeout
-- close the socket.
local function fail(self, err, partial)
  if err ~= "timeout" then close(self) end
  if err == "connection reset" or err == "connection aborted" then
    err = "closed"
  end
  return nil, err, partial
end

-- sock:connect(host, port [, { pool =, pool_size =, backlog = }])
function methods:connect(host, port, opts)
  if type(host) ~= "string" then
    error("bad argument #1 to 'connect' (string expected)", 2)
  end
  if host:sub(1, 5) == "unix:" then
    return nil, "unix domain sockets are not supported"
  end
  port = tonumber(port)
  if not port then error("bad argument #2 to 'connect' (port expected)", 2) end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #3 to 'connect' (table expected)", 2)
  end
  opts = opts or {}
  close(self)
  local name = opts.pool or (host .. ":" .. floor(port))
  local size = tonumber(opts.pool_size) or DEFAULT_POOL_SIZE
  if size < 1 then error("bad \"pool_size\" option value: " .. size, 2) end
  self._pool, self._pool_size = name, floor(size)
  local e = pool_take(name)
  if e then
    self._sock, self._reused, self._tls = e.sock, e.reused + 1, e.tls
    return 1
  end
  local sock, err = net.connect(host, port, self._timeouts[CONNECT])
  if not sock then return fail(self, err) end
  self._sock, self._reused = sock, 0
  return 1
end

-- Flattens send's data: a string, or a nested array of strings, numbers
-- and booleans.
local function flatten(v, out)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = v
  elseif t == "number" or t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "table" then
    for i = 1, #v do flatten(v[i], out) end
  else
    error("bad argument #1 to 'send' (bad data type " .. t .. " found)", 4)
  end
end

-- sock:send(data) -> bytes sent
function methods:send(data)
  local s
  if type(data) == "table" then
    local parts = {}
    flatten(data, parts)
    s = concat(parts)
  elseif type(data) == "string" then
    s = data
  elseif type(data) == "number" or type(data) == "boolean" then
    s = tostring(data)
  else
    error("bad argument #1 to 'send' (string, number, boolean or table " ..
      "expected, got " .. type(data) .. ")", 2)
  end
  local sock = self._sock
  if not sock then return nil, "closed" end
  sock:settimeout(self._timeouts[SEND])
  local n, err = sock:send(s)
  if not n then return fail(self, err) end
  return #s
end

-- Takes (n) bytes from the read-ahead buffer.
local function take(self, n)
  local b = self._buf
  self._buf = sub(b, n + 1)
  return sub(b, 1, n)
end

local function strip_cr(s)
  if find(s, "\r", 1, true) then s = gsub(s, "\r", "") end
  return s
end

-- sock:receive([pattern]): "*l" (default; every CR is dropped), "*a", or
-- a byte count -> data, or nil, err, partial
function methods:receive(pattern)
  local sock = self._sock
  local size = tonumber(pattern)
  if pattern ~= nil and not size and pattern ~= "*l" and pattern ~= "*a" then
    error("bad argument #1 to 'receive' (bad pattern argument)", 2)
  end
  if size and (size < 0 or size ~= floor(size)) then
    error("bad argument #1 to 'receive' (bad pattern argument)", 2)
  end
  if not sock then return nil, "closed" end
  local buf = self._buf
  if size and #buf >= size then return take(self, size) end
  if not size and pattern ~= "*a" then
    local nl = find(buf, "\n", 1, true)
    if nl then return strip_cr(sub(take(self, nl), 1, -2)) end
  end
  self._buf = ""
  sock:settimeout(self._timeouts[READ])
  local data, err, partial
  if size then
    data, err, partial = sock:receive(size - #buf, buf)
  else
    data, err, partial = sock:receive(pattern or "*l", buf)
  end
  if data then return pattern == "*a" and data or strip_cr(data) end
  if pattern ~= "*a" and not size then partial = strip_cr(partial) end
  return fail(self, err, partial)
end

-- sock:receiveany(max) -> whatever has arrived, up to max bytes
function methods:receiveany(max)
  max = tonumber(max)
  if not max or max < 1 then
    error("bad argument #1 to 'receiveany' (bad max argument)", 2)
  end
  max = floor(max)
  local sock = self._sock
  if not sock then return nil, "closed" end
  if #self._buf > 0 then return take(self, min(max, #self._buf)) end
  sock:settimeout(self._timeouts[READ])
  local data, err = sock:receiveany(max)
  if not data then return fail(self, err) end
  return data
end

-- Reads more into the buffer; false, err on failure (the buffer is then
-- the partial result, taken).
local function fill(self)
  local sock = self._sock
  if not sock then return false, "closed" end
  sock:settimeout(self._timeouts[READ])
  local data, err = sock:receiveany(CHUNK)
  if not data then return false, err end
  self._buf = self._buf .. data
  return true
end

-- sock:receiveuntil(pattern [, { inclusive = bool }]) -> iterator:
-- iterator() returns the data before the next pattern (with it, if
-- inclusive); iterator(size) returns it in pieces of at most size bytes,
-- then nil (no error) once the pattern is reached, and starts over.
function methods:receiveuntil(pattern, opts)
  if type(pattern) ~= "string" then
    error("bad argument #1 to 'receiveuntil' (string expected)", 2)
  end
  if pattern == "" then error("pattern is empty", 2) end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #2 to 'receiveuntil' (table expected)", 2)
  end
  local inclusive = opts and opts.inclusive
  if inclusive ~= nil and type(inclusive) ~= "boolean" then
    error("bad \"inclusive\" option value type: " .. type(inclusive), 2)
  end
  local plen, ended = #pattern, false

  local function failed(err)
    local partial = self._buf
    self._buf = ""
    ended = false
    return fail(self, err, partial)
  end

  return function(size)
    if size ~= nil then
      size = tonumber(size)
      if not size or size < 1 then error("bad size argument", 2) end
      size = floor(size)
    end
    if not self._sock then return nil, "closed" end
    if ended then ended = false; return nil end
    local from = 1
    while true do
      local i, j = find(self._buf, pattern, from, true)
      if i then
        local upto = inclusive and j or i - 1
        if not size then
          local data = take(self, upto)
          if not inclusive then take(self, plen) end
          return data
        end
        if upto == 0 then take(self, plen); return nil end
        local n = min(size, upto)
        local data = take(self, n)
        if n == upto then
          if not inclusive then take(self, plen) end
          ended = true
        end
        return data
      end
      -- no pattern yet: all but its possible start can be handed out
      local safe = #self._buf - (plen - 1)
      if size and safe >= size then return take(self, size) end
      from = safe > 1 and safe or 1
      local ok, err = fill(self)
      if not ok then return failed(err) end
    end
  end
end

-- sock:settimeout(ms): the connect, send and read timeouts; 0 or nil:
-- the default (60 s)
function methods:settimeout(ms)
  local t = self._timeouts
  t[CONNECT] = M.seconds(ms)
  t[SEND], t[READ] = t[CONNECT], t[CONNECT]
end

-- sock:settimeouts(connect_ms, send_ms, read_ms)
function methods:settimeouts(c, s, r)
  local t = self._timeouts
  t[CONNECT], t[SEND], t[READ] = M.seconds(c), M.seconds(s), M.seconds(r)
end

function M.seconds(ms)
  if ms == nil then return DEFAULT_TIMEOUT end
  ms = tonumber(ms)
  if not ms or ms < 0 or ms >= 2 ^ 31 then error("bad timeout value", 3) end
  return ms > 0 and ms / 1000 or DEFAULT_TIMEOUT
end

-- sock:setkeepalive([max_idle_ms [, pool_size]]): into the pool; the
-- object is closed from here on. 0 ms: no idle limit.
function methods:setkeepalive(idle_ms, size)
  local sock = self._sock
  if not sock then return nil, "closed" end
  if #self._buf > 0 or sock:dirty() then
    close(self)
    return nil, "connection in dubious state"
  end
  local idle = DEFAULT_IDLE
  if idle_ms ~= nil then
    idle = tonumber(idle_ms)
    if not idle or idle < 0 then error("bad argument #1 to 'setkeepalive' (bad timeout)", 2) end
    idle = idle / 1000
  end
  size = size and floor(tonumber(size) or 0) or self._pool_size or DEFAULT_POOL_SIZE
  if size < 1 then error("bad argument #2 to 'setkeepalive' (bad pool size)", 2) end
  self._sock = nil
  pool_put(self._pool, size, { sock = sock, reused = self._reused, at = now(),
                               max_idle = idle, tls = self._tls })
  self._tls = nil
  return 1
end

-- sock:getreusedtimes(): how often this connection came from the pool
function methods:getreusedtimes()
  if not self._sock then return nil, "closed" end
  return self._reused
end

function methods:close()
  if not self._sock then return nil, "closed" end
  close(self)
  return 1
end

-- sock:setoption("keepalive" | "tcp-nodelay" | "sndbuf" | "rcvbuf" |
-- "reuseaddr", value): the first two act, the others are accepted
function methods:setoption(name, value)
  if not self._sock then return nil, "closed" end
  if name == "keepalive" or name == "tcp-nodelay" then
    local ok, err = self._sock:setoption(name, not not value)
    if not ok then return nil, err end
    return true
  end
  if name == "sndbuf" or name == "rcvbuf" or name == "reuseaddr" then
    return true
  end
  error("bad argument #1 to 'setoption' (unsupported option " ..
    tostring(name) .. ")", 2)
end

-- Client contexts for sslhandshake: verifying against the image's CA
-- bundle (lunik build --ca-bundle), or not verifying. Made on first use.
local tls_ctx = {}
local function client_ctx(verify)
  local key = verify and "verify" or "none"
  if not tls_ctx[key] then
    local tls = require "tls"
    local ctx, err
    if verify then
      ctx, err = tls.client { ca = "system" }
    else
      ctx, err = tls.client { verify = false }
    end
    if not ctx then return nil, err end
    tls_ctx[key] = ctx
  end
  return tls_ctx[key]
end

-- sock:sslhandshake([reused_session [, server_name [, ssl_verify]]])
-- -> session | true when reused_session is false, or nil, err. As in
-- ngx_lua, the server is verified only with ssl_verify true (here against
-- the image's CA bundle); server_name goes out as SNI and is what the
-- certificate must match. Sessions are resumed by the tls binding itself
-- (per host and port), so reused_session is accepted and not needed. A
-- connection from the keep-alive pool that is TLS already answers at once.
function methods:sslhandshake(reused_session, server_name, ssl_verify)
  local sock = self._sock
  if not sock then return nil, "closed" end
  if not self._tls then
    local ctx, err = client_ctx(ssl_verify)
    if not ctx then return nil, err end
    local tls = require "tls"
    local conn
    conn, err = tls.wrap(sock, ctx, server_name)
    if not conn then self:close(); return nil, err end
    conn:settimeout(self._timeouts[CONNECT])
    local ok
    ok, err = conn:handshake()
    if not ok then
      self._sock = conn
      self:close()
      return nil, err
    end
    self._sock, self._tls = conn, true
  end
  if reused_session == false then return true end
  return { server_name = server_name } -- a session token for the caller
end

return M
