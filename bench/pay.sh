#!/usr/bin/env bash
# bench/pay.sh (part of `make bench`; `make bench-pay`, `make bench-pay-quick`):
# the pay path measured fairly, side by side in one run on one machine:
#
#   - the service (`invoicing serve`, relay off: the pay path alone, like
#     pgbench's script) driven by wrk and bench/pay.lua, a C client as light
#     as pgbench's: every request pays a distinct, open, 3-line invoice in
#     full with a unique reference;
#   - pgbench running bench/pgbench/pay.sql (the service's statements in its
#     three round trips) at the same client counts;
#   - optionally two binaries of the service ("before" and "after", each a git
#     revision or a built binary), each with its own database;
#
# interleaved round by round (the order rotates each round), reporting
# medians. Over every measured run it also reads /proc: utime+stime of serve,
# of the PostgreSQL backends of the run's database and of the load generator,
# divided by the payments committed in the same window (rows in `payments`),
# the CPU per payment, far steadier than throughput on a shared machine. Then
# one uncounted run per binary at 16 clients with a CPU profile of serve.
#
# Settings (environment):
#   BENCH_AFTER            git revision or path to an `invoicing` binary
#                          (default: ./cmd/invoicing of this working tree)
#   BENCH_BEFORE           the same, for the comparison (default: none)
#   BENCH_PAY_DURATION     seconds per measured run (default 15)
#   BENCH_PAY_WARMUP       seconds of the uncounted run before each (default 2)
#   BENCH_PAY_CONCURRENCY  client counts (default 1,4,16,64)
#   BENCH_PAY_ROUNDS       rounds (default 3)
#   BENCH_PAY_RATE_CAP     payments/s the invoice pool is sized for (default 3000)
#   BENCH_PAY_SHORT=1      a quick check: 16 clients, 5 s, 1 round, report to stdout
#   BENCH_PAY_HOT=1        the hot invoice: every connection pays the same open invoice
#                          in parts of 1 cent (all move on to a fresh one every 80
#                          payments), no If-Match; answers refused for the contention
#                          are counted, not fatal, and throughput is payments committed
#                          per second (pgbench still pays distinct invoices in full)
#   BENCH_PAY_PROFILE=0    no profile run
#   BENCH_PAY_OUT          report (default docs/benchmarks-pay.md, docs/benchmarks-pay-hot.md
#                          with BENCH_PAY_HOT=1; run.sh puts it in docs/benchmarks.md)
#   BENCH_PG               PostgreSQL server URL without database
#   BENCH_HTTP_PORT        first of the two service ports (default 18090)
#   BENCH_KEEP=1           keep the work directory
#
# Fails (exit 1) on any non-2xx answer, socket error, pool exhaustion or
# pgbench error: a figure with errors in it is not a figure.
#
# Compare main with a branch:
#   BENCH_BEFORE=main BENCH_AFTER=h9-writepath make bench-pay
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SECS=${BENCH_PAY_DURATION:-15}
WARM=${BENCH_PAY_WARMUP:-2}
LEVELS=${BENCH_PAY_CONCURRENCY:-1,4,16,64}
ROUNDS=${BENCH_PAY_ROUNDS:-3}
if [[ ${BENCH_PAY_SHORT:-0} == 1 ]]; then
	SECS=${BENCH_PAY_DURATION:-5} LEVELS=${BENCH_PAY_CONCURRENCY:-16} ROUNDS=${BENCH_PAY_ROUNDS:-1}
fi
CAP=${BENCH_PAY_RATE_CAP:-3000}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
PORT0=${BENCH_HTTP_PORT:-18090}
OUT=${BENCH_PAY_OUT:-docs/benchmarks-pay.md}
[[ ${BENCH_PAY_HOT:-0} == 1 ]] && OUT=${BENCH_PAY_OUT:-docs/benchmarks-pay-hot.md}
# A quick check is no figure to keep: its report goes to stdout.
[[ ${BENCH_PAY_SHORT:-0} == 1 ]] && OUT=${BENCH_PAY_OUT:-/dev/stdout}
PROFILE=${BENCH_PAY_PROFILE:-1}
HOT=${BENCH_PAY_HOT:-0}
# Hot: payments per invoice per wrk thread (two threads at most: 80 of the
# 100 payments an invoice takes).
PARTS=0
[[ $HOT == 1 ]] && PARTS=40
for n in "$SECS" "$WARM" "$ROUNDS" "$CAP"; do
	[[ $n =~ ^[0-9]+$ ]] && ((n > 0)) || { echo "bench-pay: numeric settings must be positive integers" >&2; exit 2; }
