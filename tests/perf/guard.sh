#!/usr/bin/env bash
# Instruction-count regression guard: run a fixed workload under callgrind
# (deterministic, unlike seconds) and compare with the committed baseline.
# Fails when the count grows by more than MARGIN percent.
#   tests/perf/guard.sh            check
#   tests/perf/guard.sh --update   record a new baseline
set -euo pipefail
cd "$(dirname "$0")/../.."
MARGIN=5
BIN=${SEMA_BIN:-build/sema}
BASE=tests/perf/baseline.txt
if ! command -v valgrind >/dev/null; then echo "perf guard: valgrind missing, skipped"; exit 0; fi
out=$(mktemp)
valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" tests/perf/guard.sema >/dev/null 2>/dev/null
ir=$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}')
rm -f "$out"
if [ "${1:-}" = "--update" ] || [ ! -f "$BASE" ]; then
  echo "$ir" > "$BASE"
  echo "perf guard: baseline set to $ir instructions"
  exit 0
fi
base=$(cat "$BASE")
limit=$((base + base * MARGIN / 100))
pct=$(awk -v a="$ir" -v b="$base" 'BEGIN{printf "%+.2f", (a-b)*100/b}')
echo "perf guard: $ir instructions (baseline $base, ${pct}%, limit +${MARGIN}%)"
[ "$ir" -le "$limit" ]
