#!/usr/bin/env bash
# Cluster benchmark (issue 16): araldo nodes on one PostgreSQL against one SQLite node, in the
# same run on the same machine, with bench/fanout's load client and bench/api's wrk load.
#
#   bench/cluster/run.sh                   every case (see bench/cluster/README.md)
#   N=1000 PACED=5 BURST=5 API_DUR=3 bench/cluster/run.sh    a quick check of the mechanics
#
# Fan-out cases (CASES, default "sqlite pg1 pg3"), each on fresh servers and a fresh database:
#   sqlite  one node on SQLite, N SSE followers
#   pg1     one node on PostgreSQL, N SSE followers
#   pg3     NODES nodes on one PostgreSQL, N SSE followers on each (N × NODES), every post
#           published through node 1 (the others get it by LISTEN/NOTIFY). LOCAL=1: the N
#           followers all on node 1 (the mechanics, without cross-node delivery).
# Then API reads (API=0 skips): GET /api/v1/channels/bench-news/posts?limit=20 on a channel of
# 1,000 posts, three wrk processes (-t1 each, API_CONNS connections in all) at one SQLite node,
# at one PostgreSQL node, and at NODES PostgreSQL nodes (one wrk per node).
#
# Environment: N (19000), NODES (3), CASES, LOCAL (0), PACED (20), INTERVAL_MS (500), BURST (20),
# PAYLOAD (200), WORKERS (2: loops of a lone node), NODE_WORKERS (1: loops of each of the NODES
# nodes), API (1), API_DUR (10), API_CONNS (63), OUT (the JSON lines, default
# build/bench/cluster-results.jsonl), ARALDO_BIN.
# Every server, PostgreSQL and client is stopped on exit (also on Ctrl-C or a timeout);
# each client run has its own timeout. Exits 1 if any follower missed any post.
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${N:-19000}
NODES=${NODES:-3}
CASES=${CASES:-"sqlite pg1 pg3"}
LOCAL=${LOCAL:-0}
PACED=${PACED:-20}
INTERVAL_MS=${INTERVAL_MS:-500}
BURST=${BURST:-20}
PAYLOAD=${PAYLOAD:-200}
WORKERS=${WORKERS:-2}
NODE_WORKERS=${NODE_WORKERS:-1}
API=${API:-1}
API_DUR=${API_DUR:-10}
API_CONNS=${API_CONNS:-63}
BIN=${ARALDO_BIN:-build/araldo}
CLIENT=build/bench/fanout_client

command -v psql >/dev/null || { echo "bench: PostgreSQL is missing (scripts/install-deps.sh)" >&2; exit 1; }
[ "$API" = 0 ] || command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
[ -x "$BIN" ] || make -s all
mkdir -p build/bench
gcc -O2 -Wall -Wextra -o "$CLIENT" bench/fanout/fanout_client.c

work=$(mktemp -d /tmp/araldo-bench-cluster-XXXXXX)
chmod 755 "$work"
OUT=${OUT:-build/bench/cluster-results.jsonl}
: > "$OUT"
pids=()
stop_servers() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}
cleanup() {
    stop_servers
    [ -d "$work/pg" ] && tests/pg/postgres.sh stop "$work/pg" || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# PostgreSQL as the tests start it (tests/pg/postgres.sh: unix socket only, fsync on, run as
# the postgres user when we are root), one database per case.
PG=$(tests/pg/postgres.sh start "$work/pg")
[ -n "$PG" ] || { echo "bench: PostgreSQL did not start" >&2; exit 1; }
new_database() { # NAME
    psql "$PG" -qc "CREATE DATABASE $1" >/dev/null
    echo "$PG dbname=$1"
}

# start_node NAME WORKERS [--set k=v ...]: a node on a free port; sets NODE_URL, NODE_PID.
start_node() {
    local name=$1 w=$2 d="$work/$1"
    shift 2
    mkdir -p "$d"
    "$BIN" serve --listen 127.0.0.1:0 --data "$d" --set workers="$w" --set access_log=false \
        --set log_level=warn --set max_connections=19500 --set max_connections_per_ip=19500 \
        --set alert_source_schedule=false --set map_tile_url= "$@" > "$d.out" 2>&1 &
    NODE_PID=$!
    pids+=("$NODE_PID")
    NODE_URL=""
    for _ in $(seq 200); do
        NODE_URL=$(sed -n 's/^listening on //p' "$d.out" 2>/dev/null)
        [ -n "$NODE_URL" ] && break
        sleep 0.1
    done
    [ -n "$NODE_URL" ] || { cat "$d.out" >&2; exit 1; }
}

# start_case KIND COUNT: fresh servers; sets URLS (one per node), PORTS, SPIDS, TOKEN.
start_case() {
    local kind=$1 count=$2 db i w
    cases=$((cases + 1))
    URLS=() PORTS=() SPIDS=()
    if [ "$kind" = sqlite ]; then
        start_node "c$cases-sqlite" "$WORKERS"
        URLS+=("$NODE_URL") SPIDS+=("$NODE_PID")
        TOKEN=$("$BIN" token create --email admin@localhost --name bench --data "$work/c$cases-sqlite")
    else
        db=$(new_database "bench$cases")
        # As DEPLOY.md says: migrate once, before the nodes start.
        "$BIN" migrate --data "$work/c$cases-migrate" --set "database_url=$db" \
            > "$work/c$cases-migrate.out" 2>&1 || { cat "$work/c$cases-migrate.out" >&2; exit 1; }
        w=$WORKERS
        [ "$count" -gt 1 ] && w=$NODE_WORKERS
        for i in $(seq "$count"); do
            start_node "c$cases-pg$i" "$w" --set "database_url=$db"
            URLS+=("$NODE_URL") SPIDS+=("$NODE_PID")
        done
        TOKEN=$("$BIN" token create --email admin@localhost --name bench \
            --data "$work/c$cases-pg1" --set "database_url=$db")
    fi
    for u in "${URLS[@]}"; do PORTS+=("${u##*:}"); done
}

# CPU seconds used so far by PostgreSQL (the postmaster and its children: the nodes'
# connections live for the whole case, so the difference over a case is its PostgreSQL CPU).
pg_cpu() {
    local pm
    pm=$(head -1 "$work/pg/data/postmaster.pid")
    for p in "$pm" $(pgrep -P "$pm"); do cat "/proc/$p/stat" 2>/dev/null; done |
        awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); t += $12 + $13 } END { printf "%.2f\n", t / hz }'
}

