-- http.headers: header tables whose lookups ignore case. http.parser gives
-- names lowercased; with this metatable req.headers["Content-Type"] finds
-- "content-type" too.
local M = {}

M.mt = {
  __index = function(t, k)
    if type(k) == "string" then
      local lk = k:lower()
      if lk ~= k then return rawget(t, lk) end
    end
  end,
}

-- Gives (t) the case-blind lookup; returns it.
function M.wrap(t)
  return setmetatable(t, M.mt)
end

return M
