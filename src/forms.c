/* forms.c - match, define-record-type, defmulti/defmethod, module/import
 * (language.md §7.20-7.24), lowered to core forms plus runtime helpers.
 *
 * Lowered code calls its helpers through the native objects themselves (a
 * list whose head is a procedure value), so user bindings can never shadow
 * them.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include "compiler.h"
#include "helpers.h"
#include "forms.h"
#include "map.h"
#include "env.h"
#include "runtime.h"
#include "lib/lib.h"

static bool sym_named(VM *vm, Value v, const char *name) { return is_sym(v) && strcmp(sym_cstr(vm, v), name) == 0; }
static Value quoted(VM *vm, Value v) { return list_2(vm, SYM(vm, "quote"), v); }
static Value nth_of(Value l, int i) {
  while (i-- > 0) l = cdr(l);
  return car(l);
}

/* ---- match ---- */

static void match_names_into(VM *vm, Value p, ListBuilder *lb) {
  err_check_c_stack(vm);
  if (is_sym(p)) {
    if (!sym_named(vm, p, "_")) list_add(vm, lb, p);
  } else if (is_vector(p)) {
    uint32_t n = vec_len(p);
    for (uint32_t i = 0; i < n; i++) {
      Value e = vec_items(p)[i];
      if (sym_named(vm, e, "&")) {
        if (i + 2 != n) err_eval(vm, "match: `&` must be followed by a rest pattern");
        continue;
      }
      match_names_into(vm, e, lb);
    }
  } else if (is_map(p)) {
    MapIter it;
    map_iter_init(&it, p);
    Value k, v;
    while (map_iter_next(&it, &k, &v)) {
      if (is_kw(k) && strcmp(sym_cstr(vm, k), "keys") == 0) {
        if (!is_vector(v) && !is_list(v)) err_eval(vm, "match: :keys must be followed by a vector or list of symbols");
        SeqIter si;
        seqiter_init(&si, v);
        Value name;
        while (seqiter_next(&si, &name)) {
          if (!is_sym(name)) err_eval(vm, "match: :keys entries must be symbols");
          list_add(vm, lb, name);
        }
      } else {
        match_names_into(vm, v, lb);
      }
    }
  }
  /* quoted data, lists and other literals bind nothing */
}

static bool match_into(VM *vm, Value p, Value v, ListBuilder *lb);

static bool match_seq(VM *vm, Value p, Value v, ListBuilder *lb) {
  if (!is_list(v) && !is_vector(v)) return false;
  uint32_t np = vec_len(p);
  int amp = -1;
  for (uint32_t i = 0; i < np; i++)
    if (sym_named(vm, vec_items(p)[i], "&")) amp = (int)i;
  uint32_t fixed = amp >= 0 ? (uint32_t)amp : np;
  int64_t n = is_vector(v) ? vec_len(v) : list_length(v);
  if (amp < 0 ? n != fixed : n < fixed) return false;
  SeqIter it;
  seqiter_init(&it, v);
  Value x = NIL_VAL;
  for (uint32_t i = 0; i < fixed; i++) {
    seqiter_next(&it, &x);
    if (!match_into(vm, vec_items(p)[i], x, lb)) return false;
  }
  if (amp >= 0) {
    ListBuilder rest;
    list_start(&rest);
    while (seqiter_next(&it, &x)) list_add(vm, &rest, x);
    return match_into(vm, vec_items(p)[amp + 1], rest.head, lb);
  }
  return true;
}

static bool match_map(VM *vm, Value p, Value v, ListBuilder *lb) {
  if (!is_anymap(v)) return false;
  MapIter it;
  map_iter_init(&it, p);
  Value k, pv, got;
  while (map_iter_next(&it, &k, &pv)) {
    if (is_kw(k) && strcmp(sym_cstr(vm, k), "keys") == 0) {
      SeqIter si;
      seqiter_init(&si, pv);
      Value name;
      while (seqiter_next(&si, &name)) list_add(vm, lb, anymap_get(v, kw_val(sym_id(name)), &got) ? got : NIL_VAL);
    } else if (!anymap_get(v, k, &got) || !match_into(vm, pv, got, lb)) {
      return false;
    }
  }
  return true;
}

