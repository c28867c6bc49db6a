#!/usr/bin/env bash
# report.html renders in a real browser: headless Chromium (Debian package `chromium`) loads the
# reports `infabric run` writes for
#   A. a shrunken reference experiment (both fabrics, two concurrency levels, two seeds, short
#      requests), and
#   B. a categorical sweep (fabric.load_balancing=ecmp,spray on the Ethernet scenario),
# and checks (issue 15, item 1):
#   1. the page opens with the answer: the first section is #answer, with the verdict paragraph
#      and the side-by-side table #tab-answer whose cells carry intervals (A has two seeds);
#   2. every figure of item 1 is there (trade-off, TTFT/TPOT/ITL/E2E percentiles, CDFs of
#      TTFT, TPOT and E2E, step breakdown, bytes per class, link utilization heat map; KV times
#      say "no KV transfers in these runs"), each with exactly one <svg> with drawn data and a
#      real laid-out size;
#   3. distinct visible series: per figure, the series (data-s) have distinct styles, and each
#      series with drawn data is the topmost element somewhere along it (elementFromPoint at
#      its markers, its line and its bars), so no series hides under another - as the RoCE line
#      did under the InfiniBand one; the comparison figures show at least two;
#   4. the categorical sweep's x axis is labelled "ecmp", "spray", not 0..1;
#   5. a screenshot of page A is as large as asked and not blank inside each figure's box.
# The page itself has no scripts; the checks run on a copy with one inline script appended that
# writes its measurements into the page, which --dump-dom then prints.
# Skipped (exit 77, which CTest shows as skipped) only when chromium is not installed.
set -eu
bin=$1
chromium=$(command -v chromium || true)
if [ -z "$chromium" ]; then echo "chromium not installed: skipped"; exit 77; fi
command -v python3 >/dev/null || { echo "python3 not installed: skipped"; exit 77; }
tmp=$(mktemp -d); [ -n "${IFB_KEEP_TMP:-}" ] || trap 'rm -rf "$tmp"' EXIT
small=(--set workload.input_len=uniform:32-96 --set workload.output_len=uniform:4-8 -q -j 2)
"$bin" run "${small[@]}" --sweep workload.concurrency=4,8 --seeds 2 -o "$tmp/a" >/dev/null
"$bin" run reference-roce "${small[@]}" --set workload.concurrency=4 \
    --sweep fabric.load_balancing=ecmp,spray -o "$tmp/b" >/dev/null
fail=0

run_chromium() { # args...; a fresh profile each time so runs do not share state
    local prof; prof=$(mktemp -d "$tmp/profile.XXXXXX")
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-extensions --hide-scrollbars --force-device-scale-factor=1 \
        --user-data-dir="$prof" "$@" 2>>"$tmp/chromium.log" </dev/null
}

