#!/usr/bin/env bash
# `infabric run` end to end on a shrunken reference experiment (both fabrics, two concurrency
# levels, short requests): the summary lists every run with both fabrics and their ratios, the
# same command twice gives a byte-identical summary.json, and bad input (a sweep over a key that
# does not exist, a value of the wrong type, an output folder that cannot be written) exits 2
# with a message naming the key or path.
set -u
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
small=(--set workload.input_len=uniform:32-96 --set workload.output_len=uniform:4-8
       --sweep workload.concurrency=4,8 -q -j 2)
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
"$bin" run "${small[@]}" -o "$tmp/a" > "$tmp/a.txt" 2>&1; rc=$?
[ $rc -eq 0 ] && ok "reference run exits 0" || { bad "reference run exit $rc"; cat "$tmp/a.txt"; }
"$bin" run "${small[@]}" -o "$tmp/b" > /dev/null 2>&1
cmp -s "$tmp/a/summary.json" "$tmp/b/summary.json" && ok "summary.json byte-identical" \
    || bad "summary.json differs between identical runs"
python3 - "$tmp/a" <<'PY' && ok "summary has 4 complete runs, both fabrics" || bad "summary content"
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
assert s["partial"] is False and s["completed"] == 4, s
fabrics = sorted(r["fabric"] for r in s["runs"])
assert fabrics == ["infiniband", "infiniband", "roce", "roce"], fabrics
for r in s["runs"]:
    assert r["metrics"]["tgr_tok_s"] > 0 and r["metrics"]["p90_tpot_ms"] > 0 and r["metrics"]["output_throughput"] == r["metrics"]["tgr_tok_s"], r["metrics"]
PY
grep -q "Ethernet (RoCEv2) / InfiniBand" "$tmp/a.txt" && grep -q "output tok/s ratio" "$tmp/a.txt" \
    && ok "table prints the Ethernet/IB ratios" || bad "no ratio table"
for f in report.html runs.csv fig-tgr.svg fig-ratio.svg fig-breakdown.svg; do
    [ -s "$tmp/a/$f" ] || { bad "$f missing"; continue; }
done
expect() { # name pattern args...
    local name=$1 pat=$2; shift 2
    local out rc
    out=$("$bin" run "$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -eq 2 ] && grep -Eq -- "$pat" <<<"$out"; then ok "$name"; else bad "$name: exit $rc: $out"; fi
}
expect "sweep over a missing key" "workload.concurrancy.*unknown key" \
    --sweep workload.concurrancy=1,2 -o "$tmp/c" -q
expect "sweep value of the wrong type" "workload.concurrency: expected an integer.*'many'" \
    --sweep workload.concurrency=4,many -o "$tmp/c" -q
expect "unwritable output folder" "/proc/nope" -o /proc/nope/out -q "${small[@]}"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
