#!/usr/bin/env bash
# Compare build variants (default: -O2, -O3, LTO, PGO) on the benchmark
# workloads: median seconds per workload and the ratio to the first variant.
#   tools/variants.sh [BIN...]
set -euo pipefail
cd "$(dirname "$0")/.."
W=../shared/bench/workloads
BINS=("$@")
[ ${#BINS[@]} -gt 0 ] || BINS=(build/sema build/o3/sema build/lto/sema build/pgo/sema)
data=/tmp/bench-data/1m.txt
[ -f "$data" ] || { mkdir -p /tmp/bench-data; python3 ../shared/bench/gen1brc.py 1000000 "$data" >/dev/null; }
printf '| workload |'; for b in "${BINS[@]}"; do printf ' %s |' "$b"; done; echo
printf '|---|'; for b in "${BINS[@]}"; do printf -- '---:|'; done; echo
for w in tak fib deriv nqueens closure-storm upvalue-counter strings hashmap 1brc; do
  cmds=()
  for b in "${BINS[@]}"; do
    if [ "$w" = 1brc ]; then cmds+=("$b $W/1brc.sema -- $data"); else cmds+=("$b $W/$w.sema"); fi
  done
  hyperfine -N -w 1 -r "${RUNS:-7}" --export-json /tmp/variants.json "${cmds[@]}" >/dev/null 2>&1
  python3 - "$w" <<'PY'
import json, statistics, sys
r = json.load(open("/tmp/variants.json"))["results"]
m = [statistics.median(x["times"]) for x in r]
print("| %s | %s |" % (sys.argv[1], " | ".join("%.3f (%.2f)" % (v, v / m[0]) for v in m)))
PY
done