setup_channel() { # URL handle: one org, one listed channel
    curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d '{"slug":"bench","name":"Comune di Prova"}' "$1/api/v1/orgs"
    curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d "{\"org\":\"bench\",\"handle\":\"$2\",\"name\":\"Avvisi\",\"visibility\":\"listed\"}" \
        "$1/api/v1/channels"
}

fanout_case() { # sqlite | pg1 | pg3
    local kind=$1 count=1 subs n procs rc=0
    [ "$kind" = pg3 ] && count=$NODES
    start_case "${kind%%[0-9]*}" "$count"
    setup_channel "${URLS[0]}" bench-fanout
    if [ "$kind" = pg3 ] && [ "$LOCAL" != 1 ]; then
        subs=$(IFS=,; echo "${PORTS[*]}")
        n=$((N * count))
        procs=$count
    else
        subs=${PORTS[0]}
        n=$N
        procs=2
    fi
    sleep 1 # let the fresh servers settle before their baseline RSS is read
    local pg0; pg0=$(pg_cpu)
    timeout $((300 + n / 100)) "$CLIENT" --target araldo --proto sse --port "${PORTS[0]}" \
        --sub-ports "$subs" --token "$TOKEN" --channel bench-fanout \
        --sub "/api/v1/stream?channels=bench-fanout" --pub /api/v1/channels/bench-fanout/posts \
        --n "$n" --procs "$procs" --paced "$PACED" --interval-ms "$INTERVAL_MS" --burst "$BURST" \
        --payload "$PAYLOAD" --timeout 90 --server-pids "$(IFS=,; echo "${SPIDS[*]}")" \
        --label "$kind" >> "$OUT" || rc=$?
    echo "{\"kind\":\"pgcpu\",\"label\":\"$kind\",\"pg_cpu_s\":$(awk -v a="$pg0" -v b="$(pg_cpu)" 'BEGIN { printf "%.2f", b - a }')}" >> "$OUT"
    stop_servers
    return $rc
}

# Three wrk processes (-t1 each) at the nodes' URLs, round robin; prints "req/s p99-of-worst".
wrk_nodes() {
    local i path=$1 per=$((API_CONNS / 3)) wp=()
    shift
    for i in 0 1 2; do
        local u=${URLS[$((i % ${#URLS[@]}))]}
        wrk -t1 -c"$per" -d"${API_DUR}s" --latency "$u$path" > "$work/wrk$i.out" 2>&1 &
        wp+=($!)
    done
    for i in "${wp[@]}"; do wait "$i"; done
    cat "$work"/wrk?.out | grep -E 'Non-2xx|Socket errors' >&2 || true
    awk '/^Requests\/sec:/ { s += $2 } $1 == "99%" { v = $2; m = v + 0;
            if (v ~ /us$/) m /= 1000; else if (v ~ /[0-9]s$/) m *= 1000;
            if (m > p) p = m }
         END { printf "%.0f %.2f\n", s, p }' "$work"/wrk?.out
}

api_case() { # sqlite | pg1 | pg3
    local kind=$1 count=1 rps p99
    [ "$kind" = pg3 ] && count=$NODES
    start_case "${kind%%[0-9]*}" "$count"
    node bench/api/seed.mjs "${URLS[0]}" "$TOKEN" 1000 >/dev/null
    curl -fsS -o /dev/null "${URLS[-1]}/api/v1/channels/bench-news/posts?limit=20"
    read -r rps p99 < <(wrk_nodes "/api/v1/channels/bench-news/posts?limit=20")
    echo "{\"kind\":\"api\",\"label\":\"$kind\",\"nodes\":$count,\"wrk\":\"3 × wrk -t1 -c$((API_CONNS / 3)) -d${API_DUR}s\",\"rps\":$rps,\"p99_ms\":$p99}" >> "$OUT"
    stop_servers
}

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r)" >&2
echo "date: $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg); araldo ${ARALDO_COMMIT:-$(git rev-parse --short HEAD)}; $(psql "$PG" -Atc 'SHOW server_version' | sed 's/^/PostgreSQL /'); N=$N NODES=$NODES LOCAL=$LOCAL" >&2
status=0
cases=0
for c in $CASES; do
    echo "bench: fan-out $c" >&2
    fanout_case "$c" || status=1
done
if [ "$API" != 0 ]; then
    for c in $CASES; do
        echo "bench: API reads $c" >&2
        api_case "$c"
    done
fi
cat "$OUT"
node bench/cluster/table.mjs "$OUT"
exit $status
