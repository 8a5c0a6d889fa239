#!/usr/bin/env bash
# make bench: the shared benchmark suite against every installed peer, side by
# side in one hyperfine run per workload (1brc at 1M and 10M rows), plus the
# peak RSS of 1brc at 10M rows; writes bench/RESULTS.md and bench/results*.json.
# Extra arguments go to the runner (e.g. --only tak,fib --runs 3).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNNER=../shared/bench/run
if [ ! -x "$RUNNER" ]; then
  echo "bench: ../shared/bench is not present; nothing to run" >&2
  exit 1
fi
bash bench/peers.sh
python3 "$RUNNER" --sema "$PWD/build/sema" --md /tmp/sema-bench-1m.md --json bench/results.json "$@"
python3 "$RUNNER" --sema "$PWD/build/sema" --only 1brc --rows 10m --md /tmp/sema-bench-10m.md \
  --json bench/results-10m.json "$@"
bash bench/rss.sh /tmp/bench-data/10m.txt > /tmp/sema-bench-rss.md
python3 bench/report.py bench/results.json bench/results-10m.json /tmp/sema-bench-rss.md > bench/RESULTS.md
echo "wrote bench/RESULTS.md"
