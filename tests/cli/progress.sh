#!/usr/bin/env bash
# Progress inside runs (issue 15, item 4): with stderr not a terminal, `infabric run` writes a
# line every --progress-every seconds naming, for each running run, the requests finished of
# its target (warm-up + --requests), the simulated time reached, events per second and an ETA,
# and an ETA for the whole command; the counts only grow; stdout holds the table alone; -q is
# silent. On a terminal (util-linux `script`, when installed) the line is redrawn in place.
set -u
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
R=(run reference-roce --set workload.input_len=uniform:32-96 --set workload.output_len=uniform:64-128
   --sweep workload.concurrency=8,16 --requests 10 -j 2)
"$bin" "${R[@]}" --progress-every 0.2 -o "$tmp/a" >"$tmp/a.out" 2>"$tmp/a.err"; rc=$?
[ $rc -eq 0 ] || bad "run exit $rc: $(tail -3 "$tmp/a.err")"
python3 - "$tmp/a.err" <<'PY' && ok "progress lines: requests of the target, sim time, events/s, ETAs" \
    || { bad "progress lines"; cat "$tmp/a.err"; }
import re, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.startswith("infabric run: ")]
assert lines, "no progress line"
head = re.compile(r"^infabric run: \d+ s: (\d)/2 runs done, all runs ETA (\?|\d.*?)(;|$)")
run = re.compile(r"; run (\d) \(concurrency=(\d+)\): (\d+)/(\d+) req, ([0-9.]+) s sim, "
                 r"(\?|[0-9.]+[kM]) ev/s, ETA (\?|\d+ s|\d+ min \d+ s)")
seen = {}
for l in lines:
    assert head.match(l), l
    for m in run.finditer(l):
        i, conc, fin, tgt, sim = int(m[1]), int(m[2]), int(m[3]), int(m[4]), float(m[5])
        # the target is the warm-up (the concurrency) plus the 10 requests measured
        assert tgt == conc + 10, (conc, tgt)
        # unknown before the run's first published count; a count is never shown as zero
        assert m[6] == "?" or float(m[6][:-1]) > 0, l
        if i in seen:
            assert fin >= seen[i][0] and sim >= seen[i][1], (l, seen[i])
        seen[i] = (fin, sim)
assert seen, "no run in the progress lines"
PY
head -1 "$tmp/a.out" | grep -q "^# infabric run: 2 run(s)" && ! grep -q "runs done" "$tmp/a.out" \
    && ok "stdout holds the table only" || bad "stdout: $(head -3 "$tmp/a.out")"
# a period of 2 s or more runs on a once-a-second timer (the default is 5 s): a run of about 3 s
# still gets its line
"$bin" run reference-roce --set workload.input_len=uniform:32-96 \
    --set workload.output_len=uniform:256-512 --set workload.concurrency=16 -j 1 \
    --progress-every 2 -o "$tmp/l" >/dev/null 2>"$tmp/l.err"
grep -q "^infabric run: [0-9]* s: 0/1 runs done.*; run 0: [0-9]*/48 req" "$tmp/l.err" \
    && ok "--progress-every 2: a line within the run" || bad "--progress-every 2: $(cat "$tmp/l.err")"
"$bin" "${R[@]}" --progress-every 0.2 -q -o "$tmp/q" >/dev/null 2>"$tmp/q.err"
[ ! -s "$tmp/q.err" ] && ok "-q: no progress" || bad "-q wrote: $(head -2 "$tmp/q.err")"
if command -v script >/dev/null; then
    script -qc "$bin ${R[*]} -o $tmp/t" "$tmp/tty.log" >/dev/null 2>&1
    if grep -q $'\r\[' "$tmp/tty.log" && grep -q $'\033\[K' "$tmp/tty.log" \
        && grep -q "runs, ETA" "$tmp/tty.log" && grep -q "# infabric run: 2 run(s)" "$tmp/tty.log"; then
        ok "terminal: the line is redrawn in place, then the table"
    else
        bad "terminal output: $(head -c 300 "$tmp/tty.log" | cat -v)"
    fi
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
