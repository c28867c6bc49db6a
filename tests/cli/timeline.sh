#!/usr/bin/env bash
# `infabric run --timeline` (issue 15 item 5): on a short disaggregated run (prefill and decode
# groups, KV transfers over a leaf-spine) and on the reference scenario, the file parses as
# JSON; every event has the fields its phase needs (ph, ts, pid, tid; dur for slices); slices
# on each track nest (a slice starting inside another ends inside it); every flow start has
# its end with the same id, no earlier; there are step, compute, layer, dispatch/combine and KV
# slices, KV and all-to-all flows and per-port queue-depth counters; the event cap holds and
# what it left out is counted; the run's summary is the same with and without the timeline;
# and bad timeline options are refused before any run, naming what was expected.
set -u
bin=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
short=(--set workload.input_len=uniform:32-96 --set workload.output_len=uniform:2-4
       --set workload.concurrency=8 --set workload.requests=8 --set workload.warmup=0 -q -j 1)
check() { # FILE MAX_EVENTS WANT_KV WANT_ALL_KINDS
    python3 - "$@" <<'PY'
import json, sys
path, cap, want_kv, want_all = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1"
doc = json.load(open(path))
ev = doc["traceEvents"]
other = doc["otherData"]
assert other["events"] == sum(1 for e in ev if e["ph"] != "M"), other
assert other["events"] <= cap, (other, cap)
tracks, flows, names, counters = {}, {}, set(), 0
for e in ev:
    for k in ("ph", "ts", "pid", "tid"):
        assert k in e, (k, e)
    assert isinstance(e["pid"], int) and isinstance(e["tid"], int), e
    assert e["ts"] >= 0, e
    if e["ph"] == "X":
        assert e["dur"] >= 0, e
        tracks.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"], e["name"]))
        names.add(e["cat"] + ":" + e["name"].split(" ")[0])
    elif e["ph"] in ("s", "f"):
        flows.setdefault(e["id"], {})[e["ph"]] = e
    elif e["ph"] == "C":
        assert "value" in e["args"], e
        counters += 1
    else:
        assert e["ph"] == "M", e
eps = 1e-6  # timestamps are printed with picosecond digits: exact
for key, sl in tracks.items():
    sl.sort(key=lambda x: (x[0], -x[1]))
    stack = []
    for a, b, n in sl:
        while stack and stack[-1][1] <= a + eps:
            stack.pop()
        if stack:
            assert b <= stack[-1][1] + eps, f"track {key}: {n} [{a}, {b}] overlaps {stack[-1]}"
        stack.append((a, b, n))
for i, f in flows.items():
    assert set(f) == {"s", "f"}, (i, f)
    assert f["f"]["ts"] >= f["s"]["ts"], f
# a capped file keeps the earliest events: a step slice, written when its step ends, may not fit
for want in ("step:step", "compute:attention", "compute:experts", "layer:layer",
             "communication:dispatch", "communication:combine")[0 if want_all else 1:]:
    assert want in names, (want, sorted(names))
assert counters > 0
cats = {f["s"]["cat"] for f in flows.values()}
assert "a2a" in cats, cats
if want_kv:
    assert "kv:KV" in names and "kv" in cats, (sorted(names), cats)
print(f"{len(ev)} events, {len(tracks)} tracks, {len(flows)} flows, {counters} counters")
PY
}
pd="$src/scenarios/pd-leafspine.yaml"
if "$bin" run "$pd" "${short[@]}" -o "$tmp/pd" --timeline "$tmp/pd.json" \
       >/dev/null 2>"$tmp/pd.err" && out=$(check "$tmp/pd.json" 200000 1 1); then
    echo "ok   pd-leafspine timeline: $out"
else
    echo "FAIL pd-leafspine timeline"; cat "$tmp/pd.err"; fail=1
fi
# the same run without the timeline: the same per-request, per-step and utilization tables
# byte for byte, and the same serving metrics and event count
same() {
    for f in 000-requests.csv 000-steps.csv 000-util.csv; do
        cmp -s "$tmp/pd/runs/$f" "$tmp/pd0/runs/$f" || return 1
    done
    python3 - "$tmp/pd/runs/000.json" "$tmp/pd0/runs/000.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for k in ("metrics", "serving", "simulation"):
    assert a[k] == b[k], k
PY
}
if "$bin" run "$pd" "${short[@]}" -o "$tmp/pd0" >/dev/null 2>&1 && same; then
    echo "ok   the summary is the same with and without --timeline"
else
    echo "FAIL the timeline changed the run's summary"; fail=1
fi
# the reference scenario with a small cap: the cap holds, what it left out is counted and said
if "$bin" run reference-roce.yaml --set workload.concurrency=4 --set workload.requests=4 \
       --set workload.warmup=0 -q -j 1 -o "$tmp/ref" --timeline "$tmp/ref.json" \
       --timeline-max-events 5000 >/dev/null 2>"$tmp/ref.err" &&
   out=$(check "$tmp/ref.json" 5000 0 0) && grep -q "left out by its window or event cap" "$tmp/ref.err" &&
   python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['otherData']; assert d['dropped_by_bounds']>0" "$tmp/ref.json"; then
    echo "ok   reference-roce timeline capped at 5000 events: $out"
else
    echo "FAIL reference-roce timeline cap"; cat "$tmp/ref.err"; fail=1
fi
# a window: nothing outside it
if "$bin" run reference-roce.yaml --set workload.concurrency=4 --set workload.requests=4 \
       --set workload.warmup=0 -q -j 1 -o "$tmp/win" --timeline "$tmp/win.json" \
       --timeline-window 20ms:30ms >/dev/null 2>"$tmp/win.err" &&
   python3 - "$tmp/win.json" <<'PY'
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e["ph"] != "M"]
assert ev, "no event in the window"
for e in ev:
    assert 20000 <= e["ts"] and e["ts"] + e.get("dur", 0) < 30000, e
PY
then
    echo "ok   --timeline-window 20ms:30ms keeps only events inside it"
else
    echo "FAIL --timeline-window"; cat "$tmp/win.err"; fail=1
fi
bad() { # EXPECTED-TEXT ARGS...
    local want=$1; shift
    "$bin" run reference-roce.yaml -q -j 1 -o "$tmp/bad" "$@" >/dev/null 2>"$tmp/bad.err"
    local rc=$?
    if [ $rc -eq 2 ] && grep -q -- "$want" "$tmp/bad.err" && [ ! -e "$tmp/bad/summary.json" ]; then
        echo "ok   refused ($*): $(head -c 120 "$tmp/bad.err")"
    else
        echo "FAIL not refused as expected ($*): rc=$rc"; cat "$tmp/bad.err"; fail=1
    fi
}
bad "expected FROM:TO" --timeline "$tmp/x.json" --timeline-window 30ms:20ms
bad "expected FROM:TO" --timeline "$tmp/x.json" --timeline-window 5
bad "run number from 0 to 0" --timeline "$tmp/x.json" --timeline-run 3
bad "a file that can be written" --timeline /nonexistent-dir/t.json
bad "an integer from 1" --timeline "$tmp/x.json" --timeline-max-events 0
bad "a positive time" --timeline "$tmp/x.json" --timeline-sample 0
exit $fail
