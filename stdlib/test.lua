-- test: busted-style specs for `lunik test`.
--
-- A spec file calls describe/it/before_each/after_each and the assert
-- functions, which the runner gives it as globals of its own environment:
--
--   describe("stack", function()
--     local s
--     before_each(function() s = {} end)
--     it("starts empty", function() assert.equal(0, #s) end)
--   end)
--
-- test.run(files) loads each file, runs every test with the before_each
-- hooks of its enclosing blocks (outer first) and the after_each hooks
-- (inner first, always), prints one line per test and a closing
-- "N passed, N failed", and returns passed, failed.

local M = {}

local function fmt(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

local function fail(msg, level)
  error(msg, (level or 1) + 2)
end

-- Deep equality; cycles are handled by remembering compared pairs.
local function same(a, b, seen)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do
    if not same(v, b[k], seen) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function dump(v, depth)
  depth = depth or 0
  if type(v) ~= "table" then return fmt(v) end
  if depth > 3 then return "{...}" end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
  local parts = {}
  for _, k in ipairs(keys) do
    parts[#parts + 1] = "[" .. fmt(k) .. "] = " .. dump(v[k], depth + 1)
  end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

local assert_mt = {
  -- assert(v [, msg]) still works as Lua's own
  __call = function(_, v, msg, ...)
    if not v then fail(msg or "assertion failed!") end
    return v, msg, ...
  end,
}

M.assert = setmetatable({
  equal = function(expected, actual, msg)
    if expected ~= actual then
      fail((msg and msg .. "\n" or "") .. "expected: " .. fmt(expected) ..
           "\n      actual: " .. fmt(actual))
    end
  end,
  not_equal = function(a, b, msg)
    if a == b then fail(msg or ("expected values to differ, both are " .. fmt(a))) end
  end,
  same = function(expected, actual, msg)
    if not same(expected, actual) then
      fail((msg and msg .. "\n" or "") .. "expected (deep): " .. dump(expected) ..
           "\n      actual: " .. dump(actual))
    end
  end,
  truthy = function(v, msg)
    if not v then fail(msg or ("expected a truthy value, got " .. fmt(v))) end
  end,
  falsy = function(v, msg)
    if v then fail(msg or ("expected a falsy value, got " .. fmt(v))) end
  end,
  is_nil = function(v, msg)
    if v ~= nil then fail(msg or ("expected nil, got " .. fmt(v))) end
  end,
  not_nil = function(v, msg)
    if v == nil then fail(msg or "expected a value, got nil") end
  end,
  matches = function(pattern, s, msg)
    if type(s) ~= "string" or not s:find(pattern) then
      fail(msg or ("expected " .. fmt(s) .. " to match " .. fmt(pattern)))
    end
  end,
  -- assert.error(fn [, expected]): fn must raise; when expected is given
  -- the error must equal it, or equal it once its "file:line: " is removed.
  error = function(fn, expected, msg)
    local ok, err = pcall(fn)
    if ok then fail(msg or "expected an error, none was raised") end
    if expected ~= nil then
      local bare = type(err) == "string" and err:gsub("^[^:\n]+:%d+: ", "", 1)
      if err ~= expected and bare ~= expected and not same(err, expected) then
        fail((msg and msg .. "\n" or "") .. "expected error: " .. fmt(expected) ..
             "\n      actual error: " .. fmt(err))
      end
    end
    return err
  end,
  -- assert.error_matches(fn, pattern [, init [, plain]]): fn must raise an
  -- error whose message string.find(message, pattern, init, plain) finds.
  error_matches = function(fn, pattern, init, plain, msg)
    local ok, err = pcall(fn)
    if ok then fail(msg or "expected an error, none was raised") end
    if type(err) ~= "string" or not err:find(pattern, init, plain) then
      fail((msg and msg .. "\n" or "") .. "expected an error matching " ..
           fmt(pattern) .. "\n      actual error: " .. fmt(err))
    end
    return err
  end,
}, assert_mt)
M.assert.are = M.assert
M.assert.is_true = function(v, msg) M.assert.equal(true, v, msg) end
M.assert.is_false = function(v, msg) M.assert.equal(false, v, msg) end
M.assert.has_error = M.assert.error
M.assert.has_error_matches = M.assert.error_matches

local function new_block(name, parent)
  return { name = name, parent = parent, before = {}, after = {}, children = {} }
end

-- The globals a spec file sees, collecting into block (replaced per file).
local function spec_env(root)
  local current = root
  local env = setmetatable({}, { __index = _G })
  function env.describe(name, fn)
    local b = new_block(name, current)
    table.insert(current.children, b)
    local outer = current
    current = b
    local ok, err = xpcall(fn, debug.traceback)
    current = outer
    if not ok then error(err, 0) end
  end
  env.context = env.describe
  function env.it(name, fn)
    table.insert(current.children, { name = name, fn = fn, parent = current })
  end
  function env.before_each(fn) table.insert(current.before, fn) end
  function env.after_each(fn) table.insert(current.after, fn) end
  env.assert = M.assert
  return env
end

local function full_name(node)
  local parts = {}
  while node do
    if node.name then table.insert(parts, 1, node.name) end
    node = node.parent
  end
  return table.concat(parts, " ")
end

-- Runs one test with its hooks; returns ok, err.
local function run_test(t)
  local chain = {}
  local b = t.parent
  while b do table.insert(chain, 1, b); b = b.parent end
  local ok, err = true, nil
  local function step(fn)
    local s, e = xpcall(fn, debug.traceback)
    if not s and ok then ok, err = false, e end
  end
  local entered = 0
  for _, blk in ipairs(chain) do
    for _, h in ipairs(blk.before) do if ok then step(h) end end
    if not ok then break end
    entered = entered + 1
  end
  if ok then step(t.fn) end
  for i = entered, 1, -1 do
    for _, h in ipairs(chain[i].after) do step(h) end
  end
  return ok, err
end

local clock = os.clock

-- Where a test is defined, "file:line".
local function where(fn)
  local info = debug.getinfo(fn, "S")
  return info.short_src, info.linedefined
end

-- The machine-readable report `lunik test` reads (tools/lunikcli/
-- testreport.py), one console line per event when the boot argument
-- lunik.test_events is set: "lunik-test: " and a JSON object.
local events = {}
function events.on(on)
  if not on then return function() end end
  local json = require "json"
  return function(t)
    io.stdout:write("lunik-test: ", json.encode(t), "\n")
    io.stdout:flush()
  end
end

-- test.run(files [, opts]) -> passed, failed. opts.filter: only the tests
-- whose full name string.find finds it in (a Lua pattern); opts.events:
-- print the event lines (only those when it is "only").
function M.run(files, opts)
  opts = opts or {}
  local emit = events.on(opts.events)
  local print = opts.events == "only" and function() end or print
  local passed, failed, n = 0, 0, 0
  local function report(ok, name, err, ms)
    if ok then
      passed = passed + 1
      print(string.format("ok   %d - %s (%.1f ms)", n, name, ms))
    else
      failed = failed + 1
      print(string.format("FAIL %d - %s", n, name))
      print("    " .. tostring(err):gsub("\n", "\n    "))
    end
    emit({ e = "end", n = n, status = ok and "ok" or "fail", ms = ms,
           message = not ok and tostring(err) or nil })
  end
  local function start(name, file, line)
    n = n + 1
    emit({ e = "start", n = n, name = name, file = file, line = line })
  end
  local function walk(block)
    for _, c in ipairs(block.children) do
      if c.fn then
        local name = full_name(c)
        if not opts.filter or name:find(opts.filter) then
          start(name, where(c.fn))
          local t0 = clock()
          local ok, err = run_test(c)
          report(ok, name, err, (clock() - t0) * 1000)
        end
      else
        walk(c)
      end
    end
  end
  for _, file in ipairs(files) do
    local root = new_block(nil, nil)
    root.file = file
    local chunk, err = loadfile(file, "t", spec_env(root))
    local ok = chunk ~= nil
    if ok then ok, err = xpcall(chunk, debug.traceback) end
    if not ok then
      start(file .. " (loading)", file, 0)
      report(false, file .. " (loading)", err, 0)
    end
    walk(root)
  end
  print(string.format("%d passed, %d failed", passed, failed))
  emit({ e = "done", passed = passed, failed = failed })
  return passed, failed
end

return M
