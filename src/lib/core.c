/* core.c - builtins with language-level semantics (language.md §9):
 * arithmetic, comparison, equality, the intrinsic list and collection
 * operations, printing, type, apply, error, exit. */
#include <stdlib.h>
#include "../ops.h"
#include "lib.h"

/* ---- arithmetic ---- */

static void check_numbers(VM *vm, int argc, Value *argv) {
  for (int i = 0; i < argc; i++)
    if (!is_number(argv[i])) err_type(vm, "number", argv[i]);
}

static Value n_add(VM *vm, int argc, Value *argv) {
  if (argc == 2) return op_add(vm, argv[0], argv[1]);
  if (argc == 3) return op_add3(vm, argv[0], argv[1], argv[2]);
  check_numbers(vm, argc, argv);
  Value r = small_int_val(0);
  for (int i = 0; i < argc; i++) r = op_add(vm, r, argv[i]);
  return r;
}

static Value n_sub(VM *vm, int argc, Value *argv) {
  if (argc == 1) return op_neg(vm, argv[0]);
  if (argc > 2) check_numbers(vm, argc, argv);
  Value r = argv[0];
  for (int i = 1; i < argc; i++) r = op_sub(vm, r, argv[i]);
  return r;
}

static Value n_mul(VM *vm, int argc, Value *argv) {
  if (argc == 2) return op_mul(vm, argv[0], argv[1]); /* errors name both operands in order */
  check_numbers(vm, argc, argv);
  Value r = small_int_val(1);
  for (int i = 0; i < argc; i++) r = op_mul(vm, r, argv[i]);
  return r;
}

static Value n_div(VM *vm, int argc, Value *argv) {
  if (argc > 2) check_numbers(vm, argc, argv);
  Value r = argv[0];
  for (int i = 1; i < argc; i++) r = op_div(vm, r, argv[i]);
  return r;
}

static Value n_mod(VM *vm, int argc, Value *argv) {
  return op_mod(vm, argv[0], argv[1]);
}

/* ---- comparison ---- */

static Value n_numeq(VM *vm, int argc, Value *argv) {
  for (int i = 0; i + 1 < argc; i++)
    if (!val_num_eq(argv[i], argv[i + 1])) return FALSE_VAL;
  return TRUE_VAL;
}

typedef bool (*CmpFn)(VM *, Value, Value);
static Value chain(VM *vm, int argc, Value *argv, CmpFn f, bool swap) {
  /* check every operand first: (< 1 2 "x") is an error even after a false pair */
  bool result = true;
  for (int i = 0; i + 1 < argc; i++) {
    bool r = swap ? f(vm, argv[i + 1], argv[i]) : f(vm, argv[i], argv[i + 1]);
    if (!r) result = false;
  }
  return bool_val(result);
}
static Value n_lt(VM *vm, int argc, Value *argv) { return chain(vm, argc, argv, op_cmp_lt, false); }
static Value n_gt(VM *vm, int argc, Value *argv) { return chain(vm, argc, argv, op_cmp_lt, true); }
static Value n_le(VM *vm, int argc, Value *argv) { return chain(vm, argc, argv, op_cmp_le, false); }
static Value n_ge(VM *vm, int argc, Value *argv) { return chain(vm, argc, argv, op_cmp_le, true); }

static Value n_not(VM *vm, int argc, Value *argv) {
  return bool_val(is_falsy(argv[0]));
}

static Value n_equal(VM *vm, int argc, Value *argv) {
  return bool_val(val_equal(argv[0], argv[1]));
}

static Value n_min(VM *vm, int argc, Value *argv) {
  Value r = argv[0];
  if (!is_number(r)) err_type(vm, "number", r);
  for (int i = 1; i < argc; i++) r = op_min2(vm, r, argv[i]);
  return r;
}

static Value n_max(VM *vm, int argc, Value *argv) {
  Value r = argv[0];
  if (!is_number(r)) err_type(vm, "number", r);
  for (int i = 1; i < argc; i++) r = op_max2(vm, r, argv[i]);
  return r;
}

/* ---- lists and collections (the intrinsic ones) ---- */

#define WRAP1(cname, op)                                 \
  static Value cname(VM *vm, int argc, Value *argv) {    \
    return op(vm, argv[0]);                              \
  }
#define WRAP2(cname, op)                                 \
  static Value cname(VM *vm, int argc, Value *argv) {    \
    return op(vm, argv[0], argv[1]);                     \
  }
