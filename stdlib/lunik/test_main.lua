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
local passed, failed = test.run(specs)
sys.exit(failed == 0 and 0 or 1)
