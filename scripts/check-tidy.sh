#!/bin/sh
# Every src/*.c is clean under .clang-tidy (STYLE.md 3.8, clang-tidy 14): any warning is an
# error. Prints each warning with its notes and fails. One file per call, two at a time: given
# many files at once, clang-tidy 14 reported a false valist.Uninitialized. About 2.5 minutes.
cd "$(dirname "$0")/.."
command -v clang-tidy >/dev/null 2>&1 || {
    echo "check-tidy: clang-tidy is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
}
pkg=$(pkg-config --cflags libuv jansson vips libpq) || {
    echo "check-tidy: pkg-config cannot find libuv, jansson, vips or libpq (scripts/install-deps.sh)" >&2
    exit 1
}
FLAGS="-Isrc -I${BUILD:-build}/gen -D_GNU_SOURCE -std=c17 $pkg"
files=$(git ls-files 'src/*.c')
# $FLAGS is split into words on purpose: one compiler flag each.
# shellcheck disable=SC2086
out=$(echo "$files" | xargs -P2 -I{} clang-tidy --quiet --warnings-as-errors='*' {} -- $FLAGS 2>&1)
status=$?
if [ $status != 0 ]; then
    # Drop the "N warnings generated." counts: they include the system headers' silenced ones.
    echo "$out" | grep -Ev '^[0-9]+ (warning|error)s? (and [0-9]+ (warning|error)s? )?generated\.$'
    echo "check-tidy: clang-tidy found problems (see above)" >&2
    exit 1
fi
echo "check-tidy: $(echo "$files" | wc -l) files clean"
