-- The app of system/gdb_*: a binding (json.encode) called through a
-- tail call, for a breakpoint and the Lua stack at it (docs/debugging.md).
local json = require "json"

local function answer(n)
  return json.encode({ n = n })
end

local function handler(req)
  return answer(req.n * 2)
end

print(handler({ n = 21 }))
