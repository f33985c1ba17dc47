-- http.connection: whether an HTTP/1.x connection stays open after an
-- answer, decided in one place (RFC 9112 9.3 persistence, 9.6 tear-down,
-- and appendix C.2.2 for HTTP/1.0's "Connection: keep-alive").
--
-- http.server asks M.after() for every answer it writes, refusals
-- included; the answer says so in its Connection header. Pure Lua with no
-- bindings, so tests/unit/test_http_connection.lua runs it on the host.

local M = {}

-- M.after(c) -> keep, header. (c) is a table:
--   request     the parsed head (nil for a request refused at the head):
--               .version "1.0" or "1.1", .keep_alive the parser's reading
--               of the version and the Connection header
--   streamed    the body is a function: sent chunked to 1.1 clients, as
--               raw bytes ended by the close to 1.0 ones
--   body_done   what is left of the request body was read or is passed
--               over without waiting for the client
--   closing     the server is shutting down
--   served, max_requests   answers on this connection so far, the limit
--               (0: none)
-- keep: whether the connection carries another request; header: the
-- Connection field the answer carries ("close", "keep-alive" or nil).
function M.after(c)
  local req = c.request
  local keep = req ~= nil and req.keep_alive and not c.closing
    and c.body_done
    and not (c.max_requests > 0 and c.served >= c.max_requests)
    and not (c.streamed and req.version == "1.0")
  if not keep then return false, "close" end
  if req.version == "1.0" then return true, "keep-alive" end
  return true, nil
end

return M
