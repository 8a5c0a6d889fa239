#!/usr/bin/env bash
# Error reports name the right place (issue 18): loaded and imported files,
# tail calls, macro calls, REPL entries; in the CLI and in `sema eval --json`.
set -u
BIN=$(realpath "${1:-build/sema}")
fail=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
has() { # name, expected substring, actual
  if [[ "$3" == *"$2"* ]]; then :; else echo "FAIL $1: expected [$2] in:"; echo "$3" | head -20; fail=1; fi
}
hasnt() {
  if [[ "$3" == *"$2"* ]]; then echo "FAIL $1: unexpected [$2] in:"; echo "$3" | head -20; fail=1; fi
}
cd "$T"
printf '(define (g x)\n  (car x))\n' >lib.sema
printf '(load "lib.sema")\n\n(g 5)\n' >main.sema
out=$(timeout 10 "$BIN" main.sema 2>&1)
has load-header '  --> lib.sema:2:3' "$out"
has load-source '    2 |   (car x))' "$out"
has load-caret '      |   ^' "$out"

printf '(define (h x)\n  (+ 1 x))\n(export h\n' >bad.sema
printf '; one\n; two\n(import "bad.sema")\n' >imp.sema
out=$(timeout 10 "$BIN" imp.sema 2>&1)
has import-header 'bad.sema:3:1' "$out"
has import-source '    3 | (export h' "$out"
hasnt import-wrong-line '(import "bad.sema")' "$(echo "$out" | grep ' | ')"
out=$(timeout 10 "$BIN" eval --json --path imp.sema --stdin <imp.sema)
has import-json '"line":3,"col":1' "$out"

printf '(define (f x) x)\n(f 1 2)\n' >tail.sema
out=$(timeout 10 "$BIN" tail.sema 2>&1)
has tail-msg 'Error: Arity error: f expects 1 args, got 2' "$out"
has tail-source '    2 | (f 1 2)' "$out"
has tail-frame '(tail.sema:2:1)' "$out"
out=$(timeout 10 "$BIN" eval --json --stdin <tail.sema)
has tail-json '"line":2,"col":1' "$out"
printf '(define (f x) x)\n(define (k)\n  (f 1 2))\n(k)\n' >tail2.sema
out=$(timeout 10 "$BIN" tail2.sema 2>&1)
has tail-in-fn '    3 |   (f 1 2))' "$out"

printf '(defmacro m (a) a)\n\n(m 1 2)\n' >mac.sema
out=$(timeout 10 "$BIN" mac.sema 2>&1)
has macro-msg 'Arity error: m expects 1 args, got 2' "$out"
has macro-source '    3 | (m 1 2)' "$out"
out=$(timeout 10 "$BIN" eval --json --stdin <mac.sema)
has macro-json '"line":3,"col":1' "$out"

# REPL: entries are <repl:N>; an error in a function of an earlier entry shows that entry
out=$(printf '(define (f x)\n  (car x))\n\n(f 1)\n' | timeout 10 "$BIN" -i -q 2>&1)
has repl-name 'at f (<repl:1>:2:3)' "$out"
has repl-header '  --> <repl:1>:2:3' "$out"
has repl-source '    2 |   (car x))' "$out"

# did you mean (language.md §10.1): printed as a hint, in the --json envelope, not in the caught map
out=$(timeout 10 "$BIN" -e '(pritnln 1)' 2>&1)
has dym "  hint: Did you mean 'println'" "$out"
out=$(timeout 10 "$BIN" -e '(setq x 1)' 2>&1)
has dialect "  hint: Sema uses (set! name value)" "$out"
out=$(timeout 10 "$BIN" -e '(deifne x 1)' 2>&1)
has dym-special "Did you mean 'define'" "$out"
out=$(timeout 10 "$BIN" eval --json --expr '(define (f lst) (lenght lst))
(f 1)')
has dym-json '"hint":"Did you mean '"'"'length'"'"'?"' "$out"
has dym-json-line '"line":1' "$out"
out=$(timeout 10 "$BIN" -e '(try (pritnln 1) (catch e e))' 2>&1)
hasnt dym-not-in-map "mean" "$out"
has dym-message ':message "Unbound variable: pritnln"' "$out"

echo "errors: $([ $fail -eq 0 ] && echo ok || echo FAILED)"
exit $fail
