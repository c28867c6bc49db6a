#!/usr/bin/env bash
# `infabric bench` as nccl-tests and perftest users run it (issue 15, item 6):
#   - nccl-tests' size range flags: -b 8 -e 1G -f 4 gives 8, 32, ..., 512M (14 sizes), each a
#     nccl-tests "size" (alltoall: a rank's buffer, split over the 16 ranks); -i adds a step;
#     bad ranges are refused with status 2;
#   - allreduce well beyond 1 MiB;
#   - pingpong prints perftest's latency columns, and its percentiles are those of the round
#     trips: all equal on a clean fabric (a deterministic simulator), spread by retransmissions
#     on a lossy link;
#   - --json prints the summary.json document.
set -u
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }

"$bin" bench -b 8 -e 1G -f 4 --json >"$tmp/a2a.json" 2>"$tmp/a2a.err"; rc=$?
if [ $rc -eq 0 ] && python3 - "$tmp/a2a.json" <<'PY'; then
import json, sys
s = json.load(open(sys.argv[1]))
want = [8 * 4 ** k for k in range(14)]
got = [r["bytes"] for r in s["runs"]]
assert got == want, got
for r in s["runs"]:
    assert r["status"] == "complete", r
    # a rank's buffer split over 16 ranks, at least a byte each: the size moved
    assert r["size_bytes"] == max(1, r["bytes"] // 16) * 16, (r["bytes"], r["size_bytes"])
    assert r["busbw_Bps"] > 0 and r["msgs"] == 16 * 15, r
PY
    ok "bench -b 8 -e 1G -f 4: 14 alltoall sizes up to 512M, as nccl-tests sizes"
else
    bad "bench -b 8 -e 1G -f 4: exit $rc: $(tail -3 "$tmp/a2a.err")"
fi

"$bin" bench -p allreduce -b 1M -e 128M -f 8 -o "$tmp/ar" >"$tmp/ar.txt" 2>&1; rc=$?
if [ $rc -eq 0 ] && python3 - "$tmp/ar/summary.json" <<'PY'; then
import json, sys
s = json.load(open(sys.argv[1]))
got = [(r["bytes"], r["size_bytes"]) for r in s["runs"]]
assert got == [(1 << 20, 1 << 20), (8 << 20, 8 << 20), (64 << 20, 64 << 20)], got
# ring allreduce: 2(n-1) chunk messages per rank; bus bandwidth below the 400G line rate
for r in s["runs"]:
    assert r["msgs"] == 16 * 2 * 15 and 0 < r["busbw_Bps"] < 50e9, r
PY
    ok "allreduce at 1, 8 and 64 MiB"
else
    bad "allreduce -b 1M -e 128M -f 8: exit $rc: $(tail -3 "$tmp/ar.txt")"
fi

out=$("$bin" bench -p bw -b 4K -e 16K -i 4K -n 4 2>&1); rc=$?
sizes=$(awk '!/^#/ { print $1 }' <<<"$out" | tr '\n' ' ')
[ $rc -eq 0 ] && [ "$sizes" = "4096 8192 12288 16384 " ] && ok "-i 4K steps 4K..16K" \
    || bad "-i: exit $rc, sizes '$sizes': $out"

expect() { # name pattern args...
    local name=$1 pat=$2; shift 2
    local out rc
    out=$("$bin" bench "$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -eq 2 ] && grep -Eq -- "$pat" <<<"$out"; then ok "$name"; else bad "$name: exit $rc: $out"; fi
}
expect "-b 0 refused" "minbytes: expected a size" -b 0 -e 8
expect "-e below -b refused" "1 <= minbytes <= maxbytes, found 64 and 8" -b 64 -e 8
expect "-f 1 refused" "stepfactor: expected an integer factor of at least 2" -b 8 -e 64 -f 1
expect "-f and -i together refused" "either -f or -i" -b 8 -e 64 -f 2 -i 8
expect "--sizes and -b together refused" "either --sizes or -b" -s 4KiB -b 8 -e 64
expect "more than 64 sizes refused" "at most 64 sizes" -b 1 -e 1G -i 1
expect "a size that is not one refused" "maxbytes: expected a size.*found '12Q'" -b 8 -e 12Q

# pingpong: perftest's columns, and percentiles that could only be right from the round trips
"$bin" bench -p pingpong -n 200 -s 64B >"$tmp/pp.txt" 2>&1
head -2 "$tmp/pp.txt" | grep -q "#bytes #iterations *t_min\[usec\] *t_max\[usec\] *t_typical\[usec\] *t_avg\[usec\] *t_stdev\[usec\] *99% percentile\[usec\] *99.9% percentile\[usec\]" \
    && ok "pingpong prints perftest's column names" || bad "pingpong header: $(head -2 "$tmp/pp.txt")"
"$bin" bench -p pingpong -n 200 -s 64B --json >"$tmp/clean.json" 2>/dev/null
"$bin" bench -p pingpong -n 200 -s 64B --json --set 'faults=[{link: s0n0, loss: 0.02}]' \
    >"$tmp/lossy.json" 2>/dev/null
python3 - "$tmp/clean.json" "$tmp/lossy.json" <<'PY' && ok "pingpong percentiles from the round trips" \
    || bad "pingpong percentiles"
import json, sys
c = json.load(open(sys.argv[1]))["runs"][0]
l = json.load(open(sys.argv[2]))["runs"][0]
keys = ["t_min_us", "t_typical_us", "t_p99_us", "t_p999_us", "t_max_us"]
# every round trip the same on a clean fabric: all figures equal the mean one-way latency
assert c["iterations"] == 200 and c["t_stdev_us"] == 0, c
for k in keys + ["t_avg_us"]:
    assert abs(c[k] - c["lat_us"]) < 1e-9, (k, c[k], c["lat_us"])
# losses: most round trips as before, a few wait for a retransmission
assert l["packets"]["retransmitted"] > 0, l["packets"]
v = [l[k] for k in keys]
assert v == sorted(v), v
assert abs(l["t_typical_us"] - c["t_typical_us"]) < 1e-6, (l["t_typical_us"], c["t_typical_us"])
assert l["t_max_us"] > 10 * l["t_typical_us"] and l["t_stdev_us"] > 0, l
assert abs(l["t_avg_us"] - l["lat_us"]) < 1e-6 * l["lat_us"], (l["t_avg_us"], l["lat_us"])
PY
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
