-- The tls module over the guest's loopback: client and server tasks in one
-- image. tests/system/suite_tls.py runs this folder with the certificates
-- tests/system/tls_certs.py makes (certs/NAME.pem and NAME.key) and
-- certs/bundle.pem as the image's "system" CA bundle.
local net = require "net"
local sys = require "sys"
local task = require "task"
local tls = require "tls"

local function cert(name) return "certs/" .. name .. ".pem" end
local function key(name) return "certs/" .. name .. ".key" end
local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local server_ctx = assert(tls.server{ cert = cert("server"), key = key("server") })
local client_ctx -- a fresh one per test: no session cache carried over

local next_port = 7500
local function port() next_port = next_port + 1; return next_port end

-- A TLS server task on a fresh port running handler(tls_conn, tcp_conn)
-- for one connection; returns the port and the task.
local function serve_once(ctx, handler)
  local p = port()
  local srv = assert(net.listen("127.0.0.1", p))
  local t = task.spawn(function()
    local c = assert(srv:accept(10))
    srv:close()
    local tc = assert(tls.wrap(c, ctx))
    tc:settimeout(20)
    local r = { handler(tc, c) }
    tc:close()
    return table.unpack(r)
  end)
  return p, t
end

-- The same, serving n connections one after the other.
local function serve_n(ctx, n, handler)
  local p = port()
  local srv = assert(net.listen("127.0.0.1", p))
  local t = task.spawn(function()
    local out = {}
    for i = 1, n do
      local c = assert(srv:accept(10))
      local tc = assert(tls.wrap(c, ctx))
      tc:settimeout(20)
      out[i] = handler(tc, i)
      tc:close()
    end
    srv:close()
    return out
  end)
  return p, t
end

local function connect(p, ctx)
  return tls.connect("127.0.0.1", p, ctx or client_ctx, 20)
end

before_each(function()
  client_ctx = assert(tls.client{ ca = cert("ca"), server_name = "localhost" })
end)

describe("tls contexts", function()
  it("take PEM text as well as paths", function()
    assert.truthy(tls.server{ cert = read(cert("server")), key = read(key("server")) })
    assert.truthy(tls.client{ ca = read(cert("ca")) })
    assert.truthy(tls.client{ ca = "/app/" .. cert("ca") })
    assert.truthy(tls.server{ cert = "certs/server.der", key = "certs/server-key.der" })
  end)

  it("return nil and a clear error for bad PEM and a wrong key", function()
    local bad = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
    local c, err = tls.server{ cert = bad, key = key("server") }
    assert.equal(nil, c)
    assert.matches("^bad certificate: ", err)
    c, err = tls.server{ cert = cert("server"), key = key("alt") }
    assert.same({ nil, "key does not match certificate" }, { c, err })
    c, err = tls.server{ cert = cert("server"), key = "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n" }
    assert.equal(nil, c)
    assert.matches("^bad key: ", err)
    c, err = tls.client{ ca = "certs/nope.pem" }
    assert.equal(nil, c)
    assert.equal("bad CA certificate: 'certs/nope.pem' is neither PEM text nor a file in the image", err)
  end)

  it("raise on misuse", function()
    assert.error(function() tls.server{ cert = cert("server") } end, "cert and key are required, as PEM text or paths")
    assert.error(function() tls.server{ cert = cert("server"), key = key("server"), alpm = "h2" } end, "unknown tls option 'alpm' (cert, key, alpn, sni, min_version, max_version)")
    assert.error(function() tls.client{} end, "tls.client needs ca= (PEM, a path or \"system\"), or verify = false") -- no ca and no verify = false
    assert.error(function() tls.client{ ca = cert("ca"), verify = "no" } end, "bad argument #1 to 'client' (verify must be a boolean)")
    assert.error(function() tls.client{ ca = cert("ca"), alpn = {} } end, "alpn must list 1 to 16 protocols")
    assert.error(function() tls.wrap({}, server_ctx) end, "bad argument #1 to 'wrap' (net.tcp expected, got table)")
    assert.error(function() tls.connect("127.0.0.1", 1, server_ctx) end, "bad argument #3 to 'connect' (tls.connect needs a client context)")
  end)

  it("trust the image's CA bundle with ca = \"system\"", function()
    local ctx = assert(tls.client{ ca = "system", server_name = "test.lunik" })
    local p = serve_once(server_ctx, function(c) return c:handshake() end)
    local c = assert(connect(p, ctx))
    c:close()
  end)
end)

