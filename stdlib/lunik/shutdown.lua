-- lunik.shutdown: the graceful shutdown. The ACPI power button (`virsh
-- shutdown`, QEMU's system_powerdown, `lunik run` getting SIGTERM or a
-- first Ctrl-C) and sys.shutdown() all come here, as one event:
--
--   1. "drain": every HTTP server stops accepting, closes its idle
--      keep-alive connections and lets the requests in flight finish
--      (their answers say Connection: close);
--   2. "app": the handlers given to sys.on_shutdown(fn) run;
--   3. "close": the kv stores are closed cleanly;
--   then the machine powers off with status 0.
--
-- Each phase's handlers run in tasks of their own, together; the next
-- phase starts when they have all ended. The whole has a deadline
-- (lunik.shutdown_timeout=SECONDS, default 10): past it, or at a second
-- request, the machine is forced off with status 1. The console shows one
-- line when the shutdown starts and one when it ends.

local sys = require "sys"
local task = require "task"
local timer = require "timer"

local M = {}

local PHASES = { "drain", "app", "close" }
local handlers = { drain = {}, app = {}, close = {} }
local started

M.timeout = tonumber(sys.args["lunik.shutdown_timeout"]) or 10

-- M.on(fn [, phase]): fn() runs at shutdown, in phase "drain", "app"
-- (the default) or "close". Returns fn, for M.off.
function M.on(fn, phase)
  phase = phase or "app"
  if type(fn) ~= "function" then error("on_shutdown takes a function", 3) end
  if not handlers[phase] then error("no shutdown phase " .. tostring(phase), 3) end
  handlers[phase][fn] = true
  return fn
end

-- M.off(fn): fn will not run (a store closed before the shutdown).
function M.off(fn)
  for _, set in pairs(handlers) do set[fn] = nil end
end

-- Whether a shutdown has begun.
function M.started() return started ~= nil end

local function run_phase(phase)
  local list = {}
  for fn in pairs(handlers[phase]) do list[#list + 1] = task.spawn(fn) end
  for _, t in ipairs(list) do
    local ok, err = t:join()
    if not ok then
      io.stderr:write("lunik: a shutdown handler failed: ", tostring(err), "\n")
    end
  end
end

-- M.request(why): begins the shutdown; a second request forces the
-- machine off.
function M.request(why)
  if started then
    print(string.format("lunik: shutdown forced (%s) after %.1f s", why,
      sys.monotonic() - started))
    sys.exit(1)
  end
  started = sys.monotonic()
  print(string.format("lunik: shutting down (%s), up to %g s", why, M.timeout))
  timer.after(M.timeout, function()
    print(string.format("lunik: shutdown deadline of %g s passed: forced off",
      M.timeout))
    sys.exit(1)
  end)
  for _, phase in ipairs(PHASES) do run_phase(phase) end
  print(string.format("lunik: shut down in %.2f s", sys.monotonic() - started))
  sys.exit(0)
end

return M
