#!/usr/bin/env bash
# Reaction ingestion benchmark (issue 4): wrk PUTs /api/v1/posts/{id}/reaction with keep-alive,
# rotating over F follower tokens × P posts and five emoji (nearly every request changes a
# stored reaction, and each is acknowledged only once durable), then checks that every post's
# counts add up to exactly F. Rate limits are raised for the bench (they would otherwise
# answer most requests with 429): reactions_per_minute and reactions_per_ip_per_minute.
#
#   bench/reactions/run.sh [DURATION_S] [CONNECTIONS] [FOLLOWERS] [POSTS]  (10 64 1000 10)
set -euo pipefail
cd "$(dirname "$0")/../.."

DUR=${1:-10}
CONNS=${2:-64}
NF=${3:-1000}
NP=${4:-10}
THREADS=2
BIN=${ARALDO_BIN:-build/araldo}
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
[ -x "$BIN" ] || make -s all

work=$(mktemp -d /tmp/araldo-bench-reactions-XXXXXX)
cleanup() {
    [ -n "${apid:-}" ] && kill "$apid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/data"
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
SETS=(--set workers=2 --set access_log=false --set log_level=warn
      --set reactions_per_minute=1000000 --set reactions_per_ip_per_minute=100000000
      --set follower_signups_per_ip=1000000)
"$BIN" serve --listen 127.0.0.1:0 --data "$work/data" "${SETS[@]}" > "$work/araldo.out" 2>&1 &
apid=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$work/araldo.out" && break
    sleep 0.1
done
AURL=$(sed -n 's/^listening on //p' "$work/araldo.out")
TOKEN=$("$BIN" token create --email admin@localhost --name bench --data "$work/data")
node bench/reactions/seed.mjs "$AURL" "$TOKEN" "$NF" "$NP" "$work" >/dev/null

out=$(BENCH_DIR="$work" WRK_THREADS=$THREADS wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency \
    -s bench/reactions/react.lua "$AURL" 2>&1)
result=$(sed -n 's/^RESULT //p' <<<"$out")
# Let the coalesced counts settle (at most one counts write per post per second).
sleep 2
verify=$(node bench/reactions/verify.mjs "$AURL" "$work") && vok=1 || vok=0
rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
read -r ok2xx n429 other dur_s p50 p99 < <(sed -n 's/^SUMMARY //p' <<<"$out")
acked=$(awk -v n="$ok2xx" -v d="$dur_s" 'BEGIN { printf "%.0f", n / d }')
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -r)"
echo "date: $(date -u +%FT%TZ); load before: $LOAD; wrk -t$THREADS -c$CONNS -d${DUR}s; $NF followers × $NP posts; araldo ${ARALDO_COMMIT:-$(git rev-parse --short HEAD)}"
echo "wrk: $result"
echo "verify: $verify"
echo
echo "| acknowledged reactions/s (2xx) | all answers/s | p50 | p99 | 429 | other errors | counts = distinct (follower, post) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
echo "| $acked | $rps | ${p50} ms | ${p99} ms | $n429 | $other | $([ "$vok" = 1 ] && echo yes || echo NO) |"
[ "$vok" = 1 ] && [ "$other" = 0 ]
