-- The ngx subset (stdlib/ngx.lua): cosockets and their keep-alive pool
-- against servers in the same image, timers, threads, logging, and the
-- Lua 5.1 globals. lua-resty-redis against a real Redis is the system
-- tests' (suite_compat.py).
local ngx = require "ngx"
local net = require "net"
local sys = require "sys"
local task = require "task"
local timer = require "timer"

local next_port = 7500
local function port() next_port = next_port + 1; return next_port end

-- A server answering each "ping" line with "pong" (and "bye" by closing),
-- each connection in a task of its own; returns the port and a stats
-- table { accepted = n }. The caller closes stats.server.
local function pong_server()
  local p = port()
  local srv = assert(net.listen("127.0.0.1", p))
  local stats = { accepted = 0, server = srv, conns = {} }
  task.spawn(function()
    while true do
      local c = srv:accept()
      if not c then return end
      stats.accepted = stats.accepted + 1
      stats.conns[#stats.conns + 1] = c
      task.spawn(function()
        while true do
          local line = c:receive()
          if line == "ping" then c:send("pong\n")
          elseif line == "junk" then c:send("pong\nextra\n")
          else c:close(); return end
        end
      end)
    end
  end)
  return p, stats
end

-- A server that sends (data, or its pieces (pause) seconds apart) to its
-- one connection, then closes it.
local function send_once(data, pause)
  local p = port()
  local srv = assert(net.listen("127.0.0.1", p))
  task.spawn(function()
    local c = assert(srv:accept(5))
    srv:close()
    for _, piece in ipairs(type(data) == "table" and data or { data }) do
      c:send(piece)
      if pause then timer.sleep(pause) end
    end
    c:close()
  end)
  return p
end

describe("ngx.socket.tcp", function()
  it("connects, sends nested tables and receives lines, counts and all", function()
    local p, stats = pong_server()
    local s = ngx.socket.tcp()
    assert.equal(1, s:connect("127.0.0.1", p))
    assert.equal(10, s:send({ "pi", { "ng", "\n" }, { { "ping\n" } } }))
    assert.equal("pong", s:receive())
    assert.equal("pong\n", s:receive(5))
    assert.equal(4, s:send("bye\n"))
    assert.equal("", s:receive("*a"))
    assert.same({ nil, "closed", "" }, { s:receive() }) -- and closes it
    assert.same({ nil, "closed" }, { s:receive() })
    assert.same({ nil, "closed" }, { s:close() })
    assert.error(function() s:send(print) end, "bad argument #1 to 'send' (string, number, boolean or table expected, got function)")
    assert.error(function() s:receive("*x") end, "bad argument #1 to 'receive' (bad pattern argument)")
    stats.server:close()
  end)

  it("ignores every CR of a line, and returns partial data on close", function()
    local p = send_once("a\rb\r\nrest")
    local s = ngx.socket.tcp()
    assert(s:connect("127.0.0.1", p))
    assert.equal("ab", s:receive("*l"))
    assert.same({ nil, "closed", "rest" }, { s:receive(10) })
    assert.same({ nil, "closed" }, { s:getreusedtimes() })
  end)

  it("reads until a pattern, whole or in pieces, inclusive or not", function()
    local stream = "hello, world! -agentzh\r\n--abcedhb blah blah"
    local p = send_once({ stream:sub(1, 9), stream:sub(10, 30), stream:sub(31) }, 0.01)
    local s = ngx.socket.tcp()
    assert(s:connect("127.0.0.1", p))
    local reader = s:receiveuntil("\r\n--abcedhb")
    local chunks = {}
    while true do
      local data, err = reader(4)
      if not data then
        assert.equal(nil, err)
        break
      end
      chunks[#chunks + 1] = data
    end
    assert.same({ "hell", "o, w", "orld", "! -a", "gent", "zh" }, chunks)
    -- the bytes after the pattern are kept for the other calls
    assert.equal(" blah", s:receive(5))
    local space = s:receiveuntil(" ", { inclusive = true })
    assert.equal(" ", space())
    assert.equal("bla", s:receiveany(3))
    assert.same({ nil, "closed", "h" }, { space() })
  end)

  it("returns the data before the pattern in one piece", function()
    local p = send_once("key: value\r\n\r\nbody")
    local s = ngx.socket.tcp()
    assert(s:connect("127.0.0.1", p))
    assert.equal("key: value", s:receiveuntil("\r\n\r\n")())
    assert.equal("bo", s:receive(2))
    assert.same({ nil, "closed", "dy" }, { s:receiveuntil("--end")() })
  end)

  it("times out a read without closing, and settimeouts sets each", function()
    local p, stats = pong_server()
    local s = ngx.socket.tcp()
    s:settimeouts(1000, 1000, 50)
    assert(s:connect("127.0.0.1", p))
    local t0 = sys.monotonic()
    assert.same({ nil, "timeout", "" }, { s:receive() })
    assert.truthy(sys.monotonic() - t0 < 0.5)
    s:settimeout(2000)
    s:send("ping\n")
    assert.equal("pong", s:receive())
    assert.error(function() s:settimeout(-1) end, "bad timeout value")
    s:close()
    stats.server:close()
  end)

  it("reuses pooled connections, and counts the reuses", function()
    local p, stats = pong_server()
    for i = 1, 50 do
      local s = ngx.socket.tcp()
      assert(s:connect("127.0.0.1", p))
      assert.equal(i - 1, s:getreusedtimes())
      s:send("ping\n")
      assert.equal("pong", s:receive())
      assert.equal(1, s:setkeepalive(10000, 5))
      assert.same({ nil, "closed" }, { s:send("ping\n") })
    end
    assert.equal(1, stats.accepted)
    stats.server:close()
  end)

  it("refuses a connection with unread bytes", function()
    local p, stats = pong_server()
    local s = ngx.socket.tcp()
    assert(s:connect("127.0.0.1", p, { pool = "dubious" }))
    s:send("junk\n")
    assert.equal("pong", s:receive())
    timer.sleep(0.05)
    assert.same({ nil, "connection in dubious state" }, { s:setkeepalive() })
    assert(s:connect("127.0.0.1", p, { pool = "dubious" }))
    assert.equal(0, s:getreusedtimes())
    s:close()
    stats.server:close()
  end)

  it("drops pooled connections idle too long, closed by the peer, or past the size", function()
    local p, stats = pong_server()
    local function get(opts) -- a round trip: the server has counted it
      local s = ngx.socket.tcp()
      assert(s:connect("127.0.0.1", p, opts))
      s:send("ping\n")
      assert.equal("pong", s:receive())
      return s
    end
    -- max idle time
    local s = get()
    assert(s:setkeepalive(50))
    timer.sleep(0.1)
    s = get()
    assert.equal(0, s:getreusedtimes())
    assert.equal(2, stats.accepted)
    -- the peer closes an idle connection: not handed out again
    assert(s:setkeepalive(0))
    stats.conns[2]:close()
    timer.sleep(0.05)
    s = get()
    assert.equal(0, s:getreusedtimes())
    s:close()
    -- pool size 2: of three kept, the least recently used goes
    local a, b, c = get({ pool_size = 2 }), get({ pool_size = 2 }), get({ pool_size = 2 })
    assert(a:setkeepalive(0)); assert(b:setkeepalive(0)); assert(c:setkeepalive(0))
    local accepted = stats.accepted
    local x, y, z = get(), get(), get()
    assert.same({ 1, 1, 0 }, { x:getreusedtimes(), y:getreusedtimes(), z:getreusedtimes() })
    assert.equal(accepted + 1, stats.accepted)
    x:close(); y:close(); z:close()
    stats.server:close()
  end)

  it("fails sslhandshake with a server that does not speak TLS, and closes", function()
    local p, stats = pong_server()
    local s = ngx.socket.tcp()
    s:settimeout(5000)
    assert(s:connect("127.0.0.1", p))
    local ok, err = s:sslhandshake()
    assert.equal(nil, ok)
    assert.truthy(err:find("handshake failed", 1, true), err)
    assert.same({ nil, "closed" }, { s:send("x") })
    stats.server:close()
  end)

  it("refuses connections nobody listens to", function()
    local s = ngx.socket.tcp()
    assert.same({ nil, "connection refused" }, { s:connect("127.0.0.1", port()) })
    assert.same({ nil, "unix domain sockets are not supported" },
      { s:connect("unix:/tmp/x.sock") })
  end)
end)

describe("ngx", function()
  it("is a global with null, clocks and sleep", function()
    assert.equal(ngx, _G.ngx)
    assert.equal(require("json").null, ngx.null)
    assert.equal("userdata", type(ngx.null))
    assert.truthy(math.abs(ngx.now() - sys.time()) < 1)
    assert.equal(math.type(ngx.time()), "integer")
    ngx.update_time()
    local t0 = ngx.now()
    ngx.sleep(0.05)
    assert.truthy(ngx.now() - t0 >= 0.04)
    assert.equal(1, ngx.worker.pid())
    assert.matches("^%d%d%d%d%-%d%d%-%d%d$", ngx.today())
  end)

  it("runs timers with premature false and their arguments", function()
    local got = task.channel(1)
    assert.equal(true, ngx.timer.at(0.01, function(premature, a, b)
      got:send({ premature, a, b })
    end, "x", 2))
    assert.same({ false, "x", 2 }, got:receive(5))
    assert.error(function() ngx.timer.at(-1, print) end, "bad argument #1 to 'at' (bad delay)")
  end)

  it("waits for the first of several threads", function()
    local slow = ngx.thread.spawn(function() ngx.sleep(0.3); return "slow" end)
    local fast = ngx.thread.spawn(function() ngx.sleep(0.01); return "fast", 2 end)
    assert.same({ true, "fast", 2 }, { ngx.thread.wait(slow, fast) })
    assert.same({ true, "slow" }, { ngx.thread.wait(slow) })
    local bad = ngx.thread.spawn(function() error("oops", 0) end)
    assert.same({ false, "oops" }, { ngx.thread.wait(bad) })
  end)

  it("logs with nginx's levels", function()
    assert.equal(4, ngx.ERR)
    assert.equal(8, ngx.DEBUG)
    ngx.log(ngx.ERR, "an error line from ngx_spec: ", 42, " ", nil, " ", ngx.null)
    ngx.log(ngx.DEBUG, "not shown at the default level")
    assert.error(function() ngx.log(99, "x") end, "bad argument #1 to 'log' (bad log level)")
  end)

  it("codes base64", function()
    assert.equal("Zm9vYg==", ngx.encode_base64("foob"))
    assert.equal("Zm9vYg", ngx.encode_base64("foob", true))
    assert.equal("foob", ngx.decode_base64("Zm9vYg"))
  end)
end)

describe("compat51", function()
  it("has unpack, loadstring and table.getn", function()
    assert.same({ 1, 2 }, { unpack({ 1, 2 }) })
    assert.equal(3, loadstring("return 3")())
    assert.equal(2, table.getn({ 1, 2 }))
    assert.equal(10, table.maxn({ [10] = 1, 2 }))
  end)

  it("sets and gets the environment of Lua functions", function()
    local function f() return x_global_of_f end
    assert.equal(_ENV, getfenv(f)) -- a spec file's environment
    setfenv(f, { x_global_of_f = "mine" })
    assert.equal("mine", f())
    assert.equal(nil, x_global_of_f)
    assert.equal("mine", getfenv(f).x_global_of_f)
    local function g()
      setfenv(1, { tostring = tostring, marker = "g's" })
      return marker
    end
    assert.equal("g's", g())
    assert.error(function() setfenv(print, {}) end, "'setfenv' cannot change the environment of a C function")
    assert.error(function() setfenv(0, {}) end, "setfenv(0): a thread's environment does not exist in Lua 5.4")
  end)
end)
