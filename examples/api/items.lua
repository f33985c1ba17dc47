-- items.lua -- the API: a collection of items, each { id =, name =,
-- price =, tags = }, over a store (store.lua). Returns a function that
-- builds the http app for a store.
local http = require "http"
local json = require "json"

local function key(id) return string.format("item/%010d", id) end

-- The fields of an item from a request body, or http.error 422 naming
-- what is wrong.
local function validate(body, partial)
  if type(body) ~= "table" or getmetatable(body) == json.array_mt then
    http.error(422, "the body must be a JSON object")
  end
  local item = {}
  for k in pairs(body) do
    if k ~= "name" and k ~= "price" and k ~= "tags" and k ~= "id" then
      http.error(422, "unknown field '" .. tostring(k) .. "'")
    end
  end
  if body.name ~= nil or not partial then
    if type(body.name) ~= "string" or #body.name == 0 or #body.name > 100 then
      http.error(422, "name must be a string of 1 to 100 bytes")
    end
    item.name = body.name
  end
  if body.price ~= nil then
    if type(body.price) ~= "number" or body.price < 0 or body.price ~= body.price then
      http.error(422, "price must be a number >= 0")
    end
    item.price = body.price
  end
  if body.tags ~= nil then
    if type(body.tags) ~= "table" then http.error(422, "tags must be a list of strings") end
    for i, t in ipairs(body.tags) do
      if type(t) ~= "string" then http.error(422, "tags must be a list of strings") end
    end
    item.tags = json.array(body.tags)
  end
  return item
end

local function id_param(req)
  local id = tonumber(req.params.id)
  if not id or id ~= math.floor(id) or id < 1 then http.error(404, "no such item") end
  return math.tointeger(id)
end

return function(store, store_name)
  local app = http.app()
  local started = os.time()

  local function load(id)
    local s = store:get(key(id))
    return s and json.decode(s)
  end

  local function save(item)
    local ok, err = store:set(key(item.id), json.encode(item))
    if not ok then http.error(503, "store: " .. tostring(err)) end
  end

  local function next_id()
    local n = tonumber(store:get("meta/next_id") or "1")
    local ok, err = store:set("meta/next_id", tostring(n + 1))
    if not ok then http.error(503, "store: " .. tostring(err)) end
    return n
  end

  app:get("/healthz", function()
    return { status = "ok", store = store_name, uptime = os.time() - started }
  end)

  app:get("/items", function(req)
    local list, limit = {}, tonumber(req.query.limit) or 100
    for k in store:keys("item/") do
      if #list >= limit then break end
      list[#list + 1] = json.decode(store:get(k))
    end
    return json.array(list)
  end)

  app:get("/items/:id", function(req)
    local item = load(id_param(req))
    if not item then http.error(404, "no such item") end
    return item
  end)

  app:post("/items", function(req)
    local item = validate(req:json())
    item.id = next_id()
    save(item)
    return 201, item, { location = "/items/" .. item.id }
  end)

  app:put("/items/:id", function(req)
    local id = id_param(req)
    if not load(id) then http.error(404, "no such item") end
    local item = validate(req:json())
    item.id = id
    save(item)
    return item
  end)

  app:patch("/items/:id", function(req)
    local id = id_param(req)
    local item = load(id)
    if not item then http.error(404, "no such item") end
    for k, v in pairs(validate(req:json(), true)) do item[k] = v end
    save(item)
    return item
  end)

  app:delete("/items/:id", function(req)
    local id = id_param(req)
    if not load(id) then http.error(404, "no such item") end
    store:delete(key(id))
    return 204
  end)

  return app
end
