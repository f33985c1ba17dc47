local t = {}
local ok, err = pcall(function()
  while true do t[#t + 1] = string.rep("x", 4096) .. #t end
end)
print("caught: " .. tostring(ok) .. " " .. tostring(err))
local n = #t
t = nil
collectgarbage()
print(string.format("after: %d chunks were allocated, and printing still works", n))
