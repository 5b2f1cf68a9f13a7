-- ids.lua: wrk script for the "get by id" workload of bench/run.sh.
--
-- Sends GET <WRK_PATH_PREFIX><id> for the ids in WRK_IDS_FILE (one a line,
-- as bench/fill writes them), every id once in a shuffled order (fixed
-- seed), then again. The target URL given to wrk names only the server; the
-- prefix is the record path, e.g. /entities/LoanOffer/.
--
-- WRK_IDS_START (default 0) is how many requests earlier runs of the same
-- workload have sent: the walk starts at that position of the shuffled
-- order (modulo the number of ids), so a measurement split into several wrk
-- runs reads the ids on, instead of the same first ones again.
--
-- WRK_AUTHORIZATION, when set and not empty, is sent as the Authorization
-- header of every request (DirectLogin token="...").
--
-- The requests are formatted once, in init(); request() only hands out the
-- next one, so the per-request cost in wrk is one Lua call and a table
-- lookup.
local authorization = os.getenv("WRK_AUTHORIZATION")
if authorization ~= nil and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

local requests = {}
local n = 0
local i = 0

function init(args)
  local file = os.getenv("WRK_IDS_FILE")
  local prefix = os.getenv("WRK_PATH_PREFIX")
  assert(file ~= nil and file ~= "", "WRK_IDS_FILE is not set")
  assert(prefix ~= nil and prefix ~= "", "WRK_PATH_PREFIX is not set")
  local ids = {}
  for line in io.lines(file) do
    if line ~= "" then
      ids[#ids + 1] = line
    end
  end
  assert(#ids > 0, "no ids in " .. file)
  math.randomseed(1)
  for k = #ids, 2, -1 do
    local j = math.random(k)
    ids[k], ids[j] = ids[j], ids[k]
  end
  for k, id in ipairs(ids) do
    requests[k] = wrk.format("GET", prefix .. id)
  end
  n = #requests
  local env = os.getenv("WRK_IDS_START")
  if env == nil or env == "" then
    env = "0"
  end
  local start = tonumber(env)
  assert(start ~= nil and start >= 0, "WRK_IDS_START is not a whole number: " .. env)
  i = math.floor(start) % n
end

function request()
  i = i + 1
  if i > n then
    i = 1
  end
  return requests[i]
end
