-- echo: a TCP echo server and a UDP echo server, one task per TCP
-- connection. The smallest useful network service.
--
--   lunik run examples/echo -p 7000:7000 -p 7000:7000/udp
--   then: nc 127.0.0.1 7000            (type lines; they come back)
--         nc -u 127.0.0.1 7000
--
-- Boot arguments: port= (default 7000).
local net = require "net"
local sys = require "sys"
local task = require "task"

local port = tonumber(sys.args.port) or 7000

local function serve(conn)
  conn:settimeout(300) -- idle connections are dropped after 5 minutes
  while true do
    local data, err = conn:receiveany(65536)
    if not data then break end
    local ok = conn:send(data)
    if not ok then break end
  end
  conn:close()
end

local tcp = assert(net.listen("*", port))
task.spawn(function()
  while true do
    local conn = tcp:accept()
    if conn then task.spawn(serve, conn) end
  end
end)

local udp = assert(net.udp("*", port))
task.spawn(function()
  while true do
    local data, ip, rport = udp:receivefrom()
    if data then udp:sendto(data, ip, rport) end
  end
end)

local info = net.info()
print(string.format("echo: tcp and udp port %d on %s (%s)", port,
  info.ip or "no interface", info.config))
