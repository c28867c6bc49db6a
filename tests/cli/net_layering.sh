#!/usr/bin/env bash
# The layout of src/net (issue 16, item 6; src/net/README.md): every file belongs to the
# component its folder names (files at the top of src/net: "api"), and the components are
# ordered, lowest first:
#
#   api     net.h (the message API), ideal.{c,h}
#   wire    packet record, wire formats, pcap
#   base    configuration, counters, the shared fabric context
#   link    links, ports, queues and scheduling, InfiniBand credits and VL arbitration
#   switch  forwarding, path selection, shared buffer and PFC, INT transit
#   nic     RoCEv2 RC transport, out-of-order placement, DCQCN, goodput, PFC storms
#   fabric  assembly, the message API over the fabric, outputs, invariants
#   fail    link and switch failures, the controller on top
#
# A file may include files of its own component and of lower ones only, and an object file of
# the library may call functions of its own component and of lower ones only (a lower component
# reaches a higher one through a callback it was given: a function pointer, never a symbol; the
# symbols come from `nm` on the objects of this build, next to the infabric binary); the
# includes among the files of src/net form no cycle; no file there is over 800 lines; the
# internal headers (ctx.h, link.h, switch.h, lb_state.h, nic.h, fabric_int.h) are not included
# from the rest of src/ except by scenario/memory.c (which sizes their records). The checker
# first runs on small trees that break each rule, to show it catches every break, then on the
# real one.
set -u
bin=$1 root=$2
command -v nm >/dev/null || { echo "SKIP nm (binutils) not found"; exit 77; }
python3 - "$root" "$(dirname "$bin")/CMakeFiles/ifb.dir/src" <<'PY'
import os, re, subprocess, sys, tempfile

ORDER = ["api", "wire", "base", "link", "switch", "nic", "fabric", "fail"]
INTERNAL = {"base/ctx.h", "link/link.h", "switch/switch.h", "switch/lb_state.h", "nic/nic.h",
            "fabric/fabric_int.h"}
MAX_LINES = 800
INC = re.compile(r'^\s*#\s*include\s+"net/([^"]+)"', re.M)


def component(rel):
    return rel.split("/")[0] if "/" in rel else "api"


def check(src):
    """Problems with the tree under src (a src/ folder), as a list of messages."""
    net = os.path.join(src, "net")
    files = {}
    for d, _, names in os.walk(net):
        for n in names:
            if n.endswith((".c", ".h")):
                p = os.path.join(d, n)
                files[os.path.relpath(p, net)] = open(p, encoding="utf-8").read()
    bad = []
    graph = {}
    for rel, text in sorted(files.items()):
        comp = component(rel)
        if comp not in ORDER:
            bad.append("%s: folder '%s' is not in the component order" % (rel, comp))
            continue
        lines = text.count("\n")
        if lines > MAX_LINES:
            bad.append("%s: %d lines (at most %d)" % (rel, lines, MAX_LINES))
        graph[rel] = []
        for tgt in INC.findall(text):
            if tgt not in files:
                bad.append('%s: includes "net/%s", which does not exist' % (rel, tgt))
                continue
            graph[rel].append(tgt)
            tc = component(tgt)
            if tc in ORDER and ORDER.index(tc) > ORDER.index(comp):
                bad.append('%s (%s) includes "net/%s" of the higher component %s' %
                           (rel, comp, tgt, tc))
    # cycles: depth-first search, reporting each cycle once by its path
    state, stack = {}, []

    def visit(v):
        state[v] = 1
        stack.append(v)
        for w in graph.get(v, []):
            if state.get(w) == 1:
                cyc = stack[stack.index(w):] + [w]
                bad.append("include cycle: " + " -> ".join(cyc))
            elif w not in state:
                visit(w)
        stack.pop()
        state[v] = 2

    for v in sorted(graph):
        if v not in state:
            visit(v)
    # internal headers from outside src/net
    for d, _, names in os.walk(src):
        if os.path.commonpath([d, net]) == net:
            continue
        for n in names:
            if not n.endswith((".c", ".h")):
                continue
            p = os.path.join(d, n)
            rel = os.path.relpath(p, src)
            if rel == os.path.join("scenario", "memory.c"):
                continue
            for tgt in INC.findall(open(p, encoding="utf-8").read()):
                if tgt in INTERNAL:
                    bad.append('%s includes the internal header "net/%s"' % (rel, tgt))
    return bad