static bool match_into(VM *vm, Value p, Value v, ListBuilder *lb) {
  err_check_c_stack(vm);
  if (is_sym(p)) {
    if (!sym_named(vm, p, "_")) list_add(vm, lb, v);
    return true;
  }
  if (is_vector(p)) return match_seq(vm, p, v, lb);
  if (is_map(p)) return match_map(vm, p, v, lb);
  if (is_cons(p) && sym_named(vm, car(p), "quote") && is_cons(cdr(p))) return val_equal(car(cdr(p)), v);
  return val_equal(p, v);
}

static Value h_match(VM *vm, int argc, Value *argv) {
  ListBuilder lb;
  list_start(&lb);
  if (!match_into(vm, argv[0], argv[1], &lb)) return FALSE_VAL;
  int64_t n = list_length(lb.head);
  Value vec = vec_new(vm, (size_t)n);
  int64_t i = 0;
  for (Value l = lb.head; is_cons(l); l = cdr(l)) vec_items(vec)[i++] = car(l);
  return vec;
}

static Value h_match_fail(VM *vm, int argc, Value *argv) {
  Value s = print_to_string(vm, argv[0], true);
  err_eval(vm, "match: no clause matched value: %s", str_data(s));
}

static Value h_vec_ref(VM *vm, int argc, Value *argv) {
  return vec_items(argv[0])[small_int_of(argv[1])];
}

/* (let ((name (%vec-ref m i)) ...) body...) */
static Value bind_names(VM *vm, Value names, Value m, Value body) {
  ListBuilder binds;
  list_start(&binds);
  int64_t i = 0;
  for (Value l = names; is_cons(l); l = cdr(l), i++)
    list_add(vm, &binds, list_2(vm, car(l), list_3(vm, vm->helpers[HELPER_VEC_REF], m, small_int_val(i))));
  return list_cons(vm, SYM(vm, "let"), list_cons(vm, binds.head, body));
}

Value forms_lower_match(VM *vm, Value form, uint32_t pos) {
  bool star = sym_named(vm, car(form), "match*");
  int64_t n = list_length(form) - 1;
  if (n < 2) err_arity(vm, star ? "match*" : "match", "2+", (int)n);
  Value v = SYM(vm, " match-v"), m = SYM(vm, " match-m"), ok = SYM(vm, " match-ok");
  Value next = star ? NIL_VAL : list_2(vm, vm->helpers[HELPER_MATCH_FAIL], v);
  /* clauses back to front */
  Value clauses = list_reverse(vm, cdr(cdr(form)));
  for (Value l = clauses; is_cons(l); l = cdr(l)) {
    Value cl = car(l);
    if (is_vector(cl)) cl = list_from(vm, vec_items(cl), vec_len(cl));
    if (cl == EMPTY_VAL) err_eval(vm, "match: clause must not be empty");
    if (!is_cons(cl)) err_eval(vm, "match: each clause must be a list or vector");
    Value pat = car(cl), rest = cdr(cl), guard = UNDEF_VAL;
    if (list_length(cl) >= 3 && sym_named(vm, car(rest), "when")) {
      guard = car(cdr(rest));
      rest = cdr(cdr(rest));
    }
    ListBuilder nb;
    list_start(&nb);
    match_names_into(vm, pat, &nb);
    Value body = rest == EMPTY_VAL ? list_1(vm, NIL_VAL) : rest;
    Value try_m = list_3(vm, vm->helpers[HELPER_MATCH], quoted(vm, pat), v);
    Value on_match = bind_names(vm, nb.head, m, body);
    Value test = m;
    if (guard != UNDEF_VAL) {
      Value guarded = bind_names(vm, nb.head, m, list_1(vm, guard));
      test = ok;
      on_match = list_3(vm, SYM(vm, "let"), list_1(vm, list_2(vm, ok, list_3(vm, SYM(vm, "and"), m, guarded))),
                       list_n(vm, 4, SYM(vm, "if"), ok, on_match, next));
      next = list_3(vm, SYM(vm, "let"), list_1(vm, list_2(vm, m, try_m)), on_match);
      continue;
    }
    next = list_3(vm, SYM(vm, "let"), list_1(vm, list_2(vm, m, try_m)), list_n(vm, 4, SYM(vm, "if"), test, on_match, next));
  }
  return list_3(vm, SYM(vm, "let"), list_1(vm, list_2(vm, v, nth_of(form, 1))), next);
}

/* ---- records ---- */

