#!/bin/sh
# Run the store's C unit suites named in $@ (test_NAME under $BUILD/tests) one after another on
# the PostgreSQL server that tests/pg/postgres.sh run started (ARALDO_TEST_PG); each suite's
# output goes to $BUILD/pg_NAME.log. Exit status: 1 if any suite failed.
set -u
status=0
for t in "$@"; do
    "$BUILD/tests/test_$t" > "$BUILD/pg_$t.log" 2>&1 || status=1
done
exit $status
