-- crypto.random over the machine's real entropy source, or, linked with
-- tests/system/rng_stub.c, over each behaviour a source may have.
local crypto = require "crypto"
local sys = require "sys"

local function try(n)
  local r, err = crypto.random(n)
  if r then return "ok " .. #r end
  return "nil " .. err
end

local linked, stub = pcall(require, "rngstub")
if not linked then
  local got = try(32)
  print("real: " .. got)
  if got:match("^ok") then
    print("distinct: " .. tostring(crypto.random(16) ~= crypto.random(16)))
  end
  return
end

stub.set("none")
print("none: " .. try(8))
stub.set("fail")
print("fail: " .. try(8))
stub.set("stuck")
local t0 = sys.monotonic()
print("stuck: " .. try(8))
print(("stuck gave up after %.2f s"):format(sys.monotonic() - t0))

stub.set("partial")
local c0 = stub.calls()
print("partial: " .. try(32))
print("partial polls: " .. stub.calls() - c0)

stub.set("ok")
print("ok: " .. try(5000))
print("distinct: " .. tostring(crypto.random(16) ~= crypto.random(16)))

-- mbedTLS reseeds after 10000 requests
local c1 = stub.calls()
for _ = 1, 10000 do assert(crypto.random(1)) end
print("reseeded: " .. tostring(stub.calls() > c1))

-- a reseed that fails fails the request, and the next good one recovers
stub.set("fail")
local err, n = nil, 0
repeat
  n = n + 1
  local r, e = crypto.random(1)
  err = not r and e
until err or n > 10001
print("reseed failure: " .. tostring(err))
stub.set("ok")
print("recovered: " .. try(8))
