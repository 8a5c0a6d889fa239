#!/usr/bin/env bash
# Peak resident memory of each implementation's 1brc on one data file
# (GNU time's %M); prints a Markdown table.
set -uo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/tmp/bench-data/10m.txt}
W=../shared/bench/workloads
echo "| implementation | peak RSS (MB) | seconds |"
echo "|---|---:|---:|"
row() { # name cmd...
  local name=$1
  shift
  command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || return 0
  local out tmp
  tmp=$(mktemp)
  /usr/bin/time -o "$tmp" -f '%M %e' "$@" >/dev/null 2>&1
  out=$(tail -1 "$tmp")
  rm -f "$tmp"
  awk -v n="$name" -v o="$out" 'BEGIN{split(o,a," "); printf "| %s | %.1f | %.2f |\n", n, a[1]/1024, a[2]}'
}
row sema build/sema $W/1brc.sema -- "$DATA"
row lua5.4 lua5.4 $W/1brc.lua "$DATA"
row luajit luajit $W/1brc.lua "$DATA"
row chez chezscheme --script $W/1brc.ss "$DATA"
row guile guile $W/1brc.scm "$DATA"
row sbcl sbcl --script $W/1brc.lisp "$DATA"
