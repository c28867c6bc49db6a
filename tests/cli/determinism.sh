#!/usr/bin/env bash
# Two runs with the same seed write byte-identical outputs; a different seed changes the
# ECMP-sensitive results (permutation on a leaf-spine).
set -eu
bin=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
args=(bench "$src/scenarios/bench-leafspine.yaml" --pattern permutation --sizes 256KiB,1MiB
      --set output.sample_interval=5us)
"$bin" "${args[@]}" -o "$tmp/a" >/dev/null
"$bin" "${args[@]}" -o "$tmp/b" >/dev/null
"$bin" "${args[@]}" --seed 2 -o "$tmp/c" >/dev/null
n=0
for f in summary.json messages.csv ports.csv qps.csv queues.csv util.csv; do
    [ -s "$tmp/a/$f" ] || { echo "FAIL: $f missing or empty"; exit 1; }
    cmp "$tmp/a/$f" "$tmp/b/$f" || { echo "FAIL: $f differs between identical runs"; exit 1; }
    n=$((n+1))
done
if cmp -s "$tmp/a/messages.csv" "$tmp/c/messages.csv"; then
    echo "FAIL: seed 2 gave the same per-message results as seed 1"; exit 1
fi
grep -q '"partial": false' "$tmp/a/summary.json" || { echo "FAIL: summary not marked complete"; exit 1; }
ls "$tmp/a" | grep -q tmp && { echo "FAIL: temporary file left behind"; exit 1; }
echo "$((n+1)) passed, 0 failed"
