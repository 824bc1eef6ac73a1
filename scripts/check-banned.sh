#!/bin/sh
# Fails if C sources use functions we ban (git's and curl's lists): unbounded copies, parsers
# without error checks, and non-reentrant time functions.
cd "$(dirname "$0")/.."
banned='\b(strcpy|strcat|strncpy|sprintf|vsprintf|strtok|gets|atoi|atol|gmtime|localtime|ctime|asctime|mktemp)\s*\('
if grep -rnE "$banned" src tests/unit tests/fuzz bench --include='*.c' --include='*.h' 2>/dev/null; then
    echo "check-banned: use snprintf, strtol with end checks, the *_r time functions, mkstemp" >&2
    exit 1
fi
exit 0
