#!/usr/bin/env bash
# `infabric bench` input that was ignored or refused wrongly (issue 12, items 17 and 21):
# --watchdog 0 means off (the help says so): the same lossy pingpong stops on a 1 us watchdog and
# completes with 0; a scenario's `failures:` is applied (a down NIC link fails the messages to
# its GPU, a down link elsewhere does not); an unknown `workload.*` key is refused with the
# standard error (file, line, key); alltoall, allreduce and permutation with one rank are
# refused instead of printing zeros (two ranks run).
set -u
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
run() { out=$("$bin" "$@" 2>&1); rc=$?; }

L=(bench -p pingpong -n 2 --sizes 64B --set 'faults=[{link: s0n0, loss: 0.5}]')
run "${L[@]}" --watchdog 1us
[ $rc -ne 0 ] && grep -q watchdog <<<"$out" && ok "a 1 us watchdog stops the lossy pingpong" \
    || bad "1 us watchdog: exit $rc: $out"
run "${L[@]}" --watchdog 0 --json
if [ $rc -eq 0 ] && python3 -c 'import json,sys; r=json.loads(sys.argv[1])["runs"][0]; assert r["msgs"]==4 and r["status"]=="complete", r' "$out"; then
    ok "--watchdog 0 is off: the same pingpong completes its 4 messages"
else
    bad "--watchdog 0: exit $rc: $out"
fi

# GPU 8 is server 1's GPU 0, behind NIC s1n0 (topology.gpu_nic default)
B=(bench -p bw -n 4 --sizes 64KiB --src 0 --dst 8)
run "${B[@]}" --set 'failures=[{link: s1n0, down: 1us}]'
[ $rc -eq 1 ] && grep -q "FAILED" <<<"$out" && ok "failures: the destination's NIC link down fails the bw" \
    || bad "failures not applied: exit $rc: $out"
run "${B[@]}" --set 'failures=[{link: s1n3, down: 1us}]' --json
if [ $rc -eq 0 ] && python3 -c 'import json,sys; r=json.loads(sys.argv[1])["runs"][0]; assert r["msgs"]==4, r' "$out"; then
    ok "failures: another NIC's link down leaves the bw whole"
else
    bad "unrelated failure: exit $rc: $out"
fi

printf 'name: wl\nworkload:\n  concurrency: 4\n  concurency: 8\n' >"$tmp/wl.yaml"
run bench "$tmp/wl.yaml" -p pingpong -n 1 --sizes 64B
[ $rc -eq 2 ] && grep -q "wl.yaml:4: workload.concurency: expected .*found unknown key 'concurency'" <<<"$out" \
    && ok "unknown workload key in a file: file, line, key" || bad "unknown workload key: exit $rc: $out"
run bench -p pingpong -n 1 --sizes 64B --set workload.concurrency=many
[ $rc -eq 2 ] && grep -q "workload.concurrency: expected an integer" <<<"$out" \
    && ok "bad workload value refused" || bad "bad workload value: exit $rc: $out"

for p in alltoall allreduce permutation; do
    run bench -p $p --ranks 1 --sizes 4KiB
    [ $rc -eq 2 ] && grep -q "expected at least 2 ranks.*found 1" <<<"$out" \
        && ok "$p with one rank refused" || bad "$p with one rank: exit $rc: $out"
done
run bench -p alltoall --ranks 2 --sizes 4KiB --json
if [ $rc -eq 0 ] && python3 -c 'import json,sys; r=json.loads(sys.argv[1])["runs"][0]; assert r["msgs"]==2 and r["busbw_Bps"]>0, r' "$out"; then
    ok "alltoall with two ranks runs its 2 messages"
else
    bad "alltoall with two ranks: exit $rc: $out"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
