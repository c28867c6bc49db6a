#!/usr/bin/env bash
# Figures without a measurement are missing, not numbers (issue 12, item 8): a run stopped before
# its measurement window opened reports TGR and the window figures as null in summary.json with
# the reason, empty in runs.csv and n/a in the table (it reported 84.1 tok/s); a failure or PFC
# storm outside the measurement window is flagged (fault_timing, faults_outside_window and a table
# marker) because the headline figures do not measure it (a storm in the warm-up left TGR equal to
# 16 digits); one inside is marked measured; and the failure block's dip and recovery are numbers
# only when measured, null with a note otherwise (never "dip 1, recovery -1").
set -u
bin=$1
. "$(dirname "$0")/lib/serving.sh"
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }

"$bin" run reference-roce.yaml -q -j 1 --max-wall 1 -o "$tmp/wall" > "$tmp/wall.txt" 2>&1; rc=$?
[ $rc -eq 3 ] && ok "a run stopped by --max-wall exits 3 (partial)" || bad "--max-wall exit $rc"
python3 - "$tmp/wall" <<'PY' && ok "no window: TGR null with the reason, empty in runs.csv" || bad "unmeasured run"
import csv, json, sys
d = sys.argv[1]
r = json.load(open(d + "/summary.json"))["runs"][0]
assert r["partial"] and r["serving"]["requests_measured"] == 0, r["serving"]
m = r["metrics"]
assert m["tgr_tok_s"] is None, m["tgr_tok_s"]
assert "never opened" in m["unmeasured"], m.get("unmeasured")
s = r["serving"]
for k in ("tgr_tokens_per_s", "requests_per_s", "window_start_s", "window_end_s",
          "window_output_tokens", "min_in_system", "max_in_system"):
    assert s[k] is None, (k, s[k])
assert s["unmeasured"] == m["unmeasured"]
row = list(csv.DictReader(open(d + "/runs.csv")))[0]
assert row["tgr_tok_s"] == "", row["tgr_tok_s"]
PY
grep -q "n/a" "$tmp/wall.txt" && grep -q "n/a: the measurement window never opened" "$tmp/wall.txt" \
    && ok "the table says n/a and why" || { bad "table"; cat "$tmp/wall.txt"; }

"$bin" run "${S[@]}" -o "$tmp/down" --set 'failures=[{link: s1n0, down: 100ms}]' \
    > "$tmp/down.txt" 2>&1 || bad "NIC-down run failed"
"$bin" run "${S[@]}" -o "$tmp/late" --set 'failures=[{link: s1n0, down: 1200ms}]' \
    > "$tmp/late.txt" 2>&1 || bad "late NIC-down run failed"
A=(--set fabric.pfc.enable=true --set 'fabric.queues=[{}, {}, {}, {lossless: true}]')
"$bin" run "${S[@]}" "${A[@]}" -o "$tmp/storm" \
    --set 'faults=[{pfc_storm: s0n1, priority: 3, start: 400ms, duration: 50ms}]' \
    > "$tmp/storm.txt" 2>&1 || bad "storm run failed"
python3 - "$tmp" <<'PY' && ok "faults outside the window are flagged, inside measured" || bad "fault timing"
import json, math, sys
d = sys.argv[1]
def run(n):
    return json.load(open("%s/%s/summary.json" % (d, n)))["runs"][0]
for name, want, words in (("down", False, "warm-up"), ("storm", False, "warm-up"),
                          ("late", True, "inside the measurement window")):
    r = run(name)
    s = r["serving"]
    ft = r["fault_timing"]
    assert len(ft) == 1 and ft[0]["measured"] is want and words in ft[0]["timing"], (name, ft)
    assert r.get("faults_outside_window", False) is (not want), name
    # the flag agrees with the window the run reports
    inside = s["window_start_s"] <= ft[0]["start_s"] < s["window_end_s"]
    assert inside is want, (name, ft[0]["start_s"], s["window_start_s"], s["window_end_s"])
for name in ("down", "late"):
    f = run(name)["failures"]
    for k in ("pre_failure_goodput_gbps", "dip", "recovery_us"):
        v = f[k]
        assert v is None or (isinstance(v, (int, float)) and v >= 0 and not math.isnan(v)), (k, v)
    if f["dip"] is None or f["recovery_us"] is None or f["pre_failure_goodput_gbps"] is None:
        assert f.get("recovery_note"), f
    else:
        assert "recovery_note" not in f, f
PY
grep -q "fault-outside-window" "$tmp/down.txt" && grep -q "fault-outside-window" "$tmp/storm.txt" \
    && ! grep -q "fault-outside-window" "$tmp/late.txt" \
    && ok "the table marks the runs whose fault is not measured" || bad "table marker"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
