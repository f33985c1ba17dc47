-- fetch: prints what a URL answers, fetched with LuaSocket's socket.http:
-- the unmodified Lua files of Debian's lua-socket, bundled into the image
-- by --lua-path, over lunik's socket.core. README.md says how to run it.
--
--   lunik run examples/fetch --lua-path /usr/share/lua/5.4 -- url=http://10.0.2.2:8000/
--
-- Boot arguments: url= (http only; lunik has no LuaSec), headers (print
-- the status line and headers before the body), timeout= (seconds, 30).
local http = require "socket.http"
local ltn12 = require "ltn12"
local sys = require "sys"

local url = sys.args.url
if type(url) ~= "string" then
  io.stderr:write("fetch: give a URL: lunik run examples/fetch --lua-path "
    .. "/usr/share/lua/5.4 -- url=http://10.0.2.2:8000/\n")
  sys.exit(2)
end
http.TIMEOUT = tonumber(sys.args.timeout) or 30

local body = {}
local ok, code, headers, status = http.request {
  url = url,
  sink = ltn12.sink.table(body),
  headers = { ["user-agent"] = "lunik-fetch (" .. http.USERAGENT .. ")" },
}
if not ok then
  io.stderr:write("fetch: " .. url .. ": " .. tostring(code) .. "\n")
  sys.exit(1)
end
if sys.args.headers then
  print(status)
  local names = {}
  for name in pairs(headers) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do print(name .. ": " .. headers[name]) end
  print()
end
io.write(table.concat(body))
io.stdout:flush()
sys.exit(code < 400 and 0 or 1)
