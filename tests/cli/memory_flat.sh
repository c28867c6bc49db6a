#!/usr/bin/env bash
# Memory stays flat over long runs: a closed-loop serving run of 16x as many requests peaks at
# the short run's resident memory plus no more than the per-request state the engine must keep
# (no growth per message, per packet or per event).
# The peak is measured by tests/cli/peak_rss.c (IFB_PEAK_RSS, set by tests/CMakeLists.txt): the
# peak of a process started from Python includes the interpreter's own pages (~14 MB, more
# than infabric's ~9 MB), which is all an earlier version of this test ever saw.
set -u
bin=$1
[ -x "${IFB_PEAK_RSS:-}" ] || { echo "FAIL: IFB_PEAK_RSS (the peak_rss launcher) not set"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 - "$bin" "$tmp" "$IFB_PEAK_RSS" <<'PY'
import csv, subprocess, sys
bin, tmp, launcher = sys.argv[1:4]
def peak(requests, out):
    p = subprocess.run([launcher, bin, "run", "reference-roce.yaml", "-q", "-j", "1", "-o", out,
                        "--set", "workload.input_len=uniform:32-96",
                        "--set", "workload.output_len=uniform:8-16",
                        "--set", "workload.concurrency=16",
                        "--set", "workload.requests=%d" % requests],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    kib = int(p.stderr.strip().splitlines()[-1].split()[-1])
    reqs = list(csv.DictReader(open(out + "/runs/000-requests.csv")))
    steps = sum(1 for _ in csv.DictReader(open(out + "/runs/000-steps.csv")))
    tokens = sum(int(r["generated"]) for r in reqs)
    return kib, len(reqs), tokens, steps
short, r0, k0, s0 = peak(32, tmp + "/short")
long_, r1, k1, s1 = peak(512, tmp + "/long")
# What a run must keep per request, token and step (src/workload/serving.c, core/stats.c):
#   request: its ifb_serving_req (136 B) and its TTFT, TPOT and E2E samples with the sorted
#            copy the percentiles take (3 x 2 x 8 B)
#   token:   the inter-token gap record (request index 4 B + gap 8 B) and its ITL sample with
#            the sorted copy (2 x 8 B)
#   step:    its ifb_serving_step (152 B)
# Arrays grow by doubling, so one holds at most twice what it needs, and for the moment of a
# move the old block too: 3x. Plus 256 KiB for the allocator's rounding and page granularity.
state = (r1 - r0) * (136 + 48) + (k1 - k0) * (12 + 16) + (s1 - s0) * 152
bound = (3 * state) // 1024 + 256
# Under AddressSanitizer, freed blocks wait in its quarantine and its shadow pages follow them:
# the same run's peak varies by about 500 KiB from one run to the next, so 1 MiB more there.
if b"libasan" in subprocess.run(["ldd", bin], capture_output=True).stdout:
    bound += 1024
grew = long_ - short
print("peak RSS: %d KiB for %d requests, %d KiB for %d: grew %d KiB; per-request state "
      "%d KiB (%d requests, %d tokens, %d steps more), bound %d KiB"
      % (short, r0, long_, r1, grew, state // 1024, r1 - r0, k1 - k0, s1 - s0, bound))
assert grew <= bound, "memory grew by more than the per-request state"
print("1 passed, 0 failed")
PY
