-- @name@: an HTTP/JSON API. `lunik run @name@ -p 8080:8080` boots it;
-- then: curl -s localhost:8080/hello/you
local routes = require "routes"
local sys = require "sys"

local port = tonumber(sys.args.port) or 8080
assert(routes.app():listen(port))
print("@name@ listening on " .. port)
