-- lunik.test_spy: busted's spies, stubs and mocks for `lunik test` specs.
--
--   local s = spy.new(function(x) return x * 2 end)   -- a callable spy
--   local s = spy.on(obj, "method")    -- obj.method, still called, spied
--   local s = stub(obj, "method", 42)  -- obj.method replaced: returns 42
--   s:returns(1, 2); s:invokes(fn)     -- a stub's answer from now on
--   local m = mock(tbl [, true])       -- every function of tbl spied
--                                      -- (stubbed with true)
--   s:revert(); mock.revert(m)         -- the original functions back
--   s.calls[i].vals                    -- the arguments of call i (packed)
--   assert.spy(s).was.called(2)        -- see lunik.test_assert
--
-- A spy is a table with __call: it can stand where a function is called,
-- not where type(f) == "function" is checked (as in busted).

local M = {}

local SPY = {}
SPY.__index = SPY

local function new(fn)
  local s = setmetatable({ calls = {}, fn = fn }, SPY)
  return s
end

function SPY.__call(self, ...)
  local call = { vals = table.pack(...) }
  self.calls[#self.calls + 1] = call
  local returned = table.pack(self.fn(...))
  call.returned = returned
  return table.unpack(returned, 1, returned.n)
end

-- The arguments of every call, for messages.
function SPY:args()
  local out = {}
  for i, c in ipairs(self.calls) do out[i] = c.vals end
  return out
end

function SPY:clear()
  self.calls = {}
  return self
end

function SPY:revert()
  if self.target then
    self.target[self.key] = self.original
    self.target = nil
  end
  return self
end

function SPY:returns(...)
  local vals = table.pack(...)
  self.fn = function() return table.unpack(vals, 1, vals.n) end
  return self
end

function SPY:invokes(fn)
  self.fn = fn
  return self
end

M.spy = setmetatable({
  new = function(fn)
    if fn ~= nil and type(fn) ~= "function" and not M.is_spy(fn) then
      error("spy.new: expected a function, got " .. type(fn), 2)
    end
    return new(fn or function() end)
  end,
  on = function(t, key)
    local original = t[key]
    if type(original) ~= "function" and not M.is_spy(original) then
      error("spy.on: " .. tostring(key) .. " is not a function", 2)
    end
    local s = new(original)
    s.target, s.key, s.original = t, key, original
    t[key] = s
    return s
  end,
  is_spy = function(v) return M.is_spy(v) end,
}, { __call = function(self, fn) return self.new(fn) end })

function M.is_spy(v) return getmetatable(v) == SPY end

local function stub_new(t, key, ...)
  if type(t) ~= "table" then
    error("stub: expected a table, got " .. type(t), 2)
  end
  local s = new(function() end)
  s.target, s.key, s.original = t, key, t[key]
  t[key] = s
  if select("#", ...) > 0 then s:returns(...) end
  return s
end
M.stub = setmetatable({ new = stub_new },
  { __call = function(_, ...) return stub_new(...) end })

-- mock(t [, dostub]): every function in t (and in its tables, deeply) is
-- spied, or stubbed when dostub; returns t.
local function mock(t, dostub, seen)
  seen = seen or {}
  if seen[t] then return t end
  seen[t] = true
  for k, v in pairs(t) do
    if type(v) == "function" then
      if dostub then stub_new(t, k) else M.spy.on(t, k) end
    elseif type(v) == "table" and not M.is_spy(v) then
      mock(v, dostub, seen)
    end
  end
  return t
end

local function revert(t, seen)
  seen = seen or {}
  if seen[t] then return end
  seen[t] = true
  for _, v in pairs(t) do
    if M.is_spy(v) then v:revert()
    elseif type(v) == "table" then revert(v, seen) end
  end
end

M.mock = setmetatable({ revert = function(t) revert(t) end },
  { __call = function(_, t, dostub) return mock(t, dostub) end })

return M
