#!/usr/bin/env bash
# Media benchmark: how many 12-megapixel phone JPEGs the server turns into its four sizes per
# second (8 uploads in flight), and how responsive it stays meanwhile: p50/p99 of GET /healthz
# (wrk) alone, then while 8 uploads are being processed all the time. Loopback only; stops by
# itself. Prints a Markdown table for BENCHMARKS.md.
#
#   bench/media/run.sh [UPLOADS] [WRK_SECONDS]      (defaults 32 and 10)
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${1:-32}
DUR=${2:-10}
BIN=${ARALDO_BIN:-build/araldo}
for t in wrk vips curl; do
    command -v $t >/dev/null || { echo "bench: $t is missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
done
[ -x "$BIN" ] || make -s all

work=$(mktemp -d /tmp/araldo-bench-media-XXXXXX)
cleanup() {
    [ -n "${loops:-}" ] && kill $loops 2>/dev/null
    [ -n "${apid:-}" ] && kill "$apid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/data"

# A 4000 x 3000 "photo": blurred noise has the entropy of a real picture (a flat image would
# compress to nothing and decode in no time), saved as a quality-90 JPEG of about 5 MB, like a
# phone's.
vips gaussnoise "$work/noise.v" 4000 3000 --mean 128 --sigma 60
vips bandjoin "$work/noise.v $work/noise.v $work/noise.v" "$work/rgb.v"
vips gaussblur "$work/rgb.v" "$work/blur.v" 0.4
vips copy "$work/blur.v" "$work/photo.jpg[Q=90]"
PHOTO_BYTES=$(stat -c %s "$work/photo.jpg")

"$BIN" serve --listen 127.0.0.1:0 --data "$work/data" --set workers=2 --set access_log=false \
    --set log_level=warn > "$work/araldo.out" 2>&1 &
apid=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$work/araldo.out" && break
    sleep 0.1
done
URL=$(sed -n 's/^listening on //p' "$work/araldo.out")
TOKEN=$("$BIN" token create --email admin@localhost --name bench --data "$work/data")
upload() {
    curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" -F "file=@$work/photo.jpg" \
        "$URL/api/v1/media"
}
export -f upload
export TOKEN URL work

upload # warm-up: libvips initialised, pages cached

# 1. Throughput: N uploads, 8 at a time, wall clock from the first request to the last answer.
start=$(date +%s.%N)
seq "$N" | xargs -P 8 -I{} bash -c upload
end=$(date +%s.%N)
RATE=$(python3 -c "print(f'{$N / ($end - $start):.2f}')")

# 2. Responsiveness: /healthz alone, then with 8 uploads always in flight.
wrk_p() { # prints "p50 p99" in ms
    wrk -t1 -c4 -d"${DUR}s" --latency "$URL/healthz" | awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
        /Requests\/sec/ { rps = $2 }
        END { printf "%.2f %.2f %d\n", p50, p99, rps }'
}
read -r IDLE50 IDLE99 IDLERPS < <(wrk_p)
loops=""
for _ in $(seq 8); do
    (while :; do upload || true; done) &
    loops="$loops $!"
done
sleep 1
read -r BUSY50 BUSY99 BUSYRPS < <(wrk_p)
kill $loops 2>/dev/null
wait $loops 2>/dev/null || true
loops=""

echo "| measure | value |"
echo "| --- | --- |"
echo "| 12 MP JPEG (4000×3000, $PHOTO_BYTES bytes) → 320 + 1280 px, WebP + JPEG, 8 in flight | **$RATE images/s** |"
echo "| GET /healthz alone (wrk -t1 -c4, ${DUR} s) | p50 $IDLE50 ms, p99 $IDLE99 ms, $IDLERPS req/s |"
echo "| GET /healthz while 8 uploads are processed (same wrk) | p50 $BUSY50 ms, **p99 $BUSY99 ms**, $BUSYRPS req/s |"
