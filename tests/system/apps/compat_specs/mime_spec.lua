-- mime.lua (Debian's lua-socket, bundled) over lunik's mime.core: RFC 4648
-- section 10's vectors through the high-level filters, in one piece and
-- in chunks of every size.
local ltn12 = require "ltn12"
local mime = require "mime"

local vectors = {
  { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
  { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
}

-- Runs s through filter in chunks of n bytes.
local function pump(filter, s, n)
  local out = {}
  local src = ltn12.source.chain(ltn12.source.string(s), filter)
  if n then
    local i = 1
    src = ltn12.source.chain(function()
      if i > #s then return nil end
      local c = s:sub(i, i + n - 1)
      i = i + n
      return c
    end, filter)
  end
  assert(ltn12.pump.all(src, (ltn12.sink.table(out))))
  return table.concat(out)
end

describe("mime", function()
  it("encodes and decodes RFC 4648's vectors with b64 and unb64", function()
    for _, v in ipairs(vectors) do
      assert.equal(v[2], mime.b64(v[1]) or "")
      assert.equal(v[1], mime.unb64(v[2]) or "")
    end
  end)

  it("gives the same bytes through the filters in any chunking", function()
    local data = ("The quick brown fox \0\1\2\255 jumps"):rep(20)
    local whole = pump(mime.encode("base64"), data)
    for n = 1, 7 do
      assert.equal(whole, pump(mime.encode("base64"), data, n))
      assert.equal(data, pump(mime.decode("base64"), whole, n))
    end
    local qp = pump(mime.encode("quoted-printable"), "caf\233 = ok \r\nnext")
    assert.equal("caf=E9 =3D ok=20\r\nnext", qp)
    assert.equal("caf\233 = ok \r\nnext", pump(mime.decode("quoted-printable"), qp))
  end)

  it("wraps, normalizes line ends and stuffs dots", function()
    local long = pump(mime.wrap("base64", 10), ("x"):rep(25))
    assert.equal("xxxxxxxxxx\r\nxxxxxxxxxx\r\nxxxxx\r\n", long)
    assert.equal("a\r\nb\r\nc\r\n", pump(mime.normalize(), "a\nb\rc\r\n"))
    assert.equal("..a\r\n..\r\n", pump(mime.stuff(), ".a\r\n.\r\n"))
  end)
end)
