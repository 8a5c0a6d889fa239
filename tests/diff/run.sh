#!/usr/bin/env bash
# Differential test: every language test and the generated programs run on the
# VM and on the reference evaluator (sema --interp); stdout, the exit status and
# the error reports (without stack-trace lines, which name frames differently)
# must be identical.  Usage: tests/diff/run.sh [BIN] [NPROGRAMS]
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/sema}
NPROG=${2:-10000}
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
[ "$lang_fail" -eq 0 ] && [ "$fail" -eq 0 ]
