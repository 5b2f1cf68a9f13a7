-- body.lua: wrk script for the dynapi load benchmark (bench/run.sh).
--
-- WRK_BODY_FILE names a file whose bytes are sent as the body of every
-- request, as POST with Content-Type application/json (WRK_CONTENT_TYPE
-- overrides). When WRK_BODY_FILE is unset or empty the script leaves the
-- method and body alone and wrk sends its plain GET.
--
-- WRK_AUTHORIZATION, when set and not empty, is sent as the Authorization
-- header of every request (for dynapi's guarded routes:
-- DirectLogin token="...").
--
-- Only wrk.method, wrk.body and wrk.headers are set (no request() or
-- response() function), so wrk builds the request once and keeps its fast
-- path: the script costs nothing per request.
local path = os.getenv("WRK_BODY_FILE")
if path ~= nil and path ~= "" then
  local f = assert(io.open(path, "rb"))
  local body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.body = body
  local ctype = os.getenv("WRK_CONTENT_TYPE")
  if ctype == nil or ctype == "" then
    ctype = "application/json"
  end
  wrk.headers["Content-Type"] = ctype
end

local authorization = os.getenv("WRK_AUTHORIZATION")
if authorization ~= nil and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end
