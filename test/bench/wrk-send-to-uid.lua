-- wrk script of the http bench: POST sendToUid with the API key, the uid going round u0 .. u(UIDS-1), one request
-- prepared per uid beforehand so wrk spends nothing building them; its summary printed as one JSON line.
-- Environment: WRK_AUTHORIZATION (the Authorization header), WRK_UIDS, WRK_SIZE (message length).
local uids = tonumber(os.getenv("WRK_UIDS") or "100")
local size = tonumber(os.getenv("WRK_SIZE") or "64")
local authorization = os.getenv("WRK_AUTHORIZATION") or ""
local prepared = {}
local next = 0

function init(args)
  local message = string.rep("u", size)
  for i = 0, uids - 1 do
    local body = '{"uid":"u' .. i .. '","message":"' .. message .. '"}'
    local headers = { ["Authorization"] = authorization, ["Content-Type"] = "application/json" }
    prepared[i + 1] = wrk.format("POST", nil, headers, body)
  end
end

function request()
  next = next % uids + 1
  return prepared[next]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_SUMMARY {"requests":%d,"durationUs":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"non2xx":%d,"timeouts":%d,"p50Us":%d,"p99Us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
