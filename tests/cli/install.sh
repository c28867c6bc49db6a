#!/usr/bin/env bash
# Packaging: `cmake --install` into a fresh prefix gives a program that runs a scenario from
# another directory (the scenarios and models it needs are found without the source tree), a man
# page that man renders with every command's section, the data files and the bash completion,
# and `--version` naming the commit the binary was built from.
set -u
bin=$1
src=$2
build=$(dirname "$bin")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 \
    || { cat "$tmp/install.log"; echo "FAIL: cmake --install"; exit 1; }
p=$tmp/prefix
[ -x "$p/bin/infabric" ] && ok || bad "no bin/infabric"
for f in share/man/man1/infabric.1 share/bash-completion/completions/infabric \
         share/infabric/scenarios/reference-roce.yaml share/infabric/models/deepseek-r1-config.json \
         share/infabric/kernels/mla_decode_h20_128-512-64.csv share/infabric/SOURCES.md; do
    [ -s "$p/$f" ] && ok || bad "not installed: $f"
done

# --version: the release and, in a git checkout, the commit HEAD names
v=$("$p/bin/infabric" --version)
case $v in "infabric "*" (commit "*")") ok ;; *) bad "--version printed '$v'" ;; esac
if head=$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null); then
    case $v in *"$head"*) ok ;; *) bad "--version '$v' does not name HEAD $head" ;; esac
fi

# the installed program, run from an empty directory far from the tree
mkdir "$tmp/elsewhere"
(cd "$tmp/elsewhere" && "$p/bin/infabric" run reference-roce.yaml -q -o out \
    --set workload.concurrency=2 --set workload.input_len=32 --set workload.output_len=4 \
    >"$tmp/run.log" 2>&1) || { cat "$tmp/run.log"; bad "installed run failed"; }
python3 - "$tmp/elsewhere/out/summary.json" <<'PY' && ok || bad "installed run's summary"
import json, sys
r = json.load(open(sys.argv[1]))["runs"]
assert len(r) == 1 and r[0]["stop"] == "done", r
PY

# the man page renders and carries each command's options
if command -v man >/dev/null; then
    page=$(MANWIDTH=100 man -l "$p/share/man/man1/infabric.1" 2>"$tmp/man.err")
    [ -s "$tmp/man.err" ] && { cat "$tmp/man.err"; bad "man printed warnings"; }
    for s in "INFABRIC RUN" "INFABRIC BENCH" "INFABRIC CHECK" "--sweep" "--pattern"; do
        case $page in *"$s"*) ok ;; *) bad "man page lacks '$s'" ;; esac
    done
else
    echo "SKIP: man is not installed"; exit 77
fi

# the completion completes commands and options from the installed program's help
out=$(PATH="$p/bin:$PATH" bash -c '
    . "'"$p"'/share/bash-completion/completions/infabric"
    COMP_WORDS=(infabric r); COMP_CWORD=1; _infabric; echo "${COMPREPLY[*]}"
    COMP_WORDS=(infabric run --sw); COMP_CWORD=2; _infabric; echo "${COMPREPLY[*]}"
    COMP_WORDS=(infabric run --set fabric.mt); COMP_CWORD=3; _infabric; echo "${COMPREPLY[*]}"
    COMP_WORDS=(infabric run --sweep workload.conc); COMP_CWORD=3; _infabric; echo "${COMPREPLY[*]}"')
[ "$(echo "$out" | sed -n 1p)" = run ] && ok || bad "completion of 'r': $(echo "$out" | sed -n 1p)"
[ "$(echo "$out" | sed -n 2p)" = --sweep ] && ok || bad "completion of 'run --sw': $(echo "$out" | sed -n 2p)"
[ "$(echo "$out" | sed -n 3p)" = fabric.mtu= ] && ok || bad "completion of '--set fabric.mt': $(echo "$out" | sed -n 3p)"
[ "$(echo "$out" | sed -n 4p)" = workload.concurrency= ] && ok \
    || bad "completion of '--sweep workload.conc': $(echo "$out" | sed -n 4p)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
