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

static void load_prelude(VM *vm, void *ud) {
  compile_eval_string(vm, prelude_src, sizeof prelude_src - 1, NULL);
}

void lib_prelude_init(VM *vm) {
  if (vm_protect(vm, load_prelude, NULL)) {
    fprintf(stderr, "sema: the prelude failed to load: %s\n", str_data(err_display(vm, vm_error(vm))));
    abort();
  }
}
