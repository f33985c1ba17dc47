local sys = require "sys"
local keys = {}
for k, v in pairs(sys.args) do keys[#keys + 1] = k .. "=" .. tostring(v) end
table.sort(keys)
for _, k in ipairs(keys) do print("arg " .. k) end
print("cmdline: " .. sys.cmdline)
print("getenv port: " .. tostring(os.getenv("port")))
print("getenv none: " .. tostring(os.getenv("none")))
