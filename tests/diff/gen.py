#!/usr/bin/env python3
"""Random Sema programs for the differential test (tests/diff/run.sh).

Programs are generated type-directed (int, float, bool, string, list, vector,
map, hash map, function) so that most of them run to a value, while bad
arguments, empty lists, division by zero and thrown values still happen often
enough to compare errors too.  They cover the forms the compiler treats
specially: intrinsic calls, named-let loops compiled as loops, fold drivers
whose accumulators are updated in place, do loops with closures over their
variables, boxed (captured and assigned) variables, internal defines, try,
quasiquote, destructuring, shadowed builtins and, at the end of some files,
redefined builtins (which turns compiled intrinsics back into calls).

Each program prints its value, or its error's type and message, so one file
holds many.  Deterministic: the same --seed gives the same files.
"""
import argparse
import os
import random

INT_BINOPS = ["+", "-", "*", "min", "max"]
CMP_OPS = ["<", ">", "<=", ">=", "="]
KEYS = [":a", ":b", ":c", ":d", ":e"]
STRS = ['"abc"', '""', '"x,y,z"', '"Hello"', '"12"', '"-3.5"', '"a b  c"', '"ünï"']


class Gen:
    def __init__(self, rng, prefix):
        self.r = rng
        self.prefix = prefix
        self.n = 0

    def name(self, base):
        self.n += 1
        return f"{base}{self.n}"

    def pick(self, xs):
        return self.r.choice(xs)

    def chance(self, p):
        return self.r.random() < p

    def var_of(self, env, ty):
        vs = [v for v, t in env if t == ty]
        return self.pick(vs) if vs else None

    # ---- typed expressions ----

    def expr(self, ty, d, env):
        if d <= 0 or self.chance(0.15):
            v = self.var_of(env, ty)
            if v and self.chance(0.7):
                return v
            return self.leaf(ty)
        if self.chance(0.12):
            return self.generic(ty, d, env)
        return getattr(self, "e_" + ty)(d - 1, env)

    def leaf(self, ty):
        r = self.r
        if ty == "int":
            return str(self.pick([0, 1, 2, 3, -1, 7, 10, 100, r.randint(-50, 50), 140737488355327, -140737488355328, 2 ** 62, 9007199254740993]))
        if ty == "float":
            return self.pick(["0.5", "1.0", "-2.25", "3.14159", "1e10", "0.1", "-0.0", "2.5e-3"])
        if ty == "bool":
            return self.pick(["#t", "#f", "true", "false"])
        if ty == "str":
            return self.pick(STRS)
        if ty == "list":
            return self.pick(["'()", "'(1 2 3)", "'(3 1 2)", "(list 5 -4 0)", "'(10)"])
        if ty == "vec":
            return self.pick(["[]", "[1 2 3]", "[9 8 7 6]", "(vector 4 5)", "[0]"])
        if ty == "map":
            return self.pick(["{}", "{:a 1}", "{:a 1 :b 2}", "{:c 3 :a -1 :e 5}"])
        if ty == "hmap":
            return self.pick(["(hash-map)", "(hash-map :a 1)", "(hash-map :b 2 :d 4 :a 0)"])
        if ty == "fn":
            return self.pick(["(fn (x) (+ x 1))", "(lambda (x) (* x x))", "#(- % 3)", "abs", "(fn (x) (- x))"])
        raise ValueError(ty)

    def generic(self, ty, d, env):
        """Forms that work at any type."""
        k = self.r.randrange(9)
        if k == 0:
            return f"(if {self.expr('bool', d - 1, env)} {self.expr(ty, d - 1, env)} {self.expr(ty, d - 1, env)})"
        if k == 1:
            v = self.name("v")
            t2 = self.pick(["int", "list", "str", "vec"])
            e2 = env + [(v, t2)]
            return f"(let (({v} {self.expr(t2, d - 1, env)})) {self.expr(ty, d - 1, e2)})"
        if k == 2:
            return f"(begin {self.expr('int', d - 1, env)} {self.expr(ty, d - 1, env)})"
        if k == 3:
            c1, c2 = self.expr("bool", d - 1, env), self.expr("bool", d - 1, env)
            return f"(cond ({c1} {self.expr(ty, d - 1, env)}) ({c2} {self.expr(ty, d - 1, env)}) (else {self.expr(ty, d - 1, env)}))"
        if k == 4:
            e = self.expr(ty, d - 1, env)
            h = self.expr(ty, d - 1, env)
            return f"(try {e} (catch err {h}))"
        if k == 5:
            # throw a value of the right type and catch it
            return f"(try (begin (throw {self.expr(ty, d - 1, env)}) {self.leaf(ty)}) (catch err (:value err)))"
        if k == 6:
            v = self.name("t")
            e2 = env + [(v, ty)]
            return f"(let* (({v} {self.expr(ty, d - 1, env)}) ({v} {self.expr(ty, d - 1, e2)})) {v})"
        if k == 7:
            a = self.expr("int", d - 1, env)
            return f"(case {a} ((0 1) {self.expr(ty, d - 1, env)}) ((2 3 7) {self.expr(ty, d - 1, env)}) (else {self.expr(ty, d - 1, env)}))"
        # a boxed variable: captured and assigned
        v, f = self.name("b"), self.name("set")
        e2 = env + [(v, ty)]
        return (f"(let (({v} {self.expr(ty, d - 1, env)})) "
                f"(let (({f} (fn (n) (set! {v} n)))) ({f} {self.expr(ty, d - 1, e2)}) {v}))")

    def e_int(self, d, env):
        k = self.r.randrange(24)
        x = lambda t="int": self.expr(t, d, env)
        if k < 4:
            return f"({self.pick(INT_BINOPS)} {x()} {x()})"
        if k == 4:
            return f"(+ {x()} {x()} {x()})"
        if k == 5:
            return f"({self.pick(['math/quotient', 'math/remainder', 'mod'])} {x()} {x()})"
        if k == 6:
            return f"(length {x('list')})"
        if k == 7:
            return f"(count {x('vec')})"
        if k == 8:
            return f"(car {x('list')})"
        if k == 9:
            return f"(nth {x('vec')} {self.r.randint(-1, 4)})"
        if k == 10:
            return f"(get {x('map')} {self.pick(KEYS)} {x()})"
        if k == 11:
            return f"({x('fn')} {x()})"
        if k == 12:
            return f"(foldl + {x()} {x('list')})"
        if k == 13:
            # a named-let loop (compiled as a loop)
            i, acc, lp = self.name("i"), self.name("acc"), self.name("loop")
            e2 = env + [(i, "int"), (acc, "int")]
            return (f"(let {lp} (({i} 0) ({acc} {x()})) (if (>= {i} {self.r.randint(0, 20)}) {acc} "
                    f"({lp} (+ {i} 1) {self.expr('int', d - 1, e2)})))")
        if k == 14:
            # a do loop whose body captures its variable
            i, fs = self.name("i"), self.name("fs")
            return (f"(let (({fs} '())) (do (({i} 0 (+ {i} 1))) ((= {i} {self.r.randint(0, 5)}) "
                    f"(foldl + 0 (map (fn (f) (f)) {fs}))) (set! {fs} (cons (fn () (* {i} {x()})) {fs}))))")
        if k == 15:
            return f"(string-length {x('str')})"
        if k == 16:
            return f"(abs {x()})"
        if k == 17:
            return f"(apply + {x('list')})"
        if k == 18:
            return f"(reduce + (map {x('fn')} {x('list')}))"
        if k == 19:
            a, b = self.name("a"), self.name("b")
            return f"(let (([{a} {b}] (list {x()} {x()}))) (- {a} {b}))"
        if k == 20:
            # a closure counter
            c, inc = self.name("c"), self.name("inc")
            return (f"(let (({c} 0)) (define ({inc}) (set! {c} (+ {c} 1)) {c}) "
                    f"({inc}) ({inc}) (+ ({inc}) {x()}))")
        if k == 21:
            return f"(count {x('hmap')})" if self.chance(0.3) else f"(count {x('map')})"
        if k == 22:
            return f"(string->number {x('str')})"
        return f"(round {x('float')})"

    def e_float(self, d, env):
        k = self.r.randrange(6)
        x = lambda t="float": self.expr(t, d, env)
        if k == 0:
            return f"({self.pick(['+', '-', '*'])} {x()} {x()})"
        if k == 1:
            return f"(/ {x()} {self.expr('int', d, env)})"
        if k == 2:
            return f"(float {self.expr('int', d, env)})"
        if k == 3:
            return f"(sqrt (abs {x()}))"
        if k == 4:
            return f"(* 1.0 {self.expr('int', d, env)})"
        return f"(+ {x()} {self.expr('int', d, env)})"

    def e_bool(self, d, env):
        k = self.r.randrange(12)
        x = lambda t="int": self.expr(t, d, env)
        if k < 3:
            return f"({self.pick(CMP_OPS)} {x()} {x()})"
        if k == 3:
            return f"({self.pick(['even?', 'odd?', 'zero?', 'positive?', 'negative?'])} {x()})"
        if k == 4:
            return f"(null? {x('list')})"
        if k == 5:
            return f"({self.pick(['and', 'or'])} {self.expr('bool', d, env)} {self.expr('bool', d, env)})"
        if k == 6:
            return f"(not {self.expr('bool', d, env)})"
        if k == 7:
            return f"(equal? {x('list')} {x('list')})"
        if k == 8:
            return f"(contains? {x('map')} {self.pick(KEYS)})"
        if k == 9:
            return f"(equal? {x('str')} {x('str')})"
        if k == 10:
            return f"(pair? {x('list')})"
        return f"(< {self.expr('float', d, env)} {x()})"

    def e_str(self, d, env):
        k = self.r.randrange(9)
        x = lambda t="str": self.expr(t, d, env)
        if k < 2:
            return f"(string-append {x()} {x()})"
        if k == 2:
            return f"(number->string {self.expr('int', d, env)})"
        if k == 3:
            return f"(substring {x()} 0 {self.r.randint(0, 3)})"
        if k == 4:
            return f"({self.pick(['string-upcase', 'string-downcase'])} {x()})"
        if k == 5:
            return f"(str {self.expr(self.pick(['int', 'list', 'vec', 'map', 'float']), d, env)} {x()})"
        if k == 6:
            v = self.name("s")
            return f"(let (({v} {self.expr('int', d, env)})) f\"n=${{{v}}};\")"
        if k == 7:
            return f"(string-join (map number->string {self.expr('list', d, env)}) \",\")"
        return f"(string-trim {x()})"

    def e_list(self, d, env):
        k = self.r.randrange(14)
        x = lambda t="list": self.expr(t, d, env)
        if k < 2:
            return f"(cons {self.expr('int', d, env)} {x()})"
        if k == 2:
            return f"(map {self.expr('fn', d, env)} {x()})"
        if k == 3:
            return f"(filter {self.pick(['even?', 'odd?', '(fn (n) (> n 0))'])} {x()})"
        if k == 4:
            return f"(reverse {x()})"
        if k == 5:
            return f"(append {x()} {x()})"
        if k == 6:
            return f"(cdr {x()})"
        if k == 7:
            return f"(range {self.r.randint(0, 6)})"
        if k == 8:
            return f"(sort {x()})"
        if k == 9:
            return f"`(1 ,{self.expr('int', d, env)} ,@{x()})"
        if k == 10:
            return f"(list {self.expr('int', d, env)} {self.expr('int', d, env)})"
        if k == 11:
            # build a list in a named-let loop
            i, acc, lp = self.name("i"), self.name("acc"), self.name("loop")
            return (f"(let {lp} (({i} {self.r.randint(0, 6)}) ({acc} '())) (if (<= {i} 0) {acc} "
                    f"({lp} (- {i} 1) (cons (* {i} {self.expr('int', d - 1, env)}) {acc}))))")
        if k == 12:
            return f"(sort {x()} (fn (a b) (> a b)))"
        return f"(vector->list {self.expr('vec', d, env)})"

    def e_vec(self, d, env):
        k = self.r.randrange(8)
        x = lambda t="vec": self.expr(t, d, env)
        if k < 2:
            return f"[{self.expr('int', d, env)} {self.expr('int', d, env)} 3]"
        if k == 2:
            return f"(list->vector (append (vector->list {x()}) (list {self.expr('int', d, env)})))"
        if k == 3:
            return f"(vector {self.expr('int', d, env)})"
        if k == 4:
            return f"(list->vector {self.expr('list', d, env)})"
        if k == 5:
            return f"(assoc {x()} 0 {self.expr('int', d, env)})"
        if k == 6:
            return f"(list->vector (map {self.expr('fn', d, env)} {x()}))"
        return f"(list->vector (sort (vector->list {x()})))"

    def e_map(self, d, env):
        k = self.r.randrange(8)
        x = lambda t="map": self.expr(t, d, env)
        if k < 2:
            return f"{{{self.pick(KEYS)} {self.expr('int', d, env)} :z {self.expr('int', d, env)}}}"
        if k == 2:
            return f"(assoc {x()} {self.pick(KEYS)} {self.expr('int', d, env)})"
        if k == 3:
            return f"(dissoc {x()} {self.pick(KEYS)})"
        if k == 4:
            return f"(merge {x()} {x()})"
        if k == 5:
            # a fold whose accumulator the compiler may update in place
            return (f"(foldl (fn (m k) (assoc m k (+ 1 (get m k 0)))) {x()} "
                    f"(list {self.pick(KEYS)} {self.pick(KEYS)} {self.pick(KEYS)}))")
        if k == 6:
            # a named-let loop with a linear map accumulator
            i, m, lp = self.name("i"), self.name("m"), self.name("loop")
            return (f"(let {lp} (({i} 0) ({m} {x()})) (if (= {i} {self.r.randint(0, 8)}) {m} "
                    f"({lp} (+ {i} 1) (assoc {m} {self.pick(KEYS)} {i}))))")
        return f"(map/update {x()} {self.pick(KEYS)} (fn (v) (if v (* 2 v) 0)))"

    def e_hmap(self, d, env):
        k = self.r.randrange(4)
        if k == 0:
            return f"(assoc {self.expr('hmap', d, env)} {self.pick(KEYS)} {self.expr('int', d, env)})"
        if k == 1:
            i, m, lp = self.name("i"), self.name("m"), self.name("loop")
            return (f"(let {lp} (({i} 0) ({m} (hash-map))) (if (= {i} {self.r.randint(0, 30)}) {m} "
                    f"({lp} (+ {i} 1) (assoc {m} (mod (* {i} 7) 11) {i}))))")
        if k == 2:
            return f"(dissoc {self.expr('hmap', d, env)} {self.pick(KEYS)})"
        return f"(foldl (fn (m x) (assoc m x (* x x))) (hash-map) {self.expr('list', d, env)})"

    def e_fn(self, d, env):
        k = self.r.randrange(5)
        p = self.name("p")
        body = self.expr("int", d, env + [(p, "int")])
        if k == 0:
            return f"(fn ({p}) {body})"
        if k == 1:
            # a closure over a fresh variable
            c = self.name("c")
            return f"(let (({c} {self.expr('int', d, env)})) (fn ({p}) (+ {c} {body})))"
        if k == 2:
            return f"(fn ({p} . rest) {body})"
        if k == 3:
            g = self.expr("fn", d, env)
            return f"(let ((g {g})) (fn ({p}) (g (g {p}))))"
        return f"(lambda ({p}) {body})"

    # ---- programs ----

    def program(self, depth):
        """Top-level forms printing one result."""
        forms = []
        ty = self.pick(["int", "int", "int", "bool", "str", "list", "vec", "map", "hmap", "float", "fn"])
        kind = self.r.randrange(8)  # 6, 7: a generated expression
        if kind == 0:
            # a global function used by the expression
            f = self.name(self.prefix + "f")
            a, b = self.name("a"), self.name("b")
            body = self.expr("int", depth, [(a, "int"), (b, "int")])
            forms.append(f"(define ({f} {a} {b}) {body})")
            expr = f"({f} {self.expr('int', 2, [])} {self.expr('int', 2, [])})"
            ty = "int"
        elif kind == 1:
            # a recursive global function (not a tail call)
            f = self.name(self.prefix + "r")
            n = self.name("n")
            forms.append(f"(define ({f} {n}) (if (<= {n} 0) {self.expr('int', 2, [])} "
                         f"(+ {self.expr('int', 2, [(n, 'int')])} ({f} (- {n} 1)))))")
            expr = f"({f} {self.r.randint(0, 30)})"
            ty = "int"
        elif kind == 2:
            # internal defines and mutual recursion
            ty = "int" if ty == "fn" else ty
            ev, od = self.name("ev"), self.name("od")
            expr = (f"(let () (define ({ev} n) (if (= n 0) #t ({od} (- n 1)))) "
                    f"(define ({od} n) (if (= n 0) #f ({ev} (- n 1)))) "
                    f"(list ({ev} {self.r.randint(0, 2000)}) {self.expr(ty, depth, [])}))")
        elif kind == 3:
            # arithmetic and comparison sites whose operand types change
            # from call to call (quickened instructions and their fallbacks)
            f = self.name(self.prefix + "q")
            forms.append(f"(define ({f} x y) (list (+ x y) (- x y) (* x y) (/ x 2.0) "
                         f"(if (< x y) 1 0) (if (<= x y) 1 0) (if (> x y) 1 0) (if (>= x y) 1 0) (if (= x y) 1 0)))")
            vals = []
            for _ in range(self.r.randint(3, 12)):
                vals.append(self.pick([str(self.r.randint(-50, 50)), self.leaf("float"), self.leaf("float"),
                                       str(self.r.randint(2**48, 2**50)), '"s"', "1.0", "0"]))
            pairs = " ".join(f"[{self.pick(vals)} {self.pick(vals)}]" for _ in range(self.r.randint(4, 16)))
            expr = (f"(map (fn (p) (try ({f} (nth p 0) (nth p 1)) (catch e (:type e)))) [{pairs}])")
            ty = "list"
        elif kind == 4:
            # float accumulation loops
            i, acc = self.name("i"), self.name("acc")
            n = self.r.randint(1, 200)
            step = self.leaf("float")
            expr = (f"(let loop (({i} 0) ({acc} {self.pick(['0', '0.0', '1.5'])})) "
                    f"(if (< {i} {n}) (loop (+ {i} 1) (+ (* {acc} 0.5) (- {step} {i}))) {acc}))")
            ty = "float"
        elif kind == 5:
            # accumulation shapes that update in place when the value is not shared
            k = self.r.randrange(7)
            if k == 0:
                expr = (f"(let ((m (foldl (fn (m x) (assoc m (mod x 7) (+ (get m (mod x 7) 0) x))) "
                        f"(hashmap/new) (range {self.r.randint(0, 100)})))) (sort (map (fn (e) (nth e 1)) (map/entries m))))")
            elif k == 1:
                expr = (f"(let loop ((i 0) (v {self.pick(['{}', '(hashmap/new)'])})) (if (< i {self.r.randint(0, 60)}) "
                        f"(loop (+ i 1) (assoc v (mod i 5) (* i i))) v))")
            elif k == 2:
                keep = self.name("keep")
                expr = (f"(let (({keep} '())) (let ((m (foldl (fn (m x) (set! {keep} (cons m {keep})) (assoc m x x)) "
                        f"{{}} (range {self.r.randint(0, 8)})))) (list m (reverse {keep}))))")
            elif k == 3:
                expr = (f"(foldl (fn (m w) (map/update m w (fn (c) (+ (or c 0) 1)))) {{}} "
                        f"(map (fn (i) (mod i {self.r.randint(1, 9)})) (range {self.r.randint(0, 50)})))")
            elif k == 4:
                # sorted or hash map through the flat form and B+tree / trie
                # splits, then dissoc back down (owned assoc and dissoc)
                n, mod, step = self.r.randint(0, 120), self.r.randint(1, 150), self.r.randint(1, 4)
                mk = self.pick(['{}', '(hashmap/new)'])
                expr = (f"(let ((m (foldl (fn (m x) (assoc m (mod (* x 7) {mod}) x)) {mk} (range {n})))) "
                        f"(let ((d (foldl (fn (m x) (dissoc m x)) m (range 0 {mod} {step})))) "
                        f"(list (length m) (length d) (sort (keys d)) (get d 1))))")
            elif k == 5:
                # do loop / named let mixing assoc, dissoc and map/update, with a
                # version kept by a global half of the time
                keep = self.name("keep")
                n, mod = self.r.randint(0, 80), self.r.randint(1, 40)
                mk = self.pick(['{}', '(hashmap/new)'])
                save = f"(when (= i {self.r.randint(0, n + 1)}) (set! {keep} m)) " if self.r.randrange(2) else ""
                expr = (f"(let (({keep} #f)) "
                        f"(let ((r (do ((i 0 (+ i 1)) (m {mk} (let ((k (mod (* i 5) {mod}))) "
                        f"(if (= 0 (mod i 3)) (dissoc m k) (map/update (assoc m (+ k 100) i) k (fn (c) (+ (or c 0) i))))))) "
                        f"((= i {n}) m) {save}))) "
                        f"(list (sort (map/entries r)) (if {keep} (sort (map/entries {keep})) #f))))")
            else:
                # a map/update whose function raises part-way: the map escaped
                # before the fold stays as it was
                n = self.r.randint(1, 30)
                stop = self.r.randint(0, n)
                mk = self.pick(['{}', '(hashmap/new)'])
                expr = (f"(let ((m0 (foldl (fn (m x) (assoc m x x)) {mk} (range {n})))) "
                        f"(list (try (foldl (fn (m x) (map/update m x (fn (c) (if (= x {stop}) (throw c) (* 2 c))))) m0 (range {n})) "
                        f"(catch e (:value e))) (sort (map/entries m0))))")
            ty = "list"
        else:
            expr = self.expr(ty, depth, [])
        if ty == "fn":
            expr = f"(map {expr} '(0 1 -2 5))"
        forms.append(f"(println (try {expr} (catch e (list :error (:type e) (:message e)))))")
        return forms

    def redefinition(self):
        """Last in a file: redefine builtins that compiled code inlines."""
        f = self.name(self.prefix + "uses")
        op = self.pick(["+", "car", "<", "get", "nth", "not"])
        forms = [f"(define ({f} xs) (list (+ 1 2) (car xs) (< 1 2) (get {{:a 1}} :a) (nth [5 6] 1) (not #f)))",
                 f"(println ({f} '(9 8)))"]
        repl = {
            "+": "(fn args (apply * args))",
            "car": "(fn (l) :car-was-redefined)",
            "<": "(fn (a b) :lt)",
            "get": "(fn (m k) :got)",
            "nth": "(fn (v i) :nth)",
            "not": "(fn (x) :not)",
        }[op]
        forms.append(f"(define {op} {repl})")
        forms.append(f"(println ({f} '(9 8)))")
        return forms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--per-file", type=int, default=100)
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    made = 0
    fileno = 0
    while made < a.count:
        n = min(a.per_file, a.count - made)
        g = Gen(rng, f"g{fileno}-")
        lines = [f";; generated program file {fileno}: {n} programs (seed {a.seed})"]
        for i in range(n):
            lines.append(f";; program {made + i}")
            lines.extend(g.program(rng.randint(2, 5)))
        if rng.random() < 0.3:
            lines.extend(g.redefinition())
        with open(os.path.join(a.out, f"gen{fileno:04d}.sema"), "w") as f:
            f.write("\n".join(lines) + "\n")
        made += n
        fileno += 1


if __name__ == "__main__":
    main()
