-- http.router: routes requests to handlers by method and path, through a
-- chain of middleware. Pure Lua with no lunik module, so it runs (and is
-- tested) on the host's Lua as well; docs/http-internals.md has the API.
--
--   local router = require "http.router"
--   local r = router.new()
--   r:get("/items/:id", function(req) return { id = req.params.id } end)
--   r:get("/static/*", serve)            -- req.params["*"]: the rest
--   r:use(function(req, nxt) local s, b, h = nxt(); ...; return s, b, h end)
--   return r:dispatch(req)                -- req.method, req.path
--
-- Routes live in a trie with one level per path segment, so finding one
-- costs the same with ten routes or ten thousand; routes without
-- parameters are also kept whole in a table and found with one lookup.
-- Where several routes fit a path, a literal segment beats a :param, which
-- beats a *; a route whose method does not fit yields to the next one
-- that fits, and only when none does is the answer 405.

local find, sub, byte, char = string.find, string.sub, string.byte, string.char
local concat, sort = table.concat, table.sort

local M = {}
local Router = {}
Router.__index = Router
M.Router = Router

-- The order of methods in Allow; others follow alphabetically.
local METHOD_ORDER = { GET = 1, HEAD = 2, POST = 3, PUT = 4, PATCH = 5,
                       DELETE = 6, OPTIONS = 7 }

local function node()
  return { static = {} }
end

