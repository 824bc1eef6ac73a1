#!/bin/sh
# The tree is formatted as .clang-format says (STYLE.md 3.7, clang-format 14): prints each
# place that differs and fails. `make format` fixes them.
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null 2>&1 || {
    echo "check-format: clang-format is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
}
git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]' | xargs clang-format --dry-run --Werror
