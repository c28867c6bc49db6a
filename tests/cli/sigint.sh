#!/usr/bin/env bash
# Ctrl-C during a size sweep: the finished runs are kept, the outputs parse, the summary says
# partial, and the exit status is 3 (interrupted).
set -u
bin=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$bin" bench "$src/scenarios/bench-leafspine.yaml" --pattern alltoall --sizes 1KiB,8MiB,16MiB \
    -o "$tmp/out" >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
# interrupt once the first size's row is out (rows are printed as each size finishes), so the
# test does not depend on how fast this machine is. The row gives the bytes each rank sends,
# 1 KiB to each of the 128 ranks: 131072. The 8 MiB size then runs for tens of seconds, so the
# interrupt lands inside it.
row=0
for _ in $(seq 600); do
    grep -Eq '^ +131072 ' "$tmp/stdout" && { row=1; break; }
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
done
if [ $row = 0 ]; then
    echo "FAIL: the 1 KiB row never appeared (60 s, or the bench ended); stdout:"
    cat "$tmp/stdout" "$tmp/stderr"
    kill -9 $pid 2>/dev/null
    exit 1
fi
sleep 0.3
kill -INT $pid
wait $pid; rc=$?
fail=0
[ $rc -eq 3 ] || { echo "FAIL: exit status $rc, expected 3"; cat "$tmp/stderr"; fail=1; }
python3 - "$tmp/out" <<'PY' || fail=1
import csv, json, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
assert s["partial"] is True, "summary not marked partial"
runs = s["runs"]
assert len(runs) >= 1, "no finished run kept"
first = runs[0]
assert first["bytes"] == 1024 and first["msgs"] == 128 * 127 and first["complete"], first
assert not runs[-1]["complete"] and runs[-1]["stop"] == "interrupted", runs[-1]
rows = list(csv.DictReader(open(d + "/messages.csv")))
assert sum(1 for r in rows if r["size"] == "1024") == 128 * 127, "messages of the finished run lost"
for f in ("ports.csv", "qps.csv", "util.csv"):
    list(csv.reader(open(d + "/" + f)))
print("summary partial, %d run(s) kept, %d messages" % (len(runs), len(rows)))
PY
ls "$tmp/out" | grep -q '\.tmp\.' && { echo "FAIL: temporary file left"; fail=1; }
[ $fail -eq 0 ] && echo "3 passed, 0 failed"
exit $fail
