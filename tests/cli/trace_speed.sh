#!/usr/bin/env bash
# workload.trace_speed and shipped traces by name: from a folder far from the tree, a trace named
# without a folder is the one shipped in data/traces; at trace_speed 2 every request arrives at
# exactly half its recorded time (within the picosecond rounding) with the same lengths, and the
# same replay at speed 1 keeps the recorded times (the trace's own first 10 timestamps, read here
# from the CSV). trace_speed without a trace, or out of range, is refused with exit 2.
set -u
bin=$1
src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
T=(reference-roce.yaml -q -j 1 --set workload.trace=AzureLLMInferenceTrace_conv_500.csv
   --set workload.arrival=trace --set workload.input_len=trace --set workload.output_len=trace
   --set workload.requests=10 --set workload.warmup=0)
(cd "$tmp" && "$bin" run "${T[@]}" -o out --sweep workload.trace_speed=1,2 >/dev/null 2>"$tmp/err") \
    || { cat "$tmp/err"; echo "FAIL: the replay by name"; exit 1; }
python3 - "$tmp/out" "$src/data/traces/AzureLLMInferenceTrace_conv_500.csv" <<'PY' || fail=1
import csv, datetime, sys
d, trace = sys.argv[1:3]
a = list(csv.DictReader(open(d + "/runs/000-requests.csv")))
b = list(csv.DictReader(open(d + "/runs/001-requests.csv")))
rows = list(csv.DictReader(open(trace)))[:10]
def ts(r):  # "2023-11-16 18:15:46.6805900" (ticks of 100 ns)
    day, frac = r["TIMESTAMP"].split(".")
    t = datetime.datetime.strptime(day, "%Y-%m-%d %H:%M:%S")
    return t.timestamp() * 1e6 + int(frac.ljust(7, "0")) / 10
t0 = ts(rows[0])
errs = []
if len(a) != 10 or len(b) != 10: errs.append("expected 10 requests per run: %d, %d" % (len(a), len(b)))
for x, y, r in zip(a, b, rows):
    rec = ts(r) - t0
    if abs(float(x["arrival_us"]) - rec) > 1e-3: errs.append("speed 1: %s vs recorded %.4f" % (x["arrival_us"], rec))
    if abs(float(y["arrival_us"]) - rec / 2) > 1e-3: errs.append("speed 2: %s vs %.4f" % (y["arrival_us"], rec / 2))
    if (x["input"], x["output"]) != (r["ContextTokens"], r["GeneratedTokens"]) or (x["input"], x["output"]) != (y["input"], y["output"]):
        errs.append("lengths differ: %s %s %s" % ((x["input"], x["output"]), (y["input"], y["output"]), r))
for e in errs: print("FAIL:", e)
sys.exit(1 if errs else 0)
PY
for bad in "--set workload.trace_speed=2" "--set workload.trace_speed=0 --set workload.trace=AzureLLMInferenceTrace_conv_500.csv --set workload.input_len=trace --set workload.output_len=trace"; do
    # shellcheck disable=SC2086
    "$bin" check reference-roce.yaml $bad >/dev/null 2>"$tmp/e"; rc=$?
    if [ $rc -ne 2 ] || ! grep -q "trace_speed" "$tmp/e"; then echo "FAIL: '$bad': exit $rc: $(cat "$tmp/e")"; fail=1; fi
done
[ $fail -eq 0 ] && echo "4 passed, 0 failed"
exit $fail
