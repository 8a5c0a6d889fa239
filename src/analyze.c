/* analyze.c - expansion and analysis: data (forms) to the core AST.
 *
 * Macros are expanded as they are met in expression position (a top-level
 * defmacro registers its macro at once), special forms are checked and
 * lowered, names are resolved to locals or global cells, and every reference
 * to a local is recorded so that capture can be computed once the whole
 * form has been seen (a named-let body may still be inlined into its parent).
 */
#include <stdlib.h>
#include <threads.h>
#include "ast.h"
#include "compiler.h"
#include "helpers.h"
#include "forms.h"
#include "map.h"
#include "env.h"
#include "runtime.h"

/* ---- scopes ---- */

typedef struct Scope {
  struct Scope *parent;
  Var **vars;
  uint32_t n, cap;
  FnInfo *fn;
  bool toplevel; /* defines here are global */
} Scope;

static Node *an(Unit *u, Scope *s, Value form, bool tail);
static Node *an_body(Unit *u, Scope *s, Value forms, bool tail, uint32_t pos);

static Node *node(Unit *u, NodeKind k, uint32_t pos) {
  Node *n = arena_alloc(u->arena, sizeof(Node));
  n->kind = k;
  n->pos = pos;
  n->cell = -1;
  return n;
}

static Node *const_node(Unit *u, Value v, uint32_t pos) {
  Node *n = node(u, N_CONST, pos);
  n->value = v;
  return n;
}

/* Values created by the analyzer must stay alive until the unit is done. */
static Value keep(Unit *u, Value v) {
  if (is_obj(v)) vm_push_root(u->vm, v);
  return v;
}

static Scope *scope_new(Unit *u, Scope *parent, FnInfo *fn) {
  Scope *s = arena_alloc(u->arena, sizeof(Scope));
  s->parent = parent;
  s->fn = fn;
  return s;
}

static Var *declare(Unit *u, Scope *s, Value name) {
  if (s->n == s->cap) {
    uint32_t cap = s->cap ? s->cap * 2 : 8;
    Var **vars = arena_alloc(u->arena, cap * sizeof(Var *));
    if (s->n) memcpy(vars, s->vars, s->n * sizeof(Var *));
    s->vars = vars;
    s->cap = cap;
  }
  Var *v = arena_alloc(u->arena, sizeof(Var));
  v->name = name;
  v->fn = s->fn;
  v->reg = -1;
  v->spill = -1;
  v->next_in_unit = u->vars;
  u->vars = v;
  s->vars[s->n++] = v;
  return v;
}

static Var *scope_find_here(Scope *s, Value name) {
  for (uint32_t i = s->n; i-- > 0;)
    if (s->vars[i]->name == name) return s->vars[i];
  return NULL;
}

static Var *lookup(Scope *s, Value name) {
  for (; s; s = s->parent) {
    Var *v = scope_find_here(s, name);
    if (v) return v;
  }
  return NULL;
}

/* ---- form helpers ---- */

static uint32_t form_pos(Unit *u, Value form) {
  if (is_cons(form) && as_obj(form)->aux) return as_obj(form)->aux;
  return u->last_pos;
}

static int64_t form_len(Value l) { return list_length(l); }

static Value nth_form(Value l, int i) {
  while (i-- > 0) l = cdr(l);
  return car(l);
}

static bool sym_is(VM *vm, Value v, const char *name) { return is_sym(v) && strcmp(sym_cstr(vm, v), name) == 0; }

