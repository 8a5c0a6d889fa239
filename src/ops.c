/* ops.c - semantics shared by intrinsic opcodes and library natives. */
#include <math.h>
#include "map.h"
#include "numfmt.h"
#include "ops.h"
#include "runtime.h"

/* ---- arithmetic (language.md §3.4) ---- */

static NORETURN void arith_type_error(VM *vm, Value a, Value b, bool plus) {
  if (plus && (is_string(a) || is_string(b))) err_hint(vm, "use (str a b ...) to build a string");
  err_type2(vm, plus ? "number or string" : "number", a, b);
}

/* wrapping 64-bit integer results */
static Value wrap(VM *vm, uint64_t r) { return num_int(vm, (int64_t)r); }

Value op_add(VM *vm, Value a, Value b) {
  if (is_int(a) && is_int(b)) return wrap(vm, (uint64_t)int_of(a) + (uint64_t)int_of(b));
  if (is_number(a) && is_number(b)) return double_val(num_to_double(a) + num_to_double(b));
  if (is_string(a) && is_string(b)) {
    Value s = str_new_uninit(vm, (size_t)str_len(a) + str_len(b));
    memcpy(as_string(s)->data, str_data(a), str_len(a));
    memcpy(as_string(s)->data + str_len(a), str_data(b), str_len(b));
    as_string(s)->nchars = as_string(a)->nchars + as_string(b)->nchars;
    as_string(s)->h.flags = as_string(a)->h.flags & as_string(b)->h.flags & STR_ASCII;
    return s;
  }
  arith_type_error(vm, a, b, true);
}

/* (+ a b c) exactly as the variadic builtin: every operand a number, then
 * folded from the integer 0 (so (+ -0.0 -0.0 -0.0) is 0.0). */
Value op_add3(VM *vm, Value a, Value b, Value c) {
  if (is_double(a) && is_double(b) && is_double(c)) return double_val(0.0 + as_double(a) + as_double(b) + as_double(c));
  if (!is_number(a)) err_type(vm, "number", a);
  if (!is_number(b)) err_type(vm, "number", b);
  if (!is_number(c)) err_type(vm, "number", c);
  return op_add(vm, op_add(vm, op_add(vm, small_int_val(0), a), b), c);
}

Value op_sub(VM *vm, Value a, Value b) {
  if (is_int(a) && is_int(b)) return wrap(vm, (uint64_t)int_of(a) - (uint64_t)int_of(b));
  if (is_number(a) && is_number(b)) return double_val(num_to_double(a) - num_to_double(b));
  arith_type_error(vm, a, b, false);
}

Value op_mul(VM *vm, Value a, Value b) {
  if (is_int(a) && is_int(b)) return wrap(vm, (uint64_t)int_of(a) * (uint64_t)int_of(b));
  if (is_number(a) && is_number(b)) return double_val(num_to_double(a) * num_to_double(b));
  arith_type_error(vm, a, b, false);
}

Value op_div(VM *vm, Value a, Value b) {
  if (is_int(a) && is_int(b)) {
    int64_t x = int_of(a), y = int_of(b);
    if (y == 0) err_eval(vm, "division by zero");
    if (y == -1) return wrap(vm, (uint64_t)0 - (uint64_t)x);
    if (x % y == 0) return num_int(vm, x / y);
    return double_val((double)x / (double)y);
  }
  if (is_number(a) && is_number(b)) return double_val(num_to_double(a) / num_to_double(b));
  arith_type_error(vm, a, b, false);
}

Value op_mod(VM *vm, Value a, Value b) {
  if (is_int(a) && is_int(b)) {
    int64_t x = int_of(a), y = int_of(b);
    if (y == 0) err_eval(vm, "modulo by zero");
    if (y == -1) return small_int_val(0);
    return num_int(vm, x % y);
  }
  if (is_number(a) && is_number(b)) return double_val(fmod(num_to_double(a), num_to_double(b)));
  arith_type_error(vm, a, b, false);
}

Value op_neg(VM *vm, Value a) {
  if (is_int(a)) return wrap(vm, (uint64_t)0 - (uint64_t)int_of(a));
  if (is_double(a)) return double_val(-as_double(a));
  err_type(vm, "number", a);
}

static NORETURN void cmp_error(VM *vm, Value a, Value b) { err_type2(vm, "comparable values", a, b); }

bool op_cmp_lt(VM *vm, Value a, Value b) {
  if (is_int(a) && is_int(b)) return int_of(a) < int_of(b);
  if (is_number(a) && is_number(b)) return num_to_double(a) < num_to_double(b);
  if (is_string(a) && is_string(b)) return val_compare(a, b) < 0;
  cmp_error(vm, a, b);
}

