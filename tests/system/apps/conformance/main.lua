#!/usr/bin/env lua
-- Lua 5.4 behaviour that lunik must keep, printed as "name: value" lines.
-- tests/system/suite.py runs this file on Debian's lua5.4 and as an
-- image's main.lua, and compares the two outputs line by line; so it
-- prints only what is the same on every conforming Lua (no addresses, no
-- paths, no times).

local function show(name, ...)
  local parts = table.pack(...)
  for i = 1, parts.n do parts[i] = tostring(parts[i]) end
  print(name .. ": " .. table.concat(parts, " | ", 1, parts.n))
end

local function msg(e) -- an error message without its "file:line: "
  return (tostring(e):gsub("^[^:]*:%d+: ", ""))
end

-- the main chunk itself
local co, ismain = coroutine.running()
show("main running", type(co), ismain)
show("main isyieldable", coroutine.isyieldable())
show("main status", coroutine.status(co))
local ok, e = pcall(coroutine.yield, 1)
show("main yield", ok, msg(e))
show("main resume self", coroutine.resume(co))
show("main resume main from a coroutine", coroutine.wrap(function()
  return coroutine.resume(co)
end)())
show("main close self", pcall(coroutine.close, co))

-- coroutines made by the program
local c = coroutine.create(function(a, b)
  local c1, m = coroutine.running()
  show("inner running", type(c1), m, coroutine.isyieldable())
  show("inner resume self", coroutine.resume(c1))
  show("inner status self", coroutine.status(c1))
  local x = coroutine.yield(a + b)
  return x * 2
end)
show("first resume", coroutine.resume(c, 1, 2))
show("status suspended", coroutine.status(c))
show("second resume", coroutine.resume(c, 21))
show("status dead", coroutine.status(c))
show("dead resume", coroutine.resume(c))
show("resume non-coroutine", pcall(coroutine.resume, 42))

local w = coroutine.wrap(function() coroutine.yield(1) end)
w(); w()
show("dead wrap", pcall(w))
ok, e = pcall(w)
show("dead wrap message", ok, msg(e))

local self_wrap
self_wrap = coroutine.wrap(function() return self_wrap() end)
ok, e = pcall(self_wrap)
show("wrap resumes itself", ok, msg(e))

local a_wrap, b_wrap
a_wrap = coroutine.wrap(function() return b_wrap() end)
b_wrap = coroutine.wrap(function() return a_wrap() end)
ok, e = pcall(a_wrap)
show("wrap resumes a normal one", ok, msg(e))
show("a_wrap after", pcall(a_wrap))

local closed = {}
local tbc = coroutine.wrap(function()
  local x <close> = setmetatable({}, { __close = function() closed[#closed + 1] = "x" end })
  error("boom")
end)
ok, e = pcall(tbc)
show("wrap error closes", ok, msg(e), table.concat(closed, ","))

ok, e = pcall(coroutine.wrap(function() error({ code = 7 }) end))
show("wrap error table", ok, type(e), e.code)

local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
show("generator", gen(), gen(), gen())

local cl = coroutine.create(function() coroutine.yield() end)
coroutine.resume(cl)
show("close suspended", coroutine.close(cl), coroutine.status(cl))
show("close dead", coroutine.close(coroutine.create(print)))
local errco = coroutine.create(function() error("x") end)
coroutine.resume(errco)
show("close after error", coroutine.close(errco))

show("isyieldable of a suspended one", coroutine.isyieldable(c))
show("yield across pcall", coroutine.wrap(function()
  return pcall(function() return coroutine.yield("out") end)
end)())
show("yield in a metamethod", coroutine.wrap(function()
  local t = setmetatable({}, { __index = function() return coroutine.yield("mm") end })
  return t.x
end)())

-- loading source
local m = require "shebang_mod"
show("require shebang", m.name, m.line)
show("loadfile bom", loadfile("bom.lua")())
show("dofile bom and shebang", dofile("both.lua"))
ok, e = pcall(require, "no.such.module")
show("require missing", ok, (msg(e):match("^module 'no.such.module' not found:")))
show("require missing: no empty entries", (msg(e):find("\n\t\n", 1, true)) == nil)
show("load text with shebang", load("#!x\nreturn 1"))

-- randomness: a seed gives the same numbers everywhere
math.randomseed(42)
show("randomseed 42", math.random(1, 1000000), math.random(1, 1000000),
  math.random())
math.randomseed(7, 11)
show("randomseed 7 11", math.random(0), math.random(100))
show("random range errors", pcall(math.random, 2, 1))

-- dates
show("date too large", pcall(os.date, "%Y", 2^60))
show("date too small", pcall(os.date, "!%Y", -2^60))
show("date utc", os.date("!%Y-%m-%d %H:%M:%S", 1700000000))
show("date utc 1900", os.date("!%Y-%m-%d %j %w", -2208988800))
show("date far", os.date("!%Y-%m-%d", 253402300799))
show("date table", os.date("!*t", 0).year, os.date("!*t", 86399).hour)
show("time utc fields", os.time({ year = 2000, month = 1, day = 1, hour = 0 }) ~= nil)
show("time normalises", os.date("!%Y-%m-%d", os.time({ year = 2000, month = 14, day = 1, hour = 12 })))
local t = { year = 2001, month = 0, day = 0, hour = 12 }
os.time(t)
show("time updates fields", t.year, t.month, t.day)
show("time year too big", pcall(os.time, { year = 2^40, month = 1, day = 1 }))
show("time integer field", pcall(os.time, { year = "x", month = 1, day = 1 }))
show("difftime", os.difftime(10, 4))
