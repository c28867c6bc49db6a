#!/usr/bin/env bash
# Mutation check: breaks the model on purpose, one line at a time, and expects the test suite to
# notice each break. Every mutation below is a plausible modelling slip (a term dropped, a factor
# off); a suite that still passes with one of them applied does not test that part of the model.
#
#   tools/mutate.sh              every mutation; exit 1 if any goes unnoticed
#   tools/mutate.sh NAME...      only those (names as listed by --list)
#   tools/mutate.sh --list       the mutations and the tests expected to catch them
#   tools/mutate.sh --full       run the whole suite for every mutation (lists every test that
#                                catches it), not only until a first failure
#   IFB_MUTATE_DIR=DIR           scratch directory (default: a new one under /tmp, removed after)
#   IFB_MUTATE_JOBS=N            ctest -j (default: nproc)
#
# The working tree is never touched: its files (tracked and untracked, not ignored) are copied
# to a scratch tree with its own Release build; each mutation edits that copy, rebuilds, runs
# the tests, and puts the file back. A mutation's text must occur exactly once in its file;
# when the code has moved on and it does not, the mutation is reported as "not applied" (and
# the script fails) so that the list is kept up to date rather than silently shrinking.
# For each mutation the tests named in its "expect" pattern run first; only if they all pass is
# the rest of the suite run, to see whether anything else notices. docs/testing.md has the
# figures (about 10 minutes for all ten on the 2-core machine).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)

names=() files=() froms=() tos=() expects=() whys=()
add() { names+=("$1"); files+=("$2"); froms+=("$3"); tos+=("$4"); expects+=("$5"); whys+=("$6"); }

add ecn-red-kmin src/net/switch/switch.c \
    '(double)(qlen - qc->ecn_kmin)' '(double)qlen' \
    'net.test_ecn' 'RED marking probability without the - kmin term'
add int-hop-latency src/net/switch/int.c \
    '(now - pk->enq_t + f->cfg.switch_latency) / IFB_NS' '(f->cfg.switch_latency) / IFB_NS' \
    'net.test_int_latency' 'INT hop latency without the queueing delay'
add tpot-output src/workload/serving/metrics.c \
    'ps_to_s(q->finish - q->first) / (double)(q->output - 1)' \
    'ps_to_s(q->finish - q->first) / (double)q->output' \
    'workload.test_step_model' 'TPOT divided by output tokens instead of output - 1'
add gqa-kv-reads src/workload/serving/cost.c \
    '(double)t->ctx_sum * s->kv_layer_bytes' '0.0 * s->kv_layer_bytes' \
    'workload.test_step_model' 'GQA decode attention without its KV-cache reads'
add kv-bytes-halved src/workload/parallel.c \
    'double kvtok = (double)ifb_model_kv_bytes_per_token(m, kvdt);' \
    'double kvtok = (double)ifb_model_kv_bytes_per_token(m, kvdt) / 2;' \
    'workload.test_step_model' 'KV-cache bytes per token per GPU halved'
add pfc-xon-offset src/net/switch/pfc.c \
    '(double)(sh + f->cfg.pfc_xon_offset) <= threshold(f, sw)' '(double)sh <= threshold(f, sw)' \
    'net.test_pfc_thresholds' 'PFC XON without the xon_offset hysteresis (dynamic threshold)'
add dcqcn-cut-alpha src/net/nic/dcqcn.c \
    'double fac = qp->alpha / 2;' 'double fac = qp->alpha;' \
    'net.test_dcqcn' 'DCQCN rate decrease by alpha instead of alpha / 2'
add wire-no-ifg src/net/wire/wire.h \
    'f + IFB_ETH_PREAMBLE + IFB_ETH_IFG' 'f' \
    'net.test_fabric' 'Ethernet serialization without preamble and inter-frame gap'
add ib-credits-half src/net/link/link.c \
    'p->credits[pk->tc] -= blocks;' 'p->credits[pk->tc] -= blocks / 2;' \
    'net.test_ib_fabric' 'InfiniBand sender charges half the credits a packet uses'
add poisson-rate src/workload/serving/sched.c \
    'ifb_rng_exp(&s->rng_arr, 1.0 / s->cfg.rate)' 'ifb_rng_exp(&s->rng_arr, 0.8 / s->cfg.rate)' \
    'workload.test_step_model' 'Poisson arrivals 25% faster than the configured rate'

full=0 list=0 only=()
for a in "$@"; do
    case $a in
    --full) full=1 ;;
    --list) list=1 ;;
    -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "mutate.sh: unknown option $a (try --help)" >&2; exit 2 ;;
    *) only+=("$a") ;;
    esac
done
if [ $list = 1 ]; then
    for i in "${!names[@]}"; do
        printf '%-16s %-24s %-26s %s\n' "${names[$i]}" "${files[$i]}" "${expects[$i]}" "${whys[$i]}"
    done
    exit 0
