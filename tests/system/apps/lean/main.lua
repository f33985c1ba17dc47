-- A module named only at run time: the build cannot see it, so it is left
-- out unless --include names it, and require says so.
local name = ({ "crypto" })[1]
local ok, err = pcall(require, name)
print("dynamic: " .. tostring(ok) .. " " .. tostring(err))
if ok then print("crypto.hex: " .. err.hex("hi")) end
local ok2, err2 = pcall(require, "no" .. ".such")
print("unknown: " .. tostring(ok2) .. " " .. err2:gsub("\n.*", ""))
-- TLS asked for without the app's code naming it: http's TLS path
-- requires a module the build left out
local http = require "http"
local opts = { ["t" .. "ls"] = {} }
local tok, terr = pcall(function() return http.app():listen(0, opts) end)
print("tls: " .. tostring(tok) .. " " .. tostring(terr))
