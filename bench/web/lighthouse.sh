#!/usr/bin/env bash
# Lighthouse (npm, its default mobile profile: Moto G Power viewport, 4x CPU slowdown, slow 4G
# simulated) on the citizens' web against `araldo serve --demo`, with Debian's chromium; and the
# bytes a first visit to the app transfers before images. Prints a Markdown table for
# BENCHMARKS.md. Not a CI test: scores move with the machine's load.
#
#   bench/web/lighthouse.sh            (ARALDO_BIN=... to measure another build)
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${ARALDO_BIN:-build/araldo}
CHROME=${ARALDO_CHROMIUM:-/usr/bin/chromium}
LH=node_modules/lighthouse/cli/index.js
[ -x "$CHROME" ] || { echo "bench: $CHROME is missing (scripts/install-deps.sh)" >&2; exit 1; }
[ -f "$LH" ] || { echo "bench: lighthouse is missing (npm ci)" >&2; exit 1; }
make -s all

work=$(mktemp -d /tmp/araldo-bench-web-XXXXXX)
cleanup() {
    [ -n "${apid:-}" ] && kill "$apid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
"$BIN" serve --demo --listen 127.0.0.1:0 --data "$work/data" --set workers=2 \
    --set web_root="$PWD/web" --set log_level=warn > "$work/araldo.out" 2>&1 &
apid=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$work/araldo.out" && break
    sleep 0.1
done
URL=$(sed -n 's/^listening on //p' "$work/araldo.out")

pages=("/" "/#/esplora")
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/c/valdoro-notizie")
[ "$code" = 200 ] && pages+=("/c/valdoro-notizie")

echo "| page | performance | accessibility | best practices | first visit, bytes (all / before images) |"
echo "| --- | --- | --- | --- | --- |"
for p in "${pages[@]}"; do
    out="$work/lh.json"
    CHROME_PATH="$CHROME" node "$LH" "$URL$p" --quiet --output=json --output-path="$out" \
        --only-categories=performance,accessibility,best-practices \
        --chrome-flags="--headless=new --no-sandbox --disable-dev-shm-usage" >/dev/null 2>&1 || true
    node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const s = (k) => (r.categories[k] && r.categories[k].score !== null ? Math.round(r.categories[k].score * 100) : "n/a");
const items = (r.audits["network-requests"].details || {}).items || [];
const all = items.reduce((a, i) => a + (i.transferSize || 0), 0);
const noImg = items.filter((i) => i.resourceType !== "Image").reduce((a, i) => a + (i.transferSize || 0), 0);
const fails = Object.values(r.audits).filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode === "binary").map((a) => a.id);
console.log(`| \`${process.argv[2]}\` | ${s("performance")} | ${s("accessibility")} | ${s("best-practices")} | ${(all / 1024).toFixed(1)} KiB / ${(noImg / 1024).toFixed(1)} KiB |`);
if (fails.length) console.error(`  ${process.argv[2]}: audits not passed: ${fails.join(", ")}`);
' "$out" "$p"
done

# The app's first visit as files: what a browser fetches before any image, raw and gzip -9
# (araldo serves files uncompressed; a reverse proxy may compress them).
raw=0; gz=0
for f in web/index.html web/vendor/preact.mjs web/vendor/hooks.mjs web/vendor/htm.mjs web/app/*.js \
         web/app/app.css web/css/araldo.css web/i18n/it.json web/manifest.webmanifest \
         web/vendor/fonts/titillium-web-latin-400-normal.woff2 web/vendor/fonts/titillium-web-latin-600-normal.woff2; do
    [ -f "$f" ] || continue
    case "$f" in */page.js) continue ;; esac
    raw=$((raw + $(stat -c %s "$f")))
    gz=$((gz + $(gzip -9c "$f" | wc -c)))
done
echo
echo "App first visit before images (files): $((raw / 1024)) KiB uncompressed, $((gz / 1024)) KiB gzip -9."
