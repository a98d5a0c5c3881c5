-- wrk script: POST one inbound message per request, as a company's app would
-- to the apichannel webhook. message_id is unique per request (run, thread,
-- counter) so dedup never collapses two requests; external_id cycles over
-- 1000 clients. done() prints the count of 200 answers for the verify step.
local threads = {}
local run = os.getenv("BENCH_RUN_ID") or tostring(os.time())

function setup(thread)
  thread:set("tid", #threads + 1)
  thread:set("run", run)
  table.insert(threads, thread)
end

function init(args)
  n, ok, other = 0, 0, 0
end

function request()
  n = n + 1
  local body = string.format(
    '{"external_id":"u-%d","name":"Bench","text":"hello","message_id":"%s-%d-%d"}',
    n % 1000, run, tid, n)
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local ok200, non200 = 0, 0
  for _, t in ipairs(threads) do
    ok200 = ok200 + t:get("ok")
    non200 = non200 + t:get("other")
  end
  io.write(string.format("BENCH ok200=%d non200=%d\n", ok200, non200))
end
