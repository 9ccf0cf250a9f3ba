#!/usr/bin/env bash
# bench/c2d.sh: commit-to-delivery of one or two `invoicing` binaries side by
# side in one run: `invoicing serve` (relay inside) paid through
# the public API by tools/load at a paced rate, an ordered consumer on
# INVOICING timing each invoice.paid event from its CloudEvent `time` (taken
# just before the commit) to its arrival. Rounds alternate the binaries; each
# has its own database, both use one private nats-server.
#
# Settings (environment):
#   BENCH_AFTER              git revision or `invoicing` binary (default: this working tree)
#   BENCH_BEFORE             the same, for the comparison (default: none)
#   BENCH_C2D_RATE           payments/s (default 350: half the best pay rate of docs/benchmarks.md)
#   BENCH_C2D_CONCURRENCY    clients (default 16)
#   BENCH_C2D_DURATION       seconds per run (default 15; the first fifth, at most 2 s, not counted)
#   BENCH_C2D_ROUNDS         rounds (default 2)
#   BENCH_PG                 PostgreSQL server URL without database
#   BENCH_HTTP_PORT          service port (default 18095)
#   BENCH_NATS_PORT          private nats-server port (default 14232)
#   BENCH_C2D_FLOOR          1: after each round, pgbench runs bench/pgbench/pay.sql (the
#                            service's pay transaction) at the same rate and clients, and
#                            its latency p50/p99 is printed: PostgreSQL's own part of a
#                            payment, commit included, at that load (the physical floor)
#
# Prints one line per run and a summary against the target (p99 <= 25 ms),
# with the pay requests' p99 (the payment's commit is inside it), the
# relay's p99 per stage (relay_event_stage_seconds, scraped from
# serve's /metrics over the measured part of each run) and the machine's
# 1-minute load average at the end of each run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RATE=${BENCH_C2D_RATE:-350}
CONC=${BENCH_C2D_CONCURRENCY:-16}
SECS=${BENCH_C2D_DURATION:-15}
ROUNDS=${BENCH_C2D_ROUNDS:-2}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
PORT=${BENCH_HTTP_PORT:-18095}
NATS_PORT=${BENCH_NATS_PORT:-14232}
WARMUP=$(awk -v s="$SECS" 'BEGIN { w = s / 5; if (w > 2) w = 2; printf "%.1f", w }')
for tool in go psql nats-server jq curl $([[ ${BENCH_C2D_FLOOR:-} == 1 ]] && echo pgbench); do
	command -v "$tool" >/dev/null || { echo "c2d: $tool is required" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/invoicing-c2d.XXXXXX)
