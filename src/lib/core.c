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

/* (assoc key alist) or (assoc m k v ...): op_assoc_n (ops.c), which the
 * ASSOCN instruction calls too */
static Value n_assoc(VM *vm, int argc, Value *argv) { return op_assoc_n(vm, argv, argc); }

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
  vm_exit(vm, code);
}

static Value n_sys_args(VM *vm, int argc, Value *argv) {
  return vm_args(vm);
}

static const NativeDef core_defs[] = {
    {"+", n_add, 0, VARIADIC,
     "(+ x...)\nReturns the sum of the numbers; (+) is 0. Integers give an integer (wrapping on 64-bit overflow), any"
     " float gives a float; exactly two strings are concatenated."},
    {"-", n_sub, 1, VARIADIC,
     "(- x y...)\nWith one argument returns its negation; with more, subtracts the others from x left to right. "
     "Integers wrap on overflow; any float gives a float."},
    {"*", n_mul, 0, VARIADIC,
     "(* x...)\nReturns the product of the numbers; (*) is 1. Integers wrap on 64-bit overflow; any float gives a "
     "float."},
    {"/", n_div, 2, VARIADIC,
     "(/ x y...)\nDivides x by each y in turn. Two integers that divide exactly give an integer, otherwise a float (7"
     " / 2 is 3.5); an integer divided by integer zero raises \"division by zero\", a float zero divisor follows IEEE"
     " (inf, NaN)."},
    {"mod", n_mod, 2, 2,
     "(mod a b)\nReturns the remainder of a divided by b with the sign of a (C's %, not Scheme's floored modulo): "
     "(mod -7 3) is -1. An integer zero divisor raises \"modulo by zero\"; with a float operand it is fmod."},
    {"=", n_numeq, 1, VARIADIC,
     "(= a b c...)\nReturns #t when every adjacent pair is equal: numbers compare numerically ((= 1 1.0) is #t), "
     "other values with equal?. Never a type error."},
    {"<", n_lt, 1, VARIADIC,
     "(< a b c...)\nReturns #t when each argument is less than the next. Numbers compare numerically (int with "
     "float), two strings by code point; NaN makes any comparison false; other operands are a type error."},
    {">", n_gt, 1, VARIADIC,
     "(> a b c...)\nReturns #t when each argument is greater than the next. Numbers compare numerically, strings by "
     "code point; other operands are a type error."},
    {"<=", n_le, 1, VARIADIC,
     "(<= a b c...)\nReturns #t when each argument is less than or equal to the next. Numbers compare numerically, "
     "strings by code point; other operands are a type error."},
    {">=", n_ge, 1, VARIADIC,
     "(>= a b c...)\nReturns #t when each argument is greater than or equal to the next. Numbers compare numerically,"
     " strings by code point; other operands are a type error."},
    {"not", n_not, 1, 1,
     "(not x)\nReturns #t when x is #f or nil, else #f."},
    {"equal?", n_equal, 2, 2,
     "(equal? a b)\nStructural equality: numbers of the same type by value (1 and 1.0 differ, 0.0 and -0.0 do not, "
     "NaN is never equal), strings by content, lists, vectors and maps element by element. eq? is the same predicate."},
    {"min", n_min, 1, VARIADIC,
     "(min x y...)\nReturns the smallest argument, keeping its type ((min 1 2.0) is 1); among equal values the last "
     "wins. Numbers compare across int and float."},
    {"max", n_max, 1, VARIADIC,
     "(max x y...)\nReturns the largest argument, keeping its type ((max 3 7) is 7); among equal values the last "
     "wins."},
    {"car", n_car, 1, 1,
     "(car seq)\nReturns the first element of a list or vector, or nil when it is empty; nil or another type is a "
     "type error."},
    {"cdr", n_cdr, 1, 1,
     "(cdr seq)\nReturns all but the first element: a list for a list, a vector for a vector, empty when seq has at "
     "most one element."},
    {"cons", n_cons, 2, 2,
     "(cons x tail)\nReturns the list x followed by the elements of tail when tail is a list (nil counts as the empty"
     " list); otherwise the two-element list (x tail)."},
    {"cadr", n_cadr, 1, 1,
     "(cadr seq)\nReturns the second element: (car (cdr seq)), nil when there is none."},
    {"list", n_list, 0, VARIADIC,
     "(list x...)\nReturns a new list of the arguments; (list) is ()."},
    {"vector", n_vector, 0, VARIADIC,
     "(vector x...)\nReturns a new vector of the arguments; (vector) is []."},
    {"length", n_length, 1, 1,
     "(length x)\nReturns the number of elements of a list, vector, map, hash map, bytevector or typed array, or the "
     "number of characters of a string. Other values, nil included, are a type error."},
    {"append", n_append, 0, VARIADIC,
     "(append seq...)\nReturns a list of the elements of every list or vector argument in order; (append) is (). nil "
     "is rejected."},
    {"nth", n_nth, 2, 2,
     "(nth seq i)\nReturns the element at 0-based index i of a list or vector; a negative index or one past the end "
     "is an error (strings: use string-ref)."},
    {"get", n_get, 2, 3,
     "(get m k [default])\nReturns the value under key k in a sorted map or hash map, else default (nil when not "
     "given). A present key whose value is nil returns nil. Not for lists or vectors (use nth)."},
    {"contains?", n_contains, 2, 2,
     "(contains? m k)\nReturns #t when k is a key of the map m. Not for lists (see list/contains?)."},
    {"assoc", n_assoc, 2, VARIADIC,
     "(assoc m k v k v...) or (assoc key alist)\nOn a map, returns a map of the same kind with each key k set to the "
     "following v (later pairs win). With a key and a list, the Scheme alist lookup: the first element of alist that "
     "is a list whose head is equal? to key, else #f."},
    {"string-length", n_strlen, 1, 1,
     "(string-length s)\nReturns the number of characters (Unicode scalar values) of the string s."},
    {"string-ref", n_strref, 2, 2,
     "(string-ref s i)\nReturns the character at 0-based index i of s; an index out of range is an error."},
    {"string-append", n_string_append, 0, VARIADIC,
     "(string-append x...)\nReturns the concatenation of the display forms of the arguments: strings contribute their"
     " text, other values their printed form ((str \"n=\" 42) is \"n=42\"); (str) is \"\". F-strings expand to calls "
     "of str."},
    {"null?", n_nullp, 1, 1,
     "(null? x)\nReturns #t when x is nil or the empty list."},
    {"nil?", n_nilp, 1, 1,
     "(nil? x)\nReturns #t only for nil (not for the empty list)."},
    {"pair?", n_pairp, 1, 1,
     "(pair? x)\nReturns #t when x is a non-empty list."},
    {"list?", n_listp, 1, 1,
     "(list? x)\nReturns #t when x is a list, the empty list included (not nil, not a vector)."},
    {"number?", n_numberp, 1, 1,
     "(number? x)\nReturns #t when x is an integer or a float."},
    {"string?", n_stringp, 1, 1,
     "(string? x)\nReturns #t when x is a string."},
    {"symbol?", n_symbolp, 1, 1,
     "(symbol? x)\nReturns #t when x is a symbol."},
    {"zero?", n_zerop, 1, 1,
     "(zero? x)\nReturns #t when the number x is zero (-0.0 included); a non-number is a type error."},
    {"display", n_display, 0, VARIADIC,
     "(display x...)\nWrites the display form of each argument (strings without quotes) separated by single spaces, "
     "without a newline; returns nil."},
    {"println", n_println, 0, VARIADIC,
     "(println x...)\nWrites the arguments as display does, then a newline; returns nil."},
    {"print", n_print, 0, VARIADIC,
     "(print x...)\nWrites the printed form of each argument (strings quoted) separated by spaces, without a newline;"
     " returns nil."},
    {"newline", n_newline, 0, 0,
     "(newline)\nWrites a newline; returns nil."},
    {"type", n_type, 1, 1,
     "(type x)\nReturns the type of x as a keyword: :nil :bool :int :float :char :string :symbol :keyword :list "
     ":vector :map :hashmap :lambda :native-fn :macro :multimethod :promise :bytevector :stream and so on; a record "
     "gives its type name (:point)."},
    {"apply", n_apply, 2, VARIADIC,
     "(apply fn x... seq)\nCalls fn with the xs followed by the elements of the list or vector seq, and returns its "
     "result: (apply + 1 2 '(3 4)) is 10."},
    {"error", n_error, 0, VARIADIC,
     "(error msg...)\nRaises an :eval error whose message is the display form of msg (further arguments are ignored)."},
    {"exit", n_exit, 0, 1,
     "(exit [code])\nFlushes the output and ends the program with status code (default 0; a float is truncated). Does"
     " not return."},
    {"sys/args", n_sys_args, 0, 0,
     "(sys/args)\nReturns the whole process argument vector as a list of strings: the interpreter, its options, the "
     "script path, \"--\" and the script's arguments."},
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
