-- socket.url from Debian's lua-socket, bundled with --lua-path.
local url = require "socket.url"

describe("socket.url", function()
  it("parses a URL into its parts", function()
    local p = url.parse("http://user:pw@example.com:8080/a/b%20c?x=1&y=2#frag")
    assert.equal("http", p.scheme)
    assert.equal("user:pw@example.com:8080", p.authority)
    assert.equal("user", p.user)
    assert.equal("pw", p.password)
    assert.equal("example.com", p.host)
    assert.equal("8080", p.port)
    assert.equal("/a/b%20c", p.path)
    assert.equal("x=1&y=2", p.query)
    assert.equal("frag", p.fragment)
  end)

  it("builds what it parsed, for many URLs", function()
    local urls = {
      "http://example.com/",
      "http://example.com:81/path/to/file.html?q=1#top",
      "https://user@host.example/x",
      "ftp://user:secret@ftp.example.org/pub/file.txt;type=i",
      "mailto:someone@example.com",
      "/relative/path?query",
      "//host.only/path",
      "http://[::1]:80/ipv6",
    }
    for _, u in ipairs(urls) do
      assert.equal(u, url.build(url.parse(u)))
    end
  end)

  it("escapes, resolves relative URLs and splits paths", function()
    assert.equal("a%20b%2fc", url.escape("a b/c"):lower())
    assert.equal("a b/c", url.unescape("a%20b%2Fc"))
    assert.equal("http://a/b/c/g", url.absolute("http://a/b/c/d;p?q", "g"))
    assert.equal("http://a/g", url.absolute("http://a/b/c/d;p?q", "../../g"))
    assert.same({ "a", "b c", is_absolute = 1 }, url.parse_path("/a/b%20c"))
    assert.equal("/a/b%20c", url.build_path({ "a", "b c", is_absolute = 1 }))
  end)
end)
