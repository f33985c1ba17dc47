-- http.client: HTTP/1.1 requests, with keep-alive connection reuse.
--
--   http.request{ method = "GET", url = "http://host:port/path?q",
--                 headers = {...}, body = "...", timeout = 30,
--                 redirects = 0, tls = { ca = ..., verify = true } }
--     -> { status =, reason =, headers =, body = }  or  nil, err
--   http.get(url [, opts])   http.post(url, body [, opts])
--
-- Idle connections are kept per scheme, host and port and reused; one that
-- has unread bytes or has been idle too long is closed instead. A request
-- on a reused connection that fails before any answer arrives is retried
-- once on a new connection (the server may have closed it meanwhile).
-- Redirects are followed only when opts.redirects allows.

local headers = require "http.headers"
local httpp = require "http.parser"
local net = require "net"
local sys = require "sys"

local concat = table.concat
local monotonic = sys.monotonic

local M = {}

M.IDLE_TIMEOUT = 30   -- seconds an idle connection is kept
M.POOL_SIZE = 16      -- idle connections kept per host

local pools = {}      -- "scheme://host:port" -> { {conn=, t=}, ... }
local tls_default     -- the verifying client context for https


-- scheme, host, port, target of a URL; nil, err if it is not http(s).
function M.parse_url(url)
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "invalid URL: " .. url end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then
    return nil, "unsupported URL scheme: " .. scheme
  end
  local authority, target = rest:match("^([^/?#]*)(.*)$")
  target = target:gsub("#.*$", "")
  if target == "" then target = "/" elseif target:sub(1, 1) == "?" then target = "/" .. target end
  if authority:find("@", 1, true) then return nil, "user info in URLs is not supported" end
  local host, port = authority:match("^(.-):(%d+)$")
  if not host then host = authority end
  if host == "" then return nil, "invalid URL: no host" end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  if port < 1 or port > 65535 then return nil, "invalid URL: bad port" end
  return scheme, host, port, target
end

local function key_of(scheme, host, port)
  return scheme .. "://" .. host .. ":" .. port
end

-- An idle pooled connection still fit to use, or nil.
local function take(key)
  local pool = pools[key]
  while pool and #pool > 0 do
    local e = table.remove(pool)
    if monotonic() - e.t < M.IDLE_TIMEOUT and not e.conn:dirty() then
      return e.conn
    end
    e.conn:close()
  end
end

