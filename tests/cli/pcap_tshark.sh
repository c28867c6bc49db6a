#!/usr/bin/env bash
# A bench run captures a NIC port to pcap; tshark decodes the RoCEv2 packets' BTH opcode,
# destination QP and PSN, and they are what the run sent: 10 WRITE_ONLY from the first QP
# (PSN 0..9) to its peer and the ACKs coming back.
set -eu
bin=$1
if ! command -v tshark >/dev/null; then echo "tshark not installed: skipped"; exit 77; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$bin" bench --pattern pingpong --sizes 64B --iters 5 --src 0 --dst 8 \
    --set output.pcap.file="$tmp/cap.pcap" --set 'output.pcap.ports=[s0n0]' >/dev/null
tshark -r "$tmp/cap.pcap" -o eth.fcs:Always -o eth.check_fcs:TRUE --disable-protocol rpcordma \
    -T fields -e infiniband.bth.opcode -e infiniband.bth.destqp -e infiniband.bth.psn \
    -e eth.fcs.status -e _ws.malformed > "$tmp/out.txt"
# s0n0 sends: 5 WRITE_ONLY (opcode 10) on QP pair 0x100 -> peer 0x100 (PSN 0..4) and ACKs (17)
writes=$(awk '$1 == 10' "$tmp/out.txt" | wc -l)
acks=$(awk '$1 == 17' "$tmp/out.txt" | wc -l)
psns=$(awk '$1 == 10 {print $3}' "$tmp/out.txt" | tr '\n' ' ')
qps=$(awk '$1 == 10 {print $2}' "$tmp/out.txt" | sort -u | tr '\n' ' ')
bad=$(awk '$4 != 1 || $5 != ""' "$tmp/out.txt" | wc -l)
fail=0
[ "$writes" -eq 5 ] || { echo "FAIL: $writes WRITE_ONLY packets, expected 5"; fail=1; }
[ "$acks" -eq 5 ] || { echo "FAIL: $acks ACKs, expected 5"; fail=1; }
[ "$psns" = "0 1 2 3 4 " ] || { echo "FAIL: PSNs '$psns', expected 0..4"; fail=1; }
[ "$qps" = "0x000100 " ] || { echo "FAIL: destination QPs '$qps', expected 0x000100"; fail=1; }
[ "$bad" -eq 0 ] || { echo "FAIL: $bad packets with a bad FCS or malformed"; cat "$tmp/out.txt"; fail=1; }
# INT-MD with the sink at the NIC: the switch's port toward s1n0 (sw0:4) sends the data frames
# with the shim, the metadata header and one hop record (16 + 28 bytes more than the 142-byte
# plain WRITE_ONLY), to the INT UDP port 0xD171, with a good FCS; ACKs carry none.
"$bin" bench --pattern pingpong --sizes 64B --iters 5 --src 0 --dst 8 \
    --set fabric.int.enable=true --set fabric.int.sink=nic \
    --set output.pcap.file="$tmp/int.pcap" --set 'output.pcap.ports=[sw0:4]' >/dev/null
tshark -r "$tmp/int.pcap" -o eth.fcs:Always -o eth.check_fcs:TRUE --disable-protocol rpcordma \
    -T fields -e frame.len -e udp.dstport -e udp.length -e eth.fcs.status -e _ws.malformed \
    > "$tmp/int.txt"
ints=$(awk '$2 == 53617 && $1 == 186 && $3 == 148' "$tmp/int.txt" | wc -l)
plain=$(awk '$2 == 4791 && $1 == 66' "$tmp/int.txt" | wc -l)
bad=$(awk '$4 != 1 || $5 != ""' "$tmp/int.txt" | wc -l)
[ "$ints" -eq 5 ] || { echo "FAIL: $ints INT data frames of 186 B to port 53617, expected 5"; cat "$tmp/int.txt"; fail=1; }
[ "$plain" -eq 5 ] || { echo "FAIL: $plain plain ACKs, expected 5"; fail=1; }
[ "$bad" -eq 0 ] || { echo "FAIL: $bad INT frames with a bad FCS or malformed"; fail=1; }
# INT probes on a leaf-spine: a spine's downlink carries the ToRs' probes, each a 78-byte frame
# (Ethernet, IPv4, UDP to 0xD171, shim, metadata header, BTH, ICRC, FCS) plus two 28-byte hop
# records (source ToR, spine), with a good FCS.
"$bin" bench "$(dirname "$0")/../../scenarios/bench-leafspine.yaml" --pattern bw --sizes 1MiB \
    --iters 4 --src 0 --dst 8 --set fabric.int.enable=true --set fabric.int.probe_interval=2us \
    --set output.pcap.file="$tmp/probe.pcap" --set 'output.pcap.ports=[spine0:1]' >/dev/null
tshark -r "$tmp/probe.pcap" -o eth.fcs:Always -o eth.check_fcs:TRUE --disable-protocol rpcordma \
    -T fields -e frame.len -e udp.dstport -e eth.fcs.status -e _ws.malformed > "$tmp/probe.txt"
probes=$(awk '$1 == 134 && $2 == 53617' "$tmp/probe.txt" | wc -l)
bad=$(awk '$3 != 1 || $4 != ""' "$tmp/probe.txt" | wc -l)
[ "$probes" -gt 0 ] || { echo "FAIL: no 134-byte probe frames to port 53617 on spine0:1"; head "$tmp/probe.txt"; fail=1; }
[ "$bad" -eq 0 ] || { echo "FAIL: $bad probe-capture frames with a bad FCS or malformed"; fail=1; }
[ $fail -eq 0 ] && echo "10 passed, 0 failed"
exit $fail
