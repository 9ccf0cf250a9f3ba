# The test command (the README's) and the side-by-side benchmark (bench/README.md),
# then the notification consumer's (bench/notify.sh) and the webhooks' (bench/webhooks.sh).
.PHONY: test bench

test:
	go test -race -count=1 ./...

bench:
	bash bench/run.sh
	bash bench/notify.sh
	bash bench/webhooks.sh
