-- The API's routes, in a module so its specs can serve them too.
local http = require "http"
local json = require "json"

local M = {}

function M.app()
  local app = http.app()
  app:get("/hello/:name", function(req)
    return { greeting = "hello, " .. req.params.name }
  end)
  app:post("/echo", function(req)
    local body = req:json() -- a body that is not JSON answers 400
    if type(body) ~= "table" or getmetatable(body) == json.array_mt then
      http.error(422, "send a JSON object")
    end
    return 201, body
  end)
  return app
end

return M
