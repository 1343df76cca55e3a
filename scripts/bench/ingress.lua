-- wrk script for scripts/bench/ingress: each thread replays its share of the precomputed requests in
-- $BENCH_REQUESTS (path, X-Twilio-Signature, content type, body per line), keep-alive, and counts statuses.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file = os.getenv("BENCH_REQUESTS")
  local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  reqs = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == id then
      local path, sig, ctype, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { ["Content-Type"] = ctype }
      if sig ~= "-" then headers["X-Twilio-Signature"] = sig end
      reqs[#reqs + 1] = wrk.format("POST", path, headers, body)
    end
    i = i + 1
  end
  n = 0
  bad = 0
end

function request()
  n = n + 1
  return reqs[(n - 1) % #reqs + 1]
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local total_bad = 0
  for _, t in ipairs(threads) do total_bad = total_bad + (t:get("bad") or 0) end
  io.write(string.format("BENCH rps=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d non200=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, total_bad, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.status + summary.errors.timeout))
end
