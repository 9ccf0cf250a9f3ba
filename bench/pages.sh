#!/usr/bin/env bash
# bench/pages.sh: serve's peak RSS while clients page through the largest
# invoices the limits allow. Not a timed test: run it by
# hand and compare binaries (BENCH_BIN).
#
#   1. a fresh database; `invoicing serve` with RELAY_ENABLED=false (no NATS
#      needed: what is measured is the API's reading, not publishing);
#   2. bench/pages creates BENCH_INVOICES invoices of 500 lines of 500
#      four-byte characters and issues them;
#   3. serve's peak RSS is reset (/proc/PID/clear_refs), then BENCH_CLIENTS
#      clients at once read every page of the list (limit=100) and of the
#      feed (limit=1000), and every invoice, its lines and its history;
#   4. it prints serve's RSS before, its peak during 3, and the load's summary
#      (requests, bytes, the largest response).
#
# Settings: BENCH_INVOICES (default 100), BENCH_CLIENTS (10), BENCH_PG
# (postgres://postgres@127.0.0.1:5432), BENCH_HTTP_PORT (18081), BENCH_BIN (a
# prebuilt `invoicing` to measure instead of building ./cmd/invoicing).
set -euo pipefail
cd "$(dirname "$0")/.."

INVOICES=${BENCH_INVOICES:-100}
CLIENTS=${BENCH_CLIENTS:-10}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
PORT=${BENCH_HTTP_PORT:-18081}
WORK=$(mktemp -d /tmp/invoicing-pages.XXXXXX)
DB=pages_$(date +%s)_$$
SERVE=""

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n $SERVE ]]; then
		kill "$SERVE" 2>/dev/null || true
		wait "$SERVE" 2>/dev/null || true
	fi
	psql -X -q -d "$PG/postgres?sslmode=disable" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true
	if ((rc == 0)); then rm -rf "$WORK"; else echo "pages: work directory kept: $WORK" >&2; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

vm() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
mib() { awk -v k="${1:-0}" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

if [[ -n ${BENCH_BIN:-} ]]; then cp "$BENCH_BIN" "$WORK/invoicing"; else go build -o "$WORK/invoicing" ./cmd/invoicing; fi
go build -o "$WORK/pages" ./bench/pages

psql -X -q -d "$PG/postgres?sslmode=disable" -c "CREATE DATABASE $DB"
export DATABASE_URL="$PG/$DB?sslmode=disable"
"$WORK/invoicing" migrate up >"$WORK/migrate.log"
KEY=$("$WORK/invoicing" apikey create --tenant pages | tail -n1)

HTTP_ADDR=127.0.0.1:$PORT RELAY_ENABLED=false "$WORK/invoicing" serve >"$WORK/serve.log" 2>&1 &
SERVE=$!
for _ in $(seq 100); do
	[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/v1/invoices?limit=1") == 200 ]] && break
	kill -0 "$SERVE" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
	sleep 0.1
done

echo "seeding $INVOICES invoices" >&2
"$WORK/pages" -url "http://127.0.0.1:$PORT" -key "$KEY" -invoices "$INVOICES" -clients 0 >/dev/null
BEFORE=$(vm "$SERVE" VmRSS)
echo 5 >"/proc/$SERVE/clear_refs" # VmHWM := VmRSS: the peak below is the paging's alone

echo "$CLIENTS clients paging" >&2
"$WORK/pages" -url "http://127.0.0.1:$PORT" -key "$KEY" -invoices 0 -clients "$CLIENTS" >"$WORK/load.json" 2>"$WORK/load.err" &
LOAD=$!
PEAK=0
while kill -0 "$LOAD" 2>/dev/null; do
	rss=$(vm "$SERVE" VmRSS)
	((rss > PEAK)) && PEAK=$rss
	sleep 0.05
done
LOADRC=0
wait "$LOAD" || LOADRC=$? # a failed load is a result too: print it with the peak
HWM=$(vm "$SERVE" VmHWM) # the kernel's peak, which a sample can miss
((HWM > PEAK)) && PEAK=$HWM
echo "invoices=$INVOICES clients=$CLIENTS serve_rss_before=$(mib "$BEFORE") serve_peak_rss=$(mib "$PEAK") load=$(cat "$WORK/load.json" "$WORK/load.err")"
exit "$LOADRC"
