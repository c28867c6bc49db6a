#!/usr/bin/env bash
# Memory stays flat over long runs: a closed-loop serving run of 16x as many requests peaks at
# about the same resident memory as a short one (no growth per finished request or message).
set -u
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 - "$bin" "$tmp" <<'PY'
import resource, subprocess, sys
bin, tmp = sys.argv[1], sys.argv[2]
def peak(requests, out):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([bin, "run", "reference-roce.yaml", "-q", "-j", "1", "-o", out,
                    "--set", "workload.input_len=uniform:32-96",
                    "--set", "workload.output_len=uniform:8-16",
                    "--set", "workload.concurrency=16",
                    "--set", "workload.requests=%d" % requests],
                   check=True, stdout=subprocess.DEVNULL)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before
short, _ = peak(32, tmp + "/short")
long_, _ = peak(512, tmp + "/long")
# ru_maxrss of children is the largest child so far: run the long one second, so a larger
# figure can only come from it
print("peak RSS: %d KiB for 32 requests, %d KiB for 512" % (short, long_))
assert long_ <= short * 1.15 + 4096, "memory grew with run length"
print("1 passed, 0 failed")
PY
