#!/usr/bin/env bash
# Sensitivity of the reference experiment to the parameters the vendor did not disclose: the
# InfiniBand switch latency, the NIC latency, the request lengths, and the serving layout
# (attention-DP16 + EP16 vs TP16). Each case runs both reference scenarios at 50 and 100
# concurrent requests (sampled fidelity, sample:8) and prints TGR and P90 TPOT per fabric and the
# Ethernet/InfiniBand ratios. docs/reference-experiment.md quotes its output.
# Usage: bench/reference_sensitivity.sh [infabric binary]
set -eu
bin=${1:-build/infabric}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
conc=workload.concurrency=50,100
case_run() { # label "roce-only sets" "ib-only sets" "common sets"
    local label=$1 rsets=$2 isets=$3 csets=$4
    # shellcheck disable=SC2086
    "$bin" run reference-roce.yaml -q -o "$tmp/$label-roce" --sweep $conc \
        --set workload.fidelity=sample:8 $csets $rsets >/dev/null
    # shellcheck disable=SC2086
    "$bin" run reference-ib.yaml -q -o "$tmp/$label-ib" --sweep $conc \
        --set workload.fidelity=sample:8 $csets $isets >/dev/null
    python3 - "$label" "$tmp/$label-roce/summary.json" "$tmp/$label-ib/summary.json" <<'PY'
import json, sys
label, a, b = sys.argv[1:4]
ra = {r["sweep"]["workload.concurrency"]: r["metrics"] for r in json.load(open(a))["runs"]}
rb = {r["sweep"]["workload.concurrency"]: r["metrics"] for r in json.load(open(b))["runs"]}
for c in sorted(ra, key=int):
    e, i = ra[c], rb[c]
    print("| %s | %s | %.1f | %.1f | %.3f | %.2f | %.2f | %.3f |" % (
        label, c, e["tgr_tok_s"], i["tgr_tok_s"], e["tgr_tok_s"] / i["tgr_tok_s"],
        e["p90_tpot_ms"], i["p90_tpot_ms"], e["p90_tpot_ms"] / i["p90_tpot_ms"]))
PY
}
echo "| case | concurrency | TGR Eth | TGR IB | TGR Eth/IB | P90 TPOT Eth (ms) | P90 TPOT IB (ms) | P90 Eth/IB |"
echo "|---|---|---|---|---|---|---|---|"
case_run baseline "" "" ""
for l in 130ns 400ns; do
    case_run "IB switch latency $l" "" "--set fabric.switch.latency=$l" ""
done
for l in 250ns 1us; do
    case_run "NIC latency $l each way" "" "" "--set fabric.nic.tx_latency=$l --set fabric.nic.rx_latency=$l"
done
case_run "short requests (in 128-384, out 32-96)" "" "" \
    "--set workload.input_len=uniform:128-384 --set workload.output_len=uniform:32-96"
case_run "long requests (in 2048-6144, out 512-1536)" "" "" \
    "--set workload.input_len=uniform:2048-6144 --set workload.output_len=uniform:512-1536"
case_run "TP16 layout, no MTP" "" "" "--set workload.parallel.layout=tp --set workload.parallel.mtp=false"
