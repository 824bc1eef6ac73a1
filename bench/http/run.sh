#!/usr/bin/env bash
# HTTP benchmark: wrk against araldo and Debian's nginx, side by side in the same run, on
# loopback, keep-alive, same machine, same file. Prints a Markdown table for BENCHMARKS.md.
#
#   bench/http/run.sh [DURATION_S] [CONNECTIONS]      (defaults 10 and 100)
#
# Two targets per server: GET /healthz (araldo's handler; nginx `return 200` with the same
# body) and GET /small.html (a 612-byte static file, nginx's own default page size).
set -euo pipefail
cd "$(dirname "$0")/../.."

DUR=${1:-10}
CONNS=${2:-100}
THREADS=2
BIN=${ARALDO_BIN:-build/araldo}
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
[ -x /usr/sbin/nginx ] || { echo "bench: nginx is missing (apt-get install nginx-light)" >&2; exit 1; }
[ -x "$BIN" ] || make -s all

work=$(mktemp -d /tmp/araldo-bench-XXXXXX)
chmod 755 "$work"
cleanup() {
    [ -n "${apid:-}" ] && kill "$apid" 2>/dev/null
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/web" "$work/data"
head -c 612 /dev/zero | tr '\0' 'a' > "$work/web/small.html"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NPORT=$(free_port)

cat > "$work/nginx.conf" <<CONF
user root root;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=100 inactive=60s;
    open_file_cache_valid 60s;
    client_body_temp_path $work/tmp;
    proxy_temp_path $work/tmp;
    fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp;
    scgi_temp_path $work/tmp;
    types { text/html html; }
    server {
        listen 127.0.0.1:$NPORT reuseport;
        root $work/web;
        location = /healthz { default_type application/json; return 200 '{"status":"ok"}'; }
    }
}
CONF
mkdir -p "$work/tmp"
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work"

"$BIN" serve --listen 127.0.0.1:0 --data "$work/data" --set web_root="$work/web" \
    --set workers=2 --set access_log=false --set log_level=warn > "$work/araldo.out" 2>&1 &
apid=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$work/araldo.out" && break
    sleep 0.1
done
AURL=$(sed -n 's/^listening on //p' "$work/araldo.out")
NURL="http://127.0.0.1:$NPORT"
curl -fsS "$AURL/healthz" >/dev/null && curl -fsS "$NURL/healthz" >/dev/null
curl -fsS "$AURL/small.html" >/dev/null && curl -fsS "$NURL/small.html" >/dev/null

# wrk's summary: "Requests/sec: N" and, with --latency, a "99% X" line in ms/us/s.
run() {
    local out rps p99
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency "$1" 2>&1)
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    errs=$(grep -E 'Non-2xx|Socket errors' <<<"$out" || true)
    [ -z "$errs" ] || echo "bench: $1: $errs" >&2
    echo "$rps $p99"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(lscpu | sed -n 's/^Model name: *//p')"
echo "date: $(date -u +%FT%TZ); wrk -t$THREADS -c$CONNS -d${DUR}s --latency; nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*nginx\///'); araldo $(git rev-parse --short HEAD)"
echo
echo "| target | araldo req/s | araldo p99 | nginx req/s | nginx p99 | araldo / nginx |"
echo "| --- | --- | --- | --- | --- | --- |"
for path in /healthz /small.html; do
    read -r a_rps a_p99 < <(run "$AURL$path")
    read -r n_rps n_p99 < <(run "$NURL$path")
    ratio=$(awk -v a="$a_rps" -v n="$n_rps" 'BEGIN { printf "%.2f", a / n }')
    echo "| GET $path | $a_rps | $a_p99 | $n_rps | $n_p99 | $ratio |"
done
