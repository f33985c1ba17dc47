-- fuzz_tcp: the client side of the TCP targets (stack_http, stack_tls),
-- bundled into their apps from this folder (tests/run.py's --lua-path):
-- each fuzz input is sent raw on a new connection to 127.0.0.1:port over
-- lwIP's loopback, the sending side is shut, and the answer is read to
-- the end before libFuzzer gets control back. reset(), if given, runs
-- before each input, so every one starts from the same state.
local fuzz = require "fuzz"
local net = require "net"

local M = {}

function M.run(port, reset)
  while true do
    local input = fuzz.next()
    if reset then reset() end
    local c = net.connect("127.0.0.1", port, 2)
    if c then
      c:settimeout(2)
      c:send(input)
      c:shutdown("send")
      repeat local data = c:receiveany(65536) until not data
      c:close()
    end
    fuzz.done()
  end
end

return M
