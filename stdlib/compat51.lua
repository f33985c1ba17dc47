-- compat51: the Lua 5.1 globals that libraries written for Lua 5.1 and
-- LuaJIT (OpenResty's among them) still use, on Lua 5.4.
-- `require "compat51"` installs what is missing (ngx does it too):
--
--   unpack, loadstring, setfenv, getfenv, table.getn, table.maxn
--
-- setfenv and getfenv work on Lua functions through their _ENV upvalue:
-- setfenv gives the function an _ENV of its own (other closures that
-- shared it keep theirs). A function that uses no globals has no _ENV:
-- setting its environment changes nothing, as it would observe nothing.
-- Level 0 (the thread's environment) and C functions raise.
local debug = require "debug"

local M = {}

-- The index of f's _ENV upvalue, or nil.
local function env_index(f)
  for i = 1, math.huge do
    local name = debug.getupvalue(f, i)
    if name == "_ENV" then return i end
    if not name then return nil end
  end
end

-- The function at level (f) (1: the caller of setfenv/getfenv), or f.
local function target(f, fname)
  if f == nil then f = 1 end
  if type(f) == "number" then
    if f == 0 then
      error(fname .. "(0): a thread's environment does not exist in Lua 5.4", 3)
    end
    if f < 0 or f ~= math.floor(f) then
      error("bad argument #1 to '" .. fname .. "' (level must be non-negative)", 3)
    end
    local info = debug.getinfo(f + 2, "f")
    if not info then error("bad argument #1 to '" .. fname .. "' (invalid level)", 3) end
    f = info.func
  end
  if type(f) ~= "function" then
    error("bad argument #1 to '" .. fname .. "' (number or function expected)", 3)
  end
  return f
end

function M.setfenv(f, env)
  if type(env) ~= "table" then
    error("bad argument #2 to 'setfenv' (table expected, got " .. type(env) .. ")", 2)
  end
  f = target(f, "setfenv")
  if debug.getinfo(f, "S").what == "C" then
    error("'setfenv' cannot change the environment of a C function", 2)
  end
  local i = env_index(f)
  if i then
    debug.upvaluejoin(f, i, function() return env end, 1)
  end
  return f
end

function M.getfenv(f)
  if f == 0 then return _G end
  f = target(f, "getfenv")
  local i = env_index(f)
  if not i then return _G end
  local _, env = debug.getupvalue(f, i)
  return env
end

function M.getn(t)
  return #t
end

function M.maxn(t)
  local n = 0
  for k in pairs(t) do
    if type(k) == "number" and k > n then n = k end
  end
  return n
end

unpack = unpack or table.unpack
loadstring = loadstring or load
setfenv = setfenv or M.setfenv
getfenv = getfenv or M.getfenv
table.getn = table.getn or M.getn
table.maxn = table.maxn or M.maxn

return M