def check_symbols(objs, src=None):
    """Calls from a component to a higher one, from the objects under objs (mirroring src/);
    with src, objects whose source is gone (left in the build folder by a move) are skipped."""
    net = os.path.join(objs, "net")
    defs, undef = {}, {}
    for d, _, names in os.walk(net):
        for n in names:
            if not n.endswith(".o"):
                continue
            p = os.path.join(d, n)
            rel = os.path.relpath(p, net)[: -len(".o")]
            if src and not os.path.exists(os.path.join(src, "net", rel)):
                continue
            out = subprocess.run(["nm", p], capture_output=True, text=True, check=True).stdout
            undef[rel] = []
            for line in out.splitlines():
                f = line.split()
                if len(f) == 2 and f[0] == "U":
                    undef[rel].append(f[1])
                elif len(f) == 3 and f[1] in "TDBRC":
                    defs[f[2]] = rel
    bad = []
    for rel, syms in sorted(undef.items()):
        comp = component(rel)
        for sym in syms:
            if sym in defs and component(defs[sym]) in ORDER and comp in ORDER and \
                    ORDER.index(component(defs[sym])) > ORDER.index(comp):
                bad.append("%s (%s) calls %s of the higher component %s (%s)" %
                           (rel, comp, sym, component(defs[sym]), defs[sym]))
    return bad, len(undef)


def objects(files):
    """Compiles the .c files of a scratch src/ into a scratch object tree; returns its root."""
    src, out = tree(files), tempfile.mkdtemp()
    for rel in files:
        if rel.endswith(".c"):
            o = os.path.join(out, rel + ".o")
            os.makedirs(os.path.dirname(o), exist_ok=True)
            subprocess.run(["cc", "-c", "-I", src, os.path.join(src, rel), "-o", o], check=True)
    return out


def tree(files):
    """A scratch src/ holding the given {path: text} files."""
    d = tempfile.mkdtemp()
    for rel, text in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, "w").write(text)
    return d


inc = lambda *t: "".join('#include "net/%s"\n' % x for x in t)
good = {"net/net.h": "", "net/wire/pkt.h": "", "net/link/link.h": inc("wire/pkt.h"),
        "net/switch/switch.h": inc("link/link.h"), "net/switch/switch.c": inc("switch/switch.h")}
cases = [
    ("a well-layered tree passes", good, None),
    ("a cycle inside a component", dict(good, **{"net/switch/a.h": inc("switch/b.h"),
                                                 "net/switch/b.h": inc("switch/a.h")}),
     "include cycle"),
    ("a lower component including a higher one",
     dict(good, **{"net/link/link.h": inc("wire/pkt.h", "switch/switch.h")}),
     "of the higher component switch"),
    ("a file over 800 lines", dict(good, **{"net/wire/big.c": "\n" * 801}), "801 lines"),
    ("a folder missing from the order", dict(good, **{"net/extra/x.c": ""}), "not in the component"),
    ("an include of a file that is not there", dict(good, **{"net/wire/x.c": inc("wire/no.h")}),
     "does not exist"),
    ("an internal header included from outside src/net",
     dict(good, **{"workload/w.c": inc("link/link.h")}), "internal header"),
]
scases = [
    ("a call down passes", {"net/wire/w.c": "void w(void);\nvoid w(void) {}\n",
                            "net/link/l.c": "void w(void);\nvoid l(void);\nvoid l(void) { w(); }\n"},
     None),
    ("a call up to a higher component",
     {"net/switch/s.c": "void s(void);\nvoid s(void) {}\n",
      "net/link/l.c": "void s(void);\nvoid l(void);\nvoid l(void) { s(); }\n"},
     "calls s of the higher component switch"),
]
fail = 0
for name, files, want in scases:
    got, _ = check_symbols(objects(files))
    if (want is None and not got) or (want and any(want in g for g in got)):
        print("ok   checker: %s" % name)
    else:
        print("FAIL checker: %s: %s" % (name, got or "no problem found"))
        fail = 1
for name, files, want in cases:
    got = check(tree(files))
    if (want is None and not got) or (want and any(want in g for g in got)):
        print("ok   checker: %s" % name)
    else:
        print("FAIL checker: %s: %s" % (name, got or "no problem found"))
        fail = 1
real = check(os.path.join(sys.argv[1], "src"))
if not os.path.isdir(os.path.join(sys.argv[2], "net")):
    real.append("no object files of src/net under %s (the build's layout changed?)" % sys.argv[2])
else:
    sym, nobj = check_symbols(sys.argv[2], os.path.join(sys.argv[1], "src"))
    real += sym
    if nobj < 10:
        real.append("only %d object files of src/net under %s" % (nobj, sys.argv[2]))
for b in real:
    print("FAIL " + b)
if real:
    fail = 1
else:
    print("ok   src/net: components in order %s (includes and calls), no include cycle, every "
          "file within %d lines, internal headers kept inside" % (" < ".join(ORDER), MAX_LINES))
sys.exit(fail)
PY
