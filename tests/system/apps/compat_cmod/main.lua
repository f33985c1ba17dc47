-- compat_cmod: requires a C module; `lunik build --lua-path` must refuse it.
local cjson = require "cjson"
print(cjson.encode({}))
