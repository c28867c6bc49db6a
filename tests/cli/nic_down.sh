#!/usr/bin/env bash
# A NIC going down for good during serving (the link of s1n0, which serves GPUs 8 and 9 of the
# reference servers): the messages to and from it fail after the retry limit and are reported,
# the two instances behind it go down and their requests are reported failed, every other request
# completes, and the run ends by itself with a positive token rate.
set -u
bin=$1
. "$(dirname "$0")/lib/serving.sh"
"$bin" run "${S[@]}" -o "$tmp/clean" >/dev/null || { echo "FAIL: clean run"; exit 1; }
"$bin" run "${S[@]}" -o "$tmp/down" --set 'failures=[{link: s1n0, down: 100ms}]' >/dev/null \
    || { echo "FAIL: run with the NIC down did not end cleanly"; exit 1; }
python3 - "$tmp" <<'PY' || exit 1
import csv, json, sys
d = sys.argv[1]
a = json.load(open(d + "/clean/summary.json"))["runs"][0]
b = json.load(open(d + "/down/summary.json"))["runs"][0]
assert not a["partial"] and not b["partial"] and b["stop"] == "done", "a run did not complete"
sa, sb = a["serving"], b["serving"]
assert sa["requests_failed"] == 0 and sa["instances_down"] == 0, "failures without a fault"
assert sb["instances_down"] == 2, "instances down: %d, expected the 2 behind s1n0" % sb["instances_down"]
assert sb["requests_failed"] > 0, "no request failed"
f = b["failures"]
assert f["happened"] and f["msgs_failed"] > 0 and f["timeouts"] > 0, "no message failed: %s" % f
rows = list(csv.DictReader(open(d + "/down/runs/000-requests.csv")))
failed = [r for r in rows if r["failed"] == "1"]
assert len(failed) == sb["requests_failed"], "requests.csv and the summary disagree"
assert {r["instance"] for r in failed} <= {"8", "9"}, "a request of a healthy instance failed"
done = [r for r in rows if r["failed"] == "0" and r["finish_us"] != ""]
assert len(done) >= 16, "the rest of the cluster did not go on serving (%d done)" % len(done)
assert b["metrics"]["tgr_tok_s"] > 0, "no tokens after the failure"
print("%d requests failed on instances %s, %d messages failed, TGR %.1f -> %.1f tok/s" % (
    len(failed), sorted({r["instance"] for r in failed}), f["msgs_failed"],
    a["metrics"]["tgr_tok_s"], b["metrics"]["tgr_tok_s"]))
PY
echo "9 passed, 0 failed"
