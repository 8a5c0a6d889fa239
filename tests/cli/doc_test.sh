#!/usr/bin/env bash
# sema doc: the documentation in the binary (docs/design.md, "Documentation in the binary").
set -u
BIN=${1:-build/sema}
fail=0
check() { # name, expected substring, actual
  if [[ "$3" == *"$2"* ]]; then :; else echo "FAIL $1: expected [$2] in: $3"; fail=1; fi
}
status() { # name, expected, actual
  [ "$2" = "$3" ] || { echo "FAIL $1: status $3, expected $2"; fail=1; }
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# a builtin: signature line, kind, the description
out=$("$BIN" doc map); rc=$?
status map 0 $rc
check map-sig $'(map fn seq...)\n  builtin\n  Returns the list of (fn x)' "$out"
check map-desc "stopping at the shortest" "$out"
# an alias says what it is another name for, with its own name in the signature
out=$("$BIN" doc first)
check alias $'(first seq)\n  builtin, another name for car' "$out"
# a special form, a prelude macro, a constant, an internal helper
check special "special form" "$("$BIN" doc if)"
check special-sig "(if test then [else])" "$("$BIN" doc if)"
check macro $'(->> x form...)\n  macro\n  Threads x' "$("$BIN" doc '->>')"
check dashdash $'(- x y...)' "$("$BIN" doc -- -)"
"$BIN" doc --nosuchoption >/dev/null 2>&1
status bad-option 2 $?
check constant $'pi\n  constant: float 3.141592653589793' "$("$BIN" doc pi)"
check helper "internal helper" "$("$BIN" doc %destructure)"
# several names at once
out=$("$BIN" doc car cdr)
check two-names "(cdr seq)" "$out"

# an unbound name: said on stderr, status 1, with close names
out=$("$BIN" doc pritnln 2>&1 >/dev/null); rc=$?
status unbound 1 $rc
check unbound-msg "pritnln is not bound; did you mean println" "$out"
out=$("$BIN" doc zzzzqqq 2>&1); rc=$?
status unbound-far 1 $rc
check unbound-plain "zzzzqqq is not bound" "$out"
[[ "$out" == *"did you mean"* ]] && { echo "FAIL unbound-far: suggested names for zzzzqqq"; fail=1; }
[ -z "$("$BIN" doc pritnln 2>/dev/null)" ] || { echo "FAIL unbound: wrote to stdout"; fail=1; }

# --search: by name and by words of the description, every word must match
out=$("$BIN" doc --search trim); rc=$?
status search 0 $rc
check search-name "string/trim-left" "$out"
check search-desc "text/clean-whitespace" "$("$BIN" doc --search 'whitespace')"
out=$("$BIN" doc --search sql rows)
check search-words "db/query " "$out"
[[ "$out" == *"db/close"* ]] && { echo "FAIL search-words: db/close does not mention rows"; fail=1; }
"$BIN" doc --search nosuchwordanywhere >/dev/null 2>&1
status search-none 1 $?

# --load: a program's own docstrings
cat >"$tmp/lib.sema" <<'SEMA'
(define (area w h) "The area of a w by h rectangle." (* w h))
(define (perimeter w h) (* 2 (+ w h)))
(defmacro unless* (c . body) "Evaluates body when c is false." `(if ,c nil (begin ,@body)))
SEMA
out=$("$BIN" doc --load "$tmp/lib.sema" area perimeter unless*)
check load-doc $'(area w h)\n  procedure\n  The area of a w by h rectangle.' "$out"
check load-nodoc $'(perimeter w h)\n  procedure (no docstring)' "$out"
check load-macro $'(unless* c body...)\n  macro\n  Evaluates body' "$out"
"$BIN" doc --load "$tmp/missing.sema" area >/dev/null 2>&1
status load-missing 1 $?

# usage errors
"$BIN" doc >/dev/null 2>&1
status usage 2 $?
"$BIN" doc --search >/dev/null 2>&1
status usage-search 2 $?

# the REPL's ,doc prints the same text
out=$(printf ',doc map\n,doc pritnln\n' | "$BIN" -q -i 2>&1)
check repl-doc "$("$BIN" doc map)" "$out"
check repl-unbound "pritnln is not bound; did you mean println" "$out"

# --markdown has an entry per name, --undocumented finds none
md=$("$BIN" doc --markdown)
check md-entry $'### `map`\n\n`(map fn seq...)` · builtin' "$md"
check md-special '## Special forms' "$md"
out=$("$BIN" doc --undocumented); rc=$?
status undocumented 0 $rc
[ -z "$out" ] || { echo "FAIL undocumented: $out"; fail=1; }

echo "sema doc: $([ $fail -eq 0 ] && echo ok || echo FAILED)"
exit $fail