WRAP1(n_car, op_car)
WRAP1(n_cdr, op_cdr)
WRAP2(n_cons, op_cons)
WRAP1(n_length, op_length)
WRAP2(n_nth, op_nth)
WRAP2(n_contains, op_contains)
WRAP1(n_strlen, op_strlen)
WRAP2(n_strref, op_strref)

static Value n_cadr(VM *vm, int argc, Value *argv) {
  return op_car(vm, op_cdr(vm, argv[0]));
}

static Value n_list(VM *vm, int argc, Value *argv) { return list_from(vm, argv, (size_t)argc); }
static Value n_vector(VM *vm, int argc, Value *argv) { return vec_from(vm, argv, (size_t)argc); }

static Value n_append(VM *vm, int argc, Value *argv) {
  for (int i = 0; i < argc; i++)
    if (!is_list(argv[i]) && !is_vector(argv[i])) err_type(vm, "list or vector", argv[i]);
  Value r = EMPTY_VAL;
  if (argc == 1) return op_append2(vm, argv[0], EMPTY_VAL);
  for (int i = argc; i-- > 0;) r = op_append2(vm, argv[i], r);
  return r;
}

static Value n_get(VM *vm, int argc, Value *argv) { return op_get_or(vm, argv[0], argv[1], argc > 2 ? argv[2] : NIL_VAL); }

/* (assoc key alist) or (assoc m k v ...) */
static Value n_assoc(VM *vm, int argc, Value *argv) {
  if (argc == 2 && is_list(argv[1])) {
    for (Value l = argv[1]; is_cons(l); l = cdr(l)) {
      Value e = car(l);
      if (is_cons(e) && val_equal(car(e), argv[0])) return e;
    }
    return FALSE_VAL;
  }
  if (argc < 3 || argc % 2 == 0) err_eval(vm, "assoc: requires (key alist) or (map key val ...)");
  if (!is_anymap(argv[0])) err_type(vm, "map or hashmap", argv[0]);
  Value m = argv[0];
  for (int i = 1; i + 1 < argc; i += 2) m = anymap_assoc(vm, m, argv[i], argv[i + 1]);
  return m;
}

static Value n_string_append(VM *vm, int argc, Value *argv) {
  StrBuf b;
  sb_init_vm(&b, vm);
  for (int i = 0; i < argc; i++) print_value(vm, &b, argv[i], false);
  return sb_to_string(vm, &b);
}

/* ---- predicates ---- */

#define PRED(cname, expr)                                \
  static Value cname(VM *vm, int argc, Value *argv) {    \
    Value x = argv[0];                                   \
    return bool_val(expr);                               \
  }
PRED(n_nullp, x == EMPTY_VAL || x == NIL_VAL)
PRED(n_nilp, x == NIL_VAL)
PRED(n_pairp, is_cons(x))
PRED(n_listp, is_list(x))
PRED(n_numberp, is_number(x))
PRED(n_stringp, is_string(x))
PRED(n_symbolp, is_sym(x))

static Value n_zerop(VM *vm, int argc, Value *argv) {
  Value x = argv[0];
  if (!is_number(x)) err_type(vm, "number", x);
  return bool_val(is_double(x) ? as_double(x) == 0.0 : int_of(x) == 0);
}

/* ---- printing ---- */

static void out_values(VM *vm, int argc, Value *argv, bool write, bool nl) {
  StrBuf b;
  sb_init_vm(&b, vm);
  for (int i = 0; i < argc; i++) {
    if (i) sb_addc(&b, ' ');
    print_value(vm, &b, argv[i], write);
  }
  if (nl) sb_addc(&b, '\n');
  vm_write(vm, b.data ? b.data : "", b.len);
  sb_free(&b);
}

static Value n_display(VM *vm, int argc, Value *argv) {
  out_values(vm, argc, argv, false, false);
  return NIL_VAL;
}
static Value n_println(VM *vm, int argc, Value *argv) {
  out_values(vm, argc, argv, false, true);
  return NIL_VAL;
}
static Value n_print(VM *vm, int argc, Value *argv) {
  out_values(vm, argc, argv, true, false);
  return NIL_VAL;
}
static Value n_newline(VM *vm, int argc, Value *argv) {
  vm_write(vm, "\n", 1);
  return NIL_VAL;
}

/* ---- types, apply, errors, exit ---- */

static Value n_type(VM *vm, int argc, Value *argv) {
  return val_type_keyword(vm, argv[0]);
}

