-- http.server: the HTTP/1.1 server under http.app() (RFC 9110, 9112).
--
-- One task accepts; each connection gets a task of its own that parses
-- requests (http.parser, in C), runs the app's router and middleware, and
-- writes the answers, in order, keep-alive and pipelining included. The
-- connection is any object with net's methods (receive, receiveany, send,
-- settimeout, close, getpeername), so TLS connections serve the same way.

local connection = require "http.connection"
local headers = require "http.headers"
local httpp = require "http.parser"
local json = require "json"
local log = require "log"
local log_enabled = log.enabled
local net = require "net"
local shutdown = require "lunik.shutdown"
local sys = require "sys"
local task = require "task"
local timer = require "timer"

local concat, floor = table.concat, math.floor
local monotonic = sys.monotonic

local M = {}

-- Requests answered since boot by every server of the image, and the
-- servers (the status line and the metrics read them).
M.totals = { requests = 0 }
local servers = setmetatable({}, { __mode = "k" })

-- Connections open now, over every server.
function M.open_connections()
  local n = 0
  for server in pairs(servers) do n = n + server.active end
  return n
end

M.REASONS = {
  [100] = "Continue", [101] = "Switching Protocols",
  [200] = "OK", [201] = "Created", [202] = "Accepted", [204] = "No Content",
  [206] = "Partial Content",
  [301] = "Moved Permanently", [302] = "Found", [303] = "See Other",
  [304] = "Not Modified", [307] = "Temporary Redirect", [308] = "Permanent Redirect",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden",
  [404] = "Not Found", [405] = "Method Not Allowed", [406] = "Not Acceptable",
  [408] = "Request Timeout", [409] = "Conflict", [410] = "Gone",
  [411] = "Length Required", [412] = "Precondition Failed",
  [413] = "Content Too Large", [414] = "URI Too Long",
  [415] = "Unsupported Media Type", [416] = "Range Not Satisfiable",
  [417] = "Expectation Failed", [422] = "Unprocessable Content",
  [425] = "Too Early", [426] = "Upgrade Required", [428] = "Precondition Required",
  [429] = "Too Many Requests", [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error", [501] = "Not Implemented",
  [502] = "Bad Gateway", [503] = "Service Unavailable",
  [504] = "Gateway Timeout", [505] = "HTTP Version Not Supported",
}
local REASONS = M.REASONS

M.DEFAULTS = {
  host = "*",
  max_head = 16384,        -- bytes of request line and headers (431 / 414)
  max_headers = 100,       -- header lines (431)
  max_body = 1048576,      -- request body bytes (413)
  header_timeout = 10,     -- seconds to receive a whole head once begun (408)
  body_timeout = 30,       -- seconds a body may pause between bytes (408)
  idle_timeout = 60,       -- seconds a keep-alive connection may sit idle
  send_timeout = 30,       -- seconds a send may wait for the client
  max_connections = 1024,  -- beyond: 503 and close
  max_requests = 0,        -- per connection, 0: no limit
  log = true,              -- one access line per request
  backlog = 511,
}

-- ---- errors raised by handlers: http.error(status, message)

local HttpError = {}
HttpError.__index = HttpError
HttpError.__tostring = function(e)
  return "http error " .. e.status .. ": " .. tostring(e.message)
end
M.HttpError = HttpError

function M.error(status, message, headers)
  if math.type(status) ~= "integer" or status < 400 or status > 599 then
    error("http.error: status must be an integer from 400 to 599", 2)
  end
  error(setmetatable({ status = status, message = message or REASONS[status]
    or "error", headers = headers }, HttpError), 0)
end

-- ---- the Date header, made once a second

local date_at, date_str = -1, ""
local function http_date()
  local now = floor(sys.time())
  if now ~= date_at then
    date_at, date_str = now, os.date("!%a, %d %b %Y %H:%M:%S GMT", now)
  end
  return date_str
end
M.http_date = http_date


-- ---- the request object

local Request = {}
Request.__index = Request
M.Request = Request

-- The connection's reading state, shared by the head parser and bodies:
-- { conn, buf, pos, opts, parser }. Bytes of buf before pos are used.

-- Reads more bytes into st; returns true, or nil, err.
local function fill(st, timeout)
  st.conn:settimeout(timeout)
  local data, err = st.conn:receiveany(65536)
  if not data then return nil, err end
  if st.pos > #st.buf then
    st.buf, st.pos = data, 1
  else
    st.buf, st.pos = st.buf:sub(st.pos) .. data, 1
  end
  return true
end

local BODY_PIECE = 65536
local BODY_RESERVE = 8 << 20 -- left for the rest of the service

-- Whether a body of (n) bytes fits in the memory the heap has left:
-- reading it holds its pieces, then table.concat's buffer (which grows by
-- doubling, up to 2n) and the whole string: up to four times its size.
local function fits_memory(n)
  local m = sys.mem()
  local free = m.heap_total - m.heap_used
  return n * 4 + BODY_RESERVE <= free, free
