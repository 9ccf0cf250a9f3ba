#!/usr/bin/env bash
# Checks api/openapi.yaml (and api/asyncapi.yaml) with the tools client teams reach
# for first, each pinned: Redocly, Spectral and Prism in package-lock.json here,
# oapi-codegen by its module version below. .ci/run runs each check as a step of
# its own.
#
#   tools/spec/check.sh install       npm ci: a fresh node_modules here (install
#                                     scripts skipped: none of the tools needs one)
#   tools/spec/check.sh redocly       Redocly lint, redocly.yaml: no error, no warning
#   tools/spec/check.sh spectral      Spectral lint, .spectral.yaml: no finding at all
#   tools/spec/check.sh asyncapi      Spectral lint of api/asyncapi.yaml,
#                                     .spectral-asyncapi.yaml: no finding at all
#   tools/spec/check.sh prism         Prism's proxy (--errors) flags the responses the
#                                     document forbids (api/prism_test.go) and passes
#                                     the service's (internal/invoicing/invoicinghttp/prism_test.go)
#   tools/spec/check.sh oapi-codegen  a Go client generated with oapi-codegen's
#                                     defaults compiles, in a throwaway module
#   tools/spec/check.sh               all of them, installing first if needed
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$here/node_modules/.bin"
spec=api/openapi.yaml
oapi_codegen=github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2
# The generated code's imports, pinned (the server also needs echo and kin-openapi).
oapi_runtime=(github.com/oapi-codegen/runtime@v1.9.0 github.com/labstack/echo/v4@v4.16.4)

install() { npm ci --prefix "$here" --no-audit --no-fund --ignore-scripts; }
redocly() {
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "$bin/redocly" lint --config redocly.yaml "$spec"
}
spectral() { "$bin/spectral" lint --ruleset .spectral.yaml --fail-severity hint "$spec"; }
asyncapi() { "$bin/spectral" lint --ruleset .spectral-asyncapi.yaml --fail-severity hint api/asyncapi.yaml; }
prism() {
	INVOICING_PRISM="$bin/prism" go test -count=1 -run '^TestPrism' ./api ./internal/invoicing/invoicinghttp
}

# oapi_codegen generates, with oapi-codegen's defaults, the client a Go team
# starts from (-generate types,client) and everything the bare command makes
# (types, client, echo server, embedded spec), and compiles both in a module
# of their own that is removed afterwards.
oapi_codegen() {
	dir=$(mktemp -d) # global: the trap runs after the function returns
	trap 'rm -rf "$dir"' EXIT
	mkdir "$dir/client" "$dir/server"
	go run "$oapi_codegen" -generate types,client -package client "$spec" >"$dir/client/client.gen.go"
	go run "$oapi_codegen" -package server "$spec" >"$dir/server/server.gen.go"
	(
		cd "$dir"
		quiet go mod init example.com/invoicingclient
		quiet go get "${oapi_runtime[@]}"
		quiet go mod tidy
		go vet ./...
		go build ./...
	)
	echo "oapi-codegen: the generated client ($(wc -l <"$dir/client/client.gen.go") lines) and server compile"
}

# quiet runs a command, showing its output only if it fails.
quiet() {
	local out
	out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
}

cd "$root"
case "${1:-all}" in
install) install ;;
redocly) redocly ;;
spectral) spectral ;;
asyncapi) asyncapi ;;
prism) prism ;;
oapi-codegen) oapi_codegen ;;
all)
	if [[ ! -x "$bin/prism" || "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
		install
	fi
	redocly
	spectral
	asyncapi
	prism
	oapi_codegen
	;;
*)
	echo "usage: tools/spec/check.sh [install|redocly|spectral|asyncapi|prism|oapi-codegen]" >&2
	exit 2
	;;
esac
