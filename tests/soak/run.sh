#!/usr/bin/env bash
# Soak test: run tests/soak/soak.sema for SECONDS (default 180), sample the
# resident set size every second, and fail if the memory is not flat: the
# peak of the last third may exceed the peak of the first third by at most
# 10% + 4 MB.  Prints the samples' summary and the peak RSS.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/sema}
SECONDS_TOTAL=${2:-180}
"$BIN" tests/soak/soak.sema -- "$SECONDS_TOTAL" > /tmp/sema-soak.out 2>&1 &
pid=$!
samples=()
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)
  [ -n "$rss" ] && samples+=("$rss")
  sleep 1
done
wait "$pid"
rc=$?
if [ $rc -ne 0 ] || ! grep -q 'iterations #t' /tmp/sema-soak.out; then
  echo "soak: the script failed (exit $rc)"; cat /tmp/sema-soak.out; exit 1
fi
n=${#samples[@]}
if [ "$n" -lt 3 ]; then echo "soak: too few samples ($n)"; exit 1; fi
third=$((n / 3))
max_of() { local m=0; for x in "$@"; do [ "$x" -gt "$m" ] && m=$x; done; echo "$m"; }
first=$(max_of "${samples[@]:0:$third}")
last=$(max_of "${samples[@]:$((n - third))}")
peak=$(max_of "${samples[@]}")
limit=$((first + first / 10 + 4096))
echo "soak: ${SECONDS_TOTAL}s, $n samples, peak RSS first third ${first} KB, last third ${last} KB, overall peak ${peak} KB (limit ${limit} KB)"
[ "$last" -le "$limit" ]
