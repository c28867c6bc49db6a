#!/usr/bin/env bash
# A RoCE fabric of more than one switch that is neither lossless nor selective-repeat is the
# trap of issue 12 item 18: `check`, `bench` and `run` say so on stderr, and the run records it
# in summary.json (runs[].warnings). Lossless (PFC on the classes' priority) or out-of-order
# NICs: no warning. The shipped multi-switch scenarios are lossless and warn about nothing.
set -u
bin=$1
src=$2
. "$(dirname "$0")/lib/serving.sh"
pass=0
fail() { echo "FAIL: $*"; exit 1; }
two_tier=(--set topology.kind=leaf-spine --set topology.leaves=2 --set topology.spines=2)
lossless=(--set 'fabric.queues[3].lossless=true' --set fabric.pfc.enable=true
          --set 'fabric.classes={a2a: {queue: 3}, kv: {queue: 3}, pp: {queue: 3}, coll: {queue: 3}}')

"$bin" check reference-roce.yaml "${two_tier[@]}" >/dev/null 2>"$tmp/c1" || fail "check exit"
grep -q "warning: .*fabric.pfc.enable: a lossy RoCE fabric of 4 switches" "$tmp/c1" \
    || fail "check did not warn: $(cat "$tmp/c1")"; pass=$((pass + 1))
"$bin" check reference-roce.yaml "${two_tier[@]}" "${lossless[@]}" >/dev/null 2>"$tmp/c2" \
    || fail "check exit (lossless)"
[ ! -s "$tmp/c2" ] || fail "lossless fabric warned: $(cat "$tmp/c2")"; pass=$((pass + 1))
"$bin" check reference-roce.yaml "${two_tier[@]}" --set fabric.nic.ooo=true >/dev/null 2>"$tmp/c3" \
    || fail "check exit (ooo)"
[ ! -s "$tmp/c3" ] || fail "selective-repeat fabric warned: $(cat "$tmp/c3")"; pass=$((pass + 1))
"$bin" check reference-roce.yaml >/dev/null 2>"$tmp/c4" || fail "check exit (one switch)"
[ ! -s "$tmp/c4" ] || fail "single switch warned: $(cat "$tmp/c4")"; pass=$((pass + 1))
for f in large-rail bench-leafspine; do
    "$bin" check "$src/scenarios/$f.yaml" >/dev/null 2>"$tmp/s" || fail "check $f"
    [ ! -s "$tmp/s" ] || fail "$f warned: $(cat "$tmp/s")"; pass=$((pass + 1))
done

"$bin" bench reference-roce.yaml "${two_tier[@]}" -p pingpong -n 2 -s 64B >/dev/null 2>"$tmp/b" \
    || fail "bench exit"
grep -q "warning: .*a lossy RoCE fabric" "$tmp/b" || fail "bench did not warn"; pass=$((pass + 1))

"$bin" run "${S[@]}" "${two_tier[@]}" -o "$tmp/lossy" >/dev/null 2>"$tmp/r1" || fail "lossy run"
grep -q "warning: .*a lossy RoCE fabric of 4 switches" "$tmp/r1" || fail "run did not warn"
pass=$((pass + 1))
"$bin" run "${S[@]}" "${two_tier[@]}" "${lossless[@]}" -o "$tmp/ll" >/dev/null 2>"$tmp/r2" \
    || fail "lossless run"
[ ! -s "$tmp/r2" ] || fail "lossless run warned: $(cat "$tmp/r2")"; pass=$((pass + 1))
python3 - "$tmp" <<'PY' || exit 1
import json, sys
d = sys.argv[1]
a = json.load(open(d + "/lossy/summary.json"))["runs"][0]
b = json.load(open(d + "/ll/summary.json"))["runs"][0]
assert len(a["warnings"]) == 1 and "a lossy RoCE fabric of 4 switches" in a["warnings"][0], a["warnings"]
assert b["warnings"] == [], b["warnings"]
PY
pass=$((pass + 2))
echo "$pass passed, 0 failed"
