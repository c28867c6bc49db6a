#!/usr/bin/env python3
"""Runs the validation cases in validation/cases/*/spec.json against infabric and prints
case | measured | predicted | ratio | within tolerance.

A case is a scenario file plus a spec (JSON, so nothing beyond python3 is needed): the public
figure it is compared with, the output field compared, the tolerance, and which inputs are
datasheet facts, documented assumptions and genuinely unknown inputs with a plausible range.
Unknown inputs are swept: the case runs at the nominal value of every unknown and at the
corners of the unknown box (every combination of minimum and maximum, or one unknown at a
time when there are more than three), and the table shows the nominal prediction with the
range min..max over all those runs. Nothing here changes a parameter to fit a measurement;
the runner only sets the keys the spec lists as unknown, to the values the spec documents.

Verdicts: yes (nominal within tolerance), range (nominal outside, but the documented range
of the unknowns reaches the tolerance band), no (miss), pending (the case needs a feature
the simulator does not have yet; listed, not run), ERROR (the simulator failed or its output
lacked the field). Exit status: 0 when every runnable case produced a prediction (misses
included), 1 when a case errored, 2 for a bad spec or bad arguments.
"""
import argparse
import concurrent.futures as cf
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

KINDS = ("fabric", "kernel", "serving", "pd")
DEFAULT_TOL = {"fabric": 0.10, "kernel": 0.15, "serving": 0.20, "pd": 0.20}
REQUIRED = ("id", "kind", "title", "status", "source", "measured", "tolerance", "facts",
            "assumptions", "unknowns")


class SpecError(Exception):
    pass


def load_spec(path):
    try:
        with open(path) as f:
            spec = json.load(f)
    except (OSError, ValueError) as e:
        raise SpecError(f"{path}: cannot read JSON: {e}")
    for k in REQUIRED:
        if k not in spec:
            raise SpecError(f"{path}: missing key '{k}'")
    if spec["kind"] not in KINDS:
        raise SpecError(f"{path}: kind '{spec['kind']}' is not one of {', '.join(KINDS)}")
    for k in ("title", "link", "figure"):
        if not spec["source"].get(k):
            raise SpecError(f"{path}: source.{k} is required")
    m = spec["measured"]
    if not isinstance(m.get("value"), (int, float)) or not m.get("unit"):
        raise SpecError(f"{path}: measured needs a numeric 'value' and a 'unit'")
    tol = spec["tolerance"]
    if not isinstance(tol, (int, float)) or not 0 < tol < 1:
        raise SpecError(f"{path}: tolerance must be a fraction in (0, 1), found {tol!r}")
    spec["_dir"] = os.path.dirname(path)
    if spec["status"] == "runnable":
        for k in ("command", "scenario", "compare"):
            if k not in spec:
                raise SpecError(f"{path}: a runnable case needs '{k}'")
        if spec["command"] not in ("bench", "run"):
            raise SpecError(f"{path}: command must be bench or run")
        if not os.path.isfile(os.path.join(spec["_dir"], spec["scenario"])):
            raise SpecError(f"{path}: scenario file '{spec['scenario']}' not found")
        if "field" not in spec["compare"]:
            raise SpecError(f"{path}: compare.field is required")
        for u in spec["unknowns"]:
            for k in ("name", "keys", "nominal", "min", "max", "why"):
                if k not in u:
                    raise SpecError(f"{path}: unknown '{u.get('name', '?')}' lacks '{k}'")
    elif not spec["status"].startswith("needs "):
        raise SpecError(f"{path}: status must be 'runnable' or 'needs <feature>'")
    return spec


def load_cases(cases_dir):
    specs = []
    if not os.path.isdir(cases_dir):
        raise SpecError(f"{cases_dir}: no such directory")
    for name in sorted(os.listdir(cases_dir)):
        p = os.path.join(cases_dir, name, "spec.json")
        if os.path.isfile(p):
            specs.append(load_spec(p))
    ids = [s["id"] for s in specs]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise SpecError(f"duplicate case ids: {', '.join(sorted(dup))}")
    return specs


