#!/usr/bin/env bash
# Checks the rendered API reference the binary serves at GET /docs (Redoc,
# vendored into internal/invoicing/invoicinghttp/apidocs). .ci/run runs each
# check as a step of its own.
#
#   tools/apidocs/check.sh vendored   the vendored files are, byte for byte, those
#                                     of the pinned Redoc release on npm, but for
#                                     the one change below (unlogo)
#   tools/apidocs/check.sh vendor     replaces the vendored files with those of
#                                     the pinned release (after changing REDOC)
#   tools/apidocs/check.sh browser    builds the binary, runs `serve` on loopback
#                                     against a database of its own, and opens
#                                     /docs in Debian's headless chromium
#                                     (browser.mjs): the operations render, no
#                                     console error, no request off the server;
#                                     the screenshot goes to ARTEFACTS
#                                     (default /tmp/ci-artefacts)
#
# The browser check needs /usr/bin/chromium (Debian's chromium package),
# PostgreSQL at PGHOST:PGPORT (default 127.0.0.1:5432, user postgres) and npm
# (playwright-core, pinned in package-lock.json here, drives the browser; it
# downloads none).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
vendored="$root/internal/invoicing/invoicinghttp/apidocs"
# Redoc 2: Redoc 3 bundles OpenTelemetry reporting, which this page must not
# send anywhere. The integrity is npm's of the release tarball.
REDOC=redoc@2.5.4
REDOC_INTEGRITY=sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==
files=(bundles/redoc.standalone.js bundles/redoc.standalone.js.LICENSE.txt LICENSE)

# release DIR: unpacks the pinned release's files into DIR, after checking
# the tarball against REDOC_INTEGRITY, and makes the bundle's one change.
release() {
	local dir=$1 tgz got
	tgz=$(cd "$dir" && npm pack "$REDOC" --silent --pack-destination "$dir")
	got="sha512-$(openssl dgst -sha512 -binary "$dir/$tgz" | base64 -w0)"
	[ "$got" = "$REDOC_INTEGRITY" ] || { echo "apidocs: $REDOC is $got, pinned $REDOC_INTEGRITY" >&2; return 1; }
	tar -xzf "$dir/$tgz" -C "$dir" "${files[@]/#/package/}"
	unlogo "$dir/package/bundles/redoc.standalone.js"
}
# unlogo FILE: the one change made to the bundle. Its side menu shows
# "API docs by Redocly" with a logo loaded from cdn.redoc.ly, which the
# page's policy blocks (a console error, and a request off the server);
# here the logo is an empty SVG, the attribution text stays. It fails
# unless the URL occurs exactly once, so a new release is looked at again.
cdnLogo=https://cdn.redoc.ly/redoc/logo-mini.svg
emptySVG="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"
unlogo() {
	local n
	n=$(grep -o "$cdnLogo" "$1" | wc -l)
	[ "$n" -eq 1 ] || { echo "apidocs: $1 names $cdnLogo $n times, want once: look at the new release's requests" >&2; return 1; }
	sed -i "s|$cdnLogo|$emptySVG|" "$1"
}
# vendoredName FILE: the name a release file has in the repository.
vendoredName() { case $1 in LICENSE) echo redoc.LICENSE ;; *) basename "$1" ;; esac; }

vendored() {
	local dir f rc=0
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' RETURN
	release "$dir"
	for f in "${files[@]}"; do
		cmp -s "$dir/package/$f" "$vendored/$(vendoredName "$f")" || { echo "apidocs: $vendored/$(vendoredName "$f") is not $REDOC's $f (run tools/apidocs/check.sh vendor)" >&2; rc=1; }
	done
	[ "$rc" -ne 0 ] || echo "apidocs: the vendored files are $REDOC's"
	return "$rc"
}
vendor() {
	local dir f
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' RETURN
	release "$dir"
	for f in "${files[@]}"; do cp "$dir/package/$f" "$vendored/$(vendoredName "$f")"; done
	echo "apidocs: vendored $REDOC"
}

browser() {
	local work db url bin log pid addr="" rc=0 artefacts=${ARTEFACTS:-/tmp/ci-artefacts}
	work=$(mktemp -d /tmp/apidocs.XXXXXX)
	db="apidocs_$(basename "$work" | tr -cd 'a-zA-Z0-9' | tr 'A-Z' 'a-z')"
	url="postgres://postgres@${PGHOST:-127.0.0.1}:${PGPORT:-5432}/$db?sslmode=disable"
	bin=$work/invoicing log=$work/serve.log
	cleanup() {
		[ -z "${pid:-}" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
		dropdb -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5432}" -U postgres --if-exists "$db" || true
		rm -rf "$work"
	}
	trap cleanup RETURN
	npm ci --prefix "$here" --no-audit --no-fund --ignore-scripts --silent
	(cd "$root" && go build -o "$bin" ./cmd/invoicing)
	createdb -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5432}" -U postgres "$db"
	DATABASE_URL=$url "$bin" migrate up >/dev/null
	# No relay: the page needs the HTTP server only (NATS stays untouched).
	DATABASE_URL=$url HTTP_ADDR=127.0.0.1:0 RELAY_ENABLED=false "$bin" serve >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do
		addr=$(sed -n 's/.*"msg":"listening".*"addr":"\([^"]*\)".*/\1/p' "$log" | head -1)
		[ -n "$addr" ] && break
		kill -0 "$pid" 2>/dev/null || { echo "apidocs: serve exited:" >&2; tail -20 "$log" >&2; return 1; }
		sleep 0.1
	done
	[ -n "$addr" ] || { echo "apidocs: serve did not log \"listening\" within 10 s:" >&2; tail -20 "$log" >&2; return 1; }
	mkdir -p "$artefacts"
	node "$here/browser.mjs" "http://$addr" "$artefacts/apidocs.png" || rc=$?
	return "$rc"
}

case "${1:-}" in
vendored | vendor | browser) "$1" ;;
*) echo "usage: $0 vendored|vendor|browser" >&2; exit 2 ;;
esac
