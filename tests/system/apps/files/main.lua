local f = assert(io.open("data/greeting.txt"))
print("read: " .. f:read("l"))
print("size: " .. f:seek("end"))
f:close()
local n = 0
for _ in io.lines("/app/data/greeting.txt") do n = n + 1 end
print("lines: " .. n)
local r = table.pack(io.open("nope.txt"))
for i = 1, r.n do r[i] = tostring(r[i]) end
print("missing: " .. table.concat(r, "|", 1, r.n))
local g, err = io.open("nope.txt")
print("missing err: " .. tostring(g) .. " | " .. err)
local w, werr = io.open("data/greeting.txt", "w")
print("write err: " .. tostring(w) .. " | " .. werr)
local d, derr = io.open("data")
print("dir: " .. tostring(d) .. " | " .. tostring(derr))
print("escape: " .. tostring(select(2, io.open("../../etc/passwd"))))
