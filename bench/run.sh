#!/usr/bin/env bash
# bench/run.sh (`make bench`): measures the service side by side with its
# ceilings and a peer, in one run on one machine, and writes docs/benchmarks.md.
#
#   1. the service: `invoicing serve` (relay inside) paid through the public API
#      by tools/load at each concurrency; its RSS and the outbox backlog
#      sampled under the highest one; commit-to-delivery at half the best rate;
#   2. the relay alone: `invoicing relay` draining BENCH_EVENTS and then
#      BENCH_BACKLOG committed events, timed and its RSS sampled;
#   3. the peer: Watermill's SQL outbox forwarder (bench/peers/watermill) moving
#      BENCH_EVENTS events to the same JetStream server;
#   4. the ceilings: plain JetStream publishes (bench/jsbench), the relay
#      package's Go benchmarks (embedded nats-server), and pgbench running the
#      pay transaction's SQL (bench/pgbench) at the same client counts, with and
#      without a NOTIFY, plus bare single-insert commits;
#   5. the pay path with a light client (bench/pay.sh): the same binary paid by
#      wrk beside pgbench, interleaved, with the CPU per payment of serve and of
#      PostgreSQL and a CPU profile of serve (wrk is installed if missing).
#
# Settings (environment):
#   BENCH_DURATION      time per load or pgbench level, e.g. 15s (default 15s)
#   BENCH_CONCURRENCY   client counts (default 1,4,16,64)
#   BENCH_EVENTS        events for the relay/JetStream/Watermill comparison (default 50000)
#   BENCH_BACKLOG       backlog the relay drains for its RSS figure (default 200000;
#                       the target is stated for 1000000: BENCH_BACKLOG=1000000)
#   BENCH_INVOICES      open invoices the load tool has ready before each level (default 2000/s x duration)
#   BENCH_NATS_URL      JetStream server to use; default: a private nats-server on
#                       127.0.0.1:BENCH_NATS_PORT (14222), so the run never touches
#                       the shared server's INVOICING stream
#   BENCH_PG            PostgreSQL server URL without database (default postgres://postgres@127.0.0.1:5432)
#   BENCH_HTTP_PORT     port of the service under test (default 18080)
#   BENCH_BIN           a prebuilt `invoicing` binary to measure instead of building ./cmd/invoicing
#   BENCH_PROFILE_DIR   if set, CPU profiles of serve (highest level) and relay (backlog drain) go there
#   BENCH_OUT           report path (default docs/benchmarks.md)
#   BENCH_SMOKE=1       label the report a smoke run (automatic below 10s per level)
#   BENCH_KEEP=1        keep the work directory (logs, raw results)
#   BENCH_PAY_ROUNDS    rounds of bench/pay.sh (default 3, 1 in a smoke run);
#                       its other settings follow BENCH_DURATION and BENCH_CONCURRENCY
#
# Everything it starts is stopped, and its database and streams are removed,
# on exit, failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${BENCH_DURATION:-15s}
LEVELS=${BENCH_CONCURRENCY:-1,4,16,64}
EVENTS=${BENCH_EVENTS:-50000}
BACKLOG=${BENCH_BACKLOG:-200000}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
HTTP_PORT=${BENCH_HTTP_PORT:-18080}
NATS_PORT=${BENCH_NATS_PORT:-14222}
OUT=${BENCH_OUT:-docs/benchmarks.md}

[[ $DURATION =~ ^([0-9]+)s?$ ]] || { echo "bench: BENCH_DURATION must be whole seconds, e.g. 15s" >&2; exit 2; }
SECS=${BASH_REMATCH[1]}
for n in "$EVENTS" "$BACKLOG" "$SECS"; do
	[[ $n =~ ^[0-9]+$ ]] && ((n > 0)) || { echo "bench: numeric settings must be positive integers" >&2; exit 2; }
done
IFS=, read -ra LEVEL_LIST <<<"$LEVELS"
MAXC=0
for c in "${LEVEL_LIST[@]}"; do ((c > MAXC)) && MAXC=$c; done
INVOICES=${BENCH_INVOICES:-$((2000 * SECS))}
# The first fifth of each level (at most 2 s: connections, prepared
# statements, caches) is left out of the figures, for the service and pgbench
# alike.
WARMUP=$(awk -v s="$SECS" 'BEGIN { w = s / 5; if (w > 2) w = 2; printf "%.1f", w }')
SMOKE=${BENCH_SMOKE:-$((SECS < 10 ? 1 : 0))}
for tool in go psql pgbench jq curl nats-server; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done

