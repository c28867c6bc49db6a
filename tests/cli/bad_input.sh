#!/usr/bin/env bash
# Bad input never crashes: each case exits with status 2 and one message that names the file,
# the line (where there is one), the key, and what was expected and found.
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
d=$here/data
fails=0; passes=0
expect() { # expect NAME STATUS 'grep -E pattern' -- command...
    local name=$1 want=$2 pat=$3; shift 3
    local out rc
    out=$("$@" 2>&1 >/dev/null); rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $name: exit $rc, expected $want; stderr: $out"; fails=$((fails+1)); return
    fi
    if ! grep -Eq -- "$pat" <<<"$out"; then
        echo "FAIL $name: message does not match /$pat/: $out"; fails=$((fails+1)); return
    fi
    if [ "$rc" -ge 128 ]; then echo "FAIL $name: crashed"; fails=$((fails+1)); return; fi
    echo "ok   $name: $out"; passes=$((passes+1))
}
expect malformed-yaml 2 'malformed.yaml:[45]: expected valid YAML' "$bin" check "$d/malformed.yaml"
expect unknown-key 2 "unknown_key.yaml:5: fabric.swich: .*did you mean 'switch'" "$bin" check "$d/unknown_key.yaml"
expect missing-unit 2 "no_unit.yaml:3: topology.nic_rate: expected .*found.*400" "$bin" check "$d/no_unit.yaml"
expect zero-rate 2 "zero_rate.yaml:3: topology.nic_rate: expected .*found.*0Gbps" "$bin" check "$d/zero_rate.yaml"
expect negative-rate 2 "negative_rate.yaml:3: topology.nic_rate: expected .*found.*-400Gbps" "$bin" check "$d/negative_rate.yaml"
expect wrong-unit 2 "--set topology.nic_rate: expected .*found.*560ns" "$bin" check "$d/../../../scenarios/reference-roce.yaml" --set topology.nic_rate=560ns
expect too-many-hosts 2 "too_many_hosts.yaml:.*topology.*80 hosts|too_many_hosts.yaml:.*(port|host)" "$bin" check "$d/too_many_hosts.yaml"
expect missing-link-node 2 "missing_link_node.topo:5: .*sw9" "$bin" check "$d/file_topo.yaml"
expect missing-file 2 "cannot open .*nope.yaml" "$bin" check "$d/nope.yaml"
expect bench-missing-host 2 "--dst: expected an endpoint in 0..15, found 99" "$bin" bench --pattern pingpong --dst 99
expect bench-bad-pattern 2 "--pattern: expected .*found 'ring'" "$bin" bench --pattern ring
expect bench-bad-size 2 "--sizes: expected .*found '64'" "$bin" bench --sizes 64
expect memory-limit 2 "needs about [0-9.]+ [MG]B \(routing tables.*connections.*more than the 100.0 MB limit" "$bin" bench "$d/../../../scenarios/bench-leafspine.yaml" --max-memory 100MB
expect unknown-command 2 "unknown command 'frobnicate'" "$bin" frobnicate
expect failure-missing-link 2 "failure_missing_link.yaml:4: failures\[0\].link: expected .*found 'sw9:1'" "$bin" check "$d/failure_missing_link.yaml"
expect failure-missing-switch 2 "failure_missing_switch.yaml:4: failures\[0\].switch: expected .*switch.*found 'spine7'" "$bin" check "$d/failure_missing_switch.yaml"
expect failure-up-before-down 2 "failure_up_before_down.yaml:4: failures\[0\].up: expected a time after down" "$bin" check "$d/failure_up_before_down.yaml"
expect failure-negative-time 2 "failure_negative_time.yaml:5: failures\[0\].down: expected .*-1ms" "$bin" check "$d/failure_negative_time.yaml"
expect failure-bad-flap 2 "failure_bad_flap.yaml:4: failures\[0\].flap.down_for: expected .*below the period" "$bin" check "$d/failure_bad_flap.yaml"
expect pfc-storm-no-host 2 "--set faults\[0\].pfc_storm: expected the name of a host .*found 's9n9'" "$bin" check "$d/../../../scenarios/reference-roce.yaml" --set 'faults=[{pfc_storm: s9n9, duration: 1ms}]'
expect pfc-storm-bad-priority 2 "--set faults\[0\].priority: expected an integer from 0 to 7, found '9'" "$bin" check "$d/../../../scenarios/reference-roce.yaml" --set 'faults=[{pfc_storm: s0n0, priority: 9, duration: 1ms}]'
expect pfc-storm-pfc-off 2 "--set faults\[0\].priority: expected a priority PFC acts on .*found priority 3 with PFC off" "$bin" check "$d/../../../scenarios/reference-roce.yaml" --set 'faults=[{pfc_storm: s0n0, priority: 3, duration: 1ms}]'
expect pfc-watchdog-pfc-off 2 "--set fabric.pfc.watchdog: expected fabric.pfc.enable: true" "$bin" check "$d/../../../scenarios/reference-roce.yaml" --set fabric.pfc.watchdog.detect=1ms
expect int-hops-protocol 2 "int_max_hops.yaml:6: fabric.int.max_hops: expected at most 36 hops .*found 40" "$bin" check "$d/int_max_hops.yaml"
expect int-hops-sim 2 "--set fabric.int.max_hops: expected 0 .* or 1 to 8 hops .*found 12" "$bin" check "$d/../../../scenarios/reference-roce.yaml" --set fabric.int.enable=true --set fabric.int.max_hops=12
expect int-eth-mtu 2 "--set fabric.int.eth_mtu: expected room for an MTU packet with a full INT stack, found 4200 B" "$bin" check "$d/../../../scenarios/reference-roce.yaml" --set fabric.int.enable=true --set fabric.int.eth_mtu=4200B
expect int-probe-queue 2 "--set fabric.int.probe_queue: expected an integer from -1 to 7, found '9'" "$bin" check "$d/../../../scenarios/reference-roce.yaml" --set fabric.int.enable=true --set fabric.int.probe_queue=9
expect int-probe-interval 2 "--set fabric.int.probe_interval: expected a time .*found '-5us' \(negative\)" "$bin" check "$d/../../../scenarios/reference-roce.yaml" --set fabric.int.enable=true --set fabric.int.probe_interval=-5us
expect int-on-ib 2 "fabric.int.enable: expected INT on a RoCEv2 fabric" "$bin" check "$d/../../../scenarios/reference-ib.yaml" --set fabric.int.enable=true
expect int-adaptive-no-int 2 "--set fabric.load_balancing: expected int_adaptive with INT on" "$bin" check "$d/../../../scenarios/reference-roce.yaml" --set fabric.load_balancing=int_adaptive
expect class-missing-queue 2 "--set fabric.classes.a2a.queue: expected an integer from 0 to 7, found '9'" "$bin" check "$d/../../../scenarios/reference-roce.yaml" --set fabric.classes.a2a.queue=9
expect wcmp-all-zero 2 "fabric.load_balancing.weights: expected at least one member with a weight above 0 .*all 8 members .* weigh 0" "$bin" bench "$d/../../../scenarios/bench-leafspine.yaml" --pattern pingpong --sizes 64B --set 'fabric.load_balancing={mode: wcmp, weights: [{switch: leaf0, port: 8, weight: 0}, {switch: leaf0, port: 9, weight: 0}, {switch: leaf0, port: 10, weight: 0}, {switch: leaf0, port: 11, weight: 0}, {switch: leaf0, port: 12, weight: 0}, {switch: leaf0, port: 13, weight: 0}, {switch: leaf0, port: 14, weight: 0}, {switch: leaf0, port: 15, weight: 0}]}'
expect flowlet-table-zero 2 "fabric.load_balancing.flowlet_table: expected a flowlet table of 1 to 16777216 entries per switch, found 0" "$bin" check "$d/../../../scenarios/bench-leafspine.yaml" --set 'fabric.load_balancing={mode: flowlet, flowlet_table: 0}'
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
