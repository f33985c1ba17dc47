-- compat_http: LuaSocket's own Lua layer (bundled from Debian's
-- lua-socket by suite_compat.py) over lunik's socket.core: socket.http in
-- its simple and generic forms against the host's HTTP server, and
-- socket.bind + socket.select over several connections in the guest.
-- Boot arguments: base=http://10.0.2.2:PORT
local crypto = require "crypto"
local http = require "socket.http"
local ltn12 = require "ltn12"
local socket = require "socket"
local sys = require "sys"
local task = require "task"

local base = assert(sys.args.base, "boot with base=http://HOST:PORT")
local function sha(s) return crypto.hex(crypto.sha256(s)) end

-- the simple form: body, code, headers, status line
local body, code, headers, status = http.request(base .. "/page")
print(("simple: %s %s len=%d sha=%s type=%s"):format(code, status, #body,
  sha(body), headers["content-type"]))

-- the generic form: a sink, here a table of chunks
local chunks = {}
local ok, code2, headers2 = http.request {
  url = base .. "/chunked", sink = ltn12.sink.table(chunks),
  headers = { ["x-test"] = "lunik" },
}
local all = table.concat(chunks)
print(("generic: %s %s chunks=%s len=%d sha=%s"):format(ok, code2,
  headers2["transfer-encoding"], #all, sha(all)))

-- a request body from a source
local sent = ("posted data "):rep(1000)
local echoed = {}
local ok3, code3 = http.request {
  url = base .. "/echo", method = "POST",
  source = ltn12.source.string(sent),
  headers = { ["content-length"] = tostring(#sent) },
  sink = ltn12.sink.table(echoed),
}
print(("post: %s %s same=%s"):format(ok3, code3, table.concat(echoed) == sent))

-- errors come back as nil, err
local none, err = http.request("http://10.0.2.2:1/")
print("refused: " .. tostring(none) .. " " .. tostring(err))

-- socket.bind (socket.lua's) and socket.select over three clients
local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
local clients, peers = {}, {}
for i = 1, 3 do
  clients[i] = assert(socket.connect("127.0.0.1", port))
  peers[i] = assert(server:accept())
end
task.spawn(function()
  socket.sleep(0.05)
  peers[3]:send("third\n")
  peers[1]:send("first\n")
end)
local seen = {}
while #seen < 2 do
  local readable = socket.select(clients, nil, 5)
  for _, c in ipairs(readable) do
    seen[#seen + 1] = c:receive()
  end
end
table.sort(seen)
print("select: " .. table.concat(seen, ","))
local _, writable = socket.select(nil, clients, 0)
print("writable: " .. #writable)
for i = 1, 3 do clients[i]:close(); peers[i]:close() end
server:close()
print("done")