bool op_cmp_le(VM *vm, Value a, Value b) {
  if (is_int(a) && is_int(b)) return int_of(a) <= int_of(b);
  if (is_number(a) && is_number(b)) return num_to_double(a) <= num_to_double(b);
  if (is_string(a) && is_string(b)) return val_compare(a, b) <= 0;
  cmp_error(vm, a, b);
}

static void need_number(VM *vm, Value v) {
  if (!is_number(v)) err_type(vm, "number", v);
}

/* min/max keep the winning argument's type; ties go to the later argument */
Value op_min2(VM *vm, Value a, Value b) {
  need_number(vm, a);
  need_number(vm, b);
  bool lt = (is_int(a) && is_int(b)) ? int_of(a) < int_of(b) : num_to_double(a) < num_to_double(b);
  return lt ? a : b;
}

Value op_max2(VM *vm, Value a, Value b) {
  need_number(vm, a);
  need_number(vm, b);
  bool gt = (is_int(a) && is_int(b)) ? int_of(a) > int_of(b) : num_to_double(a) > num_to_double(b);
  return gt ? a : b;
}

/* ---- bitwise operations (bit/and, bit/or, bit/xor, bit/shift-left,
 * bit/shift-right): the builtins' semantics, shared by their natives
 * (lib/math.c) and the instructions' slow paths ---- */

static int64_t need_int(VM *vm, Value v) {
  if (!is_int(v)) err_type(vm, "int", v);
  return int_of(v);
}

Value op_bit_and(VM *vm, Value a, Value b) { return num_int(vm, need_int(vm, a) & need_int(vm, b)); }
Value op_bit_or(VM *vm, Value a, Value b) { return num_int(vm, need_int(vm, a) | need_int(vm, b)); }
Value op_bit_xor(VM *vm, Value a, Value b) { return num_int(vm, need_int(vm, a) ^ need_int(vm, b)); }

static int shift_amount(VM *vm, const char *name, Value v) {
  int64_t n = need_int(vm, v);
  if (n < 0 || n > 63) err_eval(vm, "%s: shift amount must be in 0..64, got %lld", name, (long long)n);
  return (int)n;
}

Value op_shift_left(VM *vm, Value a, Value b) {
  int64_t x = need_int(vm, a);
  int n = shift_amount(vm, "bit/shift-left", b);
  return num_int(vm, (int64_t)((uint64_t)x << n));
}

Value op_shift_right(VM *vm, Value a, Value b) {
  int64_t x = need_int(vm, a);
  int n = shift_amount(vm, "bit/shift-right", b);
  /* arithmetic shift written portably: >> on a negative value is implementation-defined */
  return num_int(vm, x < 0 ? ~(~x >> n) : x >> n);
}

Value op_num_eq(VM *vm, Value a, Value b) { return bool_val(val_num_eq(a, b)); }
Value op_lt(VM *vm, Value a, Value b) { return bool_val(op_cmp_lt(vm, a, b)); }
Value op_le(VM *vm, Value a, Value b) { return bool_val(op_cmp_le(vm, a, b)); }
Value op_gt(VM *vm, Value a, Value b) { return bool_val(op_cmp_lt(vm, b, a)); }
Value op_ge(VM *vm, Value a, Value b) { return bool_val(op_cmp_le(vm, b, a)); }

/* ---- predicates ---- */

Value op_equalp(VM *vm, Value a, Value b) { return bool_val(val_equal(a, b)); }

Value op_zerop(VM *vm, Value x) {
  if (is_small_int(x)) return bool_val(x == small_int_val(0));
  if (is_double(x)) return bool_val(as_double(x) == 0.0);
  if (is_bigint(x)) return FALSE_VAL; /* boxed integers are never 0 */
  err_type(vm, "number", x);
}

/* ---- lists and sequences ---- */

Value op_car(VM *vm, Value x) {
  if (is_cons(x)) return car(x);
  if (x == EMPTY_VAL) return NIL_VAL;
  if (is_vector(x)) return vec_len(x) ? vec_items(x)[0] : NIL_VAL;
  err_type(vm, "list or vector", x);
}

Value op_cdr(VM *vm, Value x) {
  if (is_cons(x)) return cdr(x);
  if (x == EMPTY_VAL) return EMPTY_VAL;
  if (is_vector(x)) {
    uint32_t n = vec_len(x);
    return n <= 1 ? vec_new(vm, 0) : vec_from(vm, vec_items(x) + 1, n - 1);
  }
  err_type(vm, "list or vector", x);
}

