-- The API over the guest's loopback, with an in-memory store.
local http = require "http"
local json = require "json"
local store = require "store"

local app = require("items")(store.memory())
local server = assert(app:listen(18080, { log = false }))
local base = "http://127.0.0.1:18080"

local function call(method, path, body)
  local res = assert(http.request { method = method, url = base .. path,
    body = body and json.encode(body),
    headers = body and { ["content-type"] = "application/json" } })
  local decoded = res.body ~= "" and json.decode(res.body) or nil
  return res.status, decoded, res
end

describe("items API", function()
  it("answers /healthz", function()
    local status, body = call("GET", "/healthz")
    assert.equal(200, status)
    assert.equal("ok", body.status)
  end)

  it("creates, reads, updates and deletes an item", function()
    local status, item, res = call("POST", "/items", { name = "tea", price = 3.5 })
    assert.equal(201, status)
    assert.equal("tea", item.name)
    assert.equal("/items/" .. item.id, res.headers.location)
    status, item = call("GET", "/items/" .. item.id)
    assert.equal(200, status)
    assert.equal(3.5, item.price)
    status, item = call("PUT", "/items/" .. item.id, { name = "green tea", price = 4 })
    assert.equal(200, status)
    assert.equal("green tea", item.name)
    status, item = call("PATCH", "/items/" .. item.id, { price = 5 })
    assert.equal(5, item.price)
    assert.equal("green tea", item.name)
    status = call("DELETE", "/items/" .. item.id)
    assert.equal(204, status)
    status = call("GET", "/items/" .. item.id)
    assert.equal(404, status)
  end)

  it("lists items as a JSON array, empty or not", function()
    local status, list, res = call("GET", "/items")
    assert.equal(200, status)
    assert.equal("application/json", res.headers["content-type"])
    local n = #list
    call("POST", "/items", { name = "a" })
    call("POST", "/items", { name = "b", tags = { "x" } })
    status, list = call("GET", "/items")
    assert.equal(n + 2, #list)
  end)

  it("refuses invalid items with 422 and bad JSON with 400", function()
    assert.equal(422, (call("POST", "/items", { price = 1 })))
    assert.equal(422, (call("POST", "/items", { name = "" })))
    assert.equal(422, (call("POST", "/items", { name = "x", price = -1 })))
    assert.equal(422, (call("POST", "/items", { name = "x", colour = "red" })))
    local res = assert(http.request { method = "POST", url = base .. "/items", body = "{oops" })
    assert.equal(400, res.status)
    assert.truthy(json.decode(res.body).error:find("invalid JSON", 1, true))
  end)

  it("answers 404 for unknown items and paths, 405 with Allow", function()
    assert.equal(404, (call("GET", "/items/999999")))
    assert.equal(404, (call("GET", "/items/abc")))
    assert.equal(404, (call("GET", "/nope")))
    local status, _, res = call("DELETE", "/items")
    assert.equal(405, status)
    assert.truthy(res.headers.allow:find("GET", 1, true))
  end)
end)
