#!/usr/bin/env bash
# The memory-failure sweep (issue 14; Lua's HARDMEMTESTS, SQLite's OOM tests):
# SEMA_FAIL_ALLOC=N makes the N-th counted allocation of the program fail.
# For N = 1, 1+STEP, ... until the program no longer reaches N, every run
# must end cleanly: exit 0 (the failure was caught) or 1 (uncaught
# out-of-memory error), no signal, no sanitizer report (leaks included).
# Usage: oom_sweep.sh BIN STEP [PROGRAM...]; prints the points covered.
set -u
bin=$1 step=$2
shift 2
[ $# -gt 0 ] || set -- tests/reliability/oom/*.sema
total=0 fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for prog in "$@"; do
  n=1 points=0
  while :; do
    SEMA_FAIL_ALLOC=$n timeout 60 "$bin" "$prog" >"$out" 2>&1
    rc=$?
    if grep -q "not reached" "$out"; then break; fi
    points=$((points + 1))
    if [ $rc -gt 1 ] || grep -q "Sanitizer\|runtime error:" "$out"; then
      echo "FAIL $prog SEMA_FAIL_ALLOC=$n (exit $rc):"; head -c 1500 "$out"; echo
      fail=$((fail + 1))
      [ $fail -ge 5 ] && break 2
    fi
    n=$((n + step))
  done
  echo "oom-sweep: $prog: $points failure points (step $step, $((n - 1)) allocations)"
  total=$((total + points))
done
echo "oom-sweep: $total failure points covered, $fail failures"
[ $fail -eq 0 ]
