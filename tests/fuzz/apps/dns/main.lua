-- The app of stack_dns.c: a DNS server task on 127.0.0.1:53 that answers
-- each query with the current fuzz input, the query's id and question laid
-- over it (names have one length, so the seeds' structure holds), and a
-- loop resolving a fresh name per input through lwIP's resolver.
local fuzz = require "fuzz"
local net = require "net"
local task = require "task"

local server = assert(net.udp("127.0.0.1", 53))
local reply
task.spawn(function()
  while true do
    local q, ip, port = server:receivefrom()
    if q and reply and #q >= 12 then
      local question = q:sub(13)
      server:sendto(q:sub(1, 2) .. reply:sub(3, 12) .. question ..
                    reply:sub(13 + #question), ip, port)
    end
  end
end)

local i = 0
while true do
  reply = fuzz.next()
  i = i + 1
  net.resolve(("n%08d.fuzz.test"):format(i), 0.05)
  reply = nil
  fuzz.done()
end
