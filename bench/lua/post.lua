-- wrk script: POSTs one canned body with fixed headers, and prints a JSON summary line.
-- Configured through the environment so one script serves every scenario:
--   BENCH_PATH    request path                 (e.g. /v1/chat/completions)
--   BENCH_BODY    file holding the request body (empty: no body, GET)
--   BENCH_HEADERS header lines "Name: value" separated by "|"
local path = os.getenv("BENCH_PATH") or "/"
local body_file = os.getenv("BENCH_BODY") or ""
local header_spec = os.getenv("BENCH_HEADERS") or ""

wrk.path = path
if body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
else
  wrk.method = "GET"
end
for line in string.gmatch(header_spec, "[^|]+") do
  local name, value = string.match(line, "^%s*([^:]+):%s*(.*)$")
  if name then
    wrk.headers[name] = value
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,' ..
    '"mean_us":%.1f,"max_us":%d,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
    '"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
