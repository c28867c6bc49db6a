#!/usr/bin/env bash
# report.html renders in a real browser: headless Chromium (Debian package `chromium`) loads the
# report that `infabric run` writes for a shrunken reference experiment (both fabrics, two
# concurrency levels, short requests) and
#   1. the DOM has every figure of the page, each with exactly one <svg> that has child
#      elements, drawn data (series paths, points or bars) and a non-zero laid-out size;
#   2. a screenshot of the page is not blank: inside each figure's box the rows of pixels vary
#      (a blank or failed SVG gives a few identical rows).
# The page itself has no scripts; the DOM check runs on a copy with one inline script appended
# that writes its measurements into the page, which --dump-dom then prints.
# Skipped (exit 77, which CTest shows as skipped) only when chromium is not installed.
set -eu
bin=$1
chromium=$(command -v chromium || true)
if [ -z "$chromium" ]; then echo "chromium not installed: skipped"; exit 77; fi
tmp=$(mktemp -d); [ -n "${IFB_KEEP_TMP:-}" ] || trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
mkdir -p "$out"
"$bin" run --set workload.input_len=uniform:32-96 --set workload.output_len=uniform:4-8 \
    --sweep workload.concurrency=4,8 -q -j 2 -o "$out" >/dev/null
page=$out/report.html
fail=0

# Self-contained: nothing the browser would fetch or run (plain <a href> links are only
# followed when clicked).
if grep -Eqi '<script|<link|<img|<iframe|<object|<embed| src=|url\(|@import|javascript:' "$page"; then
    echo "FAIL: report.html loads external resources or has scripts"; fail=1
fi
ids=$(grep -o '<figure id="[^"]*"' "$page" | sed 's/.*id="\(.*\)"/\1/')
nfig=$(echo "$ids" | grep -c . || true)
[ "$nfig" -ge 1 ] || { echo "FAIL: no figures in report.html"; exit 1; }

run_chromium() { # args...; a fresh profile each time so runs do not share state
    local prof; prof=$(mktemp -d "$tmp/profile.XXXXXX")
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-extensions --hide-scrollbars --force-device-scale-factor=1 \
        --user-data-dir="$prof" "$@" 2>>"$tmp/chromium.log" </dev/null
}

# 1. DOM check on an instrumented copy.
probe='<script>(function(){var o=[];var fs=document.querySelectorAll("figure");
fs.forEach(function(f){var ss=f.querySelectorAll("svg");var s=ss[0];
var r=s?s.getBoundingClientRect():{width:0,height:0,top:0};var b=s?s.getBBox():{width:0,height:0};
o.push(["FIG",f.id,"svgs="+ss.length,"children="+(s?s.childElementCount:0),
"data="+(s?s.querySelectorAll("path.series,circle.pt,rect.bar").length:0),
"w="+Math.round(r.width),"h="+Math.round(r.height),"top="+Math.round(r.top+window.scrollY),
"bbox="+Math.round(b.width)+"x"+Math.round(b.height)].join(" "));});
o.push("PAGE "+document.documentElement.scrollHeight);
var p=document.createElement("pre");p.id="ifb-check";p.textContent=o.join(String.fromCharCode(10));
document.body.appendChild(p);})();</script>'
awk -v probe="$probe" '/<\/body>/ { print probe } { print }' "$page" > "$out/check.html"
start=$(date +%s)
# One Chromium start does both checks (each start takes seconds): the DOM dump, and a
# screenshot of a viewport tall enough for the figures, which the probe's text at the very
# end does not disturb. If the figures reach further down, a second start takes a taller shot.
height=$((1500 + 600 * nfig)); [ "$height" -le 16000 ] || height=16000
run_chromium --window-size=1000,"$height" --screenshot="$tmp/shot.png" --dump-dom \
    "file://$out/check.html" > "$tmp/dom.html" || true
report=$(sed -n '/<pre id="ifb-check">/,/<\/pre>/{s/.*<pre id="ifb-check">//;s/<\/pre>.*//;p}' "$tmp/dom.html")
if [ -z "$report" ]; then
    echo "FAIL: chromium produced no DOM (see log below)"; tail -20 "$tmp/chromium.log"; exit 1
fi
# every figure of the page once, one svg each, drawn data, laid out at a real size
echo "$report" | awk -v ids="$(echo $ids)" '
    BEGIN { n = split(ids, want, " ") }
    $1 == "FIG" { seen[$2]++; for (i = 3; i <= NF; i++) { split($i, kv, "="); v[$2, kv[1]] = kv[2] } }
    END {
        for (i = 1; i <= n; i++) {
            id = want[i]
            if (seen[id] != 1) { print "FAIL: figure " id " found " seen[id] + 0 " times in the DOM"; bad = 1; continue }
            split(v[id, "bbox"], bb, "x")
            if (v[id, "svgs"] != 1 || v[id, "children"] + 0 < 5 || v[id, "data"] + 0 < 1 ||
                v[id, "w"] + 0 < 100 || v[id, "h"] + 0 < 100 || bb[1] + 0 < 100 || bb[2] + 0 < 100) {
                print "FAIL: figure " id " is empty or collapsed"; bad = 1
            }
        }
        exit bad
    }' || fail=1
[ "$(echo "$report" | grep -c '^FIG ')" -eq "$nfig" ] || { echo "FAIL: figure count differs"; fail=1; }
bottom=$(echo "$report" | awk '$1 == "FIG" { for (i = 3; i <= NF; i++) { split($i, kv, "=");
    v[kv[1]] = kv[2] } if (v["top"] + v["h"] > m) m = v["top"] + v["h"] } END { print m + 0 }')
if [ "$bottom" -gt "$height" ] && [ "$bottom" -lt 16000 ]; then
    rm -f "$tmp/shot.png"
    run_chromium --window-size=1000,$((bottom + 50)) --screenshot="$tmp/shot.png" \
        "file://$out/check.html" >/dev/null || true
fi
if [ ! -s "$tmp/shot.png" ]; then
    echo "FAIL: no screenshot (see log below)"; tail -20 "$tmp/chromium.log"; exit 1
fi
bands=$(echo "$report" | awk '$1 == "FIG" { for (i = 3; i <= NF; i++) { split($i, kv, "=");
    v[kv[1]] = kv[2] } print $2, v["top"], v["h"] }')
if command -v python3 >/dev/null; then
    # Rows of a PNG are stored filtered; identical pixel rows after identical rows filter to
    # identical bytes, so the number of distinct stored rows inside a figure's box counts rows
    # with something drawn in them, without decoding the filters.
    python3 - "$tmp/shot.png" "$bands" <<'EOF' || fail=1
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
stride = w * {0: 1, 2: 3, 4: 2, 6: 4}[ctype] + 1
raw = zlib.decompress(b''.join(idat))
rows = [raw[y * stride:(y + 1) * stride] for y in range(h)]
bad = 0
total = len(set(rows))
print(f'screenshot {w}x{h}, {total} distinct rows')
for band in sys.argv[2].splitlines():
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
else
    size=$(wc -c < "$tmp/shot.png")
    [ "$size" -gt $((20000 + 8000 * nfig)) ] || { echo "FAIL: screenshot only $size bytes"; fail=1; }
fi
end=$(date +%s)
if [ -n "${IFB_KEEP_SCREENSHOT:-}" ]; then cp "$tmp/shot.png" "$IFB_KEEP_SCREENSHOT"; fi
if [ $fail -ne 0 ]; then
    echo "$report"; tail -20 "$tmp/chromium.log"
    exit 1
fi
echo "$nfig figures rendered and non-empty in Chromium ($((end - start)) s)"
