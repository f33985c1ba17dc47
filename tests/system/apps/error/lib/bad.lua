local M = {}
function M.go()
  error("boom from a module")
end
return M
