#!/usr/bin/env bash
# tools/validate.sh --quick end to end: the CI subset of the validation suite runs, prints the
# table case | measured | predicted | ratio | within tolerance with one parseable row per quick
# case (numbers where the case ran, "pending" where it needs a missing feature), and the JSON
# results agree with the table. Cases may miss their tolerance (that is what the suite reports);
# the runner itself must not break: a case whose simulation fails makes it exit 1 with ERROR in
# the table, and a malformed spec makes it exit 2 naming the file.
set -u
bin=$1
src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }

"$src/tools/validate.sh" --quick --bin "$bin" -j 2 --json "$tmp/r.json" > "$tmp/out.txt" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "validate --quick exits 0" || { bad "validate --quick exit $rc"; cat "$tmp/out.txt"; }
python3 - "$tmp/out.txt" "$tmp/r.json" "$src/validation/cases" <<'PY' && ok "table parses, one row per quick case, agrees with JSON" || bad "table content"
import json, os, re, sys
out, res, cases = sys.argv[1:4]
lines = open(out).read().splitlines()
hdr = [i for i, l in enumerate(lines) if re.match(r"case\s*\|\s*measured\s*\|\s*predicted\s*\|\s*ratio\s*\|\s*within tolerance", l)]
assert len(hdr) == 1, "no header row"
quick = set()
for d in os.listdir(cases):
    p = os.path.join(cases, d, "spec.json")
    if os.path.isfile(p):
        s = json.load(open(p))
        if s.get("quick"):
            quick.add(s["id"])
assert len(quick) >= 6, quick
rows = {}
for l in lines[hdr[0] + 2:]:
    if l.startswith("#"):
        break
    cells = [c.strip() for c in l.split("|")]
    assert len(cells) >= 5, l
    rows[cells[0]] = cells
assert set(rows) == quick, (sorted(rows), sorted(quick))
num = r"-?[0-9][0-9,]*(\.[0-9]+)?"
ran = pend = 0
for cid, (c, meas, pred, ratio, verdict) in ((k, v[:5]) for k, v in rows.items()):
    assert re.match(num + r" \S", meas), meas
    if verdict.startswith("pending (needs "):
        assert pred == "-" and ratio == "-", cid
        pend += 1
        continue
    assert re.match(r"^(yes|no|range) \(±[0-9]+%\)$", verdict), verdict
    m = re.match("^(" + num + r")( \[(" + num + r")\.\.(" + num + r")\])?$", pred)
    assert m, pred
    p = float(m.group(1).replace(",", ""))
    mv = float(meas.split()[0].replace(",", ""))
    assert abs(float(ratio) - p / mv) < 0.01 * max(1, p / mv), (cid, ratio, p, mv)
    if m.group(3):  # the range brackets the nominal prediction
        lo, hi = (float(m.group(i).replace(",", "")) for i in (4, 6))
        assert lo <= p * 1.001 and p <= hi * 1.001, (cid, lo, p, hi)
    ran += 1
assert ran >= 5 and pend >= 1, (ran, pend)
j = {r["id"]: r for r in json.load(open(res))["results"]}
assert set(j) == quick
for cid, r in j.items():
    if r["verdict"] in ("yes", "no", "range"):
        tol = r["tolerance"]
        inside = abs(r["predicted"] / r["measured"] - 1) <= tol + 1e-12
        assert (r["verdict"] == "yes") == inside, (cid, r["verdict"], r["predicted"])
        assert r["verdict"] in rows[cid][4], cid
PY

# A case whose simulation fails: ERROR in the table and exit 1.
mkdir -p "$tmp/cases/broken"
cp -r "$src/validation/cases/fabric-nccl-ring-allreduce-ndr-per-nic/." "$tmp/cases/broken/"
sed -i 's/"id": "[^"]*"/"id": "broken"/' "$tmp/cases/broken/spec.json"
printf 'bogus_key: 1\n' >> "$tmp/cases/broken/scenario.yaml"
python3 "$src/validation/run.py" --cases-dir "$tmp/cases" --bin "$bin" > "$tmp/b.txt" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "^broken .*ERROR" "$tmp/b.txt"; then ok "a failing case is an ERROR, exit 1"
else bad "failing case: exit $rc"; cat "$tmp/b.txt"; fi

# A malformed spec: exit 2 naming the file.
printf '{"id": "x", "kind": "serving"}\n' > "$tmp/cases/broken/spec.json"
python3 "$src/validation/run.py" --cases-dir "$tmp/cases" --bin "$bin" > "$tmp/c.txt" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "broken/spec.json: missing key" "$tmp/c.txt"; then ok "a malformed spec exits 2 naming it"
else bad "malformed spec: exit $rc"; cat "$tmp/c.txt"; fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