# The probe: per figure, its svg, its data elements grouped by data-s, whether each series is
# topmost somewhere along it (after scrolling the figure into view), its style signatures and
# the x axis tick labels; then the answer section.
probe='<script>(function(){var o=[];
function hit(el,s,k){var r=el.getBoundingClientRect();if(r.width<=0&&r.height<=0)return false;
var cx=r.left+r.width/2,cy=r.top+r.height/2,d=Math.max(0,Math.min(r.width,r.height)/2-0.7);
var p=[[cx,cy],[cx+d,cy],[cx-d,cy],[cx,cy+d],[cx,cy-d]];
if(el.tagName=="path"&&el.getTotalLength&&el.classList.contains("series")){var L=el.getTotalLength(),m=el.getScreenCTM();
for(var t=0;t<=40;t++){var q=el.getPointAtLength(L*t/40);p.push([q.x*m.a+m.e,q.y*m.d+m.f]);}}
for(var i=0;i<p.length;i++){var h=document.elementFromPoint(p[i][0],p[i][1]);
if(h&&s.contains(h)&&h.getAttribute("data-s")===k)return true;}return false;}
document.querySelectorAll("figure").forEach(function(f){f.scrollIntoView();
var ss=f.querySelectorAll("svg"),s=ss[0];var r=s?s.getBoundingClientRect():{width:0,height:0};
var b=s?s.getBBox():{width:0,height:0};var ser={},sty={};
if(s)s.querySelectorAll("[data-s]").forEach(function(e){var k=e.getAttribute("data-s");(ser[k]=ser[k]||[]).push(e);});
var n=0,ne=0,vis=0;for(var k in ser){n++;var big=ser[k].some(function(e){var q=e.getBoundingClientRect();return q.width*q.height>0||(e.tagName=="path"&&q.width+q.height>0);});
if(!big)continue;ne++;if(ser[k].some(function(e){return hit(e,s,k);}))vis++;
var m=s.querySelector("path.series[data-s=\""+k+"\"],rect.bar[data-s=\""+k+"\"],rect.cell[data-s=\""+k+"\"]");
if(m)sty[[m.tagName,m.getAttribute("fill"),m.getAttribute("stroke"),m.getAttribute("stroke-dasharray"),m.getAttribute("stroke-width")].join(",")]=1;}
var xt=[];if(s)s.querySelectorAll("g.axis.x text.tick").forEach(function(t){xt.push(t.textContent);});
o.push(["FIG",f.id,"svgs="+ss.length,"children="+(s?s.childElementCount:0),
"data="+(s?s.querySelectorAll("[data-s]").length:0),"series="+n,"nonempty="+ne,"visible="+vis,
"styles="+Object.keys(sty).length,"w="+Math.round(r.width),"h="+Math.round(r.height),
"top="+Math.round(r.top+window.scrollY),"bbox="+Math.round(b.width)+"x"+Math.round(b.height),
"xticks="+xt.join("|").replace(/ /g,"_")].join(" "));});
var h2=document.querySelector("h2"),t=document.getElementById("tab-answer");
var nx=h2?h2.nextElementSibling:null;
o.push(["ANSWER","first="+(h2?h2.id:""),"next="+(nx?nx.tagName:""),"verdict="+(nx?nx.textContent.length:0),
"table="+(t?t.querySelectorAll("tbody tr").length:0),"pm="+(t?(t.textContent.match(/\u00b1/g)||[]).length:0),
"ci="+(t?(t.textContent.match(/\[[0-9.]+, [0-9.]+\]/g)||[]).length:0)].join(" "));
o.push("PAGE "+document.documentElement.scrollHeight);
var pre=document.createElement("pre");pre.id="ifb-check";pre.textContent=o.join(String.fromCharCode(10));
document.body.appendChild(pre);})();</script>'

