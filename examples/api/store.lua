-- store.lua -- where the items live: the kv store on the first block
-- device when the machine has one (items survive a reboot), else a table
-- in memory. Both have get, set, delete and keys(prefix).
local M = {}

local Memory = {}
Memory.__index = Memory

function Memory:get(k) return self.t[k] end
function Memory:set(k, v) self.t[k] = v; return true end
function Memory:delete(k) self.t[k] = nil; return true end
function Memory:keys(prefix)
  local ks = {}
  for k in pairs(self.t) do
    if k:sub(1, #prefix) == prefix then ks[#ks + 1] = k end
  end
  table.sort(ks)
  local i = 0
  return function() i = i + 1; return ks[i] end
end

function M.memory()
  return setmetatable({ t = {} }, Memory), "memory"
end

-- The kv store on the first disk, or memory when there is none.
function M.open()
  local blk = require "blk"
  if #blk.devices() == 0 then return M.memory() end
  local kv = require "kv"
  local db, err = kv.open()
  if not db then error("cannot open the store: " .. err) end
  return db, "kv on " .. blk.devices()[1].name
end

return M
