/* compiler.c - the pipeline for one unit (read forms -> analyze -> codegen
 * -> run), and the runtime helpers that compiled code calls (%eval,
 * %defmacro, %destructure, quasiquote construction, promises, load). */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include "ast.h"
#include "compiler.h"
#include "helpers.h"
#include "forms.h"
#include "interp.h"
#include "map.h"
#include "ops.h"
#include "reader.h"
#include "env.h"
#include "runtime.h"
#include "lib/lib.h"

static Value run_proto(VM *vm, Proto *p) {
  Closure *c = gc_alloc(vm, OBJ_CLOSURE, sizeof(Closure));
  c->h.aux = 0;
  c->proto = p;
  return vm_call(vm, obj_val(c), 0, NULL);
}

/* After analysis the VM compiles the unit's nodes (and the AST is freed);
 * under --interp the nodes are kept for the reference evaluator.  Returns
 * the prototypes, or nil under --interp.  keep_from: the roots the AST needs. */
static Value prepare_unit(VM *vm, Unit *u, Node **nodes, int64_t n, uint32_t keep_from) {
  if (vm->interp) {
    interp_keep_unit(vm, u, keep_from);
    return NIL_VAL;
  }
  Value protos = vec_new(vm, (size_t)n);
  vm_push_root(vm, protos);
  for (int64_t i = 0; i < n; i++) vec_items(protos)[i] = obj_val(codegen_toplevel(u, nodes[i]));
  analyze_unit_free_arena(u);
  return protos;
}

static Value run_form(VM *vm, Value protos, Node **nodes, int64_t i) {
  return vm->interp ? interp_run_toplevel(vm, nodes[i]) : run_proto(vm, as_proto(vec_items(protos)[i]));
}

Value compile_run_forms(VM *vm, Value forms, Value file, bool form_by_form) {
  uint32_t base = vm->nroots;
  vm_push_root(vm, forms);
  Value result = NIL_VAL;
  if (form_by_form) {
    for (Value l = forms; is_cons(l); l = cdr(l)) {
      Unit u;
      analyze_unit_begin(&u, vm, file);
      Node *n = analyze_toplevel(&u, car(l));
      Value protos = prepare_unit(vm, &u, &n, 1, base);
      result = run_form(vm, protos, &n, 0);
      vm->nroots = u.roots_base;
    }
  } else {
    Unit u;
    analyze_unit_begin(&u, vm, file);
    int64_t n = list_length(forms);
    Node **nodes = arena_alloc(u.arena, ((size_t)n + 1) * sizeof(Node *));
    int64_t i = 0;
    for (Value l = forms; is_cons(l); l = cdr(l)) nodes[i++] = analyze_toplevel(&u, car(l));
    Value protos = prepare_unit(vm, &u, nodes, n, base);
    for (i = 0; i < n; i++) {
      vm_push_root(vm, result);
      result = run_form(vm, protos, nodes, i);
    }
  }
  vm->nroots = base;
  return result;
}

void compile_forms_only(VM *vm, Value forms, Value file) {
  uint32_t base = vm->nroots;
  vm_push_root(vm, forms);
  Unit u;
  analyze_unit_begin(&u, vm, file);
  for (Value l = forms; is_cons(l); l = cdr(l)) {
    Node *n = analyze_toplevel(&u, car(l));
    codegen_toplevel(&u, n);
  }
  analyze_unit_free_arena(&u);
  vm->nroots = base;
}

Value compile_eval_string(VM *vm, const char *src, size_t len, const char *file) {
  Value f = file ? str_from_c(vm, file) : NIL_VAL;
  vm_push_root(vm, f);
  Value saved = vm->cur_file;
  vm_push_root(vm, saved);
  vm->cur_file = f; /* before reading: reader errors name this file */
  Value forms = reader_read_all(vm, src, len);
  vm_push_root(vm, forms);
  Value r = compile_run_forms(vm, forms, f, false);
  if (vm->ci == vm->ci_base && vm->hooks.unit_done) { /* language.md §7.25: pending tasks run after the unit */
    vm_push_root(vm, r);
    vm->hooks.unit_done(vm);
    vm_pop_roots(vm, 1);
  }
  vm->cur_file = saved;
  vm_pop_roots(vm, 3);
  return r;
}

