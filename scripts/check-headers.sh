#!/bin/sh
# Every header compiles on its own (STYLE.md 3.3): it includes what it uses, so a .c may
# include it first. Prints the compiler's complaint for each one that does not, and fails.
cd "$(dirname "$0")/.."
CC=${CC:-cc}
FLAGS="-std=c17 -D_GNU_SOURCE -fsyntax-only -Wall -Wextra -Werror -Isrc -Ibuild/gen $(pkg-config --cflags libuv jansson libvips 2>/dev/null)"
status=0
for h in $(git ls-files 'src/*.h'); do
    if ! out=$(echo "#include \"${h#src/}\"" | $CC $FLAGS -x c - 2>&1); then
        echo "check-headers: $h does not compile alone:"
        echo "$out" | head -5
        status=1
    fi
done
[ $status = 0 ] && echo "check-headers: $(git ls-files 'src/*.h' | wc -l) headers compile alone"
exit $status
