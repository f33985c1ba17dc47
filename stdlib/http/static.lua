-- http.static: files of the image, served under a path prefix.
--
--   app:static("/assets", "public")           -- public/app.js at /assets/app.js
--   app:static("/", "site", { index = "index.html", max_age = 3600 })
--
-- Content types by extension, an ETag per file (its size and a hash of its
-- bytes, computed once: the image cannot change), 304 for If-None-Match,
-- HEAD, and index files for folders. ".." never leaves dir.

local sys = require "sys"

local M = {}

local TYPES = {
  html = "text/html; charset=utf-8", htm = "text/html; charset=utf-8",
  css = "text/css; charset=utf-8", js = "text/javascript; charset=utf-8",
  mjs = "text/javascript; charset=utf-8", json = "application/json",
  txt = "text/plain; charset=utf-8", md = "text/markdown; charset=utf-8",
  csv = "text/csv; charset=utf-8", xml = "application/xml",
  svg = "image/svg+xml", png = "image/png", jpg = "image/jpeg",
  jpeg = "image/jpeg", gif = "image/gif", webp = "image/webp",
  ico = "image/x-icon", avif = "image/avif", wasm = "application/wasm",
  pdf = "application/pdf", woff = "font/woff", woff2 = "font/woff2",
  ttf = "font/ttf", otf = "font/otf", mp4 = "video/mp4", webm = "video/webm",
  mp3 = "audio/mpeg", ogg = "audio/ogg", wav = "audio/wav",
  zip = "application/zip", gz = "application/gzip", lua = "text/plain; charset=utf-8",
}
M.TYPES = TYPES

-- FNV-1a over the bytes, 32 bits: an ETag needs a change detector, not a
-- cryptographic hash.
local function fnv1a(s)
  local h = 0x811c9dc5
  for i = 1, #s do
    h = ((h ~ s:byte(i)) * 0x01000193) & 0xffffffff
  end
  return h
end

local function content_type(path)
  local ext = path:match("%.([%w]+)$")
  return ext and TYPES[ext:lower()] or "application/octet-stream"
end

function M.mount(app, prefix, dir, opts)
  if type(prefix) ~= "string" or prefix:sub(1, 1) ~= "/" then
    error("app:static: prefix must be a path starting with /", 3)
  end
  if type(dir) ~= "string" then error("app:static: dir must be a string", 3) end
  opts = opts or {}
  local index = opts.index or "index.html"
  local cache_control = opts.max_age and ("public, max-age=" .. opts.max_age)
    or "no-cache"
  dir = dir:gsub("/+$", "")
  local files = {}
  for _, f in ipairs(sys.files(dir)) do files[f] = true end
  local cache = {} -- rel path -> { body, etag, type }

  local function load(rel)
    local c = cache[rel]
    if c then return c end
    if not files[rel] then return nil end
    local f = io.open(dir .. "/" .. rel, "rb")
    if not f then return nil end
    local body = f:read("a")
    f:close()
    c = { body = body, type = content_type(rel),
      etag = string.format('"%x-%08x"', #body, fnv1a(body)) }
    cache[rel] = c
    return c
  end

  local function serve(req)
    local rel = req.params["*"] or ""
    for seg in rel:gmatch("[^/]+") do
      if seg == ".." or seg == "." then return 404, "Not Found\n" end
    end
    local c = load(rel)
    if not c then
      local idx = (rel == "" or rel:sub(-1) == "/") and rel .. index
        or rel .. "/" .. index
      c = load(idx)
      if c and rel ~= "" and rel:sub(-1) ~= "/" then
        -- a folder without its slash: relative links need it
        return 301, "", { location = req.path .. "/" }
      end
    end
    if not c then return 404, "Not Found\n" end
    local headers = { ["content-type"] = c.type, etag = c.etag,
      ["cache-control"] = cache_control }
    local inm = req.headers["if-none-match"]
    if inm then
      for tag in inm:gmatch('[^,%s]+') do
        if tag == c.etag or tag == "W/" .. c.etag or tag == "*" then
          return 304, "", headers
        end
      end
    end
    return 200, c.body, headers
  end

  local pattern = prefix:gsub("/+$", "") .. "/*"
  app:get(pattern, serve)
  if prefix ~= "/" and prefix:sub(-1) ~= "/" then
    app:get(prefix, function(req)
      return 301, "", { location = prefix .. "/" }
    end)
  end
  return app
end

return M
