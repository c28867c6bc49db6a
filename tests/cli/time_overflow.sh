#!/usr/bin/env bash
# Configured times are bounded (issue 12, item 9): a time above one hour of simulated time, a cable
# of more than an hour's delay or a flap schedule past an hour is refused with exit 2 and the
# file, line and key, instead of overflowing 64-bit picoseconds when summed (a 2^63 ps NIC latency
# gave a pingpong latency a quarter of one NIC latency, exit 0). The bound itself is accepted.
set -u
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
expect2() { # NAME NEEDLE CMD...
    local name=$1 needle=$2; shift 2
    "$@" > "$tmp/out.txt" 2>&1; local rc=$?
    if [ $rc -eq 2 ] && grep -qF -- "$needle" "$tmp/out.txt"; then ok "$name"
    else bad "$name (exit $rc)"; cat "$tmp/out.txt"; fi
}
expect2 "a 2^63 ps NIC latency (the issue's pingpong) is refused" \
    "--set fabric.nic.tx_latency: expected a time of at most 3600s (one hour of simulated time), found '9223372036854775807ps'" \
    "$bin" bench --pattern pingpong -n 2 --sizes 64B --watchdog 10s \
    --set fabric.nic.tx_latency=9223372036854775807ps
cat > "$tmp/long.yaml" <<'Y'
name: long
fabric:
  switch:
    latency: 3601s
Y
expect2 "a scenario file's time past an hour names file, line and key" \
    "long.yaml:4: fabric.switch.latency: expected a time of at most 3600s" \
    "$bin" check "$tmp/long.yaml"
expect2 "an open-loop duration past an hour is refused" "workload.duration: expected a time of at most" \
    "$bin" check reference-roce.yaml --set workload.duration=4000s
expect2 "a cable of over an hour's delay is refused" "topology.host_cable: expected a cable of at most" \
    "$bin" check reference-roce.yaml --set topology.host_cable=1000000000km
expect2 "a flap schedule past an hour is refused" "failures[0].flap.count: expected count x period of at most 3600s" \
    "$bin" check reference-roce.yaml \
    --set 'failures=[{link: s0n0, down: 1ms, flap: {period: 3600s, down_for: 1s, count: 1000000}}]'
cat > "$tmp/t.topo" <<'T'
switch sw ports 4
server a gpus 1 nics 1 nic_rate 100Gbps
server b gpus 1 nics 1 nic_rate 100Gbps
link an0 sw delay 9223372036854775807ps
link bn0 sw
T
cat > "$tmp/t.yaml" <<'Y'
topology:
  kind: file
  file: t.topo
  gpus_per_server: 1
  nics_per_server: 1
Y
expect2 "a topology file's link delay past an hour is refused" "of at most 3600s" \
    "$bin" check "$tmp/t.yaml"
"$bin" check reference-roce.yaml --set fabric.nic.tx_latency=3600s --set workload.duration=3600s \
    > "$tmp/ok.txt" 2>&1 && ok "3600s itself is accepted" || { bad "3600s refused"; cat "$tmp/ok.txt"; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