Value op_cons(VM *vm, Value a, Value b) {
  if (is_list(b)) return list_cons(vm, a, b);
  if (b == NIL_VAL) return list_cons(vm, a, EMPTY_VAL);
  return list_cons(vm, a, list_cons(vm, b, EMPTY_VAL));
}

Value op_cadr(VM *vm, Value x) { return op_car(vm, op_cdr(vm, x)); }

Value op_list(VM *vm, const Value *items, int n) { return list_from(vm, items, (size_t)n); }
Value op_vector(VM *vm, const Value *items, int n) { return vec_from(vm, items, (size_t)n); }

Value op_length(VM *vm, Value x) {
  if (is_list(x)) return small_int_val(list_length(x));
  if (is_vector(x)) return small_int_val(vec_len(x));
  if (is_string(x)) return small_int_val(as_string(x)->nchars);
  if (is_anymap(x)) return small_int_val((int64_t)anymap_count(x));
  if (is_objtype(x, OBJ_BYTEVEC)) return small_int_val(((Bytevec *)as_obj(x))->len);
  if (is_objtype(x, OBJ_FOREIGN) && ((Foreign *)as_obj(x))->cls->length)
    return small_int_val(((Foreign *)as_obj(x))->cls->length((Foreign *)as_obj(x)));
  err_type(vm, "list, vector, string, map, bytevector, or typed array", x);
}

Value op_get_or(VM *vm, Value m, Value k, Value dflt) {
  if (!is_anymap(m)) {
    if (is_vector(m) || is_list(m)) err_hint(vm, "to index a list or vector, use (nth coll i)");
    err_type(vm, "map or hashmap", m);
  }
  Value v;
  return anymap_get(m, k, &v) ? v : dflt;
}

Value op_contains(VM *vm, Value m, Value k) {
  if (!is_anymap(m)) {
    if (is_vector(m) || is_list(m)) err_hint(vm, "to look for an element of a list or vector, use list/contains?; to index one, use (nth coll i)");
    err_type(vm, "map or hashmap", m);
  }
  Value v;
  return bool_val(anymap_get(m, k, &v));
}

Value op_nth(VM *vm, Value coll, Value idx) {
  if (!is_int(idx)) {
    if ((is_list(idx) || is_vector(idx)) && is_int(coll)) err_hint(vm, "the arguments are swapped: the order is (nth sequence index)");
    err_type(vm, "int", idx);
  }
  int64_t i = int_of(idx);
  if (!is_list(coll) && !is_vector(coll)) err_type(vm, "list or vector", coll);
  if (i < 0) err_eval(vm, "nth: index must be non-negative, got %lld", (long long)i);
  if (is_vector(coll)) {
    if (i >= vec_len(coll)) err_eval(vm, "index %lld out of bounds (length %u)", (long long)i, vec_len(coll));
    return vec_items(coll)[i];
  }
  Value l = coll;
  for (int64_t k = 0; k < i && is_cons(l); k++) l = cdr(l);
  if (!is_cons(l)) err_eval(vm, "index %lld out of bounds (length %lld)", (long long)i, (long long)list_length(coll));
  return car(l);
}

Value op_append2(VM *vm, Value a, Value b) {
  if (!is_list(a) && !is_vector(a)) err_type(vm, "list or vector", a);
  if (!is_list(b) && !is_vector(b)) err_type(vm, "list or vector", b);
  Value tail = b;
  if (is_vector(b)) tail = list_from(vm, vec_items(b), vec_len(b));
  if (is_vector(a)) {
    for (uint32_t i = vec_len(a); i-- > 0;) tail = list_cons(vm, vec_items(a)[i], tail);
    return tail;
  }
  if (a == EMPTY_VAL) return tail;
  ListBuilder lb;
  list_start(&lb);
  for (Value l = a; is_cons(l); l = cdr(l)) list_add(vm, &lb, car(l));
  lb.tail->cdr = tail;
  gc_barrier(vm, lb.tail);
  return lb.head;
}

Value op_strlen(VM *vm, Value s) {
  if (!is_string(s)) err_type(vm, "string", s);
  return small_int_val(as_string(s)->nchars);
}

