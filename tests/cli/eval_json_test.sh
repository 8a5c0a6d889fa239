#!/usr/bin/env bash
# sema eval: the JSON envelope of language.md §11.8.
set -u
BIN=${1:-build/sema}
fail=0
check() { # name, expected substring, actual
  if [[ "$3" == *"$2"* ]]; then :; else echo "FAIL $1: got $3"; fail=1; fi
}
out=$("$BIN" eval --expr '(display "hi") (+ 1 2)' --json)
check ok "$out" "$out"
check value '"value":"3"' "$out"
check stdout '"stdout":"hi"' "$out"
check ok-true '"ok":true' "$out"
check error-null '"error":null' "$out"
check elapsed '"elapsedMs":' "$out"
out=$("$BIN" eval --expr '(spy "warn" 1) nil' --json)
check stderr '"stderr":"[warn] 1\n"' "$out"
check nil-value '"value":null' "$out"
out=$("$BIN" eval --expr '(define x 1)
(foo)' --json)
check unbound '"message":"Unbound variable: foo"' "$out"
check line '"line":2' "$out"
check ok-false '"ok":false' "$out"
out=$(echo '(1 2' | "$BIN" eval --stdin --json)
check reader '"message":"Reader error at 1:1: unterminated list"' "$out"
out=$("$BIN" eval --json); rc=$?
check missing 'Either --stdin or --expr is required' "$out"
[ $rc -eq 0 ] || { echo "FAIL: --json must exit 0"; fail=1; }
out=$("$BIN" eval --expr '(/ 1 0)' --json)
check div '"message":"Eval error: division by zero"' "$out"
python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <<<"$out" || { echo "FAIL: not JSON"; fail=1; }
out=$("$BIN" eval --expr '(+ 2 2)'); check plain "4" "$out"
"$BIN" eval --expr '(car 1)' 2>/dev/null; [ $? -eq 1 ] || { echo "FAIL: plain eval error must exit 1"; fail=1; }
# --timeout and (exit N) (language.md §11.8): always one line, status 0
one_line() { # name, output
  [ "$(printf '%s\n' "$2" | wc -l)" -eq 1 ] || { echo "FAIL $1: not exactly one line: $2"; fail=1; }
  python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$2" || { echo "FAIL $1: not JSON"; fail=1; }
}
out=$(timeout 10 "$BIN" eval --json --timeout 200 --expr '(let loop () (loop))'); rc=$?
check timeout '"message":"Eval error: timeout: evaluation exceeded 200 ms"' "$out"
check timeout-exitcode '"exitCode":0' "$out"
one_line timeout "$out"
[ $rc -eq 0 ] || { echo "FAIL: timeout must exit 0, got $rc"; fail=1; }
out=$(timeout 10 "$BIN" eval --json --timeout 200 --expr '(let loop () (try (loop) (catch e (loop))))')
check timeout-past-try '"message":"Eval error: timeout: evaluation exceeded 200 ms"' "$out"
out=$(timeout 10 "$BIN" eval --json --timeout 0 --expr '(+ 1 1)')
check timeout-0 '"value":"2"' "$out"
out=$(timeout 10 "$BIN" eval --json --expr '(display "a") (exit 3) (display "b")'); rc=$?
check exit-code '"exitCode":3' "$out"
check exit-stdout '"stdout":"a"' "$out"
check exit-ok '"ok":true' "$out"
one_line exit "$out"
[ $rc -eq 0 ] || { echo "FAIL: (exit 3) under --json must exit 0, got $rc"; fail=1; }
out=$(timeout 10 "$BIN" eval --json --expr '(try (exit 4) (catch e 1))')
check exit-past-try '"exitCode":4' "$out"
out=$(timeout 10 "$BIN" eval --json --expr '(+ 1 2)')
check exitcode-always '"exitCode":0' "$out"
out=$(timeout 10 "$BIN" eval --json --expr '(println "x\ny") (+ 1 2)')
one_line newlines "$out"
timeout 10 "$BIN" eval --expr '(exit 5)'; [ $? -eq 5 ] || { echo "FAIL: plain eval (exit 5) must exit 5"; fail=1; }
"$BIN" eval --json --timeout abc --expr 1 2>/dev/null; [ $? -eq 2 ] || { echo "FAIL: bad --timeout must be a usage error"; fail=1; }
echo "eval --json: $([ $fail -eq 0 ] && echo ok || echo FAILED)"
exit $fail