done
((SECS >= 4)) || { echo "bench-pay: BENCH_PAY_DURATION must be at least 4 (the CPU window leaves out 1 s at each end)" >&2; exit 2; }
IFS=, read -ra LEVEL_LIST <<<"$LEVELS"

log() { printf '[bench-pay %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# What the run needs, installed when missing (wrk is a Debian package).
if ! command -v wrk >/dev/null; then
	log "installing wrk"
	{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }; } ||
		die "wrk is missing and apt-get could not install it"
fi
for tool in go git psql pgbench jq curl wrk; do
	command -v "$tool" >/dev/null || die "$tool is required"
done

WORK=$(mktemp -d /tmp/invoicing-paybench.XXXXXX)
STAMP=$(date +%s)_$$
DBS=()
PIDS=()
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	for db in "${DBS[@]}"; do
		psql -X -q -d "$PG/postgres?sslmode=disable" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
	done
	if [[ ${BENCH_KEEP:-0} == 1 || $rc != 0 ]]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dburl() { echo "$PG/$1?sslmode=disable"; }
# q DB SQL... runs statements in DB, prints unaligned tuples.
q() { local db=$1; shift; psql -X -q -tA -v ON_ERROR_STOP=1 -d "$(dburl "$db")" "${@/#/-c}"; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- binaries
# build NAME SPEC puts an `invoicing` binary in $WORK/NAME and sets
# LABEL[NAME]: SPEC is a file (copied), a git revision (exported with git
# archive and built), or empty (this working tree). -trimpath: two builds of
# the same source are the same bytes, wherever they were built.
declare -A LABEL BIN
build() {
	local name=$1 spec=$2 dir=$WORK/$1
	mkdir -p "$dir"
	if [[ -z $spec ]]; then
		go build -trimpath -o "$dir/invoicing" ./cmd/invoicing
		local dirty=""
		[[ -z $(git status --porcelain -- . 2>/dev/null) ]] || dirty=", with changes"
		LABEL[$name]="working tree (HEAD $(git rev-parse --short HEAD)$dirty)"
	elif [[ -f $spec ]]; then
		cp "$spec" "$dir/invoicing"
		LABEL[$name]="binary $spec"
	else
		local rev
		rev=$(git rev-parse --verify --quiet "$spec^{commit}") || die "$spec is neither a file nor a git revision"
		mkdir -p "$dir/src"
		git archive "$rev" | tar -x -C "$dir/src"
		(cd "$dir/src" && go build -trimpath -o "$dir/invoicing" ./cmd/invoicing) || die "building $spec failed"
		LABEL[$name]="$spec ($(git rev-parse --short "$rev"))"
	fi
	BIN[$name]=$dir/invoicing
	log "$name: ${LABEL[$name]}"
}
SIDES=()
if [[ -n ${BENCH_BEFORE:-} ]]; then
	build before "$BENCH_BEFORE"
	SIDES+=(before)
fi
build after "${BENCH_AFTER:-}"
SIDES+=(after)

# ---------------------------------------------------------------- services
# Each binary gets its own database, migrated by itself, and its own serve
# process with the relay off: outbox rows stay unpublished, as pgbench's do.
declare -A DB PORT SERVE KEY AMOUNT NEXT
p=$PORT0
for s in "${SIDES[@]}"; do
	DB[$s]=paybench_${s}_$STAMP
	DBS+=("${DB[$s]}")
	psql -X -q -d "$PG/postgres?sslmode=disable" -c "CREATE DATABASE ${DB[$s]}"
	DATABASE_URL=$(dburl "${DB[$s]}") "${BIN[$s]}" migrate up >"$WORK/$s.migrate.log" 2>&1 || die "migrate ($s): $(tail -n1 "$WORK/$s.migrate.log")"
	out=$(DATABASE_URL=$(dburl "${DB[$s]}") "${BIN[$s]}" apikey create --tenant paybench) || die "apikey create ($s)"
	KEY[$s]=$(tail -n1 <<<"$out")
	port_free "$p" || die "port $p is taken; set BENCH_HTTP_PORT"
	PORT[$s]=$p
	env DATABASE_URL="$(dburl "${DB[$s]}")" HTTP_ADDR="127.0.0.1:$p" RELAY_ENABLED=false PPROF_ADDR="127.0.0.1:$((p + 100))" \
		"${BIN[$s]}" serve >"$WORK/$s.serve.log" 2>&1 &
	SERVE[$s]=$!
	PIDS+=("${SERVE[$s]}")
	up=0
	for _ in $(seq 100); do
		kill -0 "${SERVE[$s]}" 2>/dev/null || break
		[[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${KEY[$s]}" "http://127.0.0.1:$p/v1/invoices?limit=1") == 200 ]] && { up=1; break; }
		sleep 0.1
	done
	((up)) || die "serve ($s) did not start: $(tail -n3 "$WORK/$s.serve.log")"
	# The template: one invoice created and issued through the API, the same
	# 3 lines as the load tool's and pgbench's seed. clone copies its rows.
	tmpl=$(curl -sf -H "Authorization: Bearer ${KEY[$s]}" -H 'Content-Type: application/json' "http://127.0.0.1:$p/v1/invoices" -d '{"customer":{"name":"Load Test GmbH","email":"billing@load.example"},"currency":"EUR",
"due_date":"2030-12-31","lines":[
{"description":"Consulting (days)","quantity":10,"unit_amount":12000,"tax_rate_bps":1900},
{"description":"Travel expenses","quantity":1,"unit_amount":35000,"tax_rate_bps":1900},
{"description":"Licence, one seat","quantity":3,"unit_amount":4999}]}' | jq -r .id) || die "creating the template invoice ($s)"
	AMOUNT[$s]=$(curl -sf -H "Authorization: Bearer ${KEY[$s]}" -H 'Content-Type: application/json' "http://127.0.0.1:$p/v1/invoices/$tmpl/issue" -d '{}' | jq -r .amount_due) ||
		die "issuing the template invoice ($s)"
	q "${DB[$s]}" "CREATE TABLE paybench_template AS SELECT '$tmpl'::uuid AS id"
	NEXT[$s]=1
	p=$((p + 1))
done

# copy_sql TABLE SUBST prints an INSERT that copies TABLE's row t (joined
# with g, the n of each copy) whole, whatever the revision's columns, identity
# columns included, except those SUBST (a jsonb object) replaces with an SQL
# expression.
copy_sql() {
	q "$1" "SELECT 'INSERT INTO $2 (' || string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
		|| ') OVERRIDING SYSTEM VALUE SELECT '
		|| string_agg(coalesce(\$j\$$3\$j\$::jsonb ->> column_name, 't.' || quote_ident(column_name)), ', ' ORDER BY ordinal_position)
		FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$2' AND is_generated = 'NEVER'"
}
# clone SIDE N makes N copies of SIDE's template invoice (its invoices and
# invoice_lines rows; a line keeps its position) with new ids and numbers,
# open and unpaid, and sets FIRST to the first one's n. Invoice n's id is
# 0190f7a8-0000-7000-8000-<n in 12 hex digits>, as bench/pay.lua expects.
declare -A CLONE_INV CLONE_LINES
clone() {
	local s=$1 n=$2 id="('0190f7a8-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid"
	if [[ -z ${CLONE_INV[$s]:-} ]]; then
		CLONE_INV[$s]=$(copy_sql "${DB[$s]}" invoices "{\"id\": \"$id\", \"number\": \"'INV-2031-' || lpad(g::text, 9, '0')\"}")
		CLONE_LINES[$s]=$(copy_sql "${DB[$s]}" invoice_lines "{\"id\": \"gen_random_uuid()\", \"invoice_id\": \"$id\"}")
	fi
	FIRST=${NEXT[$s]}
	local range="generate_series($FIRST, $FIRST + $n - 1) g"
	q "${DB[$s]}" "${CLONE_INV[$s]} FROM invoices t, $range WHERE t.id = (SELECT id FROM paybench_template)" \
		"${CLONE_LINES[$s]} FROM invoice_lines t, $range WHERE t.invoice_id = (SELECT id FROM paybench_template)" \
		"VACUUM ANALYZE invoices, invoice_lines, payments, outbox" >/dev/null || die "cloning invoices ($s)"
	NEXT[$s]=$((FIRST + n))
}

# ---------------------------------------------------------------- pgbench
PGDB=paybench_pgbench_$STAMP
DBS+=("$PGDB")
PGB_INVOICES=$((CAP * (SECS + WARM) * 2))
psql -X -q -d "$PG/postgres?sslmode=disable" -c "CREATE DATABASE $PGDB"
DATABASE_URL=$(dburl "$PGDB") "${BIN[after]}" migrate up >"$WORK/pgbench.migrate.log" 2>&1 || die "migrate (pgbench)"
psql -X -q -d "$(dburl "$PGDB")" -v invoices="$PGB_INVOICES" -f bench/pgbench/seed.sql >/dev/null
log "pgbench database seeded with $PGB_INVOICES invoices"

# ---------------------------------------------------------------- measuring
# A process may exit between the listing and the read (the warm-up's pgbench
# backends): it counts as 0.
ticks() { (($#)) || { echo 0; return; }; cat "$@" 2>/dev/null | awk '{ s += $14 + $15 } END { print s + 0 }'; }
# snap DB TOOLPID [SERVEPID] prints "epoch-seconds serve-ticks pg-ticks
# tool-ticks": utime+stime (clock ticks) of serve, of DB's backends (found by
# their process title, "postgres: [cluster: ]user DB host(port) state") and
# of the load generator. It reads /proc only: no psql call delays it.
snap() {
	local db=$1 tool=$2 serve=${3:-} files=()
	mapfile -t files < <(grep -l -a -E "^postgres: ([^ ]+: )?[^ ]+ $db " /proc/[0-9]*/cmdline 2>/dev/null | sed 's/cmdline$/stat/')
	echo "$(date +%s.%N) $([[ -n $serve ]] && ticks "/proc/$serve/stat" || echo 0) $(ticks "${files[@]}") $(ticks "/proc/$tool/stat")"
}
# window DB TOOLPID SERVEPID OUTFILE: snapshots 1 s into the run and 1 s
# before its end (pgbench's backends exit with it); once the run is over,
# writes "seconds payments serve-ms pg-ms tool-ms" to OUTFILE, counting the
# payments by their received_at (the transaction's or the service's clock,
# both this machine's) between the two snapshots.
window() {
	local a b
	sleep 1
	a=$(snap "$1" "$2" "$3")
	sleep $((SECS - 2))
	b=$(snap "$1" "$2" "$3")
	while kill -0 "$2" 2>/dev/null; do sleep 0.1; done
	local n
	n=$(q "$1" "SELECT count(*) FROM payments WHERE received_at >= to_timestamp(${a%% *}) AND received_at < to_timestamp(${b%% *})")
	awk -v t="$TCK" -v a="$a" -v b="$b" -v n="$n" 'BEGIN { split(a, x, " "); split(b, y, " ")
		printf "%.3f %d %.0f %.0f %.0f\n", y[1] - x[1], n, (y[2] - x[2]) * 1000 / t, (y[3] - x[3]) * 1000 / t, (y[4] - x[4]) * 1000 / t }' >"$4"
}

# wrk_run SIDE C SECONDS OUTPREFIX: pays fresh clones with wrk; fails on any error.
wrk_run() {
	local s=$1 c=$2 secs=$3 out=$4 threads=$(($2 < 2 ? $2 : 2)) count=$((CAP * $3))
	((PARTS == 0)) || count=$((CAP * secs / PARTS + 10))
	clone "$s" "$count"
	PAY_FIRST=$FIRST PAY_COUNT=$count PAY_PARTS=$PARTS PAY_THREADS=$threads PAY_AMOUNT=${AMOUNT[$s]} PAY_RUN=$STAMP PAY_KEY=${KEY[$s]} \
		wrk -t "$threads" -c "$c" -d "${secs}s" --timeout 10s -s bench/pay.lua "http://127.0.0.1:${PORT[$s]}" >"$out.wrk" 2>&1 &
	local pid=$!
	local side=""
	if [[ $out == *.m ]]; then
		window "${DB[$s]}" "$pid" "${SERVE[$s]}" "$out.cpu" &
		side=$!
	elif [[ $out == *.p ]]; then
		(sleep 1; curl -sf -o "$WORK/$s.cpu.pprof" "http://127.0.0.1:$((PORT[$s] + 100))/debug/pprof/profile?seconds=$((secs - 2))") &
		side=$!
	fi
	wait "$pid" || die "wrk ($s, $c clients) failed: $(tail -n3 "$out.wrk")"
	if [[ -n $side ]] && ! wait "$side" && [[ $out == *.p ]]; then
		die "the CPU profile of serve ($s) failed (PPROF_ADDR)"
	fi
	local res
	res=$(grep '^{' "$out.wrk") || die "wrk ($s, $c clients) printed no result: $(tail -n3 "$out.wrk")"
	local fatal='.status_errors + .connect + .read + .write + .timeout == 0 and (.exhausted | not)'
	# Hot: a refusal for the contention is a figure, not a failure.
	[[ $HOT == 1 ]] && fatal='.connect + .read + .write + .timeout == 0 and (.exhausted | not)'
	jq -e "$fatal" <<<"$res" >/dev/null ||
		die "wrk ($s, $c clients) had errors (non-2xx, socket, or ran out of invoices: raise BENCH_PAY_RATE_CAP): $res; serve said: $(grep -m1 -E '"level":"(WARN|ERROR)"' "$WORK/$s.serve.log" || echo nothing)"
	echo "$res" >"$out.json"
}
# pgb_run C SECONDS OUTPREFIX: resets the seed and runs pay.sql; fails on errors.
pgb_run() {
	local c=$1 secs=$2 out=$3
	psql -X -q -d "$(dburl "$PGDB")" -f bench/pgbench/reset.sql >/dev/null
	pgbench -n -M prepared -c "$c" -j $((c < 2 ? c : 2)) -T "$secs" -D i=0 -D clients="$c" -D invoices="$PGB_INVOICES" \
		-f bench/pgbench/pay.sql "$(dburl "$PGDB")" >"$out.pgb" 2>&1 &
	local pid=$!
	local win=""
	if [[ $out == *.m ]]; then
		window "$PGDB" "$pid" "" "$out.cpu" &
		win=$!
	fi
	wait "$pid" || die "pgbench ($c clients) failed: $(grep -m1 -iE 'error|abort' "$out.pgb")"
	[[ -z $win ]] || wait "$win" || true
	grep -qiE 'error|abort' "$out.pgb" && die "pgbench ($c clients) reported errors: $(grep -m1 -iE 'error|abort' "$out.pgb")"
	# Each transaction pays a fresh invoice only while the seed lasts.
	local tx
	tx=$(awk '/number of transactions actually processed/ { print $NF }' "$out.pgb")
	((tx <= PGB_INVOICES)) || die "pgbench paid $tx > $PGB_INVOICES seeded invoices: raise BENCH_PAY_RATE_CAP"
}
# measure SYSTEM C ROUND: an uncounted warm-up run, then the measured one
# (results in $WORK/r/SYSTEM.C.ROUND.m.*), each after its untimed set-up
# (clone or reset.sql), which ends with a vacuum: the machine's autovacuum
# may be off.
measure() {
	local sys=$1 c=$2 r=$3 out=$WORK/r/$1.$2.$3
	if [[ $sys == pgbench ]]; then
		pgb_run "$c" "$WARM" "$out.w"
		pgb_run "$c" "$SECS" "$out.m"
	else
		wrk_run "$sys" "$c" "$WARM" "$out.w"
		wrk_run "$sys" "$c" "$SECS" "$out.m"
	fi
	echo "$(cut -d' ' -f1-3 /proc/loadavg)" >"$out.m.load"
	log "$sys c=$c round $r: $(rate "$sys" "$c" "$r") payments/s (load $(cat "$out.m.load"))"
}
# rate SYSTEM C ROUND prints the measured run's payments/s as its tool counts them.
rate() {
	local f=$WORK/r/$1.$2.$3.m
	if [[ $1 == pgbench ]]; then
		awk '/^tps = / { printf "%.0f", $3 }' "$f.pgb"
	elif [[ $HOT == 1 ]]; then
		# Payments committed per second of the CPU window: refusals are not payments.
		awk '{ printf "%.0f", $2 / $1 }' "$f.cpu"
	else
		jq -r '.requests / .duration_us * 1e6 | floor' "$f.json"
	fi
}

mkdir -p "$WORK/r"
SYSTEMS=("${SIDES[@]}" pgbench)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date -u '+%Y-%m-%d %H:%M UTC')
for c in "${LEVEL_LIST[@]}"; do
	for ((r = 1; r <= ROUNDS; r++)); do
		# Rotate the order each round, so that no system always runs first.
		for ((i = 0; i < ${#SYSTEMS[@]}; i++)); do
			measure "${SYSTEMS[$(((i + r - 1) % ${#SYSTEMS[@]}))]}" "$c" "$r"
		done
	done
done

# ---------------------------------------------------------------- profiles
declare -A PROFTOP PROFPKG PROFSYS
if [[ $PROFILE == 1 ]]; then
	for s in "${SIDES[@]}"; do
		log "profiling serve ($s) at 16 clients, ${SECS}s (not counted)"
		wrk_run "$s" 16 "$WARM" "$WORK/r/prof.$s.w"
		wrk_run "$s" 16 "$SECS" "$WORK/r/prof.$s.p"
		go tool pprof -top -nodecount=15 "${BIN[$s]}" "$WORK/$s.cpu.pprof" 2>/dev/null | sed -n '/^ *flat/,$p' >"$WORK/$s.top"
		PROFTOP[$s]=$(cat "$WORK/$s.top")
		# Flat time by area: where the CPU goes, whoever called.
		PROFPKG[$s]=$(go tool pprof -top -nodecount=100000 "${BIN[$s]}" "$WORK/$s.cpu.pprof" 2>/dev/null | awk '
			$2 ~ /%$/ && $1 ~ /s$/ && NF >= 6 {
				v = $1; sub(/ms$/, "", v); if ($1 !~ /ms$/) { sub(/s$/, "", v); v *= 1000 }
				f = $6; a = "other"
				if (f ~ /^(syscall|internal\/runtime\/syscall(\/linux)?|runtime\/internal\/syscall)\./ || f ~ /^runtime\.(futex|epollwait|usleep|write1|read|nanotime1)$/) a = "syscalls (network, futex, epoll)"
				else if (f ~ /^runtime\.(gc|mark|scan|sweep|greyobject|findObject|wbBuf|bgsweep|heapBits|spanOf|typePointers|bulkBarrier|memclr)/ || f ~ /^runtime\.(scanobject|scanblock|markBits)/) a = "runtime: GC"
				else if (f ~ /^runtime\.(mallocgc|nextFreeFast|memmove|(.*)alloc)/) a = "runtime: allocation, copying"
				else if (f ~ /^runtime\./ || f ~ /^internal\/runtime/) a = "runtime: scheduler, other"
				else if (f ~ /^internal\/runtime\/maps/ || f ~ /^(aeshash|memhash|strhash)/) a = "runtime: maps, hashing"
				else if (f ~ /^encoding\/json|go-json-experiment/) a = "JSON (encoding/json, go-json-experiment)"
				else if (f ~ /jackc\/pgx|jackc\/pgio|jackc\/pgproto/) a = "pgx"
				else if (f ~ /^(net\/http|net\/textproto|bufio|net\.)/) a = "net/http, net"
				else if (f ~ /^(crypto|vendor\/golang.org\/x\/crypto)/) a = "crypto"
				else if (f ~ /go-chi/) a = "chi"
				else if (f ~ /^(log\/slog|fmt|strconv|time|sync|context)/) a = "slog, fmt, strconv, time, sync"
				else if (f ~ /invoicing/) a = "the service code"
				s[a] += v; t += v }
			END { for (a in s) printf "%.0f|%.1f|%s\n", s[a], 100 * s[a] / t, a }' | sort -t'|' -k1,1 -rn |
			awk -F'|' '{ printf "| %s | %d ms | %s%% |\n", $3, $1, $2 }')
		# The system calls by what made them (cumulative time of the callers).
		PROFSYS[$s]=$(go tool pprof -top -cum -focus='syscall/linux.Syscall6$' -nodecount=100000 "${BIN[$s]}" "$WORK/$s.cpu.pprof" 2>/dev/null | awk '
			NF >= 6 { k = "" }
			$6 == "internal/runtime/syscall/linux.Syscall6" { k = "all" }
			$6 == "net.(*conn).Write" { k = "socket writes (responses, pgx)" }
			$6 == "net.(*conn).Read" { k = "socket reads" }
			$6 == "os.(*File).Write" { k = "file writes (the request log)" }
			k != "" { v = $4; if (v ~ /ms$/) { sub(/ms$/, "", v) } else { sub(/s$/, "", v); v *= 1000 }; m[k] = v }
			END { printf "%.0f ms in system calls:", m["all"]; for (k in m) if (k != "all") printf " %s %.0f ms;", k, m[k]; print "" }' | sed 's/;$/./')
	done
fi

# ---------------------------------------------------------------- report
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) { print ""; exit } if (NR % 2) print a[(NR + 1) / 2]; else printf "%g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a != "" && b + 0 > 0) printf "%.2f", a / b; else printf "n/a" }'; }
# col SYS C FIELD: FIELD of each round's CPU window ("seconds payments serve
# pg tool", 1-based) as a list; per SYS C: the per-payment figure in us.
cpu_per() { local sys=$1 c=$2 k=$3; for f in "$WORK"/r/"$sys.$c".*.m.cpu; do awk -v k="$k" '$2 > 0 { printf "%.0f\n", $k * 1000 / $2 }' "$f"; done; }
rates() { for ((r = 1; r <= ROUNDS; r++)); do rate "$1" "$2" "$r"; echo; done | grep .; }
loads() { for ((r = 1; r <= ROUNDS; r++)); do cut -d' ' -f1 "$WORK/r/$1.$2.$r.m.load"; done | paste -sd/; }
lat() { for ((r = 1; r <= ROUNDS; r++)); do jq -r ".$3 / 100 | round / 10" "$WORK/r/$1.$2.$r.m.json"; done | median; }
list() { paste -sd' ' | sed 's/ /, /g'; }

mkdir -p "$(dirname "$OUT")"
{
	echo "## The pay path side by side: wrk and pgbench, CPU per payment (\`bench/pay.sh\`)"
	echo
	if [[ $HOT == 1 ]]; then
		echo "**Hot invoice** (\`BENCH_PAY_HOT=1\`): every connection pays the same open invoice in parts of 1 cent, without"
		echo "If-Match, all moving on to a fresh invoice every $((PARTS * 2)) payments; the services' figures are payments committed per second."
		for s in "${SIDES[@]}"; do
			echo "$s: $(cat "$WORK"/r/"$s".*.m.json | jq -s 'map(.status_errors) | add') answers refused (non-2xx) in the measured runs."
		done
		echo
	fi
	echo "Generated by \`bench/pay.sh\` on $T_START, $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), load average"
	echo "$LOAD_START at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end; the 1-minute load average after each measured run is listed beside"
	echo "its figures (the machine is shared: read throughput as noisy, CPU per payment as the steadier figure)."
	echo "$ROUNDS round(s) of ${SECS} s per system and client count, interleaved (the order rotates each round), each after an"
	echo "uncounted ${WARM} s warm-up; medians, with every round's value in brackets."
	echo
	echo "| System | What ran |"
	echo "|---|---|"
	for s in "${SIDES[@]}"; do echo "| $s | \`invoicing serve\` from ${LABEL[$s]}, RELAY_ENABLED=false, driven by wrk 4.1 + \`bench/pay.lua\` |"; done
	echo "| pgbench | \`bench/pgbench/pay.sql\`, \`-M prepared\`, PostgreSQL $(psql -X -tA -d "$PG/postgres?sslmode=disable" -c 'SHOW server_version' | cut -d' ' -f1) |"
	echo
	if [[ $HOT == 1 ]]; then
		echo "### Throughput (payments/s; the services' payments committed, pgbench counts transactions)"
	else
		echo "### Throughput (payments/s; wrk counts requests, all 2xx, pgbench counts transactions)"
	fi
	echo
	hdr="| Clients |" sep="|---|"
	for s in "${SIDES[@]}"; do hdr+=" $s req/s | $s p50 / p99 ms |"; sep+="---|---|"; done
	hdr+=" pgbench TPS |"; sep+="---|"
	for s in "${SIDES[@]}"; do hdr+=" $s / pgbench |"; sep+="---|"; done
	[[ ${#SIDES[@]} == 2 ]] && { hdr+=" after / before |"; sep+="---|"; }
	hdr+=" load (1 min) per round |"; sep+="---|"
	echo "$hdr"; echo "$sep"
	for c in "${LEVEL_LIST[@]}"; do
		declare -A MED=()
		row="| $c |"
		for s in "${SIDES[@]}"; do
			MED[$s]=$(rates "$s" "$c" | median)
			row+=" ${MED[$s]} ($(rates "$s" "$c" | list)) | $(lat "$s" "$c" p50_us) / $(lat "$s" "$c" p99_us) |"
		done
		MED[pgbench]=$(rates pgbench "$c" | median)
		row+=" ${MED[pgbench]} ($(rates pgbench "$c" | list)) |"
		for s in "${SIDES[@]}"; do
			rs=$(for ((r = 1; r <= ROUNDS; r++)); do ratio "$(rate "$s" "$c" "$r")" "$(rate pgbench "$c" "$r")"; echo; done | list)
			row+=" **$(ratio "${MED[$s]}" "${MED[pgbench]}")** ($rs) |"
		done
		if [[ ${#SIDES[@]} == 2 ]]; then
			rs=$(for ((r = 1; r <= ROUNDS; r++)); do ratio "$(rate after "$c" "$r")" "$(rate before "$c" "$r")"; echo; done | list)
			row+=" **$(ratio "${MED[after]}" "${MED[before]}")** ($rs) |"
		fi
		row+=" $(for s in "${SYSTEMS[@]}"; do echo "$s $(loads "$s" "$c")"; done | paste -sd';' | sed 's/;/; /g') |"
		echo "$row"
	done
	echo
	if [[ $HOT == 1 ]]; then
		echo "Socket errors: 0 in every run (the script fails on any); refused answers are counted above. Ratios in bold are of the medians;"
	else
		echo "Non-2xx answers and socket errors: 0 in every run (the script fails on any). Ratios in bold are of the medians;"
	fi
	echo "in brackets, of the runs of the same round. Target: service / pgbench ≥ 0.60 at 16 clients."
	echo
	echo "### CPU per payment (µs of CPU time, utime+stime from /proc, over each measured run less its first and last second)"
	echo
	echo "| Clients | System | serve | PostgreSQL backends | load generator | serve / PostgreSQL | serve / load generator |"
	echo "|---|---|---|---|---|---|---|"
	for c in "${LEVEL_LIST[@]}"; do
		for sys in "${SYSTEMS[@]}"; do
			sv=$(cpu_per "$sys" "$c" 3 | median) pg=$(cpu_per "$sys" "$c" 4 | median) tl=$(cpu_per "$sys" "$c" 5 | median)
			if [[ $sys == pgbench ]]; then
				echo "| $c | pgbench | — | $pg ($(cpu_per "$sys" "$c" 4 | list)) | $tl (pgbench) | — | — |"
			else
				echo "| $c | $sys | $sv ($(cpu_per "$sys" "$c" 3 | list)) | $pg ($(cpu_per "$sys" "$c" 4 | list)) | $tl (wrk) | **$(ratio "$sv" "$pg")** | $(ratio "$sv" "$tl") |"
			fi
		done
	done
	echo
	echo "PostgreSQL backends: the client backends of the system's own database (serve's pool, or pgbench's connections);"
	echo "the server's shared processes (WAL writer, checkpointer) serve every database on the machine and are not counted."
	echo "Target: the service's CPU per payment ≤ PostgreSQL's. The last column is a control: wrk does the"
	echo "same work per payment whatever the binary, so its CPU per payment moves only with the machine (other work"
	echo "on the cores, the caches they share); serve's CPU over wrk's moves less with it than serve's alone."
	echo
	for s in "${SIDES[@]}"; do
		echo "serve ($s) logged $(grep -c '"status":5[0-9][0-9]' "$WORK/$s.serve.log" || true) answers with status 5xx over the whole script, and $(grep '"level":"ERROR"' "$WORK/$s.serve.log" | grep -c 'context canceled' || true)"
		echo "errors naming \`context canceled\`: requests in flight when wrk stopped at the end of a run and closed its"
		echo "connections (wrk never receives those answers; every answer it received was 2xx)."
	done
	if [[ $PROFILE == 1 ]]; then
		for s in "${SIDES[@]}"; do
			echo
			echo "### CPU profile of serve ($s, ${LABEL[$s]}), 16 clients, $((SECS - 2)) s of an uncounted run"
			echo
			echo "Flat CPU time by area (every sample attributed to the function running):"
			echo
			echo "| Area | Flat | Share |"
			echo "|---|---|---|"
			echo "${PROFPKG[$s]}"
			echo
			echo "${PROFSYS[$s]}"
			echo
			echo "\`go tool pprof -top\`, first 15:"
			echo
			echo '```'
			echo "${PROFTOP[$s]}"
			echo '```'
		done
	fi
} >"$OUT"
log "done: $OUT"
