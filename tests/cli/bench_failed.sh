#!/usr/bin/env bash
# `infabric bench` with messages the network gives up on (issue 12, item 3): every frame of the
# source's NIC link is lost and the NIC does not retry, so none of the 8 bw messages can arrive.
# Each must be counted failed, not done: the row says FAILED with no bandwidth, summary.json and
# --json give status "failed", msgs 0, msgs_failed 8 and null figures, the exit status is 1.
# The same command without the fault is the control: 8 messages done, figures, exit 0.
set -u
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
A=(bench --pattern bw -n 8 --sizes 1MiB --src 0 --dst 15)
F=(--set fabric.nic.retry_cnt=0 --set 'faults=[{link: s0n0, loss: 1}]')

"$bin" "${A[@]}" -o "$tmp/clean" >"$tmp/clean.txt" 2>&1; rc=$?
[ $rc -eq 0 ] && ok "clean bw exits 0" || bad "clean bw exit $rc: $(cat "$tmp/clean.txt")"
"$bin" "${A[@]}" "${F[@]}" -o "$tmp/lost" >"$tmp/lost.txt" 2>"$tmp/lost.err"; rc=$?
[ $rc -eq 1 ] && ok "failed messages: exit 1" || bad "failed messages: exit $rc, expected 1"
grep -q "FAILED" "$tmp/lost.txt" && ok "the row says FAILED" || bad "no FAILED row: $(cat "$tmp/lost.txt")"
grep -q "8 message(s) failed" "$tmp/lost.err" && ok "stderr counts the 8 failed messages" \
    || bad "stderr: $(cat "$tmp/lost.err")"
"$bin" "${A[@]}" "${F[@]}" --json >"$tmp/lost.json" 2>/dev/null
python3 - "$tmp" <<'PY' && ok "summary.json and --json report the failure, the control does not" || bad "JSON content"
import json, sys
d = sys.argv[1]
c = json.load(open(d + "/clean/summary.json"))["runs"][0]
assert c["complete"] is True and c["msgs"] == 8 and c["msgs_failed"] == 0, c
assert c["algbw_Bps"] > 0 and c["status"] == "complete", c
s = json.load(open(d + "/lost/summary.json"))
r = s["runs"][0]
assert s["partial"] is True, "summary not marked partial"
assert r["complete"] is False and r["status"] == "failed", r
assert r["msgs"] == 0 and r["msgs_failed"] == 8, (r["msgs"], r["msgs_failed"])
assert r["algbw_Bps"] is None and r["busbw_Bps"] is None and r["time_ps"] is None, r
assert r["packets"]["consumed"] == 0 or r["packets"]["dropped"] > 0, r["packets"]
j = json.load(open(d + "/lost.json"))["runs"][0]
assert j["status"] == "failed" and j["msgs"] == 0 and j["msgs_failed"] == 8, j
assert j["algbw_Bps"] is None and j["time_ps"] is None, j
assert j == r, "--json differs from summary.json"
PY
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
