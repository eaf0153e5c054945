-- wrk script for bench/run.py. Arguments after `--`:
--   get   [token] [etag]          GET the URL's path, with `Authorization: Bearer <token>` if given, and
--                                 `If-None-Match: <etag>` if given (then a 304 is the answer expected)
--   login <json body>             POST the body (login)
--   slots <targets file> <threads> POST a new 20-minute timeslot per request (see below)
--   slots <targets file> <threads> <prefix>   the same, each with `Idempotency-Key: <prefix>-<thread>-<n>`
-- Prints one line `BENCHJSON {...}` at the end: requests, errors (non-2xx and socket), latency.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local targets = {}
local counter = 0
local nthreads = 1

function init(args)
  mode = args[1]
  non2xx = 0
  last_bad = 0
  if mode == "get" then
    if args[2] and args[2] ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. args[2]
    end
    if args[3] and args[3] ~= "" then
      wrk.headers["If-None-Match"] = args[3]
      expect_not_modified = true
    end
  elseif mode == "login" then
    wrk.method = "POST"
    wrk.body = args[2]
    wrk.headers["Content-Type"] = "application/json"
  elseif mode == "slots" then
    -- One line per (owner, day): "<path> <token>". Request k goes to line k mod n and takes the
    -- (k div n)-th 20-minute slot from midnight, so no two requests overlap and no owner passes
    -- 48 slots a day until k reaches 48 n (bench/run.py checks and clears the slots between runs).
    for line in io.lines(args[2]) do
      local path, token = line:match("^(%S+) (%S+)$")
      if path then
        table.insert(targets, { path = path, headers = {
          ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" } })
      end
    end
    nthreads = tonumber(args[3]) or 1
    key_prefix = args[4]
  end
end

local function clock(minutes)
  return string.format("%02d:%02d", math.floor(minutes / 60), minutes % 60)
end

function request()
  if mode ~= "slots" then
    return wrk.format()
  end
  local k = counter * nthreads + id
  counter = counter + 1
  local n = #targets
  local target = targets[(k % n) + 1]
  local start = math.floor(k / n) % 48 * 20
  local body = '{"start_time":"' .. clock(start) .. '","end_time":"' .. clock(start + 20) .. '"}'
  -- a fresh table each time: wrk.format writes Host and Content-Length into the one it is given
  local headers = {}
  for key, value in pairs(target.headers) do headers[key] = value end
  if key_prefix then headers["Idempotency-Key"] = key_prefix .. "-" .. id .. "-" .. counter end
  return wrk.format("POST", target.path, headers, body)
end

function response(status, headers, body)
  if expect_not_modified and status == 304 then
    return
  end
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    last_bad = status
  end
end

function done(summary, latency, requests)
  local bad, last = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    local status = thread:get("last_bad") or 0
    if status > 0 then last = status end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"non2xx":%d,"last_bad_status":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, bad, last,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