[[ -n ${BENCH_PROFILE_DIR:-} ]] && mkdir -p "$BENCH_PROFILE_DIR"
WORK=$(mktemp -d /tmp/invoicing-bench.XXXXXX)
DB=bench_$(date +%s)_$$
DBURL="$PG/$DB?sslmode=disable"
PIDS=()
NOTES=()

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
note() { NOTES+=("$*"); log "NOTE: $*"; }
psqlq() { psql -X -q -tA -v ON_ERROR_STOP=1 -d "$DBURL" "$@"; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	psql -X -q -d "$PG/postgres?sslmode=disable" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
	if [[ ${BENCH_KEEP:-0} == 1 || $rc != 0 ]]; then
		log "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD... runs CMD in the background, logging to $WORK/NAME.log,
# and sets STARTED to its pid (the process itself, for /proc sampling).
start() {
	local name=$1; shift
	"$@" >"$WORK/$name.log" 2>&1 &
	STARTED=$!
	PIDS+=("$STARTED")
}
# stop PID terminates a process started by start and waits for it.
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
# vm PID FIELD prints /proc/PID/status FIELD (VmRSS, VmHWM) in KiB, or 0.
vm() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
mib() { awk -v k="${1:-0}" 'BEGIN { printf "%.1f", k / 1024 }'; }
# ratio A B prints A/B with two decimals, or n/a.
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a != "" && b + 0 > 0) printf "%.2f", a / b; else printf "n/a" }'; }
# pgstats FILE... prints "TPS p99-ms" from pgbench per-transaction logs
# (-l: client, tx, latency us, script, end epoch s, end us), counting the
# transactions started after the warm-up, like invoicing-load does. The
# warm-up also lasts until every client has finished its first transaction:
# a new connection prepares its statements then, while the service's pool is
# already warm.
pgstats() {
	local from t1
	read -r from t1 < <(cat "$@" | awk -v w="$WARMUP" '$3 ~ /^[0-9]+$/ { e = $5 + $6 / 1e6; s = e - $3 / 1e6
		if (n++ == 0 || s < t0) t0 = s; if (e > t1) t1 = e; if (!($1 in f) || e < f[$1]) f[$1] = e }
		END { if (!n) exit; from = t0 + w; for (c in f) if (f[c] > from) from = f[c]; printf "%.6f %.6f\n", from, t1 }') || return 0
	cat "$@" | awk -v from="$from" '$3 ~ /^[0-9]+$/ && $5 + $6 / 1e6 - $3 / 1e6 >= from { print $3 }' | sort -n |
		awk -v secs="$(awk -v a="$from" -v b="$t1" 'BEGIN { print b - a }')" \
			'{ a[NR] = $1 } END { if (NR == 0 || secs <= 0) exit; r = int(NR * 0.99); if (r < NR * 0.99) r++
			printf "%.0f %.1f", NR / secs, a[r] / 1000 }'
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
unpublished() {
	psqlq -c "SELECT (SELECT count(*) FROM outbox_held) + (SELECT count(*) FROM outbox o WHERE
		(o.txid, o.sequence) > ((SELECT txid FROM outbox_position WHERE partition = 0), (SELECT sequence FROM outbox_position WHERE partition = 0))
		AND NOT EXISTS (SELECT 1 FROM outbox_held h WHERE h.sequence = o.sequence))"
}
# first_error NAME prints the first error line of $WORK/NAME.log.
first_error() {
	grep -m1 '^invoicing:' "$WORK/$1.log" || grep -m1 -E '"level":"ERROR"|level=ERROR' "$WORK/$1.log" || tail -n1 "$WORK/$1.log"
}

# ---------------------------------------------------------------- build
log "building into $WORK"
if [[ -n ${BENCH_BIN:-} ]]; then
	cp "$BENCH_BIN" "$WORK/invoicing"
	note "measured the prebuilt binary $BENCH_BIN"
else
	go build -o "$WORK/invoicing" ./cmd/invoicing
fi
go build -o "$WORK/invoicing-load" ./tools/load
go build -o "$WORK/jsbench" ./bench/jsbench
(cd bench/peers/watermill && go build -o "$WORK/watermill-peer" .)

# ---------------------------------------------------------------- NATS
if [[ -n ${BENCH_NATS_URL:-} ]]; then
	NATS_URL=$BENCH_NATS_URL
	note "using the JetStream server at $NATS_URL: the service's INVOICING stream there receives the benchmark's events"
else
	port_free "$NATS_PORT" || { echo "bench: port $NATS_PORT is taken; set BENCH_NATS_PORT" >&2; exit 1; }
	NATS_URL=nats://127.0.0.1:$NATS_PORT
	start nats nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$WORK/nats-store"
	for _ in $(seq 50); do port_free "$NATS_PORT" || break; sleep 0.1; done
	port_free "$NATS_PORT" && { cat "$WORK/nats.log" >&2; exit 1; }
fi

# ---------------------------------------------------------------- machine
CPU=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
MEM=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
GOV=$(go env GOVERSION)
PGV=$(psql -X -tA -d "$PG/postgres?sslmode=disable" -c "SHOW server_version")
AUTOVACUUM=$(psql -X -tA -d "$PG/postgres?sslmode=disable" -c "SHOW autovacuum")
PGBV=$(pgbench --version | awk '{print $3}')
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- database
log "database $DB"
psql -X -q -d "$PG/postgres?sslmode=disable" -c "CREATE DATABASE $DB"
export DATABASE_URL=$DBURL NATS_URL
"$WORK/invoicing" migrate up >"$WORK/migrate.log"
KEY=$("$WORK/invoicing" apikey create --tenant bench | tail -n1)

