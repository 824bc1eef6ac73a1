#!/bin/sh
# Installs what araldo needs to build and test on Debian 12, and says what it installs.
# Quick when everything is present: it checks with dpkg first and runs apt-get only if needed.
#   scripts/install-deps.sh            build and test (make run, make check; nginx and caddy run
#                                      docs/DEPLOY.md's proxy configurations in tests/api/proxy)
#   scripts/install-deps.sh --bench    also wrk, nginx and Nchan (make bench, make bench-fanout)
#   scripts/install-deps.sh --fuzz     also clang and its libFuzzer runtime (make fuzz)
set -eu
cd "$(dirname "$0")/.."

PKGS="build-essential pkg-config libuv1-dev libhttp-parser-dev libwslay-dev libsqlite3-dev
libjansson-dev libpq-dev postgresql libssl-dev libargon2-dev libxml2-dev libcurl4-openssl-dev zlib1g-dev nodejs npm curl sqlite3 libxml2-utils libvips-dev libqrencode-dev libvips-tools libimage-exiftool-perl zbar-tools unicode-data clang-format clang-tidy
nginx caddy chromium fonts-noto-color-emoji tzdata"
for arg in "$@"; do
    case "$arg" in
    --bench) PKGS="$PKGS wrk nginx libnginx-mod-nchan" ;;
    --fuzz) PKGS="$PKGS clang libclang-rt-14-dev" ;;
    *) echo "install-deps: unknown option '$arg'" >&2; exit 2 ;;
    esac
done

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    if ! command -v node >/dev/null 2>&1; then :; else
        # The machine's own Node.js satisfies the tests; do not replace it with Debian's.
        missing=$(echo "$missing" | tr ' ' '\n' | grep -vx -e nodejs -e npm | tr '\n' ' ')
    fi
fi
missing=$(echo "$missing" | xargs)
if [ -n "$missing" ]; then
    echo "install-deps: installing Debian packages: $missing"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# npm packages for tests, exactly as pinned in package-lock.json.
if [ -f package-lock.json ]; then
    stamp=node_modules/.araldo-lock
    if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
        echo "install-deps: installing npm packages from package-lock.json (npm ci)"
        npm ci --no-audit --no-fund --loglevel=error
        mkdir -p node_modules && cp package-lock.json "$stamp"
    fi
fi
