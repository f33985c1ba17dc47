-- A module of the app: require "greet" finds it in the image.
local M = {}

function M.hello(name)
  return "hello, " .. name
end

return M
