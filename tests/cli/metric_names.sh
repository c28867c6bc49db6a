#!/usr/bin/env bash
# Metric names and units (issue 15, item 3): the keys of a run's `metrics` in summary.json are
# exactly the documented list (docs/outputs.md, "Metric names and units"), and include every
# name sglang.bench_serving writes for the same quantities; runs.csv's figure columns are those
# names; the analysis' point and ratio keys and the top-level keys are documented; latencies are
# in ms in the printed table, runs.csv and summary.json alike (the same P90 E2E in all three,
# and the serving block's seconds times 1000); `bench --json` prints summary.json's document.
set -u
bin=$1
src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$bin" run --set workload.input_len=uniform:32-96 --set workload.output_len=uniform:4-8 \
    --sweep workload.concurrency=4 --seeds 2 -q -j 2 -o "$tmp/r" >"$tmp/table.txt" 2>"$tmp/err" \
    || { echo "FAIL: run: $(cat "$tmp/err")"; exit 1; }
"$bin" run reference-roce --set workload.input_len=uniform:32-96 --set workload.output_len=uniform:4-8 \
    --set workload.concurrency=4 -q -o "$tmp/one" >"$tmp/one.txt" 2>"$tmp/err" \
    || { echo "FAIL: run: $(cat "$tmp/err")"; exit 1; }
"$bin" bench -p pingpong -n 5 -s 64B -o "$tmp/b" --json >"$tmp/b.json" 2>/dev/null \
    || { echo "FAIL: bench"; exit 1; }
python3 - "$src/docs/outputs.md" "$tmp" <<'PY'
import csv, json, re, sys
doc, tmp = open(sys.argv[1]).read(), sys.argv[2]
fail = 0
def check(ok, what):
    global fail
    print(("ok   " if ok else "FAIL ") + what)
    fail |= not ok

# the documented metrics table
sec = doc[doc.index("### Metric names and units"):]
sec = sec[:sec.index("\n### ")]
documented, conditional = set(), set()
for row in re.findall(r"^\| (`[^|]+) \| ([^|]+) \|", sec, re.M):
    names = set(re.findall(r"`([a-z0-9_]+)`", row[0]))
    documented |= names
    if "(faults)" in row[1] or "text" in row[1]:
        conditional |= names
s = json.load(open(tmp + "/r/summary.json"))
runs = [r for r in s["runs"] if "metrics" in r]
check(len(runs) == 4, "4 measured runs")
for r in runs:
    keys = set(r["metrics"])
    check(keys == documented - conditional,
          "run %s: metrics keys are the documented list (missing %s, undocumented %s)"
          % (r["fabric"], sorted(documented - conditional - keys), sorted(keys - documented)))
# the names sglang.bench_serving uses for the same quantities (its --output-file keys)
sglang = {"output_throughput", "request_throughput", "mean_ttft_ms", "median_ttft_ms",
          "p99_ttft_ms", "mean_tpot_ms", "median_tpot_ms", "p99_tpot_ms", "mean_itl_ms",
          "median_itl_ms", "p99_itl_ms", "mean_e2e_latency_ms", "median_e2e_latency_ms",
          "p99_e2e_latency_ms", "completed"}
check(sglang <= set(runs[0]["metrics"]), "sglang.bench_serving's names present: %s"
      % sorted(sglang - set(runs[0]["metrics"])))
m = runs[0]["metrics"]
check(m["tgr_tok_s"] == m["output_throughput"], "tgr_tok_s is an alias of output_throughput")
# one unit: ms for latencies, also against the serving block's seconds
sv = runs[0]["serving"]["e2e_s_over_requests"]
check(abs(m["p90_e2e_latency_ms"] - 1000 * sv["p90"]) < 1e-6 * m["p90_e2e_latency_ms"],
      "p90_e2e_latency_ms = serving e2e seconds x 1000")
check(m["completed"] == m["ttft_samples"] == runs[0]["serving"]["requests_measured"],
      "completed = the requests the TTFT percentiles rest on")
# runs.csv: the same names, the same values
rows = list(csv.DictReader(open(tmp + "/one/runs.csv")))
cols = set(rows[0]) - {"run", "scenario", "fabric", "sweep", "seed", "partial", "status", "error"}
check(cols <= documented, "runs.csv figure columns are metric names: %s" % sorted(cols - documented))
one = json.load(open(tmp + "/one/summary.json"))["runs"][0]["metrics"]
check(float(rows[0]["p90_e2e_latency_ms"]) == one["p90_e2e_latency_ms"], "runs.csv P90 E2E = JSON")
# the printed table: P90 E2E in ms, as in the JSON (two decimals); its columns are
# right-aligned, so the unit and the value end where the header does
table = open(tmp + "/one.txt").read().splitlines()
end = table[1].index("P90 E2E") + len("P90 E2E")
unit = table[2][:end].split()[-1]
row = [l for l in table if l.startswith("reference-roce")][0]
check(unit == "ms", "table: the E2E column is in ms (%s)" % unit)
check(row[:end].split()[-1] == "%.2f" % one["p90_e2e_latency_ms"],
      "table P90 E2E = JSON (ms): %s" % row[:end].split()[-1])
# analysis keys, as documented
pm = re.search(r"\*\*points\*\* `metrics` keys: (.*?): the mean", doc, re.S).group(1)
rk = re.search(r"\*\*comparisons\*\* `ratios` keys: (.*?)\. The ratio", doc, re.S).group(1)
check(set(s["points"][0]["metrics"]) == set(re.findall(r"`([a-z0-9_]+)`", pm)),
      "points metrics keys documented")
check(set(s["comparisons"][0]["ratios"]) == set(re.findall(r"`([a-z0-9_]+)`", rk)),
      "comparison ratio keys documented")
block = doc[doc.index('{ "tool": "infabric run"'):]
block = set(re.findall(r'"([a-z_0-9]+)"', block[:block.index("```")]))
keys = set(s) | set(s["x"]) | set(s["points"][0]) | set(s["comparisons"][0]) \
    | set(s["points"][0]["metrics"]["output_throughput"]) \
    | set(s["comparisons"][0]["ratios"]["output_throughput"])
check(keys <= block, "summary.json keys documented: %s" % sorted(keys - block))
st = s["points"][0]["metrics"]["output_throughput"]
check(st["n"] == 2 and st["ci95_low"] < st["mean"] < st["ci95_high"], "a point's interval over 2 seeds")
# bench: --json is summary.json
check(open(tmp + "/b.json").read() == open(tmp + "/b/summary.json").read(),
      "bench --json prints summary.json's document")
sys.exit(fail)
PY
