print("fine")
local x = = 1
