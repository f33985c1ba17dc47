-- The raw network seam against QEMU user networking (tests/system/
-- suite_devices.py): what=basic (MAC, ARP and ICMP with the gateway,
-- size refusals, a burst of echoes), what=flood (a transmit burst),
-- what=fwd (port forwards seen from inside), what=none (no device).
local d = require "devtest"
local sys = require "sys"
local F = require "frames"

local what = sys.args.what or "basic"

local function check(cond, msg)
  if not cond then print("FAILED: " .. msg); sys.exit(1) end
end

-- Receives until want(frame) says yes, answering ARP for our address;
-- returns the parsed frame, or nil on timeout.
local mymac
local function await(want, timeout)
  local deadline = sys.monotonic() + (timeout or 10)
  while true do
    local left = deadline - sys.monotonic()
    if left <= 0 then return nil end
    local f, err = d.net_recv(0, left)
    if not f then check(err == "timeout", "recv: " .. tostring(err)); return nil end
    local p = F.parse(f)
    if p and p.arp and p.arp.op == 1 and p.arp.tpa == F.GUEST then
      d.net_send(0, F.ether(p.src, mymac, 0x0806,
        F.arp(2, mymac, F.GUEST, p.arp.sha, p.arp.spa)), true)
    end
    if p and want(p) then return p end
  end
end

local function arp_gateway()
  check(d.net_send(0, F.ether(F.BROADCAST, mymac, 0x0806,
    F.arp(1, mymac, F.GUEST, string.rep("\0", 6), F.GATEWAY))), "send arp")
  local p = await(function(p) return p.arp and p.arp.op == 2 and p.arp.spa == F.GATEWAY end)
  check(p, "no ARP reply from 10.0.2.2")
  return p.arp.sha
end

if what == "none" then
  print("net_info: " .. tostring(select(2, d.net_info(0))))
  print("send: " .. tostring(select(2, d.net_send(0, string.rep("x", 60)))))
  print("recv: " .. tostring(select(2, d.net_recv(0, 0))))
  return
end

local mac, mtu = d.net_info(0)
check(mac, "net_info: " .. tostring(mtu))
mymac = F.mac_bytes(mac)
print("mac " .. mac .. " mtu " .. mtu)
print("second device: " .. tostring(select(2, d.net_info(1))))

-- How long the exchanges take: a receive path that missed a wake-up
-- would still get its frame, but only when its wait timed out.
local slowest = 0
local function timed(fn, ...)
  local t0 = sys.monotonic()
  local r = fn(...)
  slowest = math.max(slowest, sys.monotonic() - t0)
  return r
end

local gwmac = timed(arp_gateway)
print("arp reply: 10.0.2.2 is at " .. F.mac_text(gwmac))

if what == "basic" then
  -- One echo, then a burst of 64 sent before any reply is read: every
  -- reply must arrive, which needs each halt to be woken.
  local function echo(seq)
    local ip = F.ipv4(1, F.GUEST, F.GATEWAY, F.icmp_echo(0x4c4b, seq, "lunik ping " .. seq), seq)
    check(d.net_send(0, F.ether(gwmac, mymac, 0x0800, ip), true), "send echo")
  end
  local function reply(p) return p.ip and p.ip.proto == 1 and p.ip.payload:byte(1) == 0 end
  local p = timed(function() echo(1); return await(reply) end)
  check(p, "no ICMP echo reply")
  print("icmp reply from " .. F.ip_text(p.ip.src) .. ": " .. p.ip.payload:sub(9))
  local n = timed(function()
    for seq = 100, 163 do echo(seq) end
    local seen, n = {}, 0
    while n < 64 do
      p = await(reply, 10)
      if not p then break end
      local seq = string.unpack(">I2", p.ip.payload, 7)
      if not seen[seq] then seen[seq] = true; n = n + 1 end
    end
    return n
  end)
  print("burst replies: " .. n .. "/64")
  print(string.format("slowest exchange: %d ms", math.ceil(slowest * 1000)))
  -- Refusals: a frame over mtu + 14, and a receive buffer too small.
  print("oversize send: " .. tostring(select(2, d.net_send(0, string.rep("x", mtu + 15)))))
  check(d.net_send(0, F.ether(F.BROADCAST, mymac, 0x0806,
    F.arp(1, mymac, F.GUEST, string.rep("\0", 6), F.GATEWAY))), "send arp")
  print("small buffer: " .. tostring(select(2, d.net_recv(0, 10, 20))))
  -- The reply too big for that buffer is gone, not still waiting.
  local again = await(function(p) return p.arp and p.arp.op == 2 end, 0.3)
  print("after the drop: " .. (again and "the reply again" or "gone"))
elseif what == "flood" then
  -- 2000 full-size frames of a local experimental ethertype, which
  -- QEMU's user networking drops: the transmit ring must fill, report
  -- EAGAIN, wake us when room appears, and lose nothing on our side.
  local frame = F.ether(F.BROADCAST, mymac, 0x88b5, string.rep("z", mtu))
  local sent, eagains, t0 = 0, 0, sys.monotonic()
  for _ = 1, 2000 do
    local ok, n = d.net_send(0, frame, true)
    check(ok, "flood send: " .. tostring(n))
    sent, eagains = sent + 1, eagains + n
  end
  print("flood sent " .. sent .. " eagain " .. eagains)
  -- Each EAGAIN waits up to 10 s: a missed wake-up shows here.
  print(string.format("flood took %d ms", math.ceil((sys.monotonic() - t0) * 1000)))
  -- The ring still works afterwards.
  check(arp_gateway() == gwmac, "ARP after the flood")
  print("arp after flood: ok")
elseif what == "fwd" then
  -- The host connects to the TCP forward and then sends five datagrams
  -- to the UDP one, 100 ms apart, while we sit halted in between: each
  -- must wake us (a missed wake-up shows as a wait to the deadline).
  local tcp, udp = tonumber(sys.args.tcp), tonumber(sys.args.udp)
  -- No net.listen here (we take the SYN ourselves), so we say what it
  -- would: `lunik run` passes the -p connections on once it reads this.
  print("lunik: listening on tcp port " .. tcp)
  print("ready")
  local t0 = sys.monotonic()
  local got_syn, datagrams = false, {}
  local p = await(function(p)
    local ip = p.ip
    if ip and ip.dst == F.GUEST and ip.proto == 6 then
      local dport, _, _, flags = string.unpack(">I2I4I4I2", ip.payload, 3)
      if dport == tcp and flags & 0x02 ~= 0 and not got_syn then
        got_syn = true
        print("tcp syn to port " .. dport)
      end
    elseif ip and ip.dst == F.GUEST and ip.proto == 17 then
      local dport, len = string.unpack(">I2I2", ip.payload, 3)
      local data = ip.payload:sub(9, len)
      if dport == udp and not datagrams[data] then
        datagrams[data] = true
        datagrams[#datagrams + 1] = data
        print("udp to port " .. dport .. ": " .. data)
      end
    end
    return got_syn and #datagrams == 5
  end, 30)
  check(p, "did not see both forwards")
  print(string.format("forwards seen in %d ms", math.ceil((sys.monotonic() - t0) * 1000)))
end
print("done")