-- Percent-decoding as http.parser.unescape does it (a '%' not followed by
-- two hex digits stays), in Lua so the router needs no C module.
local function unescape(s)
  if not find(s, "%", 1, true) then return s end
  return (s:gsub("%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end
M.unescape = unescape

-- The segments of a path that starts with "/", into segs (entries past
-- the count are left as they were): "/" is { "" }, "/a/" is { "a", "" }.
-- Returns segs and the count.
local function split(path, segs)
  local n, pos = 0, 2
  while true do
    local slash = find(path, "/", pos, true)
    n = n + 1
    if not slash then
      segs[n] = sub(path, pos)
      return segs, n
    end
    segs[n] = sub(path, pos, slash - 1)
    pos = slash + 1
  end
end

local function check_method(m)
  if type(m) ~= "string" or not find(m, "^[A-Z0-9!#$%%&'*+.^_`|~-]+$") then
    error(("bad method %q (an upper-case HTTP method expected, such as \"GET\")")
      :format(tostring(m)), 3)
  end
end

local function check_handler(h)
  local mt = type(h) == "table" and getmetatable(h)
  if type(h) ~= "function" and not (mt and mt.__call) then
    error("bad handler (a function expected, got " .. type(h) .. ")", 3)
  end
end

-- Walks pattern's segments down from the root, making nodes; returns the
-- node the route ends at and the names of its parameters, in order.
local function place(root, pattern)
  if type(pattern) ~= "string" or byte(pattern) ~= 47 then
    error(("bad route %q (a path starting with '/' expected)"):format(tostring(pattern)), 3)
  end
  local segs, n = split(pattern, {})
  local at, names, seen = root, {}, {}
  for i = 1, n do
    local seg = segs[i]
    local c = byte(seg)
    if c == 58 or c == 42 then -- ':' or '*'
      local name = c == 58 and sub(seg, 2) or (seg == "*" and "*" or sub(seg, 2))
      if not find(name, "^[%a_][%w_]*$") and name ~= "*" then
        error(("bad parameter %q in route %q"):format(seg, pattern), 3)
      end
      if seen[name] then
        error(("parameter %q appears twice in route %q"):format(name, pattern), 3)
      end
      seen[name] = true
      names[#names + 1] = name
      if c == 42 then
        if i ~= n then error(("'*' must end route %q"):format(pattern), 3) end
        at.wild = at.wild or {}
        return at.wild, names
      end
      at.param = at.param or node()
      at = at.param
    else
      if find(seg, "[:*]") then
        error(("bad segment %q in route %q (':' and '*' begin a whole segment)")
          :format(seg, pattern), 3)
      end
      local nxt = at.static[seg]
      if not nxt then nxt = node(); at.static[seg] = nxt end
      at = nxt
    end
  end
  return at, names
end

-- r:route(method, pattern, handler): method is a string or a list of them.
function Router:route(method, pattern, handler)
  local methods = type(method) == "table" and method or { method }
  if #methods == 0 then check_method(nil) end
  for _, m in ipairs(methods) do check_method(m) end
  check_handler(handler)
  local at, names = place(self.root, pattern)
  at.handlers = at.handlers or {}
  for _, m in ipairs(methods) do
    if at.handlers[m] then
      error(("route %s %s is already defined"):format(m, pattern), 2)
    end
    at.handlers[m] = { h = handler, names = names, pattern = pattern }
    if #names == 0 then
      local exact = self.exact[pattern] or {}
      exact[m] = at.handlers[m]
      self.exact[pattern] = exact
    end
  end
  return self
end

for _, m in ipairs({ "get", "head", "post", "put", "patch", "delete", "options" }) do
  local method = m:upper()
  Router[m] = function(self, pattern, handler)
    return self:route(method, pattern, handler) -- a tail call: errors name the caller
  end
end

-- r:use(fn): fn(req, nxt) runs before the handler, in the order added;
-- nxt() runs the rest of the chain and returns what it returns.
function Router:use(fn)
  check_handler(fn)
  self.mw[#self.mw + 1] = fn
  return self
end

-- The entry for method among handlers, HEAD falling back to GET.
local function pick(handlers, method)
  local e = handlers[method]
  if not e and method == "HEAD" then e = handlers.GET end
  return e
end

-- Tries the routes under nd for segs[i..n] in priority order, the values
-- of parameters so far in vals[1..nv]. Returns the entry of the first
-- route that fits path and method, and the number of values; adds the
-- handler sets of routes that fit the path alone to miss.
local function walk(nd, segs, i, n, vals, nv, method, miss)
  if i > n then
    local hs = nd.handlers
    if hs then
      local e = pick(hs, method)
      if e then return e, nv end
      miss[#miss + 1] = hs
    end
    return nil
  end
  local seg = segs[i]
  local child = nd.static[seg]
  if child then
    local e, k = walk(child, segs, i + 1, n, vals, nv, method, miss)
    if e then return e, k end
  end
  local p = nd.param
  if p and seg ~= "" then
    vals[nv + 1] = seg
    local e, k = walk(p, segs, i + 1, n, vals, nv + 1, method, miss)
    if e then return e, k end
  end
  local w = nd.wild
  if w and w.handlers then
    local e = pick(w.handlers, method)
    if e then
      vals[nv + 1] = concat(segs, "/", i, n)
      return e, nv + 1
    end
    miss[#miss + 1] = w.handlers
  end
  return nil
end

local function allow_list(miss)
  local set, list = { OPTIONS = true }, {}
  for _, hs in ipairs(miss) do
    for m in pairs(hs) do set[m] = true end
  end
  if set.GET then set.HEAD = true end
  for m in pairs(set) do list[#list + 1] = m end
  sort(list, function(a, b)
    local x, y = METHOD_ORDER[a] or 99, METHOD_ORDER[b] or 99
    if x ~= y then return x < y end
    return a < b
  end)
  return concat(list, ", ")
end

-- r:match(method, path) -> handler, params, pattern on a match;
-- nil, 404 when no route fits the path; nil, 405, allow when routes fit
-- the path but not the method (allow: "GET, HEAD, ..."). Parameters are
-- percent-decoded, segment by segment. It never yields nor calls out, so
-- the router's scratch tables are safe to share.
function Router:match(method, path)
  if type(path) ~= "string" or byte(path) ~= 47 then return nil, 404 end
  local exact = self.exact[path]
  if exact and not find(path, "%", 1, true) then
    local e = pick(exact, method)
    if e then return e.h, {}, e.pattern end
  end
  local segs, n = split(path, self.segs)
  if find(path, "%", 1, true) then
    for i = 1, n do segs[i] = unescape(segs[i]) end
  end
  local vals, miss = self.vals, self.miss
  for i = #miss, 1, -1 do miss[i] = nil end
  local e, nv = walk(self.root, segs, 1, n, vals, 0, method, miss)
  if e then
    local params, names = {}, e.names
    for i = 1, nv do params[names[i]] = vals[i] end
    return e.h, params, e.pattern
  end
  if #miss == 0 then return nil, 404 end
  return nil, 405, allow_list(miss)
end

-- What the router answers itself; replace them on a router to change it.
function Router.not_found(req)
  return 404, "Not Found\n"
end

function Router.not_allowed(req, allow)
  return 405, "Method Not Allowed\n", { allow = allow }
end

function Router.auto_options(req, allow)
  return 204, "", { allow = allow }
end

-- The end of the chain: the handler, or the router's own answer.
local function finish(self, req, h, status, allow)
  if h then return h(req) end
  if status == 404 then return self.not_found(req) end
  if req.method == "OPTIONS" then return self.auto_options(req, allow) end
  return self.not_allowed(req, allow)
end

-- r:dispatch(req) -> what the handler (or middleware) returns. Sets
-- req.params (a table, empty without parameters) and req.route (the
-- pattern matched, or nil), then runs the middleware, then the handler.
function Router:dispatch(req)
  local h, a, b = self:match(req.method, req.path)
  local status, allow
  if h then
    req.params, req.route = a, b
  else
    req.params, req.route, status, allow = {}, nil, a, b
  end
  local mw = self.mw
  local n = #mw
  if n == 0 then return finish(self, req, h, status, allow) end
  local function step(i)
    if i > n then return finish(self, req, h, status, allow) end
    return mw[i](req, function() return step(i + 1) end)
  end
  return step(1)
end

function M.new()
  return setmetatable({ root = node(), exact = {}, mw = {}, segs = {}, vals = {}, miss = {} },
                      Router)
end

return M
