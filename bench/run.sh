#!/usr/bin/env bash
# make bench: the shared benchmark suite against every installed peer, side by
# side in one hyperfine run per workload; writes bench/RESULTS.md.
# Extra arguments go to the runner (e.g. --only tak,fib --rows 10m --runs 3).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNNER=../shared/bench/run
if [ ! -x "$RUNNER" ]; then
  echo "bench: ../shared/bench is not present; nothing to run" >&2
  exit 1
fi
bash bench/peers.sh
python3 "$RUNNER" --sema "$PWD/build/sema" --md bench/RESULTS.md --json bench/results.json "$@"
