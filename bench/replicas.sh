#!/usr/bin/env bash
# bench/replicas.sh (part of `make bench`; alone: `make bench-replicas`):
# commit-to-stream delay with three `invoicing serve` replicas on one
# database and one JetStream server, per replica.
#
# bench/replicas (Go) starts the built binary three times (the first leads
# the relay), an embedded nats-server of its own (never the machine's :4222)
# and a database of its own, pays invoices at BENCH_REPLICAS_RATE payments/s
# (default 30) spread evenly over the replicas for BENCH_REPLICAS_DURATION
# (default 25s; the first 3 s are not counted), and reports p50/p99/max from
# each payment's commit (its CloudEvent time, set in the transaction) to the
# JetStream timestamp of its invoicing.invoice.paid event.
# Target: p99 <= 25 ms on every replica.
#
# The result replaces the section between the markers below in
# BENCH_REPLICAS_OUT (default docs/benchmarks.md, which bench/run.sh rewrites
# first in `make bench`), or is appended to it. Settings: BENCH_BIN (a
# prebuilt binary), BENCH_PG (server URL without database),
# BENCH_REPLICAS_KEEP=1 keeps the replicas' logs, BENCH_REPLICAS_BEFORE=REV
# also measures the binary of git revision REV, just before this one, e.g.
# BENCH_REPLICAS_BEFORE=bded8a5 (before commits in any replica woke the leader).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${BENCH_REPLICAS_RATE:-30}
DURATION=${BENCH_REPLICAS_DURATION:-25s}
OUT=${BENCH_REPLICAS_OUT:-docs/benchmarks.md}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
BEGIN='<!-- replicas: written by bench/replicas.sh -->'
END='<!-- end of replicas -->'
TMP=$(mktemp -d /tmp/bench-replicas.XXXXXX)
trap '[[ ${BENCH_REPLICAS_KEEP:-0} == 1 ]] && echo "bench: logs kept in $TMP" >&2 || rm -rf "$TMP"' EXIT

if [[ -n ${BENCH_BIN:-} ]]; then
	cp "$BENCH_BIN" "$TMP/invoicing"
else
	go build -o "$TMP/invoicing" ./cmd/invoicing
fi
LABELS=(this)
BEFORE=${BENCH_REPLICAS_BEFORE:-}
if [[ -n $BEFORE ]]; then
	git worktree add -q --detach "$TMP/before-src" "$BEFORE"
	(cd "$TMP/before-src" && go build -o "$TMP/invoicing-before" ./cmd/invoicing) || { git worktree remove --force "$TMP/before-src"; exit 1; }
	git worktree remove --force "$TMP/before-src"
	LABELS=(before this)
fi
go build -o "$TMP/replicas" ./bench/replicas
for label in "${LABELS[@]}"; do
	bin=$TMP/invoicing
	[[ $label == before ]] && bin=$TMP/invoicing-before
	echo "bench: three serve replicas of $label binary at $RATE payments/s for $DURATION" >&2
	mkdir -p "$TMP/logs-$label"
	"$TMP/replicas" -bin "$bin" -pg "$PG" -rate "$RATE" -duration "$DURATION" \
		-json "$TMP/result-$label.json" -work "$TMP/logs-$label"
done
THIS_REV=$(git rev-parse --short HEAD)
[[ -z $(git status --porcelain -- cmd internal go.mod) ]] || THIS_REV+="+changes"
[[ -z ${BENCH_BIN:-} ]] || THIS_REV="prebuilt $BENCH_BIN"
# The relay's stages, in an event's order (tools/stages.Order).
STAGES=(commit_to_wake wake_to_claimed claimed_to_sent sent_to_acked acked_to_marked)
STAGES_JSON=$(printf '%s\n' "${STAGES[@]}" | jq -R . | jq -sc .)
# binary LABEL: how the report names the binary of LABEL.
binary() { if [[ $1 == before ]]; then echo "before ($BEFORE)"; else echo "$1 ($THIS_REV)"; fi; }

{
	echo "$BEGIN"
	echo "## Three serve replicas: commit-to-stream per replica (\`bench/replicas.sh\`)"
	echo
	echo "Generated on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
	echo "(a shared machine: figures are noisy). Three \`invoicing serve\` replicas of one binary on one database and"
	echo "$(jq -r .nats "$TMP/result-this.json"); the first replica leads the relay. Payments at $RATE/s, sent in turn to each"
	echo "replica; delay from a payment's commit (its CloudEvent \`time\`, set in the pay transaction) to its"
	echo "\`invoicing.invoice.paid\` event's JetStream timestamp. Target: p99 ≤ 25 ms on every replica. *Late*: events"
	echo "slower than half RELAY_POLL_INTERVAL (1 s), which a missed wake-up leaves to the poll."
	if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v n="$(nproc)" 'BEGIN { exit !(l > n) }'; then
		echo
		echo "> The load average exceeded the core count: the delays below include waiting for a CPU. Compare"
		echo "> the rows of one run with each other, and rerun on a quiet machine for the figure against the target."
	fi
	echo
	echo "| Binary | Replica | Role | Payments | Errors | Events | p50 ms | p99 ms | max ms | Late | p99 ≤ 25 ms |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	for label in "${LABELS[@]}"; do
		jq -r --arg bin "$(binary "$label")" 'def r1: . * 10 | round / 10; .target_p99_ms as $t | .replicas[] | "| \($bin) | \(.index) | \(if .leader then "leader" else "follower" end) | \(.payments) | \(.errors) | \(.events) | \(.p50_ms | r1) | \(.p99_ms | r1) | \(.max_ms | r1) | \(.late) | \(if .p99_ms <= $t and .events == .payments and .errors == 0 then "yes" else "**no**" end) |"' "$TMP/result-$label.json"
	done
	echo
	echo "The leading relay's p99 per stage over the same payments (ms; \`relay_event_stage_seconds\` of replica 0,"
	echo "docs/benchmarks-events.md says what each stage holds), and the load average as the run ended:"
	echo
	echo "| Binary | load1 | $(IFS='|'; echo "${STAGES[*]}" | sed 's/|/ | /g') |"
	echo "|---|---|$(printf -- '---|%.0s' "${STAGES[@]}")"
	for label in "${LABELS[@]}"; do
		jq -r --arg bin "$(binary "$label")" --argjson stages "$STAGES_JSON" 'def r1: . * 10 | round / 10; .leader_stages as $s |
			"| \($bin) | \(.load1) | " + ([$stages[] | $s[.].p99_ms // "-" | if type == "number" then r1 else . end | tostring] | join(" | ")) + " |"' "$TMP/result-$label.json"
	done
	echo
	echo "$END"
} >"$TMP/section.md"

mkdir -p "$(dirname "$OUT")"
touch "$OUT"
if grep -qF "$BEGIN" "$OUT"; then
	awk -v b="$BEGIN" -v e="$END" -v f="$TMP/section.md" '
		$0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
		skip && $0 == e { skip = 0; next }
		!skip { print }' "$OUT" >"$TMP/out.md"
	cp "$TMP/out.md" "$OUT"
else
	{ echo; cat "$TMP/section.md"; } >>"$OUT"
fi
echo "bench: wrote the replicas section of $OUT" >&2
