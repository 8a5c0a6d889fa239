#!/usr/bin/env bash
# Differential test: every language test and the generated programs run on the
# VM and on the reference evaluator (sema --interp); stdout, the exit status and
# the error reports (without stack-trace lines, which name frames differently)
# must be identical.  With a sanitizer build as STRESS_BIN, NSTRESS more
# generated programs also run on the evaluator under ASan + GC stress (a
# collection at every safe point), whose stdout must match the VM's.
# Usage: tests/diff/run.sh [BIN] [NPROGRAMS] [STRESS_BIN NSTRESS]
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/sema}
NPROG=${2:-10000}
STRESS_BIN=${3:-}
NSTRESS=${4:-0}
fail=0
pass=0
# stack-trace lines differ by design (the evaluator reports the call site only)
norm() { grep -v -E '^  at |^  \.\.\. \([0-9]+ more frames\)'; }
compare() { # label dir file
  local label=$1 dir=$2 f=$3
  local vo vi ve ie
  vo=$(cd "$dir" && SEMA_TEST=1 timeout 60 "$OLDPWD/$BIN" "$f" 2>/tmp/diff-vm.err; echo "exit $?")
  vi=$(cd "$dir" && SEMA_TEST=1 timeout 120 "$OLDPWD/$BIN" --interp "$f" 2>/tmp/diff-in.err; echo "exit $?")
  ve=$(norm < /tmp/diff-vm.err)
  ie=$(norm < /tmp/diff-in.err)
  if [ "$vo" == "$vi" ] && [ "$ve" == "$ie" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "DIFF $label"
    diff <(echo "$vo"; echo "--- stderr"; echo "$ve") <(echo "$vi"; echo "--- stderr"; echo "$ie") | head -20
  fi
}
for src in tests/lang/*.sema; do
  # programs whose tasks park: the reference evaluator nests in C and cannot (docs/design.md "Scheduler")
  case "$(basename "$src")" in lib-async-sched*) continue ;; esac
  compare "lang/$(basename "$src")" tests/lang "$(basename "$src")"
done
echo "diff: language tests: $pass passed, $fail failed"
lang_fail=$fail
if [ "$NPROG" -gt 0 ]; then
  gen=$(mktemp -d)
  python3 tests/diff/gen.py --count "$NPROG" --per-file 100 --seed "${DIFF_SEED:-20261124}" --out "$gen"
  pass=0
  fail=0
  for f in "$gen"/*.sema; do compare "generated/$(basename "$f")" "$gen" "$(basename "$f")"; done
  echo "diff: generated programs: $NPROG in $((pass + fail)) files, $pass files passed, $fail failed"
  [ "$fail" -eq 0 ] && rm -rf "$gen"
fi
gen_fail=$fail
stress_fail=0
if [ -n "$STRESS_BIN" ] && [ "$NSTRESS" -gt 0 ]; then
  gen=$(mktemp -d)
  python3 tests/diff/gen.py --count "$NSTRESS" --per-file 100 --seed 7 --out "$gen"
  for f in "$gen"/*.sema; do
    vo=$("$BIN" "$f" 2>/dev/null)
    so=$(SEMA_GC_STRESS=1 ASAN_OPTIONS=detect_leaks=1 "$STRESS_BIN" --interp "$f" 2>/tmp/diff-stress.err)
    if [ "$vo" != "$so" ] || grep -q "Sanitizer\|runtime error" /tmp/diff-stress.err; then
      stress_fail=$((stress_fail + 1))
      echo "DIFF (GC stress) $f"
      diff <(echo "$vo") <(echo "$so") | head -10
      grep -A5 "Sanitizer\|runtime error" /tmp/diff-stress.err | head -20
    fi
  done
  echo "diff: GC stress + sanitizers: $NSTRESS generated programs, $stress_fail files failed"
  [ "$stress_fail" -eq 0 ] && rm -rf "$gen"
fi
[ "$lang_fail" -eq 0 ] && [ "$gen_fail" -eq 0 ] && [ "$stress_fail" -eq 0 ]