describe("tls connections", function()
  it("round-trip lines, counts, prefixes and everything until close_notify", function()
    local p, t = serve_once(server_ctx, function(c)
      local got = {}
      got[1] = c:receive()          -- "*l" is the default
      got[2] = c:receive("l")
      got[3] = c:receive("*l")
      got[4] = c:receive(5)
      got[5] = c:receive(3, ">>")
      got[6] = c:receive(0)
      c:send("one\r\ntwo\nthree")
      c:send("four")
      return got
    end)
    local c = assert(connect(p))
    assert.equal(7, c:send("a\r\nb\nc\n"))
    assert.equal(10, c:send("xx12345678", 3))
    assert.equal("one", c:receive())
    assert.equal("<two", c:receive("*l", "<"))
    assert.equal("threefour", c:receive("*a"))
    assert.same({ nil, "closed", "" }, { c:receive() })
    c:close()
    assert.same({ true, { "a", "b", "c", "12345", ">>678", "" } }, { t:join(20) })
  end)

  it("receiveany returns what has arrived, up to max", function()
    local p = serve_once(server_ctx, function(c) c:send("0123456789") end)
    local c = assert(connect(p))
    local got = {}
    while true do
      local d, err = c:receiveany(4)
      if not d then assert.equal("closed", err) break end
      assert.truthy(#d <= 4)
      got[#got + 1] = d
    end
    assert.equal("0123456789", table.concat(got))
    c:close()
  end)

  it("returns nil, err and the partial data when the peer closes early", function()
    local p = serve_once(server_ctx, function(c) c:send("par") end)
    local c = assert(connect(p))
    assert.same({ nil, "closed", "par" }, { c:receive(10) })
    c:close()
  end)

  it("times out a receive and keeps the partial line", function()
    local release = task.channel(1)
    local p = serve_once(server_ctx, function(c)
      c:send("no newline yet")
      release:receive(10)
    end)
    local c = assert(connect(p))
    c:settimeout(0.1)
    local t0 = sys.monotonic()
    assert.same({ nil, "timeout", "no newline yet" }, { c:receive() })
    assert.truthy(sys.monotonic() - t0 < 2)
    release:send(true)
    c:settimeout(10)
    assert.same({ nil, "closed", "" }, { c:receive() })
    c:close()
  end)

  -- One way, then the other: both ways at once over the loopback stalls
  -- lwIP 2.1.3 (two zero windows ACK each other forever, tcp_in.c's
  -- tcp_receive), which is no matter of TLS.
  it("sends 1 MiB each way, intact, and receives it in one call", function()
    local size = 1024 * 1024
    local data = string.rep("0123456789abcdef", size // 16)
    local p, t = serve_once(server_ctx, function(c)
      local got = c:receive(size)
      return got == data, c:send(got)
    end)
    local c = assert(connect(p))
    assert.equal(size, c:send(data))
    local got = c:receive(size)
    assert.truthy(got == data)
    assert.same({ true, true, size }, { t:join(60) })
    c:close()
  end)

  it("does the handshake implicitly, and lets tasks send at once", function()
    local p, t = serve_once(server_ctx, function(c)
      return c:receive(3000)
    end)
    local c = assert(tls.wrap(assert(net.connect("127.0.0.1", p)), client_ctx))
    local senders = {}
    for i = 1, 3 do
      local part = string.rep(tostring(i), 1000)
      senders[i] = task.spawn(function() return c:send(part) end)
    end
    for i = 1, 3 do assert.same({ true, 1000 }, { senders[i]:join(20) }) end
    local ok, got = t:join(20)
    assert.truthy(ok)
    -- each send's bytes arrive whole, not interleaved with another's
    local firsts = {}
    for k = 0, 2 do
      local part = got:sub(k * 1000 + 1, k * 1000 + 1000)
      assert.equal(string.rep(part:sub(1, 1), 1000), part)
      firsts[#firsts + 1] = part:sub(1, 1)
    end
    table.sort(firsts)
    assert.same({ "1", "2", "3" }, firsts)
    c:close()
  end)

  it("names both ends, says dirty, closes idempotently", function()
    local release = task.channel(1)
    local p = serve_once(server_ctx, function(c)
      c:send("x\ny\n")
      release:receive(10)
    end)
    local c = assert(connect(p))
    assert.same({ "127.0.0.1", p }, { c:getpeername() })
    assert.equal("127.0.0.1", (c:getsockname()))
    assert.equal("x", c:receive())
    assert.truthy(c:dirty())
    assert.equal("y", c:receive())
    assert.matches("^tls over tcp connection to 127%.0%.0%.1:", tostring(c))
    release:send(true)
    assert.equal(1, c:close())
    assert.equal(1, c:close())
    assert.falsy(c:dirty())
    assert.same({ nil, "closed", "" }, { c:receive() })
    assert.same({ nil, "closed", 0 }, { c:send("x") })
    assert.same({ nil, "closed" }, { c:getpeername() })
    assert.equal("tls connection (closed)", tostring(c))
  end)

  it("closes with a <close> variable, with close_notify", function()
    local p, t = serve_once(server_ctx, function(c) return c:receive("*a") end)
    do
      local c <close> = assert(connect(p))
      assert.truthy(c:send("last words"))
    end
    assert.same({ true, "last words" }, { t:join(20) })
  end)

  it("wrapping a closed connection fails", function()
    local p = serve_once(server_ctx, function(c) c:handshake(1) end)
    local raw = assert(net.connect("127.0.0.1", p))
    raw:close()
    assert.same({ nil, "closed" }, { tls.wrap(raw, client_ctx) })
  end)

  it("negotiates TLS 1.3 by default, with an AEAD suite, ECDSA or RSA", function()
    local rsa = assert(tls.server{ cert = cert("rsa"), key = key("rsa") })
    for _, ctx in ipairs({ server_ctx, rsa }) do
      local p, t = serve_once(ctx, function(c) c:handshake(); return c:cipher() end)
      local c = assert(connect(p))
      local suite, version = c:cipher()
      assert.equal("TLSv1.3", version)
      assert.matches("^TLS1%-3%-", suite)
      assert.truthy(suite:match("GCM") or suite:match("CHACHA20%-POLY1305"))
      assert.same({ true, suite, version }, { t:join(20) })
      c:close()
    end
  end)

  it("negotiates TLS 1.2 with ECDHE and an AEAD suite when one side caps it", function()
    local rsa12 = assert(tls.server{ cert = cert("rsa"), key = key("rsa"), max_version = "1.2" })
    local client12 = assert(tls.client{ ca = cert("ca"), server_name = "localhost",
                                        max_version = "1.2" })
    for _, case in ipairs({ { server_ctx, client12, "ECDSA" }, { rsa12, client_ctx, "RSA" } }) do
      local p = serve_once(case[1], function(c) c:handshake() end)
      local c = assert(connect(p, case[2]))
      local suite, version = c:cipher()
      assert.equal("TLSv1.2", version)
      assert.matches("^TLS%-ECDHE%-" .. case[3] .. "%-WITH%-", suite)
      assert.truthy(suite:match("GCM") or suite:match("CHACHA20%-POLY1305"))
      c:close()
    end
  end)

  it("fails the handshake when the versions do not meet", function()
    local only13 = assert(tls.server{ cert = cert("server"), key = key("server"),
                                      min_version = "1.3" })
    local only12 = assert(tls.client{ ca = cert("ca"), server_name = "localhost",
                                      max_version = "1.2" })
    local p, t = serve_once(only13, function(c) return c:handshake() end)
    local c, err = connect(p, only12)
    assert.equal(nil, c)
    assert.matches("^handshake failed: ", err)
    local ok, hs, serr = t:join(20)
    assert.same({ true, nil, "handshake failed: unsupported protocol version" },
                { ok, hs, serr })
  end)

  it("counts handshakes by version and result in tls.stats()", function()
    local function counts()
      local out = {}
      for _, h in ipairs(tls.stats().handshakes) do
        out[h.version .. " " .. h.result] = h.count
      end
      return setmetatable(out, { __index = function() return 0 end })
    end
    local client12 = assert(tls.client{ ca = cert("ca"), server_name = "localhost",
                                        max_version = "1.2" })
    local only13 = assert(tls.server{ cert = cert("server"), key = key("server"),
                                      min_version = "1.3" })
    local before = counts()
    -- both ends are in this guest: each handshake counts twice
    for _, case in ipairs({ { server_ctx, client_ctx }, { server_ctx, client12 } }) do
      local p, t = serve_once(case[1], function(c) c:handshake() end)
      assert(connect(p, case[2])):close()
      t:join(20)
    end
    local p, t = serve_once(only13, function(c) return c:handshake() end)
    assert.equal(nil, (connect(p, client12)))
    t:join(20)
    local after = counts()
    assert.equal(2, after["1.3 full"] + after["1.3 resumed"]
                    - before["1.3 full"] - before["1.3 resumed"])
    assert.equal(2, after["1.2 full"] + after["1.2 resumed"]
                    - before["1.2 full"] - before["1.2 resumed"])
    assert.equal(2, after["unknown failed"] - before["unknown failed"])
    for _, h in ipairs(tls.stats().handshakes) do
      assert.truthy(h.count > 0)
    end
  end)
end)

describe("tls verification", function()
  -- A client of each version, made with (opts), refuses (server)'s
  -- certificate with (want).
  local function refused(server, opts, want)
    for _, v in ipairs({ "1.2", "1.3" }) do
      local o = { ca = cert("ca"), server_name = "localhost", min_version = v, max_version = v }
      for k, val in pairs(opts) do o[k] = val end
      local p, t = serve_once(server, function(c) return c:handshake() end)
      local c, err = connect(p, assert(tls.client(o)))
      assert.equal(nil, c)
      assert.equal(want, err)
      local ok, hs, serr = t:join(20)
      assert.same({ true, nil }, { ok, hs })
      if v == "1.2" then -- the client told the server why, with an alert
        assert.matches("^handshake failed: the peer sent alert %d+ %(%a[%a_]+%)$", serr)
      else -- mbedTLS's TLS 1.3 client sends it unencrypted (docs/tls.md)
        assert.equal("handshake failed: bad record MAC", serr)
      end
    end
  end

  it("refuses a certificate from an unknown CA", function()
    local stranger = assert(tls.server{ cert = cert("stranger"), key = key("stranger") })
    refused(stranger, {}, "certificate verify failed: not trusted")
  end)

  it("refuses a certificate for another name", function()
    refused(server_ctx, { server_name = "wrong.lunik" }, "certificate verify failed: CN mismatch")
  end)

  it("refuses an expired certificate", function()
    local expired = assert(tls.server{ cert = cert("expired"), key = key("expired") })
    refused(expired, {}, "certificate verify failed: expired")
  end)

  it("accepts anything with verify = false", function()
    local ctx = assert(tls.client{ verify = false })
    for _, name in ipairs({ "stranger", "expired" }) do
      local s = assert(tls.server{ cert = cert(name), key = key(name) })
      local p = serve_once(s, function(c) return c:receive() end)
      local c = assert(connect(p, ctx))
      assert.truthy(c:send("hi\n"))
      c:close()
    end
  end)

  it("checks the name given to tls.wrap", function()
    local p = serve_once(server_ctx, function(c) c:handshake() end)
    local ctx = assert(tls.client{ ca = cert("ca") })
    local c = assert(tls.wrap(assert(net.connect("127.0.0.1", p)), ctx, "test.lunik"))
    assert.same({ true }, { c:handshake(20) })
    c:close()
    p = serve_once(server_ctx, function(c) c:handshake() end)
    c = assert(tls.wrap(assert(net.connect("127.0.0.1", p)), ctx)) -- checks "127.0.0.1"
    assert.same({ nil, "certificate verify failed: CN mismatch" }, { c:handshake(20) })
    c:close()
  end)
end)

describe("tls extensions", function()
  it("negotiates ALPN", function()
    local s = assert(tls.server{ cert = cert("server"), key = key("server"), alpn = { "h2", "http/1.1" } })
    local p, t = serve_n(s, 2, function(c) c:handshake(); return c:alpn() or "none" end)
    local c1 = assert(tls.client{ ca = cert("ca"), server_name = "localhost", alpn = { "http/1.1", "x" } })
    local c = assert(connect(p, c1))
    assert.equal("http/1.1", c:alpn())
    c:close()
    c = assert(connect(p, client_ctx))
    assert.equal(nil, c:alpn())
    c:close()
    assert.same({ true, { "http/1.1", "none" } }, { t:join(20) })
    -- no protocol in common: the server refuses (RFC 7301, 3.2)
    p = serve_once(s, function(c) return c:handshake() end)
    local x = assert(tls.client{ ca = cert("ca"), server_name = "localhost", alpn = "x" })
    assert.same({ nil, "handshake failed: the peer sent alert 120 (no_application_protocol)" },
                { connect(p, x) })
  end)

  it("selects the certificate by SNI", function()
    local s = assert(tls.server{ cert = cert("server"), key = key("server"),
                                 sni = { ["alt.lunik"] = { cert = cert("alt"), key = key("alt") },
                                         ["*.wild.lunik"] = { cert = cert("rsa"), key = key("rsa") } } })
    local p, t = serve_n(s, 3, function(c) c:handshake(); return c:sni() or "none" end)
    local alt = assert(tls.client{ ca = cert("ca"), server_name = "alt.lunik" })
    assert(connect(p, alt)):close()
    assert(connect(p, client_ctx)):close()
    -- *.wild.lunik gives the rsa certificate, which is not for this name
    local wild = assert(tls.client{ ca = cert("ca"), server_name = "a.wild.lunik" })
    assert.same({ nil, "certificate verify failed: CN mismatch" }, { connect(p, wild) })
    assert.same({ true, { "alt.lunik", "localhost", "a.wild.lunik" } }, { t:join(20) })
  end)

  it("resumes a session with a ticket on the next connection, both versions", function()
    for _, v in ipairs({ "1.3", "1.2" }) do
      local p, t = serve_n(server_ctx, 3, function(c)
        c:handshake()
        assert.equal("localhost", c:sni()) -- without an sni table too
        c:send("hi\n")
        return c:session_reused()
      end)
      -- a TLS 1.3 ticket comes after the handshake: read before closing
      local function once(ctx)
        local c = assert(connect(p, ctx))
        assert.equal("hi", c:receive())
        assert.equal("TLSv" .. v, select(2, c:cipher()))
        local reused = c:session_reused()
        c:close()
        return reused
      end
      local ctx = assert(tls.client{ ca = cert("ca"), server_name = "localhost", max_version = v })
      local other = assert(tls.client{ ca = cert("ca"), server_name = "localhost", max_version = v })
      -- another context has no session to offer
      assert.same({ false, true, false }, { once(ctx), once(ctx), once(other) })
      assert.same({ true, { false, true, false } }, { t:join(20) })
    end
  end)
end)

describe("tls failures", function()
  it("times out a handshake with a peer that never answers", function()
    local p = port()
    local srv = assert(net.listen("127.0.0.1", p))
    local t = task.spawn(function()
      local c = assert(srv:accept(10))
      local tc = assert(tls.wrap(c, server_ctx))
      local t0 = sys.monotonic()
      local r = { tc:handshake(0.2) }
      r[3] = sys.monotonic() - t0
      tc:close()
      return r
    end)
    local silent = assert(net.connect("127.0.0.1", p))
    local t0 = sys.monotonic()
    local ok, r = t:join(10)
    assert.same({ nil, "timeout" }, { r[1], r[2] })
    assert.truthy(r[3] >= 0.2 and r[3] < 2)
    silent:close()
    srv:close()
    -- and a client against a server that accepts and stays silent
    p = port()
    srv = assert(net.listen("127.0.0.1", p))
    t = task.spawn(function()
      local c = assert(srv:accept(10))
      c:receive("*a")
      c:close()
    end)
    t0 = sys.monotonic()
    assert.same({ nil, "timeout" }, { tls.connect("127.0.0.1", p, client_ctx, 0.3) })
    local took = sys.monotonic() - t0
    assert.truthy(took >= 0.3 and took < 2)
    assert.truthy(t:join(10))
    srv:close()
  end)

  it("tells close_notify from an abrupt close", function()
    local p = serve_once(server_ctx, function(c, raw)
      c:send("all of it")
    end)
    local c = assert(connect(p))
    assert.equal("all of it", c:receive("*a"))
    c:close()
    p = serve_once(server_ctx, function(c, raw)
      c:send("cut")
      raw:close() -- TCP FIN without close_notify
    end)
    c = assert(connect(p))
    assert.same({ nil, "truncated", "cut" }, { c:receive("*a") })
    assert.same({ nil, "closed" }, { c:receiveany() })
    c:close()
  end)

  it("reports a handshake the peer abandons", function()
    local p, t = serve_once(server_ctx, function(c) return c:handshake() end)
    local raw = assert(net.connect("127.0.0.1", p))
    raw:send("\22\3\1\0\5\1\0\0")  -- the start of a ClientHello, then FIN
    raw:close()
    local ok, hs, err = t:join(20)
    assert.same({ true, nil, "handshake failed: closed" }, { ok, hs, err })
  end)

  it("fails a handshake on garbage", function()
    local p, t = serve_once(server_ctx, function(c) return c:receive() end)
    local raw = assert(net.connect("127.0.0.1", p))
    raw:send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    local ok, line, err = t:join(20)
    assert.same({ true, nil, "handshake failed: invalid record" }, { ok, line, err })
    raw:close()
  end)
end)

describe("tls ownership", function()
  it("closes what a failed task used last, and not what it handed on", function()
    local p, srv_task = serve_n(server_ctx, 2, function(c)
      return c:receive() -- each client's fate: a line, or how it ended
    end)
    local kept, dropped
    local t = task.spawn(function()
      -- wrapped here, then used by another task: that one owns it
      local a = assert(tls.wrap(assert(net.connect("127.0.0.1", p)), client_ctx))
      local user = task.spawn(function() assert(a:send("handed on\n")) end)
      assert.same({ true }, { user:join(20) })
      kept = a
      dropped = assert(connect(p))
      error("the task fails", 0)
    end)
    assert.same({ nil, "the task fails" }, { t:join(20) })
    assert.same({ nil, "closed", "" }, { dropped:receive() })
    assert.matches("^tls over tcp connection to 127%.0%.0%.1:", tostring(kept))
    kept:close()
    local ok, got = srv_task:join(20)
    assert.truthy(ok)
    assert.equal("handed on", got[1])
    assert.equal(nil, got[2]) -- closed by the failure, with close_notify
  end)
end)

describe("ngx cosockets over TLS", function()
  it("sslhandshake verifies, talks, and pools TLS connections", function()
    local ngx = require "ngx"
    local p = port()
    local srv = assert(net.listen("127.0.0.1", p))
    local server = task.spawn(function()
      local c = assert(srv:accept(10))
      srv:close()
      local tc = assert(tls.wrap(c, server_ctx))
      tc:settimeout(20)
      while true do -- until the client closes the pooled connection
        local line = tc:receive()
        if not line then break end
        tc:send("echo " .. line .. "\n")
      end
      tc:close()
    end)
    for i = 1, 2 do
      local sock = ngx.socket.tcp()
      sock:settimeout(20000)
      assert(sock:connect("127.0.0.1", p))
      local session, err = sock:sslhandshake(nil, "localhost", true)
      assert.truthy(session, err)
      assert(sock:send("hello " .. i .. "\n"))
      assert.equal("echo hello " .. i, sock:receive())
      assert.equal(i - 1, sock:getreusedtimes())
      assert(sock:setkeepalive())
    end
    local last = ngx.socket.tcp()
    assert(last:connect("127.0.0.1", p))
    assert.equal(2, last:getreusedtimes())
    assert.truthy(last:sslhandshake(false, "localhost", true)) -- TLS already
    last:close()
    server:join(20)
    -- a server whose certificate has expired
    local p2, t2 = serve_once(assert(tls.server{ cert = cert("expired"), key = key("expired") }),
      function(tc) return tc:receive() end)
    local sock = ngx.socket.tcp()
    sock:settimeout(20000)
    assert(sock:connect("127.0.0.1", p2))
    local ok, err = sock:sslhandshake(nil, "localhost", true)
    assert.equal(nil, ok)
    assert.truthy(err:find("certificate verify failed", 1, true), err)
    t2:join(20)
  end)
end)

describe("http over TLS", function()
  it("serves https and the client verifies it by default", function()
    local http = require "http"
    local app = http.app()
    app:get("/hi", function(req) return { hello = "tls" } end)
    local p = port()
    local s = assert(app:listen(p, { log = false,
      tls = { cert = cert("server"), key = key("server") } }))
    local res, err = http.get("https://localhost:" .. p .. "/hi")
    assert.truthy(res, err)
    assert.equal(200, res.status)
    assert.equal('{"hello":"tls"}', res.body)
    -- a second request reuses the pooled TLS connection
    assert.equal(200, assert(http.get("https://localhost:" .. p .. "/hi")).status)
    -- the name must match the certificate: 127.0.0.1 is not in it
    local bad, berr = http.get("https://127.0.0.1:" .. p .. "/hi")
    assert.equal(nil, bad)
    assert.truthy(berr:find("verify", 1, true), berr)
    -- verification off, explicitly
    local ok = assert(http.get("https://127.0.0.1:" .. p .. "/hi", { tls = { verify = false } }))
    assert.equal(200, ok.status)
    s:close()
  end)
end)

describe("http over TLS versions", function()
  it("passes min_version and max_version to the server and the client", function()
    local http = require "http"
    local app = http.app()
    app:get("/v", function(req) return { ok = true } end)
    local p = port()
    local s = assert(app:listen(p, { log = false,
      tls = { cert = cert("server"), key = key("server"), max_version = "1.2" } }))
    local url = "https://localhost:" .. p .. "/v"
    -- "system" is the test CA here (certs/bundle.pem). The refusal first:
    -- the client's pool would hand the second request the first's
    -- connection whatever its tls options.
    local res, err = http.get(url, { tls = { ca = "system", min_version = "1.3" } })
    assert.equal(nil, res)
    assert.matches("handshake failed", err)
    assert.equal(200, assert(http.get(url, { tls = { ca = "system", max_version = "1.2" } })).status)
    s:close()
  end)
end)
