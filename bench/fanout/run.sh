#!/usr/bin/env bash
# Fan-out benchmark (issue 4): N SSE or WebSocket subscribers on one channel, M posts, araldo
# and nginx + Nchan side by side in the same run, same client, same ~200-byte text. Each case
# starts a fresh server (so RSS per subscriber is measured from a clean process), runs
# bench/fanout/fanout_client, stops the server; araldo and Nchan alternate. Prints the JSON
# lines and a Markdown table for BENCHMARKS.md; exits 1 if any subscriber missed any post.
#
#   bench/fanout/run.sh                      N = 10000 19000, sse and ws, 20 paced + 20 burst
#   NS="1000" PROTOS=sse bench/fanout/run.sh  a quick check
#
# Environment: NS, PROTOS, TARGETS (default "araldo nchan"), PACED (20), INTERVAL_MS (500),
# BURST (20), PAYLOAD (200), PROCS (2), REPEAT (1: rounds of every case), OUT (the JSON lines, default a temp file), ARALDO_BIN.
set -euo pipefail
cd "$(dirname "$0")/../.."

NS=${NS:-"10000 19000"}
PROTOS=${PROTOS:-"sse ws"}
TARGETS=${TARGETS:-"araldo nchan"}
PACED=${PACED:-20}
INTERVAL_MS=${INTERVAL_MS:-500}
BURST=${BURST:-20}
PAYLOAD=${PAYLOAD:-200}
PROCS=${PROCS:-2}
REPEAT=${REPEAT:-1}
BIN=${ARALDO_BIN:-build/araldo}
CLIENT=build/bench/fanout_client
MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so

[ -x /usr/sbin/nginx ] || { echo "bench: nginx is missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
[ -f "$MODULE" ] || { echo "bench: Nchan is missing (apt-get install libnginx-mod-nchan)" >&2; exit 1; }
[ -x "$BIN" ] || make -s all
mkdir -p build/bench
gcc -O2 -Wall -Wextra -o "$CLIENT" bench/fanout/fanout_client.c

work=$(mktemp -d /tmp/araldo-bench-fanout-XXXXXX)
chmod 755 "$work"
OUT=${OUT:-$work/results.jsonl}
: > "$OUT"
apid=""
stop_servers() {
    if [ -n "$apid" ]; then
        kill "$apid" 2>/dev/null || true
        wait "$apid" 2>/dev/null || true
        apid=""
    fi
    if [ -f "$work/nginx.pid" ]; then
        kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
        for _ in $(seq 50); do [ -f "$work/nginx.pid" ] || break; sleep 0.1; done
        rm -f "$work/nginx.pid"
    fi
}
cleanup() {
    stop_servers
    case "$OUT" in "$work"/*) ;; *) rm -rf "$work" ;; esac
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# araldo: a new data directory, a staff token made with the CLI (as an operator would), one
# org and one listed channel. Limits raised for the bench: max_connections (default 19,000)
# and max_connections_per_ip (default 1,000; the client uses two source addresses).
start_araldo() {
    local d="$work/araldo-$1"
    mkdir -p "$d"
    "$BIN" serve --listen 127.0.0.1:0 --data "$d" --set workers=2 --set access_log=false \
        --set log_level=warn --set max_connections=19500 --set max_connections_per_ip=19500 \
        ${ARALDO_SETS:-} > "$work/araldo.out" 2>&1 &
    apid=$!
    for _ in $(seq 100); do
        grep -q 'listening on' "$work/araldo.out" && break
        sleep 0.1
    done
    AURL=$(sed -n 's/^listening on //p' "$work/araldo.out")
    [ -n "$AURL" ] || { cat "$work/araldo.out" >&2; exit 1; }
    APORT=${AURL##*:}
    TOKEN=$("$BIN" token create --email admin@localhost --name bench --data "$d")
    curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d '{"slug":"bench","name":"Comune di Prova"}' "$AURL/api/v1/orgs"
    curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d '{"org":"bench","handle":"bench-fanout","name":"Avvisi","visibility":"listed"}' \
        "$AURL/api/v1/channels"
}

start_nchan() {
    NPORT=$(free_port)
    mkdir -p "$work/tmp"
    sed -e "s#@WORK@#$work#g" -e "s#@PORT@#$NPORT#g" -e "s#@MODULE@#$MODULE#g" \
        bench/fanout/nchan.conf.in > "$work/nginx.conf"
    /usr/sbin/nginx -c "$work/nginx.conf" -p "$work"
    for _ in $(seq 50); do [ -s "$work/nginx.pid" ] && break; sleep 0.1; done
    sleep 0.3
}

run_case() { # target proto n
    local t=$1 proto=$2 n=$3 pids args rc=0
    if [ "$t" = araldo ]; then
        cases=$((cases + 1))
        start_araldo "$proto-$n-$cases"
        pids=$apid
        args=(--target araldo --port "$APORT" --token "$TOKEN" --channel bench-fanout
              --pub /api/v1/channels/bench-fanout/posts)
        if [ "$proto" = sse ]; then
            args+=(--sub "/api/v1/stream?channels=bench-fanout")
        else
            args+=(--sub /api/v1/ws)
        fi
    else
        start_nchan
        local master; master=$(cat "$work/nginx.pid")
        pids="$master,$(pgrep -P "$master" | paste -sd,)"
        args=(--target nchan --port "$NPORT" --sub /sub --pub /pub)
    fi
    sleep 1 # let the fresh server settle before its baseline RSS is read
    timeout 400 "$CLIENT" "${args[@]}" --proto "$proto" --n "$n" --procs "$PROCS" \
        --paced "$PACED" --interval-ms "$INTERVAL_MS" --burst "$BURST" --payload "$PAYLOAD" \
        --timeout 60 --server-pids "$pids" --label "$t-$proto-$n" >> "$OUT" || rc=$?
    stop_servers
    return $rc
}

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r)" >&2
echo "date: $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg); araldo ${ARALDO_COMMIT:-$(git rev-parse --short HEAD)}; nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*nginx\///'); nchan $(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null)" >&2
status=0
cases=0
for _ in $(seq "$REPEAT"); do
    for n in $NS; do
        for proto in $PROTOS; do
            for t in $TARGETS; do
                run_case "$t" "$proto" "$n" || status=1
            done
        done
    done
done
cat "$OUT"
node bench/fanout/table.mjs "$OUT"
exit $status
