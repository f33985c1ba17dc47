-- The entry of a `lunik test` image: runs every *_spec.lua of the app.
local sys = require "sys"
local test = require "test"

local specs = {}
for _, f in ipairs(sys.files()) do
  if f:match("_spec%.lua$") then specs[#specs + 1] = f end
end
if #specs == 0 then
  print("no *_spec.lua files in the app")
  sys.exit(1)
end
table.sort(specs)
local filter = sys.args["lunik.test_filter"]
if filter and not pcall(string.find, "", filter) then
  print("--filter " .. filter .. ": not a Lua pattern")
  sys.exit(1)
end
local passed, failed, pending = test.run(specs, {
  filter = filter, events = sys.args["lunik.test_events"] })
if filter and passed + failed + pending == 0 then
  io.stderr:write("lunik: no test matches --filter ", filter, "\n")
  sys.exit(1)
end
sys.exit(failed == 0 and 0 or 1)