static Value n_apply(VM *vm, int argc, Value *argv) {
  Value last = argv[argc - 1];
  if (!is_list(last) && !is_vector(last)) err_type_in(vm, "list or vector", last, "apply");
  int64_t n = is_vector(last) ? vec_len(last) : list_length(last);
  int64_t total = argc - 2 + n;
  /* the arguments go on the VM stack (16M slots): a bound well inside it */
  if (total > 4000000) err_eval(vm, "apply: too many arguments (%lld)", (long long)total);
  Value *args = malloc(((size_t)total + 1) * sizeof(Value));
  int64_t k = 0;
  for (int i = 1; i < argc - 1; i++) args[k++] = argv[i];
  SeqIter it;
  seqiter_init(&it, last);
  Value x;
  while (seqiter_next(&it, &x)) args[k++] = x;
  /* the arguments are copied onto the VM stack by vm_call before anything can collect */
  Value r;
  int rc = vm_pcall(vm, argv[0], (int)total, args, &r);
  free(args);
  if (rc) err_rethrow(vm);
  return r;
}

static Value n_error(VM *vm, int argc, Value *argv) {
  if (argc == 0) err_eval(vm, "error called with no message");
  Value s = print_to_string(vm, argv[0], false);
  err_throw(vm, err_make(vm, "eval", s));
}

static Value n_exit(VM *vm, int argc, Value *argv) {
  int code = 0;
  if (argc > 0) {
    if (is_int(argv[0]))
      code = (int)int_of(argv[0]);
    else if (is_double(argv[0]))
      code = (int)as_double(argv[0]);
    else
      err_type(vm, "integer", argv[0]);
  }
  fflush(stdout);
  fflush(stderr);
  exit(code);
}

static Value n_sys_args(VM *vm, int argc, Value *argv) {
  return vm_args(vm);
}

static const NativeDef core_defs[] = {
    {"+", n_add, 0, VARIADIC},
    {"-", n_sub, 1, VARIADIC},
    {"*", n_mul, 0, VARIADIC},
    {"/", n_div, 2, VARIADIC},
    {"mod", n_mod, 2, 2},
    {"=", n_numeq, 1, VARIADIC},
    {"<", n_lt, 1, VARIADIC},
    {">", n_gt, 1, VARIADIC},
    {"<=", n_le, 1, VARIADIC},
    {">=", n_ge, 1, VARIADIC},
    {"not", n_not, 1, 1},
    {"equal?", n_equal, 2, 2},
    {"min", n_min, 1, VARIADIC},
    {"max", n_max, 1, VARIADIC},
    {"car", n_car, 1, 1},
    {"cdr", n_cdr, 1, 1},
    {"cons", n_cons, 2, 2},
    {"cadr", n_cadr, 1, 1},
    {"list", n_list, 0, VARIADIC},
    {"vector", n_vector, 0, VARIADIC},
    {"length", n_length, 1, 1},
    {"append", n_append, 0, VARIADIC},
    {"nth", n_nth, 2, 2},
    {"get", n_get, 2, 3},
    {"contains?", n_contains, 2, 2},
    {"assoc", n_assoc, 2, VARIADIC},
    {"string-length", n_strlen, 1, 1},
    {"string-ref", n_strref, 2, 2},
    {"string-append", n_string_append, 0, VARIADIC},
    {"null?", n_nullp, 1, 1},
    {"nil?", n_nilp, 1, 1},
    {"pair?", n_pairp, 1, 1},
    {"list?", n_listp, 1, 1},
    {"number?", n_numberp, 1, 1},
    {"string?", n_stringp, 1, 1},
    {"symbol?", n_symbolp, 1, 1},
    {"zero?", n_zerop, 1, 1},
    {"display", n_display, 0, VARIADIC},
    {"println", n_println, 0, VARIADIC},
    {"print", n_print, 0, VARIADIC},
    {"newline", n_newline, 0, 0},
    {"type", n_type, 1, 1},
    {"apply", n_apply, 2, VARIADIC},
    {"error", n_error, 0, VARIADIC},
    {"exit", n_exit, 0, 1},
    {"sys/args", n_sys_args, 0, 0},
    {NULL, NULL, 0, 0},
};

void lib_core_init(VM *vm) {
  env_register(vm, core_defs);
  env_alias(vm, "modulo", "mod");
  env_alias(vm, "eq?", "equal?");
  env_alias(vm, "first", "car");
  env_alias(vm, "rest", "cdr");
  env_alias(vm, "str", "string-append");
  env_alias(vm, "string/append", "string-append");
  env_alias(vm, "type-of", "type");
  env_alias(vm, "hash-ref", "get");
  env_alias(vm, "string/length", "string-length");
  env_alias(vm, "string/ref", "string-ref");
}
