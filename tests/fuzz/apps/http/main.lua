-- The app of stack_http.c: an http.app with the features a service uses
-- (parameters, queries, JSON in and out, a streamed body, keep-alive),
-- and a client task that sends each fuzz input on a new connection over
-- lwIP's loopback, half-closes, and reads the answer to the end.
local fuzz = require "fuzz"
local http = require "http"
local json = require "json"
local net = require "net"

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

while true do
  local input = fuzz.next()
  for k in pairs(items) do items[k] = nil end -- each input starts afresh
  local c = net.connect("127.0.0.1", 8080, 2)
  if c then
    c:settimeout(2)
    c:send(input)
    c:shutdown("send")
    repeat local data = c:receiveany(65536) until not data
    c:close()
  end
  fuzz.done()
end
