-- bench/pay.lua: wrk's script for bench/pay.sh. Every request pays one
-- distinct open invoice in full, with a reference unique to the run:
-- POST /v1/invoices/{id}/payments {"amount":PAY_AMOUNT,"reference":"wrk-PAY_RUN-n"}.
-- pay.sh has cloned invoices PAY_FIRST .. PAY_FIRST+PAY_COUNT-1 (ids
-- 0190f7a8-0000-7000-8000-<n in 12 hex digits>) before the run. Thread t of
-- PAY_THREADS takes n = PAY_FIRST + t, + PAY_THREADS, ... so no two requests
-- share an invoice. Once the pool is used up, requests go to an invoice that
-- does not exist (404), which pay.sh reports as a failure.
-- With PAY_PARTS set (pay.sh's BENCH_PAY_HOT=1), every thread instead pays
-- invoice PAY_FIRST + floor(k / PAY_PARTS) with its k-th request, 1 cent at
-- a time, reference wrk-PAY_RUN-t-k: every connection pays the same invoice
-- in small parts, then all move on to the next one together (an invoice
-- takes at most 100 payments: PAY_PARTS times the threads stays under).
-- No response() callback: wrk then parses nothing but the status line and
-- headers, the lightest client it can be.

local first = tonumber(os.getenv("PAY_FIRST"))
local count = tonumber(os.getenv("PAY_COUNT"))
local nthreads = tonumber(os.getenv("PAY_THREADS"))
local amount = os.getenv("PAY_AMOUNT")
local run = os.getenv("PAY_RUN")
local parts = tonumber(os.getenv("PAY_PARTS") or "") or 0
local headers = {
	["Authorization"] = "Bearer " .. os.getenv("PAY_KEY"),
	["Content-Type"] = "application/json",
}

local next_thread = 0
function setup(thread)
	thread:set("tid", next_thread)
	next_thread = next_thread + 1
end

local k = 0
function request()
	local n, body
	if parts > 0 then
		n = first + math.floor(k / parts)
		body = string.format('{"amount":1,"reference":"wrk-%s-%d-%d"}', run, tid, k)
	else
		n = first + tid + nthreads * k
		body = string.format('{"amount":%s,"reference":"wrk-%s-%d"}', amount, run, n)
	end
	k = k + 1
	if n >= first + count then
		n = first + count + 1000000000 -- never cloned
	end
	return wrk.format("POST", string.format("/v1/invoices/0190f7a8-0000-7000-8000-%012x/payments", n), headers, body)
end

-- done prints one line of JSON that pay.sh reads: requests, errors by kind
-- (status counts every non-2xx/3xx answer), and latency percentiles in us.
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format('{"requests":%d,"duration_us":%d,"status_errors":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"exhausted":%s}\n',
		summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
		latency:percentile(50), latency:percentile(99), tostring(summary.requests >= count * math.max(parts, 1))))
end
