-- The crypto module against published test vectors: FIPS 180-4's examples
-- for SHA-1/256/512 (NIST "Cryptographic Standards and Guidelines,
-- Examples with Intermediate Values", and the one-million-'a' vectors of
-- FIPS 180-2 Appendices A-C), RFC 4231 (HMAC-SHA-256/512), RFC 2202
-- (HMAC-SHA-1), RFC 4648 section 10 (base64, base16); and every error.
local crypto = require "crypto"
local sys = require "sys"

local hex, unhex = crypto.hex, crypto.unhex

local M448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
local M896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn" ..
             "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
local MILLION = string.rep("a", 1000000)

local sha_vectors = {
  sha1 = {
    { "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
    { "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
    { M448, "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
    { MILLION, "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
  },
  sha256 = {
    { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { M448, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    { M896, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
    { MILLION, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
  },
  sha512 = {
    { "", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce" ..
          "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" },
    { "abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" ..
             "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
    { M448, "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335" ..
            "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445" },
    { M896, "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018" ..
            "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909" },
    { MILLION, "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb" ..
               "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b" },
  },
}

-- RFC 4231 section 4: key, data, HMAC-SHA-256, HMAC-SHA-512. Test case 5
-- checks the first 128 bits only, as the RFC does.
local function bytes(from, to)
  local t = {}
  for i = from, to do t[#t + 1] = string.char(i) end
  return table.concat(t)
end
local rfc4231 = {
  { string.rep("\x0b", 20), "Hi There",
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde" ..
    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
  { "Jefe", "what do ya want for nothing?",
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554" ..
    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
  { string.rep("\xaa", 20), string.rep("\xdd", 50),
    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39" ..
    "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" },
  { bytes(1, 25), string.rep("\xcd", 50),
    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db" ..
    "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" },
  { string.rep("\x0c", 20), "Test With Truncation",
    "a3b6167473100ee06e0c796c2955552b", "415fad6271580a531d4179bc891d87a6" },
  { string.rep("\xaa", 131), "Test Using Larger Than Block-Size Key - Hash Key First",
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352" ..
    "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
  { string.rep("\xaa", 131), "This is a test using a larger than block-size key " ..
    "and a larger than block-size data. The key needs to be hashed before " ..
    "being used by the HMAC algorithm.",
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944" ..
    "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
}

-- RFC 2202 section 3: key, data, HMAC-SHA-1 (test case 5 in full).
local rfc2202 = {
  { string.rep("\x0b", 20), "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
  { "Jefe", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
  { string.rep("\xaa", 20), string.rep("\xdd", 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
  { bytes(1, 25), string.rep("\xcd", 50), "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
  { string.rep("\x0c", 20), "Test With Truncation", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
  { string.rep("\xaa", 80), "Test Using Larger Than Block-Size Key - Hash Key First",
    "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
  { string.rep("\xaa", 80), "Test Using Larger Than Block-Size Key and Larger " ..
    "Than One Block-Size Data", "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
}

-- RFC 4648 section 10
local rfc4648 = {
  { "", "", "" },
  { "f", "Zg==", "66" },
  { "fo", "Zm8=", "666F" },
  { "foo", "Zm9v", "666F6F" },
  { "foob", "Zm9vYg==", "666F6F62" },
  { "fooba", "Zm9vYmE=", "666F6F6261" },
  { "foobar", "Zm9vYmFy", "666F6F626172" },
}

describe("crypto hashes", function()
  for alg, vectors in pairs(sha_vectors) do
    it(alg .. " matches the FIPS 180 examples", function()
      for _, v in ipairs(vectors) do
        local d = crypto[alg](v[1])
        assert.equal(#v[2] // 2, #d, alg .. " digest length")
        assert.equal(v[2], hex(d), alg .. " of " .. #v[1] .. " bytes")
      end
    end)

    it(alg .. " streams in pieces to the same digest", function()
      for _, v in ipairs(vectors) do
        local msg = v[1]
        local h = crypto[alg]()
        local i, step = 1, 1
        while i <= #msg do
          h:update(msg:sub(i, i + step - 1))
          i = i + step
          step = step * 3 + 1
        end
        assert.equal(v[2], hex(h:digest()))
      end
    end)
  end

  it("digest() leaves the hasher going, reset() starts over", function()
    local h = crypto.sha256()
    assert.equal(h, h:update("a"), "update returns the hasher")
    local a = h:digest()
    assert.equal(a, h:digest(), "digest twice")
    assert.equal(crypto.sha256("a"), a)
    h:update("bc")
    assert.equal(sha_vectors.sha256[2][2], hex(h:digest()))
    assert.equal(h, h:reset())
    assert.equal(sha_vectors.sha256[1][2], hex(h:digest()))
    assert.matches("^crypto%.hash %(sha256%)", tostring(h))
  end)

  it("treats binary data as bytes", function()
    assert.not_equal(crypto.sha256("a\0b"), crypto.sha256("a\0c"))
    assert.equal(crypto.sha256("a\0b"), crypto.sha256():update("a\0"):update("b"):digest())
  end)

  it("raises on misuse", function()
    assert.error(function() crypto.sha256({}) end, "bad argument #1 to 'sha256' (string expected, got table)")
    assert.error(function() crypto.sha1(true) end, "bad argument #1 to 'sha1' (string expected, got boolean)")
    assert.error(function() crypto.sha512():update() end, "bad argument #1 to 'update' (string expected, got no value)")
    assert.error(function() crypto.sha512():update({}) end, "bad argument #1 to 'update' (string expected, got table)")
    assert.error(function() crypto.sha256().update({}, "x") end, "bad argument #1 to 'update' (crypto.hash expected, got table)")
    assert.error(function() crypto.sha256().digest("x") end, "bad argument #1 to 'digest' (crypto.hash expected, got string)")
  end)
end)

describe("crypto.hmac", function()
  it("matches RFC 4231 for sha256 and sha512", function()
    for i, v in ipairs(rfc4231) do
      local m256 = hex(crypto.hmac("sha256", v[1], v[2]))
      local m512 = hex(crypto.hmac("sha512", v[1], v[2]))
      assert.equal(v[3], m256:sub(1, #v[3]), "HMAC-SHA-256 test case " .. i)
      assert.equal(v[4], m512:sub(1, #v[4]), "HMAC-SHA-512 test case " .. i)
      assert.equal(64, #m256)
      assert.equal(128, #m512)
    end
  end)

  it("matches RFC 2202 for sha1", function()
    for i, v in ipairs(rfc2202) do
      assert.equal(v[3], hex(crypto.hmac("sha1", v[1], v[2])), "test case " .. i)
    end
  end)

  it("streams with crypto.hmac(alg, key)", function()
    for i, v in ipairs(rfc4231) do
      local m = crypto.hmac("sha512", v[1])
      for c in v[2]:gmatch("..?.?.?.?") do m:update(c) end
      assert.equal(v[4], hex(m:digest()):sub(1, #v[4]), "test case " .. i)
      assert.equal(v[4], hex(m:digest()):sub(1, #v[4]), "digest twice")
      m:reset():update(v[2])
      assert.equal(v[4], hex(m:digest()):sub(1, #v[4]), "after reset")
    end
    assert.matches("^crypto%.hash %(hmac%-sha1%)", tostring(crypto.hmac("sha1", "k")))
  end)

  it("accepts an empty key and message", function()
    assert.equal("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
                 hex(crypto.hmac("sha256", "", "")))
  end)

  it("raises on misuse", function()
    assert.error(function() crypto.hmac("md5", "k", "m") end, "bad argument #1 to 'hmac' (unknown hash 'md5' (sha1, sha256, sha512))")
    local err = assert.error(function() crypto.hmac("SHA256", "k", "m") end, "bad argument #1 to 'hmac' (unknown hash 'SHA256' (sha1, sha256, sha512))")
    assert.matches("unknown hash 'SHA256' %(sha1, sha256, sha512%)", err)
    assert.error(function() crypto.hmac(nil, "k", "m") end, "bad argument #1 to 'hmac' (string expected, got nil)")
    assert.error(function() crypto.hmac("sha256", nil, "m") end, "bad argument #2 to 'hmac' (string expected, got nil)")
    assert.error(function() crypto.hmac("sha256", {}, "m") end, "bad argument #2 to 'hmac' (string expected, got table)")
    assert.error(function() crypto.hmac("sha256", "k", {}) end, "bad argument #3 to 'hmac' (string expected, got table)")
  end)
end)

describe("crypto.hex and crypto.unhex", function()
  it("match RFC 4648 base16, lowercase out, either case in", function()
    for _, v in ipairs(rfc4648) do
      assert.equal(v[3]:lower(), hex(v[1]))
      assert.equal(v[1], unhex(v[3]))
      assert.equal(v[1], unhex(v[3]:lower()))
    end
    assert.equal("00ff7f80", hex("\0\xff\x7f\x80"))
  end)

  it("refuse bad input with nil, err", function()
    local function bad(s, msg)
      local v, err = unhex(s)
      assert.is_nil(v, "unhex(" .. s .. ")")
      assert.equal(msg, err)
    end
    bad("abc", "invalid hex: bad length")
    bad("zz", "invalid hex: bad character at 1")
    bad("0g", "invalid hex: bad character at 2")
    bad("00 1", "invalid hex: bad character at 3")
    bad("0x00", "invalid hex: bad character at 2")
    bad("00\n", "invalid hex: bad length")
  end)

  it("raise on misuse", function()
    assert.error(function() hex() end, "bad argument #1 to 'hex' (string expected, got no value)")
    assert.error(function() hex({}) end, "bad argument #1 to 'hex' (string expected, got table)")
    assert.error(function() unhex(nil) end, "bad argument #1 to 'unhex' (string expected, got nil)")
  end)
end)

describe("crypto.base64 and crypto.unbase64", function()
  it("match RFC 4648 section 10", function()
    for _, v in ipairs(rfc4648) do
      assert.equal(v[2], crypto.base64(v[1]))
      assert.equal(v[1], crypto.unbase64(v[2]))
    end
  end)

  it("have a URL-safe variant, unpadded", function()
    assert.equal("+/+/", crypto.base64("\xfb\xff\xbf"))
    assert.equal("-_-_", crypto.base64("\xfb\xff\xbf", true))
    assert.equal("-_8", crypto.base64("\xfb\xff", true))
    assert.equal("\xfb\xff", crypto.unbase64("-_8", true))
    assert.equal("\xfb\xff", crypto.unbase64("-_8=", true))
    assert.equal("Zm9vYg", crypto.base64("foob", true))
    assert.equal("+/8=", crypto.base64("\xfb\xff", false))
  end)

  it("round-trip every byte value", function()
    local all = bytes(0, 255)
    for n = 0, 6 do
      local s = all:sub(1, 250 + n)
      assert.equal(s, crypto.unbase64(crypto.base64(s)))
      assert.equal(s, crypto.unbase64(crypto.base64(s, true), true))
      assert.equal(s, unhex(hex(s)))
    end
  end)

  it("decode strictly, nil, err on bad input", function()
    local function bad(s, url, msg)
      local v, err = crypto.unbase64(s, url)
      assert.is_nil(v, "unbase64(" .. s .. ")")
      assert.equal(msg, err)
    end
    bad("Zg", false, "invalid base64: bad padding at 3")
    bad("Zg=", false, "invalid base64: bad padding at 3")
    bad("Zg=", true, "invalid base64url: bad padding at 3")
    bad("Zg===", false, "invalid base64: bad padding at 3")
    bad("Zg==Zg==", false, "invalid base64: bad padding at 3")
    bad("Z", false, "invalid base64: bad length")
    bad("Zm9vY", true, "invalid base64url: bad length")
    bad("Zh==", false, "invalid base64: nonzero trailing bits at 2")
    bad("Zm9v\n", false, "invalid base64: bad character at 5")
    bad("Zm 9v", false, "invalid base64: bad character at 3")
    bad("-_8=", false, "invalid base64: bad character at 1")
    bad("+/8=", true, "invalid base64url: bad character at 1")
    assert.equal("", crypto.unbase64(""))
  end)

  it("raise on misuse", function()
    assert.error(function() crypto.base64() end, "bad argument #1 to 'base64' (string expected, got no value)")
    assert.error(function() crypto.base64("x", "url") end, "bad argument #2 to 'base64' (boolean expected, got string)")
    assert.error(function() crypto.unbase64({}) end, "bad argument #1 to 'unbase64' (string expected, got table)")
    assert.error(function() crypto.unbase64("Zg==", 1) end, "bad argument #2 to 'unbase64' (boolean expected, got number)")
  end)
end)

describe("crypto.equal", function()
  it("compares whole strings", function()
    assert.is_true(crypto.equal("", ""))
    assert.is_true(crypto.equal("secret", "secret"))
    assert.is_false(crypto.equal("secret", "secreT"))
    assert.is_false(crypto.equal("secret", "secret "))
    assert.is_false(crypto.equal("a\0b", "a\0c"))
    assert.is_true(crypto.equal(crypto.sha256("x"), crypto.sha256("x")))
  end)

  it("raises on misuse", function()
    assert.error(function() crypto.equal("a") end, "bad argument #2 to 'equal' (string expected, got no value)")
    assert.error(function() crypto.equal({}, "a") end, "bad argument #1 to 'equal' (string expected, got table)")
  end)
end)

describe("crypto.random", function()
  it("gives n bytes, or refuses without an entropy source", function()
    local r, err = crypto.random(32)
    if r == nil and sys.args.entropy ~= "required" then
      -- an image without an entropy source must say so, not run weak
      assert.matches("^no entropy source: ", err)
      assert.is_nil(crypto.random(0))
      return
    end
    assert.not_nil(r, err)
    assert.equal(32, #r)
    assert.not_equal(r, crypto.random(32))
    assert.equal("", crypto.random(0))
    local big = crypto.random(65536)
    assert.equal(65536, #big)
    local seen, count = {}, 0
    for b in big:gmatch(".") do
      if not seen[b] then seen[b] = true; count = count + 1 end
    end
    assert.equal(256, count, "every byte value in 64 KiB")
  end)

  it("raises on misuse", function()
    assert.error(function() crypto.random(-1) end, "bad argument #1 to 'random' (negative length)")
    assert.error(function() crypto.random(1.5) end, "bad argument #1 to 'random' (number has no integer representation)")
    assert.error(function() crypto.random("many") end, "bad argument #1 to 'random' (number expected, got string)")
    assert.error(function() crypto.random() end, "bad argument #1 to 'random' (number expected, got no value)")
  end)
end)
