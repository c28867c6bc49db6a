#!/usr/bin/env bash
# Output errors and echoed input (issue 12, item 20).
# - A full disk: the temporary file of report.html (run) or messages.csv (bench) is made a link
#   to /dev/full (the command is exec'ed from a shell that knows its pid), so its writes fail
#   with ENOSPC. The error names the file and the system error, the exit status is 1, and
#   summary.json -- written last, its presence meaning the folder is whole -- is not there,
#   not even the one an earlier complete run left in the folder.
# - A file size limit (ulimit -f, SIGXFSZ ignored): report.html is the largest file of a small
#   run, so only it fails (EFBIG); the same holds.
# - A 100 kB bad value (option value, scenario name, command, option) is echoed cut short: each
#   message is under 1 kB and says how long the input was.
set -u
bin=$(realpath "$1")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
# one utilization bin per run (output.sample_interval), so that under the file size limit below
# the first file too large is report.html, not a run's util.csv
small=(reference-roce.yaml -q -j 1 --set workload.input_len=uniform:32-96
       --set workload.output_len=uniform:4-8 --sweep workload.concurrency=2,4
       --set output.sample_interval=1s)
# full DIR FILE cmd...: runs cmd with DIR/FILE.tmp.<its pid> linked to /dev/full
full() {
    local d=$1 f=$2; shift 2
    mkdir -p "$d"
    bash -c 'ln -s /dev/full "$1/$2.tmp.$$"; shift 2; exec "$@"' _ "$d" "$f" "$@"
}

"$bin" run "${small[@]}" -o "$tmp/r" >/dev/null 2>&1 || bad "first run into the folder"
[ -f "$tmp/r/summary.json" ] || bad "no summary after a complete run"
full "$tmp/r" report.html "$bin" run "${small[@]}" -o "$tmp/r" >/dev/null 2>"$tmp/r.err"; rc=$?
[ $rc -eq 1 ] && grep -q "cannot write output file '$tmp/r/report.html': No space left on device" "$tmp/r.err" \
    && ok "run, disk full at report.html: the file and ENOSPC named, exit 1" \
    || bad "run disk full: exit $rc: $(cat "$tmp/r.err")"
[ ! -e "$tmp/r/summary.json" ] && ok "run: no summary.json (not even the earlier one)" \
    || bad "run: summary.json present after report.html failed"
[ -z "$(find "$tmp/r" -name '*.tmp.*')" ] && ok "run: no temporary file left" || bad "run: temporary file left"

full "$tmp/b" messages.csv "$bin" bench -o "$tmp/b" >/dev/null 2>"$tmp/b.err"; rc=$?
[ $rc -eq 1 ] && grep -q "cannot write output file '$tmp/b/messages.csv': No space left on device" "$tmp/b.err" \
    && ok "bench, disk full at messages.csv: the file and ENOSPC named, exit 1" \
    || bad "bench disk full: exit $rc: $(cat "$tmp/b.err")"
[ ! -e "$tmp/b/summary.json" ] && ok "bench: no summary.json" || bad "bench: summary.json present"

(trap '' XFSZ; ulimit -f 16; exec "$bin" run "${small[@]}" -o "$tmp/f") >/dev/null 2>"$tmp/f.err"; rc=$?
[ $rc -eq 1 ] && grep -q "cannot write output file '$tmp/f/report.html': File too large" "$tmp/f.err" \
    && ok "run, file size limit at report.html: the file and EFBIG named, exit 1" \
    || bad "run file size limit: exit $rc: $(cat "$tmp/f.err")"
[ -f "$tmp/f/runs.csv" ] && [ ! -e "$tmp/f/summary.json" ] \
    && ok "run: the smaller files were written, summary.json was not" || bad "run: file order"

big=$(head -c 100000 /dev/zero | tr '\0' x)
short() { # name command...
    local name=$1; shift
    local n rc
    "$bin" "$@" >/dev/null 2>"$tmp/e.err"; rc=$?
    n=$(wc -c <"$tmp/e.err")
    if [ $rc -eq 2 ] && [ "$n" -lt 1000 ] && grep -q "(100[0-9]* bytes)" "$tmp/e.err"; then
        ok "$name: $n bytes of error"
    else
        bad "$name: exit $rc, $n bytes: $(head -c 200 "$tmp/e.err")"
    fi
}
short "bench --sizes" bench --sizes "$big"
short "bench --pattern" bench --pattern "$big"
short "bench --watchdog" bench --watchdog "$big"
short "run --seed" run --seed "$big"
short "run --jobs" run -j "$big"
short "unknown option" bench "--$big"
short "unexpected argument" bench a "$big"
short "unknown command" "$big"
"$bin" check "$tmp/$big" >/dev/null 2>"$tmp/e.err"; n=$(wc -c <"$tmp/e.err")
[ "$n" -lt 1000 ] && ok "check of a 100 kB path: $n bytes of error" || bad "check: $n bytes"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
