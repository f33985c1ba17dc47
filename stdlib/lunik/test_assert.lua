-- lunik.test_assert: the `assert` of `lunik test` specs, shaped like
-- busted's (luassert): each assertion is a field (assert.equal), and
-- modifier words before it read as English and may negate it, joined by
-- dots or underscores: assert.is_true(v), assert.are.same(a, b),
-- assert.is_not.equal(a, b), assert.has_no.errors(fn),
-- assert.is_not_nil(v). `not` and `no` negate; is, are, has, was, does,
-- the and a are only words. assert(v [, msg]) is still Lua's assert.
-- A spy or stub's calls are asserted through assert.spy(s) and
-- assert.stub(s): assert.spy(s).was.called(2), .was_not.called(),
-- .was.called_with(1, match._). The last extra argument of an
-- assertion is a message printed before the details.

local M = {}

local function fmt(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end
M.fmt = fmt

-- Deep equality; cycles are handled by remembering compared pairs. A
-- matcher (match._, match.is_number(), ...) in expected matches what it
-- accepts.
local function same(a, b, seen)
  if M.is_matcher(a) then return a.test(b) end
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
M.same = same

local function dump(v, depth)
  depth = depth or 0
  if M.is_matcher(v) then return v.name end
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
M.dump = dump

-- Raises an assertion failure at the spec's line: level counts from the
-- assertion function the spec called.
local function fail(msg, level)
  error(msg, (level or 1) + 2)
end

local function raised(fn)
  local ok, err = pcall(fn)
  return not ok, err
end

local function bare(err)
  return type(err) == "string" and err:gsub("^[^:\n]+:%d+: ", "", 1)
end

-- The assertions: name -> { n = arguments before the message,
-- check = function(...) -> ok, message if it fails, message if it fails
-- negated [, value to return] }.
local A = {}

A.equal = { n = 2, check = function(expected, actual)
  return expected == actual,
    "expected: " .. fmt(expected) .. "\n      actual: " .. fmt(actual),
    "expected values to differ, both are " .. fmt(actual)
end }
A.equals = A.equal

A.same = { n = 2, check = function(expected, actual)
  return same(expected, actual),
    "expected (deep): " .. dump(expected) .. "\n      actual: " .. dump(actual),
    "expected values to differ (deep), both are " .. dump(actual)
end }

A.truthy = { n = 1, check = function(v)
  return not not v, "expected a truthy value, got " .. fmt(v),
    "expected a falsy value, got " .. fmt(v)
end }
A.falsy = { n = 1, check = function(v)
  return not v, "expected a falsy value, got " .. fmt(v),
    "expected a truthy value, got " .. fmt(v)
end }
A["true"] = { n = 1, check = function(v)
  return v == true, "expected: true\n      actual: " .. fmt(v),
    "expected a value other than true"
end }
A["false"] = { n = 1, check = function(v)
  return v == false, "expected: false\n      actual: " .. fmt(v),
    "expected a value other than false"
end }
A["nil"] = { n = 1, check = function(v)
  return v == nil, "expected nil, got " .. fmt(v), "expected a value, got nil"
end }

for _, t in ipairs({ "number", "string", "table", "function", "boolean",
                     "userdata", "thread" }) do
  A[t] = { n = 1, check = function(v)
    return type(v) == t, "expected a " .. t .. ", got " .. type(v) ..
      " " .. fmt(v), "expected something else than a " .. t .. ", got " .. fmt(v)
  end }
end

A.matches = { n = 2, check = function(pattern, s)
  local ok = type(s) == "string" and s:find(pattern) ~= nil
  return ok, "expected " .. fmt(s) .. " to match " .. fmt(pattern),
    "expected " .. fmt(s) .. " not to match " .. fmt(pattern)
end }
A.match = A.matches

A.near = { n = 3, check = function(expected, actual, tolerance)
  local ok = type(actual) == "number" and
    math.abs(expected - actual) <= tolerance
  return ok, "expected " .. fmt(actual) .. " within " .. fmt(tolerance) ..
    " of " .. fmt(expected), "expected " .. fmt(actual) .. " not within " ..
    fmt(tolerance) .. " of " .. fmt(expected)
end }

A.unique = { n = 1, check = function(list)
  for i = 1, #list do
    for j = i + 1, #list do
      if same(list[i], list[j]) then
        return false, "expected unique values, " .. dump(list[i]) ..
          " is there twice", "expected a value twice"
      end
    end
  end
  return true, "", "expected a value twice, all are unique"
end }

-- error(fn [, expected]): fn must raise; when expected is given the error
-- must equal it, or equal it once its "file:line: " is removed. Returns
-- the error. Negated: fn must not raise.
A.error = { n = 2, check = function(fn, expected)
  local r, err = raised(fn)
  if not r then
    return false, "expected an error, none was raised", ""
  end
  if expected ~= nil and err ~= expected and bare(err) ~= expected and
     not same(expected, err) then
    return false, "expected error: " .. fmt(expected) ..
      "\n      actual error: " .. fmt(err), "", err
  end
  return true, "", "expected no error, got " .. fmt(err), err
end }
A.errors = A.error

-- error_matches(fn, pattern [, init [, plain]]): fn must raise an error
-- whose message string.find(message, pattern, init, plain) finds.
A.error_matches = { n = 4, check = function(fn, pattern, init, plain)
  local r, err = raised(fn)
  if not r then return false, "expected an error, none was raised", "" end
  if type(err) ~= "string" or not err:find(pattern, init, plain) then
    return false, "expected an error matching " .. fmt(pattern) ..
      "\n      actual error: " .. fmt(err), "", err
  end
  return true, "", "expected no error matching " .. fmt(pattern) ..
    ", got " .. fmt(err), err
end }

-- The assertion function of A[name], negated or not.
local function assertion(name, negated)
  local a = A[name]
  return function(...)
    local ok, pos, neg, ret = a.check(...)
    if ok == negated then
      -- an error from a negated error assertion is the first one seen
      local msg = negated and neg or pos
      local user = select(a.n + 1, ...)
      fail((user and tostring(user) .. "\n" or "") .. msg)
    end
    return ret
  end
end

local WORDS = { is = false, are = false, has = false, was = false,
                does = false, the = false, a = false, ["not"] = true,
                no = true }

-- A chain of modifier words (assert.is_not, assert.are): indexing it
-- with more words or an assertion name goes on from there.
local function resolve(key, negated, table_of)
  if type(key) ~= "string" then return nil end
  local name = key:lower()
  local rest = name
  while true do
    local word, after = rest:match("^([%a]+)_(.+)$")
    if table_of[rest] then return table_of[rest](negated) end
    if WORDS[rest] ~= nil then return table_of.chain(negated ~= WORDS[rest]) end
    if not word or WORDS[word] == nil then break end
    negated = negated ~= WORDS[word]
    rest = after
  end
  return nil
end

local function chain_of(table_of)
  local chains = {}
  local function chain(negated)
    if chains[negated] then return chains[negated] end
    local c = setmetatable({}, { __index = function(_, key)
      local v = resolve(key, negated, table_of)
      if v == nil then error("assert: no assertion " .. tostring(key), 2) end
      return v
    end })
    chains[negated] = c
    return c
  end
  return chain
end

local plain = {}
for name in pairs(A) do
  plain[name] = function(negated) return assertion(name, negated) end
end
plain.chain = chain_of(plain)

-- Spy assertions: assert.spy(s).was.called([n]), .called_with(...),
-- .returned_with(...), .called_at_least(n), .called_at_most(n).
local function spy_assertions(s)
  local function count_check(n, cmp, text)
    local c = #s.calls
    return cmp(c, n), "expected the spy to be called " .. text .. " " ..
      fmt(n) .. " times, it was called " .. c .. " times",
      "expected the spy not to be called " .. text .. " " .. fmt(n) ..
      " times, it was called " .. c .. " times"
  end
  -- Whether a call's field (vals: its arguments, returned: its results)
  -- is deeply want.
  local function any_call(field, words, want)
    for _, call in ipairs(s.calls) do
      if same(want, call[field]) then
        return true, "", "expected no call " .. words .. " " .. dump(want)
      end
    end
    return false, "expected a call " .. words .. " " .. dump(want) ..
      ", calls: " .. dump(s:args()), ""
  end
  local S = {
    called = function(n)
      if n == nil then
        return #s.calls > 0, "expected the spy to be called, it was not",
          "expected the spy not to be called, it was called " .. #s.calls .. " times"
      end
      return count_check(n, function(a, b) return a == b end, "exactly")
    end,
    called_at_least = function(n)
      return count_check(n, function(a, b) return a >= b end, "at least")
    end,
    called_at_most = function(n)
      return count_check(n, function(a, b) return a <= b end, "at most")
    end,
    called_with = function(...)
      return any_call("vals", "with", table.pack(...))
    end,
    returned_with = function(...)
      return any_call("returned", "returning", table.pack(...))
    end,
  }
  local t = {}
  for name, check in pairs(S) do
    t[name] = function(negated)
      return function(...)
        local ok, pos, neg = check(...)
        if ok == negated then fail(negated and neg or pos) end
      end
    end
  end
  t.chain = chain_of(t)
  return t.chain(false)
end

local function spy_assert(s)
  if type(s) ~= "table" or not s.calls then
    error("assert.spy: expected a spy or stub, got " .. type(s), 2)
  end
  return spy_assertions(s)
end

local root = plain.chain(false)
M.assert = setmetatable({ spy = spy_assert, stub = spy_assert }, {
  __call = function(_, v, msg, ...)
    if not v then fail(msg or "assertion failed!") end
    return v, msg, ...
  end,
  __index = function(_, key) return root[key] end,
})

-- Matchers, for same, called_with and returned_with: match._ (anything),
-- match.is_number() and the other types, match.is_truthy(),
-- match.is_falsy(), match.is_same(v), match.is_equal(v), and
-- match.is_not.* of each.
local MATCHER = {}
function M.is_matcher(v) return getmetatable(v) == MATCHER end
local function matcher(name, test)
  return setmetatable({ name = name, test = test }, MATCHER)
end

local makers = {
  truthy = function() return function(v) return not not v end end,
  falsy = function() return function(v) return not v end end,
  same = function(x) return function(v) return same(x, v) end end,
  equal = function(x) return function(v) return v == x end end,
  ["nil"] = function() return function(v) return v == nil end end,
}
for _, t in ipairs({ "number", "string", "table", "function", "boolean",
                     "userdata", "thread" }) do
  makers[t] = function() return function(v) return type(v) == t end end
end
local mt = {}
for name, make in pairs(makers) do
  mt[name] = function(negated)
    return function(...)
      local test = make(...)
      return matcher((negated and "not " or "") .. name,
        function(v) return test(v) ~= negated end)
    end
  end
end
mt.chain = chain_of(mt)
M.match = setmetatable({ _ = matcher("_", function() return true end) },
  { __index = function(_, key) return mt.chain(false)[key] end })

return M