static Value h_make_record(VM *vm, int argc, Value *argv) {
  Record *r = gc_alloc(vm, OBJ_RECORD, sizeof(Record) + (size_t)(argc - 1) * sizeof(Value));
  r->h.aux = (uint32_t)(argc - 1);
  r->tag = argv[0];
  memcpy(r->fields, argv + 1, (size_t)(argc - 1) * sizeof(Value));
  return obj_val(r);
}

static Value h_record_get(VM *vm, int argc, Value *argv) {
  Value x = argv[0];
  if (!is_objtype(x, OBJ_RECORD) || ((Record *)as_obj(x))->tag != argv[1]) err_type(vm, sym_cstr(vm, argv[1]), x);
  return ((Record *)as_obj(x))->fields[small_int_of(argv[2])];
}

static Value h_record_is(VM *vm, int argc, Value *argv) {
  return bool_val(is_objtype(argv[0], OBJ_RECORD) && ((Record *)as_obj(argv[0]))->tag == argv[1]);
}

static Value defun_form(VM *vm, Value name, Value params, Value body_expr) {
  return list_3(vm, SYM(vm, "define"), list_cons(vm, name, params), body_expr);
}

Value forms_lower_define_record_type(VM *vm, Value form, uint32_t pos) {
  int64_t n = list_length(form) - 1;
  if (n < 3) err_eval(vm, "define-record-type: requires at least type name, constructor, and predicate");
  Value type = nth_of(form, 1), ctor = nth_of(form, 2), pred = nth_of(form, 3);
  if (!is_sym(type)) err_eval(vm, "define-record-type: type name must be a symbol");
  if (!is_cons(ctor)) err_eval(vm, "define-record-type: constructor spec must be a non-empty list");
  if (!is_sym(pred)) err_eval(vm, "define-record-type: predicate name must be a symbol");
  Value fields = cdr(ctor);
  for (Value l = ctor; is_cons(l); l = cdr(l))
    if (!is_sym(car(l))) err_eval(vm, "define-record-type: constructor name and fields must be symbols");
  ListBuilder out;
  list_start(&out);
  list_add(vm, &out, SYM(vm, "begin"));
  Value qtype = quoted(vm, type);
  list_add(vm, &out, defun_form(vm, car(ctor), fields, list_cons(vm, vm->helpers[HELPER_MAKE_RECORD], list_cons(vm, qtype, fields))));
  Value x = SYM(vm, "record");
  list_add(vm, &out, defun_form(vm, pred, list_1(vm, x), list_3(vm, vm->helpers[HELPER_RECORD_IS], x, qtype)));
  for (Value l = cdr(cdr(cdr(cdr(form)))); is_cons(l); l = cdr(l)) {
    Value spec = car(l);
    if (!is_cons(spec) || list_length(spec) < 2 || !is_sym(car(spec)) || !is_sym(car(cdr(spec))))
      err_eval(vm, "define-record-type: field spec must be (field accessor [modifier])");
    int64_t idx = 0;
    Value f = fields;
    for (; is_cons(f) && car(f) != car(spec); f = cdr(f)) idx++;
    if (!is_cons(f)) err_eval(vm, "define-record-type: field '%s' not in constructor", sym_cstr(vm, car(spec)));
    list_add(vm, &out, defun_form(vm, car(cdr(spec)), list_1(vm, x),
                                list_n(vm, 4, vm->helpers[HELPER_RECORD_GET], x, qtype, small_int_val(idx))));
  }
  list_add(vm, &out, NIL_VAL);
  return out.head;
}

/* ---- multimethods ---- */

static Value h_make_multi(VM *vm, int argc, Value *argv) {
  Multi *m = gc_alloc_sticky(vm, OBJ_MULTI, sizeof(Multi));
  m->name = argv[0];
  m->dispatch = argv[1];
  m->methods = map_empty(vm);
  m->deflt = UNBOUND_VAL;
  return obj_val(m);
}

static Value h_add_method(VM *vm, int argc, Value *argv) {
  if (!is_objtype(argv[0], OBJ_MULTI)) err_eval(vm, "defmethod: first argument is not a multimethod");
  Multi *m = (Multi *)as_obj(argv[0]);
  if (is_kw(argv[1]) && strcmp(sym_cstr(vm, argv[1]), "default") == 0)
    m->deflt = argv[2];
  else
    m->methods = map_assoc(vm, m->methods, argv[1], argv[2]);
  return NIL_VAL;
}

