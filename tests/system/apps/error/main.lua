local bad = require "lib.bad"
print("before the error")
bad.go()
print("never printed")
