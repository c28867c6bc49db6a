#!/usr/bin/env bash
# The whole test suite: install what is missing, build in release mode and run every test,
# then the same suite under AddressSanitizer + UndefinedBehaviorSanitizer, then every fuzz target
# for a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh build-essential cmake ninja-build pkg-config libyaml-dev libjansson-dev libcmocka-dev tshark python3 chromium
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
(cd build && ctest --output-on-failure -j "$jobs")
if [ "${IFB_SKIP_SANITIZE:-0}" != 1 ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DIFB_SANITIZE=ON >/dev/null
  cmake --build build-asan
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j "$jobs" -LE slow)
fi
# Every parser's libFuzzer target for a bounded time (docs/fuzzing.md); IFB_FUZZ_SECONDS=0 skips.
if [ "${IFB_FUZZ_SECONDS:-10}" != 0 ]; then
  tools/fuzz.sh "${IFB_FUZZ_SECONDS:-10}"
fi