Value forms_lower_defmulti(VM *vm, Value form, uint32_t pos) {
  int64_t n = list_length(form) - 1;
  if (n != 2) err_arity(vm, "defmulti", "2", (int)n);
  Value name = nth_of(form, 1);
  if (!is_sym(name)) err_eval(vm, "defmulti: name must be a symbol");
  return list_3(vm, SYM(vm, "define"), name, list_3(vm, vm->helpers[HELPER_MAKE_MULTI], quoted(vm, name), nth_of(form, 2)));
}

Value forms_lower_defmethod(VM *vm, Value form, uint32_t pos) {
  int64_t n = list_length(form) - 1;
  if (n != 3) err_arity(vm, "defmethod", "3", (int)n);
  return list_cons(vm, vm->helpers[HELPER_ADD_METHOD], cdr(form));
}

/* ---- modules ---- */

Value forms_lower_module(VM *vm, Value form, uint32_t pos) {
  int64_t n = list_length(form) - 1;
  if (n < 2) err_arity(vm, "module", "2+", (int)n);
  if (!is_sym(nth_of(form, 1))) err_eval(vm, "module: name must be a symbol");
  Value ex = nth_of(form, 2);
  if (!is_cons(ex) || !sym_named(vm, car(ex), "export")) err_eval(vm, "module: second argument must start with 'export'");
  for (Value l = cdr(ex); is_cons(l); l = cdr(l))
    if (!is_sym(car(l))) err_eval(vm, "module: export list must contain symbols");
  Value set = list_2(vm, vm->helpers[HELPER_MODULE_EXPORTS], quoted(vm, cdr(ex)));
  return list_cons(vm, SYM(vm, "begin"), list_cons(vm, set, cdr(cdr(cdr(form)))));
}

Value forms_lower_import(VM *vm, Value form, uint32_t pos) {
  int64_t n = list_length(form) - 1;
  if (n < 1) err_arity(vm, "import", "1+", (int)n);
  for (Value l = cdr(cdr(form)); is_cons(l); l = cdr(l))
    if (!is_sym(car(l))) err_eval(vm, "import: expected a symbol");
  return list_3(vm, vm->helpers[HELPER_IMPORT], nth_of(form, 1), quoted(vm, cdr(cdr(form))));
}

static Value h_module_exports(VM *vm, int argc, Value *argv) {
  if (vm->env != &vm->genv) vm->env->exports = argv[0];
  return NIL_VAL;
}


static bool is_package_path(const char *p) {
  size_t n = strlen(p);
  if (p[0] == '/' || strncmp(p, "./", 2) == 0 || strncmp(p, "../", 3) == 0) return false;
  if (n >= 5 && strcmp(p + n - 5, ".sema") == 0) return false;
  return strchr(p, ':') == NULL && strchr(p, '/') != NULL;
}

/* Collect a finished module's exports into a sorted map symbol -> value. */
static Value module_exports(VM *vm, Env *env) {
  Value out = map_empty(vm);
  if (env->exports != NIL_VAL) {
    for (Value l = env->exports; is_cons(l); l = cdr(l)) {
      int32_t c = env_lookup(vm, env, car(l), false);
      if (c >= 0 && vm->globals[c].value != UNBOUND_VAL) out = map_assoc(vm, out, car(l), vm->globals[c].value);
    }
    return out;
  }
  for (uint32_t i = 0; i < env->cap; i++) {
    if (!env->keys[i]) continue;
    GlobalCell *g = &vm->globals[env->cells[i]];
    if (g->value != UNBOUND_VAL) out = map_assoc(vm, out, g->name, g->value);
  }
  return out;
}

static Value cycle_message(VM *vm, Value path) {
  StrBuf b;
  sb_init_vm(&b, vm);
  Value chain = list_reverse(vm, vm->loading);
  for (Value l = chain; is_cons(l); l = cdr(l)) {
    sb_add(&b, str_data(car(l)), str_len(car(l)));
    sb_adds(&b, " -> ");
  }
  sb_add(&b, str_data(path), str_len(path));
  return sb_to_string(vm, &b);
}