def settings(spec):
    """The unknown-input settings to run: (label, {key: value}) pairs, nominal first."""
    unk = [u for u in spec["unknowns"] if u.get("sweep", True)]
    nominal = {}
    for u in spec["unknowns"]:
        for k in u["keys"]:
            nominal[k] = u["nominal"]
    out = [("nominal", dict(nominal))]
    if not unk:
        return out
    if len(unk) <= 3:
        for combo in itertools.product(("min", "max"), repeat=len(unk)):
            s = dict(nominal)
            for u, side in zip(unk, combo):
                for k in u["keys"]:
                    s[k] = u[side]
            out.append(("/".join(combo), s))
    else:
        for u in unk:
            for side in ("min", "max"):
                s = dict(nominal)
                for k in u["keys"]:
                    s[k] = u[side]
                out.append((f"{u['name']}={side}", s))
    return out


def dig(obj, path):
    for part in path.split("."):
        if isinstance(obj, list):
            obj = obj[int(part)]
        else:
            obj = obj[part]
    return obj


def evaluate(spec, raw):
    expr = spec["compare"].get("expr", "x")
    try:
        return float(eval(expr, {"__builtins__": {}}, {"x": float(raw)}))
    except Exception as e:  # a spec error, reported as the case's error
        raise RuntimeError(f"compare.expr '{expr}': {e}")


def run_once(binary, spec, sets, workdir):
    scen = os.path.join(spec["_dir"], spec["scenario"])
    args = [binary, spec["command"], scen] + [str(a) for a in spec.get("args", [])]
    for k, v in sets.items():
        args += ["--set", f"{k}={v}"]
    out_dir = None
    if spec["command"] == "bench":
        args.append("--json")
    else:
        out_dir = tempfile.mkdtemp(dir=workdir)
        args += ["-o", out_dir, "-q", "-j", "1"]
    t0 = time.monotonic()
    with tempfile.TemporaryFile(mode="w+", dir=workdir) as so, \
            tempfile.TemporaryFile(mode="w+", dir=workdir) as se:
        p = subprocess.Popen(args, stdout=so, stderr=se, text=True)
        # wait4 gives this child's own CPU time (the machine may be shared: wall time is noisy)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        so.seek(0)
        se.seek(0)
        stdout, stderr = so.read(), se.read()
    wall = time.monotonic() - t0
    cpu = ru.ru_utime + ru.ru_stime
    if p.returncode != 0:
        msg = (stderr or stdout).strip().splitlines()
        raise RuntimeError(f"exit {p.returncode}: {msg[-1] if msg else ''}")
    if spec["command"] == "bench":
        data = json.loads(stdout)  # bench --json prints its summary.json
        entry = dict(data["runs"][spec["compare"].get("index", 0)])
        if entry.get("status") != "complete":
            raise RuntimeError(f"bench size did not complete: {entry.get('status')}")
        # the specs compare in the units nccl-tests and perftest print
        for k in ("algbw", "busbw"):
            if entry.get(k + "_Bps") is not None:
                entry[k + "_GBps"] = entry[k + "_Bps"] / 1e9
        if entry.get("time_ps") is not None:
            entry["time_us"] = entry["time_ps"] / 1e6
    else:
        with open(os.path.join(out_dir, "summary.json")) as f:
            entry = json.load(f)
        shutil.rmtree(out_dir, ignore_errors=True)
        if entry.get("partial") or entry["runs"][0].get("stop") != "done":
            raise RuntimeError("run did not complete (partial summary)")
    raw = dig(entry, spec["compare"]["field"])
    if raw is None:
        raise RuntimeError(f"{spec['compare']['field']} is null in the output")
    return evaluate(spec, raw), wall, cpu


def run_case(binary, spec, workdir):
    res = {"id": spec["id"], "kind": spec["kind"], "status": spec["status"],
           "measured": spec["measured"]["value"], "unit": spec["measured"]["unit"],
           "tolerance": spec["tolerance"], "runs": []}
    if spec["status"] != "runnable":
        res["verdict"] = "pending"
        return res
    try:
        for label, sets in settings(spec):
            v, wall, cpu = run_once(binary, spec, sets, workdir)
            res["runs"].append({"setting": label, "set": sets, "predicted": v, "wall_s": wall,
                                "cpu_s": cpu})
    except Exception as e:
        res["verdict"] = "ERROR"
        res["error"] = str(e)
        return res
    m = spec["measured"]["value"]
    vals = [r["predicted"] for r in res["runs"]]
    res["predicted"] = vals[0]
    res["min"], res["max"] = min(vals), max(vals)
    res["ratio"] = vals[0] / m
    tol = spec["tolerance"]
    lo, hi = m * (1 - tol), m * (1 + tol)
    if lo <= vals[0] <= hi:
        res["verdict"] = "yes"
    elif res["max"] >= lo and res["min"] <= hi:
        res["verdict"] = "range"
    else:
        res["verdict"] = "no"
    res["wall_s"] = sum(r["wall_s"] for r in res["runs"])
    res["cpu_s"] = sum(r["cpu_s"] for r in res["runs"])
    return res


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 10:
        return f"{v:.2f}"
    return f"{v:.3f}"