check_page() { # dir "figures with two or more series" expected-figures...; report in $dir/report.txt
    local dir=$1 multi=$2; shift 2
    local page=$dir/report.html
    # Self-contained: nothing the browser would fetch or run (plain <a href> links are only
    # followed when clicked).
    if grep -Eqi '<script|<link|<img|<iframe|<object|<embed| src=|url\(|@import|javascript:' "$page"; then
        echo "FAIL: $page loads external resources or has scripts"; fail=1
    fi
    # (inserted by python: awk -v would interpret the probe's backslashes)
    PROBE=$probe python3 -c 'import os, sys; d = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(d.replace("</body>", os.environ["PROBE"] + "\n</body>", 1))' \
        "$page" "$dir/check.html"
    run_chromium --window-size=1000,1200 --dump-dom "file://$dir/check.html" > "$dir/dom.html" || true
    sed -n '/<pre id="ifb-check">/,/<\/pre>/{s/.*<pre id="ifb-check">//;s/<\/pre>.*//;p}' \
        "$dir/dom.html" > "$dir/report.txt"
    if [ ! -s "$dir/report.txt" ]; then
        echo "FAIL: chromium produced no DOM for $page"; tail -20 "$tmp/chromium.log"; fail=1
        return
    fi
    python3 - "$dir/report.txt" "$multi" "$@" <<'PY' || fail=1
import sys
rep, multi, want = sys.argv[1], set(sys.argv[2].split()), sys.argv[3:]
figs, bad = {}, 0
for line in open(rep):
    w = line.split()
    if w and w[0] == "FIG":
        if w[1] in figs:
            print("FAIL: figure", w[1], "twice"); bad = 1
        figs[w[1]] = dict(x.split("=", 1) for x in w[2:])
for f in want:
    if f not in figs:
        print("FAIL: figure", f, "missing"); bad = 1; continue
    v = figs[f]
    bb = [int(t) for t in v["bbox"].split("x")]
    if (v["svgs"] != "1" or int(v["children"]) < 5 or int(v["data"]) < 1 or int(v["w"]) < 100
            or int(v["h"]) < 100 or min(bb) < 100):
        print("FAIL: figure", f, "is empty or collapsed:", v); bad = 1
    ne, vis, sty = int(v["nonempty"]), int(v["visible"]), int(v["styles"])
    if ne < (2 if f in multi else 1) or vis != ne or sty < ne:
        print("FAIL: figure", f, "series: %d with data, %d visible, %d distinct styles" % (ne, vis, sty)); bad = 1
    else:
        print("ok   %s: %d series with data, all visible, distinct styles" % (f, ne))
extra = set(figs) - set(want)
if extra:
    print("FAIL: unexpected figures", sorted(extra)); bad = 1
sys.exit(bad)
PY
}

figs_a="fig-tradeoff fig-tgr fig-ttft fig-tpot fig-itl fig-e2e fig-ratio fig-cdf-ttft fig-cdf-tpot
        fig-cdf-e2e fig-breakdown fig-bytes fig-util fig-heatmap"
start=$(date +%s)
# A compares two configurations: every figure but the bytes (one class is non-zero) and the heat
# map (one run) draws at least two series
# shellcheck disable=SC2086
check_page "$tmp/a" "fig-tradeoff fig-tgr fig-ttft fig-tpot fig-itl fig-e2e fig-ratio fig-cdf-ttft
    fig-cdf-tpot fig-cdf-e2e fig-breakdown fig-util" $figs_a
# 1. the answer first, with intervals
answer=$(grep '^ANSWER' "$tmp/a/report.txt" || true)
python3 - "$answer" <<'PY' || fail=1
import sys
v = dict(x.split("=", 1) for x in sys.argv[1].split()[1:])
assert v["first"] == "answer" and v["next"] == "P" and int(v["verdict"]) > 200, v
# 2 loads x (4 headline metrics + requests) rows; 2 configurations x 5 values with "±" each,
# and the headline ratios with their interval
assert int(v["table"]) == 10 and int(v["pm"]) >= 20 and int(v["ci"]) >= 8, v
print("ok   the page opens with the verdict and the side-by-side table with intervals")
PY
grep -q "fig-kv: not drawn: no KV transfers in these runs" "$tmp/a/report.html" \
    && echo "ok   KV-transfer times: no KV transfers in these runs" \
    || { echo "FAIL: no KV note"; fail=1; }
# 4. the categorical sweep: its values label the x axis
figs_b="fig-tradeoff fig-tgr fig-ttft fig-tpot fig-itl fig-e2e fig-ratio fig-cdf-ttft fig-cdf-tpot
        fig-cdf-e2e fig-breakdown fig-bytes fig-util fig-heatmap"
# B: one scenario, the two values on the x axis: the CDFs (one curve per value), the ratios
# (one per headline metric), the breakdown and the utilization have two or more series
# shellcheck disable=SC2086
check_page "$tmp/b" "fig-ratio fig-cdf-ttft fig-cdf-tpot fig-cdf-e2e fig-breakdown fig-util" $figs_b
for f in fig-tgr fig-ttft fig-tpot fig-itl fig-e2e; do
    t=$(awk -v f="$f" '$1 == "FIG" && $2 == f { for (i = 3; i <= NF; i++) if ($i ~ /^xticks=/) print substr($i, 8) }' "$tmp/b/report.txt")
    [ "$t" = "ecmp|spray" ] && echo "ok   $f: categorical axis ecmp, spray" \
        || { echo "FAIL: $f x ticks '$t', expected 'ecmp|spray'"; fail=1; }
