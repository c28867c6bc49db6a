#!/usr/bin/env bash
# The shipped disaggregated scenarios (issue 13 item 7): the RoCE/IB twins and the PP variant
# pass `infabric check`; a short run of each puts expert all-to-all and KV-cache bytes on the
# wire (pp-leafspine: pipeline activations too), and summary.json's bytes.kv and bytes.pp equal
# the closed form (pp: prefilled tokens x 7168 x 2 B across the one boundary); kv: for every transferred request, prompt tokens x 62 layers
# (R1's 61 + the MTP layer the decode group runs) x 1,152 B (MLA latent, BF16), one copy per
# decode rank (dp-ep: one).
set -u
bin=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
short=(--set workload.input_len=uniform:32-96 --set workload.output_len=uniform:2-4
       --set workload.concurrency=8 --set workload.requests=8 --set workload.warmup=0 -q -j 1)
for s in pd-leafspine pd-leafspine-ib pp-leafspine; do
    "$bin" check "$src/scenarios/$s.yaml" >/dev/null || { echo "FAIL $s: check"; fail=1; continue; }
    "$bin" run "$src/scenarios/$s.yaml" "${short[@]}" -o "$tmp/$s" >/dev/null 2>"$tmp/$s.err" \
        || { echo "FAIL $s: run"; cat "$tmp/$s.err"; fail=1; continue; }
    python3 - "$tmp/$s" <<'PY' && echo "ok   $s: check, run, bytes.kv = closed form" || { echo "FAIL $s"; fail=1; }
import csv, json, sys
d = sys.argv[1]
run = json.load(open(d + "/summary.json"))["runs"][0]
s = run["serving"]
assert run["metrics"]["drops"] == 0, run["metrics"]
b = s["bytes"]
assert b["a2a"] > 0 and b["kv"] > 0, b
want = 0
with open(d + "/runs/000-requests.csv") as f:
    for r in csv.DictReader(f):
        if r["kv_start_us"] not in ("", "nan"):
            assert int(r["kv_bytes"]) == int(r["input"]) * 62 * 1152, r
            want += int(r["input"]) * 62 * 1152
assert want > 0 and b["kv"] == want == s["kv_transfer"]["bytes"], (b["kv"], want)
assert [g["role"] for g in s["groups"]] == ["prefill", "decode"], s["groups"]
# pp-leafspine: a two-stage prefill sends every prefilled token's hidden state (7168 x 2 B)
# across its one boundary; the other scenarios send nothing in class pp
pp = 0
with open(d + "/runs/000-steps.csv") as f:
    for r in csv.DictReader(f):
        if "pp_bytes" in r:
            assert int(r["pp_bytes"]) == (int(r["prefill_tokens"]) * 7168 * 2 if r["group"] == "prefill" else 0), r
            pp += int(r["pp_bytes"])
assert b["pp"] == pp, (b["pp"], pp)
assert (b["pp"] > 0) == d.endswith("pp-leafspine"), b
assert s["groups"][1]["tgr_tokens_per_s"] > 0
PY
done
exit $fail
