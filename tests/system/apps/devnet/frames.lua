-- Ethernet, ARP, IPv4, ICMP and UDP frames as strings, for driving the
-- raw network seam (devtest) against QEMU user networking, whose
-- gateway is 10.0.2.2 and which gives the guest 10.0.2.15.
local M = {}

M.GUEST = "\10\0\2\15"
M.GATEWAY = "\10\0\2\2"
M.BROADCAST = "\255\255\255\255\255\255"

function M.mac_bytes(text)
  return (text:gsub("(%x%x):?", function(h) return string.char(tonumber(h, 16)) end))
end

function M.mac_text(bytes)
  return (bytes:gsub(".", function(c) return string.format("%02x:", c:byte()) end):sub(1, -2))
end

function M.ip_text(bytes)
  return table.concat({ bytes:byte(1, 4) }, ".")
end

-- RFC 1071 checksum of s.
function M.checksum(s)
  if #s % 2 == 1 then s = s .. "\0" end
  local sum = 0
  for i = 1, #s, 2 do sum = sum + (s:byte(i) << 8) + s:byte(i + 1) end
  while sum > 0xffff do sum = (sum & 0xffff) + (sum >> 16) end
  return ~sum & 0xffff
end

function M.ether(dst, src, ethertype, payload)
  return dst .. src .. string.pack(">I2", ethertype) .. payload
end

-- An ARP packet (RFC 826) for IPv4 over Ethernet.
function M.arp(op, sha, spa, tha, tpa)
  return string.pack(">I2I2I1I1I2", 1, 0x0800, 6, 4, op) .. sha .. spa .. tha .. tpa
end

function M.ipv4(proto, src, dst, payload, id)
  local h = string.pack(">I1I1I2I2I2I1I1I2", 0x45, 0, 20 + #payload, id or 1, 0, 64, proto, 0) .. src .. dst
  return h:sub(1, 10) .. string.pack(">I2", M.checksum(h)) .. h:sub(13) .. payload
end

function M.icmp_echo(id, seq, data)
  local m = string.pack(">I1I1I2I2I2", 8, 0, 0, id, seq) .. data
  return m:sub(1, 2) .. string.pack(">I2", M.checksum(m)) .. m:sub(5)
end

-- Parses a frame: a table with ethertype, src, dst and, by kind, arp =
-- {op, sha, spa, tpa}, ip = {proto, src, dst, payload}.
function M.parse(f)
  if #f < 14 then return nil end
  local p = { dst = f:sub(1, 6), src = f:sub(7, 12), ethertype = string.unpack(">I2", f, 13) }
  local body = f:sub(15)
  if p.ethertype == 0x0806 and #body >= 28 then
    p.arp = { op = string.unpack(">I2", body, 7), sha = body:sub(9, 14),
              spa = body:sub(15, 18), tpa = body:sub(25, 28) }
  elseif p.ethertype == 0x0800 and #body >= 20 then
    local ihl = (body:byte(1) & 15) * 4
    local total = string.unpack(">I2", body, 3)
    p.ip = { proto = body:byte(10), src = body:sub(13, 16), dst = body:sub(17, 20),
             payload = body:sub(ihl + 1, total) }
  end
  return p
end

return M
