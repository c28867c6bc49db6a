#!/usr/bin/env bash
# Bad input for per-class routing (fabric.load_balancing.per_class), InfiniBand adaptive routing
# (mode ar, fabric.ib.ar) and congestion control (fabric.ib.cc): each case exits with status 2
# and one message naming the file and line (or --set), the key, what was expected and what was
# found.
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
d=$here/data
ib=$here/../../scenarios/reference-ib.yaml
roce=$here/../../scenarios/reference-roce.yaml
pd=$here/../../scenarios/pd-leafspine.yaml
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
    echo "ok   $name: $out"; passes=$((passes+1))
}
# per-class groups
expect group-missing-member 2 "class_group_missing.yaml:11: fabric.load_balancing.per_class.kv.group\[1\]: expected the name of a switch .*found 'spine7'" "$bin" check "$d/class_group_missing.yaml"
expect group-empty 2 "--set fabric.load_balancing.per_class.kv.group: expected at least one next-hop switch .*found an empty group" "$bin" check "$pd" --set 'fabric.load_balancing={mode: ecmp, per_class: {kv: {mode: flowlet, group: []}}}'
expect class-queue-contradict 2 "--set fabric.load_balancing.per_class.a2a: expected one path selection per class: .*found spray for per_class.3, flowlet for per_class.a2a" "$bin" check "$pd" --set 'fabric.load_balancing={mode: ecmp, per_class: {3: spray, a2a: flowlet}}'
# adaptive routing
expect ar-one-path 2 "--set fabric.load_balancing: expected ar \(adaptive routing groups\) on a fabric where some switch has a choice of paths, found ar for class a2a on a fabric with one path" "$bin" check "$ib" --set fabric.load_balancing=ar
expect ar-on-roce 2 "--set fabric.load_balancing: expected a RoCE mode .*found ar for class a2a" "$bin" check "$roce" --set fabric.load_balancing=ar
expect ar-sl 2 "--set fabric.ib.ar.sls\[0\]: expected an integer from 0 to 15, found '20'" "$bin" check "$ib" --set 'fabric.ib.ar.sls=[20]'
expect ar-arn-life 2 "--set fabric.ib.ar.arn_life: expected a time above 0, found 0" "$bin" check "$ib" --set fabric.ib.ar.arn_life=0us
expect ar-arn-threshold 2 "--set fabric.ib.ar.arn_threshold: expected a size .*found '-1B'" "$bin" check "$ib" --set fabric.ib.ar.arn_threshold=-1B
expect ar-shield 2 "--set fabric.ib.ar.shield: expected true or false .*found 'maybe'" "$bin" check "$ib" --set fabric.ib.ar.shield=maybe
expect ar-fault-detect 2 "--set fabric.ib.ar.fault_detect: expected a time .*found '-1us'" "$bin" check "$ib" --set fabric.ib.ar.fault_detect=-1us
# congestion control
expect cc-threshold-file 2 "ib_cc_threshold.yaml:8: fabric.ib.cc.threshold: expected 0 \(no marking\) to 15 .*found 16" "$bin" check "$d/ib_cc_threshold.yaml"
expect cc-threshold-negative 2 "--set fabric.ib.cc.threshold: expected 0 \(no marking\) to 15 .*found -1" "$bin" check "$ib" --set fabric.ib.cc.threshold=-1
expect cc-on-roce 2 "--set fabric.ib.cc.enable: expected InfiniBand congestion control on an InfiniBand fabric .*found fabric.kind roce" "$bin" check "$roce" --set fabric.ib.cc.enable=true
expect cc-sls 2 "--set fabric.ib.cc.sls\[0\]: expected an integer from 0 to 15, found '16'" "$bin" check "$ib" --set 'fabric.ib.cc.sls=[16]'
expect cc-marking-rate 2 "--set fabric.ib.cc.marking_rate: expected an integer from 0 to 65535, found '70000'" "$bin" check "$ib" --set fabric.ib.cc.marking_rate=70000
expect cc-packet-size 2 "--set fabric.ib.cc.packet_size: expected an integer from 0 to 255, found '300'" "$bin" check "$ib" --set fabric.ib.cc.packet_size=300
expect cc-timer 2 "--set fabric.ib.cc.ccti_timer: expected a period above 0, found 0" "$bin" check "$ib" --set fabric.ib.cc.ccti_timer=0us
expect cc-increase 2 "--set fabric.ib.cc.ccti_increase: expected an integer from 0 to 255, found '256'" "$bin" check "$ib" --set fabric.ib.cc.ccti_increase=256
expect cc-limit 2 "--set fabric.ib.cc.ccti_limit: expected an index of the congestion control table, found 200 \(128 entries\)" "$bin" check "$ib" --set fabric.ib.cc.ccti_limit=200
expect cc-min 2 "--set fabric.ib.cc.ccti_min: expected at most ccti_limit, found 200 \(ccti_limit 127\)" "$bin" check "$ib" --set fabric.ib.cc.ccti_min=200
expect cc-cct-entry 2 "--set fabric.ib.cc.cct\[0\]: expected SHIFT:MULTIPLIER .*found '4:1'" "$bin" check "$ib" --set 'fabric.ib.cc.cct=["4:1"]'
expect cc-cct-empty 2 "--set fabric.ib.cc.cct: expected 1 to 128 entries, found 0" "$bin" check "$ib" --set 'fabric.ib.cc.cct=[]'
expect cc-cct-short-limit 2 "--set fabric.ib.cc.ccti_limit: expected an index of the congestion control table, found 5 \(2 entries\)" "$bin" check "$ib" --set 'fabric.ib.cc.cct=["0:0", "0:10"]' --set fabric.ib.cc.ccti_limit=5
expect cc-per-sl-key 2 "--set fabric.ib.cc.per_sl.x: expected an SL 0..15 as the key, found 'x'" "$bin" check "$ib" --set 'fabric.ib.cc.per_sl={x: {ccti_min: 1}}'
expect cc-per-sl-min 2 "--set fabric.ib.cc.per_sl.3.ccti_min: expected at most ccti_limit, found 500" "$bin" check "$ib" --set 'fabric.ib.cc.per_sl={3: {ccti_min: 500}}'
expect cc-per-sl-timer 2 "--set fabric.ib.cc.per_sl.3.ccti_timer: expected a period above 0, found 0" "$bin" check "$ib" --set 'fabric.ib.cc.per_sl={3: {ccti_timer: 0us}}'
# the good cases still load
for ok in "fabric.ib.cc.enable=true" "fabric.ib.cc.per_sl={3: {ccti_timer: 4us, ccti_increase: 2}}"; do
    if ! "$bin" check "$ib" --set "$ok" >/dev/null 2>&1; then echo "FAIL accepts $ok"; fails=$((fails+1)); else passes=$((passes+1)); fi
done
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
