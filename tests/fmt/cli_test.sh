#!/usr/bin/env bash
# sema fmt's command line (RULES.md §13, docs/fmt.md): the exact --diff
# hunks and summaries, --check, --json objects and their summary line, and
# that none of these write to the files.
#   tests/fmt/cli_test.sh SEMA
set -u
S=$(realpath "${1:-build/sema}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
pass=0 fail=0
eq() { # name expected actual
  if [ "$2" == "$3" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "FAIL fmt cli $1"
    diff <(echo "$2") <(echo "$3") | head -20
  fi
}

printf '(define (f x)\n(+ x 1))\n;; c\n(define y 2)\n(define   z 3)\n(a)\n(b)\n(c)\n(d)\n(e  1)\n' >a.sema
printf '(ok)\n' >b.sema
printf '(bad\n' >c.sema
printf '(a)\n\n\n\n(b   1)\n(c)' >d.sema # blank lines squeezed, no final newline
printf '(x)' >n.sema                     # only the final newline is missing
cp a.sema a.orig

# --diff: line i against line i; context only within 3 lines of the hunk's start
eq diff-hunks "--- a.sema
+++ a.sema
@@ -2 +2 @@
-(+ x 1))
+  (+ x 1))
 ;; c
 (define y 2)
-(define   z 3)
+(define z 3)
@@ -10 +10 @@
-(e  1)
+(e 1)

1 file(s) would change, 1 file(s) checked
rc=0" "$("$S" fmt --diff a.sema; echo "rc=$?")"
eq diff-summary "--- a.sema
+++ a.sema
@@ -2 +2 @@
-(+ x 1))
+  (+ x 1))
 ;; c
 (define y 2)
-(define   z 3)
+(define z 3)
@@ -10 +10 @@
-(e  1)
+(e 1)

1 file(s) would change, 2 file(s) checked
rc=0" "$("$S" fmt --diff a.sema b.sema; echo "rc=$?")"
# lines past the end of the shorter side print only the side that has them
eq diff-shorter "--- d.sema
+++ d.sema
@@ -3 +3 @@
-
+(b 1)
-
+(c)
-(b   1)
-(c)

1 file(s) would change, 1 file(s) checked" "$("$S" fmt --diff d.sema)"
eq diff-final-newline "--- n.sema
+++ n.sema

1 file(s) would change, 1 file(s) checked" "$("$S" fmt --diff n.sema)"
eq diff-none "
0 file(s) would change, 1 file(s) checked" "$("$S" fmt --diff b.sema)"
eq diff-wrote-nothing "" "$(cmp a.sema a.orig)"

# --check
eq check-changed "Would reformat: a.sema

1 file(s) would be reformatted, 2 file(s) checked
rc=1" "$("$S" fmt --check a.sema b.sema; echo "rc=$?")"
eq check-clean "1 file(s) already formatted
rc=0" "$("$S" fmt --check b.sema; echo "rc=$?")"
eq check-over-diff "Would reformat: a.sema

1 file(s) would be reformatted, 1 file(s) checked" "$("$S" fmt --check --diff a.sema)"

# --json: one object per file, then the plain summary line; errors in the objects
out=$("$S" fmt --json a.sema b.sema c.sema nope.sema 2>"$tmp/err")
eq json-rc 1 $?
eq json-stderr "2 error(s)" "$(cat "$tmp/err")"
eq json-objects '[{"file": "a.sema", "formatted": true, "changed": true, "source": "(define (f x)\n  (+ x 1))\n;; c\n(define y 2)\n(define z 3)\n(a)\n(b)\n(c)\n(d)\n(e 1)\n"}, {"file": "b.sema", "formatted": true, "changed": false, "source": "(ok)\n"}, {"file": "c.sema", "formatted": false, "error": "Error formatting c.sema:1:1: unclosed delimiter: this `(` has no matching `)`", "line": 1, "col": 1}, {"file": "nope.sema", "formatted": false, "error": "file not found: nope.sema"}]' \
  "$(echo "$out" | head -4 | python3 -c 'import sys, json; print(json.dumps([json.loads(l) for l in sys.stdin]))')"
eq json-summary "1 file(s) would change, 2 file(s) checked" "$(echo "$out" | tail -1)"
eq json-check-never-fails "rc=0" "$("$S" fmt --json --check a.sema >/dev/null; echo "rc=$?")"
eq json-wrote-nothing "" "$(cmp a.sema a.orig)"
eq json-stdin '{"formatted":true,"changed":true,"source":"(e 1)\n"}
rc=0' "$(printf '(e  1)\n' | "$S" fmt --json -; echo "rc=$?")"
eq json-stdin-error '{"formatted":false,"error":"Error formatting stdin:1:1: unclosed delimiter: this `(` has no matching `)`","line":1,"col":1}
rc=1' "$("$S" fmt --json - <c.sema 2>/dev/null; echo "rc=$?")"
# `-` with --check / --diff: ignored (RULES.md §13): the formatted text on stdout, status 0;
# a formatting error still fails
eq stdin-check '(e 1)
rc=0' "$(printf '(e  1)\n' | "$S" fmt --check -; echo "rc=$?")"
eq stdin-diff '(e 1)
rc=0' "$(printf '(e  1)\n' | "$S" fmt --diff -; echo "rc=$?")"
eq stdin-check-diff '(e 1)
rc=0' "$(printf '(e  1)\n' | "$S" fmt --check --diff --width 40 -; echo "rc=$?")"
eq stdin-check-error 'rc=1' "$("$S" fmt --check - <c.sema 2>/dev/null; echo "rc=$?")"
eq stdin-check-error-msg 'Error formatting stdin:1:1: unclosed delimiter: this `(` has no matching `)`' \
  "$("$S" fmt --check - <c.sema 2>&1 >/dev/null | head -1)"
# control characters and quotes in the text are escaped
eq json-escape '{"formatted":true,"changed":false,"source":"(s \"a\\\\b\t\")\n"}' \
  "$(printf '(s "a\\\\b\t")\n' | "$S" fmt --json -)"

# the default mode rewrites, then its summary
eq write "Formatted: a.sema

1 file(s) formatted, 1 file(s) unchanged" "$("$S" fmt a.sema b.sema)"
eq write-clean "2 file(s) already formatted" "$("$S" fmt a.sema b.sema)"

# a byte order mark at the start (which the reader skips) is kept, the text
# after it formatted; only the mark is a fixed point; a second mark is an error
printf '\xEF\xBB\xBF(define   x\n1)\n' >bom.sema
eq bom-write "Formatted: bom.sema

1 file(s) formatted, 0 file(s) unchanged" "$("$S" fmt bom.sema)"
eq bom-kept "$(printf '\xEF\xBB\xBF(define x 1)\n' | od -c)" "$(od -c <bom.sema)"
eq bom-check "1 file(s) already formatted" "$("$S" fmt --check bom.sema)"
printf '\xEF\xBB\xBF' >bom-only.sema
eq bom-only "1 file(s) already formatted" "$("$S" fmt --check bom-only.sema)"
printf '\xEF\xBB\xBF\xEF\xBB\xBF(a)\n' >bom2.sema
eq bom-twice "Error formatting bom2.sema:1:1: unexpected character: U+FEFF" "$("$S" fmt --check bom2.sema 2>&1 | head -1)"

echo "fmt cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