Value compile_eval_builtin(VM *vm, const char *src, size_t len) {
  Value saved_file = vm->cur_file;
  vm_push_root(vm, saved_file);
  vm->cur_file = NIL_VAL;
  Env *saved = vm->env;
  vm->env = &vm->genv;
  Value forms = reader_read_all(vm, src, len);
  vm_push_root(vm, forms);
  Value r = compile_run_forms(vm, forms, NIL_VAL, false);
  vm->env = saved;
  vm->cur_file = saved_file;
  vm_pop_roots(vm, 2);
  return r;
}

Value compile_eval_datum(VM *vm, Value form) {
  vm_push_root(vm, form);
  Env *saved = vm->env;
  vm->env = &vm->genv;
  Value r = compile_run_forms(vm, list_1(vm, form), vm->cur_file, false);
  vm->env = saved;
  vm_pop_roots(vm, 1);
  return r;
}

/* ---- files ---- */

/* Resolve path against the directory of the file being run (or the cwd). */
Value compile_resolve_path(VM *vm, Value path) {
  const char *p = str_data(path);
  if (p[0] == '/' || !is_string(vm->cur_file)) return path;
  char *copy = strdup(str_data(vm->cur_file));
  const char *dir = dirname(copy);
  StrBuf b;
  sb_init_vm(&b, vm);
  if (strcmp(dir, ".") != 0) {
    sb_adds(&b, dir);
    sb_addc(&b, '/');
  }
  sb_adds(&b, p);
  free(copy);
  return sb_to_string(vm, &b);
}

Value compile_load_file(VM *vm, const char *path, bool form_by_form) {
  size_t len;
  int err = 0;
  char *src = reader_read_file(path, &len, &err);
  if (!src) err_io(vm, "load %s: %s", path, strerror(err));
  Value forms;
  Value f = str_from_c(vm, path);
  vm_push_root(vm, f);
  Value saved = vm->cur_file;
  vm_push_root(vm, saved);
  vm->cur_file = f;
  /* read errors must not leak the buffer */
  uint32_t roots = vm->nroots;
  forms = NIL_VAL;
  {
    Value str = str_new_uninit(vm, len);
    memcpy(as_string(str)->data, src, len);
    free(src);
    vm_push_root(vm, str);
    forms = reader_read_all(vm, str_data(str), len);
  }
  vm->nroots = roots;
  Value r = compile_run_forms(vm, forms, f, form_by_form);
  vm->cur_file = saved;
  vm_pop_roots(vm, 2);
  return r;
}

/* ---- macros ---- */

Value compile_transformer(VM *vm, Value lambda_form, Value name, Value file) {
  Unit u;
  analyze_unit_begin(&u, vm, file);
  vm_push_root(vm, lambda_form);
  Node *n = analyze_toplevel(&u, lambda_form);
  Proto *p = codegen_toplevel(&u, n);
  analyze_unit_free_arena(&u);
  Value c = run_proto(vm, p);
  if (is_closure(c)) as_closure(c)->proto->name = name;
  vm->nroots = u.roots_base;
  return c;
}

void compile_define_macro(VM *vm, Value name, Value closure) {
  Macro *m = gc_alloc_sticky(vm, OBJ_MACRO, sizeof(Macro));
  m->fn = closure;
  m->name = name;
  int32_t cell = env_lookup(vm, vm->env, name, true);
  env_set_global(vm, cell, obj_val(m));
}

/* What `,doc` shows of a function written in Sema: its name, the parameter
 * list as written and the docstring (nil when there is none), for compiled
 * closures and the reference evaluator's alike. */
bool compile_fn_doc(Value f, Value *name, Value *params, Value *doc) {
  if (is_closure(f)) {
    Proto *p = as_closure(f)->proto;
    *name = p->name, *params = p->params, *doc = p->doc;
    return true;
  }
  if (is_native(f) && (as_obj(f)->flags & NATIVE_INTERP)) {
    FnInfo *fn = as_native(f)->ud;
    *name = is_sym(fn->name) ? fn->name : as_native(f)->name;
    *params = fn->params_src, *doc = fn->doc;
    return true;
  }
  return false;
}