local function give(key, conn)
  local pool = pools[key] or {}
  pools[key] = pool
  if #pool >= M.POOL_SIZE then
    conn:close()
    return
  end
  pool[#pool + 1] = { conn = conn, t = monotonic() }
end

local function connect(scheme, host, port, opts)
  if scheme == "https" then
    local tls = require "tls"
    local ctx = opts.tls_context
    if not ctx then
      if opts.tls then
        local err
        ctx, err = tls.client(opts.tls)
        if not ctx then return nil, err end
      else
        if not tls_default then
          local err
          tls_default, err = tls.client { ca = "system" }
          if not tls_default then return nil, err end
        end
        ctx = tls_default
      end
    end
    return tls.connect(host, port, ctx, opts.timeout)
  end
  return net.connect(host, port, opts.timeout)
end

-- The request's bytes.
local function encode(method, host, port, scheme, target, headers, body)
  local out, seen = { method .. " " .. target .. " HTTP/1.1\r\n" }, {}
  for k, v in pairs(headers or {}) do
    seen[k:lower()] = true
    if type(v) == "table" then
      for _, one in ipairs(v) do out[#out + 1] = k .. ": " .. tostring(one) .. "\r\n" end
    else
      out[#out + 1] = k .. ": " .. tostring(v) .. "\r\n"
    end
  end
  if not seen.host then
    local default = (scheme == "https" and 443 or 80)
    out[#out + 1] = "Host: " .. host .. (port ~= default and ":" .. port or "") .. "\r\n"
  end
  if not seen["user-agent"] then out[#out + 1] = "User-Agent: lunik\r\n" end
  if body and not seen["content-length"] and not seen["transfer-encoding"] then
    out[#out + 1] = "Content-Length: " .. #body .. "\r\n"
  elseif not body and (method == "POST" or method == "PUT" or method == "PATCH")
    and not seen["content-length"] then
    out[#out + 1] = "Content-Length: 0\r\n"
  end
  out[#out + 1] = "\r\n"
  if body then out[#out + 1] = body end
  return concat(out)
end

-- Reads one response from conn; returns res, reusable | nil, err, got_any.
local function read_response(conn, method)
  local buf, pos = "", 1
  local res, n, why
  while true do
    res, n, why = httpp.response(buf, pos, method == "HEAD")
    if res then
      if res.status >= 200 or res.status == 101 then break end
      pos = pos + n -- an interim 1xx: the real answer follows
    elseif n then
      return nil, "bad response: " .. tostring(why), true
    else
      local data, err = conn:receiveany(65536)
      if not data then return nil, err, #buf > 0 end
      buf = buf:sub(pos) .. data
      pos = 1
    end
  end
  pos = pos + n
  headers.wrap(res.headers)
  local body
  if res.body == "length" then
    local have = #buf - pos + 1
    if have >= res.length then
      body = buf:sub(pos, pos + res.length - 1)
    else
      local rest, err = conn:receive(res.length - have)
      if not rest then return nil, "body " .. err, true end
      body = buf:sub(pos) .. rest
    end
  elseif res.body == "chunked" then
    local dec, parts = httpp.chunked(), {}
    while true do
      local data, m, done = dec:decode(buf, pos)
      if not data then return nil, "bad chunked body: " .. tostring(done), true end
      if #data > 0 then parts[#parts + 1] = data end
      pos = pos + m
      if done then break end
      local more, err = conn:receiveany(65536)
      if not more then return nil, "body " .. err, true end
      buf, pos = buf:sub(pos) .. more, 1
    end
    body = concat(parts)
  elseif res.body == "close" then
    local rest, err, partial = conn:receive("*a")
    if not rest then return nil, "body " .. err, true end
    body = buf:sub(pos) .. rest
  else
    body = ""
  end
  return { status = res.status, reason = res.reason, headers = res.headers,
    body = body, version = res.version }, res.keep_alive and res.body ~= "close"
end

local function once(method, url, opts)
  local scheme, host, port, target = M.parse_url(url)
  if not scheme then return nil, host end
  local key = key_of(scheme, host, port)
  local wire = encode(method, host, port, scheme, target, opts.headers, opts.body)
  for attempt = 1, 2 do
    local conn = attempt == 1 and take(key)
    local reused = conn and true
    if not conn then
      local err
      conn, err = connect(scheme, host, port, opts)
      if not conn then return nil, err end
    end
    conn:settimeout(opts.timeout)
    local ok, err = conn:send(wire)
    local res, reusable, got
    if ok then
      res, reusable, got = read_response(conn, method)
      if not res then err = reusable end
    end
    if res then
      if reusable and opts.keepalive ~= false then give(key, conn) else conn:close() end
      return res
    end
    conn:close()
    if not reused or got then return nil, err end
  end
end

local REDIRECTS = { [301] = true, [302] = true, [303] = true, [307] = true, [308] = true }

-- Resolves a Location against the URL it came from.
local function resolve(base, loc)
  if loc:match("^%a[%w+.-]*://") then return loc end
  local scheme, host, port = M.parse_url(base)
  local origin = scheme .. "://" .. host .. ":" .. port
  if loc:sub(1, 2) == "//" then return scheme .. ":" .. loc end
  if loc:sub(1, 1) == "/" then return origin .. loc end
  local dir = select(4, M.parse_url(base)):gsub("[?#].*$", ""):gsub("[^/]*$", "")
  return origin .. dir .. loc
end

function M.request(opts)
  if type(opts) ~= "table" then error("http.request: expected a table", 2) end
  if type(opts.url) ~= "string" then error("http.request: url must be a string", 2) end
  if opts.body ~= nil and type(opts.body) ~= "string" then
    error("http.request: body must be a string", 2)
  end
  local method = (opts.method or "GET"):upper()
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.timeout = opts.timeout or 30
  local url, left = opts.url, opts.redirects or 0
  while true do
    local res, err = once(method, url, o)
    if not res then return nil, err end
    local loc = res.headers.location
    if not (REDIRECTS[res.status] and loc and left > 0) then
      res.url = url
      return res
    end
    left = left - 1
    url = resolve(url, loc)
    if res.status == 303 or ((res.status == 301 or res.status == 302)
      and method == "POST") then
      method, o.body = "GET", nil
    end
  end
end

function M.get(url, opts)
  local o = { url = url, method = "GET" }
  for k, v in pairs(opts or {}) do o[k] = v end
  return M.request(o)
end

function M.post(url, body, opts)
  local o = { url = url, method = "POST", body = body }
  for k, v in pairs(opts or {}) do o[k] = v end
  return M.request(o)
end

return M
