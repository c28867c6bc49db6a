#!/usr/bin/env bash
# InfiniBand captures (link type DLT_USER0, docs/outputs.md): with the user-DLT option the docs
# give, tshark decodes every frame from the LRH: a 64-byte RDMA WRITE_ONLY is LRH 8 + BTH 12 +
# RETH 16 + 64 + ICRC 4 + VCRC 2 = 106 bytes on data VL 3 (the coll class's SL 3 -> VL 3), an ACK
# LRH 8 + BTH 12 + AETH 4 + ICRC 4 + VCRC 2 = 30 bytes on VL 0 (ctrl_queue's InfiniBand default),
# PSNs 0..4 in order, all from the port's LID to its peer's (the capture is the port's egress). Without the option tshark shows no InfiniBand field.
set -u
bin=$1
if ! command -v tshark >/dev/null; then echo "SKIP: tshark not installed"; exit 77; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$bin" bench --pattern pingpong --sizes 64B --iters 5 --src 0 --dst 8 --set fabric.kind=infiniband \
    --set output.pcap.file="$tmp/ib.pcap" --set 'output.pcap.ports=[s0n0]' >/dev/null \
    || { echo "FAIL: bench"; exit 1; }
fields=(-T fields -e frame.len -e infiniband.lrh.vl -e infiniband.lrh.slid -e infiniband.lrh.dlid
        -e infiniband.bth.opcode -e infiniband.bth.psn -e _ws.malformed)
tshark -o 'uat:user_dlts:"User 0 (DLT=147)","infiniband","0","","0",""' -r "$tmp/ib.pcap" \
    --disable-protocol rpcordma "${fields[@]}" >"$tmp/on.txt" 2>/dev/null
tshark -r "$tmp/ib.pcap" "${fields[@]}" >"$tmp/off.txt" 2>/dev/null
fail=0
python3 - "$tmp/on.txt" "$tmp/off.txt" <<'PY' || fail=1
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
off = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip()]
errs = []
writes = [r for r in rows if r[4] == "10"]
acks = [r for r in rows if r[4] == "17"]
if len(rows) != 10 or len(writes) != 5 or len(acks) != 5:
    errs.append("expected 5 WRITE_ONLY and 5 ACK frames, found %d rows: %s" % (len(rows), rows))
for r in writes:
    if r[0] != "106" or int(r[1], 16) != 3: errs.append("WRITE frame %s: expected 106 B on VL 3" % r)
for r in acks:
    if r[0] != "30" or int(r[1], 16) != 0: errs.append("ACK frame %s: expected 30 B on VL 0" % r)
if [int(r[5]) for r in writes] != list(range(5)): errs.append("WRITE PSNs %s" % [r[5] for r in writes])
# the capture is the port's egress: its pings and its ACKs of the pongs, all toward the peer
ends = {(r[2], r[3]) for r in rows}
if len(ends) != 1 or list(ends)[0][0] == list(ends)[0][1]:
    errs.append("LIDs (source, destination): %s, expected one pair of distinct LIDs" % ends)
if any(r[6] for r in rows): errs.append("malformed frames")
if any(len(r) > 1 and any(r[1:6]) for r in off): errs.append("decoded without the option: %s" % off[:2])
for e in errs: print("FAIL:", e)
sys.exit(1 if errs else 0)
PY
[ $fail -eq 0 ] && echo "1 passed, 0 failed"
exit $fail
