-- engine: an HTTP app with a kv store and a slow route, for the graceful
-- shutdown tests (tests/system/suite_engine.py): under lunik run, libvirt
-- and HAProxy.
local http = require "http"
local kv = require "kv"
local sys = require "sys"
local timer = require "timer"

local db = kv.open() -- the first disk, or nothing
local app = http.app()
app:get("/healthz", function() return { ok = true, version = sys.args.version } end)
app:put("/items/:id", function(req)
  if not db then http.error(503, "no disk") end
  assert(db:set(req.params.id, req:body()))
  return 204
end)
app:get("/items/:id", function(req)
  local v = db and db:get(req.params.id)
  if not v then http.error(404, "no such item") end
  return v
end)
app:get("/count", function()
  local n = 0
  if db then for _ in db:keys() do n = n + 1 end end
  return { items = n }
end)
app:get("/slow", function(req)
  timer.sleep(tonumber(req.query.s) or 2)
  return "slow done"
end)
sys.on_shutdown(function() print("engine: shutdown handler ran") end)
assert(app:listen(tonumber(sys.args.port) or 8080))
print("engine ready" .. (db and " with a disk" or ""))
