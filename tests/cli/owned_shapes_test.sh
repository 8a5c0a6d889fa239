#!/usr/bin/env bash
# Which accumulation shapes compile to in-place (owned) updates, read from the
# disassembly (SEMA_DISASM): the language tests can only show that results
# are right and saved versions unchanged, not that an update happened in
# place.  Each case is one program whose disassembly must hold exactly N
# *_OWNED instructions (the start-up library compiles none).  The disassembly
# is printed when code is compiled, so what a later replaced builtin does to
# it (DEOPT) is tested in tests/lang/core-owned-*.sema instead.
# (docs/design.md, "Owned updates".)
set -u
BIN=$(realpath "${1:-build/sema}")
fail=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
check() { # name, expected count, program
  printf '%s\n' "$3" >"$T/p.sema"
  local n
  n=$(cd "$T" && SEMA_DISASM=1 timeout 10 "$BIN" p.sema 2>&1 >/dev/null | grep -cE '^ +[0-9]+ +\[[0-9:]+\] +[A-Z]+_OWNED ')
  if [ "$n" != "$2" ]; then
    echo "FAIL $1: expected $2 owned updates, got $n"
    (cd "$T" && SEMA_DISASM=1 "$BIN" p.sema 2>&1 >/dev/null | grep -E 'ASSOC|DISSOC|MAPUPDATE')
    fail=1
  fi
}
# ---- in place ----
check fold-sorted 1 '(foldl (fn (m k) (assoc m k (+ (get m k 0) 1))) {} (range 10))'
check fold-named-sorted 1 '(define (bump m k) (assoc m k (+ (get m k 0) 1))) (foldl bump {} (range 10))'
check namedlet-sorted 1 '(let loop ((i 0) (m {})) (if (= i 9) m (loop (+ i 1) (assoc m i i))))'
check fold-dissoc 1 '(foldl (fn (m k) (dissoc m k)) (hashmap/new) (range 10))'
check namedlet-dissoc 1 '(let loop ((i 0) (m {1 2})) (if (= i 9) m (loop (+ i 1) (dissoc m i))))'
check fold-update 1 '(foldl (fn (m k) (map/update m k (fn (x) (+ (or x 0) 1)))) {} (range 10))'
check do-update 1 '(do ((i 0 (+ i 1)) (m (hashmap/new) (map/update m i (fn (x) 1)))) ((= i 9) m))'
check do-assoc-body-reads 1 '(do ((i 0 (+ i 1)) (m {} (assoc m i (length m)))) ((= i 9) m) (get m 0))'
check chain 2 '(foldl (fn (m k) (dissoc (assoc m k 1) (- k 3))) {} (range 10))'
check branch 2 '(let loop ((i 0) (m {})) (if (= i 9) m (loop (+ i 1) (if (odd? i) (assoc m i i) (dissoc m (- i 1))))))'
check update-reads-before 1 '(foldl (fn (m k) (map/update m (get m :next k) (fn (x) (get {} x)))) {} (range 10))'
# ---- persistent: the old map may be seen by someone else ----
check saved-global 0 '(define g #f) (foldl (fn (m k) (set! g m) (dissoc m k)) {} (range 10))'
check in-list 0 '(foldl (fn (m k) (map/update m k (fn (x) (list m)))) {} (range 10))'
check fn-captures 0 '(foldl (fn (m k) (map/update m k (fn (x) (length m)))) {} (range 10))'
check aliased 0 '(foldl (fn (m k) (let ((a m)) (dissoc a k))) {} (range 10))'
check thrown 0 '(foldl (fn (m k) (try (dissoc m k) (catch e m))) {} (range 10))'
check later-step-reads 0 '(do ((m {} (dissoc m 1)) (n 0 (length m))) ((= n 3) m))'
check chain-outer-reads 0 '(foldl (fn (m k) (dissoc (assoc m k 1) (get m 0))) {} (range 10))'
check assigned 0 '(define (f) (let ((m {})) (for-each (fn (i) (set! m (assoc m i i))) (range 5)) m)) (f)'
check not-tail 0 '(foldl (fn (m k) (length (dissoc m k)) m) {} (range 10))'
check dissoc-variadic 0 '(foldl (fn (m k) (dissoc m k (+ k 1))) {} (range 10))'
[ "$fail" -eq 0 ] && echo "owned shapes: all cases pass"
exit "$fail"