static Value load_module(VM *vm, Value canon) {
  for (Value l = vm->loading; is_cons(l); l = cdr(l))
    if (str_eq(car(l), canon)) err_eval(vm, "cyclic import detected: %s", str_data(cycle_message(vm, canon)));
  Env *env = calloc(1, sizeof(Env));
  env->parent = &vm->genv;
  env->exports = NIL_VAL;
  Env *saved = vm->env;
  vm->loading = list_cons(vm, canon, vm->loading);
  vm->env = env;
  Value exports;
  uint32_t roots = vm->nroots;
  int rc = 0;
  {
    /* run the module form by form; on error clean up and re-raise */
    Value out;
    vm_push_root(vm, canon);
    Value loader = vm->helpers[HELPER_LOAD_MODULE_FILE];
    rc = vm_pcall(vm, loader, 1, &canon, &out);
  }
  vm->env = saved;
  vm->loading = cdr(vm->loading);
  vm->nroots = roots;
  if (rc) {
    free(env->keys);
    free(env->cells);
    free(env);
    err_rethrow(vm);
  }
  exports = module_exports(vm, env);
  free(env->keys);
  free(env->cells);
  free(env);
  vm->modules = map_assoc(vm, vm->modules, canon, exports);
  return exports;
}

static Value h_load_module_file(VM *vm, int argc, Value *argv) {
  return compile_load_file(vm, str_data(argv[0]), true);
}

static Value h_import(VM *vm, int argc, Value *argv) {
  Value path = argv[0];
  if (!is_string(path)) err_type(vm, "string", path);
  if (is_package_path(str_data(path))) err_io(vm, "import %s: package imports are not supported", str_data(path));
  Value full = compile_resolve_path(vm, path);
  char canon_buf[PATH_MAX];
  if (!realpath(str_data(full), canon_buf)) err_io(vm, "import %s: %s", str_data(path), strerror(errno));
  Value canon = str_from_c(vm, canon_buf);
  vm_push_root(vm, canon);
  Value exports;
  if (!map_get(vm->modules, canon, &exports)) exports = load_module(vm, canon);
  vm_push_root(vm, exports);
  Value names = argv[1];
  if (names == EMPTY_VAL) {
    MapIter it;
    map_iter_init(&it, exports);
    Value k, v;
    while (map_iter_next(&it, &k, &v)) env_set_global(vm, env_lookup(vm, vm->env, k, true), v);
  } else {
    for (Value l = names; is_cons(l); l = cdr(l)) {
      Value v;
      if (!map_get(exports, car(l), &v)) err_eval(vm, "import: module does not export '%s'", sym_cstr(vm, car(l)));
      env_set_global(vm, env_lookup(vm, vm->env, car(l), true), v);
    }
  }
  vm_pop_roots(vm, 2);
  return NIL_VAL;
}

static const NativeDef form_helpers[] = {
    {"%match", h_match, 2, 2,
     "(%match pattern value)\nInternal: tries the match pattern on value; returns the vector of the bound values, or "
     "#f."},
    {"%match-fail", h_match_fail, 1, 1,
     "(%match-fail value)\nInternal: raises \"match: no clause matched value: ...\" for value."},
    {"%vec-ref", h_vec_ref, 2, 2,
     "(%vec-ref v i)\nInternal: element i of a vector made by the destructuring helpers (no checks: not for "
     "programs)."},
    {"%make-record", h_make_record, 1, VARIADIC,
     "(%make-record type field...)\nInternal: a new record of the given type with the fields, for record "
     "constructors."},
    {"%record-get", h_record_get, 3, 3,
     "(%record-get record type i)\nInternal: field i of a record of the given type, else a type error; for record "
     "accessors."},
    {"%record-is?", h_record_is, 2, 2,
     "(%record-is? x type)\nInternal: #t when x is a record of the given type; for record predicates."},
    {"%make-multi", h_make_multi, 2, 2,
     "(%make-multi name dispatch-fn)\nInternal: a new multimethod, for defmulti."},
    {"%add-method", h_add_method, 3, 3,
     "(%add-method multi dispatch-value fn)\nInternal: adds a method to a multimethod, for defmethod."},
    {"%module-exports", h_module_exports, 1, 1,
     "(%module-exports names)\nInternal: records the export list of the module being imported, for module."},
    {"%import", h_import, 2, 2,
     "(%import path names)\nInternal: the runtime helper of import."},
    {"%load-module-file", h_load_module_file, 1, 1,
     "(%load-module-file path)\nInternal: runs a module file form by form in the current environment, for import."},
    {NULL, NULL, 0, 0},
};

void forms_register_helpers(VM *vm) { env_register(vm, form_helpers); }
