/* prelude.c - the predefined macros of language.md §8, written in Sema.
 * They are ordinary global macros: visible to macroexpand, replaceable by
 * defmacro.
 *
 * Each is compiled on first use, not at start-up: reading and compiling all
 * of them was 62% of the instructions of `sema -e 1` (1.64M of 2.65M), and
 * most programs use two or three.  lib_prelude_init only marks their cells
 * lazy (env.c, "Lazy globals") and sets their docs; the first lookup of a
 * name (the analyzer meeting `(when-let ...)`, macroexpand, env_get, a
 * listing) compiles that one definition in the global environment.  A
 * definition may use other prelude macros: their own first use compiles
 * them in turn. */
#include <stdlib.h>
#include <string.h>
#include "../compiler.h"
#include "lib.h"

/* Each row: the name, its one (defmacro ...) form, and its docstring
 * (`,doc`, `sema doc`).  Docstrings are kept on the global cells rather than
 * as strings in the source: reading and allocating them made `sema -e 1` run
 * 5% more instructions (docs/design.md, "Documentation in the binary").  A
 * user defmacro of the same name drops the doc with the old value. */
typedef struct {
  const char *name, *src, *doc;
} PreludeDef;

static const PreludeDef prelude_defs[] = {
    /* async.md §7: the fan-out macros; bounded ones use a channel of n tokens as a semaphore */
    {"async/spawn-all",
     "(defmacro async/spawn-all (thunks)\n"
     "  `(async/all (map (fn (t#) (async/spawn t#)) ,thunks)))\n",
     "(async/spawn-all thunks)\nSpawns a task for each zero-argument function of thunks and returns the list of their values in order (async/all)."},
    {"async/map",
     "(defmacro async/map (f items)\n"
     "  `(let ((f# ,f)) (async/all (map (fn (x#) (async/spawn (fn () (f# x#)))) ,items))))\n",
     "(async/map f items)\nCalls f on every item, each call in its own task, and returns the results in input order; an error surfaces as \"async/all: task rejected: ...\"."},
    {"async/pool-map",
     "(defmacro async/pool-map (f items n)\n"
     "  `(let ((f# ,f) (items# ,items) (sem# (channel/new ,n)))\n"
     "     (for-range (i# 0 ,n) (channel/send sem# :token))\n"
     "     (async/all (map (fn (x#) (async/spawn (fn ()\n"
     "                  (channel/recv sem#)\n"
     "                  (let ((r# (try {:ok (f# x#)} (catch e# {:err e#}))))\n"
     "                    (channel/send sem# :token)\n"
     "                    (if (contains? r# :ok) (get r# :ok) (throw (get r# :err)))))))\n"
     "                items#))))\n",
     "(async/pool-map f items n)\nLike async/map with at most n calls of f active at once; results in input order."},
    {"parallel",
     "(defmacro parallel (thunks . opt)\n"
     "  (let ((n (if (null? opt) 8 (car opt))))\n"
     "    `(let ((ts# ,thunks) (sem# (channel/new ,n)))\n"
     "       (for-range (i# 0 ,n) (channel/send sem# :token))\n"
     "       (async/all (map (fn (t#) (async/spawn (fn ()\n"
     "                    (channel/recv sem#)\n"
     "                    (let ((r# (try (t#) (catch e# nil))))\n"
     "                      (channel/send sem# :token) r#))))\n"
     "                  ts#)))))\n",
     "(parallel thunks [n])\nRuns every thunk in its own task, at most n (default 8) at once, and returns their values in input order, nil for each thunk that raised."},
    {"parallel-settled",
     "(defmacro parallel-settled (thunks . opt)\n"
     "  (let ((n (if (null? opt) 8 (car opt))))\n"
     "    `(let ((ts# ,thunks) (sem# (channel/new ,n)))\n"
     "       (for-range (i# 0 ,n) (channel/send sem# :token))\n"
     "       (async/all (map (fn (t#) (async/spawn (fn ()\n"
     "                    (channel/recv sem#)\n"
     "                    (let ((r# (try {:ok (t#)} (catch e# {:err e#}))))\n"
     "                      (channel/send sem# :token) r#))))\n"
     "                  ts#)))))\n",
     "(parallel-settled thunks [n])\nLike parallel, but each slot is {:ok value} or {:err error-map}."},
    {"pipeline",
     "(defmacro pipeline (items . stages)\n"
     "  `(let ((stages# (list ,@stages)) (sem# (channel/new 8)))\n"
     "     (for-range (i# 0 8) (channel/send sem# :token))\n"
     "     (async/all (map (fn (x#) (async/spawn (fn ()\n"
     "                  (channel/recv sem#)\n"
     "                  (let ((r# (try (foldl (fn (acc# st#) (st# acc#)) x# stages#) (catch e# nil))))\n"
     "                    (channel/send sem# :token) r#))))\n"
     "                ,items))))\n",
     "(pipeline items stage...)\nPasses each item through the stages (functions) in its own task, 8 at a time; results in input order, nil where a stage raised."},
    {"pipeline-settled",
     "(defmacro pipeline-settled (items . stages)\n"
     "  `(let ((stages# (list ,@stages)) (sem# (channel/new 8)))\n"
     "     (for-range (i# 0 8) (channel/send sem# :token))\n"
     "     (async/all (map (fn (x#) (async/spawn (fn ()\n"
     "                  (channel/recv sem#)\n"
     "                  (let ((r# (try {:ok (foldl (fn (acc# st#) (st# acc#)) x# stages#)} (catch e# {:err e#}))))\n"
     "                    (channel/send sem# :token) r#))))\n"
     "                ,items))))\n",
     "(pipeline-settled items stage...)\nLike pipeline, but each slot is {:ok value} or {:err error-map}."},
    {"settled/ok?",
     "(defmacro settled/ok? (r) `(contains? ,r :ok))\n",
     "(settled/ok? r)\nTrue when the settled slot r is {:ok ...} (a macro: wrap it in a lambda to pass it to filter)."},
    {"settled/err?",
     "(defmacro settled/err? (r) `(contains? ,r :err))\n",
     "(settled/err? r)\nTrue when the settled slot r is {:err ...} (a macro)."},
    {"settled-partition",
     "(defmacro settled-partition (rs)\n"
     "  `(let ((rs# ,rs))\n"
     "     {:ok (map (fn (r#) (get r# :ok)) (filter (fn (r#) (contains? r# :ok)) rs#))\n"
     "      :err (map (fn (r#) (get r# :err)) (filter (fn (r#) (contains? r# :err)) rs#))}))\n",
     "(settled-partition rs)\nA map {:ok values :err errors} of the settled slots rs, both in input order."},
    {"with-retry",
     "(defmacro with-retry (opts thunk)\n"
     "  `(let* ((o# ,opts) (t# ,thunk)\n"
     "          (max# (or (get o# :max) 3)) (delay# (or (get o# :base-ms) 200))\n"
     "          (factor# (or (get o# :factor) 2)) (on# (get o# :on)))\n"
     "     (let loop# ((k# 1))\n"
     "       (let ((r# (try {:ok (t#)} (catch e# {:err e#}))))\n"
     "         (if (contains? r# :ok) (get r# :ok)\n"
     "             (begin\n"
     "               (when on# (on# (get r# :err) k#))\n"
     "               (if (>= k# max#) (throw (get r# :err))\n"
     "                   (begin (async/sleep delay#) (set! delay# (* delay# factor#)) (loop# (+ k# 1))))))))))\n",
     "(with-retry opts thunk)\nCalls thunk until it succeeds, at most (:max opts) times (default 3), sleeping :base-ms (200) ms multiplied by :factor (2) after each failure (async/sleep: yields in a task); calls (:on opts) with the error and the attempt number after each failure; re-raises the last error."},
    /* the Tier C terminal guard macros (stdlib.md §28): teardown also on error */
    {"term/with-alt-screen",
     "(defmacro term/with-alt-screen (. body)\n"
     "  `(begin (term/enter-alt-screen) (term/hide-cursor)\n"
     "     (let ((r# (try (begin ,@body) (catch e# (term/show-cursor) (term/leave-alt-screen) (throw e#)))))\n"
     "       (term/show-cursor) (term/leave-alt-screen) r#)))\n",
     "(term/with-alt-screen body...)\nSwitches the terminal to the alternate screen and hides the cursor, evaluates "
     "the body and returns its value; the cursor and the main screen come back also when the body raises."},
    {"term/with-mouse",
     "(defmacro term/with-mouse (. body)\n"
     "  `(begin (display \"\\x1b;[?1000h\\x1b;[?1002h\\x1b;[?1006h\")\n"
     "     (let ((r# (try (begin ,@body) (catch e# (display \"\\x1b;[?1000l\\x1b;[?1002l\\x1b;[?1006l\") (throw e#)))))\n"
     "       (display \"\\x1b;[?1000l\\x1b;[?1002l\\x1b;[?1006l\") r#)))\n",
     "(term/with-mouse body...)\nTurns on terminal mouse reporting (SGR mode) while the body runs and returns its "
     "value; reporting is turned off again also when the body raises."},
    {"io/with-raw-mode",
     "(defmacro io/with-raw-mode (. body)\n"
     "  `(let* ((t# (io/tty-raw!)) (r# (try (begin ,@body) (catch e# (io/tty-restore! t#) (throw e#)))))\n"
     "     (io/tty-restore! t#) r#))\n",
     "(io/with-raw-mode body...)\nPuts the terminal in raw mode (io/tty-raw!) while the body runs and returns its "
     "value; the saved mode is restored also when the body raises."},
    {"->",
     "(defmacro -> (x . forms)\n"
     "  (if (null? forms) x\n"
     "      (let ((f (car forms)))\n"
     "        `(-> ,(if (pair? f) `(,(car f) ,x ,@(cdr f)) (list f x)) ,@(cdr forms)))))\n",
     "(-> x form...)\nThreads x through the forms as their first argument: (-> x (f a) g) is (g (f x a)); a form "
     "that is not a list, such as a keyword, is called with the value."},
    {"->>",
     "(defmacro ->> (x . forms)\n"
     "  (if (null? forms) x\n"
     "      (let ((f (car forms)))\n"
     "        `(->> ,(if (pair? f) (append f (list x)) (list f x)) ,@(cdr forms)))))\n",
     "(->> x form...)\nThreads x through the forms as their last argument: (->> x (f a) g) is (g (f a x))."},
    {"as->",
     "(defmacro as-> (x name . forms)\n"
     "  (if (null? forms) x\n"
     "      `(let ((,name ,x)) (as-> ,(car forms) ,name ,@(cdr forms)))))\n",
     "(as-> x name form...)\nBinds name to x, then to the value of each form in turn (each may use name anywhere), "
     "and returns the last value."},
    {"some->",
     "(defmacro some-> (x . forms)\n"
     "  (if (null? forms) x\n"
     "      `(let ((v# ,x)) (if (nil? v#) nil (some-> (-> v# ,(car forms)) ,@(cdr forms))))))\n",
     "(some-> x form...)\nLike ->, but stops with nil as soon as a value in the chain (x included) is nil; #f does "
     "not stop it."},
    {"when-let",
     "(defmacro when-let (binding . body)\n"
     "  `(let ((,(nth binding 0) ,(nth binding 1))) (when (not (nil? ,(nth binding 0))) ,@body)))\n",
     "(when-let (name expr) body...)\nBinds name to the value of expr and evaluates the body when it is not nil (#f "
     "counts as a value); otherwise nil. The binding may also be a two-element vector."},
    {"if-let",
     "(defmacro if-let (binding then else)\n"
     "  `(let ((,(nth binding 0) ,(nth binding 1))) (if (nil? ,(nth binding 0)) ,else ,then)))\n",
     "(if-let (name expr) then else)\nBinds name to the value of expr and evaluates then when it is not nil, else "
     "otherwise."},
    /* divergence allowed by §8: a negative count or a non-positive step terminates */
    {"dotimes",
     "(defmacro dotimes (spec . body)\n"
     "  `(do ((,(nth spec 0) 0 (+ ,(nth spec 0) 1))) ((>= ,(nth spec 0) ,(nth spec 1))) ,@body))\n",
     "(dotimes (var n) body...)\nEvaluates the body with var bound to 0, 1, ... up to n - 1 (n is evaluated before "
     "each iteration); returns nil. A negative count runs no iteration."},
    {"for-range",
     "(defmacro for-range (spec . body)\n"
     "  (let ((var (nth spec 0)) (step (if (= (length spec) 4) (nth spec 3) 1)))\n"
     "    `(do ((,var ,(nth spec 1) (+ ,var ,step))) ((>= ,var ,(nth spec 2))) ,@body)))\n",
     "(for-range (var start end [step]) body...)\nEvaluates the body with var from start while var < end, adding "
     "step (default 1) after each iteration (end and step are evaluated each time); returns nil. A non-positive "
     "step ends the loop."},
};

/* hooks.define_lazy (boot.c): compile NAME's definition, into the global environment
 * even when the use that forced it is inside a module.  An error (out of
 * memory) unwinds to the caller's handler, which restores vm->env. */
void lib_prelude_define(VM *vm, Value name) {
  const char *n = sym_cstr(vm, name);
  for (size_t i = 0; i < sizeof prelude_defs / sizeof prelude_defs[0]; i++)
    if (strcmp(prelude_defs[i].name, n) == 0) {
      compile_eval_builtin(vm, prelude_defs[i].src, strlen(prelude_defs[i].src));
      return;
    }
}

void lib_prelude_init(VM *vm) {
  for (size_t i = 0; i < sizeof prelude_defs / sizeof prelude_defs[0]; i++) {
    env_define_lazy(vm, prelude_defs[i].name);
    env_set_doc(vm, prelude_defs[i].name, prelude_defs[i].doc);
  }
}
