# The test command (the README's) and the side-by-side benchmark (bench/README.md),
# then the notification consumer's (bench/notify.sh) and the webhooks' (bench/webhooks.sh).
# bench-pay measures the pay path alone (bench/pay.sh, part of bench/run.sh): wrk
# beside pgbench, CPU per payment, and two binaries side by side, e.g.
#   BENCH_BEFORE=main BENCH_AFTER=h9-writepath make bench-pay
# bench-pay-quick is its quick check: 16 clients, 5 s, one round.
# bench-replicas: three serve replicas at 30 payments/s, commit-to-stream p99 per
# replica (bench/replicas.sh, also part of bench).
.PHONY: test bench bench-pay bench-pay-quick bench-replicas

test:
	go test -race -count=1 ./...

bench:
	bash bench/run.sh
	bash bench/notify.sh
	bash bench/webhooks.sh
	bash bench/replicas.sh

bench-pay:
	bash bench/pay.sh

bench-pay-quick:
	BENCH_PAY_SHORT=1 bash bench/pay.sh

bench-replicas:
	bash bench/replicas.sh
