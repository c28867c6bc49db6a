#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, docs/fuzzing.md) in build-fuzz with clang and runs each
# one for SECONDS (default 30), IFB_FUZZ_JOBS targets at a time (default: the number of CPUs).
# Each run starts from a copy of fuzz/corpus/<target> in a temporary directory, so the repo's
# seed corpus is never written. Fails on any crash, invariant trap, leak, timeout, out-of-memory
# or sanitizer report; the input that did it is kept in build-fuzz/fuzz-artifacts/<target>/.
# Usage: tools/fuzz.sh [SECONDS] [TARGET...]   (targets: cfg model kernels topo wire ...)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
[ $# -gt 0 ] && shift
tools/deps.sh clang libclang-rt-14-dev cmake ninja-build pkg-config libyaml-dev libjansson-dev
cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
  -DIFB_FUZZ=ON -DIFB_TESTS=OFF >/dev/null
cmake --build build-fuzz --target fuzz

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for bin in build-fuzz/fuzz/fuzz_*; do
    [ -x "$bin" ] && targets+=("${bin##*/fuzz_}")
  done
fi
jobs=${IFB_FUZZ_JOBS:-$(nproc)}
work=$(mktemp -d "${TMPDIR:-/tmp}/ifb-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts=build-fuzz/fuzz-artifacts

# Longest input per target: frames and CSV tables are longer than the rest.
max_len() {
  case $1 in
  wire) echo 9000 ;;
  kernels) echo 16384 ;;
  *) echo 8192 ;;
  esac
}

run_one() {
  local t=$1 dir=$work/$1
  mkdir -p "$dir/corpus" "$dir/art"
  [ -d "fuzz/corpus/$t" ] && cp -r "fuzz/corpus/$t/." "$dir/corpus/"
  local dict=()
  [ -f "fuzz/dict/$t.dict" ] && dict=("-dict=fuzz/dict/$t.dict")
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "build-fuzz/fuzz/fuzz_$t" -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/art/" "${dict[@]}" \
    "$dir/corpus" >"$dir/log" 2>&1
}

declare -A pid
status=0
npass=0
nfail=0
report() {
  local t=$1 rc=$2 dir=$work/$1
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" | grep -o '[0-9]*$' || true)
  if [ "$rc" -ne 0 ] || grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$dir/log"; then
    echo "fuzz_$t: FAILED (exit $rc) after ${execs:-?} runs; log tail:" >&2
    tail -n 60 "$dir/log" >&2
    mkdir -p "$artifacts/$t"
    cp "$dir"/art/* "$artifacts/$t/" 2>/dev/null && echo "fuzz_$t: input kept in $artifacts/$t/" >&2
    status=1
    nfail=$((nfail + 1))
  else
    echo "fuzz_$t: ok, ${secs}s, ${execs:-?} runs"
    npass=$((npass + 1))
  fi
}

running=()
for t in "${targets[@]}"; do
  if [ ! -x "build-fuzz/fuzz/fuzz_$t" ]; then
    echo "fuzz.sh: no target fuzz_$t" >&2
    exit 2
  fi
  run_one "$t" &
  pid[$t]=$!
  running+=("$t")
  if [ ${#running[@]} -ge "$jobs" ]; then
    first=${running[0]}
    running=("${running[@]:1}")
    rc=0; wait "${pid[$first]}" || rc=$?
    report "$first" "$rc"
  fi
done
for t in "${running[@]}"; do
  rc=0; wait "${pid[$t]}" || rc=$?
  report "$t" "$rc"
done
echo "fuzz: $npass passed, $nfail failed"
exit $status
