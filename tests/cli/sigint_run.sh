#!/usr/bin/env bash
# Ctrl-C during an `infabric run` sweep: finished runs are kept, the summary parses, is marked
# partial and holds every finished run, and the exit status is 3.
set -u
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# one worker so the runs finish one after the other; the last value is much longer (seconds, so
# the interrupt 0.5 s after the second run lands while it runs, however fast the simulator gets)
"$bin" run reference-roce.yaml -q -j 1 -o "$tmp/out" \
    --set workload.input_len=uniform:32-96 --set workload.output_len=uniform:4-8 \
    --sweep workload.concurrency=2,4,512 >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
for _ in $(seq 1200); do
    [ -f "$tmp/out/runs/001.json" ] && break
    sleep 0.1
done
sleep 0.5
kill -INT $pid
wait $pid; rc=$?
fail=0
[ $rc -eq 3 ] || { echo "FAIL: exit status $rc, expected 3"; cat "$tmp/stderr"; fail=1; }
python3 - "$tmp/out" <<'PY' || fail=1
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
assert s["partial"] is True, "summary not marked partial"
done = [r for r in s["runs"] if not r["partial"]]
assert len(done) >= 2, "finished runs lost: %d" % len(done)
assert [r["sweep"]["workload.concurrency"] for r in done][:2] == ["2", "4"], done
assert s["planned"] == 3
print("partial summary: %d of %d runs finished" % (len(done), s["planned"]))
PY
ls "$tmp/out" "$tmp/out/runs" | grep -q '\.tmp\.' && { echo "FAIL: temporary file left"; fail=1; }
[ $fail -eq 0 ] && echo "3 passed, 0 failed"
exit $fail
