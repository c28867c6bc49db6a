#!/usr/bin/env bash
# The whole test suite: install what is missing, build in release mode and run every test,
# then the same suite under AddressSanitizer + UndefinedBehaviorSanitizer, a subset under valgrind
# memcheck, then every fuzz target for a few seconds. The tests are asked for explicitly
# (-DIFB_TESTS=ON), whatever an earlier configuration of build/ said. IFB_CONFIGURE_ONLY=1: only
# configure build/ (no package install, build or test), for tests/cli/build_order.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${IFB_CONFIGURE_ONLY:-0}" != 1 ]; then
  tools/deps.sh build-essential cmake ninja-build pkg-config libyaml-dev libjansson-dev libcmocka-dev tshark python3 chromium valgrind
fi
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DIFB_TESTS=ON -DIFB_WERROR=ON >/dev/null
[ "${IFB_CONFIGURE_ONLY:-0}" = 1 ] && exit 0
cmake --build build
(cd build && ctest --output-on-failure -j "$jobs")
if [ "${IFB_SKIP_SANITIZE:-0}" != 1 ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DIFB_SANITIZE=ON -DIFB_TESTS=ON -DIFB_WERROR=ON >/dev/null
  cmake --build build-asan
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j "$jobs" -LE slow)
fi
# A representative subset under valgrind memcheck: uninitialised reads and leaks ASan can miss.
if [ "${IFB_SKIP_VALGRIND:-0}" != 1 ]; then
  vpass=0; vfail=0
  for t in core_test_engine core_test_watchdog core_test_stats scenario_test_cfg net_test_wire \
           net_test_fabric net_test_ib_fabric topo_test_topo workload_test_model \
           workload_test_trace report_test_out; do
    if valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
         "build/tests/$t" >"build/valgrind-$t.log" 2>&1; then
      vpass=$((vpass + 1))
    else
      vfail=$((vfail + 1)); echo "valgrind: $t failed:"; grep -v '^\[' "build/valgrind-$t.log" | head -40
    fi
  done
  echo "valgrind: $vpass passed, $vfail failed"
  [ "$vfail" -eq 0 ]
fi
# Every parser's libFuzzer target for a bounded time (docs/fuzzing.md); IFB_FUZZ_SECONDS=0 skips.
if [ "${IFB_FUZZ_SECONDS:-10}" != 0 ]; then
  tools/fuzz.sh "${IFB_FUZZ_SECONDS:-10}"
fi
