# The test command (the README's) and the side-by-side benchmark (bench/README.md).
.PHONY: test bench

test:
	go test -race -count=1 ./...

bench:
	bash bench/run.sh
