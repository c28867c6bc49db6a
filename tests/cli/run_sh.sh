#!/usr/bin/env bash
# tools/run.sh keeps build output out of the result table (issue 15, item 4): on a copy of the
# tools with a stand-in `cmake` first in PATH (it prints build lines as ninja does, and "builds"
# an infabric that prints a table), run.sh's stdout is the table alone and the build lines are
# on stderr; the arguments reach `infabric run`.
set -u
src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tree/tools" "$tmp/bin"
cp "$src/tools/run.sh" "$src/tools/deps.sh" "$tmp/tree/tools/"
cat >"$tmp/bin/cmake" <<'STUB'
#!/usr/bin/env bash
# stand-in: configure prints what cmake prints, a build prints ninja's lines and makes the binary
if [ "$1" = --build ]; then
    echo "[1/2] Building C object CMakeFiles/ifb.dir/src/core/sim.c.o"
    echo "[2/2] Linking C executable infabric"
    mkdir -p build
    printf '#!/bin/sh\necho "# infabric run: $*"\necho "table row"\n' > build/infabric
    chmod +x build/infabric
else
    echo "-- Configuring done"
fi
STUB
chmod +x "$tmp/bin/cmake"
PATH="$tmp/bin:$PATH" "$tmp/tree/tools/run.sh" --seeds 3 >"$tmp/out" 2>"$tmp/err"; rc=$?
fail=0
[ $rc -eq 0 ] || { echo "FAIL: run.sh exit $rc: $(cat "$tmp/err")"; fail=1; }
if [ "$(cat "$tmp/out")" = "$(printf '# infabric run: run --seeds 3\ntable row')" ]; then
    echo "ok   stdout holds the table only"
else
    echo "FAIL: stdout: $(cat "$tmp/out")"; fail=1
fi
grep -q "Linking C executable infabric" "$tmp/err" && echo "ok   the build lines went to stderr" \
    || { echo "FAIL: build lines not on stderr: $(cat "$tmp/err")"; fail=1; }
exit $fail
