local util = require "lib.util"
local deep = require "lib.deep"
local test = require "test"
print("util: " .. util.answer())
print("deep: " .. deep.name)
print("stdlib test: " .. type(test.run))
print("same module twice: " .. tostring(require "lib.util" == util))
local ok, err = pcall(require, "no.such.module")
print("missing: " .. tostring(ok) .. " " .. err:gsub("\n.*", ""))
