#!/usr/bin/env bash
# The README's two commands in either order (issue 12, item 2): tools/run.sh must not leave
# build/ configured without tests, so tools/test.sh after it still builds and runs the whole
# suite; tools/test.sh before it must not be undone by it; and on a machine without cmocka
# run.sh still configures (tests off) while test.sh asks for them and gets them once cmocka is
# there. Each script runs for real on a copy of the source tree, stopped after configuring
# (IFB_CONFIGURE_ONLY=1). Counted against the test sources in the tree: the tests `ctest -N`
# lists and the test executables the build files would build (ctest alone can list stale tests
# of an earlier configuration).
set -u
src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
clone() { # a fresh copy of the tree, without any build directory
    mkdir -p "$1"
    for d in CMakeLists.txt cmake src tests tools scenarios data bench fuzz; do
        [ -e "$src/$d" ] && cp -r "$src/$d" "$1/"
    done
}
expected=$(( $(ls "$src"/tests/*/test_*.c | wc -l) + $(ls "$src"/tests/cli/*.sh | wc -l) ))
nexe=$(ls "$src"/tests/*/test_*.c | wc -l)
ntests() { # "TESTS EXECUTABLES" of the build dir $1/build
    local t x
    t=$(cd "$1/build" && ctest -N 2>/dev/null | sed -n 's/^Total Tests: //p')
    x=$(ninja -C "$1/build" -t targets all 2>/dev/null | grep -cE '^tests/[a-z]+_test_[a-z_]+: ')
    echo "${t:-0} $x"
}
step() { IFB_CONFIGURE_ONLY=1 "$1/tools/$2.sh" >"$1/$2.log" 2>&1; }

clone "$tmp/a"
step "$tmp/a" run && ok "run.sh configures a fresh clone" || { bad "run.sh: $(cat "$tmp/a/run.log")"; }
step "$tmp/a" test || bad "test.sh after run.sh: $(tail -5 "$tmp/a/test.log")"
n=$(ntests "$tmp/a")
[ "$n" = "$expected $nexe" ] && ok "run.sh then test.sh: $n (tests, test executables)" \
    || bad "run.sh then test.sh: $n (tests, test executables), expected $expected $nexe"

clone "$tmp/b"
step "$tmp/b" test || bad "test.sh: $(tail -5 "$tmp/b/test.log")"
step "$tmp/b" run || bad "run.sh after test.sh: $(tail -5 "$tmp/b/run.log")"
n=$(ntests "$tmp/b")
[ "$n" = "$expected $nexe" ] && ok "test.sh then run.sh: still $n (tests, test executables)" \
    || bad "test.sh then run.sh: $n (tests, test executables), expected $expected $nexe"
step "$tmp/b" test
n=$(ntests "$tmp/b")
[ "$n" = "$expected $nexe" ] && ok "test.sh again: $n (tests, test executables)" || bad "test.sh again: $n (tests, test executables)"

# A machine without cmocka: pkg-config sees only libyaml and jansson.
pcdir=$(pkg-config --variable pcfiledir yaml-0.1)
mkdir -p "$tmp/pc"
ln -s "$pcdir/yaml-0.1.pc" "$tmp/pc/"; ln -s "$(pkg-config --variable pcfiledir jansson)/jansson.pc" "$tmp/pc/"
clone "$tmp/c"
if PKG_CONFIG_LIBDIR=$tmp/pc step "$tmp/c" run; then
    n=$(ntests "$tmp/c")
    [ "$n" = "0 0" ] && ok "run.sh without cmocka configures, without tests" \
        || bad "run.sh without cmocka: ${n} tests"
else
    bad "run.sh without cmocka failed: $(tail -5 "$tmp/c/run.log")"
fi
if PKG_CONFIG_LIBDIR=$tmp/pc step "$tmp/c" test; then
    bad "test.sh without cmocka did not fail"
else
    grep -qi cmocka "$tmp/c/test.log" && ok "test.sh without cmocka fails naming cmocka" \
        || bad "test.sh without cmocka: $(tail -3 "$tmp/c/test.log")"
fi
step "$tmp/c" test # cmocka now installed
n=$(ntests "$tmp/c")
[ "$n" = "$expected $nexe" ] && ok "cmocka installed later: test.sh gets $n (tests, test executables)" \
    || bad "cmocka installed later: $n (tests, test executables), expected $expected $nexe"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
