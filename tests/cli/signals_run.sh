#!/usr/bin/env bash
# Signals to `infabric run` (issue 12, item 12), each sent to the parent process only:
# - SIGTERM during job validation (4096 jobs take well over a minute to validate) stops the
#   command within seconds with exit 3 and a summary that lists the 4096 planned runs as not run;
# - SIGHUP while a worker runs is treated like SIGTERM: the worker gets it and stops, the
#   finished runs are kept, the summary is written and marked partial, exit 3, and no temporary
#   file is left in the folder;
# - SIGTERM while the long last run is running is passed on to its worker, which stops early
#   (its run is partial, interrupted), so the command does not wait for the run to finish.
set -u
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
# waits up to $2 seconds for pid $1; sets rc (124 on timeout, after killing it)
wait_for() {
    local t=0
    while kill -0 "$1" 2>/dev/null && [ $t -lt $(($2 * 10)) ]; do sleep 0.1; t=$((t + 1)); done
    if kill -0 "$1" 2>/dev/null; then kill -KILL "$1"; wait "$1"; rc=124; else wait "$1"; rc=$?; fi
}
summary() { python3 - "$@" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
planned, done = int(sys.argv[2]), int(sys.argv[3])
assert s["partial"] is True, "summary not marked partial"
assert s["planned"] == planned and len(s["runs"]) == planned, (s["planned"], len(s["runs"]))
c = [r for r in s["runs"] if r["status"] == "complete"]
assert len(c) >= done, "%d complete runs, expected at least %d" % (len(c), done)
assert all(r["status"] in ("complete", "partial", "not-run") for r in s["runs"]), \
    [r["status"] for r in s["runs"]]
PY
}
temps() { find "$1" -name '*.tmp.*' | head -3; }

# ---- a signal during validation
env --default-signal=TERM "$bin" run reference-roce.yaml -q -j 1 -o "$tmp/v" \
    --sweep "workload.concurrency=$(seq -s, 1 64)" --sweep "workload.max_batch=$(seq -s, 1 64)" \
    >/dev/null 2>"$tmp/v.err" &
pid=$!
sleep 1
t0=$(now); kill -TERM $pid; wait_for $pid 20; t1=$(now)
[ $rc -eq 3 ] && ok "SIGTERM during validation: exit 3 after $(sub "$t1" "$t0") s" \
    || bad "SIGTERM during validation: exit $rc"
summary "$tmp/v" 4096 0 && ok "its summary lists the 4096 runs, none run" || bad "validation summary"

# ---- SIGHUP while a worker runs
S=(reference-roce.yaml -q -j 1 --set workload.input_len=uniform:32-96
   --set workload.output_len=uniform:4-8 --sweep workload.concurrency=2,4,512)
env --default-signal=HUP "$bin" run "${S[@]}" -o "$tmp/h" >/dev/null 2>"$tmp/h.err" &
pid=$!
for _ in $(seq 600); do [ -f "$tmp/h/runs/001.json" ] && break; sleep 0.05; done
sleep 0.5
kill -HUP $pid; wait_for $pid 30
[ $rc -eq 3 ] && ok "SIGHUP: exit 3" || bad "SIGHUP: exit $rc: $(cat "$tmp/h.err")"
summary "$tmp/h" 3 2 && ok "SIGHUP: partial summary with the 2 finished runs" || bad "SIGHUP summary"
[ -z "$(temps "$tmp/h")" ] && ok "SIGHUP: no temporary file left" || bad "temporary files: $(temps "$tmp/h")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][2]; assert r["status"]=="partial" and r["stop"]=="interrupted", r["status"]' \
    "$tmp/h/summary.json" && ok "SIGHUP reached the worker: its run stopped, interrupted" \
    || bad "the running worker was not interrupted"

# ---- SIGTERM to the parent while the long run runs: passed on to the worker
env --default-signal=TERM "$bin" run "${S[@]}" -o "$tmp/t" >/dev/null 2>"$tmp/t.err" &
pid=$!
for _ in $(seq 600); do [ -f "$tmp/t/runs/001.json" ] && break; sleep 0.05; done
sleep 0.5
t0=$(now); kill -TERM $pid; wait_for $pid 30; t1=$(now)
el=$(sub "$t1" "$t0")
# the worker stopped early (had the signal not reached it, its run would have completed
# before the parent wrote the summary)
[ $rc -eq 3 ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][2]; assert r["status"]=="partial" and r["stop"]=="interrupted", r["status"]' \
    "$tmp/t/summary.json" && ok "SIGTERM to the parent stops the running worker (exit 3 after $el s)" \
    || bad "SIGTERM: exit $rc after $el s"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
