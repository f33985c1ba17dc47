-- test: busted-style specs for `lunik test`.
--
-- A spec file calls describe/it and the hooks, assert, spy, stub, mock and
-- match, which the runner gives it as globals of its own environment:
--
--   describe("stack", function()
--     local s
--     setup(function() ... end)          -- once, before the block's tests
--     before_each(function() s = {} end)
--     it("starts empty", function()
--       finally(function() ... end)      -- after this test, pass or fail
--       assert.are.same({}, s)
--     end)
--     pending("pops from empty")         -- counted, not run
--   end)
--
-- Aliases as in busted: context/insulate/expose for describe, spec/test
-- for it, lazy_setup/strict_setup for setup and lazy_teardown/
-- strict_teardown for teardown (here they all run only when a test of
-- the block runs). pending("why") inside a test ends it as pending.
-- The assertions are lunik.test_assert's, spies lunik.test_spy's.
--
-- test.run(files) loads each file, runs every test with the setup hooks
-- of its blocks (once per block), the before_each hooks of its enclosing
-- blocks (outer first), its finally functions, the after_each hooks
-- (inner first, always) and the teardown hooks; prints one line per test
-- and a closing "N passed, N failed" (", N pending" when there are), and
-- returns passed, failed, pending.

local M = {}

local asserts = require "lunik.test_assert"
local spies = require "lunik.test_spy"

M.assert = asserts.assert
M.spy, M.stub, M.mock, M.match = spies.spy, spies.stub, spies.mock, asserts.match

local PENDING = {}
local running -- the test being run, for finally

local function new_block(name, parent)
  return { name = name, parent = parent, before = {}, after = {},
           setup = {}, teardown = {}, children = {} }
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
  env.context, env.insulate, env.expose = env.describe, env.describe, env.describe
  function env.it(name, fn)
    table.insert(current.children, { name = name, fn = fn, parent = current })
  end
  env.spec, env.test = env.it, env.it
  function env.pending(name)
    if running then error(setmetatable({ reason = name }, PENDING), 2) end
    local info = debug.getinfo(2, "Sl")
    table.insert(current.children, { name = name, pending = true,
      parent = current, file = info.short_src, line = info.currentline })
  end
  function env.before_each(fn) table.insert(current.before, fn) end
  function env.after_each(fn) table.insert(current.after, fn) end
  function env.setup(fn) table.insert(current.setup, fn) end
  function env.teardown(fn) table.insert(current.teardown, fn) end
  env.lazy_setup, env.strict_setup = env.setup, env.setup
  env.lazy_teardown, env.strict_teardown = env.teardown, env.teardown
  function env.finally(fn)
    if not running then error("finally: only inside a test", 2) end
    table.insert(running.finally, fn)
  end
  env.assert, env.spy, env.stub, env.mock, env.match =
    M.assert, M.spy, M.stub, M.mock, M.match
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

-- Runs one test with its hooks; returns status ("ok", "fail",
-- "pending"), err.
local function run_test(t)
  local chain = {}
  local b = t.parent
  while b do table.insert(chain, 1, b); b = b.parent end
  local status, err = "ok", nil
  local function step(fn)
    local s, e = xpcall(fn, debug.traceback)
    if not s and status == "ok" then
      if getmetatable(e) == PENDING then
        status, err = "pending", e.reason
      else
        status, err = "fail", e
      end
    end
  end
  for _, blk in ipairs(chain) do
    if blk.setup_err then return "fail", "setup failed: " .. blk.setup_err end
  end
  local entered = 0
  for _, blk in ipairs(chain) do
    for _, h in ipairs(blk.before) do if status == "ok" then step(h) end end
    if status ~= "ok" then break end
    entered = entered + 1
  end
  if status == "ok" then
    running = { finally = {} }
    step(t.fn)
    local finals = running.finally
    running = nil
    for _, f in ipairs(finals) do step(f) end
  end
  for i = entered, 1, -1 do
    for _, h in ipairs(chain[i].after) do step(h) end
  end
  return status, err
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

-- Whether block holds a test that runs (with the filter).
local function has_tests(block, filter)
  for _, c in ipairs(block.children) do
    if c.fn or c.pending then
      if not filter or full_name(c):find(filter) then return true end
    elseif has_tests(c, filter) then
      return true
    end
  end
  return false
end

-- A block's setup or teardown hooks; the first error, or nil.
local function run_hooks(hooks)
  for _, h in ipairs(hooks) do
    local ok, err = xpcall(h, debug.traceback)
    if not ok then return tostring(err) end
  end
end

local MARK = { ok = "ok  ", fail = "FAIL", pending = "PEND" }

-- test.run(files [, opts]) -> passed, failed, pending. opts.filter: only
-- the tests whose full name string.find finds it in (a Lua pattern);
-- opts.events: print the event lines (only those when it is "only").
function M.run(files, opts)
  opts = opts or {}
  local emit = events.on(opts.events)
  local print = opts.events == "only" and function() end or print
  local counts, n = { ok = 0, fail = 0, pending = 0 }, 0
  local function report(status, name, err, ms)
    counts[status] = counts[status] + 1
    if status == "ok" then
      print(string.format("ok   %d - %s (%.1f ms)", n, name, ms))
    else
      print(string.format("%s %d - %s%s", MARK[status], n, name,
        status == "pending" and err and " (" .. tostring(err) .. ")" or ""))
      if status == "fail" then
        print("    " .. tostring(err):gsub("\n", "\n    "))
      end
    end
    emit({ e = "end", n = n, status = status, ms = ms,
           message = err ~= nil and tostring(err) or nil })
  end
  local function start(name, file, line)
    n = n + 1
    emit({ e = "start", n = n, name = name, file = file, line = line })
  end
  local function walk(block)
    if not has_tests(block, opts.filter) then return end
    block.setup_err = run_hooks(block.setup)
    for _, c in ipairs(block.children) do
      local name = (c.fn or c.pending) and full_name(c)
      if name and opts.filter and not name:find(opts.filter) then
        -- filtered out
      elseif c.pending then
        start(name, c.file, c.line)
        report("pending", name, nil, 0)
      elseif c.fn then
        start(name, where(c.fn))
        local t0 = clock()
        local status, err = run_test(c)
        report(status, name, err, (clock() - t0) * 1000)
      else
        walk(c)
      end
    end
    local err = not block.setup_err and run_hooks(block.teardown)
    if err then
      start(full_name(block) .. " (teardown)", block.file or "?", 0)
      report("fail", full_name(block) .. " (teardown)", err, 0)
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
      report("fail", file .. " (loading)", err, 0)
    end
    walk(root)
  end
  print(string.format("%d passed, %d failed%s", counts.ok, counts.fail,
    counts.pending > 0 and string.format(", %d pending", counts.pending) or ""))
  emit({ e = "done", passed = counts.ok, failed = counts.fail,
         pending = counts.pending })
  return counts.ok, counts.fail, counts.pending
end

return M
