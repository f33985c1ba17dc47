-- http.connection's decision, table by table: whether a connection stays
-- open after an answer and what its Connection header says. Runs on the
-- host Lua (tests/run.py), with stdlib/ on the path.
package.path = "stdlib/?.lua;stdlib/?/init.lua;" .. package.path
local connection = require "http.connection"

local v11 = { version = "1.1", keep_alive = true }
local v11_close = { version = "1.1", keep_alive = false }
local v10 = { version = "1.0", keep_alive = false }
local v10_keep = { version = "1.0", keep_alive = true }

local function case(name, c, keep, header)
  c.body_done = c.body_done ~= false
  c.served = c.served or 1
  c.max_requests = c.max_requests or 0
  local k, h = connection.after(c)
  if k == keep and h == header then
    print("ok - " .. name)
  else
    print(("FAIL - %s: got %s, %s; want %s, %s"):format(name, tostring(k),
      tostring(h), tostring(keep), tostring(header)))
  end
end

case("1.1 keeps alive without saying so", { request = v11 }, true, nil)
case("1.1 with Connection: close closes", { request = v11_close }, false, "close")
case("1.0 closes by default", { request = v10 }, false, "close")
case("1.0 keep-alive is answered with the header", { request = v10_keep },
  true, "keep-alive")
case("1.0 keep-alive with a streamed body closes after it",
  { request = v10_keep, streamed = true }, false, "close")
case("1.1 streamed bodies are chunked and keep alive",
  { request = v11, streamed = true }, true, nil)
case("a refusal at the head closes", { request = nil }, false, "close")
case("max_requests reached closes",
  { request = v11, served = 3, max_requests = 3 }, false, "close")
case("under max_requests keeps alive",
  { request = v11, served = 2, max_requests = 3 }, true, nil)
case("an unread body that is still coming closes",
  { request = v11, body_done = false }, false, "close")
case("1.0 keep-alive with an unread body closes",
  { request = v10_keep, body_done = false }, false, "close")
case("a server shutting down closes", { request = v11, closing = true },
  false, "close")
case("a 1.0 keep-alive client of a server shutting down is told close",
  { request = v10_keep, closing = true }, false, "close")
