-- The app of stack_http.c: an http.app with the features a service uses
-- (parameters, queries, JSON in and out, a streamed body, keep-alive),
-- and fuzz_tcp's client, which sends each input on a new connection.
local http = require "http"
local json = require "json"

local app = http.app()
local items = {}
app:get("/items/:id", function(req)
  local v = items[req.params.id]
  if not v then http.error(404, "no such item") end
  return { id = req.params.id, value = v, q = req.query }
end)
app:post("/items", function(req)
  local item = req:json()
  if type(item) ~= "table" or type(item.id) ~= "string" then
    http.error(422, "an item needs an id")
  end
  items[item.id] = item.value
  return 201, item
end)
app:put("/text", function(req) return req:body():upper() end)
app:get("/stream", function(req)
  local n = tonumber(req.query.n) or 3
  local i = 0
  return 200, function()
    i = i + 1
    if i <= n and i <= 16 then return ("chunk %d\n"):format(i) end
  end
end)
app:get("/list", function() return json.array({ 1, "two", json.null }) end)
assert(app:listen(8080, { header_timeout = 1, body_timeout = 1,
                          idle_timeout = 1, send_timeout = 1, log = false }))

-- each input starts afresh
require("fuzz_tcp").run(8080, function()
  for k in pairs(items) do items[k] = nil end
end)
