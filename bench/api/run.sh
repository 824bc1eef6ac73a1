#!/usr/bin/env bash
# API read benchmark: wrk against GET /api/v1/channels/{handle}/posts?limit=20 on a channel with
# 1,000 posts, side by side with nginx serving the very same JSON bytes as a static file, in the
# same run on loopback. Prints a Markdown table for BENCHMARKS.md.
#
#   bench/api/run.sh [DURATION_S] [CONNECTIONS]      (defaults 10 and 64)
set -euo pipefail
cd "$(dirname "$0")/../.."

DUR=${1:-10}
CONNS=${2:-64}
BIN=${ARALDO_BIN:-build/araldo}
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
[ -x "$BIN" ] || make -s all

work=$(mktemp -d /tmp/araldo-bench-api-XXXXXX)
chmod 755 "$work"
cleanup() {
    [ -n "${apid:-}" ] && kill "$apid" 2>/dev/null
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/web" "$work/data" "$work/tmp"

"$BIN" serve --listen 127.0.0.1:0 --data "$work/data" --set workers=2 --set access_log=false \
    --set log_level=warn > "$work/araldo.out" 2>&1 &
apid=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$work/araldo.out" && break
    sleep 0.1
done
AURL=$(sed -n 's/^listening on //p' "$work/araldo.out")
TOKEN=$("$BIN" token create --email admin@localhost --name bench --data "$work/data")
HANDLE=$(node bench/api/seed.mjs "$AURL" "$TOKEN" 1000)
PATH_Q="/api/v1/channels/$HANDLE/posts?limit=20"
curl -fsS "$AURL$PATH_Q" > "$work/web/posts.json"

NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/nginx.conf" <<CONF
user root root;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    open_file_cache max=100 inactive=60s;
    open_file_cache_valid 60s;
    client_body_temp_path $work/tmp;
    proxy_temp_path $work/tmp;
    fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp;
    scgi_temp_path $work/tmp;
    types { application/json json; }
    server {
        listen 127.0.0.1:$NPORT reuseport;
        root $work/web;
    }
}
CONF
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work"
NURL="http://127.0.0.1:$NPORT/posts.json"
curl -fsS "$NURL" >/dev/null

run() {
    local out
    out=$(wrk -t2 -c"$CONNS" -d"${DUR}s" --latency "$1" 2>&1)
    grep -E 'Non-2xx|Socket errors' <<<"$out" >&2 || true
    echo "$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out") $(awk '$1 == "99%" { print $2 }' <<<"$out")"
}
read -r a_rps a_p99 < <(run "$AURL$PATH_Q")
read -r n_rps n_p99 < <(run "$NURL")
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -r)"
echo "date: $(date -u +%FT%TZ); wrk -t2 -c$CONNS -d${DUR}s --latency; body $(stat -c %s "$work/web/posts.json") bytes; araldo $(git rev-parse --short HEAD)"
echo
echo "| target | araldo req/s | araldo p99 | nginx (same bytes, static) req/s | nginx p99 | ratio |"
echo "| --- | --- | --- | --- | --- | --- |"
echo "| GET $PATH_Q | $a_rps | $a_p99 | $n_rps | $n_p99 | $(awk -v a="$a_rps" -v n="$n_rps" 'BEGIN { printf "%.2f", a / n }') |"