/* ---- destructuring (language.md §7.13) ---- */

static bool is_amp(VM *vm, Value v) { return is_sym(v) && strcmp(sym_cstr(vm, v), "&") == 0; }
static bool is_underscore(VM *vm, Value v) { return is_sym(v) && strcmp(sym_cstr(vm, v), "_") == 0; }

static void names_into(VM *vm, Value p, ListBuilder *lb) {
  if (is_sym(p)) {
    if (!is_underscore(vm, p)) list_add(vm, lb, p);
  } else if (is_vector(p)) {
    for (uint32_t i = 0; i < vec_len(p); i++)
      if (!is_amp(vm, vec_items(p)[i])) names_into(vm, vec_items(p)[i], lb);
  } else if (is_map(p)) {
    MapIter it;
    map_iter_init(&it, p);
    Value k, v;
    while (map_iter_next(&it, &k, &v)) {
      if (is_kw(k) && strcmp(sym_cstr(vm, k), "keys") == 0) {
        Value ks = is_vector(v) ? list_from(vm, vec_items(v), vec_len(v)) : v;
        if (!is_list(ks)) err_eval(vm, "destructure: :keys must be followed by a vector or list of symbols");
        for (; is_cons(ks); ks = cdr(ks)) {
          if (!is_sym(car(ks))) err_eval(vm, "destructure: :keys entries must be symbols");
          list_add(vm, lb, car(ks));
        }
      } else {
        names_into(vm, v, lb);
      }
    }
  } else {
    err_eval(vm, "destructure: invalid pattern, expected symbol, vector, or map, got %s", val_type_name(p));
  }
}

Value compile_pattern_names(VM *vm, Value pattern) {
  ListBuilder lb;
  list_start(&lb);
  names_into(vm, pattern, &lb);
  return lb.head;
}

static void bind_into(VM *vm, Value p, Value v, ListBuilder *lb);

static void bind_seq(VM *vm, Value p, Value v, ListBuilder *lb) {
  if (!is_list(v) && !is_vector(v)) err_type(vm, "list or vector", v);
  uint32_t np = vec_len(p);
  Value *pi = vec_items(p);
  int amp = -1;
  for (uint32_t i = 0; i < np; i++)
    if (is_amp(vm, pi[i])) {
      amp = (int)i;
      break;
    }
  if (amp >= 0) {
    if ((uint32_t)amp + 1 >= np) err_eval(vm, "destructure: `&` must be followed by a rest pattern");
    if ((uint32_t)amp + 2 < np) err_eval(vm, "destructure: only one pattern allowed after `&`");
  }
  uint32_t fixed = amp >= 0 ? (uint32_t)amp : np;
  /* gather elements */
  int64_t n = is_vector(v) ? vec_len(v) : list_length(v);
  if (amp < 0 && n != fixed) err_eval(vm, "destructure: expected %u elements, got %lld", fixed, (long long)n);
  if (amp >= 0 && n < fixed)
    err_eval(vm, "destructure: expected at least %u elements before `&`, got %lld", fixed, (long long)n);
  SeqIter it;
  seqiter_init(&it, v);
  Value x = NIL_VAL;
  for (uint32_t i = 0; i < fixed; i++) {
    seqiter_next(&it, &x);
    bind_into(vm, pi[i], x, lb);
  }
  if (amp >= 0) {
    ListBuilder rest;
    list_start(&rest);
    while (seqiter_next(&it, &x)) list_add(vm, &rest, x);
    bind_into(vm, pi[amp + 1], rest.head, lb);
  }
}

