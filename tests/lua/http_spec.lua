-- The http server and client against each other over the guest's loopback.
local http = require "http"
local json = require "json"
local net = require "net"
local task = require "task"

local PORT = 18181
local base = "http://127.0.0.1:" .. PORT
local app = http.app()
local order = {}

app:use(function(req, nxt)
  order[#order + 1] = "outer in"
  local s, b, h = nxt()
  order[#order + 1] = "outer out"
  return s, b, h
end)
app:use(function(req, nxt)
  order[#order + 1] = "inner"
  if req.headers["x-deny"] then return 403, { error = "denied" } end
  return nxt()
end)
app:get("/hello", function(req) return "hello" end)
app:get("/json", function(req) return { a = 1, list = json.array() } end)
app:get("/users/:id/posts/:post", function(req)
  return { id = req.params.id, post = req.params.post, q = req.query }
end)
app:post("/echo", function(req)
  return 200, req:body(), { ["content-type"] = req.headers["Content-Type"] or "text/plain" }
end)
app:post("/json", function(req) return 201, { got = req:json() } end)
app:get("/teapot", function() http.error(418, "short and stout") end)
app:get("/boom", function() error("internal detail") end)
app:get("/stream", function()
  local i = 0
  return 200, function()
    i = i + 1
    if i <= 3 then return "part" .. i .. ";" end
  end
end)
app:get("/redirect", function() return 302, "", { location = "/hello" } end)
app:get("/headers", function() return 200, "x", { ["x-one"] = "1", ["set-cookie"] = { "a=1", "b=2" } } end)
app:static("/static", "public")
local server = assert(app:listen(PORT, { log = false, max_body = 4 * 1024 * 1024 }))

-- Raw HTTP over a socket: what a browser or curl would send.
local function raw(text, pattern)
  local c = assert(net.connect("127.0.0.1", PORT))
  c:settimeout(5)
  assert(c:send(text))
  local out = c:receive(pattern or "*a")
  c:close()
  return out
end

describe("http server", function()
  it("answers text and JSON with the right headers", function()
    local res = assert(http.get(base .. "/hello"))
    assert.equal(200, res.status)
    assert.equal("hello", res.body)
    assert.equal("text/plain; charset=utf-8", res.headers["content-type"])
    assert.equal("lunik", res.headers.server)
    assert.truthy(res.headers.date:match("GMT$"))
    res = assert(http.get(base .. "/json"))
    assert.same({ a = 1, list = {} }, json.decode(res.body))
    assert.truthy(res.body:find('"list":[]', 1, true))
  end)

  it("routes parameters and decodes queries", function()
    local res = assert(http.get(base .. "/users/a%20b/posts/7?x=1&y=hello+world&z=%26"))
    local body = json.decode(res.body)
    assert.equal("a b", body.id)
    assert.equal("7", body.post)
    assert.same({ x = "1", y = "hello world", z = "&" }, body.q)
  end)

  it("runs middleware in order, around the handler", function()
    for k in pairs(order) do order[k] = nil end
    http.get(base .. "/hello")
    assert.same({ "outer in", "inner", "outer out" }, order)
    local res = http.get(base .. "/hello", { headers = { ["X-Deny"] = "1" } })
    assert.equal(403, res.status)
  end)

  it("reads request bodies, JSON included, and answers 400 for bad JSON", function()
    local res = assert(http.post(base .. "/echo", "some bytes", { headers = { ["Content-Type"] = "x/y" } }))
    assert.equal("some bytes", res.body)
    assert.equal("x/y", res.headers["content-type"])
    res = assert(http.post(base .. "/json", json.encode({ k = { 1, 2 } })))
    assert.equal(201, res.status)
    assert.same({ got = { k = { 1, 2 } } }, json.decode(res.body))
    res = assert(http.post(base .. "/json", "{not json"))
    assert.equal(400, res.status)
  end)

  it("turns http.error into its status and other errors into a 500 without details", function()
    local res = assert(http.get(base .. "/teapot"))
    assert.equal(418, res.status)
    assert.equal("short and stout", json.decode(res.body).error)
    res = assert(http.get(base .. "/boom"))
    assert.equal(500, res.status)
    assert.falsy(res.body:find("internal detail", 1, true))
    assert.equal(200, assert(http.get(base .. "/hello")).status)
  end)

  it("answers 404, and 405 with Allow", function()
    assert.equal(404, assert(http.get(base .. "/missing")).status)
    local res = assert(http.request { method = "DELETE", url = base .. "/hello" })
    assert.equal(405, res.status)
    assert.truthy(res.headers.allow:find("GET", 1, true))
  end)

  it("streams a function body with chunked encoding", function()
    local out = raw("GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert.truthy(out:find("Transfer-Encoding: chunked", 1, true))
    local res = assert(http.get(base .. "/stream"))
    assert.equal("part1;part2;part3;", res.body)
  end)

  it("answers HEAD without a body but with its length", function()
    local out = raw("HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert.truthy(out:find("Content-Length: 5\r\n", 1, true))
    assert.truthy(out:sub(-4) == "\r\n\r\n")
  end)

  it("keeps connections alive and answers pipelined requests in order", function()
    local c = assert(net.connect("127.0.0.1", PORT))
    c:settimeout(5)
    c:send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /json HTTP/1.1\r\nHost: x\r\n\r\n" ..
      "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    local all = c:receive("*a")
    c:close()
    local _, n = all:gsub("HTTP/1.1 200 OK", "")
    assert.equal(3, n)
    assert.truthy(all:find("hello.*\"a\":1.*hello$"))
  end)

  it("sends 100 Continue before reading a body that expects it", function()
    local c = assert(net.connect("127.0.0.1", PORT))
    c:settimeout(5)
    c:send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    assert.equal("HTTP/1.1 100 Continue", c:receive())
    assert.equal("", c:receive())
    c:send("data")
    assert.equal("HTTP/1.1 200 OK", c:receive())
    c:close()
  end)

  it("reads chunked request bodies", function()
    local out = raw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n" ..
      "Connection: close\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n")
    assert.truthy(out:find("\r\n\r\nWikipedia$"))
  end)

  it("refuses a request with both Content-Length and Transfer-Encoding", function()
    local out = raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n" ..
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert.truthy(out:find("^HTTP/1.1 400 "))
  end)

  it("refuses bodies over max_body with 413", function()
    local out = raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")
    assert.truthy(out:find("^HTTP/1.1 413 "))
  end)

  it("sends repeated headers such as Set-Cookie", function()
    local res = assert(http.get(base .. "/headers"))
    assert.equal("1", res.headers["x-one"])
    assert.same({ "a=1", "b=2" }, res.headers["set-cookie"])
  end)

  it("serves files of the image with types, ETags and 304", function()
    local res = assert(http.get(base .. "/static/site.css"))
    assert.equal(200, res.status)
    assert.equal("text/css; charset=utf-8", res.headers["content-type"])
    local etag = res.headers.etag
    assert.truthy(etag)
    res = assert(http.get(base .. "/static/site.css", { headers = { ["If-None-Match"] = etag } }))
    assert.equal(304, res.status)
    assert.equal("", res.body)
    assert.equal("<h1>hello</h1>\n", assert(http.get(base .. "/static/")).body)
    assert.equal(301, assert(http.get(base .. "/static/docs")).status)
    assert.equal("docs index\n", assert(http.get(base .. "/static/docs/")).body)
    assert.equal(404, assert(http.get(base .. "/static/../main.lua")).status)
    assert.equal(404, assert(http.get(base .. "/static/nope.txt")).status)
  end)
end)

describe("http client", function()
  it("follows redirects only when asked", function()
    local res = assert(http.get(base .. "/redirect"))
    assert.equal(302, res.status)
    res = assert(http.get(base .. "/redirect", { redirects = 3 }))
    assert.equal(200, res.status)
    assert.equal("hello", res.body)
  end)

  it("reuses connections across requests", function()
    local seen = {}
    local probe = http.app()
    probe:get("/who", function(req) return req.remote_addr .. ":" .. req.remote_port end)
    local s = assert(probe:listen(PORT + 1, { log = false }))
    for i = 1, 5 do
      local res = assert(http.get("http://127.0.0.1:" .. (PORT + 1) .. "/who"))
      seen[res.body] = true
    end
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    assert.equal(1, n)
    s:close()
  end)

  it("reports refused connections and bad URLs", function()
    assert.same({ nil, "connection refused" }, { http.get("http://127.0.0.1:1/") })
    assert.equal(nil, (http.get("ftp://x/")))
    assert.error(function() http.request("http://x/") end, "http.request: expected a table")
  end)

  it("handles a thousand keep-alive requests from several tasks", function()
    local ts = {}
    for t = 1, 4 do
      ts[t] = task.spawn(function()
        for i = 1, 250 do
          local res = assert(http.get(base .. "/hello"))
          assert(res.status == 200)
        end
        return true
      end)
    end
    for t = 1, 4 do assert.same({ true, true }, { ts[t]:join(60) }) end
  end)
end)
