-- compat_json: dkjson and inspect from Debian (lua-dkjson, lua-inspect),
-- bundled with --lua-path, used unmodified.
local json = require "dkjson"
local inspect = require "inspect"

local doc = { name = "lunik", tags = { "lua", "unikernel" }, n = 3, ok = true }
local text = json.encode(doc, { keyorder = { "name", "n", "ok", "tags" } })
print("dkjson encode: " .. text)
local back, pos, err = json.decode('{"a":[1,2,{"b":null}],"c":"\\u00e9"}', 1, json.null)
print("dkjson decode: " .. tostring(back.a[2]) .. " " .. tostring(back.a[3].b == json.null)
  .. " " .. back.c .. " " .. tostring(err))
print("dkjson version: " .. json.version)
print("inspect: " .. inspect({ 1, 2, key = "v", nested = { x = true } }, { newline = " ", indent = "" }))
print("inspect version: " .. inspect._VERSION)
