#!/usr/bin/env bash
# The number of runs of a sweep (issue 12, item 6) is the product of the sweeps' value counts
# times the scenarios; it must be computed without overflow and a sweep over the limit (4096
# runs) refused with exit 2 and its exact count, before any scenario is read: six sweeps of 64
# values (2^36 runs: 0 in a 32-bit int) and 11 x 37 x 56 x 57 x 57 x 58 = 4294970064 runs
# (2768 in a 32-bit int). One sweep over a key that does not exist is part of each command, so
# the count check must come first for the message to be right.
set -u
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
vals() { seq -s, 1 "$1"; }
expect() { # name count args...
    local name=$1 count=$2; shift 2
    local out rc
    out=$(timeout 60 "$bin" run -q -o "$tmp/out" "$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -eq 2 ] && grep -q "expected at most 4096 runs, found $count " <<<"$out"; then
        ok "$name"
    else
        bad "$name: exit $rc: $(head -c 300 <<<"$out")"
    fi
}
s64=()
for k in concurrency max_batch chunk token_budget requests nokey; do
    s64+=(--sweep "workload.$k=$(vals 64)")
done
expect "six sweeps of 64 values: 68719476736 runs" 68719476736 reference-roce.yaml "${s64[@]}"
s=()
n=(11 37 56 57 57 58)
keys=(concurrency max_batch chunk token_budget requests nokey)
for i in 0 1 2 3 4 5; do s+=(--sweep "workload.${keys[$i]}=$(vals "${n[$i]}")"); done
expect "11x37x56x57x57x58: 4294970064 runs" 4294970064 reference-roce.yaml "${s[@]}"
expect "two scenarios x 64 x 33: 4224 runs" 4224 reference-roce.yaml reference-ib.yaml \
    --sweep "workload.concurrency=$(vals 64)" --sweep "workload.nokey=$(vals 33)"
expect "eight sweeps of 64 values, 64 scenarios: 2^54 runs" 18014398509481984 \
    $(for i in $(seq 64); do echo reference-roce.yaml; done) \
    $(for k in a b c d e f g h; do echo --sweep "workload.$k=$(vals 64)"; done)
[ ! -e "$tmp/out/summary.json" ] && ok "nothing run" || bad "a summary was written"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
