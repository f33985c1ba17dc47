-- @name@: a lunik service. `lunik run @name@` boots it.
local sys = require "sys"
local greet = require "greet"

print(greet.hello(sys.args.name or "world"))
