-- compat_redis: lua-resty-redis as Debian's lua-nginx-redis ships it
-- (module nginx.redis, bundled with --lua-path /usr/share/lua/5.1),
-- unmodified, over lunik's ngx cosockets, against the Redis server the
-- test runs on the host. Boot arguments: host=10.0.2.2 port=N
require "ngx"
local redis = require "nginx.redis"
local sys = require "sys"

local host, port = sys.args.host or "10.0.2.2", tonumber(sys.args.port)

local function client()
  local red = redis:new()
  red:set_timeout(5000)
  assert(red:connect(host, port))
  return red
end

local red = client()
print("set: " .. tostring(red:set("lunik:greeting", "hello")))
print("get: " .. tostring(red:get("lunik:greeting")))
print("missing is ngx.null: " .. tostring(red:get("lunik:nothing") == ngx.null))
print("incr: " .. tostring(red:incr("lunik:counter")))
print("hset: " .. tostring(red:hset("lunik:hash", "field", "value")))

red:init_pipeline()
red:set("lunik:piped", "p")
red:incrby("lunik:piped-count", 5)
red:get("lunik:piped")
red:lpush("lunik:list", "a", "b", "c")
local res = assert(red:commit_pipeline())
print("pipeline: " .. table.concat({ res[1], res[2], res[3], res[4] }, " "))
local bad, err = red:incr("lunik:greeting")
print("error reply: " .. tostring(bad) .. " " .. tostring(err))
assert(red:set_keepalive(10000, 10))

-- 1000 requests, each on a client from the pool
local t0 = sys.monotonic()
local reused
for i = 1, 1000 do
  local r = client()
  assert(r:incr("lunik:counter"))
  reused = r:get_reused_times()
  assert(r:set_keepalive(10000, 10))
end
print(("pool: 1000 requests in %.3f s, last reused %d times"):format(
  sys.monotonic() - t0, reused))
red = client()
print("counter: " .. tostring(red:get("lunik:counter")))
red:close()
print("done")