static void bind_into(VM *vm, Value p, Value v, ListBuilder *lb) {
  err_check_c_stack(vm);
  if (is_sym(p)) {
    if (!is_underscore(vm, p)) list_add(vm, lb, v);
    return;
  }
  if (is_vector(p)) {
    bind_seq(vm, p, v, lb);
    return;
  }
  if (is_map(p)) {
    if (!is_anymap(v)) err_type(vm, "map or hashmap", v);
    MapIter it;
    map_iter_init(&it, p);
    Value k, pv;
    while (map_iter_next(&it, &k, &pv)) {
      if (is_kw(k) && strcmp(sym_cstr(vm, k), "keys") == 0) {
        Value ks = is_vector(pv) ? list_from(vm, vec_items(pv), vec_len(pv)) : pv;
        for (; is_cons(ks); ks = cdr(ks)) {
          Value got;
          Value key = kw_val(sym_id(car(ks)));
          list_add(vm, lb, anymap_get(v, key, &got) ? got : NIL_VAL);
        }
      } else {
        Value got;
        bind_into(vm, pv, anymap_get(v, k, &got) ? got : NIL_VAL, lb);
      }
    }
    return;
  }
  err_eval(vm, "destructure: invalid pattern, expected symbol, vector, or map, got %s", val_type_name(p));
}

Value compile_destructure(VM *vm, Value pattern, Value value) {
  ListBuilder lb;
  list_start(&lb);
  bind_into(vm, pattern, value, &lb);
  int64_t n = list_length(lb.head);
  Value vec = vec_new(vm, (size_t)n);
  int64_t i = 0;
  for (Value l = lb.head; is_cons(l); l = cdr(l)) vec_items(vec)[i++] = car(l);
  return vec;
}

/* ---- helper natives ---- */

static Value h_eval(VM *vm, int argc, Value *argv) {
  return compile_eval_datum(vm, argv[0]);
}

static Value h_macroexpand(VM *vm, int argc, Value *argv) {
  bool ex;
  return analyze_macroexpand_1(vm, argv[0], &ex);
}

static Value h_defmacro(VM *vm, int argc, Value *argv) {
  if (is_closure(argv[1])) as_closure(argv[1])->proto->name = argv[0];
  if (is_native(argv[1]) && (as_obj(argv[1])->flags & NATIVE_INTERP)) as_native(argv[1])->name = argv[0];
  compile_define_macro(vm, argv[0], argv[1]);
  return NIL_VAL;
}

static Value h_destructure(VM *vm, int argc, Value *argv) {
  return compile_destructure(vm, argv[0], argv[1]);
}

static Value h_qq_splice(VM *vm, int argc, Value *argv) {
  Value v = argv[0];
  if (is_list(v)) return v;
  if (is_vector(v)) return list_from(vm, vec_items(v), vec_len(v));
  err_type(vm, "list or vector", v);
}

static Value h_qq_concat(VM *vm, int argc, Value *argv) {
  Value r = argc ? argv[argc - 1] : EMPTY_VAL;
  for (int i = argc - 1; i-- > 0;) r = op_append2(vm, argv[i], r);
  return r;
}

static Value h_qq_vector(VM *vm, int argc, Value *argv) {
  int64_t n = list_length(argv[0]);
  Value v = vec_new(vm, (size_t)n);
  int64_t i = 0;
  for (Value l = argv[0]; is_cons(l); l = cdr(l)) vec_items(v)[i++] = car(l);
  return v;
}

/* A call of more arguments than fit in the register window (analyze.c,
 * SPILL_ARGS): the arguments were evaluated in order into a vector, which
 * stays on the VM stack (argv) while vm_call copies its items. */
static Value h_apply_spilled(VM *vm, int argc, Value *argv) {
  return vm_call(vm, argv[0], (int)vec_len(argv[1]), vec_items(argv[1]));
}

Value compile_gensym(VM *vm, const char *prefix) {
  char buf[300];
  snprintf(buf, sizeof buf, "%.250s__%llu", prefix, (unsigned long long)++vm->gensym_counter);
  return SYM(vm, buf);
}

static Value h_gensym(VM *vm, int argc, Value *argv) {
  if (argc == 0) return compile_gensym(vm, "g");
  if (!is_string(argv[0])) err_type(vm, "string", argv[0]);
  return compile_gensym(vm, str_data(argv[0]));
}

static Value h_make_promise(VM *vm, int argc, Value *argv) {
  Promise *p = gc_alloc(vm, OBJ_PROMISE, sizeof(Promise));
  p->thunk = argv[0];
  return obj_val(p);
}

