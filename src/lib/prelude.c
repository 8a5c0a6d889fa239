/* prelude.c - the predefined macros of language.md §8, written in Sema.
 * They are ordinary global macros: visible to macroexpand, replaceable by
 * defmacro. */
#include <stdlib.h>
#include "../compiler.h"
#include "lib.h"

static const char prelude_src[] =
    /* the Tier C terminal guard macros (stdlib.md §28): teardown also on error */
    "(defmacro term/with-alt-screen (. body)\n"
    "  `(begin (term/enter-alt-screen) (term/hide-cursor)\n"
    "     (let ((r# (try (begin ,@body) (catch e# (term/show-cursor) (term/leave-alt-screen) (throw e#)))))\n"
    "       (term/show-cursor) (term/leave-alt-screen) r#)))\n"
    "(defmacro term/with-mouse (. body)\n"
    "  `(begin (display \"\\x1b;[?1000h\\x1b;[?1002h\\x1b;[?1006h\")\n"
    "     (let ((r# (try (begin ,@body) (catch e# (display \"\\x1b;[?1000l\\x1b;[?1002l\\x1b;[?1006l\") (throw e#)))))\n"
    "       (display \"\\x1b;[?1000l\\x1b;[?1002l\\x1b;[?1006l\") r#)))\n"
    "(defmacro io/with-raw-mode (. body)\n"
    "  `(let* ((t# (io/tty-raw!)) (r# (try (begin ,@body) (catch e# (io/tty-restore! t#) (throw e#)))))\n"
    "     (io/tty-restore! t#) r#))\n"
    "(defmacro -> (x . forms)\n"
    "  (if (null? forms) x\n"
    "      (let ((f (car forms)))\n"
    "        `(-> ,(if (pair? f) `(,(car f) ,x ,@(cdr f)) (list f x)) ,@(cdr forms)))))\n"
    "(defmacro ->> (x . forms)\n"
    "  (if (null? forms) x\n"
    "      (let ((f (car forms)))\n"
    "        `(->> ,(if (pair? f) (append f (list x)) (list f x)) ,@(cdr forms)))))\n"
    "(defmacro as-> (x name . forms)\n"
    "  (if (null? forms) x\n"
    "      `(let ((,name ,x)) (as-> ,(car forms) ,name ,@(cdr forms)))))\n"
    "(defmacro some-> (x . forms)\n"
    "  (if (null? forms) x\n"
    "      `(let ((v# ,x)) (if (nil? v#) nil (some-> (-> v# ,(car forms)) ,@(cdr forms))))))\n"
    "(defmacro when-let (binding . body)\n"
    "  `(let ((,(nth binding 0) ,(nth binding 1))) (when (not (nil? ,(nth binding 0))) ,@body)))\n"
    "(defmacro if-let (binding then else)\n"
    "  `(let ((,(nth binding 0) ,(nth binding 1))) (if (nil? ,(nth binding 0)) ,else ,then)))\n"
    /* divergence allowed by §8: a negative count or a non-positive step terminates */
    "(defmacro dotimes (spec . body)\n"
    "  `(do ((,(nth spec 0) 0 (+ ,(nth spec 0) 1))) ((>= ,(nth spec 0) ,(nth spec 1))) ,@body))\n"
    "(defmacro for-range (spec . body)\n"
    "  (let ((var (nth spec 0)) (step (if (= (length spec) 4) (nth spec 3) 1)))\n"
    "    `(do ((,var ,(nth spec 1) (+ ,var ,step))) ((>= ,var ,(nth spec 2))) ,@body)))\n";

/* The docstrings of the macros above (`,doc`, `sema doc`), kept on their
 * global cells rather than as strings in the source: reading and allocating
 * them made `sema -e 1` run 5% more instructions (docs/design.md,
 * "Documentation in the binary").  A user defmacro of the same name drops
 * the doc with the old value. */
static const char *const prelude_docs[][2] = {
    {"term/with-alt-screen",
     "(term/with-alt-screen body...)\nSwitches the terminal to the alternate screen and hides the cursor, evaluates "
     "the body and returns its value; the cursor and the main screen come back also when the body raises."},
    {"term/with-mouse",
     "(term/with-mouse body...)\nTurns on terminal mouse reporting (SGR mode) while the body runs and returns its "
     "value; reporting is turned off again also when the body raises."},
    {"io/with-raw-mode",
     "(io/with-raw-mode body...)\nPuts the terminal in raw mode (io/tty-raw!) while the body runs and returns its "
     "value; the saved mode is restored also when the body raises."},
    {"->",
     "(-> x form...)\nThreads x through the forms as their first argument: (-> x (f a) g) is (g (f x a)); a form "
     "that is not a list, such as a keyword, is called with the value."},
    {"->>", "(->> x form...)\nThreads x through the forms as their last argument: (->> x (f a) g) is (g (f a x))."},
    {"as->",
     "(as-> x name form...)\nBinds name to x, then to the value of each form in turn (each may use name anywhere), "
     "and returns the last value."},
    {"some->",
     "(some-> x form...)\nLike ->, but stops with nil as soon as a value in the chain (x included) is nil; #f does "
     "not stop it."},
    {"when-let",
     "(when-let (name expr) body...)\nBinds name to the value of expr and evaluates the body when it is not nil (#f "
     "counts as a value); otherwise nil. The binding may also be a two-element vector."},
    {"if-let",
     "(if-let (name expr) then else)\nBinds name to the value of expr and evaluates then when it is not nil, else "
     "otherwise."},
    {"dotimes",
     "(dotimes (var n) body...)\nEvaluates the body with var bound to 0, 1, ... up to n - 1 (n is evaluated before "
     "each iteration); returns nil. A negative count runs no iteration."},
    {"for-range",
     "(for-range (var start end [step]) body...)\nEvaluates the body with var from start while var < end, adding "
     "step (default 1) after each iteration (end and step are evaluated each time); returns nil. A non-positive "
     "step ends the loop."},
};

static void load_prelude(VM *vm, void *ud) {
  compile_eval_string(vm, prelude_src, sizeof prelude_src - 1, NULL);
  for (size_t i = 0; i < sizeof prelude_docs / sizeof prelude_docs[0]; i++)
    if (!env_set_doc(vm, prelude_docs[i][0], prelude_docs[i][1]))
      err_eval(vm, "no prelude macro %s to document", prelude_docs[i][0]);
}

void lib_prelude_init(VM *vm) {
  if (vm_protect(vm, load_prelude, NULL)) {
    fprintf(stderr, "sema: the prelude failed to load: %s\n", str_data(err_display(vm, vm_error(vm))));
    abort();
  }
}
