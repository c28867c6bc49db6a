#!/usr/bin/env bash
# A sweep point stopped by an error keeps its row (issue 12, item 7). A PFC pause storm from
# s0n1 on a lossless priority with fabric.pfc.deadlock_time swept over 0s (never), 5ms, 0s: the
# middle point stops with the deadlock diagnosis, the other two complete. Exit status 1; the
# summary lists 3 runs in order with statuses complete / failed / complete and the diagnosis on
# the failed one; runs.csv has 3 rows with status and error; the printed table has a FAILED row
# for deadlock_time=5ms; stderr names the failed point and its diagnosis.
set -u
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
Q='fabric.queues=[{lossless: true},{lossless: true},{lossless: true},{lossless: true},{lossless: true},{lossless: true}]'
"$bin" run reference-roce.yaml -q -j 2 -o "$tmp/out" \
    --set workload.input_len=uniform:32-96 --set workload.output_len=uniform:4-8 \
    --set workload.concurrency=4 --set fabric.pfc.enable=true --set "$Q" \
    --set 'faults=[{pfc_storm: s0n1, priority: 0, start: 10ms, duration: 1s}]' \
    --sweep fabric.pfc.deadlock_time=0s,5ms,0s >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
fail=0
[ $rc -eq 1 ] || { echo "FAIL: exit status $rc, expected 1"; fail=1; }
python3 - "$tmp" <<'PY' || fail=1
import csv, json, sys
d = sys.argv[1]
s = json.load(open(d + "/out/summary.json"))
assert s["planned"] == 3 and len(s["runs"]) == 3, "planned %d, %d rows" % (s["planned"], len(s["runs"]))
assert s["completed"] == 2 and s["failed"] == 1 and s["partial"] is True, s
st = [r["status"] for r in s["runs"]]
assert st == ["complete", "failed", "complete"], st
f = s["runs"][1]
assert f["sweep"] == {"fabric.pfc.deadlock_time": "5ms"}, f["sweep"]
assert "PFC deadlock" in f["error"] and "sw0:1" in f["error"], f["error"]
assert "metrics" not in f, "a failed run reports figures"
rows = list(csv.DictReader(open(d + "/out/runs.csv")))
assert [r["status"] for r in rows] == st, [r["status"] for r in rows]
assert rows[1]["tgr_tok_s"] == "" and "PFC deadlock" in rows[1]["error"], rows[1]
assert float(rows[0]["tgr_tok_s"]) > 0 and rows[0]["error"] == "", rows[0]
print("ok   summary.json and runs.csv keep the failed point with its diagnosis")
PY
grep -Eq "deadlock_time=5ms +FAILED: PFC deadlock" "$tmp/stdout" && echo "ok   table row FAILED" \
    || { echo "FAIL: no FAILED row"; cat "$tmp/stdout"; fail=1; }
grep -q "run 1 (reference-roce.yaml fabric.pfc.deadlock_time=5ms).*PFC deadlock" "$tmp/stderr" \
    && echo "ok   stderr names the failed point" || { echo "FAIL: stderr"; cat "$tmp/stderr"; fail=1; }
[ $fail -eq 0 ] && echo "4 passed, 0 failed"
exit $fail
