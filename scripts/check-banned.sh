#!/bin/sh
# Fails if C sources use functions we ban (git's and curl's lists): unbounded copies, parsers
# without error checks, and non-reentrant time functions.
cd "$(dirname "$0")/.."
status=0
banned='\b(strcpy|strcat|strncpy|sprintf|vsprintf|strtok|gets|atoi|atol|gmtime|localtime|ctime|asctime|mktemp)\s*\('
if grep -rnE "$banned" src tests/unit tests/fuzz bench --include='*.c' --include='*.h' 2>/dev/null; then
    echo "check-banned: use snprintf, strtol with end checks, the *_r time functions, mkstemp" >&2
    status=1
fi
# The store runs on more than one engine (docs/STORE.md): its SQL goes through store/db.h.
# Only the SQLite side of that layer, the SQLite writer's setup (sqlite.c) and the online backup
# (backup.c, SQLite's page-level copy) may call sqlite3 directly.
sqlite_ok='^src/store/(db_sqlite|sqlite|backup)\.c:'
if grep -rnE '\bsqlite3_[a-z0-9_]+\s*\(|#include <sqlite3\.h>' src --include='*.c' --include='*.h' |
    grep -vE "$sqlite_ok"; then
    echo "check-banned: call the store's statement layer (src/store/db.h), not sqlite3 directly" >&2
    status=1
fi
exit $status
