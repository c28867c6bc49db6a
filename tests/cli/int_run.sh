#!/usr/bin/env bash
# A serving run with INT on: the first switch inserts the header, pushes its hop record, and the
# receiving NIC strips it, so every INT packet carries exactly 16 + 28 bytes across one link; the
# collector's path table (int-paths.csv) agrees with the summary, one report per packet.
set -u
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$bin" run reference-roce.yaml -q -j 1 --set workload.input_len=uniform:32-96 \
    --set workload.output_len=uniform:16-32 --sweep workload.concurrency=8 \
    --set fabric.int.enable=true --set fabric.int.sink=nic --set fabric.int.report_every=1 -o "$tmp/o" >/dev/null \
    || { echo "FAIL: run"; exit 1; }
python3 - "$tmp/o" <<'PY' || exit 1
import csv, json, sys
d = sys.argv[1]
r = json.load(open(d + "/summary.json"))["runs"][0]
i = r["int"]
assert i["packets_marked"] > 0, "no packet carried INT"
assert i["hops_pushed"] == i["packets_marked"], "one switch: one hop per packet"
assert i["int_bytes_on_links"] == 44 * i["packets_marked"], "INT bytes %d for %d packets" % (
    i["int_bytes_on_links"], i["packets_marked"])
assert i["reports"] == i["packets_marked"], "report_every 1: a report per packet"
rows = list(csv.DictReader(open(d + "/runs/000-int-paths.csv")))
assert len(rows) == i["paths"] and len(rows) > 0, "path table rows %d, summary %d" % (len(rows), i["paths"])
assert sum(int(x["reports"]) for x in rows) == i["reports"], "path reports do not add up"
assert all(x["path"].startswith("sw0:") and x["hops"] == "1" for x in rows), "unexpected path"
assert all(float(x["latency_mean_ns"]) >= 560 for x in rows), "hop latency below the switch's"
print("%d INT packets, %d paths, %d report bytes" % (i["packets_marked"], len(rows), i["report_bytes"]))
PY
echo "8 passed, 0 failed"
