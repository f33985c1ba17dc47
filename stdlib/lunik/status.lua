-- lunik.status: the console status line of `lunik run --status [SECONDS]`
-- (the boot argument lunik.status=SECONDS), for people without
-- Prometheus. Every SECONDS, one line:
--
--   status: up 65s, cpu 41% (12.043s), 1204.5 req/s (78290 requests),
--   12 connections, heap 3.1/123.4 MiB, 14 tasks
--
-- cpu: the share of the last SECONDS the CPU worked (was not halted
-- waiting), and its total since boot (sys.cpu()).
--
-- Runs as a daemon task (it does not keep the machine running), started
-- by the runtime before main.lua.

local sys = require "sys"
local task = require "task"
local timer = require "timer"

local MiB = 1024 * 1024

return function(arg)
  local every = tonumber(arg)
  if not every or every < 0.1 or every > 86400 then
    io.stderr:write("lunik: lunik.status=", tostring(arg),
      " is not a number of seconds from 0.1 to 86400: no status line\n")
    return
  end
  local last_n, last_t, last_cpu = 0, sys.monotonic(), sys.cpu()
  while true do
    timer.sleep(every)
    local server = package.loaded["http.server"]
    local n, conns = 0, 0
    if server then n, conns = server.totals.requests, server.open_connections() end
    local now, cpu = sys.monotonic(), sys.cpu()
    local m = sys.mem()
    print(string.format("status: up %ds, cpu %d%% (%.3fs), %.1f req/s (%d requests), " ..
      "%d connections, heap %.1f/%.1f MiB, %d tasks", math.floor(now),
      math.floor(100 * (cpu - last_cpu) / (now - last_t) + 0.5), cpu,
      (n - last_n) / (now - last_t), n, conns, m.heap_used / MiB, m.heap_total / MiB,
      task.count()))
    last_n, last_t, last_cpu = n, now, cpu
  end
end