end

-- Reads the rest of a Content-Length body, piece by piece, each wait up
-- to body_timeout (nil, status, why on failure).
local function read_length(st, want)
  local have = #st.buf - st.pos + 1
  if have >= want then
    local body = st.buf:sub(st.pos, st.pos + want - 1)
    st.pos = st.pos + want
    return body
  end
  local parts, got = { st.buf:sub(st.pos) }, have
  st.buf, st.pos = "", 1
  while got < want do
    st.conn:settimeout(st.opts.body_timeout)
    local data, err = st.conn:receiveany(math.min(BODY_PIECE, want - got))
    if not data then
      return nil, err == "timeout" and 408 or 400, "body " .. err
    end
    parts[#parts + 1] = data
    got = got + #data
  end
  return concat(parts)
end

local function read_chunked(st, req)
  local dec = st.parser:chunked()
  local parts = {}
  while true do
    local data, n, done = dec:decode(st.buf, st.pos)
    if not data then return nil, n, done end -- status, why
    if #data > 0 then parts[#parts + 1] = data end
    st.pos = st.pos + n
    if done then
      req._trailers = dec:trailers()
      return concat(parts)
    end
    local ok, err = fill(st, st.opts.body_timeout)
    if not ok then return nil, err == "timeout" and 408 or 400, "body " .. err end
  end
end

-- The body as a string, read on first use (nil, status, why on failure).
-- One larger than the memory left gets 413 before a byte of it is read
-- (and before 100 Continue invites it); running out of memory while
-- reading answers 500. Both are logged.
local function read_body(req)
  local st = req._st
  if req._framing == "length" then
    local ok, free = fits_memory(req._length)
    if not ok then
      log.warn("request body too large for this guest's memory",
        { length = req._length, free = free, path = req.path })
      return nil, 413, "body too large for this server's memory"
    end
  end
  if req.expect_continue and not req._continued then
    req._continued = true
    st.conn:settimeout(st.opts.send_timeout)
    st.conn:send("HTTP/1.1 100 Continue\r\n\r\n")
  end
  local ok, body, status, why = pcall(function()
    if req._framing == "length" then return read_length(st, req._length) end
    return read_chunked(st, req)
  end)
  if ok then return body, status, why end
  if tostring(body):find("not enough memory", 1, true) then
    st.buf, st.pos = "", 1
    collectgarbage()
    log.error("out of memory reading a request body",
      { length = req._length, path = req.path })
    return nil, 500, "not enough memory"
  end
  error(body, 0)
end

-- req:body(): the whole body; a bad or oversized one answers 400/413.
function Request:body()
  local b = self._body
  if b == nil then
    if self._framing == "none" then
      b = ""
    else
      local status, why
      b, status, why = read_body(self)
      if not b then
        self._broken = true
        M.error(status, why)
      end
    end
    self._body = b
  end
  return b
end

-- req:json(): the body decoded; a body that is not JSON answers 400.
function Request:json()
  local body = self:body()
  local v, err = json.decode(body)
  if v == nil and err then M.error(400, "invalid JSON body: " .. err) end
  return v
end

-- req:trailers(): trailer fields of a chunked body (after req:body()).
function Request:trailers()
  self:body()
  return self._trailers or {}
end

-- ---- writing answers

local function add_headers(out, n, headers, seen)
  for k, v in pairs(headers) do
    local lk = k:lower()
    seen[lk] = true
    if type(v) == "table" then
      for _, one in ipairs(v) do
        n = n + 1; out[n] = k .. ": " .. tostring(one) .. "\r\n"
      end
    else
      n = n + 1; out[n] = k .. ": " .. tostring(v) .. "\r\n"
    end
  end
  return n
end

-- Turns what a handler returned into status, body (string or function),
-- headers, content type.
local function normalize(a, b, c)
  local ta = type(a)
  if ta == "table" then
    return 200, json.encode(a), nil, "application/json"
  elseif ta == "string" then
    return 200, a, nil, "text/plain; charset=utf-8"
  elseif ta == "number" then
    if math.type(a) ~= "integer" or a < 100 or a > 599 then
      error("a handler returned the status " .. tostring(a), 0)
    end
    local tb = type(b)
    if tb == "table" then
      return a, json.encode(b), c, "application/json"
    elseif tb == "string" then
      return a, b, c, "text/plain; charset=utf-8"
    elseif tb == "function" then
      return a, b, c, "application/octet-stream"
    elseif b == nil then
      return a, "", c, nil
    end
    error("a handler returned a " .. tb .. " body", 0)
  elseif ta == "function" then
    return 200, a, nil, "application/octet-stream"
  elseif a == nil then
    return 204, "", nil, nil
  end
  error("a handler returned a " .. ta, 0)
end

-- Sends one answer; returns the body bytes sent, or nil, err. (conn_header)
-- is the Connection field it carries, if any (http.connection decides).
local function respond(st, req, status, body, headers, ctype, conn_header)
  local out, n, seen = { nil }, 1, {}
  out[1] = "HTTP/1.1 " .. status .. " " .. (REASONS[status] or "Unknown") .. "\r\n"
  if headers then n = add_headers(out, n, headers, seen) end
  if not seen["date"] then n = n + 1; out[n] = "Date: " .. http_date() .. "\r\n" end
  if not seen["server"] then n = n + 1; out[n] = "Server: lunik\r\n" end
  if ctype and not seen["content-type"] then
    n = n + 1; out[n] = "Content-Type: " .. ctype .. "\r\n"
  end
  if conn_header then n = n + 1; out[n] = "Connection: " .. conn_header .. "\r\n" end
  if req and req.id and not seen["x-request-id"] then
    n = n + 1; out[n] = "X-Request-Id: " .. req.id .. "\r\n"
  end
  local head_only = req and req.method == "HEAD"
  local no_body = status < 200 or status == 204 or status == 304
  local conn = st.conn
  conn:settimeout(st.opts.send_timeout)
  if type(body) == "function" then
    local chunked = not (req and req.version == "1.0")
    if chunked and not no_body then
      n = n + 1; out[n] = "Transfer-Encoding: chunked\r\n"
    end
    n = n + 1; out[n] = "\r\n"
    local ok, err = conn:send(concat(out, "", 1, n))
    if not ok then return nil, err end
    if head_only or no_body then return 0 end
    local sent = 0
    while true do
      local piece = body()
      if piece == nil then break end
      piece = tostring(piece)
      if #piece > 0 then
        sent = sent + #piece
        ok, err = conn:send(chunked and
          string.format("%x\r\n%s\r\n", #piece, piece) or piece)
        if not ok then return nil, err end
      end
    end
    if chunked then
      ok, err = conn:send("0\r\n\r\n")
      if not ok then return nil, err end
    end
    return sent
  end
  if not no_body and not seen["content-length"] then
    n = n + 1; out[n] = "Content-Length: " .. #body .. "\r\n"
  end
  n = n + 1; out[n] = "\r\n"
  local ok, err
  if head_only or no_body or #body == 0 then
    ok, err = conn:send(concat(out, "", 1, n))
    return ok and 0, err
  elseif #body <= 16384 then
    n = n + 1; out[n] = body
    ok, err = conn:send(concat(out, "", 1, n))
  else
    ok, err = conn:send(concat(out, "", 1, n))
    if ok then ok, err = conn:send(body) end
  end
  if not ok then return nil, err end
  return #body
end

local function error_body(status, message)
  return json.encode({ error = message or REASONS[status] or "error",
    status = status })
end

-- Refusals at the head stage are counted (server:stats()) and logged, at
-- most REFUSAL_LOG_BURST lines per REFUSAL_LOG_WINDOW seconds so a flood
-- of bad requests cannot fill the console; the rest are summed up.
local REFUSAL_LOG_BURST, REFUSAL_LOG_WINDOW = 10, 10
local refusal_log = { at = -math.huge, lines = 0, dropped = 0 }

local function log_refusal(status, why, remote)
  local now, rl = monotonic(), refusal_log
  if now - rl.at >= REFUSAL_LOG_WINDOW then
    if rl.dropped > 0 then
      log.warn("bad requests not logged", { count = rl.dropped,
        seconds = REFUSAL_LOG_WINDOW })
    end
    rl.at, rl.lines, rl.dropped = now, 0, 0
  end
  if rl.lines < REFUSAL_LOG_BURST then
    rl.lines = rl.lines + 1
    log.warn("request refused", { status = status, why = why, peer = remote })
  else
    rl.dropped = rl.dropped + 1
  end
end

-- Answers a request refused before it reached the app (a bad head, too
-- many connections), then the connection closes.
local function refuse(st, status, why, server, remote)
  if server then
    server.refused[status] = (server.refused[status] or 0) + 1
  end
  log_refusal(status, why, remote)
  local _, conn_header = connection.after { served = 0, max_requests = 0 }
  respond(st, nil, status, error_body(status, why), nil, "application/json",
    conn_header)
end

-- ---- one request

local function traceback(e)
  if getmetatable(e) == HttpError then return e end
  return debug.traceback(tostring(e), 2)
end

-- Runs the app for req; returns status, body, headers, ctype.
local function run(app, req)
  local ok, a, b, c = xpcall(app.dispatch, traceback, app, req)
  if ok then
    local nok, s, body, h, ct = pcall(normalize, a, b, c)
    if nok then return s, body, h, ct end
    a = debug.traceback(s, 1)
  end
  if getmetatable(a) == HttpError then
    local body = a.message
    if type(body) ~= "table" then body = { error = tostring(body), status = a.status } end
    return a.status, json.encode(body), a.headers, "application/json"
  end
  log.error("handler failed", { method = req.method, path = req.path,
    route = req.route, id = req.id, error = a })
  return 500, error_body(500), nil, "application/json"
end

-- Passes over what is left of req's body when all of it has arrived, so
-- the next request starts where it should. False when the client would
-- have to be waited for, or asked for it (100 Continue): the connection
-- then closes after the answer instead.
local function skip_body(req)
  if req._body ~= nil or req._framing == "none" then return not req._broken end
  if req.expect_continue and not req._continued then return false end
  local st = req._st
  if req._framing == "length" then
    if #st.buf - st.pos + 1 < req._length then return false end
    st.pos = st.pos + req._length
    return true
  end
  local data, n, done = st.parser:chunked():decode(st.buf, st.pos)
  if not data or not done then return false end
  st.pos = st.pos + n
  return true
end

-- After an answer that leaves part of a request body unread: stop
-- sending, then read and drop what the client still sends for a while, so
-- closing does not reset the connection (and lose the answer) while its
-- bytes are in flight. TLS connections just close.
local LINGER_S, LINGER_BYTES = 2, 4 << 20
local function linger(conn)
  if not conn.shutdown or not conn:shutdown("send") then return end
  local t0, n = monotonic(), 0
  while n < LINGER_BYTES do
    local left = LINGER_S - (monotonic() - t0)
    if left <= 0 then break end
    conn:settimeout(left)
    local data = conn:receiveany(65536)
    if not data then break end
    n = n + #data
  end
end

local function access_log(req, status, bytes, t0)
  log.info("http", { method = req.method, path = req.target, status = status,
    bytes = bytes, ms = floor((monotonic() - t0) * 1e5 + 0.5) / 100,
    id = req.id, peer = req.remote_addr, route = req.route })
end

-- Whether an answer's body is streamed: a function, for a request and a
-- status that have a body.
local function streams(req, status, body)
  return type(body) == "function" and req.method ~= "HEAD" and status >= 200
    and status ~= 204 and status ~= 304
end

-- ---- a connection

-- Request ids: the client's own X-Request-Id when it is a sane token,
-- else one made here, unique per boot: a random prefix and a count.
local id_prefix = string.format("%08x", math.random(0, 0x7fffffff))
local id_count = 0
local function request_id(given)
  if given and #given <= 128 and not given:find("[^%w%-_.:/+=]") then
    return given
  end
  id_count = id_count + 1
  return string.format("%s%08x", id_prefix, id_count)
end

local function new_request(st, head, remote, rport)
  local req = setmetatable(head, Request)
  headers.wrap(head.headers)
  req._st, req._framing, req._length = st, head.body, head.length
  req.body = nil -- the method, not the parser's framing field
  req.remote_addr, req.remote_port = remote, rport
  req.id = request_id(head.headers["x-request-id"])
  local q = head.query
  req.query = q and httpp.query(q) or {}
  return req
end

local function serve_connection(app, conn, opts, server)
  local remote, rport = conn:getpeername()
  local st = { conn = conn, buf = "", pos = 1, opts = opts, parser = server.parser }
  local served = 0
  server.conns[st] = true
  while true do
    -- the head: complete, bad, or read more
    local head, n, why = st.parser:request(st.buf, st.pos)
    if not head then
      if n then refuse(st, n, why, server, remote); break end
      local started = #st.buf >= st.pos
      if not started and server.closing then break end -- drained
      local timeout = started and opts.header_timeout or opts.idle_timeout
      if started then
        st.head_t0 = st.head_t0 or monotonic()
        timeout = opts.header_timeout - (monotonic() - st.head_t0)
        if timeout <= 0 then refuse(st, 408, "header timeout", server, remote); break end
      end
      st.idle = not started
      local ok, err = fill(st, timeout)
      st.idle = false
      if not ok then
        if err == "timeout" and started then
          refuse(st, 408, "header timeout", server, remote)
        end
        break
      end
    else
      st.pos, st.head_t0 = st.pos + n, nil
      local t0 = monotonic()
      local req = new_request(st, head, remote, rport)
      served = served + 1
      M.totals.requests = M.totals.requests + 1
      local mt = app._metrics
      if mt then mt.begin() end
      local status, body, headers, ctype = run(app, req)
      local body_done = skip_body(req)
      if req._broken and status < 400 then
        status, body, headers, ctype = 400, error_body(400), nil, "application/json"
      end
      local keep, conn_header = connection.after {
        request = head, streamed = streams(req, status, body),
        body_done = body_done, closing = server.closing, served = served,
        max_requests = opts.max_requests }
      local bytes = respond(st, req, status, body, headers, ctype, conn_header)
      if mt then mt.done(req, status, bytes, t0) end
      if opts.log and log_enabled("info") then access_log(req, status, bytes or 0, t0) end
      if not keep or not bytes then
        if bytes and not body_done then linger(conn) end
        break
      end
    end
  end
  server.conns[st] = nil
  conn:close()
end

-- ---- servers

local Server = {}
Server.__index = Server

-- server:close(): stops accepting; open connections finish their current
-- request and close.
function Server:close()
  if not self.closing then
    self.closing = true
    self.listener:close()
    shutdown.off(self.drain_handler)
  end
  return true
end

-- server:drain([timeout]) -> true, or nil, "timeout": stops accepting,
-- closes the idle keep-alive connections, and waits until the requests in
-- flight are answered (their answers close their connections). The
-- graceful shutdown calls it for every server.
function Server:drain(timeout)
  self:close()
  local deadline = timeout and sys.monotonic() + timeout
  while true do
    for st in pairs(self.conns) do
      if st.idle then st.conn:close() end
    end
    if self.active == 0 then return true end
    if deadline and sys.monotonic() >= deadline then return nil, "timeout" end
    timer.sleep(0.02)
  end
end

function Server:port()
  return select(2, self.listener:getsockname())
end

-- server:stats() -> { connections = open now, refused = { [status] = n } }:
-- the requests refused before they reached the app, by status.
function Server:stats()
  local refused = {}
  for k, v in pairs(self.refused) do refused[k] = v end
  return { connections = self.active, refused = refused }
end

local function check_opts(opts)
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do
    if M.DEFAULTS[k] == nil and k ~= "tls" and k ~= "wrap" then
      error("app:listen: unknown option '" .. tostring(k) .. "'", 3)
    end
    o[k] = v
  end
  return o
end

-- app:listen(port [, opts]) -> server, serving in a task of its own.
function M.listen(app, port, opts)
  if math.type(port) ~= "integer" or port < 0 or port > 65535 then
    error("app:listen: port must be an integer 0..65535", 2)
  end
  local o = check_opts(opts)
  local wrap = o.wrap
  if o.tls then
    local tls = require "tls"
    local ctx = assert(tls.server(o.tls))
    wrap = function(c) return tls.wrap(c, ctx) end
  end
  local listener, err = net.listen(o.host, port, { backlog = o.backlog })
  if not listener then return nil, err end
  local server = setmetatable({ listener = listener, active = 0, refused = {},
    conns = {},
    parser = httpp.new { max_head = o.max_head, max_headers = o.max_headers,
      max_body = o.max_body } }, Server)
  servers[server] = true
  server.drain_handler = shutdown.on(function() server:drain() end, "drain")
  if app._metrics then app._metrics.servers[server] = true end
  task.spawn(function()
    while true do
      local conn, aerr = listener:accept()
      if not conn then
        if aerr == "closed" then break end
      elseif server.active >= o.max_connections then
        local st = { conn = conn, opts = o }
        task.spawn(function()
          refuse(st, 503, "too many connections", server, (conn:getpeername()))
          conn:close()
        end)
      else
        server.active = server.active + 1
        task.spawn(function()
          local c = conn
          if wrap then
            c = wrap(conn)
            if not c then -- closed before it could be wrapped
              conn:close()
              server.active = server.active - 1
              return
            end
          end
          local ok, e = pcall(serve_connection, app, c, o, server)
          server.active = server.active - 1
          if not ok then
            log.error("connection failed", { error = tostring(e) })
            c:close()
          end
        end)
      end
    end
  end)
  return server
end

return M
