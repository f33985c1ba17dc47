-- lunik.runtime_metrics: the figures of the machine itself, read at each
-- scrape into a metrics registry (app:metrics() installs them): memory,
-- Lua's garbage collector, tasks and timers, time, the network device and
-- lwIP, and the kv stores and TLS when the app uses them. docs/http.md
-- lists every name.

local net = require "net"
local sys = require "sys"
local task = require "task"
local timer = require "timer"

local M = {}

-- Full collections counted by an object that is collected once a cycle
-- and makes its successor as it goes.
local gc_cycles = 0
local function sentinel()
  setmetatable({}, { __gc = function()
    gc_cycles = gc_cycles + 1
    sentinel()
  end })
end

local TCP_STATES = { "listen", "syn_sent", "syn_received", "established",
  "fin_wait_1", "fin_wait_2", "close_wait", "closing", "last_ack", "time_wait" }

function M.install(reg)
  if reg._runtime then return end
  reg._runtime = true
  sentinel()
  local start = sys.time() - sys.uptime()

  local heap = reg:gauge("lunik_heap_bytes",
    "The heap: bytes in live allocations (used), the most ever taken from it (peak), its size (total).",
    { "kind" })
  local lua_mem = reg:gauge("lunik_lua_memory_bytes", "Bytes Lua's allocator holds.")
  local cycles = reg:counter("lunik_lua_gc_cycles_total", "Lua garbage collection cycles completed.")
  local tasks = reg:gauge("lunik_tasks", "Tasks that have not ended.")
  local timers = reg:gauge("lunik_timers", "Timers pending.")
  local uptime = reg:gauge("lunik_uptime_seconds", "Seconds since boot.")
  local cpu = reg:counter("process_cpu_seconds_total",
    "Seconds the CPU worked since boot (not halted waiting for work).")
  local started = reg:gauge("process_start_time_seconds",
    "When the machine booted, in seconds since the Unix epoch.")
  local frames = reg:counter("lunik_net_frames_total", "Ethernet frames.", { "direction" })
  local bytes = reg:counter("lunik_net_bytes_total", "Ethernet frame bytes.", { "direction" })
  local drops = reg:counter("lunik_net_dropped_total",
    "Frames and segments dropped, by where and why.", { "reason" })
  local tcp = reg:gauge("lunik_tcp_connections", "TCP connections by state.", { "state" })
  local txq = reg:gauge("lunik_net_tx_queue_frames", "Frames waiting for room in the device.")

  reg:collect(function()
    local m = sys.mem()
    heap:labels("used"):set(m.heap_used)
    heap:labels("peak"):set(m.heap_peak)
    heap:labels("total"):set(m.heap_total)
    lua_mem:set(m.lua)
    cycles.root.value = gc_cycles
    tasks:set(task.count())
    timers:set(timer.count())
    uptime:set(sys.uptime())
    cpu.root.value = sys.cpu()
    started:set(start)
    local s = net.stats()
    frames:labels("rx").value = s.rx_frames
    frames:labels("tx").value = s.tx_frames
    bytes:labels("rx").value = s.rx_bytes
    bytes:labels("tx").value = s.tx_bytes
    drops:labels("rx_oversized").value = s.rx_dropped
    drops:labels("rx_no_memory").value = s.rx_nomem
    drops:labels("tx_queue_full").value = s.tx_dropped
    drops:labels("ip").value = s.ip_dropped
    drops:labels("tcp").value = s.tcp_dropped
    drops:labels("udp").value = s.udp_dropped
    drops:labels("tcp_no_memory").value = s.tcp_mem_errors
    drops:labels("lwip_heap").value = s.mem_errors
    for _, st in ipairs(TCP_STATES) do tcp:labels(st):set(s.tcp[st]) end
    txq:set(s.tx_queue)
  end)

  local kv_ops, kv_flush
  reg:collect(function()
    local kv = package.loaded.kv
    if not kv or not kv.totals then return end
    if not kv_ops then
      kv_ops = reg:counter("kv_operations_total", "kv store operations, by kind.", { "op" })
      kv_flush = reg:histogram("kv_flush_duration_seconds",
        "Time the device took to make writes durable (a flush).", {},
        { buckets = kv.totals.flush.le })
    end
    for op, n in pairs(kv.totals.ops) do kv_ops:labels(op).value = n end
    local f, s = kv.totals.flush, kv_flush.root
    for i = 1, #f.counts do s.counts[i] = f.counts[i] end
    s.sum, s.count = f.sum, f.count
  end)

  local tls_hs
  reg:collect(function()
    local tls = package.loaded.tls
    if not tls or not tls.stats then return end
    tls_hs = tls_hs or reg:counter("tls_handshakes_total",
      "TLS handshakes, by version and outcome (full, resumed, failed).",
      { "version", "result" })
    for _, h in ipairs(tls.stats().handshakes) do
      tls_hs:labels(h.version, h.result).value = h.count
    end
  end)
end

return M
