#!/usr/bin/env bash
# compare.sh OLD NEW [RUNS] - time two sema binaries side by side (one hyperfine
# invocation per workload of ../shared/bench/workloads, runs interleaved), and
# print the median ratio NEW/OLD.  For "does this change slow anything down".
set -euo pipefail
old=$1 new=$2 runs=${3:-5}
wl=$(cd "$(dirname "$0")/.." && pwd)/../shared/bench/workloads
command -v hyperfine >/dev/null || { echo "compare: hyperfine missing (apt-get install hyperfine)"; exit 1; }
printf '%-18s %10s %10s %7s\n' workload old-ms new-ms ratio
for f in "$wl"/*.sema; do
  name=$(basename "$f" .sema)
  args=""
  [ -f "$wl/$name.expect" ] && args=$(sed -n '1s/^#args: //p' "$wl/$name.expect")
  [ "$name" = 1brc ] && continue # needs generated data
  out=$(mktemp)
  (cd "$wl" && hyperfine -N -r "$runs" -w 1 --export-json "$out" "$old $name.sema $args" "$new $name.sema $args" >/dev/null 2>&1) || { echo "$name: failed"; rm -f "$out"; continue; }
  python3 - "$out" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
a, b = r[0]["median"] * 1000, r[1]["median"] * 1000
print(f"{sys.argv[2]:<18} {a:10.1f} {b:10.1f} {b / a:7.3f}")
PY
  rm -f "$out"
done
