-- mbedTLS's self-tests for every enabled algorithm, how mbedTLS judges
-- certificate dates against the guest's clock, and SHA-256 throughput.
-- Linked with tests/system/mbedtls_selftest.c; suite_crypto.py copies the
-- certificates from mbedTLS's test data next to this file.
local crypto = require "crypto"
local st = require "mbedtls_selftest"
local sys = require "sys"

for _, r in ipairs(st.run()) do
  print(("selftest %s %s"):format(r.name, r.ok and "ok" or "FAILED"))
end

for _, name in ipairs { "test-ca-sha256.crt", "server5-expired.crt",
                        "server5-future.crt" } do
  local f = assert(io.open(name))
  local d = assert(st.cert_dates(f:read("a")))
  f:close()
  print(("cert %s from=%s to=%s expired=%s not_yet_valid=%s"):format(
    name, d.from, d.to, d.expired, d.not_yet_valid))
end
print("bad cert: " .. select(2, st.cert_dates("not a certificate")))

local mib = string.rep("\x5a", 1 << 20)
local h = crypto.sha256()
local t0 = sys.monotonic()
for _ = 1, 8 do h:update(mib) end
h:digest()
print(("sha256 %.1f MB/s"):format(8 * 1.048576 / (sys.monotonic() - t0)))
