#!/usr/bin/env bash
# Open-loop serving on the reference fabric (issue 12, item 1): a trace replay of the shipped
# Azure conversation trace (its first 500 rows, at their times and with their lengths) and a
# Poisson run at 1 request/s both complete every request although the system sits idle between
# arrivals for longer than the watchdog's window (184.2 ms); a real hang (a PFC pause storm that
# never ends, with the PFC deadlock stop off) still ends with the watchdog's diagnosis; and
# `run --watchdog TIME` sets the window (0 = off). Under AddressSanitizer (about 12x slower) the
# replay takes the first 50 rows and the Poisson run 20 requests.
set -u
bin=$1
src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
trace=$src/data/traces/AzureLLMInferenceTrace_conv_500.csv
rows=500 npoisson=40
ldd "$bin" 2>/dev/null | grep -q libasan && rows=50 npoisson=20
R=(reference-roce.yaml -q -j 1)

# the replay: lengths from the trace (the reference scenario's own lengths must be replaced)
"$bin" run "${R[@]}" -o "$tmp/trace" --set workload.arrival=trace --set "workload.trace=$trace" \
    --set workload.input_len=trace --set workload.output_len=trace \
    --set "workload.requests=$rows" > "$tmp/trace.txt" 2>&1; rc=$?
[ $rc -eq 0 ] && ok "trace replay of $rows rows exits 0" || { bad "trace replay exit $rc"; cat "$tmp/trace.txt"; }

# Checks one run: complete, every request finished with its lengths, idle gaps past the window.
check() { # DIR N [TRACE]
    python3 - "$@" <<'PY'
import csv, json, sys
d, n = sys.argv[1], int(sys.argv[2])
s = json.load(open(d + "/summary.json"))
assert s["completed"] == 1 and len(s["runs"]) == 1, "runs: %s" % s["runs"]
r = s["runs"][0]
assert not r["partial"] and r["stop"] == "done", (r["partial"], r["stop"])
sv = r["serving"]
assert sv["requests_finished"] == n and sv["requests_measured"] == n, sv["requests_finished"]
assert sv["requests_failed"] == 0
q = list(csv.DictReader(open(d + "/runs/000-requests.csv")))
assert len(q) == n and all(x["finish_us"] != "" and x["generated"] == x["output"] for x in q)
if len(sys.argv) > 3:  # the trace's rows, in order
    t = list(csv.DictReader(open(sys.argv[3])))[:n]
    for x, y in zip(q, t):
        assert (x["input"], x["output"]) == (y["ContextTokens"], y["GeneratedTokens"]), (x, y)
busy, idle = 0.0, 0.0
for x in q:  # arrival order
    a = float(x["arrival_us"])
    idle = max(idle, a - busy)
    busy = max(busy, float(x["finish_us"]))
assert idle > 184217.728, "no idle gap beyond the watchdog window: %.0f us" % idle
print("  %d requests done, longest idle gap %.1f ms, TGR %.1f tok/s" % (
    n, idle / 1e3, r["metrics"]["tgr_tok_s"]))
PY
}
check "$tmp/trace" "$rows" "$trace" && ok "every trace request completed with the trace's lengths" \
    || bad "trace replay results"

"$bin" run "${R[@]}" -o "$tmp/poisson" --set workload.arrival=poisson --set workload.rate=1 \
    --set "workload.requests=$npoisson" > "$tmp/poisson.txt" 2>&1; rc=$?
[ $rc -eq 0 ] && ok "Poisson at 1 req/s exits 0" || { bad "Poisson exit $rc"; cat "$tmp/poisson.txt"; }
check "$tmp/poisson" "$npoisson" && ok "every Poisson request completed" || bad "Poisson results"

# a real hang: s0n1's NIC pauses priority 3 from 2 s on, for good; PFC's own deadlock stop off
H=(--set workload.arrival=poisson --set workload.rate=1 --set workload.requests=20
   --set fabric.pfc.enable=true --set 'fabric.queues=[{}, {}, {}, {lossless: true}]'
   --set fabric.pfc.deadlock_time=0s
   --set 'faults=[{pfc_storm: s0n1, priority: 3, start: 2s, duration: 1000s}]')
"$bin" run "${R[@]}" -o "$tmp/hang" "${H[@]}" > "$tmp/hang.txt" 2>&1; rc=$?
[ $rc -eq 1 ] && ok "the hang exits 1" || bad "the hang exit $rc"
grep -q "watchdog: nothing delivered for 184217.728 us" "$tmp/hang.txt" \
    && grep -q "oldest outstanding network message" "$tmp/hang.txt" \
    && grep -q "paused: sw0:1 prio 3" "$tmp/hang.txt" \
    && ok "the watchdog's diagnosis names the stuck message and the paused port" \
    || { bad "no watchdog diagnosis"; cat "$tmp/hang.txt"; }

"$bin" run "${R[@]}" -o "$tmp/hang50" "${H[@]}" --watchdog 50ms > "$tmp/hang50.txt" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "nothing delivered for 50000.000 us" "$tmp/hang50.txt" \
    && ok "--watchdog 50ms sets the window" || { bad "--watchdog 50ms (exit $rc)"; cat "$tmp/hang50.txt"; }
"$bin" run "${R[@]}" -o "$tmp/p0" --set workload.arrival=poisson --set workload.rate=1 \
    --set workload.requests=5 --watchdog 0 > "$tmp/p0.txt" 2>&1; rc=$?
[ $rc -eq 0 ] && check "$tmp/p0" 5 >/dev/null && ok "--watchdog 0 (off) runs to the end" \
    || { bad "--watchdog 0 (exit $rc)"; cat "$tmp/p0.txt"; }
"$bin" run "${R[@]}" -o "$tmp/bad" --watchdog soon > "$tmp/bad.txt" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q -- "--watchdog: expected a time" "$tmp/bad.txt" \
    && ok "--watchdog soon is refused" || { bad "--watchdog soon (exit $rc)"; cat "$tmp/bad.txt"; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