def table(specs, results):
    rows = [("case", "measured", "predicted", "ratio", "within tolerance")]
    for s, r in zip(specs, results):
        unit = s["measured"]["unit"]
        meas = f"{fmt(s['measured']['value'])} {unit}"
        if r["verdict"] == "pending":
            pred, ratio, ok = "-", "-", f"pending ({s['status']})"
        elif r["verdict"] == "ERROR":
            pred, ratio, ok = "-", "-", f"ERROR: {r['error']}"
        else:
            pred = fmt(r["predicted"])
            if len(r["runs"]) > 1:
                pred += f" [{fmt(r['min'])}..{fmt(r['max'])}]"
            ratio = f"{r['ratio']:.3f}"
            ok = f"{r['verdict']} (±{s['tolerance'] * 100:.0f}%)"
        rows.append((s["id"], meas, pred, ratio, ok))
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for i, r in enumerate(rows):
        lines.append(" | ".join(r[j].ljust(w[j]) for j in range(4)) + " | " + r[4])
        if i == 0:
            lines.append("-|-".join("-" * w[j] for j in range(4)) + "-|-" + "-" * 16)
    return "\n".join(lines)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.environ.get("INFABRIC"),
                    help="infabric binary (default: $INFABRIC, then build/infabric)")
    ap.add_argument("--cases-dir", default=os.path.join(here, "cases"))
    ap.add_argument("--quick", action="store_true", help="only cases marked quick (CI subset)")
    ap.add_argument("--case", action="append", default=[], help="run only this case id")
    ap.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    a = ap.parse_args()
    try:
        specs = load_cases(a.cases_dir)
    except SpecError as e:
        print(f"validate: {e}", file=sys.stderr)
        return 2
    if a.quick:
        specs = [s for s in specs if s.get("quick")]
    if a.case:
        known = {s["id"] for s in specs}
        for c in a.case:
            if c not in known:
                print(f"validate: no case '{c}'", file=sys.stderr)
                return 2
        specs = [s for s in specs if s["id"] in a.case]
    if a.list:
        for s in specs:
            print(f"{s['id']:48s} {s['kind']:8s} {'quick' if s.get('quick') else '     '} "
                  f"{s['status']}")
        return 0
    binary = a.bin or os.path.join(os.path.dirname(here), "build", "infabric")
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"validate: infabric binary '{binary}' not found (build it or pass --bin)",
              file=sys.stderr)
        return 2
    t0 = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="ifb-validate-")
    try:
        with cf.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            # longest first so a slow case does not start last
            order = sorted(range(len(specs)), key=lambda i: -specs[i].get("cost_s", 1))
            futs = {i: ex.submit(run_case, binary, specs[i], workdir) for i in order}
            results = [futs[i].result() for i in range(len(specs))]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    wall = time.monotonic() - t0
    print(f"# infabric validation: {len(specs)} case(s){' (quick subset)' if a.quick else ''}")
    print(table(specs, results))
    cpu = sum(r.get("cpu_s", 0) for r in results)
    counts = {}
    for r in results:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    runnable = sum(1 for r in results if r["verdict"] != "pending")
    print(f"# {runnable} run: {counts.get('yes', 0)} within tolerance, "
          f"{counts.get('range', 0)} within the range of their unknowns, "
          f"{counts.get('no', 0)} outside; {counts.get('pending', 0)} pending; "
          f"{counts.get('ERROR', 0)} errors; {wall:.1f} s wall, {cpu:.1f} s CPU in infabric")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"quick": a.quick, "wall_s": wall, "cpu_s": cpu, "results": results}, f,
                      indent=1)
    return 1 if counts.get("ERROR") else 0


if __name__ == "__main__":
    sys.exit(main())
