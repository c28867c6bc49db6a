#!/usr/bin/env bash
# The main job: install what is missing, build infabric in release mode, run the reference job.
# Only the result table goes to stdout: package installation and build output go to stderr, so
# `tools/run.sh > table.txt` keeps the table alone (the progress line is on stderr too).
# It configures build/ without choosing whether tests are built (IFB_TESTS stays as tools/test.sh
# left it, or AUTO), so either script works after the other. IFB_CONFIGURE_ONLY=1: only
# configure build/ (no package install, no build, no run), for tests/cli/build_order.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${IFB_CONFIGURE_ONLY:-0}" != 1 ]; then
  tools/deps.sh build-essential cmake ninja-build pkg-config libyaml-dev libjansson-dev >&2
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
[ "${IFB_CONFIGURE_ONLY:-0}" = 1 ] && exit 0
cmake --build build --target infabric >&2
exec build/infabric run "$@"
