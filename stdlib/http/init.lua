-- http: HTTP/1.1 server and client.
--
--   local http = require "http"
--   local app = http.app()
--   app:get("/items/:id", function(req) return { id = req.params.id } end)
--   app:listen(8080)
--   local res = http.get("http://10.0.2.2:8000/")  -- { status=, headers=, body= }
--
-- The server is http/server.lua, the client http/client.lua, files from
-- the image http/static.lua, routing http/router.lua, and message parsing
-- the C module http.parser. docs/http.md documents it all.

local router = require "http.router"
local server = require "http.server"

local M = {}

M.error = server.error
M.reasons = server.REASONS

local App = setmetatable({}, { __index = router.Router })
App.__index = App

-- app:listen(port [, opts]) -> server (its :close() stops it), serving in
-- a task of its own; nil, err when the port cannot be had.
function App:listen(port, opts)
  return server.listen(self, port, opts)
end

-- app:metrics([path [, registry]]) -> the registry: counts and times the
-- app's requests and serves Prometheus's text format at GET path
-- ("/metrics"), with the runtime's and the network's figures.
function App:metrics(path, registry)
  return require("http.metrics").install(self, path, registry)
end

-- app:static(prefix, dir [, opts]): files of the image under dir, at
-- prefix (e.g. app:static("/assets", "public")).
function App:static(prefix, dir, opts)
  return require("http.static").mount(self, prefix, dir, opts)
end

function M.app()
  return setmetatable(router.new(), App)
end

-- The client, loaded on first use.
local client
local function lazy(name)
  return function(...)
    client = client or require "http.client"
    return client[name](...)
  end
end
M.request = lazy("request")
M.get = lazy("get")
M.post = lazy("post")

return M
