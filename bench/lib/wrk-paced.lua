-- wrk (Debian's, which has no --rate) paced by a fixed wait between requests on each connection,
-- so the offered load is about connections * 1000 / (wait + latency) requests per second; the rate
-- actually reached is reported next to the latencies. BENCH_WAIT_MS sets the wait, BENCH_PATH the
-- request target (an absolute URI when wrk talks to an HTTP proxy).
local wait = tonumber(os.getenv("BENCH_WAIT_MS") or "0")
local path = os.getenv("BENCH_PATH") or "/"

function request()
  return wrk.format("GET", path)
end

function delay()
  return wait
end

function done(summary, latency, requests)
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%.3f,"errors":%d,"p50us":%d,"p99us":%d,"maxus":%d}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
