#!/usr/bin/env bash
# sema fmt over the repository's .sema files: each one that reads formats
# without error (fmt_format itself checks that the output reads back to the
# same data) and the output is a fixed point, at the default options and at
# --width 40 --indent 4 --align.  Files that do not read are listed in
# tests/fmt/unreadable.txt; tests/fuzz holds fuzz inputs, not program text.
# Then `sema fmt --check` over every one of them but those that
# tests/fmt/unformatted.txt leaves out (with its reasons): the repository is
# kept formatted.
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

# the repository is formatted: sema fmt --check over all files minus the exclusions
pats=()
while IFS= read -r l; do
  l=${l%%#*}
  l=${l%"${l##*[![:space:]]}"}
  [ -n "$l" ] && pats+=("$l")
done <tests/fmt/unformatted.txt
checked=()
while IFS= read -r f; do
  skip=0
  for p in "${pats[@]}"; do
    # shellcheck disable=SC2053
    [[ $f == $p ]] && skip=1 && break
  done
  [ $skip -eq 0 ] && checked+=("$f")
done < <(find . -name '*.sema' -not -path './tests/fuzz/*' -not -path './build/*' | sed 's|^\./||' | sort)
n=$((n + 1))
if ! timeout 60 "$S" fmt --check "${checked[@]}" >"$tmp/check" 2>&1; then
  echo "fmt repo: sema fmt --check fails (format these with $S fmt FILE, or list them in tests/fmt/unformatted.txt with a reason):"
  grep -v '^$' "$tmp/check" | head -40
  fails=$((fails + 1))
fi
echo "fmt repo: $n runs, $fails failed; --check: $(tail -1 "$tmp/check")"
[ $fails -eq 0 ]