fi
sel=()
for i in "${!names[@]}"; do
    if [ ${#only[@]} -eq 0 ]; then sel+=("$i"); continue; fi
    for o in "${only[@]}"; do [ "$o" = "${names[$i]}" ] && sel+=("$i"); done
done
for o in "${only[@]}"; do
    printf '%s\n' "${names[@]}" | grep -qx -- "$o" || { echo "mutate.sh: no mutation '$o' (--list)" >&2; exit 2; }
done

jobs=${IFB_MUTATE_JOBS:-$(nproc)}
if [ -n "${IFB_MUTATE_DIR:-}" ]; then
    work=$IFB_MUTATE_DIR; mkdir -p "$work"
else
    work=$(mktemp -d /tmp/ifb-mutate.XXXXXX); trap 'rm -rf "$work"' EXIT
fi
tree=$work/tree build=$work/build
start=$(date +%s)
# The copy: files whose content differs from the scratch tree's (all of them the first time)
# are copied and get a new time, so a kept scratch build (IFB_MUTATE_DIR) rebuilds exactly what
# changed; files gone from the working tree are removed from the copy.
echo "mutate: copying the tree to $tree"
mkdir -p "$tree"
(cd "$root" && git ls-files -z -co --exclude-standard) | python3 -c '
import filecmp, os, shutil, sys
root, tree = sys.argv[1:3]
want = {f for f in sys.stdin.read().split("\0") if f and os.path.isfile(os.path.join(root, f))}
for f in sorted(want):
    src, dst = os.path.join(root, f), os.path.join(tree, f)
    if not os.path.exists(dst) or not filecmp.cmp(src, dst, shallow=False):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        shutil.copymode(src, dst)
for d, _, names in os.walk(tree):
    for n in names:
        rel = os.path.relpath(os.path.join(d, n), tree)
        if rel not in want:
            os.remove(os.path.join(d, n))
' "$root" "$tree"
cmake -S "$tree" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 ||
    { cat "$work/cmake.log"; exit 2; }
echo "mutate: building and running the unmutated suite (it must pass)"
if ! cmake --build "$build" >"$work/build.log" 2>&1; then
    tail -30 "$work/build.log"; echo "mutate: the unmutated tree does not build"; exit 2
fi
if ! (cd "$build" && ctest -j "$jobs" >"$work/baseline.log" 2>&1); then
    grep -E 'Failed|\*\*\*' "$work/baseline.log"; echo "mutate: the unmutated suite fails"; exit 2
fi
echo "mutate: unmutated build and suite pass ($(($(date +%s) - start)) s)"

# Replaces the one occurrence of $2 by $3 in file $1; 1 if it does not occur exactly once.
replace_once() {
    python3 - "$@" <<'PY'
import sys
path, old, new = sys.argv[1:4]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(1)
open(path, "w").write(text.replace(old, new))
PY
}

failed_tests() { # ctest log -> the names of the tests that failed, space-separated
    awk '/tests FAILED:/ { f = 1; next } f && /^[[:space:]]*[0-9]+ - / { printf "%s ", $3; next }
         { f = 0 }' "$1"
}

results=() bad=0
for i in "${sel[@]}"; do
    name=${names[$i]} file=${files[$i]} t0=$(date +%s)
    cp -p "$tree/$file" "$work/orig"
    if ! replace_once "$tree/$file" "${froms[$i]}" "${tos[$i]}"; then
        results+=("$(printf '%-16s NOT APPLIED  (the text no longer occurs exactly once in %s)' "$name" "$file")")
        bad=1; continue
    fi
    status="" by=""
    if ! cmake --build "$build" >"$work/$name.build.log" 2>&1; then
        status="BUILD FAILED"
    else
        log=$work/$name.test.log
        (cd "$build" && ctest -j "$jobs" -R "^(${expects[$i]})\$" >"$log" 2>&1)
        by=$(failed_tests "$log")
        if [ -z "$by" ] || [ $full = 1 ]; then
            (cd "$build" && ctest -j "$jobs" >"$log.all" 2>&1)
            by=$(failed_tests "$log.all")
        fi
        [ -n "$by" ] && status="caught" || status="NOT CAUGHT"
    fi
    cp -p "$work/orig" "$tree/$file"
    touch "$tree/$file" # newer than the mutated objects: the next build recompiles it
    [ "$status" = caught ] || bad=1
    line=$(printf '%-16s %-12s %4ss  %s' "$name" "$status" $(($(date +%s) - t0)) "$by")
    echo "mutate: $line"
    results+=("$line")
done
# rebuild the restored tree, so that a kept scratch build (IFB_MUTATE_DIR) holds no mutated
# object whose source is older than it
cmake --build "$build" >"$work/build.log" 2>&1 || true
echo
echo "mutation         result       time  failing tests"
printf '%s\n' "${results[@]}"
echo "mutate: ${#sel[@]} mutation(s) in $(($(date +%s) - start)) s"
[ $bad = 0 ] || echo "mutate: FAILED: a mutation was not caught, not applied or did not build"
exit $bad
