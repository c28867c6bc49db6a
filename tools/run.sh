#!/usr/bin/env bash
# The main job: install what is missing, build in release mode, run the reference job.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh build-essential cmake ninja-build pkg-config libyaml-dev libjansson-dev
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DIFB_TESTS=OFF >/dev/null
cmake --build build
exec build/infabric run "$@"
