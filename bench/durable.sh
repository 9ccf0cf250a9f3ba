#!/usr/bin/env bash
# bench/durable.sh (part of `make bench`): JetStream with sync_interval:
# always (each write fsynced before its ack, as compose ships nats-server),
# side by side in one run (BenchmarkDurable, internal/invoicing/relay, an embedded
# nats-server and a fresh PostgreSQL database):
#
#   raw_async        plain async publishes, one fsync each
#   raw_batch_N      plain atomic batches of N messages (nats-server 2.12+)
#   relay_batch_N    the relay moving a committed backlog, RELAY_BATCH_SIZE=N
#
# for N = 500 (RELAY_BATCH_SIZE's default) and 1000 (nats-server's largest
# atomic batch), on one server; then, prefixed r3_, the same for N = 500 on
# a three-node cluster (in process), the stream at 3 replicas. Target: the relay >= 10,000 events/s. It prints a table
# and, with BENCH_DURABLE_OUT set, writes it there too. Settings:
# BENCH_DURABLE_COUNT (runs of each, default 1). Never touches the shared
# NATS server.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${BENCH_DURABLE_COUNT:-1}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "bench: durable JetStream (sync_interval: always), $COUNT run(s)" >&2
go test -count=1 -run '^$' -bench '^BenchmarkDurable$' -benchtime 1x -count "$COUNT" ./internal/invoicing/relay | tee "$TMP/out.txt" >&2

# The median events/s of each sub-benchmark, then the table.
awk '/^BenchmarkDurable\// {
	name = $1; sub(/^BenchmarkDurable\//, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 2; i < NF; i++) if ($(i + 1) == "events/s") v[name] = v[name] " " $i
}
END {
	for (n in v) {
		k = split(substr(v[n], 2), a, " "); asort(a); med[n] = a[int((k + 1) / 2)]
	}
	printf "| %-18s | %10s | %-22s | %-13s |\n", "durable", "events/s", "vs raw async / batch", "target 10,000"
	printf "|%s|%s|%s|%s|\n", "--------------------", "------------", "------------------------", "---------------"
	split("raw_async raw_batch_500 raw_batch_1000 relay_batch_500 relay_batch_1000 r3_raw_async r3_raw_batch_500 r3_relay_batch_500", order, " ")
	for (i = 1; i in order; i++) {
		n = order[i]; if (!(n in med)) continue
		p = n ~ /^r3_/ ? "r3_" : ""
		vs = sprintf("%.1fx", med[n] / med[p "raw_async"])
		if (n ~ /relay_batch_/) { b = n; sub(/relay_/, "raw_", b); vs = vs sprintf(" / %.2f", med[n] / med[b]) }
		goal = n ~ /relay/ ? (med[n] >= 10000 ? "met" : "not met") : ""
		printf "| %-18s | %10.0f | %-22s | %-13s |\n", n, med[n], vs, goal
	}
}' "$TMP/out.txt" | tee "$TMP/table.md"
echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores, shared)"
if [[ -n ${BENCH_DURABLE_OUT:-} ]]; then
	cp "$TMP/table.md" "$BENCH_DURABLE_OUT"
fi
