#!/usr/bin/env bash
# Regenerate docs/reference.md from the docstrings in the binary.
#   tools/gen-reference.sh [BIN]           write docs/reference.md
#   tools/gen-reference.sh --check [BIN]   fail if it is not current, or if a
#                                          name bound at start-up has no
#                                          well-formed docstring (the test command)
set -u
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
BIN=${1:-build/sema}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$BIN" doc --markdown >"$tmp" || { echo "gen-reference: $BIN doc --markdown failed"; exit 1; }
if [ $check -eq 0 ]; then
  cp "$tmp" docs/reference.md
  echo "docs/reference.md: $(grep -c '^### ' docs/reference.md) names"
  exit 0
fi
rc=0
"$BIN" doc --undocumented || rc=1
if ! diff -u docs/reference.md "$tmp" >/tmp/sema-reference.diff; then
  echo "docs/reference.md is not current: run tools/gen-reference.sh (diff: /tmp/sema-reference.diff)"
  head -30 /tmp/sema-reference.diff
  rc=1
fi
[ $rc -eq 0 ] && echo "reference: $(grep -c '^### ' docs/reference.md) names documented, docs/reference.md current"
exit $rc
