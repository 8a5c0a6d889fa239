#!/usr/bin/env bash
# sema fmt over the repository's .sema files: each one that reads formats
# without error (fmt_format itself checks that the output reads back to the
# same data) and the output is a fixed point, at the default options and at
# --width 40 --indent 4 --align.  Files that do not read are listed in
# tests/fmt/unreadable.txt; tests/fuzz holds fuzz inputs, not program text.
#   tests/fmt/repo_test.sh SEMA
set -u
cd "$(dirname "$0")/../.."
S=${1:-build/sema}
fails=0 n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while IFS= read -r f; do
  grep -qxF "$f" tests/fmt/unreadable.txt && continue
  for opts in "" "--width 40 --indent 4 --align"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    if ! timeout 20 "$S" fmt --stdout $opts "$f" >"$tmp/a" 2>"$tmp/err"; then
      echo "fmt repo: $f ($opts): $(head -3 "$tmp/err")"; fails=$((fails + 1)); continue
    fi
    # shellcheck disable=SC2086
    timeout 20 "$S" fmt --stdout $opts - <"$tmp/a" >"$tmp/b" 2>&1
    if ! cmp -s "$tmp/a" "$tmp/b"; then echo "fmt repo: $f ($opts): not idempotent"; fails=$((fails + 1)); fi
  done
done < <(find . -name '*.sema' -not -path './tests/fuzz/*' -not -path './build/*' | sed 's|^\./||' | sort)
echo "fmt repo: $n runs, $fails failed"
[ $fails -eq 0 ]
