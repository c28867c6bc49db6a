#!/usr/bin/env bash
# Embedded scenarios by name (issue 12, item 22): every scenarios/*.yaml is embedded and loads
# from any directory with or without the .yaml suffix; a wrong name is refused (exit 2) with the
# list of embedded scenarios; docs/scenario.md names every one of them (read from the tree, not
# from the program).
set -u
bin=$(realpath "$1"); src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
names=()
for f in "$src"/scenarios/*.yaml; do names+=("$(basename "$f")"); done
[ ${#names[@]} -ge 4 ] || bad "expected the shipped scenarios in $src/scenarios"
for n in "${names[@]}"; do
    out=$("$bin" check "$n" 2>&1) && grep -q "<embedded $n>: ok" <<<"$out" \
        && ok "check $n" || bad "check $n: $out"
    out=$("$bin" check "${n%.yaml}" 2>&1) && grep -q "<embedded $n>: ok" <<<"$out" \
        && ok "check ${n%.yaml} (no suffix)" || bad "check ${n%.yaml}: $out"
done
out=$("$bin" bench reference-ib -p pingpong -n 1 --sizes 64B 2>&1) \
    && grep -q "on reference-ib " <<<"$out" && ok "bench reference-ib" || bad "bench reference-ib: $out"
out=$("$bin" check reference-ibb 2>&1); rc=$?
missing=0
for n in "${names[@]}"; do grep -q "$n" <<<"$out" || missing=1; done
[ $rc -eq 2 ] && [ $missing -eq 0 ] && ok "a wrong name lists the embedded scenarios" \
    || bad "wrong name: exit $rc: $out"
line=$(awk 'tolower($0) ~ /^embedded scenarios/ {on = 1} on && /^$/ {exit} on' "$src/docs/scenario.md" | tr '\n' ' ')
for n in "${names[@]}"; do
    grep -q "\`$n\`" <<<"$line" && ok "docs/scenario.md names $n" || bad "docs/scenario.md misses $n"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
