#!/usr/bin/env bash
# Runs the validation suite (validation/cases/*): every case's scenario through infabric, the
# prediction against the public measurement in its spec, printed as
#   case | measured | predicted | ratio | within tolerance
# Usage: tools/validate.sh [--quick] [--case ID]... [--json FILE] [--bin PATH] [-j N] [--list]
#   --quick  the CI subset (under 2 minutes on a 2-core machine); default: every case
# The binary defaults to $INFABRIC, then build/infabric (built if missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v python3 >/dev/null || { echo "validate: python3 is required" >&2; exit 2; }
want_bin=1
for a in "$@"; do [ "$a" = --bin ] && want_bin=0; done
if [ $want_bin -eq 1 ] && [ -z "${INFABRIC:-}" ] && [ ! -x "$root/build/infabric" ]; then
    echo "validate: building build/infabric" >&2
    cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$root/build" --target infabric >/dev/null
fi
exec python3 "$root/validation/run.py" "$@"