Value op_strref(VM *vm, Value s, Value i) {
  if (!is_string(s)) err_type(vm, "string", s);
  if (!is_int(i)) err_type(vm, "int", i);
  int64_t k = int_of(i);
  String *str = as_string(s);
  if (k < 0) err_eval(vm, "string-ref: index %lld must be non-negative", (long long)k);
  if (k >= str->nchars)
    err_eval(vm, "string-ref: index %lld out of bounds (string length %u)", (long long)k, str->nchars);
  if (str->h.flags & STR_ASCII) return char_val((unsigned char)str->data[k]);
  size_t off = str_byte_offset(s, (size_t)k), adv;
  return char_val(utf8_decode(str->data + off, &adv));
}

Value op_strappend(VM *vm, Value a, Value b) {
  if (is_string(a) && is_string(b)) return op_add(vm, a, b);
  StrBuf sb;
  sb_init_vm(&sb, vm);
  print_value(vm, &sb, a, false);
  print_value(vm, &sb, b, false);
  return sb_to_string(vm, &sb);
}

Value op_assoc(VM *vm, Value m, Value k, Value v) {
  if (!is_anymap(m)) err_type(vm, "map or hashmap", m);
  return anymap_assoc(vm, m, k, v);
}

/* (assoc key alist) or (assoc m k v ...), any count but the 3 of op_assoc
 * (the ASSOCN instruction and the builtin).  After the first pair makes a
 * new sorted map, later pairs may update that copy in place
 * (map_assoc_fresh); a pair that changed nothing leaves m the caller's map,
 * which must not be written. */
Value op_assoc_n(VM *vm, const Value *args, int n) {
  if (n == 2 && is_list(args[1])) {
    for (Value l = args[1]; is_cons(l); l = cdr(l)) {
      Value e = car(l);
      if (is_cons(e) && val_equal(car(e), args[0])) return e;
    }
    return FALSE_VAL;
  }
  if (n < 3 || n % 2 == 0) err_eval(vm, "assoc: requires (key alist) or (map key val ...)");
  if (!is_anymap(args[0])) err_type(vm, "map or hashmap", args[0]);
  Value m = args[0];
  for (int i = 1; i + 1 < n; i += 2)
    m = m != args[0] && OBJ_TYPE(m) == OBJ_MAP ? map_assoc_fresh(vm, m, args[i], args[i + 1])
                                               : anymap_assoc(vm, m, args[i], args[i + 1]);
  return m;
}

Value op_dissoc(VM *vm, Value m, Value k) {
  if (!is_anymap(m)) err_type(vm, "map or hashmap", m);
  return anymap_dissoc(vm, m, k);
}

Value op_keyword_call(VM *vm, Value kw, Value m) {
  if (!is_anymap(m)) err_type(vm, "map or hashmap", m);
  Value v;
  return anymap_get(m, kw, &v) ? v : NIL_VAL;
}

/* ---- string/split and string->number: the 1BRC row parse (stdlib.md §3, §7) ---- */

static Value split_on(VM *vm, Value s, const char *sep, size_t sl) {
  const char *p = str_data(s), *end = p + str_len(s);
  bool ascii = (as_string(s)->h.flags & STR_ASCII) != 0;
  ListBuilder lb;
  list_start(&lb);
  if (sl == 0) { /* "" + every character + "" */
    Value empty = str_new(vm, "", 0);
    list_add(vm, &lb, empty);
    size_t adv;
    for (const char *q = p; q < end; q += adv) {
      utf8_decode(q, &adv);
      list_add(vm, &lb, str_new_flagged(vm, q, adv, adv == 1));
    }
    list_add(vm, &lb, empty);
    return lb.head;
  }
  for (;;) {
    const char *hit = sl == 1 ? memchr(p, sep[0], (size_t)(end - p)) : memmem(p, (size_t)(end - p), sep, sl);
    const char *stop = hit ? hit : end;
    list_add(vm, &lb, str_new_flagged(vm, p, (size_t)(stop - p), ascii));
    if (!hit) break;
    p = hit + sl;
  }
  return lb.head;
}

Value op_string_split(VM *vm, Value s, Value sep) {
  if (!is_string(s)) err_type(vm, "string", s);
  if (!is_string(sep)) err_type(vm, "string", sep);
  return split_on(vm, s, str_data(sep), str_len(sep));
}

Value op_string_to_number(VM *vm, Value s) {
  if (!is_string(s)) err_type(vm, "string", s);
  int64_t iv;
  double dv;
  switch (numfmt_parse_lenient(str_data(s), str_len(s), &iv, &dv)) {
  case NUMFMT_INT: return num_int(vm, iv);
  case NUMFMT_FLOAT: return val_canon_double(dv);
  default: err_eval(vm, "cannot parse '%.*s' as number", (int)str_len(s), str_data(s));
  }
}
