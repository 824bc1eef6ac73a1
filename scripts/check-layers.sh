#!/bin/sh
# The layering rule (DESIGN.md): core depends on nothing of ours; http, store, fanout, push,
# media, cap, open311 and web (the HTML writer, strings, page frame) depend only on core; tiles (the
# map tile proxy) and mail (outgoing e-mail) on core and push (its outgoing-request rules,
# outbound.h); api may
# use all of them; only main.c and cli/ wire modules together. Prints each include that breaks it and fails.
cd "$(dirname "$0")/.."

# check MODULE ALLOWED...: print the offending includes of src/MODULE.
check() {
    mod=$1
    [ -d "src/$mod" ] || return 0
    for f in src/"$mod"/*.[ch]; do
        grep -o '#include "[a-z_]*/' "$f" | sed 's/#include "//; s/\///' | sort -u |
            while read -r dep; do
                case " $* " in
                *" $dep "*) ;;
                *) echo "check-layers: $f includes $dep/, which $mod/ may not use" ;;
                esac
            done
    done
}

out=$(
    check core
    check http core
    check store core
    check fanout core
    check push core
    check media core
    check cap core
    check web core
    check open311 core
    check tiles core push
    check mail core push
    check api core http store fanout push media cap web open311 tiles mail
)
[ -z "$out" ] && exit 0
echo "$out" >&2
exit 1