static NORETURN void cerr(Unit *u, uint32_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static NORETURN void cerr(Unit *u, uint32_t pos, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  u->vm->compile_pos = pos;
  err_eval(u->vm, "%s", msg);
}

static NORETURN void carity(Unit *u, uint32_t pos, const char *name, const char *expects, int got) {
  u->vm->compile_pos = pos;
  err_arity(u->vm, name, expects, got);
}

static NORETURN void ctype(Unit *u, uint32_t pos, const char *expected, Value got) {
  u->vm->compile_pos = pos;
  err_type(u->vm, expected, got);
}

/* ---- references ---- */

static Node *ref_local(Unit *u, Scope *s, Var *v, uint32_t pos) {
  Node *n = node(u, N_LOCAL, pos);
  n->var = v;
  Ref *r = arena_alloc(u->arena, sizeof(Ref));
  r->var = v;
  r->from = s->fn;
  r->next = u->refs;
  u->refs = r;
  if (v->loop) v->loop->loop_ok = false; /* a use other than a recur call */
  return n;
}

static Node *an_symbol(Unit *u, Scope *s, Value sym, uint32_t pos) {
  Var *v = lookup(s, sym);
  if (v) return ref_local(u, s, v, pos);
  Node *n = node(u, N_GLOBAL, pos);
  n->cell = env_lookup(u->vm, u->vm->env, sym, true);
  if (env_global_bound(u->vm, (uint32_t)n->cell)) return n;
  /* unbound now: note the locals in scope for "Did you mean" (env.h) */
  Value locals[32];
  uint32_t k = 0;
  for (Scope *t = s; t && k < 32; t = t->parent)
    for (uint32_t i = t->n; i-- > 0 && k < 32;) locals[k++] = t->vars[i]->name;
  if (k) env_note_unbound(u->vm, sym, POS_LINE(pos), locals, k);
  return n;
}

/* ---- special forms ---- */

typedef Node *(*SpecialFn)(Unit *u, Scope *s, Value form, bool tail, uint32_t pos);

/* The special forms, one row each: X(c_name, "name"); the analyzer of form
 * NAME is sf_c_name.  analyze_intern_specials tags each name's symbol with
 * its row + 1, so recognising a special form is one load. */
#define SPECIAL_FORMS(X)                                                                          \
  X(quote, "quote") X(quasiquote, "quasiquote") X(if, "if") X(cond, "cond") X(case, "case")       \
  X(when, "when") X(unless, "unless") X(and, "and") X(or, "or") X(begin, "begin")                 \
  X(progn, "progn") X(define, "define") X(def, "def") X(defun, "defun") X(defn, "defn")           \
  X(lambda, "lambda") X(fn, "fn") X(let, "let") X(let_star, "let*") X(letrec, "letrec")           \
  X(do, "do") X(while, "while") X(set, "set!") X(throw, "throw") X(try, "try")                    \
  X(defmacro, "defmacro") X(macroexpand, "macroexpand") X(eval, "eval") X(match, "match")         \
  X(match_star, "match*") X(delay, "delay") X(force, "force")                                     \
  X(define_record_type, "define-record-type") X(defmulti, "defmulti") X(defmethod, "defmethod")   \
  X(module, "module") X(import, "import") X(load, "load") X(async, "async") X(await, "await")

static const char *const special_names[] = {
#define X(c_name, name) name,
    SPECIAL_FORMS(X)
#undef X
};
#define N_SPECIAL (sizeof special_names / sizeof special_names[0])

enum {
#define X(c_name, name) SFI_##c_name,
  SPECIAL_FORMS(X)
#undef X
};

/* The docstring of each special form (language.md §7): signature line, then
 * one paragraph.  `sema doc --undocumented` (in the test command) fails on a
 * row of SPECIAL_FORMS left out here. */
static const char *const special_docs[N_SPECIAL] = {
    [SFI_quote] = "(quote datum)\nReturns datum itself, unevaluated. Written 'datum.",
    [SFI_quasiquote] = "(quasiquote template)\nCopies template (written `template), replacing each (unquote e) "
                       "(,e) by the value of e and splicing the elements of the list or vector of each "
                       "(unquote-splicing e) (,@e) into the enclosing list or vector; map keys and values may "
                       "be unquoted. Nesting is not counted: an unquote at any depth belongs to the outermost "
                       "quasiquote. Symbols ending in one # are replaced by generated symbols (auto-gensym).",
    [SFI_if] = "(if test then [else])\nEvaluates test; if it is true (anything but #f and nil) evaluates and "
               "returns then, otherwise else, or nil when there is no else.",
    [SFI_cond] = "(cond clause...)\nTries each clause (test expr...) in order and evaluates the exprs of the "
                 "first whose test is true, returning the last value; a clause (test) returns #t, (else "
                 "expr...) is always taken, and nil is returned when no clause is taken.",
    [SFI_case] = "(case key clause...)\nEvaluates key once and takes the first clause ((datum...) expr...) "
                 "with a datum = to it (numbers compare numerically; the datums are not evaluated), or the "
                 "(else expr...) clause; returns the value of the clause's last expr, or nil.",
    [SFI_when] = "(when test body...)\nEvaluates the body forms when test is true and returns the last value; "
                 "otherwise nil.",
    [SFI_unless] = "(unless test body...)\nEvaluates the body forms when test is false (#f or nil) and returns "
                   "the last value; otherwise nil.",
    [SFI_and] = "(and expr...)\nEvaluates the exprs left to right and returns the first false value (#f or "
                "nil, itself), or else the value of the last one; (and) is #t.",
    [SFI_or] = "(or expr...)\nEvaluates the exprs left to right and returns the first true value, or else the "
               "value of the last one; (or) is #f.",
    [SFI_begin] = "(begin expr...)\nEvaluates the exprs in order and returns the last value ((begin) is nil). "
                  "It makes no scope: a top-level begin's definitions are global.",
    [SFI_progn] = "(progn expr...)\nAlias of begin: evaluates the exprs in order and returns the last value.",
    [SFI_define] = "(define name expr) or (define (name param...) body...)\nBinds name to the value of expr, "
                   "or to a function named name (a string before the other body forms is its docstring). At "
                   "top level it defines a global, in a body a local (letrec* semantics); (define [pattern...] "
                   "expr) and (define {pattern} expr) destructure. The value is nil.",
    [SFI_def] = "(def name expr) or (def (name param...) body...)\nAlias of define.",
    [SFI_defun] = "(defun name (param...) body...)\nDefines name as a function, the same as (define (name "
                  "param...) body...); the parameter list may also be a vector, and a string before the "
                  "other body forms is the docstring. The value is nil.",
    [SFI_defn] = "(defn name (param...) body...)\nAlias of defun: defines name as a function, with an optional "
                 "docstring before the other body forms.",
    [SFI_lambda] = "(lambda (param... [. rest]) body...)\nReturns a function. The parameters are symbols or "
                   "destructuring patterns in a list or vector; a rest parameter after . receives the extra "
                   "arguments as a list ((lambda args body...) takes them all). The body is an implicit "
                   "begin with internal defines; a string before the other body forms is the docstring.",
    [SFI_fn] = "(fn [param...] body...)\nAlias of lambda: returns a function of the parameters (a list or a "
               "vector).",
    [SFI_let] = "(let ((name init)...) body...) or (let loop ((var init)...) body...)\nEvaluates every init in "
                "the enclosing scope, binds the names (symbols or destructuring patterns) and evaluates the "
                "body. The named form binds loop to a function of the vars, visible in the body, and calls it "
                "with the inits; tail calls of it iterate in constant space.",
    [SFI_let_star] = "(let* ((name init)...) body...)\nLike let, but binds sequentially: each init sees the "
                     "names bound before it.",
    [SFI_letrec] = "(letrec ((name init)...) body...)\nBinds every name first (to nil), then evaluates the "
                   "inits in order and assigns them, then evaluates the body; for mutually recursive "
                   "functions.",
    [SFI_do] = "(do ((var init [step])...) (test result...) body...)\nBinds the vars to the inits, then "
               "repeatedly: if test is true, evaluates the results and returns the last (nil if none); "
               "otherwise evaluates the body, then all the steps with the old values, and assigns them "
               "together. Each iteration has fresh bindings.",
    [SFI_while] = "(while test body...)\nEvaluates the body as long as test is true; returns nil.",
    [SFI_set] = "(set! name expr)\nAssigns the value of expr to the innermost binding of name (local, captured "
                "or global), creating a global when there is none; returns the new value.",
    [SFI_throw] = "(throw value)\nRaises an error of kind :user carrying value (any value: a string, a map, "
                  "...); try catches it as a map whose :value is value.",
    [SFI_try] = "(try body... (catch var handler...))\nEvaluates the body forms and returns the last value; if "
                "any error is raised meanwhile (of any kind, also inside builtins and callbacks), binds var "
                "to the error map (:type, :message, :value, :stack-trace, ...) and returns the value of the "
                "handler forms instead. There is no finally; re-raise with throw.",
    [SFI_defmacro] = "(defmacro name (param... [. rest]) body...)\nDefines name globally as a macro: a call "
                     "(name form...) is replaced, when expanded, by the value of the body with the "
                     "parameters bound to the unevaluated forms. Unhygienic; inside quasiquote, symbols "
                     "ending in # are auto-gensyms. A string before the other body forms is the docstring.",
    [SFI_macroexpand] = "(macroexpand form)\nEvaluates form to a datum; if it is a list whose head names a "
                        "macro, returns the result of one expansion step (subforms unexpanded), else returns "
                        "it unchanged.",
    [SFI_eval] = "(eval expr)\nEvaluates expr to a datum, then expands, compiles and runs that datum as a unit "
                 "in the global environment (the caller's locals are not visible) and returns its value. Also "
                 "bound as a procedure, so (map eval forms) works.",
    [SFI_match] = "(match expr (pattern [when guard] body...)...)\nEvaluates expr once and evaluates the body "
                  "of the first clause whose pattern matches it (and whose guard, seeing the pattern's "
                  "bindings, is true). Patterns: _, a symbol (binds), 'datum, [p... & rest], {KEY p :keys "
                  "[names]}, or a literal compared with equal?. No match raises \"match: no clause matched "
                  "value: ...\".",
    [SFI_match_star] = "(match* expr (pattern [when guard] body...)...)\nLike match, but returns nil when no "
                       "clause matches.",
    [SFI_delay] = "(delay expr)\nReturns a promise that captures expr and its environment without evaluating "
                  "it; force evaluates it once and caches the value.",
    [SFI_force] = "(force promise)\nThe first time, evaluates the expression captured by delay and caches its "
                  "value (nothing is cached when it raises); afterwards returns the cached value. A value "
                  "that is not a promise is a type error.",
    [SFI_define_record_type] = "(define-record-type type (ctor field...) pred (field accessor [modifier])...)\n"
                               "Defines the global procedures ctor (a new record of the fields, in order), "
                               "pred (#t for records of this type) and one accessor per field. Records are "
                               "immutable: modifier names are accepted and ignored. (type r) is :type.",
    [SFI_defmulti] = "(defmulti name dispatch-fn)\nDefines name as a multimethod with no methods: a call "
                     "(name arg...) applies dispatch-fn to the args and calls the method registered for the "
                     "result with the same args, else the :default method, else raises an error.",
    [SFI_defmethod] = "(defmethod name dispatch-value handler)\nAdds (or replaces) the method of multimethod "
                      "name for dispatch-value; handler is a function expression, and the dispatch value "
                      ":default installs the fallback method. Returns nil.",
    [SFI_module] = "(module name (export sym...) body...)\nEvaluates the body as top-level forms; when the file "
                   "is being imported, only the exported syms are visible to the importer.",
    [SFI_import] = "(import path [name...])\nRuns the module file at path (relative to the importing file) "
                   "once, in its own environment, and copies its exports (all its top-level definitions "
                   "without a module form), or only the given names, into the importing environment. Modules "
                   "are cached by path; cycles raise an error.",
    [SFI_load] = "(load path)\nReads the file at path (relative to the file being run) and evaluates its forms "
                 "one by one in the current environment; returns the value of the last form. Not cached.",
    [SFI_async] = "(async body...)\nCreates a task that runs the body on the scheduler and returns its async "
                  "promise at once; the same as (async/spawn (fn () body...)).",
    [SFI_await] = "(await promise)\nReturns the value of the async promise, running the scheduler (or "
                  "yielding the current task) until it settles; raises when the task failed or was "
                  "cancelled.",
};

size_t analyze_special_count(void) { return N_SPECIAL; }
const char *analyze_special_name(size_t i) { return i < N_SPECIAL ? special_names[i] : NULL; }
const char *analyze_special_doc(size_t i) { return i < N_SPECIAL ? special_docs[i] : NULL; }

void analyze_intern_specials(VM *vm) {
  for (size_t i = 0; i < N_SPECIAL; i++) sym_set_tag(&vm->syms, sym_intern_c(vm, special_names[i]), (uint8_t)(i + 1));
}

/* The row of SYM in SPECIAL_FORMS + 1, or 0 if it names no special form. */
static inline unsigned special_of(VM *vm, Value sym) { return is_sym(sym) ? sym_tag(&vm->syms, sym_id(sym)) : 0; }

bool analyze_is_special(VM *vm, Value sym) { return special_of(vm, sym) != 0; }
int analyze_special_index(VM *vm, Value sym) { return (int)special_of(vm, sym) - 1; }

static Node *sf_quote(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  int64_t n = form_len(form) - 1;
  if (n != 1) carity(u, pos, "quote", "1", (int)n);
  return const_node(u, nth_form(form, 1), pos);
}

static Node *sf_if(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  int64_t n = form_len(form) - 1;
  if (n < 2 || n > 3) carity(u, pos, "if", "2 or 3", (int)n);
  Node *r = node(u, N_IF, pos);
  r->a = an(u, s, nth_form(form, 1), false);
  r->b = an(u, s, nth_form(form, 2), tail);
  r->c = n == 3 ? an(u, s, nth_form(form, 3), tail) : const_node(u, NIL_VAL, pos);
  return r;
}

/* analyze a sequence of expressions (no internal defines) */
static Node *an_seq(Unit *u, Scope *s, Value forms, bool tail, uint32_t pos) {
  int64_t n = form_len(forms);
  if (n == 0) return const_node(u, NIL_VAL, pos);
  if (n == 1) return an(u, s, car(forms), tail);
  Node *r = node(u, N_SEQ, pos);
  r->kids = arena_alloc(u->arena, (size_t)n * sizeof(Node *));
  r->nkids = (uint32_t)n;
  for (int64_t i = 0; i < n; i++, forms = cdr(forms)) r->kids[i] = an(u, s, car(forms), tail && i == n - 1);
  return r;
}

static Node *sf_begin(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  return an_seq(u, s, cdr(form), tail, pos);
}

static Node *sf_when(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  bool is_unless = sym_is(u->vm, car(form), "unless");
  int64_t n = form_len(form) - 1;
  if (n < 2) carity(u, pos, is_unless ? "unless" : "when", "2+", (int)n);
  Node *r = node(u, N_IF, pos);
  r->a = an(u, s, nth_form(form, 1), false);
  Node *body = an_seq(u, s, cdr(cdr(form)), tail, pos);
  Node *none = const_node(u, NIL_VAL, pos);
  r->b = is_unless ? none : body;
  r->c = is_unless ? body : none;
  return r;
}

static Node *sf_and(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  bool is_or = sym_is(u->vm, car(form), "or");
  int64_t n = form_len(form) - 1;
  if (n == 0) return const_node(u, is_or ? FALSE_VAL : TRUE_VAL, pos);
  if (n == 1) return an(u, s, nth_form(form, 1), tail);
  Node *r = node(u, is_or ? N_OR : N_AND, pos);
  r->kids = arena_alloc(u->arena, (size_t)n * sizeof(Node *));
  r->nkids = (uint32_t)n;
  Value l = cdr(form);
  for (int64_t i = 0; i < n; i++, l = cdr(l)) r->kids[i] = an(u, s, car(l), tail && i == n - 1);
  return r;
}

static Node *cond_clauses(Unit *u, Scope *s, Value clauses, bool tail, uint32_t pos) {
  if (!is_cons(clauses)) return const_node(u, NIL_VAL, pos);
  Value cl = car(clauses);
  if (cl == EMPTY_VAL) cerr(u, pos, "cond: clause must not be empty");
  if (!is_cons(cl)) cerr(u, pos, "cond: expected a list");
  uint32_t cpos = form_pos(u, cl);
  Value test = car(cl), body = cdr(cl);
  if (sym_is(u->vm, test, "else")) return body == EMPTY_VAL ? const_node(u, TRUE_VAL, cpos) : an_seq(u, s, body, tail, cpos);
  Node *r = node(u, N_IF, cpos);
  r->a = an(u, s, test, false);
  r->b = body == EMPTY_VAL ? const_node(u, TRUE_VAL, cpos) : an_seq(u, s, body, tail, cpos);
  r->c = cond_clauses(u, s, cdr(clauses), tail, pos);
  return r;
}

static Node *sf_cond(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  if (form_len(form) < 0) cerr(u, pos, "cond: expected a list");
  return cond_clauses(u, s, cdr(form), tail, pos);
}

static Node *prim2(Unit *u, OpCode op, Node *a, Node *b, uint32_t pos) {
  Node *r = node(u, N_PRIM, pos);
  r->op = op;
  r->kids = arena_alloc(u->arena, 2 * sizeof(Node *));
  r->kids[0] = a;
  r->kids[1] = b;
  r->nkids = 2;
  return r;
}

static Node *sf_case(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  int64_t n = form_len(form) - 1;
  if (n < 2) carity(u, pos, "case", "2+", (int)n);
  Scope *inner = scope_new(u, s, s->fn);
  Node *key = an(u, s, nth_form(form, 1), false);
  Var *kv = declare(u, inner, keep(u, SYM(u->vm, " case-key")));
  Node *let = node(u, N_LET, pos);
  let->vars = arena_alloc(u->arena, sizeof(Var *));
  let->vars[0] = kv;
  let->nvars = 1;
  let->kids = arena_alloc(u->arena, sizeof(Node *));
  let->kids[0] = key;
  let->nkids = 1;
  /* build the if chain back to front */
  Value clauses = cdr(cdr(form));
  int64_t nc = form_len(clauses);
  /* in the unit's arena: an error in a clause unwinds without leaking it */
  Value *cls = arena_alloc(u->arena, (size_t)(nc > 0 ? nc : 1) * sizeof(Value));
  for (int64_t i = 0; i < nc; i++, clauses = cdr(clauses)) cls[i] = car(clauses);
  Node *chain = const_node(u, NIL_VAL, pos);
  for (int64_t i = nc; i-- > 0;) {
    Value cl = cls[i];
    if (cl == EMPTY_VAL) {
      cerr(u, pos, "case: clause must not be empty");
    }
    if (!is_cons(cl)) {
      cerr(u, pos, "case: expected a list");
    }
    uint32_t cpos = form_pos(u, cl);
    Node *body = an_seq(u, inner, cdr(cl), tail, cpos);
    if (sym_is(u->vm, car(cl), "else")) {
      chain = body;
      continue;
    }
    Value data = car(cl);
    if (!is_list(data)) {
      cerr(u, cpos, "case: expected a list");
    }
    Node *test = node(u, N_OR, cpos);
    int64_t nd = form_len(data);
    if (nd == 0) {
      test = const_node(u, FALSE_VAL, cpos);
    } else {
      test->kids = arena_alloc(u->arena, (size_t)nd * sizeof(Node *));
      test->nkids = (uint32_t)nd;
      for (int64_t k = 0; k < nd; k++, data = cdr(data))
        test->kids[k] = prim2(u, OP_EQV, ref_local(u, inner, kv, cpos), const_node(u, car(data), cpos), cpos);
    }
    Node *ifn = node(u, N_IF, cpos);
    ifn->a = test;
    ifn->b = body;
    ifn->c = chain;
    chain = ifn;
  }
  let->a = chain;
  return let;
}

/* ---- lambda ---- */

static Value vec_to_list(Unit *u, Value v) {
  if (!is_vector(v)) return v;
  return keep(u, list_from(u->vm, vec_items(v), vec_len(v)));
}

static bool is_pattern(Value p) { return is_vector(p) || is_map(p); }

/* Body forms that destructure each (pattern hidden-var) pair, in order:
 *   ((let ((d (%destructure 'pattern hidden))) (let ((name (%vec-ref d 0)) ...) ...body)))
 * The helpers are referenced as values so no binding can shadow them. */
static Value destructure_body(VM *vm, Value pairs, Value body) {
  if (!is_cons(pairs)) return body;
  Value pattern = car(car(pairs)), hidden = car(cdr(car(pairs)));
  Value inner = destructure_body(vm, cdr(pairs), body);
  Value d = SYM(vm, " destructured");
  ListBuilder binds;
  list_start(&binds);
  int64_t i = 0;
  for (Value l = compile_pattern_names(vm, pattern); is_cons(l); l = cdr(l), i++)
    list_add(vm, &binds, list_2(vm, car(l), list_3(vm, vm->helpers[HELPER_VEC_REF], d, small_int_val(i))));
  Value names_let = list_cons(vm, SYM(vm, "let"), list_cons(vm, binds.head, inner));
  Value call = list_3(vm, vm->helpers[HELPER_DESTRUCTURE], list_2(vm, SYM(vm, "quote"), pattern), hidden);
  return list_1(vm, list_3(vm, SYM(vm, "let"), list_1(vm, list_2(vm, d, call)), names_let));
}

/* Analyze (params body...) into a lambda node.  name: symbol or nil. */
static Node *an_lambda(Unit *u, Scope *s, Value params, Value body, Value name, uint32_t pos, const char *who, Var *self) {
  VM *vm = u->vm;
  if (!is_list(params) && !is_vector(params)) ctype(u, pos, "list or vector", params);
  FnInfo *fn = arena_alloc(u->arena, sizeof(FnInfo));
  fn->params_src = params;
  /* A string followed by more body forms is the docstring: kept for `,doc`
   * and not evaluated (its value would be discarded anyway). */
  fn->doc = NIL_VAL;
  if (is_cons(body) && is_string(car(body)) && is_cons(cdr(body))) {
    fn->doc = car(body);
    body = cdr(body);
  }
  params = vec_to_list(u, params);
  fn->parent = s->fn;
  fn->name = name;
  fn->pos = pos;
  fn->file = u->file;
  Scope *fs = scope_new(u, s, fn);
  int64_t np = form_len(params);
  fn->params = arena_alloc(u->arena, ((size_t)np + 1) * sizeof(Var *));
  /* patterns: bound to hidden parameters, destructured at entry */
  Value pat_list = EMPTY_VAL;
  int npat = 0;
  Value dot = SYM(vm, ".");
  for (Value l = params; is_cons(l); l = cdr(l)) {
    Value p = car(l);
    if (p == dot) {
      Value rest = cdr(l);
      if (!is_cons(rest) || cdr(rest) != EMPTY_VAL || !is_sym(car(rest)))
        cerr(u, pos, "%s: rest parameter must be a single symbol", who);
      fn->params[fn->nparams++] = declare(u, fs, car(rest));
      fn->has_rest = true;
      break;
    }
    if (is_pattern(p)) {
      char tmp[32];
      snprintf(tmp, sizeof tmp, " arg%d", npat++);
      Var *hv = declare(u, fs, keep(u, SYM(vm, tmp)));
      fn->params[fn->nparams++] = hv;
      pat_list = keep(u, list_cons(vm, list_2(vm, p, hv->name), pat_list));
      continue;
    }
    if (!is_sym(p)) cerr(u, pos, "%s: expected a symbol", who);
    fn->params[fn->nparams++] = declare(u, fs, p);
  }
  /* no limit: codegen spills parameters past the register window */
  if (pat_list != EMPTY_VAL) body = keep(u, destructure_body(vm, list_reverse(vm, pat_list), body));
  Node *r = node(u, N_LAMBDA, pos);
  r->fn = fn;
  fn->self_node = r;
  if (self) {
    self->self_fn = r;
    if (self->loop) self->loop->fn = fn;
  }
  fn->body = an_body(u, fs, body, true, pos);
  return r;
}

static Node *sf_lambda(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  int64_t n = form_len(form) - 1;
  const char *who = sym_cstr(u->vm, car(form));
  if (n < 2) carity(u, pos, who, "2+", (int)n);
  Value params = nth_form(form, 1);
  if (is_sym(params)) {
    /* (lambda args body...): accepted as the whole-argument-list form */
    params = keep(u, list_2(u->vm, SYM(u->vm, "."), params));
  }
  return an_lambda(u, s, params, cdr(cdr(form)), NIL_VAL, pos, who, NULL);
}

/* ---- define ---- */

static Node *define_var(Unit *u, Scope *s, Value name, Node *val, uint32_t pos) {
  if (s->toplevel) {
    Node *r = node(u, N_DEFGLOBAL, pos);
    r->cell = env_lookup(u->vm, u->vm->env, name, true);
    r->a = val;
    return r;
  }
  Var *v = scope_find_here(s, name);
  if (!v) {
    v = declare(u, s, name);
    v->letrec = true;
  }
  Node *r = node(u, N_DEFLOCAL, pos);
  r->var = v;
  r->a = val;
  return r;
}

static Node *destructure_define(Unit *u, Scope *s, Value pattern, Value expr, uint32_t pos);

static Node *sf_define(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  VM *vm = u->vm;
  int64_t n = form_len(form) - 1;
  if (n < 1) carity(u, pos, "define", "2+", (int)n);
  Value target = nth_form(form, 1);
  if (is_sym(target)) {
    if (n != 2) carity(u, pos, "define", "2", (int)n);
    Value e = nth_form(form, 2);
    Node *val;
    if (is_cons(e) && (sym_is(vm, car(e), "lambda") || sym_is(vm, car(e), "fn")) && !lookup(s, car(e)) &&
        form_len(e) >= 3) {
      Value params = nth_form(e, 1);
      if (is_sym(params)) params = keep(u, list_2(vm, SYM(vm, "."), params));
      val = an_lambda(u, s, params, cdr(cdr(e)), target, form_pos(u, e), sym_cstr(vm, car(e)), s->toplevel ? NULL : scope_find_here(s, target));
    } else {
      val = an(u, s, e, false);
    }
    return define_var(u, s, target, val, pos);
  }
  if (is_cons(target)) {
    Value name = car(target);
    if (!is_sym(name)) {
      if (is_cons(name)) cerr(u, pos, "define: curried definitions are not supported");
      cerr(u, pos, "define: expected a symbol");
    }
    if (n < 2) cerr(u, pos, "define: function body cannot be empty");
    Var *self = s->toplevel ? NULL : scope_find_here(s, name);
    Node *lam = an_lambda(u, s, cdr(target), cdr(cdr(form)), name, pos, "define", self);
    return define_var(u, s, name, lam, pos);
  }
  if (target == EMPTY_VAL) cerr(u, pos, "define: empty function signature");
  if (is_vector(target) || is_map(target)) {
    if (n != 2) carity(u, pos, "define", "2", (int)n);
    return destructure_define(u, s, target, nth_form(form, 2), pos);
  }
  ctype(u, pos, "symbol, list, vector, or map", target);
}

static Node *sf_defun(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  const char *who = sym_cstr(u->vm, car(form));
  int64_t n = form_len(form) - 1;
  if (n < 3) carity(u, pos, who, "3+", (int)n);
  Value name = nth_form(form, 1), params = nth_form(form, 2);
  if (!is_sym(name)) cerr(u, pos, "%s: expected a symbol", who);
  if (!is_list(params) && !is_vector(params)) cerr(u, pos, "%s: expected a list", who);
  Node *lam = an_lambda(u, s, params, cdr(cdr(cdr(form))), name, pos, who, s->toplevel ? NULL : scope_find_here(s, name));
  return define_var(u, s, name, lam, pos);
}

/* ---- bodies with internal defines (letrec* semantics) ---- */

/* Expand macro calls at the head of body forms so defines they produce are seen. */
static Value expand_head(Unit *u, Value form);

static void prescan_defines(Unit *u, Scope *s, Value forms) {
  VM *vm = u->vm;
  for (; is_cons(forms); forms = cdr(forms)) {
    Value f = car(forms);
    if (!is_cons(f) || !is_sym(car(f))) continue;
    Value head = car(f);
    if (sym_is(vm, head, "begin") || sym_is(vm, head, "progn")) {
      prescan_defines(u, s, cdr(f));
      continue;
    }
    bool is_def = sym_is(vm, head, "define") || sym_is(vm, head, "def");
    bool is_defun = sym_is(vm, head, "defun") || sym_is(vm, head, "defn");
    if (!is_def && !is_defun) continue;
    if (!is_cons(cdr(f))) continue;
    Value t = car(cdr(f));
    Value name = is_sym(t) ? t : (is_def && is_cons(t) && is_sym(car(t))) ? car(t) : NIL_VAL;
    if (is_sym(name) && !scope_find_here(s, name)) {
      Var *v = declare(u, s, name);
      v->letrec = true;
    }
  }
}

static Node *an_body(Unit *u, Scope *s, Value forms, bool tail, uint32_t pos) {
  if (!is_list(forms)) cerr(u, pos, "expected a body");
  /* expand macro heads first so that macro-generated defines are hoisted */
  ListBuilder lb;
  list_start(&lb);
  uint32_t slot = vm_root_slot(u->vm, EMPTY_VAL);
  for (Value l = forms; is_cons(l); l = cdr(l)) {
    Value f = expand_head(u, car(l));
    list_add(u->vm, &lb, f);
    ROOT(u->vm, slot) = lb.head;
  }
  forms = lb.head;
  if (s->toplevel) return an_seq(u, s, forms, tail, pos);
  uint32_t n0 = s->n;
  prescan_defines(u, s, forms);
  Node *seq = an_seq(u, s, forms, tail, pos);
  if (s->n == n0) return seq;
  /* internal definitions: bound (to nil) when the body starts */
  Node *r = node(u, N_BODY, pos);
  r->nvars = s->n - n0;
  r->vars = arena_alloc(u->arena, r->nvars * sizeof(Var *));
  memcpy(r->vars, s->vars + n0, r->nvars * sizeof(Var *));
  r->a = seq;
  return r;
}

/* ---- let family ---- */

static void check_binding(Unit *u, Value b, uint32_t pos, const char *who) {
  if (!is_cons(b) || form_len(b) != 2) cerr(u, pos, "%s: each binding must have 2 elements", who);
}

static Node *sf_let(Unit *u, Scope *s, Value form, bool tail, uint32_t pos);

#define NAMEDLET_INLINE 100

static Node *named_let(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  VM *vm = u->vm;
  int64_t n = form_len(form) - 1;
  if (n < 3) carity(u, pos, "named let", "3+", (int)n);
  Value name = nth_form(form, 1), bindings = nth_form(form, 2);
  if (!is_list(bindings)) cerr(u, pos, "let: expected a list");
  int64_t nb = form_len(bindings);
  Node *r = node(u, N_NAMEDLET, pos);
  r->kids = arena_alloc(u->arena, ((size_t)nb + 1) * sizeof(Node *));
  r->nkids = (uint32_t)nb;
  ListBuilder params;
  list_start(&params);
  uint32_t slot = vm_root_slot(vm, EMPTY_VAL);
  int64_t i = 0;
  for (Value l = bindings; is_cons(l); l = cdr(l), i++) {
    Value b = car(l);
    check_binding(u, b, pos, "let");
    if (!is_sym(car(b))) cerr(u, pos, "let: expected a symbol");
    r->kids[i] = an(u, s, nth_form(b, 1), false);
    list_add(vm, &params, car(b));
    ROOT(vm, slot) = params.head;
  }
  /* the loop variable lives in a scope of its own around the lambda */
  Scope *ls = scope_new(u, s, s->fn);
  Var *lv = declare(u, ls, name);
  lv->letrec = true;
  lv->loop = r;
  r->var = lv;
  /* A loop is inlined into its parent with its variables in registers and
   * each iteration's new values in temporaries: past NAMEDLET_INLINE
   * bindings it is compiled as a function and calls (whose parameters spill
   * like any other function's) instead. */
  r->loop_ok = nb <= NAMEDLET_INLINE;
  Node *lam = an_lambda(u, ls, params.head, cdr(cdr(cdr(form))), name, pos, "let", lv);
  r->a = lam;
  if (lam->fn->has_rest) r->loop_ok = false;
  if (r->loop_ok) lam->fn->merged_into = s->fn;
  return r;
}

/* (let ((p init) ...) body) where some p are patterns: bind hidden vars then destructure */
static Node *an_let_bindings(Unit *u, Scope *s, Value bindings, Value body, bool tail, uint32_t pos, const char *who) {
  VM *vm = u->vm;
  if (!is_list(bindings)) cerr(u, pos, "%s: expected a list", who);
  int64_t nb = form_len(bindings);
  Node *r = node(u, N_LET, pos);
  r->vars = arena_alloc(u->arena, ((size_t)nb + 1) * sizeof(Var *));
  r->kids = arena_alloc(u->arena, ((size_t)nb + 1) * sizeof(Node *));
  Scope *inner = scope_new(u, s, s->fn);
  Value pats = EMPTY_VAL;
  int npat = 0;
  for (Value l = bindings; is_cons(l); l = cdr(l)) {
    Value b = car(l);
    check_binding(u, b, pos, who);
    Value p = car(b);
    Node *init = an(u, s, nth_form(b, 1), false);
    Value vname = p;
    if (is_pattern(p)) {
      char tmp[32];
      snprintf(tmp, sizeof tmp, " let%d", npat++);
      vname = keep(u, SYM(vm, tmp));
      pats = keep(u, list_cons(vm, list_2(vm, p, vname), pats));
    } else if (!is_sym(p)) {
      cerr(u, pos, "%s: expected a symbol", who);
    }
    r->kids[r->nkids++] = init;
  }
  uint32_t i = 0;
  for (Value l = bindings; is_cons(l); l = cdr(l), i++) {
    Value p = car(car(l));
    Value vname = p;
    if (is_pattern(p)) {
      /* find the hidden name assigned above (in order) */
      char tmp[32];
      int k = 0;
      for (Value m = bindings; m != l; m = cdr(m))
        if (is_pattern(car(car(m)))) k++;
      snprintf(tmp, sizeof tmp, " let%d", k);
      vname = SYM(vm, tmp);
    }
    r->vars[r->nvars++] = declare(u, inner, vname);
  }
  if (pats != EMPTY_VAL) body = keep(u, destructure_body(vm, list_reverse(vm, pats), body));
  r->a = an_body(u, inner, body, tail, pos);
  return r;
}

static Node *sf_let(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  int64_t n = form_len(form) - 1;
  if (n >= 1 && is_sym(nth_form(form, 1))) return named_let(u, s, form, tail, pos);
  if (n < 2) carity(u, pos, "let", "2+", (int)n);
  return an_let_bindings(u, s, nth_form(form, 1), cdr(cdr(form)), tail, pos, "let");
}

static Node *sf_let_star(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  VM *vm = u->vm;
  int64_t n = form_len(form) - 1;
  if (n < 2) carity(u, pos, "let*", "2+", (int)n);
  Value bindings = nth_form(form, 1), body = cdr(cdr(form));
  if (!is_list(bindings)) cerr(u, pos, "let*: expected a list");
  if (bindings == EMPTY_VAL || cdr(bindings) == EMPTY_VAL)
    return an_let_bindings(u, s, bindings, body, tail, pos, "let*");
  /* (let* (b1 b2 ...) body) = (let (b1) (let* (b2 ...) body)) */
  Value inner = keep(u, list_cons_at(vm, car(form), list_cons(vm, cdr(bindings), body), pos));
  Value outer_body = keep(u, list_1(vm, inner));
  return an_let_bindings(u, s, keep(u, list_1(vm, car(bindings))), outer_body, tail, pos, "let*");
}

static Node *sf_letrec(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  int64_t n = form_len(form) - 1;
  if (n < 2) carity(u, pos, "letrec", "2+", (int)n);
  Value bindings = nth_form(form, 1);
  if (!is_list(bindings)) cerr(u, pos, "letrec: expected a list");
  int64_t nb = form_len(bindings);
  Node *r = node(u, N_LETREC, pos);
  Scope *inner = scope_new(u, s, s->fn);
  /* the body's internal defines share the letrec's scope (the reference's
   * behaviour), so the inits may already refer to them */
  prescan_defines(u, inner, cdr(cdr(form)));
  uint32_t nbody = inner->n;
  r->vars = arena_alloc(u->arena, ((size_t)nb + nbody + 1) * sizeof(Var *));
  r->kids = arena_alloc(u->arena, ((size_t)nb + 1) * sizeof(Node *));
  for (uint32_t i = 0; i < nbody; i++) r->vars[r->nvars++] = inner->vars[i];
  for (Value l = bindings; is_cons(l); l = cdr(l)) {
    check_binding(u, car(l), pos, "letrec");
    if (!is_sym(car(car(l)))) cerr(u, pos, "letrec: expected a symbol");
    Var *v = declare(u, inner, car(car(l)));
    v->letrec = true;
    r->vars[r->nvars++] = v;
  }
  uint32_t i = nbody;
  for (Value l = bindings; is_cons(l); l = cdr(l), i++) {
    Value init = nth_form(car(l), 1);
    Var *v = r->vars[i];
    if (is_cons(init) && (sym_is(u->vm, car(init), "lambda") || sym_is(u->vm, car(init), "fn")) &&
        form_len(init) >= 3 && !is_sym(nth_form(init, 1))) {
      Node *lam = an_lambda(u, inner, nth_form(init, 1), cdr(cdr(init)), v->name, form_pos(u, init), "lambda", v);
      r->kids[r->nkids++] = lam;
    } else {
      r->kids[r->nkids++] = an(u, inner, init, false);
    }
  }
  r->a = an_body(u, inner, cdr(cdr(form)), tail, pos);
  return r;
}

/* ---- do / while ---- */

static Node *sf_do(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  int64_t n = form_len(form) - 1;
  if (n < 2) carity(u, pos, "do", "2+", (int)n);
  Value specs = nth_form(form, 1), test_clause = nth_form(form, 2);
  if (!is_list(specs)) cerr(u, pos, "do: expected a list");
  int64_t nv = form_len(specs);
  Node *r = node(u, N_DO, pos);
  r->vars = arena_alloc(u->arena, ((size_t)nv + 1) * sizeof(Var *));
  r->kids = arena_alloc(u->arena, ((size_t)nv + 1) * sizeof(Node *));
  r->steps = arena_alloc(u->arena, ((size_t)nv + 1) * sizeof(Node *));
  Scope *inner = scope_new(u, s, s->fn);
  for (Value l = specs; is_cons(l); l = cdr(l)) {
    Value sp = car(l);
    int64_t k = form_len(sp);
    if (!is_cons(sp) || k < 2 || k > 3) cerr(u, pos, "do: binding must be (var init) or (var init step)");
    if (!is_sym(car(sp))) cerr(u, pos, "do: expected a symbol");
    r->kids[r->nkids++] = an(u, s, nth_form(sp, 1), false);
  }
  for (Value l = specs; is_cons(l); l = cdr(l)) r->vars[r->nvars++] = declare(u, inner, car(car(l)));
  uint32_t i = 0;
  for (Value l = specs; is_cons(l); l = cdr(l), i++) {
    Value sp = car(l);
    r->steps[i] = form_len(sp) == 3 ? an(u, inner, nth_form(sp, 2), false) : NULL;
  }
  if (!is_cons(test_clause)) cerr(u, pos, "do: test clause must not be empty");
  r->a = an(u, inner, car(test_clause), false);
  r->b = an_seq(u, inner, cdr(test_clause), false, pos);
  Scope *bs = scope_new(u, inner, s->fn);
  r->c = an_body(u, bs, cdr(cdr(cdr(form))), false, pos);
  return r;
}

static Node *sf_while(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  int64_t n = form_len(form) - 1;
  if (n < 2) carity(u, pos, "while", "2+", (int)n);
  Node *r = node(u, N_DO, pos);
  Node *t = an(u, s, nth_form(form, 1), false);
  Node *neg = node(u, N_PRIM, pos);
  neg->op = OP_NOT;
  neg->kids = arena_alloc(u->arena, sizeof(Node *));
  neg->kids[0] = t;
  neg->nkids = 1;
  r->a = neg;
  r->b = const_node(u, NIL_VAL, pos);
  Scope *bs = scope_new(u, s, s->fn);
  r->c = an_body(u, bs, cdr(cdr(form)), false, pos);
  return r;
}

/* ---- set!, throw, try ---- */

static Node *sf_set(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  int64_t n = form_len(form) - 1;
  if (n != 2) carity(u, pos, "set!", "2", (int)n);
  Value name = nth_form(form, 1);
  if (!is_sym(name)) cerr(u, pos, "set!: expected a symbol");
  Node *val = an(u, s, nth_form(form, 2), false);
  Var *v = lookup(s, name);
  if (v) {
    v->assigned = true;
    Node *r = node(u, N_SETLOCAL, pos);
    r->var = v;
    r->a = val;
    /* record as a reference so capture across functions is seen */
    Ref *ref = arena_alloc(u->arena, sizeof(Ref));
    ref->var = v;
    ref->from = s->fn;
    ref->next = u->refs;
    u->refs = ref;
    if (v->loop) v->loop->loop_ok = false;
    return r;
  }
  Node *r = node(u, N_SETGLOBAL, pos);
  r->cell = env_lookup(u->vm, u->vm->env, name, true);
  r->a = val;
  return r;
}

static Node *sf_throw(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  int64_t n = form_len(form) - 1;
  if (n != 1) carity(u, pos, "throw", "1", (int)n);
  Node *r = node(u, N_THROW, pos);
  r->a = an(u, s, nth_form(form, 1), false);
  return r;
}

static Node *sf_try(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  VM *vm = u->vm;
  int64_t n = form_len(form) - 1;
  if (n < 1) carity(u, pos, "try", "1+", (int)n);
  Value last = nth_form(form, (int)n);
  if (!is_list(last)) cerr(u, pos, "try: expected a list");
  if (last == EMPTY_VAL) cerr(u, pos, "try: catch form is empty");
  if (!sym_is(vm, car(last), "catch")) cerr(u, pos, "try: last argument must be (catch var handler...)");
  if (form_len(last) < 3 || !is_sym(nth_form(last, 1))) cerr(u, pos, "try: catch needs (catch var handler...)");
  /* body: every operand but the last */
  ListBuilder lb;
  list_start(&lb);
  uint32_t slot = vm_root_slot(vm, EMPTY_VAL);
  Value l = cdr(form);
  for (int64_t i = 0; i < n - 1; i++, l = cdr(l)) {
    list_add(vm, &lb, car(l));
    ROOT(vm, slot) = lb.head;
  }
  Node *r = node(u, N_TRY, pos);
  r->a = an_seq(u, s, lb.head, false, pos);
  Scope *hs = scope_new(u, s, s->fn);
  r->var = declare(u, hs, nth_form(last, 1));
  r->b = an_body(u, hs, cdr(cdr(last)), tail, pos);
  return r;
}

/* ---- helpers called at run time ---- */

static Node *call_helper(Unit *u, HelperId id, Node **args, uint32_t nargs, uint32_t pos) {
  Node *r = node(u, N_CALL, pos);
  r->a = const_node(u, u->vm->helpers[id], pos);
  r->kids = arena_alloc(u->arena, (nargs + 1) * sizeof(Node *));
  for (uint32_t i = 0; i < nargs; i++) r->kids[i] = args[i];
  r->nkids = nargs;
  return r;
}

/* (eval x), (macroexpand x), (load path), (force p): the argument is
 * evaluated and passed to a runtime helper (helpers.h). */
static Node *one_arg_helper(Unit *u, Scope *s, Value form, uint32_t pos, const char *name, HelperId id) {
  int64_t n = form_len(form) - 1;
  if (n != 1) carity(u, pos, name, "1", (int)n);
  Node *arg = an(u, s, nth_form(form, 1), false);
  return call_helper(u, id, &arg, 1, pos);
}

static Node *sf_eval(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) { return one_arg_helper(u, s, form, pos, "eval", HELPER_EVAL); }
static Node *sf_macroexpand(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  return one_arg_helper(u, s, form, pos, "macroexpand", HELPER_MACROEXPAND);
}
static Node *sf_load(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) { return one_arg_helper(u, s, form, pos, "load", HELPER_LOAD); }
static Node *sf_force(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) { return one_arg_helper(u, s, form, pos, "force", HELPER_FORCE); }

static Node *sf_delay(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  int64_t n = form_len(form) - 1;
  if (n != 1) carity(u, pos, "delay", "1", (int)n);
  Node *thunk = an_lambda(u, s, EMPTY_VAL, cdr(form), NIL_VAL, pos, "delay", NULL);
  return call_helper(u, HELPER_MAKE_PROMISE, &thunk, 1, pos);
}

/* defmacro: at top level the macro is registered now, during analysis */
static Node *sf_defmacro(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  VM *vm = u->vm;
  int64_t n = form_len(form) - 1;
  if (n < 3) carity(u, pos, "defmacro", "3+", (int)n);
  Value name = nth_form(form, 1), params = nth_form(form, 2);
  if (!is_sym(name)) cerr(u, pos, "defmacro: name must be a symbol");
  if (!is_list(params)) cerr(u, pos, "defmacro: params must be a list");
  for (Value l = params; is_cons(l); l = cdr(l))
    if (!is_sym(car(l))) cerr(u, pos, "defmacro: parameter must be a symbol");
  if (s->toplevel) {
    Value lam = keep(u, list_cons_at(vm, SYM(vm, "lambda"), cdr(cdr(form)), pos));
    Value closure = compile_transformer(vm, lam, name, u->file);
    compile_define_macro(vm, name, closure);
    return const_node(u, NIL_VAL, pos);
  }
  Node *args[2];
  args[0] = const_node(u, name, pos);
  args[1] = an_lambda(u, s, params, cdr(cdr(cdr(form))), name, pos, "defmacro", NULL);
  return call_helper(u, HELPER_DEFMACRO, args, 2, pos);
}

/* ---- destructuring, match, records, multimethods, modules: runtime helpers ---- */

static Node *destructure_define(Unit *u, Scope *s, Value pattern, Value expr, uint32_t pos) {
  /* (define PATTERN expr): evaluate, destructure strictly, define each name */
  VM *vm = u->vm;
  Value names = keep(u, compile_pattern_names(vm, pattern));
  Node *args[2] = {const_node(u, pattern, pos), an(u, s, expr, false)};
  Node *vals = call_helper(u, HELPER_DESTRUCTURE, args, 2, pos);
  /* bind the result vector to a hidden local, then define each name from it */
  Scope *inner = scope_new(u, s, s->fn);
  Node *let = node(u, N_LET, pos);
  let->vars = arena_alloc(u->arena, sizeof(Var *));
  let->kids = arena_alloc(u->arena, sizeof(Node *));
  Var *hv = declare(u, inner, keep(u, SYM(vm, " destructured")));
  let->vars[0] = hv;
  let->nvars = 1;
  let->kids[0] = vals;
  let->nkids = 1;
  int64_t nn = form_len(names);
  Node *seq = node(u, N_SEQ, pos);
  seq->kids = arena_alloc(u->arena, ((size_t)nn + 1) * sizeof(Node *));
  int64_t i = 0;
  for (Value l = names; is_cons(l); l = cdr(l), i++) {
    Node *idx = const_node(u, small_int_val(i), pos);
    Node *get = prim2(u, OP_NTH, ref_local(u, inner, hv, pos), idx, pos);
    /* defines inside the let must still target the outer scope */
    seq->kids[seq->nkids++] = define_var(u, s, car(l), get, pos);
  }
  seq->kids[seq->nkids++] = const_node(u, NIL_VAL, pos);
  let->a = seq;
  return let;
}

static Node *sf_quasiquote(Unit *u, Scope *s, Value form, bool tail, uint32_t pos);

#define sf_progn sf_begin
#define sf_def sf_define
#define sf_defn sf_defun
#define sf_fn sf_lambda
#define sf_unless sf_when
#define sf_or sf_and
/* tier-B forms lowered to other forms (forms.c); the result is analyzed here */
static Node *lowered(Unit *u, Scope *s, Value form, bool tail, uint32_t pos, Value (*lower)(VM *, Value, uint32_t)) {
  u->vm->compile_pos = pos;
  Value out = keep(u, lower(u->vm, form, pos));
  u->vm->compile_pos = 0;
  if (is_cons(out) && as_obj(out)->aux == 0) as_obj(out)->aux = pos;
  return an(u, s, out, tail);
}
#define LOWERED(name, fn)                                                                  \
  static Node *name(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {            \
    return lowered(u, s, form, tail, pos, fn);                                           \
  }
LOWERED(sf_match, forms_lower_match)
LOWERED(sf_match_star, forms_lower_match)
LOWERED(sf_defmulti, forms_lower_defmulti)
LOWERED(sf_defmethod, forms_lower_defmethod)
LOWERED(sf_module, forms_lower_module)
LOWERED(sf_import, forms_lower_import)

/* records always define globals, even inside a function */
static Node *sf_define_record_type(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  u->vm->compile_pos = pos;
  Value out = keep(u, forms_lower_define_record_type(u->vm, form, pos));
  u->vm->compile_pos = 0;
  Scope *top = scope_new(u, NULL, s->fn);
  top->toplevel = true;
  return an(u, top, out, tail);
}
/* language.md §7.25: (async body ...) is (async/spawn (fn () body ...)),
 * (await p) is (async/await p); the scheduler is src/lib/async.c */
static Node *sf_async(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  int64_t n = form_len(form) - 1;
  if (n < 1) carity(u, pos, "async", "1+", (int)n);
  Node *thunk = an_lambda(u, s, EMPTY_VAL, cdr(form), NIL_VAL, pos, "async", NULL);
  return call_helper(u, HELPER_ASYNC_SPAWN, &thunk, 1, pos);
}

static Node *sf_await(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  int64_t n = form_len(form) - 1;
  if (n != 1) carity(u, pos, "await", "1", (int)n);
  Node *arg = an(u, s, nth_form(form, 1), false);
  return call_helper(u, HELPER_ASYNC_AWAIT, &arg, 1, pos);
}

static const SpecialFn special_fns[] = {
#define X(c_name, name) sf_##c_name,
    SPECIAL_FORMS(X)
#undef X
};

/* ---- quasiquote ---- */

typedef struct {
  Value gensyms; /* sorted map: x# symbol -> hidden variable symbol */
  Scope *scope;
} QQ;

static bool is_autogensym(VM *vm, Value v) {
  if (!is_sym(v)) return false;
  String *n = sym_name(vm, sym_id(v));
  return n->len >= 2 && n->data[n->len - 1] == '#' && n->data[n->len - 2] != '#';
}

static bool qq_constant(VM *vm, Value t) {
  if (is_autogensym(vm, t)) return false;
  if (is_cons(t)) {
    if (sym_is(vm, car(t), "unquote") || sym_is(vm, car(t), "unquote-splicing")) return false;
    for (; is_cons(t); t = cdr(t))
      if (!qq_constant(vm, car(t))) return false;
    return true;
  }
  if (is_vector(t)) {
    for (uint32_t i = 0; i < vec_len(t); i++)
      if (!qq_constant(vm, vec_items(t)[i])) return false;
    return true;
  }
  if (is_map(t)) {
    MapIter it;
    map_iter_init(&it, t);
    Value k, v;
    while (map_iter_next(&it, &k, &v))
      if (!qq_constant(vm, k) || !qq_constant(vm, v)) return false;
    return true;
  }
  return true;
}

static Node *qq(Unit *u, QQ *q, Value t, uint32_t pos);

static Node *make_list_node(Unit *u, NodeKind k, Node **items, uint32_t n, uint32_t pos) {
  Node *r = node(u, k, pos);
  r->kids = arena_alloc(u->arena, (n + 1) * sizeof(Node *));
  memcpy(r->kids, items, n * sizeof(Node *));
  r->nkids = n;
  return r;
}

/* elements of a list or vector template: returns a node producing a list */
static Node *qq_seq(Unit *u, QQ *q, Value *items, uint32_t n, uint32_t pos) {
  VM *vm = u->vm;
  /* arena memory: an error inside the template unwinds without leaking */
  Node **segs = arena_alloc(u->arena, (n + 1) * sizeof(Node *));
  Node **run = arena_alloc(u->arena, (n + 1) * sizeof(Node *));
  uint32_t nseg = 0, nrun = 0;
  for (uint32_t i = 0; i < n; i++) {
    Value e = items[i];
    if (is_cons(e) && sym_is(vm, car(e), "unquote-splicing")) {
      if (form_len(e) != 2) carity(u, pos, "unquote-splicing", "1", (int)form_len(e) - 1);
      if (nrun) segs[nseg++] = make_list_node(u, N_MKLIST, run, nrun, pos);
      nrun = 0;
      Node *arg = an(u, q->scope, nth_form(e, 1), false);
      segs[nseg++] = call_helper(u, HELPER_QQ_SPLICE, &arg, 1, pos);
      continue;
    }
    run[nrun++] = qq(u, q, e, pos);
  }
  if (nrun || nseg == 0) segs[nseg++] = make_list_node(u, N_MKLIST, run, nrun, pos);
  Node *r = nseg == 1 ? segs[0] : call_helper(u, HELPER_QQ_CONCAT, segs, nseg, pos);
  return r;
}

static Node *qq(Unit *u, QQ *q, Value t, uint32_t pos) {
  VM *vm = u->vm;
  if (qq_constant(vm, t)) return const_node(u, t, pos);
  if (is_autogensym(vm, t)) {
    Value hidden;
    if (!map_get(q->gensyms, t, &hidden)) {
      char buf[32];
      snprintf(buf, sizeof buf, " gs%u", (unsigned)map_count(q->gensyms));
      hidden = SYM(vm, buf);
      q->gensyms = keep(u, map_assoc(vm, q->gensyms, t, hidden));
    }
    return an_symbol(u, q->scope, hidden, pos);
  }
  if (is_cons(t)) {
    uint32_t p = form_pos(u, t);
    if (sym_is(vm, car(t), "unquote")) {
      if (form_len(t) != 2) carity(u, p, "unquote", "1", (int)form_len(t) - 1);
      return an(u, q->scope, nth_form(t, 1), false);
    }
    int64_t n = form_len(t);
    Value *items = arena_alloc(u->arena, ((size_t)n + 1) * sizeof(Value));
    int64_t i = 0;
    for (Value l = t; is_cons(l); l = cdr(l)) items[i++] = car(l);
    Node *r = qq_seq(u, q, items, (uint32_t)n, p);
    return r;
  }
  if (is_vector(t)) {
    Node *lst = qq_seq(u, q, vec_items(t), vec_len(t), pos);
    return call_helper(u, HELPER_QQ_VECTOR, &lst, 1, pos);
  }
  if (is_map(t)) {
    size_t n = map_count(t);
    Node **kv = arena_alloc(u->arena, (2 * n + 1) * sizeof(Node *));
    MapIter it;
    map_iter_init(&it, t);
    Value k, v;
    size_t i = 0;
    while (map_iter_next(&it, &k, &v)) {
      if ((is_cons(k) && sym_is(vm, car(k), "unquote-splicing")) || (is_cons(v) && sym_is(vm, car(v), "unquote-splicing"))) {
        cerr(u, pos, "unquote-splicing is not allowed in a quasiquoted map key or value");
      }
      kv[i++] = qq(u, q, k, pos);
      kv[i++] = qq(u, q, v, pos);
    }
    Node *r = make_list_node(u, N_MKMAP, kv, (uint32_t)i, pos);
    return r;
  }
  return const_node(u, t, pos);
}

static void collect_gensyms(VM *vm, Value t, Value *acc, Unit *u) {
  if (is_autogensym(vm, t)) {
    if (!map_get(*acc, t, &(Value){0})) {
      char buf[32];
      snprintf(buf, sizeof buf, " gs%u", (unsigned)map_count(*acc));
      *acc = keep(u, map_assoc(vm, *acc, t, SYM(vm, buf)));
    }
  } else if (is_cons(t)) {
    if (sym_is(vm, car(t), "unquote") || sym_is(vm, car(t), "unquote-splicing")) return;
    for (; is_cons(t); t = cdr(t)) collect_gensyms(vm, car(t), acc, u);
  } else if (is_vector(t)) {
    for (uint32_t i = 0; i < vec_len(t); i++) collect_gensyms(vm, vec_items(t)[i], acc, u);
  } else if (is_map(t)) {
    MapIter it;
    map_iter_init(&it, t);
    Value k, v;
    while (map_iter_next(&it, &k, &v)) {
      collect_gensyms(vm, k, acc, u);
      collect_gensyms(vm, v, acc, u);
    }
  }
}

static Node *sf_quasiquote(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  VM *vm = u->vm;
  int64_t n = form_len(form) - 1;
  if (n != 1) carity(u, pos, "quasiquote", "1", (int)n);
  Value t = nth_form(form, 1);
  QQ q = {map_empty(vm), s};
  keep(u, q.gensyms);
  collect_gensyms(vm, t, &q.gensyms, u);
  if (map_count(q.gensyms) == 0) return qq(u, &q, t, pos);
  /* fresh symbols per evaluation: (let ((hidden (%gensym "x")) ...) template) */
  Scope *inner = scope_new(u, s, s->fn);
  size_t ng = map_count(q.gensyms);
  Node *let = node(u, N_LET, pos);
  let->vars = arena_alloc(u->arena, (ng + 1) * sizeof(Var *));
  let->kids = arena_alloc(u->arena, (ng + 1) * sizeof(Node *));
  MapIter it;
  map_iter_init(&it, q.gensyms);
  Value k, v;
  while (map_iter_next(&it, &k, &v)) {
    String *nm = sym_name(vm, sym_id(k));
    Node *prefix = const_node(u, keep(u, str_new(vm, nm->data, nm->len - 1)), pos);
    let->kids[let->nkids++] = call_helper(u, HELPER_GENSYM, &prefix, 1, pos);
    let->vars[let->nvars++] = declare(u, inner, v);
  }
  q.scope = inner;
  let->a = qq(u, &q, t, pos);
  return let;
}

/* ---- macros ---- */

static Value macro_of(VM *vm, Value head) {
  if (!is_sym(head) || special_of(vm, head)) return UNDEF_VAL;
  int32_t cell = env_lookup(vm, vm->env, head, false);
  if (cell < 0) return UNDEF_VAL;
  Value v = env_global_peek(vm, (uint32_t)cell);
  return is_objtype(v, OBJ_MACRO) ? v : UNDEF_VAL;
}

Value analyze_macroexpand_1(VM *vm, Value form, bool *expanded) {
  *expanded = false;
  if (!is_cons(form)) return form;
  Value m = macro_of(vm, car(form));
  if (m == UNDEF_VAL) return form;
  Macro *mac = (Macro *)as_obj(m);
  int64_t n = form_len(form) - 1;
  if (n < 0) err_eval(vm, "macro call must be a proper list");
  Value *args = malloc(((size_t)n + 1) * sizeof(Value));
  int64_t i = 0;
  for (Value l = cdr(form); is_cons(l); l = cdr(l)) args[i++] = car(l);
  uint32_t base = vm->nroots;
  vm_push_root(vm, form);
  vm_push_root(vm, m);
  Value out;
  /* a wrong argument count is reported at the macro call (the transformer
   * has no frame yet): the trace's first frame is the call site */
  if (is_closure(mac->fn)) {
    Proto *p = as_closure(mac->fn)->proto;
    if (n != p->nparams && (!p->has_rest || n < p->nparams)) vm->compile_pos = as_obj(form)->aux;
  }
  int rc = vm_pcall(vm, mac->fn, (int)n, args, &out);
  vm->compile_pos = 0;
  free(args);
  vm->nroots = base;
  if (rc) err_rethrow(vm);
  *expanded = true;
  return out;
}

static Value expand_head(Unit *u, Value form) {
  for (int guard = 0; guard < 10000; guard++) {
    bool ex;
    if (!is_cons(form)) return form;
    u->last_pos = form_pos(u, form);
    Value out = analyze_macroexpand_1(u->vm, form, &ex);
    if (!ex) return form;
    /* expansions without positions inherit the call site's */
    if (is_cons(out) && as_obj(out)->aux == 0) as_obj(out)->aux = form_pos(u, form);
    form = keep(u, out);
  }
  cerr(u, u->last_pos, "macro expansion did not terminate");
}

/* ---- calls ---- */

/* The instruction a call of the global builtin SYM with argc arguments
 * compiles to, if any (intrinsics.h). */
static bool find_intrinsic(VM *vm, Value sym, int argc, OpCode *op) {
  return opcode_intrinsic(sym_cstr(vm, sym), argc, op);
}

#define SPILL_ARGS 250

static Node *an_call(Unit *u, Scope *s, Value form, bool tail, uint32_t pos) {
  VM *vm = u->vm;
  Value head = car(form);
  int64_t argc = form_len(form) - 1;
  if (argc < 0) cerr(u, pos, "improper call form");
  if (argc > SPILL_ARGS) { /* past the register window: (%apply f [args...]), evaluated in order */
    Node *args[2];
    args[0] = an(u, s, head, false);
    Node *v = node(u, N_MKVEC, pos);
    v->kids = arena_alloc(u->arena, ((size_t)argc + 1) * sizeof(Node *));
    v->nkids = 0;
    for (Value l = cdr(form); is_cons(l); l = cdr(l)) v->kids[v->nkids++] = an(u, s, car(l), false);
    args[1] = v;
    Node *r = call_helper(u, HELPER_APPLY, args, 2, pos);
    r->tail = tail; /* codegen compiles it to CALLV / TAILCALLV */
    return r;
  }
  /* intrinsic? */
  if (is_sym(head) && !lookup(s, head) && vm->env == &vm->genv) {
    int32_t cell = env_lookup(vm, vm->env, head, false);
    OpCode op;
    if (cell >= 0 && (vm->globals[cell].flags & (CELL_INTRINSIC | CELL_INTRINSIC_OFF)) == CELL_INTRINSIC &&
        find_intrinsic(vm, head, (int)argc, &op)) {
      Node *r = node(u, N_PRIM, pos);
      r->op = op;
      r->cell = cell;
      r->kids = arena_alloc(u->arena, ((size_t)argc + 1) * sizeof(Node *));
      r->nkids = (uint32_t)argc;
      int64_t i = 0;
      for (Value l = cdr(form); is_cons(l); l = cdr(l)) r->kids[i++] = an(u, s, car(l), false);
      return r;
    }
  }
  Node *r = node(u, N_CALL, pos);
  Var *hv = is_sym(head) ? lookup(s, head) : NULL;
  if (hv && hv->loop && tail && hv->loop->fn && s->fn == hv->loop->fn && (uint32_t)argc == hv->loop->fn->nparams &&
      !hv->loop->fn->has_rest) {
    r->is_recur = true;
    r->loop = hv->loop;
    r->a = NULL;
  } else {
    r->a = an(u, s, head, false);
  }
  r->kids = arena_alloc(u->arena, ((size_t)argc + 1) * sizeof(Node *));
  r->nkids = (uint32_t)argc;
  int64_t i = 0;
  for (Value l = cdr(form); is_cons(l); l = cdr(l)) r->kids[i++] = an(u, s, car(l), false);
  r->tail = tail;
  return r;
}

/* ---- expressions ---- */

static Node *an(Unit *u, Scope *s, Value form, bool tail) {
  VM *vm = u->vm;
  if (++u->depth > 4000) cerr(u, u->last_pos, "maximum lowering depth exceeded");
  err_check_c_stack(vm);
  Node *r;
  if (is_sym(form)) {
    r = an_symbol(u, s, form, u->last_pos);
  } else if (is_cons(form)) {
    uint32_t pos = form_pos(u, form);
    uint32_t saved = u->last_pos;
    u->last_pos = pos;
    Value head = car(form);
    unsigned special = special_of(vm, head);
    if (special) {
      if (form_len(form) < 0) cerr(u, pos, "malformed special form");
      r = special_fns[special - 1](u, s, form, tail, pos);
    } else {
      Value ex = expand_head(u, form);
      if (ex != form) {
        r = an(u, s, ex, tail);
      } else {
        r = an_call(u, s, form, tail, pos);
      }
    }
    u->last_pos = saved;
  } else if (form == EMPTY_VAL) {
    r = const_node(u, NIL_VAL, u->last_pos);
  } else if (is_vector(form)) {
    uint32_t n = vec_len(form);
    bool all_const = true;
    for (uint32_t i = 0; i < n && all_const; i++) {
      Value e = vec_items(form)[i];
      all_const = !is_sym(e) && !is_cons(e) && !is_vector(e) && !is_map(e);
    }
    if (all_const) {
      r = const_node(u, form, u->last_pos);
    } else {
      r = node(u, N_MKVEC, u->last_pos);
      r->kids = arena_alloc(u->arena, ((size_t)n + 1) * sizeof(Node *));
      r->nkids = n;
      for (uint32_t i = 0; i < n; i++) r->kids[i] = an(u, s, vec_items(form)[i], false);
    }
  } else if (is_map(form)) {
    size_t n = map_count(form);
    r = node(u, N_MKMAP, u->last_pos);
    r->kids = arena_alloc(u->arena, (2 * n + 1) * sizeof(Node *));
    MapIter it;
    map_iter_init(&it, form);
    Value k, v;
    while (map_iter_next(&it, &k, &v)) {
      r->kids[r->nkids++] = an(u, s, k, false);
      r->kids[r->nkids++] = an(u, s, v, false);
    }
  } else {
    r = const_node(u, form, u->last_pos);
  }
  u->depth--;
  return r;
}

/* ---- capture analysis, after a whole top-level form ---- */

static void compute_captures(Unit *u) {
  for (Ref *r = u->refs; r; r = r->next) {
    Var *v = r->var;
    if (fn_eff(r->from) == fn_eff(v->fn)) continue;
    if (v->self_fn && r->from == v->self_fn->fn && !v->assigned) continue; /* compiled as SELF */
    v->captured = true;
  }
  for (Var *v = u->vars; v; v = v->next_in_unit) {
    v->boxed = v->captured && (v->assigned || v->letrec);
    FnInfo *f = fn_eff(v->fn);
    if (f) f->nvars++;
  }
  u->refs = NULL;
  u->vars = NULL;
}

Node *analyze_toplevel(Unit *u, Value form) {
  Scope *top = scope_new(u, NULL, NULL);
  top->toplevel = true;
  FnInfo *fn = arena_alloc(u->arena, sizeof(FnInfo));
  fn->name = NIL_VAL;
  fn->doc = fn->params_src = NIL_VAL;
  fn->file = u->file;
  top->fn = fn;
  u->last_pos = form_pos(u, form);
  Node *body = an(u, top, form, true);
  fn->body = body;
  Node *lam = node(u, N_LAMBDA, u->last_pos);
  lam->fn = fn;
  fn->self_node = lam;
  compute_captures(u);
  return lam;
}

void analyze_unit_begin(Unit *u, VM *vm, Value file) {
  memset(u, 0, sizeof *u);
  u->vm = vm;
  u->roots_base = vm->nroots;
  u->file = file;
  u->arena_slot = arena_push(vm);
  u->arena = arena_at(vm, u->arena_slot);
  vm_push_root(vm, file);
}

void analyze_unit_free_arena(Unit *u) { arena_release(u->vm, u->arena_slot); }

void analyze_unit_end(Unit *u) {
  analyze_unit_free_arena(u);
  u->vm->nroots = u->roots_base;
}