# ---------------------------------------------------------------- service
port_free "$HTTP_PORT" || { echo "bench: port $HTTP_PORT is taken; set BENCH_HTTP_PORT" >&2; exit 1; }
BASE=http://127.0.0.1:$HTTP_PORT
# start_serve RELAY_ENABLED: starts serve and waits until it answers; fails
# if it exits first.
start_serve() {
	local env=(HTTP_ADDR="127.0.0.1:$HTTP_PORT" RELAY_ENABLED="$1")
	[[ -n ${BENCH_PROFILE_DIR:-} ]] && env+=(PPROF_ADDR=127.0.0.1:16060)
	start serve env "${env[@]}" "$WORK/invoicing" serve
	SERVE=$STARTED
	for _ in $(seq 100); do
		kill -0 "$SERVE" 2>/dev/null || return 1
		[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$BASE/v1/invoices?limit=1") == 200 ]] && return 0
		sleep 0.1
	done
	return 1
}
RELAY_IN_SERVE=true
if ! start_serve true; then
	stop "$SERVE"
	note "serve with RELAY_ENABLED=true did not start ($(first_error serve)); measured with RELAY_ENABLED=false, without event delivery"
	RELAY_IN_SERVE=false
	start_serve false || { cat "$WORK/serve.log" >&2; exit 1; }
fi
EVENT_FLAGS=()
$RELAY_IN_SERVE && EVENT_FLAGS=(-wait-events -nats-url "$NATS_URL")

# sample_serve LOADPID: while the load tool pays at MAXC clients, records the
# service's peak VmRSS and the outbox backlog (max and last) to serve.sample.
sample_serve() {
	local load=$1 rss=0 max=0 hwm=0 backlog="" maxb=""
	echo "0 0 n/a n/a" >"$WORK/serve.sample"
	until grep -q "^paying at concurrency $MAXC " "$WORK/load.err"; do
		kill -0 "$load" 2>/dev/null || return 0
		sleep 0.2
	done
	if [[ -n ${BENCH_PROFILE_DIR:-} ]]; then
		curl -s -o "$BENCH_PROFILE_DIR/serve.cpu.pprof" "http://127.0.0.1:16060/debug/pprof/profile?seconds=$((SECS > 2 ? SECS - 1 : 1))" &
	fi
	while :; do
		rss=$(vm "$SERVE" VmRSS); ((rss > max)) && max=$rss
		if $RELAY_IN_SERVE; then
			backlog=$(unpublished); ((backlog > ${maxb:-0})) || [[ -z $maxb ]] && maxb=$backlog
		fi
		hwm=$(vm "$SERVE" VmHWM) # updated lazily by the kernel: never report it below a sampled RSS
		echo "$max $((hwm > max ? hwm : max)) ${maxb:-n/a} ${backlog:-n/a}" >"$WORK/serve.sample"
		kill -0 "$load" 2>/dev/null && ! grep -q "^finished concurrency $MAXC:" "$WORK/load.err" || break
		sleep 0.5
	done
}

# With autovacuum off (as on the machine this was written on), nothing
# removes the dead rows every payment and every published event leave, and
# the relay and the API slow down as they pile up, while each pgbench run
# starts from a vacuumed database (reset.sql). A loop stands in for
# autovacuum while the service runs, about once per level.
VACUUMER=""
if [[ $AUTOVACUUM == off ]]; then
	note "autovacuum is off on this PostgreSQL server: while the service ran, the script ran VACUUM (ANALYZE) on the benchmark database every ${SECS}s in its place"
	(while sleep "$SECS"; do psqlq -c "VACUUM (ANALYZE)" >/dev/null 2>&1 || true; done) &
	VACUUMER=$!
	PIDS+=("$VACUUMER")
fi

# The backlog through the whole sweep, once a second: events that wait in the
# outbox during the untimed set-up delay the paid events measured after it.
if $RELAY_IN_SERVE; then
	(while :; do echo "$(date +%s) $(unpublished 2>/dev/null || echo -)"; sleep 1; done) >"$WORK/backlog.samples" &
	PIDS+=($!)
	BACKLOG_WATCH=$!
fi

log "load sweep: concurrency $LEVELS, ${SECS}s each (${WARMUP}s warm-up), $INVOICES open invoices ready before each"
"$WORK/invoicing-load" -url "$BASE" -key "$KEY" -concurrency "$LEVELS" -duration "${SECS}s" -warmup "${WARMUP}s" \
	-invoices "$INVOICES" -json "${EVENT_FLAGS[@]}" >"$WORK/load.json" 2>"$WORK/load.err" &
LOADPID=$!
PIDS+=("$LOADPID")
sample_serve "$LOADPID"
wait "$LOADPID" || { cat "$WORK/load.err" >&2; exit 1; }
SERVE_RSS="" SERVE_HWM="" MAX_BACKLOG="" LAST_BACKLOG=""
read -r SERVE_RSS SERVE_HWM MAX_BACKLOG LAST_BACKLOG <"$WORK/serve.sample" || true
BEST=$(jq '[.levels[].rps] | max' "$WORK/load.json")
BESTC=$(jq '.levels | max_by(.rps) | .concurrency' "$WORK/load.json")

RATE_JSON=""
if $RELAY_IN_SERVE; then
	RATE=$(awk -v b="$BEST" 'BEGIN { r = int(b / 2); print (r < 1 ? 1 : r) }')
	log "commit-to-delivery at $RATE payments/s (half of $BEST), $BESTC clients"
	"$WORK/invoicing-load" -url "$BASE" -key "$KEY" -concurrency "$BESTC" -duration "${SECS}s" -warmup "${WARMUP}s" -rate "$RATE" \
		-invoices $((RATE * SECS + 100)) -json "${EVENT_FLAGS[@]}" >"$WORK/rate.json" 2>"$WORK/rate.err" ||
		{ cat "$WORK/rate.err" >&2; exit 1; }
	RATE_JSON=$WORK/rate.json
fi
stop "$SERVE"
[[ -n $VACUUMER ]] && stop "$VACUUMER"
SWEEP_BACKLOG=n/a
if $RELAY_IN_SERVE; then
	stop "$BACKLOG_WATCH"
	SWEEP_BACKLOG=$(awk '$2 ~ /^[0-9]+$/ && $2 > m { m = $2; t = NR } END { printf "max %d unpublished, %d s after the sweep began", m, t }' "$WORK/backlog.samples")
fi
# Warnings and errors the service logged under load, by message.
SERVE_WARNINGS=$(grep -E '"level":"(WARN|ERROR)"' "$WORK/serve.log" | grep -o '"msg":"[^"]*"' | sort | uniq -c | sort -rn |
	awk '{ n = $1; $1 = ""; sub(/^ "msg":/, ""); printf "%s%s x%d", (NR > 1 ? "; " : ""), $0, n }' || true)
[[ -n $SERVE_WARNINGS ]] && note "serve logged warnings or errors under load: $SERVE_WARNINGS"

# ---------------------------------------------------------------- relay drains
# drain N NAME: fills the outbox with N committed events (5 per invoice,
# interleaved as concurrent payments commit them), runs `invoicing relay`
# until none is unpublished, and sets DRAINED to "seconds events/s
# peak-rss-KiB". It fails (and sets DRAINED to why) if the relay exits first
# or has not drained within BENCH_DRAIN_TIMEOUT seconds (default 600).
drain() {
	local n=$1 name=$2 invoices=$(($1 / 5 > 0 ? $1 / 5 : 1))
	psqlq -c "TRUNCATE outbox, outbox_held" -c "INSERT INTO outbox (event_id, tenant_id, aggregate_id, aggregate_version, event_type, payload, occurred_at)
		SELECT gen_random_uuid(), '00000000-0000-7000-8000-0000000000b2',
		       ('bbbbbbbb' || lpad(to_hex(g % $invoices), 24, '0'))::uuid, g / $invoices + 1, 'invoice.paid',
		       '{\"invoice_id\": \"0190f7a8-0000-7000-8000-000000000003\", \"number\": \"INV-2026-000123\", \"customer\": {\"name\": \"Acme Corporation\", \"email\": \"accounts.payable@acme.example\"}, \"currency\": \"EUR\", \"total\": 123456, \"amount_paid\": 123456, \"paid_at\": \"2026-03-01T10:00:00.123456Z\"}',
		       now()
		FROM generate_series(0, $n - 1) AS g" -c "VACUUM ANALYZE outbox" >/dev/null
	local env=()
	[[ -n ${BENCH_PROFILE_DIR:-} && $name == backlog ]] && env+=(PPROF_ADDR=127.0.0.1:16061)
	local t0 t1 left hwm=0 deadline=$((SECONDS + ${BENCH_DRAIN_TIMEOUT:-600}))
	t0=$(date +%s.%N)
	start "relay-$name" env "${env[@]}" "$WORK/invoicing" relay
	local relay=$STARTED
	if [[ ${#env[@]} -gt 0 ]]; then
		(sleep 1; curl -s -o "$BENCH_PROFILE_DIR/relay.cpu.pprof" "http://127.0.0.1:16061/debug/pprof/profile?seconds=5") &
	fi
	while :; do
		if ! kill -0 "$relay" 2>/dev/null; then
			wait "$relay" 2>/dev/null || true
			DRAINED="exited: $(first_error "relay-$name")"
			return 1
		fi
		if ((SECONDS > deadline)); then
			stop "$relay"
			DRAINED="$(unpublished) of $n events still unpublished after ${BENCH_DRAIN_TIMEOUT:-600}s"
			return 1
		fi
		hwm=$(vm "$relay" VmHWM)
		left=$(unpublished)
		((left == 0)) && break
		sleep 0.1
	done
	t1=$(date +%s.%N)
	hwm=$(vm "$relay" VmHWM)
	stop "$relay"
	DRAINED=$(awk -v a="$t0" -v b="$t1" -v n="$n" -v h="$hwm" 'BEGIN { printf "%.2f %.0f %d", b - a, n / (b - a), h }')
	log "relay drained $n events: $DRAINED (seconds, events/s, VmHWM KiB)"
}
RELAY_EVENTS="" RELAY_BACKLOG=""
log "relay: draining $EVENTS, then $BACKLOG committed events"
if drain "$EVENTS" events; then
	RELAY_EVENTS=$DRAINED
	if drain "$BACKLOG" backlog; then
		RELAY_BACKLOG=$DRAINED
	else
		note "relay backlog drain of $BACKLOG events failed: $DRAINED"
	fi
else
	note "relay drain skipped: \`invoicing relay\` $DRAINED (not available yet?); relay throughput and RSS not measured"
fi
psqlq -c "TRUNCATE outbox, outbox_held" >/dev/null

# ---------------------------------------------------------------- peer and JetStream ceiling
log "Watermill forwarder: $EVENTS events"
WM_JSON=$("$WORK/watermill-peer" -db "$DBURL" -nats-url "$NATS_URL" -n "$EVENTS") ||
	{ note "Watermill peer failed"; WM_JSON='{}'; }
log "raw JetStream publish: $EVENTS async, $((EVENTS / 10)) sync"
JS_JSON=$("$WORK/jsbench" -nats-url "$NATS_URL" -n "$EVENTS") || { note "jsbench async failed"; JS_JSON='{}'; }
JSS_JSON=$("$WORK/jsbench" -nats-url "$NATS_URL" -n $((EVENTS / 10 > 0 ? EVENTS / 10 : 1)) -sync) ||
	{ note "jsbench sync failed"; JSS_JSON='{}'; }
NATSV=$(jq -r '.server_version // "?"' <<<"$JS_JSON")

log "Go benchmarks of internal/invoicing/relay (50,000 events, embedded nats-server)"
GOB_RELAY="" GOB_RELAY_ADJ="" GOB_JS="" GOB_RELAY_CPU="" GOB_JS_CPU=""
if go test -run '^$' -bench '^(BenchmarkRelayThroughput|BenchmarkJetStreamAsyncPublish)$' -benchtime 1x -count 1 \
	./internal/invoicing/relay/ >"$WORK/gobench.log" 2>&1; then
	# gob NAME [UNIT]: the benchmark's figure in UNIT (default events/s).
	gob() { awk -v b="$1" -v u="${2:-events/s}" '$1 ~ b { for (i = 2; i <= NF; i++) if ($i == u) printf "%.0f", $(i - 1) }' "$WORK/gobench.log"; }
	GOB_RELAY=$(gob '^BenchmarkRelayThroughput/10000_invoices_interleaved')
	GOB_RELAY_ADJ=$(gob '^BenchmarkRelayThroughput/100_events_per_invoice_adjacent')
	GOB_JS=$(gob '^BenchmarkJetStreamAsyncPublish')
	GOB_RELAY_CPU=$(gob '^BenchmarkRelayThroughput/10000_invoices_interleaved' 'cpu-µs/event')
	GOB_JS_CPU=$(gob '^BenchmarkJetStreamAsyncPublish' 'cpu-µs/event')
else
	note "the relay's Go benchmarks did not run: $(grep -m1 -E 'FAIL|cannot|error' "$WORK/gobench.log" || tail -n1 "$WORK/gobench.log")"
fi

# ---------------------------------------------------------------- pgbench ceiling
PGB_INVOICES=${BENCH_PGBENCH_INVOICES:-$((6000 * SECS))}
log "pgbench: seeding $PGB_INVOICES invoices"
psql -X -q -d "$DBURL" -v invoices="$PGB_INVOICES" -f bench/pgbench/seed.sql
declare -A TPS P99
# pgb SCRIPT CLIENTS: resets the seed and runs pgbench; sets TPS/P99[SCRIPT.CLIENTS].
# pgb NAME CLIENTS runs NAME.sql, from $WORK if the script derived it, else
# from bench/pgbench.
pgb() {
	local script=$1 c=$2 dir="$WORK/pgb/$1.$2" file="bench/pgbench/$1.sql"
	[[ -f $WORK/$script.sql ]] && file="$WORK/$script.sql"
	mkdir -p "$dir"
	psql -X -q -d "$DBURL" -f bench/pgbench/reset.sql
	if ! pgbench -n -M prepared -c "$c" -j $((c < 2 ? c : 2)) -T "$SECS" -D i=0 -D clients="$c" -D invoices="$PGB_INVOICES" \
		-l --log-prefix="$dir/tx" -f "$file" "$DBURL" >"$dir/out.log" 2>&1; then
		note "pgbench $script at $c clients reported errors: $(grep -m1 -iE 'error|abort' "$dir/out.log")"
	fi
	TPS[$script.$c]="" P99[$script.$c]=""
	read -r "TPS[$script.$c]" "P99[$script.$c]" <<<"$(pgstats "$dir"/tx*)" || true
	[[ -n ${TPS[$script.$c]} ]] || note "pgbench $script at $c clients completed no transaction after the warm-up (connecting took longer?)"
	log "pgbench $script c=$c: ${TPS[$script.$c]:-n/a} TPS, p99 ${P99[$script.$c]:-n/a} ms"
}
for c in "${LEVEL_LIST[@]}"; do pgb pay "$c"; done
# The NOTIFY variant is pay.sql with one pg_notify added to the write
# pipeline (before its closing \endpipeline, the last one in the file): the
# wake-up design the relay avoids, since PostgreSQL serializes the commits of
# notifying transactions on one global lock.
awk -v last="$(grep -n '^\\endpipeline' bench/pgbench/pay.sql | tail -n1 | cut -d: -f1)" \
	-v stmt="SELECT pg_notify('invoicing_outbox', '');" \
	'NR == last { print stmt } { print }' bench/pgbench/pay.sql >"$WORK/pay_notify.sql"
for c in "${LEVEL_LIST[@]}"; do pgb pay_notify "$c"; done
BARE_C=${BENCH_BARE_CLIENTS:-16}
pgb bare "$BARE_C"

# ---------------------------------------------------------------- pay path, light client
# bench/pay.sh: the same binary paid by wrk (a client as light as pgbench's)
# beside pgbench, interleaved, with the CPU per payment on both sides and a
# profile of serve. A failure there (an error answer, a socket error) is
# reported and fails the run once the report is written.
PAY_FAILED=0
log "pay path: wrk and pgbench side by side (bench/pay.sh)"
if ! BENCH_AFTER=$WORK/invoicing BENCH_PAY_DURATION=$((SECS < 4 ? 4 : SECS)) BENCH_PAY_CONCURRENCY=$LEVELS \
	BENCH_PAY_ROUNDS=${BENCH_PAY_ROUNDS:-$((SMOKE ? 1 : 3))} BENCH_PAY_OUT="$WORK/pay.md" BENCH_PG=$PG \
	bash bench/pay.sh 2>"$WORK/pay.log"; then
	PAY_FAILED=1
	note "**bench/pay.sh failed**: $(grep -m1 'FAILED' "$WORK/pay.log" || tail -n1 "$WORK/pay.log")"
fi

# ---------------------------------------------------------------- report
log "writing $OUT"
yesno() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { if (v == "" || v == "n/a") print "n/a"; else if ((op == ">=" && v + 0 >= t) || (op == "<=" && v + 0 <= t)) print "yes"; else print "**no**" }'; }
# lvl C FILTER applies a jq filter to the load sweep's result at C clients;
# r1 rounds to one decimal.
lvl() { jq -r --argjson c "$1" "def r1: . * 10 | round / 10; .levels[] | select(.concurrency == \$c) | $2" "$WORK/load.json"; }
ERRS='(.errors | to_entries | map("\(.key): \(.value)") | join(", ")) as $e
	| (if $e == "" then "0" else $e end) + (if .exhausted then " (ran out of invoices)" else "" end)'

WM=$(jq -r '.events_per_s // empty | floor' <<<"$WM_JSON")
JS=$(jq -r '.msgs_per_s // empty | floor' <<<"$JS_JSON")
JSS=$(jq -r '.msgs_per_s // empty | floor' <<<"$JSS_JSON")
read -r RE_SECS RE_RATE RE_HWM <<<"${RELAY_EVENTS:-"" "" ""}"
read -r RB_SECS RB_RATE RB_HWM <<<"${RELAY_BACKLOG:-"" "" ""}"
C2D_P99="" C2D_P50="" RATE_CAP="" RATE_GOT=""
if [[ -n $RATE_JSON ]]; then
	C2D_P99=$(jq -r '.levels[0].events.p99_ms * 10 | round / 10' "$RATE_JSON")
	C2D_P50=$(jq -r '.levels[0].events.p50_ms * 10 | round / 10' "$RATE_JSON")
	RATE_CAP=$(jq -r '.levels[0].rate_cap' "$RATE_JSON")
	RATE_GOT=$(jq -r '.levels[0] | "achieved \(.rps | floor)/s, \(.events.received)/\(.events.expected) events, max \(.events.max_ms | floor) ms"' "$RATE_JSON")
fi
# reports writes the index of the benchmark reports: this one and those the
# other scripts write beside it, linked once they exist.
reports() {
	local dir f what by
	dir=$(dirname "$OUT")
	echo "## The reports"
	echo
	echo "This file is the index of the benchmark reports; each script rewrites its own."
	echo
	echo "| Report | What | Written by |"
	echo "|---|---|---|"
	echo "| this file | pay over HTTP vs the same SQL in pgbench, the relay vs raw JetStream and Watermill, the outbox backlog, RSS, three serve replicas; the method | \`make bench\` (\`bench/run.sh\`, \`bench/replicas.sh\`) |"
	while IFS='|' read -r f what by; do
		if [[ -e $dir/$f ]]; then
			echo "| [$f]($f) | $what | $by |"
		else
			echo "| $f (not run yet) | $what | $by |"
		fi
	done <<'EOF_REPORTS'
benchmarks-pay.md|the pay path with a light client (wrk) beside pgbench, CPU per payment, profiles of serve; contention on one invoice|`make bench-pay` (`bench/pay.sh`)
benchmarks-pay-hot.md|the same at 16 clients all paying one invoice in small parts|`make bench-pay-hot`
benchmarks-notification.md|the notification consumer: ingest, commit to SMTP|`bench/notify.sh`, part of `make bench`
benchmarks-webhooks.md|webhook deliveries, commit to webhook, a maximal fan-out, one tenant's hanging endpoints beside another's|`bench/webhooks.sh`, part of `make bench`
EOF_REPORTS
	echo
}

mkdir -p "$(dirname "$OUT")"
{
	echo "# Benchmarks"
	echo
	if ((SMOKE)); then
		echo "> **SMOKE RUN — not a measurement.** ${SECS}s per level, $EVENTS events, a $BACKLOG-event backlog,"
		echo "> on a machine busy with other work. It shows that \`make bench\` works end to end; the figures"
		echo "> below are not representative. Run \`make bench\` (defaults) on a quiet machine for real ones."
		echo
	fi
	echo "Generated by \`make bench\` (bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'). Every figure comes from this one run"
	echo "on this one machine; rerun it on yours to check them."
	echo
	reports
	echo "## Machine"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| CPU | $(nproc) cores, $CPU |"
	echo "| Memory | $MEM |"
	echo "| Load average at start | $LOAD1 |"
	echo "| Go | $GOV |"
	PGSET="server defaults"
	[[ $AUTOVACUUM == off ]] && PGSET="server defaults except autovacuum = off (see the notes)"
	echo "| PostgreSQL | $PGV (pgbench $PGBV), $PGSET |"
	echo "| NATS | nats-server $NATSV at $NATS_URL$([[ -z ${BENCH_NATS_URL:-} ]] && echo ' (private instance started by the script, default sync)'); Go benchmarks: embedded nats-server from go.mod |"
	echo "| Settings | BENCH_DURATION=${SECS}s (first ${WARMUP}s of each level not counted), BENCH_CONCURRENCY=$LEVELS, BENCH_EVENTS=$EVENTS, BENCH_BACKLOG=$BACKLOG; service defaults (DB_MAX_CONNS=20, LOG_LEVEL=info, RELAY_ENABLED=$RELAY_IN_SERVE) |"
	echo
	echo "## Against the targets"
	echo
	echo "| Measure | Measured | Reference | Ratio | Target | Met |"
	echo "|---|---|---|---|---|---|"
	for c in "${LEVEL_LIST[@]}"; do
		r=$(ratio "$(lvl "$c" .rps)" "${TPS[pay.$c]}")
		t="—" m="—"
		[[ $c == 16 ]] && t="≥ 0.60" && m=$(yesno "$r" 0.60 ">=")
		echo "| Pay throughput, $c client$( ((c > 1)) && echo s) | $(lvl "$c" '.rps | floor') req/s | pgbench pay script ${TPS[pay.$c]:-n/a} TPS | $r | $t | $m |"
	done
	r=$(ratio "$GOB_RELAY" "$GOB_JS")
	echo "| Relay vs raw JetStream (Go benchmarks, 50,000 events) | ${GOB_RELAY:-n/a} events/s | async publish ${GOB_JS:-n/a} msgs/s | $r | ≥ 0.50 | $(yesno "$r" 0.50 ">=") |"
	r=$(ratio "$GOB_JS_CPU" "$GOB_RELAY_CPU")
	echo "| Relay vs raw JetStream by CPU per event (the same Go benchmarks; PostgreSQL's backends counted) | ${GOB_RELAY_CPU:-n/a} µs/event | async publish ${GOB_JS_CPU:-n/a} µs/event | $r | ≥ 0.50 | $(yesno "$r" 0.50 ">=") |"
	r=$(ratio "$RE_RATE" "$JS")
	echo "| Relay process vs raw JetStream (same server, $EVENTS events) | ${RE_RATE:-n/a} events/s | jsbench async ${JS:-n/a} msgs/s | $r | ≥ 0.50 | $(yesno "$r" 0.50 ">=") |"
	r=$(ratio "$RE_RATE" "$WM")
	echo "| Relay process vs Watermill forwarder ($EVENTS events) | ${RE_RATE:-n/a} events/s | Watermill ${WM:-n/a} events/s | $r | ≥ 3 | $(yesno "$r" 3 ">=") |"
	echo "| Outbox backlog over the whole sweep and the paced run (set-up included, sampled every second) | $SWEEP_BACKLOG | — | — | — | — |"
	echo "| Outbox backlog under $MAXC clients | max ${MAX_BACKLOG:-n/a}, last ${LAST_BACKLOG:-n/a} unpublished | — | — | bounded | $([[ $RELAY_IN_SERVE == true ]] && echo "see figures" || echo n/a) |"
	echo "| Commit-to-delivery p99 at half the best pay rate (${RATE_CAP:-n/a}/s) | ${C2D_P99:-n/a} ms (p50 ${C2D_P50:-n/a}; ${RATE_GOT:-not run}) | — | — | ≤ 25 ms | $(yesno "$C2D_P99" 25 "<=") |"
	echo "| Service RSS under $MAXC clients | $(mib "$SERVE_RSS") MiB (VmHWM over the run $(mib "$SERVE_HWM")) | — | — | ≤ 64 MiB | $(yesno "$(mib "$SERVE_RSS")" 64 "<=") |"
	echo "| Relay RSS draining $BACKLOG events | $([[ -n $RB_HWM ]] && mib "$RB_HWM" || echo n/a) MiB VmHWM | — | — | ≤ 100 MiB at 1,000,000 | $([[ -n $RB_HWM ]] && yesno "$(mib "$RB_HWM")" 100 "<=" || echo n/a)$([[ -n $RB_HWM ]] && ((BACKLOG < 1000000)) && echo " (smaller backlog)") |"
	echo
	echo "## Pay over HTTP vs the same SQL in pgbench"
	echo
	echo "The service: \`invoicing-load\` paying fresh open invoices (3 lines, one full payment each) through"
	echo "\`POST /v1/invoices/{id}/payments\`. pgbench: \`bench/pgbench/pay.sql\`, the same statements in the same three round"
	echo "trips (\`-M prepared\`, pipelined like pgx), with and without a \`pg_notify\` per transaction. Latencies in ms."
	echo
	echo "| Clients | Service req/s | p50 | p95 | p99 | errors | pgbench TPS | p99 | service / pgbench | with NOTIFY TPS | p99 | events received | commit-to-delivery p50 / p99 |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for c in "${LEVEL_LIST[@]}"; do
		echo "| $c | $(lvl "$c" '.rps | floor') | $(lvl "$c" '.p50_ms | r1') | $(lvl "$c" '.p95_ms | r1') | $(lvl "$c" '.p99_ms | r1') | $(lvl "$c" "$ERRS") | ${TPS[pay.$c]:-n/a} | ${P99[pay.$c]:-n/a} | $(ratio "$(lvl "$c" .rps)" "${TPS[pay.$c]}") | ${TPS[pay_notify.$c]:-n/a} | ${P99[pay_notify.$c]:-n/a} | $(lvl "$c" 'if .events then "\(.events.received)/\(.events.expected)" else "n/a" end') | $(lvl "$c" 'if .events then "\(.events.p50_ms | r1) / \(.events.p99_ms | r1)" else "n/a" end') |"
	done
	echo
	echo "Bare single-row INSERT commits (\`bench/pgbench/bare.sql\`, $BARE_C clients): ${TPS[bare.$BARE_C]:-n/a} TPS, p99 ${P99[bare.$BARE_C]:-n/a} ms."
	echo
	echo "## Events: relay, raw JetStream, Watermill"
	echo
	echo "| What | Events | Rate | Notes |"
	echo "|---|---|---|---|"
	echo "| \`invoicing relay\` draining a committed backlog | $EVENTS | ${RE_RATE:-n/a} events/s | ${RE_SECS:-n/a} s from process start to an empty queue; VmHWM $([[ -n $RE_HWM ]] && mib "$RE_HWM" || echo n/a) MiB |"
	echo "| \`invoicing relay\` draining a committed backlog | $BACKLOG | ${RB_RATE:-n/a} events/s | ${RB_SECS:-n/a} s; VmHWM $([[ -n $RB_HWM ]] && mib "$RB_HWM" || echo n/a) MiB |"
	echo "| jsbench: async publish, ≤ 4096 in flight, Nats-Msg-Id, 500 B | $EVENTS | ${JS:-n/a} msgs/s | the relay's ceiling on this server |"
	echo "| jsbench: sync publish, one at a time | $((EVENTS / 10)) | ${JSS:-n/a} msgs/s | |"
	echo "| Watermill SQL outbox + forwarder + watermill-nats | $EVENTS | ${WM:-n/a} events/s | $(jq -r '"pre-inserted in \(.insert_seconds // "?" | tostring | .[0:5]) s (untimed); one synchronous publish per message"' <<<"$WM_JSON") |"
	echo "| Go: BenchmarkRelayThroughput, 10,000 invoices interleaved | 50000 | ${GOB_RELAY:-n/a} events/s | embedded nats-server |"
	echo "| Go: BenchmarkRelayThroughput, 100 events per invoice adjacent | 50000 | ${GOB_RELAY_ADJ:-n/a} events/s | embedded nats-server |"
	echo "| Go: BenchmarkJetStreamAsyncPublish | 50000 | ${GOB_JS:-n/a} msgs/s | embedded nats-server |"
	echo
	if ((${#NOTES[@]})); then
		echo "## Notes from this run"
		echo
		for n in "${NOTES[@]}"; do echo "- $n"; done
		echo
	fi
	[[ -s $WORK/pay.md ]] && { cat "$WORK/pay.md"; echo; }
	cat bench/README.md | sed -n '/^## Method/,$p'
} >"$OUT"
log "done: $OUT"
# The relay's targets, printed as well as written.
r=$(ratio "$GOB_RELAY" "$GOB_JS")
log "relay vs raw JetStream, Go benchmarks in one run: ${GOB_RELAY:-n/a} / ${GOB_JS:-n/a} events/s = $r (target >= 0.50: $(yesno "$r" 0.50 ">="))"
r=$(ratio "$GOB_JS_CPU" "$GOB_RELAY_CPU")
log "relay vs raw JetStream by CPU per event: raw ${GOB_JS_CPU:-n/a} / relay ${GOB_RELAY_CPU:-n/a} µs = $r (target >= 0.50: $(yesno "$r" 0.50 ">="))"
r=$(ratio "$RE_RATE" "$JS")
log "relay process vs jsbench async, same server: ${RE_RATE:-n/a} / ${JS:-n/a} events/s = $r (target >= 0.50: $(yesno "$r" 0.50 ">="))"
log "commit-to-delivery p99 at half the best pay rate (${RATE_CAP:-n/a}/s): ${C2D_P99:-n/a} ms, p50 ${C2D_P50:-n/a} ms (target <= 25 ms: $(yesno "$C2D_P99" 25 "<="))"
((PAY_FAILED == 0)) || { log "FAILED: bench/pay.sh (see the notes in $OUT)"; exit 1; }
