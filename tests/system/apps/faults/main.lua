local sys = require "sys"
local fault = require "fault"
print("fault: " .. sys.args.what)
fault[sys.args.what]()
print("survived (wrong)")
