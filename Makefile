# The test command (the README's) and the side-by-side benchmark (bench/README.md),
# then the notification consumer's (bench/notify.sh) and the webhooks' (bench/webhooks.sh).
# bench-pay measures the pay path alone (bench/pay.sh, part of bench/run.sh): wrk
# beside pgbench, CPU per payment, and two binaries side by side, e.g.
#   BENCH_BEFORE=main BENCH_AFTER=h9-writepath make bench-pay
# bench-pay-quick is its quick check: 16 clients, 5 s, one round.
# bench-pay-hot: the same at 16 clients all paying one invoice in small parts
# (BENCH_PAY_HOT=1), into docs/benchmarks-pay-hot.md.
# bench-replicas: three serve replicas at 30 payments/s, commit-to-stream p99 per
# replica (bench/replicas.sh, also part of bench).
.PHONY: test bench bench-pay bench-pay-quick bench-pay-hot bench-replicas bench-c2d

test:
	go test -race -count=1 ./...

bench:
	bash bench/run.sh
	bash bench/notify.sh
	bash bench/webhooks.sh
	bash bench/replicas.sh
	bash bench/durable.sh

bench-pay:
	bash bench/pay.sh

bench-pay-quick:
	BENCH_PAY_SHORT=1 bash bench/pay.sh

bench-pay-hot:
	BENCH_PAY_HOT=1 BENCH_PAY_CONCURRENCY=16 bash bench/pay.sh

bench-replicas:
	bash bench/replicas.sh

# bench-durable: JetStream with sync_interval: always, raw async vs raw atomic
# batches vs the relay, side by side (bench/durable.sh, part of bench).
.PHONY: bench-durable
bench-durable:
	bash bench/durable.sh

# bench-c2d: commit-to-delivery of two binaries side by side, e.g.
#   BENCH_BEFORE=main make bench-c2d
bench-c2d:
	bash bench/c2d.sh
