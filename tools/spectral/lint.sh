#!/usr/bin/env bash
# Lints the OpenAPI document (default api/openapi.yaml, or the files given) with
# Spectral and the ruleset .spectral.yaml at the repository root. Installs the
# linter pinned in package-lock.json on first use (npm ci; install scripts are
# skipped: Spectral needs none). Exits non-zero if Spectral reports an error or
# a warning, so the document stays at zero of both.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [[ ! -x "$here/node_modules/.bin/spectral" || "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
	npm ci --prefix "$here" --no-audit --no-fund --ignore-scripts
fi

cd "$root"
if [[ $# -eq 0 ]]; then
	set -- api/openapi.yaml
fi
exec "$here/node_modules/.bin/spectral" lint --ruleset .spectral.yaml --fail-severity warn "$@"
