#!/usr/bin/env bash
# Programs from stdin and `sema --check` (issue 18, item 4; language.md §11.7).
set -u
BIN=$(realpath "${1:-build/sema}")
fail=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
eq() { if [ "$2" == "$3" ]; then :; else echo "FAIL $1: expected [$2], got [$3]"; fail=1; fi; }
has() { if [[ "$3" == *"$2"* ]]; then :; else echo "FAIL $1: expected [$2] in: $3"; fail=1; fi; }
cd "$T"
eq dash "42" "$(echo '(println (+ 40 2))' | timeout 10 "$BIN" -)"
eq dash-rc 0 "$(echo '(println 1)' | timeout 10 "$BIN" - >/dev/null; echo $?)"
# a pipe without "-": a script too, no echo of values, no Goodbye
eq piped "1" "$(echo '(println 1) (+ 1 2)' | timeout 10 "$BIN" 2>&1)"
out=$(printf '(println 1)\n(car 5)\n(println 2)\n' | timeout 10 "$BIN" 2>&1; echo "rc=$?")
has piped-error-first $'1\nError: Type error: expected list or vector, got int' "$out"
has piped-error-name '(<stdin>:2:1)' "$out"
has piped-error-rc 'rc=1' "$out"
[[ "$out" == *"2"$'\n'* ]] && { echo "FAIL piped: ran past the error"; fail=1; }
eq args '("sema" "-" "--" "x")' "$(echo '(print (cons "sema" (cdr (sys/args))))' | timeout 10 "$BIN" - -- x)"
eq exit 3 "$(echo '(exit 3)' | timeout 10 "$BIN" -; echo $?)"
# -i keeps the REPL loop on a pipe
out=$(echo '(+ 1 2)' | timeout 10 "$BIN" -i -q)
has repl-value '3' "$out"
has repl-goodbye 'Goodbye!' "$out"

printf '(define x 1)\n(if)\n(let ((a)) a)\n(println "ran")\n' >c.sema
out=$(timeout 10 "$BIN" --check c.sema 2>&1; echo "rc=$?")
has check-first 'Error: Arity error: if expects 2 or 3 args, got 0' "$out"
has check-second 'Error: Eval error: let: each binding must have 2 elements' "$out"
has check-line '    3 | (let ((a)) a)' "$out"
has check-count 'c.sema: 2 errors' "$out"
has check-rc 'rc=1' "$out"
[[ "$out" == *ran* ]] && { echo "FAIL check: the program ran"; fail=1; }
printf '(println "ran")\n(define (f x)\n  (+ x 1)\n' >r.sema
out=$(timeout 10 "$BIN" --check r.sema 2>&1; echo "rc=$?")
has check-reader 'Error: Reader error at 2:1: unterminated list' "$out"
has check-reader-rc 'rc=1' "$out"
printf '(define (f x) (* x 2))\n(println (f 2))\n' >ok.sema
eq check-ok "rc=0" "$(timeout 10 "$BIN" --check ok.sema 2>&1; echo "rc=$?")"
eq check-stdin "rc=1" "$(echo '(if)' | timeout 10 "$BIN" --check - 2>/dev/null; echo "rc=$?")"
eq check-missing 1 "$(timeout 10 "$BIN" --check nope.sema 2>/dev/null; echo $?)"
echo "stdin/check: $([ $fail -eq 0 ] && echo ok || echo FAILED)"
exit $fail
