# Sourced by the serving fault tests: a temporary directory removed on exit, and the arguments of
# a short reference-roce serving run (16 concurrent short requests) every one of them compares
# against.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
S=(reference-roce.yaml -q -j 2 --set workload.input_len=uniform:32-96
   --set workload.output_len=uniform:16-32 --sweep workload.concurrency=16)
