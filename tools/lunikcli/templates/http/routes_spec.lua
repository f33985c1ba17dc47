-- `lunik test @name@` runs every *_spec.lua inside a booted image: here
-- the routes served on the guest's loopback and called with the client.
local http = require "http"
local json = require "json"
local routes = require "routes"

local server = assert(routes.app():listen(18080, { log = false }))
local base = "http://127.0.0.1:18080"

describe("routes", function()
  it("greets by name", function()
    local res = assert(http.get(base .. "/hello/lua"))
    assert.equal(200, res.status)
    assert.same({ greeting = "hello, lua" }, json.decode(res.body))
  end)

  it("echoes JSON objects and refuses the rest", function()
    local res = assert(http.post(base .. "/echo", '{"a":1}'))
    assert.equal(201, res.status)
    assert.same({ a = 1 }, json.decode(res.body))
    assert.equal(400, assert(http.post(base .. "/echo", "not json")).status)
    assert.equal(422, assert(http.post(base .. "/echo", "[1]")).status)
  end)
end)