PIDS=()
DBS=()
log() { printf '[bench-c2d %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	for db in "${DBS[@]}"; do
		psql -X -q -d "$PG/postgres?sslmode=disable" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
	done
	[[ $rc == 0 ]] && rm -rf "$WORK" || log "work directory kept: $WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# build NAME SPEC: an `invoicing` binary in $WORK/NAME from SPEC (a file, a
# git revision, or empty: this working tree).
build() {
	local name=$1 spec=$2 dir=$WORK/$1
	mkdir -p "$dir"
	if [[ -z $spec ]]; then
		go build -o "$dir/invoicing" ./cmd/invoicing
	elif [[ -f $spec ]]; then
		cp "$spec" "$dir/invoicing"
	else
		local rev
		rev=$(git rev-parse --verify --quiet "$spec^{commit}") || die "$spec is neither a file nor a git revision"
		mkdir -p "$dir/src"
		git archive "$rev" | tar -x -C "$dir/src"
		(cd "$dir/src" && go build -o "$dir/invoicing" ./cmd/invoicing) || die "building $spec failed"
	fi
	log "$name: ${spec:-working tree}"
}
SIDES=()
[[ -n ${BENCH_BEFORE:-} ]] && { build before "$BENCH_BEFORE"; SIDES+=(before); }
build after "${BENCH_AFTER:-}"
SIDES+=(after)
go build -o "$WORK/invoicing-load" ./tools/load

port_free "$NATS_PORT" || die "port $NATS_PORT is taken; set BENCH_NATS_PORT"
port_free "$PORT" || die "port $PORT is taken; set BENCH_HTTP_PORT"
NATS_URL=nats://127.0.0.1:$NATS_PORT
nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$WORK/nats-store" >"$WORK/nats.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do port_free "$NATS_PORT" || break; sleep 0.1; done

declare -A KEY URL
for side in "${SIDES[@]}"; do
	db=c2d_${side}_$(date +%s)_$$
	DBS+=("$db")
	URL[$side]="$PG/$db?sslmode=disable"
	psql -X -q -d "$PG/postgres?sslmode=disable" -c "CREATE DATABASE $db"
	DATABASE_URL=${URL[$side]} NATS_URL=$NATS_URL "$WORK/$side/invoicing" migrate up >/dev/null
	KEY[$side]=$(DATABASE_URL=${URL[$side]} NATS_URL=$NATS_URL "$WORK/$side/invoicing" apikey create --tenant c2d | tail -n1)
done

# run SIDE ROUND: serve of SIDE paid at RATE; appends "side p50 p99 max
# received/expected rps" to $WORK/results.
run() {
	local side=$1 round=$2 serve
	DATABASE_URL=${URL[$side]} NATS_URL=$NATS_URL HTTP_ADDR=127.0.0.1:$PORT "$WORK/$side/invoicing" serve \
		>"$WORK/serve.$side.$round.log" 2>&1 &
	serve=$!
	PIDS+=("$serve")
	for _ in $(seq 100); do
		kill -0 "$serve" 2>/dev/null || die "serve ($side) exited: $(tail -n1 "$WORK/serve.$side.$round.log")"
		[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${KEY[$side]}" "http://127.0.0.1:$PORT/v1/invoices?limit=1") == 200 ]] && break
		sleep 0.1
	done
	"$WORK/invoicing-load" -url "http://127.0.0.1:$PORT" -key "${KEY[$side]}" -concurrency "$CONC" -duration "${SECS}s" \
		-warmup "${WARMUP}s" -rate "$RATE" -invoices $((RATE * SECS + 100)) -json -wait-events -nats-url "$NATS_URL" -metrics-url "http://127.0.0.1:$PORT/metrics" \
		>"$WORK/load.$side.$round.json" 2>"$WORK/load.$side.$round.err" || die "invoicing-load ($side): $(tail -n1 "$WORK/load.$side.$round.err")"
	kill "$serve"
	wait "$serve" 2>/dev/null || true
	local load
	load=$(cut -d' ' -f1 /proc/loadavg)
	jq -r --arg s "$side" --arg load "$load" '.levels[0] | "\($s) \(.events.p50_ms) \(.events.p99_ms) \(.events.max_ms) \(.events.received)/\(.events.expected) \(.rps) \($load) \(.p99_ms) " +
		([.stages[$stages[]] | .p99_ms // "-" | tostring] | join(" "))' --argjson stages "$STAGES_JSON" \
		"$WORK/load.$side.$round.json" | tee -a "$WORK/results" >&2
}
STAGES=(commit_to_wake wake_to_claimed claimed_to_sent sent_to_acked acked_to_marked)
STAGES_JSON=$(printf '%s\n' "${STAGES[@]}" | jq -R . | jq -sc .)
# floor ROUND: pgbench pays at RATE with CONC clients on its own seeded
# database; appends "pgbench p50 p99 max tps load1" (ms) to $WORK/floor.
floor() {
	local out=$WORK/pgbench.$1
	psql -X -q -d "${URL[pgbench]}" -f bench/pgbench/reset.sql >/dev/null
	mkdir -p "$out.d"
	(cd "$out.d" && pgbench -n -M prepared -c "$CONC" -j 2 -T "$SECS" -R "$RATE" -l -D i=0 -D clients="$CONC" \
		-D invoices="$PGB_INVOICES" -f "$ROOT/bench/pgbench/pay.sql" "${URL[pgbench]}" >"$out.txt" 2>&1) ||
		die "pgbench: $(grep -m1 -iE 'error|abort' "$out.txt")"
	local load
	load=$(cut -d' ' -f1 /proc/loadavg)
	# Log lines: client tx latency(us) script epoch epoch_us lag(us); the
	# first fifth of the run is left out, as for the service.
	cat "$out.d"/pgbench_log.* | awk -v w="$WARMUP" 'NR == FNR { if (t0 == "" || $5 < t0) t0 = $5; next } $5 - t0 >= w { print $3 / 1000 }' \
		<(cat "$out.d"/pgbench_log.*) - | sort -n | awk -v l="$load" '{ v[NR] = $1 }
		END { printf "pgbench %.2f %.2f %.2f %d %s\n", v[int(NR * 0.5)], v[int(NR * 0.99)], v[NR], NR, l }' |
		tee -a "$WORK/floor" >&2
	rm -rf "$out.d"
}
if [[ ${BENCH_C2D_FLOOR:-} == 1 ]]; then
	db=c2d_pgbench_$(date +%s)_$$
	DBS+=("$db")
	URL[pgbench]="$PG/$db?sslmode=disable"
	PGB_INVOICES=$((RATE * SECS * ROUNDS + 1000))
	psql -X -q -d "$PG/postgres?sslmode=disable" -c "CREATE DATABASE $db"
	DATABASE_URL=${URL[pgbench]} NATS_URL=$NATS_URL "$WORK/after/invoicing" migrate up >/dev/null
	psql -X -q -d "${URL[pgbench]}" -v invoices="$PGB_INVOICES" -f bench/pgbench/seed.sql >/dev/null
fi

log "commit-to-delivery at $RATE payments/s, $CONC clients, ${SECS}s per run, $ROUNDS rounds: side p50 p99 max (ms) events rps load1 pay-p99, then p99 (ms) of ${STAGES[*]}"
for round in $(seq "$ROUNDS"); do
	for side in "${SIDES[@]}"; do run "$side" "$round"; done
	[[ ${BENCH_C2D_FLOOR:-} == 1 ]] && floor "$round"
done

echo "| Binary | Runs | c2d p50 (ms, median) | c2d p99 (ms, median) | worst p99 | Target p99 ≤ 25 ms | load1 (median) | pay request p99 (ms, median) | stage p99s (ms, median): ${STAGES[*]} |"
echo "|---|---|---|---|---|---|---|---|---|"
for side in "${SIDES[@]}"; do
	awk -v s="$side" '$1 == s { n++; p50[n] = $2; p99[n] = $3; if ($3 > w) w = $3; ld[n] = $7; rq[n] = $8
			for (k = 9; k <= NF; k++) st[k, n] = $k; nf = NF }
		function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		END { m = med(p99, n); stages = ""
			for (k = 9; k <= nf; k++) { for (i = 1; i <= n; i++) col[i] = st[k, i] + 0; stages = stages sprintf("%s%.1f", k > 9 ? " / " : "", med(col, n)) }
			printf "| %s | %d | %.1f | %.1f | %.1f | %s | %.2f | %.1f | %s |\n", s, n, med(p50, n), m, w, (m <= 25 ? "yes" : "**no**"), med(ld, n), med(rq, n), stages }' "$WORK/results"
done
if [[ -s $WORK/floor ]]; then
	awk '{ printf "| pgbench pay.sql (floor) | run %d | %.1f | %.1f | %.1f | %d transactions | %s | | |\n", NR, $2, $3, $4, $5, $6 }' "$WORK/floor"
fi
