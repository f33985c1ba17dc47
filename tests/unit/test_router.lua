-- test_router.lua -- stdlib/http/router.lua on the host's Lua: matching,
-- parameters, method dispatch, 404/405/OPTIONS, middleware, misuse, and
-- a large route table. Prints "ok - ..." / "FAIL - ..." lines (as
-- tests/unit/check.h does) and exits non-zero when anything failed.

local root = (arg and arg[0] or ""):match("^(.*)/tests/unit/[^/]*$") or "."
package.path = root .. "/stdlib/?.lua;" .. root .. "/stdlib/?/init.lua;" .. package.path
local router = require "http.router"

local failed = 0

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" then return tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local val = v[k]
    if val == nil then val = v[tonumber(k)] end
    parts[#parts + 1] = k .. "=" .. show(val)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function eq(want, got, what)
  if not same(want, got) then
    error(("%s: expected %s, got %s"):format(what or "value", show(want), show(got)), 2)
  end
end

local function test(name, fn)
  local ok, err = pcall(fn)
  if ok then
    print("ok - " .. name)
  else
    failed = failed + 1
    print("FAIL - " .. name .. ": " .. tostring(err):gsub("\n", " | "))
  end
end

-- A handler that says who it is.
local function h(name) return function(req) return name, req.params end end

-- match, in one table: { name, params, pattern } or { nil, 404 } ...
local function m(r, method, path)
  local fn, a, b = r:match(method, path)
  if fn then
    local name = fn({ params = a })
    return { name, a, b }
  end
  return { false, a, b }
end

test("static routes and the root", function()
  local r = router.new()
  r:get("/", h("root")):get("/a", h("a")):get("/a/b", h("ab")):get("/a/", h("a/"))
  eq({ "root", {}, "/" }, m(r, "GET", "/"))
  eq({ "a", {}, "/a" }, m(r, "GET", "/a"))
  eq({ "ab", {}, "/a/b" }, m(r, "GET", "/a/b"))
  eq({ "a/", {}, "/a/" }, m(r, "GET", "/a/"), "a trailing slash is another route")
  eq({ false, 404 }, m(r, "GET", "/b"))
  eq({ false, 404 }, m(r, "GET", "/a/b/c"))
  eq({ false, 404 }, m(r, "GET", "*"), "asterisk-form")
  eq({ false, 404 }, m(r, "GET", ""), "empty path")
end)

test(":params, decoded segment by segment", function()
  local r = router.new()
  r:get("/items/:id", h("item"))
  r:get("/users/:user/posts/:post", h("post"))
  eq({ "item", { id = "42" }, "/items/:id" }, m(r, "GET", "/items/42"))
  eq({ "item", { id = "a b/c" } }, { m(r, "GET", "/items/a%20b%2Fc")[1], m(r, "GET", "/items/a%20b%2Fc")[2] })
  eq({ "post", { user = "ann", post = "7" }, "/users/:user/posts/:post" },
     m(r, "GET", "/users/ann/posts/7"))
  eq({ false, 404 }, m(r, "GET", "/items/"), "a :param needs a non-empty segment")
  eq({ false, 404 }, m(r, "GET", "/items/1/2"))
  eq({ "item", { id = "%zz" } }, { table.unpack(m(r, "GET", "/items/%zz"), 1, 2) },
     "a bad escape is kept as it is")
end)

test("* takes the rest of the path", function()
  local r = router.new()
  r:get("/static/*", h("static"))
  r:get("/files/*path", h("files"))
  eq({ "static", { ["*"] = "css/site.css" }, "/static/*" }, m(r, "GET", "/static/css/site.css"))
  eq({ "static", { ["*"] = "" }, "/static/*" }, m(r, "GET", "/static/"))
  eq({ false, 404 }, m(r, "GET", "/static"))
  eq({ "files", { path = "a b/c" }, "/files/*path" }, m(r, "GET", "/files/a%20b/c"))
end)

test("literal beats :param beats *, with backtracking", function()
  local r = router.new()
  r:get("/a/b/c", h("abc")):get("/a/:x/d", h("axd")):get("/a/*", h("a*"))
  r:get("/a/b", h("ab")):get("/a/:x", h("ax"))
  eq("abc", m(r, "GET", "/a/b/c")[1])
  eq({ "axd", { x = "b" } }, { table.unpack(m(r, "GET", "/a/b/d"), 1, 2) })
  eq({ "a*", { ["*"] = "b/e" } }, { table.unpack(m(r, "GET", "/a/b/e"), 1, 2) })
  eq("ab", m(r, "GET", "/a/b")[1])
  eq({ "ax", { x = "z" } }, { table.unpack(m(r, "GET", "/a/z"), 1, 2) })
  eq({ "a*", { ["*"] = "z/y/x" } }, { table.unpack(m(r, "GET", "/a/z/y/x"), 1, 2) })
end)

test("a route whose method fits wins over a closer one that does not", function()
  local r = router.new()
  r:get("/u/me", h("me")):post("/u/:id", h("post-u"))
  eq("me", m(r, "GET", "/u/me")[1])
  eq({ "post-u", { id = "me" } }, { table.unpack(m(r, "POST", "/u/me"), 1, 2) })
end)

test("405 lists every method the path allows, in order", function()
  local r = router.new()
  r:get("/x", h("g")):delete("/x", h("d")):route("BREW", "/x", h("b")):post("/:p", h("p"))
  eq({ false, 405, "GET, HEAD, POST, DELETE, OPTIONS, BREW" }, m(r, "PUT", "/x"))
  r:put("/y", h("p"))
  eq({ false, 405, "POST, PUT, OPTIONS" }, m(r, "GET", "/y"), "no HEAD without GET")
end)

test("HEAD falls back to GET; a HEAD route wins", function()
  local r = router.new()
  r:get("/a", h("get-a")):get("/b", h("get-b")):head("/b", h("head-b"))
  eq("get-a", m(r, "HEAD", "/a")[1])
  eq("head-b", m(r, "HEAD", "/b")[1])
  local req = { method = "HEAD", path = "/a" }
  eq("get-a", (r:dispatch(req)))
  eq("HEAD", req.method, "the method stays HEAD")
end)

test("method lists and exact paths with escapes", function()
  local r = router.new()
  r:route({ "GET", "POST" }, "/both", h("both"))
  r:get("/a b", h("space")):get("/ab", h("ab")):get("/a/b", h("a/b"))
  eq("both", m(r, "POST", "/both")[1])
  eq("both", m(r, "GET", "/both")[1])
  eq("space", m(r, "GET", "/a%20b")[1], "routes are written decoded")
  eq("ab", m(r, "GET", "/a%62")[1])
  eq({ false, 404 }, m(r, "GET", "/a%2Fb"), "an escaped slash is not a separator")
end)

test("dispatch answers 404, 405 and OPTIONS itself", function()
  local r = router.new()
  r:get("/x", h("x"))
  local function d(method, path)
    return { r:dispatch({ method = method, path = path }) }
  end
  eq({ 404, "Not Found\n" }, d("GET", "/nope"))
  eq({ 405, "Method Not Allowed\n", { allow = "GET, HEAD, OPTIONS" } }, d("POST", "/x"))
  eq({ 204, "", { allow = "GET, HEAD, OPTIONS" } }, d("OPTIONS", "/x"))
  r:options("/x", h("opt"))
  eq("opt", d("OPTIONS", "/x")[1], "an OPTIONS route wins")
  r.not_found = function(req) return 404, "custom " .. req.path end
  r.not_allowed = function(req, allow) return 405, allow end
  eq({ 404, "custom /nope" }, d("GET", "/nope"))
  eq({ 405, "GET, HEAD, OPTIONS" }, d("DELETE", "/x"))
end)

test("dispatch sets req.params and req.route, and passes results whole", function()
  local r = router.new()
  r:post("/items/:id", function(req) return 201, nil, { id = req.params.id } end)
  local req = { method = "POST", path = "/items/9" }
  local res = table.pack(r:dispatch(req))
  eq(3, res.n, "result count")
  eq({ 201, nil, { id = "9" } }, { res[1], res[2], res[3] })
  eq({ id = "9" }, req.params)
  eq("/items/:id", req.route)
  local miss = { method = "GET", path = "/none" }
  r:dispatch(miss)
  eq({}, miss.params)
  eq(nil, miss.route)
end)

test("middleware runs in order around the handler", function()
  local r, log = router.new(), {}
  r:use(function(req, nxt)
    log[#log + 1] = "1 in " .. tostring(req.route)
    local s, b = nxt()
    log[#log + 1] = "1 out"
    return s + 1, b .. "!"
  end)
  r:use(function(req, nxt)
    log[#log + 1] = "2 in " .. tostring(req.params.id)
    return nxt()
  end)
  r:get("/i/:id", function(req) log[#log + 1] = "handler"; return 200, "hi" end)
  eq({ 201, "hi!" }, { r:dispatch({ method = "GET", path = "/i/5" }) })
  eq({ "1 in /i/:id", "2 in 5", "handler", "1 out" }, log)
  log = {}
  eq({ 405, "Not Found\n!" }, { r:dispatch({ method = "GET", path = "/zz" }) },
     "middleware wraps the 404 too (and adds 1 to it)")
  eq({ "1 in nil", "2 in nil", "1 out" }, log)
end)

test("middleware may answer without calling nxt", function()
  local r, ran = router.new(), false
  r:use(function(req, nxt)
    if req.path == "/private" then return 401, "no" end
    return nxt()
  end)
  r:get("/private", function() ran = true; return 200 end)
  r:get("/public", function() return 200, "yes" end)
  eq({ 401, "no" }, { r:dispatch({ method = "GET", path = "/private" }) })
  eq(false, ran, "the handler did not run")
  eq({ 200, "yes" }, { r:dispatch({ method = "GET", path = "/public" }) })
end)

test("errors in handlers propagate to the caller", function()
  local r = router.new()
  r:use(function(req, nxt) return nxt() end)
  r:get("/boom", function() error("boom", 0) end)
  local ok, err = pcall(r.dispatch, r, { method = "GET", path = "/boom" })
  eq(false, ok)
  eq("boom", err)
end)

test("misuse raises, naming the caller's line", function()
  local r = router.new()
  r:get("/dup", h("d"))
  local function raises(fn, pattern)
    local ok, err = pcall(fn)
    if ok then error("no error raised for " .. pattern, 2) end
    if not tostring(err):find(pattern) then error("error '" .. tostring(err) .. "' lacks " .. pattern, 2) end
    if not tostring(err):find("test_router%.lua:%d+:") then
      error("error '" .. tostring(err) .. "' does not name the caller", 2)
    end
  end
  raises(function() r:route("get", "/x", h("x")) end, "bad method")
  raises(function() r:route(nil, "/x", h("x")) end, "bad method")
  raises(function() r:get("x", h("x")) end, "bad route")
  raises(function() r:get(nil, h("x")) end, "bad route")
  raises(function() r:get("/x", "not a function") end, "bad handler")
  raises(function() r:get("/a/:", h("x")) end, "bad parameter")
  raises(function() r:get("/a/:1x", h("x")) end, "bad parameter")
  raises(function() r:get("/a/*/b", h("x")) end, "must end route")
  raises(function() r:get("/a-:id", h("x")) end, "bad segment")
  raises(function() r:get("/:a/:a", h("x")) end, "appears twice")
  raises(function() r:get("/dup", h("again")) end, "already defined")
  raises(function() r:use(42) end, "bad handler")
  local callable = setmetatable({}, { __call = function() return "called" end })
  r:get("/callable", callable)
  eq("called", (r:dispatch({ method = "GET", path = "/callable" })))
end)

test("ten thousand routes: every one found, quickly", function()
  local r = router.new()
  local n = 10000
  for i = 1, n do
    r:get("/s" .. i .. "/x", h(i))
    r:get("/p" .. i .. "/:id/edit", h(-i))
  end
  for i = 1, n, 97 do
    eq(i, m(r, "GET", "/s" .. i .. "/x")[1])
    eq({ -i, { id = "k" .. i } }, { table.unpack(m(r, "GET", "/p" .. i .. "/k" .. i .. "/edit"), 1, 2) })
  end
  local t0, lookups = os.clock(), 20000
  for i = 1, lookups do
    local k = (i * 7919) % n + 1
    assert(r:match("GET", "/p" .. k .. "/abc/edit"))
  end
  local per = (os.clock() - t0) / lookups * 1e6
  print(("# %.1f us per :param match among %d routes (host Lua, sanitizers on)"):format(per, 2 * n))
  assert(per < 200, "a match took " .. per .. " us")
end)

if failed > 0 then
  print(failed .. " failed")
  os.exit(1)
end