done
t=$(awk '$1 == "FIG" && $2 == "fig-ratio" { for (i = 3; i <= NF; i++) if ($i ~ /^xticks=/) print substr($i, 8) }' "$tmp/b/report.txt")
[ "$t" = "spray" ] && echo "ok   fig-ratio: spray over the ecmp baseline" \
    || { echo "FAIL: fig-ratio x ticks '$t'"; fail=1; }

# 5. a screenshot of page A, tall enough for its figures, not blank inside any
bottom=$(awk '$1 == "FIG" { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (v["top"] + v["h"] > m) m = v["top"] + v["h"] } END { print m + 50 }' "$tmp/a/report.txt")
[ "$bottom" -le 16000 ] || bottom=16000
run_chromium --window-size=1000,"$bottom" --screenshot="$tmp/shot.png" "file://$tmp/a/report.html" \
    >/dev/null || true
if [ ! -s "$tmp/shot.png" ]; then
    echo "FAIL: no screenshot (see log below)"; tail -20 "$tmp/chromium.log"; exit 1
fi
bands=$(awk '$1 == "FIG" { for (i = 3; i <= NF; i++) { split($i, kv, "=");
    v[kv[1]] = kv[2] } print $2, v["top"], v["h"] }' "$tmp/a/report.txt")
# Rows of a PNG are stored filtered; identical pixel rows after identical rows filter to
# identical bytes, so the number of distinct stored rows inside a figure's box counts rows with
# something drawn in them, without decoding the filters.
python3 - "$tmp/shot.png" "$bottom" "$bands" <<'EOF' || fail=1
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat = 8, []
while pos < len(data):
    n, = struct.unpack('>I', data[pos:pos + 4])
    kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
    pos += 12 + n
    if kind == b'IHDR':
        w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
    elif kind == b'IDAT':
        idat.append(body)
assert depth == 8 and interlace == 0, 'unexpected PNG format'
bad = 0
if (w, h) != (1000, int(sys.argv[2])):
    print(f'FAIL: screenshot {w}x{h}, asked for 1000x{sys.argv[2]}'); bad = 1
stride = w * {0: 1, 2: 3, 4: 2, 6: 4}[ctype] + 1
raw = zlib.decompress(b''.join(idat))
rows = [raw[y * stride:(y + 1) * stride] for y in range(h)]
print(f'screenshot {w}x{h}, {len(set(rows))} distinct rows, {len(data)} bytes')
if len(data) < 20000 * len(sys.argv[3].splitlines()):
    print('FAIL: the screenshot is too small to hold the figures'); bad = 1
for band in sys.argv[3].splitlines():
    fid, top, hh = band.split()
    top, hh = int(top), int(hh)
    if top + hh > h:
        print(f'FAIL: figure {fid} (rows {top}..{top + hh}) is below the screenshot ({h} rows)')
        bad = 1
        continue
    distinct = len(set(rows[top:top + hh]))
    ok = distinct >= hh // 8
    print(f'{fid}: {distinct} distinct rows of {hh}' + ('' if ok else '  <- FAIL: blank'))
    bad |= not ok
sys.exit(bad)
EOF
end=$(date +%s)
if [ -n "${IFB_KEEP_SCREENSHOT:-}" ]; then cp "$tmp/shot.png" "$IFB_KEEP_SCREENSHOT"; fi
if [ $fail -ne 0 ]; then
    cat "$tmp/a/report.txt" "$tmp/b/report.txt"; tail -20 "$tmp/chromium.log"
    exit 1
fi
echo "reports A and B rendered in Chromium, every figure with visible distinct series ($((end - start)) s)"
