-- TCP and UDP over the guest's loopback: client and server tasks in one
-- image.
local net = require "net"
local sys = require "sys"
local task = require "task"

local next_port = 7100
local function port() next_port = next_port + 1; return next_port end

-- A server task on a fresh port running handler(conn) for one connection;
-- returns the port and the task.
local function serve_once(handler)
  local p = port()
  local srv = assert(net.listen("127.0.0.1", p))
  local t = task.spawn(function()
    local c = assert(srv:accept(5))
    srv:close()
    local r = { handler(c) }
    c:close()
    return table.unpack(r)
  end)
  return p, t
end

describe("net tcp", function()
  it("echoes lines, stripping CR LF", function()
    local p = serve_once(function(c)
      while true do
        local line = c:receive("*l")
        if not line then return end
        assert(c:send(line .. "!\n"))
      end
    end)
    local c = assert(net.connect("127.0.0.1", p))
    c:send("one\r\ntwo\n")
    assert.equal("one!", c:receive())
    assert.equal("two!", c:receive("l"))
    c:close()
  end)

  it("receives byte counts, with a prefix, and everything until close", function()
    local p = serve_once(function(c)
      c:send("abcdefghij")
      c:send("tail")
    end)
    local c = assert(net.connect("localhost", p))
    assert.equal("abc", c:receive(3))
    assert.equal(">>defg", c:receive(4, ">>"))
    assert.equal("", c:receive(0))
    assert.equal("hijtail", c:receive("*a"))
    c:close()
  end)

  it("returns nil, closed and the partial data when the peer closes early", function()
    local p = serve_once(function(c) c:send("par") end)
    local c = assert(net.connect("127.0.0.1", p))
    local data, err, partial = c:receive(10)
    assert.same({ nil, "closed", "par" }, { data, err, partial })
    c:close()
  end)

  it("times out a receive and keeps the partial line", function()
    local release = task.channel(1)
    local p = serve_once(function(c)
      c:send("no newline yet")
      release:receive(5)
    end)
    local c = assert(net.connect("127.0.0.1", p))
    c:settimeout(0.05)
    local t0 = sys.monotonic()
    local data, err, partial = c:receive()
    assert.same({ nil, "timeout", "no newline yet" }, { data, err, partial })
    assert.truthy(sys.monotonic() - t0 < 1)
    release:send(true)
    c:close()
  end)

  it("receiveany returns what has arrived, up to max", function()
    local p = serve_once(function(c) c:send("0123456789") end)
    local c = assert(net.connect("127.0.0.1", p))
    local got = {}
    while true do
      local d, err = c:receiveany(4)
      if not d then assert.equal("closed", err) break end
      assert.truthy(#d <= 4)
      got[#got + 1] = d
    end
    assert.equal("0123456789", table.concat(got))
  end)

  it("sends 10 MiB in one call, with backpressure, intact", function()
    local size = 10 * 1024 * 1024
    local p, t = serve_once(function(c)
      local n, sum = 0, 0
      while true do
        local d = c:receiveany(65536)
        if not d then break end
        n = n + #d
        sum = (sum + d:byte(1) + d:byte(-1)) % 1000000007
      end
      return n
    end)
    local c = assert(net.connect("127.0.0.1", p))
    local chunk = string.rep("0123456789abcdef", 65536) -- 1 MiB
    local data = string.rep(chunk, 10)
    assert.equal(size, #data)
    assert.equal(size, c:send(data))
    c:close()
    assert.same({ true, size }, { t:join(30) })
  end)

  it("sends a slice with i and j", function()
    local p, t = serve_once(function(c) return c:receive("*a") end)
    local c = assert(net.connect("127.0.0.1", p))
    assert.equal(4, c:send("xabcdx", 2, 4))
    assert.equal(6, c:send("xabcdx", -2))
    c:close()
    assert.same({ true, "abcdx" }, { t:join(5) })
  end)

  it("reports a close from this side to a blocked reader and to later calls", function()
    local p = serve_once(function(c) c:receive("*a") end)
    local c = assert(net.connect("127.0.0.1", p))
    local reader = task.spawn(function() return c:receive() end)
    task.yield()
    c:close()
    local ok, data, err = reader:join(5)
    assert.same({ true, nil, "closed" }, { ok, data, err })
    assert.same({ nil, "closed", "" }, { c:receive() })
    assert.equal("closed", select(2, c:send("x")))
    assert.equal(1, c:close()) -- idempotent
  end)

  it("shuts down the sending side only", function()
    local p, t = serve_once(function(c)
      local all = c:receive("*a")
      c:send("got " .. #all)
    end)
    local c = assert(net.connect("127.0.0.1", p))
    c:send("12345")
    assert.truthy(c:shutdown("send"))
    assert.equal("got 5", c:receive("*a"))
    c:close()
  end)

  it("names both ends", function()
    local p = serve_once(function(c)
      local ip, rport = c:getpeername()
      c:send(ip .. " " .. rport .. "\n")
    end)
    local c = assert(net.connect("127.0.0.1", p))
    local ip, lport = c:getsockname()
    assert.equal("127.0.0.1", ip)
    assert.equal("127.0.0.1 " .. lport, c:receive())
    assert.same({ "127.0.0.1", p }, { c:getpeername() })
    assert.truthy(c:setoption("tcp-nodelay", true))
    assert.truthy(c:setoption("keepalive", true))
    c:close()
  end)

  it("refuses a connection to a closed port", function()
    assert.same({ nil, "connection refused" }, { net.connect("127.0.0.1", port()) })
  end)

  it("says address in use for a second listener on a port", function()
    local p = port()
    local a = assert(net.listen("127.0.0.1", p))
    assert.same({ nil, "address in use" }, { net.listen("127.0.0.1", p) })
    a:close()
    local b = assert(net.listen("127.0.0.1", p))
    b:close()
  end)

  it("times out an accept and fails it after close", function()
    local srv = assert(net.listen("*", port()))
    assert.same({ nil, "timeout" }, { srv:accept(0.02) })
    srv:close()
    assert.same({ nil, "closed" }, { srv:accept() })
  end)

  it("serves a hundred concurrent clients, a task each", function()
    local p = port()
    local srv = assert(net.listen("127.0.0.1", p))
    local server = task.spawn(function()
      for _ = 1, 100 do
        local c = assert(srv:accept(10))
        task.spawn(function()
          local n = c:receive("*l")
          c:send(tostring(tonumber(n) * 2) .. "\n")
          c:close()
        end)
      end
      srv:close()
    end)
    local clients = {}
    for i = 1, 100 do
      clients[i] = task.spawn(function()
        local c = assert(net.connect("127.0.0.1", p))
        c:send(i .. "\n")
        local r = c:receive()
        c:close()
        return tonumber(r)
      end)
    end
    for i = 1, 100 do assert.same({ true, 2 * i }, { clients[i]:join(20) }) end
    assert.truthy(server:join(20))
  end)

  it("misuse raises", function()
    assert.error(function() net.connect("127.0.0.1", 70000) end, "bad argument #2 to 'connect' (port must be 0..65535)")
    assert.error(function() net.listen("not an address", 80) end, "bad argument #1 to 'listen' (expected an IPv4 address, \"*\" or \"localhost\")")
    local p = serve_once(function() end)
    local c = assert(net.connect("127.0.0.1", p))
    assert.error(function() c:receive("*x") end, "bad argument #1 to 'receive' (pattern must be \"*l\", \"*a\" or a byte count)")
    assert.error(function() c:receive(-1) end, "bad argument #1 to 'receive' (byte count must be a non-negative integer)")
    c:close()
  end)
end)

describe("net udp", function()
  it("sends and receives datagrams with their sender", function()
    local p = port()
    local a = assert(net.udp("127.0.0.1", p))
    local b = assert(net.udp())
    assert.truthy(b:sendto("ping", "127.0.0.1", p))
    local data, ip, rport = a:receivefrom()
    assert.equal("ping", data)
    assert.equal("127.0.0.1", ip)
    assert.truthy(a:sendto("pong", ip, rport))
    assert.equal("pong", (b:receivefrom()))
    a:close(); b:close()
  end)

  it("truncates to the size asked and times out", function()
    local p = port()
    local a = assert(net.udp("127.0.0.1", p))
    a:settimeout(0.02)
    assert.same({ nil, "timeout" }, { a:receivefrom() })
    local b = assert(net.udp())
    b:sendto("0123456789", "127.0.0.1", p)
    assert.equal("0123", (a:receivefrom(4)))
    a:close(); b:close()
    assert.same({ nil, "closed" }, { a:receivefrom() })
  end)

  it("talks to a peer set by setpeername", function()
    local p = port()
    local a = assert(net.udp("127.0.0.1", p))
    local b = assert(net.udp())
    assert.same({ nil, "not connected: use setpeername or sendto" }, { b:send("x") })
    assert.truthy(b:setpeername("127.0.0.1", p))
    assert.truthy(b:send("hello"))
    assert.equal("hello", a:receive())
    a:close(); b:close()
  end)

  it("wakes a blocked receiver from another task", function()
    local p = port()
    local a = assert(net.udp("127.0.0.1", p))
    local t = task.spawn(function() return a:receivefrom() end)
    task.yield()
    net.udp():sendto("late", "127.0.0.1", p)
    local ok, data = t:join(5)
    assert.equal("late", data)
    a:close()
  end)
end)

describe("net names", function()
  it("resolves localhost and numeric addresses at once", function()
    assert.same({ "127.0.0.1" }, net.resolve("localhost"))
    assert.same({ "10.1.2.3" }, net.resolve("10.1.2.3"))
  end)

  it("reports the interface", function()
    local info = net.info()
    assert.truthy(info.config == "none" or info.config == "dhcp" or info.config == "static")
  end)
end)

describe("net tcp windows", function()
  it("receives a count far larger than the TCP window in one call", function()
    local size = 3 * 1024 * 1024
    local p = port()
    local srv = assert(net.listen("127.0.0.1", p))
    local sender = task.spawn(function()
      local c = assert(srv:accept(5))
      srv:close()
      local sent = c:send(string.rep("w", size))
      c:close()
      return sent
    end)
    local c = assert(net.connect("127.0.0.1", p))
    c:settimeout(20)
    local data, err = c:receive(size)
    assert.equal(nil, err)
    assert.equal(size, #data)
    assert.same({ true, size }, { sender:join(20) })
    c:close()
  end)

  it("holds a slow reader's sender back instead of buffering without end", function()
    local p = port()
    local srv = assert(net.listen("127.0.0.1", p))
    local progress = 0
    local sender = task.spawn(function()
      local c = assert(srv:accept(5))
      srv:close()
      c:settimeout(0.3)
      local chunk = string.rep("s", 65536)
      for _ = 1, 64 do
        local ok = c:send(chunk)
        if not ok then break end
        progress = progress + 1
      end
      c:close()
    end)
    local c = assert(net.connect("127.0.0.1", p))
    sender:join(10)
    -- nothing was read: the sender got at most a few windows out
    assert.truthy(progress < 8, "sent " .. progress .. " chunks to a reader that never read")
    c:close()
  end)
end)

describe("net ownership", function()
  it("closes what a failed task owned, and not what it handed on", function()
    local p = port()
    local srv = assert(net.listen("127.0.0.1", p))
    local kept, dropped
    local t = task.spawn(function()
      local a = assert(net.connect("127.0.0.1", p))
      local b = assert(net.connect("127.0.0.1", p))
      kept, dropped = a, b
      -- a goes to another task, which uses it; b stays here
      local user = task.spawn(function() a:settimeout(0); a:receive(1) end)
      user:join()
      error("the task fails", 0)
    end)
    assert.same({ nil, "the task fails" }, { t:join(5) })
    local s1, s2 = srv:accept(5), srv:accept(5)
    srv:close()
    assert.same({ nil, "closed", "" }, { dropped:receive(1) })
    assert.truthy(tostring(kept):find("127.0.0.1", 1, true), tostring(kept))
    kept:close(); s1:close(); s2:close()
  end)
end)

describe("net over the loopback, both ways at once", function()
  it("times out two peers that send without reading, without spinning", function()
    local p = port()
    local srv = assert(net.listen("127.0.0.1", p))
    local a
    local t1 = task.spawn(function()
      a = assert(srv:accept(5))
      a:settimeout(0.5)
      return a:send(string.rep("a", 1 << 20))
    end)
    local b = assert(net.connect("127.0.0.1", p))
    b:settimeout(0.5)
    local before = net.stats().loop_packets
    local t2 = task.spawn(function() return b:send(string.rep("b", 1 << 20)) end)
    local _, n1, e1 = t1:join(10)
    local _, n2, e2 = t2:join(10)
    assert.equal("timeout", e1)
    assert.equal("timeout", e2)
    -- a few windows of data and their ACKs, not an ACK storm
    local packets = net.stats().loop_packets - before
    assert.truthy(packets < 5000, packets .. " packets")
    a:close(); b:close(); srv:close()
  end)

  it("moves 1 MiB each way at once when both read", function()
    local p = port()
    local srv = assert(net.listen("127.0.0.1", p))
    local size = 1 << 20
    local function pump(c, byte)
      local reader = task.spawn(function() return #assert(c:receive(size)) end)
      assert(c:send(string.rep(byte, size)))
      return reader:join(20)
    end
    local t1 = task.spawn(function()
      local c = assert(srv:accept(5)); c:settimeout(20)
      return select(2, pump(c, "a"))
    end)
    local c = assert(net.connect("127.0.0.1", p)); c:settimeout(20)
    assert.same({ true, size }, { pump(c, "b") })
    assert.same({ true, size }, { t1:join(20) })
    c:close(); srv:close()
  end)
end)
