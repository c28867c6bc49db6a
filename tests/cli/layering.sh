#!/usr/bin/env bash
# Source layering rules of the project (issue 13, item 6): only src/scenario reads the YAML tree,
# so nothing below it (core, net, topo, workload) includes a scenario header; the serving
# engine's internal header is included only inside its folder; no file under the serving folder
# is longer than about 800 lines. Fails naming the file that breaks a rule.
set -u
src=$2/src
fail=0
bad() { echo "FAIL $1"; fail=1; }
for d in core net topo workload; do
    hits=$(grep -rln '#include "scenario/' "$src/$d" 2>/dev/null)
    [ -z "$hits" ] && echo "ok   nothing under src/$d includes a scenario header" \
        || bad "src/$d includes a scenario header: $hits"
done
hits=$(grep -rl '#include "workload/serving/internal.h"' "$src" | grep -v "^$src/workload/serving/")
[ -z "$hits" ] && echo "ok   serving/internal.h stays inside its folder" \
    || bad "serving/internal.h included from outside: $hits"
for f in "$src"/workload/serving/*; do
    n=$(wc -l < "$f")
    [ "$n" -le 820 ] || bad "$f has $n lines (limit about 800)"
done
[ $fail -eq 0 ] && echo "ok   every serving file within about 800 lines"
exit $fail
