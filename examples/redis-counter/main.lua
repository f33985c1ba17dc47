-- redis-counter: an HTTP API of named counters whose state lives in Redis.
-- It talks to Redis with lua-resty-redis exactly as Debian's
-- lua-nginx-redis ships it (module nginx.redis), over lunik's ngx
-- cosockets and their keep-alive pool; README.md says how to run it.
--
--   GET    /counters/:name   {"name": ..., "value": n}   (0 if unset)
--   POST   /counters/:name   adds {"by": n} (default 1): {"name":, "value":}
--   DELETE /counters/:name   204
--   GET    /health           {"redis": "PONG"}, or 503
--
-- Boot arguments: redis=HOST:PORT (default 10.0.2.2:6379, the host as
-- QEMU user networking shows it), port= (default 8080), prefix= (the
-- Redis key prefix, default "counter:").
require "ngx"
local http = require "http"
local redis = require "nginx.redis"
local sys = require "sys"

local rhost, rport = (sys.args.redis or "10.0.2.2:6379"):match("^([^:]+):(%d+)$")
assert(rhost, "redis= wants HOST:PORT")
local port = tonumber(sys.args.port) or 8080
local prefix = sys.args.prefix or "counter:"

-- Runs fn(red) on a pooled Redis connection and returns what it returns;
-- a Redis that cannot be reached answers 503.
local function with_redis(fn)
  local red = redis:new()
  red:set_timeout(2000)
  local ok, err = red:connect(rhost, tonumber(rport))
  if not ok then http.error(503, "redis unavailable: " .. tostring(err)) end
  local res, rerr = fn(red)
  if res == nil then
    red:close()
    http.error(503, "redis: " .. tostring(rerr))
  end
  red:set_keepalive(30000, 32)
  return res
end

local function name_of(req)
  local name = req.params.name
  if #name > 200 or not name:match("^[%w_.%-]+$") then
    http.error(400, "a counter name is 1 to 200 letters, digits, _ . -")
  end
  return name
end

local app = http.app()

app:get("/counters/:name", function(req)
  local name = name_of(req)
  local v = with_redis(function(red) return red:get(prefix .. name) end)
  return { name = name, value = v == ngx.null and 0 or tonumber(v) }
end)

app:post("/counters/:name", function(req)
  local name = name_of(req)
  local by = 1
  if #req:body() > 0 then
    local body = req:json()
    by = type(body) == "table" and body.by or nil
    if math.type(by) ~= "integer" then
      http.error(422, "by must be an integer")
    end
  end
  local v = with_redis(function(red) return red:incrby(prefix .. name, by) end)
  return { name = name, value = v }
end)

app:delete("/counters/:name", function(req)
  local name = name_of(req)
  with_redis(function(red) return red:del(prefix .. name) end)
end)

app:get("/health", function()
  return { redis = with_redis(function(red) return red:ping() end) }
end)

assert(app:listen(port))
print(("redis-counter on port %d, Redis at %s:%s"):format(port, rhost, rport))
