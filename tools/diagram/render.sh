#!/usr/bin/env bash
# Renders the system picture the README shows, docs/system.svg, from the
# first mermaid block of docs/architecture.md (its section "The system"),
# with mermaid-cli in a headless Chromium, and records the block's SHA-256
# in the SVG, where TestSystemDiagramIsCurrent compares it with the block.
#
# Needs npm and Debian's chromium (apt-get install chromium); mermaid-cli
# is installed into a temporary directory, its own Chrome download skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
MERMAID_CLI=@mermaid-js/mermaid-cli@11.17.0
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "render.sh: no Chromium at $CHROMIUM (apt-get install chromium, or set CHROMIUM)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk '/^```mermaid$/ { on = 1; next } on && /^```$/ { exit } on' docs/architecture.md > "$work/system.mmd"
[ -s "$work/system.mmd" ] || { echo "render.sh: no mermaid block in docs/architecture.md" >&2; exit 1; }
# The sandbox needs user namespaces, which containers and CI runners often
# lack; the input is this repository's own diagram.
printf '{"executablePath": "%s", "args": ["--no-sandbox"]}\n' "$CHROMIUM" > "$work/puppeteer.json"
(cd "$work" && PUPPETEER_SKIP_DOWNLOAD=true npm install --silent --no-audit --no-fund "$MERMAID_CLI" >/dev/null)
"$work/node_modules/.bin/mmdc" --quiet -p "$work/puppeteer.json" -i "$work/system.mmd" -o "$work/system.svg" -b white
{
	printf '<!-- rendered by tools/diagram/render.sh from docs/architecture.md; mermaid source sha256: %s -->\n' \
		"$(sha256sum < "$work/system.mmd" | cut -d' ' -f1)"
	# Coordinates to a tenth of a pixel: the same picture at 40% of the bytes.
	perl -pe 's/(\d\.\d)\d+/$1/g' "$work/system.svg"
} > docs/system.svg
echo "render.sh: wrote docs/system.svg ($(wc -c < docs/system.svg) bytes)"
