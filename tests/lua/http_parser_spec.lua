-- The http.parser binding (bindings/http_parser.c) and http.router as
-- Lua code sees them. Runs inside a booted image (`lunik test tests/lua`)
-- and on the host under the sanitizers (tests/unit/test_http_parser.c).
local httpp = require "http.parser"

local GET = "GET /items/42?sort=asc&q=a+b HTTP/1.1\r\n" ..
            "Host: example.com\r\n" ..
            "Accept: text/html\r\n" ..
            "ACCEPT: */*\r\n" ..
            "Cookie: a=1\r\n" ..
            "cookie: b=2\r\n" ..
            "X-Empty:\r\n" ..
            "\r\n"

describe("http.parser requests", function()
  it("give a table and the head's length", function()
    local req, n = httpp.request(GET)
    assert.equal(#GET, n)
    assert.equal("GET", req.method)
    assert.equal("/items/42?sort=asc&q=a+b", req.target)
    assert.equal("/items/42", req.path)
    assert.equal("sort=asc&q=a+b", req.query)
    assert.equal("1.1", req.version)
    assert.equal("none", req.body)
    assert.equal(0, req.length)
    assert.is_true(req.keep_alive)
    assert.is_false(req.expect_continue)
    assert.is_nil(req.authority)
    assert.same({ host = "example.com", accept = "text/html, */*",
                  cookie = "a=1; b=2", ["x-empty"] = "" }, req.headers)
  end)

  it("say nil, and nothing else, while the head is incomplete", function()
    for _, part in ipairs({ "", "GET", GET:sub(1, -2), GET:sub(1, 30) }) do
      local r = table.pack(httpp.request(part))
      assert.equal(1, r.n)
      assert.is_nil(r[1])
    end
  end)

  it("give nil, status, why for bad requests", function()
    local cases = {
      { "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "whitespace before colon" },
      { "GET / HTTP/1.1\r\n\r\n", 400, "missing host" },
      { "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "unsupported version" },
      { "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        400, "both content-length and transfer-encoding" },
      { "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        501, "unsupported transfer coding" },
      { "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413, "body too large" },
      { "\22\3\1\0", 400, "invalid method" },
    }
    for _, c in ipairs(cases) do
      local req, status, why = httpp.request(c[1])
      assert.is_nil(req)
      assert.equal(c[2], status, c[1])
      assert.equal(c[3], why)
    end
  end)

  it("describe framing, keep-alive, 100-continue and absolute-form", function()
    local req = httpp.request("PUT http://h:81/f?x HTTP/1.1\r\nHost: h\r\n" ..
                              "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n" ..
                              "Connection: close\r\n\r\n")
    assert.equal("chunked", req.body)
    assert.is_nil(req.length)
    assert.is_true(req.expect_continue)
    assert.is_false(req.keep_alive)
    assert.equal("h:81", req.authority)
    assert.equal("/f", req.path)
    req = httpp.request("GET http://h HTTP/1.0\r\nContent-Length: 7\r\n\r\n")
    assert.equal("/", req.path)
    assert.is_nil(req.query)
    assert.equal("length", req.body)
    assert.equal(7, req.length)
    assert.equal("1.0", req.version)
    assert.is_false(req.keep_alive)
  end)

  it("parse pipelined requests from a start position", function()
    local two = GET .. "DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n"
    local a, n = httpp.request(two)
    local b, m = httpp.request(two, n + 1)
    assert.equal("GET", a.method)
    assert.equal("DELETE", b.method)
    assert.equal(#two, n + m)
    assert.is_nil(httpp.request(two, #two + 1))
  end)

  it("raise on misuse", function()
    assert.error(function() httpp.request({}) end, "bad argument #1 to 'request' (string expected, got table)")
    assert.error(function() httpp.request("x", 0) end, "bad argument #2 to 'request' (initial position out of range)")
    assert.error(function() httpp.request("x", 3) end, "bad argument #2 to 'request' (initial position out of range)")
    assert.error(function() httpp.new({ max_head = 0 }) end, "bad option 'max_head' (an integer in 1..16777216 expected)")
    assert.error(function() httpp.new({ max_headers = "many" }) end, "bad option 'max_headers' (an integer in 1..10000 expected)")
    assert.error(function() httpp.new(42) end, "bad argument #1 to 'new' (table expected, got number)")
  end)
end)

describe("http.parser limits", function()
  it("have defaults, readable on the module and on parsers", function()
    assert.equal(16384, httpp.max_head)
    assert.equal(100, httpp.max_headers)
    assert.equal(1048576, httpp.max_body)
    local p = httpp.new({ max_head = 64, max_headers = 2, max_body = 10 })
    assert.equal(64, p.max_head)
    assert.equal(2, p.max_headers)
    assert.equal(10, p.max_body)
  end)

  it("answer 414, 431 and 413", function()
    local p = httpp.new({ max_head = 64, max_headers = 2, max_body = 10 })
    local _, st, why = p:request("GET /" .. ("a"):rep(100))
    assert.equal(414, st)
    assert.equal("request target too long", why)
    _, st = p:request("GET / HTTP/1.1\r\nHost: h\r\nX: " .. ("a"):rep(60))
    assert.equal(431, st)
    _, st, why = p:request("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n")
    assert.equal(431, st)
    assert.equal("too many header fields", why)
    _, st = p:request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n")
    assert.equal(413, st)
    assert.not_nil(p:request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n"))
  end)
end)

describe("http.parser responses", function()
  it("give status, reason, framing and Set-Cookie as a list", function()
    local raw = "HTTP/1.1 201 Created\r\nSet-Cookie: a=1\r\nContent-Length: 3\r\n" ..
                "set-cookie: b=2\r\n\r\nabc"
    local res, n = httpp.response(raw)
    assert.equal(#raw - 3, n)
    assert.equal(201, res.status)
    assert.equal("Created", res.reason)
    assert.equal("length", res.body)
    assert.equal(3, res.length)
    assert.is_true(res.keep_alive)
    assert.same({ "a=1", "b=2" }, res.headers["set-cookie"])
    assert.same({ "x=1" }, httpp.response("HTTP/1.1 200 OK\r\nSet-Cookie: x=1\r\n\r\n")
                            .headers["set-cookie"])
  end)

  it("know which responses have no body", function()
    local res = httpp.response("HTTP/1.0 200 OK\r\n\r\n")
    assert.equal("close", res.body)
    assert.is_false(res.keep_alive)
    res = httpp.response("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", 1, true)
    assert.equal("none", res.body)
    for _, st in ipairs({ "100 Continue", "204 No Content", "304 Not Modified" }) do
      assert.equal("none", httpp.response("HTTP/1.1 " .. st .. "\r\nContent-Length: 5\r\n\r\n").body)
    end
    local _, status = httpp.response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")
    assert.equal(501, status)
  end)
end)

describe("http.parser chunked bodies", function()
  it("decode in pieces, leaving the next message", function()
    local body = "5;x=1\r\nhello\r\n6\r\n world\r\n0\r\nExpires: never\r\nX-N: 1\r\n\r\nGET"
    local dec = httpp.chunked()
    local out, held, done = {}, "", false
    for i = 1, #body, 4 do
      held = held .. body:sub(i, i + 3)
      local data, n, fin = dec:decode(held)
      out[#out + 1] = data
      held = held:sub(n + 1)
      if fin then done = true; break end
    end
    assert.is_true(done)
    assert.equal("hello world", table.concat(out))
    assert.equal(11, dec:total())
    assert.same({ expires = "never", ["x-n"] = "1" }, dec:trailers())
    local data, n, fin = dec:decode("anything")
    assert.same({ "", 0, true }, { data, n, fin })
  end)

  it("decode a whole body in one call, from a start position", function()
    local dec = httpp.chunked()
    local data, n, done = dec:decode("xx3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", 3)
    assert.equal("abcde", data)
    assert.equal(20, n)
    assert.is_true(done)
    assert.same({}, dec:trailers())
  end)

  it("fail with a status, and keep failing", function()
    local dec = httpp.chunked()
    local data, status, why = dec:decode("zz\r\n")
    assert.is_nil(data)
    assert.equal(400, status)
    assert.equal("invalid chunk size", why)
    assert.is_nil((dec:decode("0\r\n\r\n")))
    local small = httpp.new({ max_body = 4 }):chunked()
    data, status = small:decode("3\r\nabc\r\n2\r\n")
    assert.is_nil(data)
    assert.equal(413, status)
  end)
end)

describe("http.parser decoding", function()
  it("unescapes, '+' as a space only when asked", function()
    assert.equal("a b/c+d", httpp.unescape("a%20b%2Fc+d"))
    assert.equal("a b c", httpp.unescape("a+b%20c", true))
    assert.equal("100%", httpp.unescape("100%"))
    assert.equal("%zz", httpp.unescape("%zz"))
    local long = ("%41"):rep(1000)
    assert.equal(("A"):rep(1000), httpp.unescape(long))
  end)

  it("parses query strings: last wins, or every value", function()
    assert.same({ a = "2", b = "x y", c = "", [""] = "e", ["k k"] = "&" },
                httpp.query("a=1&b=x+y&a=2&c&&=e&k%20k=%26"))
    assert.same({ a = { "1", "2" }, b = { "" } }, httpp.query("a=1&b=&a=2", true))
    assert.same({}, httpp.query(""))
  end)
end)

describe("http.router in the image", function()
  it("routes a parsed request", function()
    local router = require "http.router"
    local r = router.new()
    r:get("/items/:id", function(req) return 200, req.params.id end)
    local req = httpp.request(GET)
    assert.same({ 200, "42" }, { r:dispatch(req) })
    req.method = "POST"
    assert.same({ 405, "Method Not Allowed\n", { allow = "GET, HEAD, OPTIONS" } },
                { r:dispatch(req) })
  end)
end)