static Value h_force(VM *vm, int argc, Value *argv) {
  Value v = argv[0];
  if (!is_objtype(v, OBJ_PROMISE)) {
    err_hint(vm, "force expects a promise created by delay");
    err_type(vm, "thunk", v);
  }
  Promise *p = (Promise *)as_obj(v);
  if (p->h.flags & PROMISE_FORCED) return p->thunk;
  Value r = vm_call(vm, p->thunk, 0, NULL);
  if (!(p->h.flags & PROMISE_FORCED)) {
    p->thunk = r;
    p->h.flags |= PROMISE_FORCED;
    gc_barrier(vm, p); /* the thunk ran: p may be old by now */
  }
  return p->thunk;
}

static Value h_load(VM *vm, int argc, Value *argv) {
  if (!is_string(argv[0])) err_type(vm, "string", argv[0]);
  Value path = compile_resolve_path(vm, argv[0]);
  vm_push_root(vm, path);
  Value r = compile_load_file(vm, str_data(path), true);
  vm_pop_roots(vm, 1);
  return r;
}

static const NativeDef helpers[] = {
    {"%eval", h_eval, 1, 1,
     "(%eval datum)\nInternal: the runtime helper of the eval form; expands, compiles and runs datum in the global "
     "environment."},
    {"eval", h_eval, 1, 1,
     "(eval datum)\nExpands, compiles and runs datum as a unit in the global environment and returns its value (the "
     "procedure behind the eval special form, for (map eval forms))."},
    {"%macroexpand", h_macroexpand, 1, 1,
     "(%macroexpand form)\nInternal: the runtime helper of macroexpand; one expansion step of form."},
    {"%defmacro", h_defmacro, 2, 2,
     "(%defmacro name transformer)\nInternal: defines the global macro name with the transformer function (a defmacro"
     " that is not at top level)."},
    {"%destructure", h_destructure, 2, 2,
     "(%destructure pattern value)\nInternal: destructures value strictly by pattern and returns the vector of the "
     "bound values, in the pattern's name order."},
    {"%qq-splice", h_qq_splice, 1, 1,
     "(%qq-splice seq)\nInternal: the list of the elements of seq for an unquote-splicing (a list or vector, else a "
     "type error)."},
    {"%qq-concat", h_qq_concat, 0, VARIADIC,
     "(%qq-concat seq...)\nInternal: appends the lists built by a quasiquote template."},
    {"%apply", h_apply_spilled, 2, 2,
     "(%apply f args)\nInternal: calls f with the elements of the vector args, for a call with more arguments than"
     " fit in registers."},
    {"%qq-vector", h_qq_vector, 1, 1,
     "(%qq-vector lst)\nInternal: the vector of the elements of the list lst, for a quasiquoted vector."},
    {"%gensym", h_gensym, 0, 1,
     "(%gensym [prefix])\nInternal: the same as gensym, for compiled auto-gensyms."},
    {"gensym", h_gensym, 0, 1,
     "(gensym [prefix])\nReturns a fresh symbol named PREFIX__N (default prefix g) from the counter that auto-gensyms"
     " share; prefix must be a string."},
    {"%make-promise", h_make_promise, 1, 1,
     "(%make-promise thunk)\nInternal: the promise of a delay form, around the zero-argument thunk."},
    {"%force", h_force, 1, 1,
     "(%force promise)\nInternal: the runtime helper of force."},
    {"%load", h_load, 1, 1,
     "(%load path)\nInternal: the runtime helper of load."},
    {NULL, NULL, 0, 0},
};

_Static_assert(HELPER__COUNT <= VM_MAX_HELPERS, "raise VM_MAX_HELPERS");

static const char *const helper_names[] = {
#define X(id, name, module) name,
    SEMA_HELPERS(X)
#undef X
};

void compile_bind_helpers(VM *vm) {
  for (int i = 0; i < HELPER__COUNT; i++) {
    Value fn = env_get(vm, helper_names[i]);
    if (!is_native(fn)) {
      fprintf(stderr, "sema: internal helper %s is not registered\n", helper_names[i]);
      abort(); /* a row of helpers.h without its native: a build error, found at every start */
    }
    vm->helpers[i] = fn;
  }
}

void compile_register_helpers(VM *vm) {
  env_register(vm, helpers);
  forms_register_helpers(vm);
}
