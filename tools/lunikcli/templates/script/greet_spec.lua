-- `lunik test @name@` runs every *_spec.lua inside a booted image.
local greet = require "greet"

describe("greet", function()
  it("greets by name", function()
    assert.equal("hello, lua", greet.hello("lua"))
  end)
end)
