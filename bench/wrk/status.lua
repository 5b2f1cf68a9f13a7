-- status.lua: wrk script for bench/overload.sh that counts responses by
-- status and prints one "status CODE COUNT" line per status at the end.
--
-- WRK_METHOD (default GET), WRK_AUTHORIZATION (an Authorization header)
-- and WRK_DIRECTLOGIN (a DirectLogin header: a login request) shape every
-- request. Defining response() makes wrk read each response, which costs a
-- little per request; the overload run wants the counts, not the peak rate.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
end

local method = os.getenv("WRK_METHOD")
if method ~= nil and method ~= "" then
  wrk.method = method
end
local authorization = os.getenv("WRK_AUTHORIZATION")
if authorization ~= nil and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end
local directlogin = os.getenv("WRK_DIRECTLOGIN")
if directlogin ~= nil and directlogin ~= "" then
  wrk.headers["DirectLogin"] = directlogin
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for code, n in pairs(c) do
      total[code] = (total[code] or 0) + n
    end
  end
  for code, n in pairs(total) do
    io.write(string.format("status %d %d\n", code, n))
  end
end
