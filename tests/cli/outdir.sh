#!/usr/bin/env bash
# The output folder (-o) of `infabric run` and `infabric bench` (issue 12, items 4, 5 and 10).
# Item 4: while one command writes into a folder, a second command into it is refused (exit 2,
#   "in use"), and the first's summary holds exactly its own runs; the folder is free again after.
# Item 5: an empty path, a regular file, a path that cannot be created and a folder that cannot
#   be written are refused with exit 2 before any work: bench prints no table, run reports the
#   folder even when a scenario key is wrong too (checked first), and nothing lands in the cwd.
# Item 10: a folder path of 1100 bytes gets its files in that folder (not in a cut-off sibling);
#   one past PATH_MAX is refused before any work, naming the limit.
set -u
bin=$(realpath "$1")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
small=(reference-roce.yaml -q -j 1 --set workload.input_len=uniform:32-96
       --set workload.output_len=uniform:4-8)
P=(bench -p pingpong -n 1 --sizes 64B)

# ---- item 4: one folder, two commands
"$bin" run "${small[@]}" --sweep workload.concurrency=2,256 -o "$tmp/shared" \
    >"$tmp/a.out" 2>"$tmp/a.err" &
a=$!
for _ in $(seq 300); do # until the first command holds the lock
    [ -f "$tmp/shared/.infabric.lock" ] && ! flock -n "$tmp/shared/.infabric.lock" true && break
    sleep 0.02
done
"$bin" run "${small[@]}" --sweep workload.concurrency=8 -o "$tmp/shared" >"$tmp/b.out" 2>"$tmp/b.err"
rc=$?
[ $rc -eq 2 ] && grep -q "is in use by another infabric command (pid $a" "$tmp/b.err" \
    && ok "a second run into a folder in use is refused, naming the holder" \
    || bad "second run: exit $rc: $(cat "$tmp/b.err")"
"$bin" "${P[@]}" -o "$tmp/shared" >"$tmp/c.out" 2>"$tmp/c.err"; rc=$?
[ $rc -eq 2 ] && grep -q "in use" "$tmp/c.err" && [ ! -s "$tmp/c.out" ] \
    && ok "a bench into it is refused before running" || bad "bench into a folder in use: exit $rc"
wait $a; rc=$?
[ $rc -eq 0 ] && ok "the first run completes" || bad "first run exit $rc: $(cat "$tmp/a.err")"
python3 - "$tmp/shared" <<'PY' && ok "its summary holds its own 2 runs only" || bad "summary mixed"
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
assert s["planned"] == 2 and s["completed"] == 2, s
assert [r["sweep"]["workload.concurrency"] for r in s["runs"]] == ["2", "256"], s["runs"]
PY
[ ! -e "$tmp/shared/messages.csv" ] && ok "no bench file in it" || bad "bench wrote into the folder"
"$bin" run "${small[@]}" --sweep workload.concurrency=8 -o "$tmp/shared" >/dev/null 2>&1 \
    && python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["planned"]==1 and len(s["runs"])==1' \
       "$tmp/shared/summary.json" && [ ! -e "$tmp/shared/runs/001.json" ] \
    && ok "afterwards the folder is free; the earlier runs' files are gone" \
    || bad "reusing the folder after the first run"

# ---- item 5: bad folders, refused before any work
mkdir "$tmp/cwd"; touch "$tmp/afile"
expect() { # name pattern command...
    local name=$1 pat=$2; shift 2
    local rc
    (cd "$tmp/cwd" && "$bin" "$@" >"$tmp/x.out" 2>"$tmp/x.err"); rc=$?
    if [ $rc -eq 2 ] && grep -Eq -- "$pat" "$tmp/x.err" && [ ! -s "$tmp/x.out" ]; then ok "$name"
    else bad "$name: exit $rc: $(head -c 300 "$tmp/x.err") $(head -c 200 "$tmp/x.out")"; fi
}
# (run cases carry a key that does not exist: the folder must be checked before the scenario,
# and a build that writes into '' = '/' never gets that far)
expect "run -o '' refused before the scenario is checked" "-o: expected an output folder, found ''" \
    run "${small[@]}" --set workload.nokey=1 -o ""
expect "bench -o '' refused before the benchmark" "-o: expected an output folder" "${P[@]}" -o ""
expect "run -o FILE refused" "afile.*Not a directory" run "${small[@]}" -o "$tmp/afile" \
    --set workload.nokey=1
expect "bench -o FILE refused" "afile.*Not a directory" "${P[@]}" -o "$tmp/afile"
expect "bench -o under a file refused" "afile.*Not a directory" "${P[@]}" -o "$tmp/afile/sub"
expect "run -o uncreatable refused" "/proc/ifb-nope" run "${small[@]}" -o /proc/ifb-nope/x \
    --set workload.nokey=1
expect "bench -o unwritable refused" "cannot write to output folder '/proc'" "${P[@]}" -o /proc
expect "run -o unwritable refused" "cannot write to output folder '/proc'" run "${small[@]}" \
    -o /proc --set workload.nokey=1
[ -z "$(ls -A "$tmp/cwd")" ] && ok "nothing written in the working directory" \
    || bad "files in the cwd: $(ls -A "$tmp/cwd")"

# ---- item 10: long paths
deep=$tmp/long
for i in $(seq 11); do deep=$deep/$(printf 'd%.0s' $(seq 99)); done # 11 x 100 bytes
"$bin" run "${small[@]}" --sweep workload.concurrency=2 -o "$deep" >/dev/null 2>"$tmp/l.err"; rc=$?
[ $rc -eq 0 ] && [ -f "$deep/runs/000.json" ] && [ -f "$deep/runs/000-requests.csv" ] \
    && [ -f "$deep/summary.json" ] && ok "run: a ${#deep}-byte folder gets its per-run files" \
    || bad "run into a ${#deep}-byte folder: exit $rc: $(head -c 300 "$tmp/l.err")"
[ "$(find "$tmp/long" -type d -name runs | wc -l)" -eq 1 ] && ok "no cut-off sibling folder" \
    || bad "runs folders: $(find "$tmp/long" -type d -name runs | wc -l)"
"$bin" "${P[@]}" -o "$deep/b" >/dev/null 2>"$tmp/l.err"; rc=$?
[ $rc -eq 0 ] && [ -f "$deep/b/messages.csv" ] && [ -f "$deep/b/summary.json" ] \
    && ok "bench: its files in the long folder" || bad "bench into a long folder: exit $rc"
huge=$tmp/h
while [ ${#huge} -lt 4200 ]; do huge=$huge/$(printf 'h%.0s' $(seq 200)); done
expect "run: a path past PATH_MAX refused first" "PATH_MAX" run "${small[@]}" -o "$huge" \
    --set workload.nokey=1
expect "bench: a path past PATH_MAX refused first" "PATH_MAX" "${P[@]}" -o "$huge"
[ ! -e "$tmp/h" ] && ok "nothing created for it" || bad "created part of the too-long path"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
