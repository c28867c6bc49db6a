#!/usr/bin/env bash
# Bad deployments (issue 13): each exits 2 with one message naming the key and what was expected
# and found: a group with no GPUs, groups sharing a GPU, prefill without decode and the reverse,
# an instance that does not fit in memory (by how much, which group), a KV chunk of 0, a count
# that does not split the group's GPUs.
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ref=$2/scenarios/reference-roce.yaml
fails=0; passes=0
expect() { # expect NAME 'grep -E pattern' --set VALUE...
    local name=$1 pat=$2; shift 2
    local out rc
    out=$("$bin" check "$ref" "$@" 2>&1 >/dev/null); rc=$?
    if [ "$rc" -ne 2 ]; then
        echo "FAIL $name: exit $rc, expected 2; stderr: $out"; fails=$((fails+1)); return
    fi
    if ! grep -Eq -- "$pat" <<<"$out"; then
        echo "FAIL $name: message does not match /$pat/: $out"; fails=$((fails+1)); return
    fi
    echo "ok   $name: $out"; passes=$((passes+1))
}
G='workload.deployment.groups'
MX=(--set workload.model=mixtral-8x7b-v0.1-config.json --set workload.parallel.mtp=false)
expect no-gpus "--set $G\[0\].servers: expected at least one entry \(a group with no GPUs\)" \
    "${MX[@]}" --set "$G=[{role: prefill, servers: []}, {role: decode, servers: 1}]"
expect overlap "$G\[1\].servers: expected GPUs no other group uses, found server 1 GPU 0" \
    "${MX[@]}" --set "$G=[{role: prefill, servers: 0-1}, {role: decode, servers: 1}]"
expect prefill-only "$G: expected prefill and decode groups together .*1 prefill and 0 decode" \
    "${MX[@]}" --set "$G=[{role: prefill, servers: 0}]"
expect decode-only "$G: expected prefill and decode groups together .*0 prefill and 1 decode" \
    "${MX[@]}" --set "$G=[{role: decode, servers: 0-1}]"
expect memory "$G\[0\] \(group 'prefill', prefill\): .*misses by [0-9.]+ GB" \
    --set "$G=[{role: prefill, servers: 0}, {role: decode, servers: 1}]"
expect chunk-zero "--set workload.deployment.kv_transfer.chunk: expected a chunk of at least 1 byte.*found 0" \
    "${MX[@]}" --set workload.deployment.kv_transfer.chunk=0B \
    --set "$G=[{role: prefill, servers: 0}, {role: decode, servers: 1}]"
expect bad-count "$G\[0\].count: expected a count that splits .*found 3 for 1 servers x 8 GPUs" \
    "${MX[@]}" --set "$G=[{role: prefill, servers: 0, count: 3}, {role: decode, servers: 1}]"
expect bad-server "$G\[1\].servers: expected servers of the topology, found server 7" \
    "${MX[@]}" --set "$G=[{role: prefill, servers: 0}, {role: decode, servers: 7}]"
# wide EP and pipeline keys (items 3 and 4)
expect redundant-no-ep "workload.parallel.redundant_experts: expected 0 with layout tp" \
    --set workload.parallel.layout=tp --set workload.parallel.redundant_experts=32
expect pp-layers-sum "--set workload.parallel.pp_layers: expected counts summing to the model's layers, found a sum of 60 for 61 layers" \
    --set workload.parallel.pp=2 --set 'workload.parallel.pp_layers=[30, 30]'
rf=$(mktemp); printf '0: 1 2 3\n' > "$rf"
expect routing-file "workload.routing: expected a readable routing file .*$rf:1: experts: expected one load per routed expert, found 3 loads for 256 experts" \
    --set "workload.routing=file:$rf"
rm -f "$rf"
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
