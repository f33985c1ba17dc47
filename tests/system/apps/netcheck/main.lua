-- netcheck: the guest side of tests/system/suite_net.py. what= picks:
--   info                 print net.info() and exit
--   connect host= port=  connect out, send "hello\n", print the answer
--   resolve name=        print net.resolve(name)
--   errors refused_port= refuse and time out, then serve echo on 7000
--   serve                an echo server on 7000 (TCP), for ping tests
local net = require "net"
local sys = require "sys"
local task = require "task"

local a = sys.args
local what = a.what or "info"

local function echo_server()
  local srv = assert(net.listen("*", 7000))
  print("serving on 7000")
  while true do
    local c = srv:accept()
    if c then
      task.spawn(function()
        while true do
          local d = c:receiveany(65536)
          if not d or not c:send(d) then break end
        end
        c:close()
      end)
    end
  end
end

if what == "info" then
  local i = net.info()
  print(string.format("config=%s ip=%s netmask=%s gateway=%s dns=%s mac=%s",
    i.config, i.ip, i.netmask, i.gateway, table.concat(i.dns or {}, ","), i.mac))
elseif what == "connect" then
  local c, err = net.connect(a.host, tonumber(a.port), 10)
  if not c then print("connect failed: " .. err) sys.exit(1) end
  c:settimeout(10)
  c:send("hello from the guest\n")
  print("answer: " .. tostring(c:receive()))
  c:close()
elseif what == "resolve" then
  local addrs, err = net.resolve(a.name, 5)
  print("resolved: " .. (addrs and table.concat(addrs, ",") or ("nil " .. err)))
  local again = net.resolve(a.name, 5)
  print("again: " .. (again and again[1] or "nil"))
  print("missing: " .. table.concat({ tostring(net.resolve("nowhere.test", 5)), select(2, net.resolve("nowhere.test", 5)) }, " "))
elseif what == "errors" then
  print("refused: " .. table.concat({ tostring(net.connect("10.0.2.2", tonumber(a.refused_port))) }, " "),
    select(2, net.connect("10.0.2.2", tonumber(a.refused_port))))
  local t0 = sys.monotonic()
  local c, err = net.connect("10.0.2.99", 80, 0.5)
  print(string.format("unanswered: %s %s after %.1f s", tostring(c), err, sys.monotonic() - t0))
  echo_server()
elseif what == "serve" then
  echo_server()
end
