#!/usr/bin/env bash
# Web Push benchmark (issue 12): one important post to N subscriptions (default 100,000), all on
# a local push sink — Debian's nginx over TLS with HTTP/2, answering 201 — measured for
# notifications encrypted and delivered per second, the server's CPU per notification, and the
# p99 of GET /api/v1/channels/{handle}/posts (a paced probe, 50 requests/s) while the campaign
# runs. Then, in the same run, the npm `web-push` library sends the same N notifications to the
# same sink. Prints a Markdown table for BENCHMARKS.md.
#
#   bench/push/run.sh [SUBSCRIPTIONS] [WEBPUSH_CONCURRENCY]     (defaults 100000 and 256)
#
# The subscriptions are written straight into the database (the API path is measured by the
# tests, not here) and share one browser key pair: the server still makes a fresh ephemeral key,
# salt and encryption per notification, so the work per message is the same.
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${1:-100000}
WPC=${2:-256}
BIN=${ARALDO_BIN:-build/araldo}
[ -x "$BIN" ] || make -s all
[ -x /usr/sbin/nginx ] || { echo "bench: nginx is missing (scripts/install-deps.sh --bench)" >&2; exit 1; }

work=$(mktemp -d /tmp/araldo-bench-push-XXXXXX)
chmod 755 "$work"
apid=
cleanup() {
    [ -n "${apid:-}" ] && kill "$apid" 2>/dev/null
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
    wait 2>/dev/null
    [ -n "${KEEP:-}" ] && echo "bench: kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/data" "$work/tmp"
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A test CA and the sink's certificate.
ossl() { openssl "$@" 2>/dev/null; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca.key" \
    -out "$work/ca.pem" -days 2 -subj '/CN=bench CA' -addext basicConstraints=critical,CA:TRUE
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/srv.key" \
    -out "$work/srv.csr" -subj '/CN=127.0.0.1'
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$work/ext.cnf"
ossl x509 -req -in "$work/srv.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -out "$work/srv.pem" -days 2 -extfile "$work/ext.cnf"

NPORT=$(freeport)
cat > "$work/nginx.conf" <<CONF
user root root;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000; # far more breaks HTTP/2 in nginx 1.22
    http2_max_concurrent_streams 256;
    client_body_temp_path $work/tmp;
    proxy_temp_path $work/tmp;
    fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp;
    scgi_temp_path $work/tmp;
    # The answer comes only after the whole body was read (as push services do): a 'return 201'
    # straight away makes nginx reset the stream after answering, which curl 7.88 reports as an
    # HTTP/2 framing error. So the TLS server reads the body and asks a local backend.
    upstream ok { server unix:$work/ok.sock; keepalive 64; }
    server {
        listen unix:$work/ok.sock;
        location / { return 201; }
    }
    server {
        listen 127.0.0.1:$NPORT ssl http2 reuseport;
        ssl_certificate $work/srv.pem;
        ssl_certificate_key $work/srv.key;
        location / {
            proxy_pass http://ok;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work"
SINK="https://127.0.0.1:$NPORT"
curl -fsS --cacert "$work/ca.pem" -o /dev/null -X POST "$SINK/push/x" -d x

start_araldo() {
    "$BIN" serve --listen 127.0.0.1:0 --data "$work/data" --set workers=2 --set access_log=false \
        --set log_level=warn --set push_allow_hosts=127.0.0.1 --set push_ca_file="$work/ca.pem" \
        --set push_contact=mailto:bench@example.org > "$work/araldo.out" 2>&1 &
    apid=$!
    for _ in $(seq 100); do
        grep -q 'listening on' "$work/araldo.out" && break
        sleep 0.1
    done
    AURL=$(sed -n 's/^listening on //p' "$work/araldo.out")
}
start_araldo
TOKEN=$("$BIN" token create --email admin@localhost --name bench --data "$work/data")
call() { curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
call -o /dev/null -X POST "$AURL/api/v1/orgs" -d '{"slug":"bench","name":"Comune di Bench"}'
CH=$(call -X POST "$AURL/api/v1/channels" \
    -d '{"org":"bench","handle":"bench-news","name":"Bench news","category":"news","language":"it"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for i in $(seq 20); do
    call -o /dev/null -X POST "$AURL/api/v1/channels/bench-news/posts" -d "{\"text\":\"Avviso $i\"}"
done
kill "$apid"
wait "$apid" 2>/dev/null || true
apid=

# One browser key pair for every subscription (see the top); N / 100 followers of 100 each.
read -r PUBHEX PUB AUTH < <(node -e '
const c = require("crypto").createECDH("prime256v1"); c.generateKeys();
const a = require("crypto").randomBytes(16);
console.log(c.getPublicKey("hex"), c.getPublicKey().toString("base64url"), a.toString("base64url"));')
AUTHHEX=$(python3 -c "import base64,sys; print(base64.urlsafe_b64decode('$AUTH' + '==').hex())")
FOLLOWERS=$(( (N + 99) / 100 ))
sqlite3 "$work/data/araldo.db" <<SQL
PRAGMA foreign_keys = ON;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $FOLLOWERS)
INSERT INTO followers (hash, created_ms) SELECT randomblob(32), 0 FROM n;
INSERT INTO follows (follower_id, channel_id, created_ms) SELECT id, $CH, 0 FROM followers;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $N - 1)
INSERT INTO push_subscriptions (follower_id, endpoint, origin, p256dh, auth, created_ms)
SELECT (SELECT min(id) FROM followers) + i / 100, '$SINK/push/' || i, '$SINK', X'$PUBHEX',
       X'$AUTHHEX', 0 FROM n;
COMMIT;
SQL

start_araldo
STOP="$work/stop"
node bench/push/probe.mjs "$AURL/api/v1/channels/bench-news/posts?limit=20" 50 "$STOP" > "$work/probe.out" &
ppid=$!
sleep 1
clk=$(getconf CLK_TCK)
cpu0=$(awk '{ print $14 + $15 }' "/proc/$apid/stat")
t0=$(date +%s.%N)
PID=$(call -X POST "$AURL/api/v1/channels/bench-news/posts" \
    -d '{"text":"Allerta meteo arancione: scuole chiuse domani","importance":"important"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
while :; do
    prog=$(call "$AURL/api/v1/posts/$PID/push" || true)
    [ -n "$prog" ] || { sleep 0.2; continue; }
    rem=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["remaining"])' "$prog")
    [ "$rem" = 0 ] && break
    sleep 0.2
done
t1=$(date +%s.%N)
cpu1=$(awk '{ print $14 + $15 }' "/proc/$apid/stat")
touch "$STOP"
wait "$ppid"
read -r pcount p50 p99 pmax < "$work/probe.out"
read -r sent failed < <(python3 -c 'import json,sys; p=json.loads(sys.argv[1]); print(p["sent"], p["failed"])' "$prog")
a_secs=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
a_rate=$(python3 -c "print(round($sent / ($t1 - $t0)))")
a_cpu=$(python3 -c "print(f'{($cpu1 - $cpu0) / $clk / max($sent, 1) * 1e6:.0f}')")

read -r w_sent w_secs w_cpu w_failed < <(NODE_EXTRA_CA_CERTS="$work/ca.pem" \
    node bench/push/webpush.mjs "$SINK" "$N" "$WPC" "$PUB" "$AUTH")
w_rate=$(python3 -c "print(round($w_sent / $w_secs))")
w_cpuper=$(python3 -c "print(f'{$w_cpu / max($w_sent, 1) * 1e6:.0f}')")
ratio=$(python3 -c "print(f'{$a_rate / max($w_rate, 1):.2f}')")

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -r)"
echo "date: $(date -u +%FT%TZ); $N subscriptions; araldo $(git rev-parse --short HEAD) (push_origin_concurrency 100, push_inflight_max 4096); web-push $(node -p 'require("web-push/package.json").version') with $WPC in flight; nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*\///') sink, TLS + HTTP/2"
echo
echo "| sender | sent | failed | seconds | notifications/s | CPU per notification | API p99 during (p50, n) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
echo "| araldo | $sent | $failed | $a_secs | $a_rate | ${a_cpu} µs | $p99 ms ($p50 ms, $pcount) |"
echo "| web-push | $w_sent | $w_failed | $w_secs | $w_rate | ${w_cpuper} µs | — |"
echo
echo "araldo / web-push: $ratio x"
