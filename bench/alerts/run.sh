#!/usr/bin/env bash
# Civil-protection alert benchmark (issue 13): N followers connected over SSE or WebSocket to a
# channel of the Comune; the time from POST /api/v1/orgs/{org}/alerts to the last follower's
# `alert` event (median over PACED alerts), next to the same figure for a normal post on the same
# channel, same server build, same client (bench/fanout/fanout_client, --alert-zone), posts and
# alerts alternating, each case on a fresh server. An alert must not be slower than a post.
#
#   bench/alerts/run.sh                     N = 19000, sse and ws, 20 paced publishes each
#   NS=2000 PROTOS=sse bench/alerts/run.sh  a quick check
#
# Environment: NS, PROTOS, PACED (20), INTERVAL_MS (500), PAYLOAD (200), PROCS (2), REPEAT (1),
# OUT (the JSON lines, default a temp file), ARALDO_BIN.
set -euo pipefail
cd "$(dirname "$0")/../.."

NS=${NS:-19000}
PROTOS=${PROTOS:-"sse ws"}
PACED=${PACED:-20}
INTERVAL_MS=${INTERVAL_MS:-500}
PAYLOAD=${PAYLOAD:-200}
PROCS=${PROCS:-2}
REPEAT=${REPEAT:-1}
BIN=${ARALDO_BIN:-build/araldo}
CLIENT=build/bench/fanout_client

[ -x "$BIN" ] || make -s all
mkdir -p build/bench
gcc -O2 -Wall -Wextra -o "$CLIENT" bench/fanout/fanout_client.c

work=$(mktemp -d /tmp/araldo-bench-alerts-XXXXXX)
OUT=${OUT:-$work/results.jsonl}
: > "$OUT"
apid=""
stop_server() {
    if [ -n "$apid" ]; then
        kill "$apid" 2>/dev/null || true
        wait "$apid" 2>/dev/null || true
        apid=""
    fi
}
cleanup() {
    stop_server
    case "$OUT" in "$work"/*) ;; *) rm -rf "$work" ;; esac
}
trap cleanup EXIT

# A fresh server with one org, one zone and one listed channel.
start_araldo() {
    local d="$work/araldo-$1"
    mkdir -p "$d"
    "$BIN" serve --listen 127.0.0.1:0 --data "$d" --set workers=2 --set access_log=false \
        --set log_level=warn --set max_connections=19500 --set max_connections_per_ip=19500 \
        > "$work/araldo.out" 2>&1 &
    apid=$!
    for _ in $(seq 100); do
        grep -q 'listening on' "$work/araldo.out" && break
        sleep 0.1
    done
    AURL=$(sed -n 's/^listening on //p' "$work/araldo.out")
    [ -n "$AURL" ] || { cat "$work/araldo.out" >&2; exit 1; }
    APORT=${AURL##*:}
    TOKEN=$("$BIN" token create --email admin@localhost --name bench --data "$d")
    local h=(-fsS -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json')
    curl "${h[@]}" -d '{"slug":"bench","name":"Comune di Prova"}' "$AURL/api/v1/orgs"
    curl "${h[@]}" -d '{"code":"ZA","name":"Zona di allerta A"}' "$AURL/api/v1/orgs/bench/zones"
    curl "${h[@]}" -d '{"org":"bench","handle":"bench-alerts","name":"Protezione civile","visibility":"listed"}' \
        "$AURL/api/v1/channels"
}

run_case() { # kind proto n
    local kind=$1 proto=$2 n=$3 rc=0 args
    cases=$((cases + 1))
    start_araldo "$kind-$proto-$n-$cases"
    args=(--target araldo --port "$APORT" --token "$TOKEN" --channel bench-alerts)
    if [ "$kind" = alert ]; then
        args+=(--pub /api/v1/orgs/bench/alerts --alert-zone ZA)
    else
        args+=(--pub /api/v1/channels/bench-alerts/posts)
    fi
    if [ "$proto" = sse ]; then
        args+=(--sub "/api/v1/stream?channels=bench-alerts")
    else
        args+=(--sub /api/v1/ws)
    fi
    sleep 1
    timeout 400 "$CLIENT" "${args[@]}" --proto "$proto" --n "$n" --procs "$PROCS" \
        --paced "$PACED" --interval-ms "$INTERVAL_MS" --burst 0 --payload "$PAYLOAD" \
        --timeout 60 --server-pids "$apid" --label "$kind-$proto-$n" >> "$OUT" || rc=$?
    stop_server
    return $rc
}

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), Linux $(uname -r)" >&2
echo "date: $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg); araldo ${ARALDO_COMMIT:-$(git rev-parse --short HEAD)}" >&2
status=0
cases=0
for _ in $(seq "$REPEAT"); do
    for n in $NS; do
        for proto in $PROTOS; do
            for kind in post alert; do
                run_case "$kind" "$proto" "$n" || status=1
            done
        done
    done
done
cat "$OUT"
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
const f = (x) => Number(x).toFixed(1);
console.log("| stream | N | publish → last follower, median ms: post / alert | p50 ms post / alert | max ms post / alert | missed post / alert |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const a of rows.filter((r) => r.label.startsWith("alert-"))) {
  const p = rows.find((r) => r.label === a.label.replace(/^alert-/, "post-"));
  if (!p) continue;
  console.log(`| ${a.proto.toUpperCase()} | ${a.n} | ${f(p.last_ms_median)} / ${f(a.last_ms_median)} | ${f(p.p50_ms)} / ${f(a.p50_ms)} | ${f(p.max_ms)} / ${f(a.max_ms)} | ${p.missed} / ${a.missed} |`);
}' "$OUT"
exit $status
