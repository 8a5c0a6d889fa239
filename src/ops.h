/* ops.h - the semantics of the builtins that are also instructions.
 *
 * Every function here is the IMPL of a row of intrinsics.h: the VM's
 * instruction takes its fast path inline (or none) and calls it for every
 * other operand; the reference evaluator calls it for the same calls; the
 * library's native for the builtin calls it too.  So the three paths cannot
 * behave differently.  None of them calls back into Sema code.
 */
#ifndef SEMA_OPS_H
#define SEMA_OPS_H

#include "runtime.h"
#include "vm.h"

Value op_add(VM *vm, Value a, Value b);
Value op_add3(VM *vm, Value a, Value b, Value c);
Value op_sub(VM *vm, Value a, Value b);
Value op_mul(VM *vm, Value a, Value b);
Value op_div(VM *vm, Value a, Value b);
Value op_mod(VM *vm, Value a, Value b);
Value op_neg(VM *vm, Value a);
/* comparisons: numbers numerically, two strings lexicographically */
bool op_cmp_lt(VM *vm, Value a, Value b);
bool op_cmp_le(VM *vm, Value a, Value b);
Value op_num_eq(VM *vm, Value a, Value b); /* = */
Value op_lt(VM *vm, Value a, Value b);
Value op_le(VM *vm, Value a, Value b);
Value op_gt(VM *vm, Value a, Value b);
Value op_ge(VM *vm, Value a, Value b);
Value op_min2(VM *vm, Value a, Value b);
Value op_bit_and(VM *vm, Value a, Value b);
Value op_bit_or(VM *vm, Value a, Value b);
Value op_bit_xor(VM *vm, Value a, Value b);
Value op_shift_left(VM *vm, Value a, Value b);
Value op_shift_right(VM *vm, Value a, Value b);
Value op_max2(VM *vm, Value a, Value b);

/* the pure predicates (intrinsics of kind PURE1): inline, they neither
 * allocate nor raise */
static inline Value op_not(VM *vm, Value x) { return bool_val(is_falsy(x)); }
static inline Value op_nullp(VM *vm, Value x) { return bool_val(x == EMPTY_VAL || x == NIL_VAL); }
static inline Value op_nilp(VM *vm, Value x) { return bool_val(x == NIL_VAL); }
static inline Value op_pairp(VM *vm, Value x) { return bool_val(is_cons(x)); }
static inline Value op_listp(VM *vm, Value x) { return bool_val(is_list(x)); }
static inline Value op_numberp(VM *vm, Value x) { return bool_val(is_number(x)); }
static inline Value op_stringp(VM *vm, Value x) { return bool_val(is_string(x)); }
static inline Value op_symbolp(VM *vm, Value x) { return bool_val(is_sym(x)); }
Value op_zerop(VM *vm, Value x);
Value op_equalp(VM *vm, Value a, Value b);
Value op_car(VM *vm, Value x);
Value op_cdr(VM *vm, Value x);
Value op_cons(VM *vm, Value a, Value b);
Value op_cadr(VM *vm, Value x);
Value op_list(VM *vm, const Value *items, int n);
Value op_vector(VM *vm, const Value *items, int n);
Value op_length(VM *vm, Value x);
Value op_get_or(VM *vm, Value m, Value k, Value dflt);
static inline Value op_get(VM *vm, Value m, Value k) { return op_get_or(vm, m, k, NIL_VAL); }
Value op_contains(VM *vm, Value m, Value k);
Value op_nth(VM *vm, Value coll, Value idx);
Value op_append2(VM *vm, Value a, Value b);
Value op_strlen(VM *vm, Value s);
Value op_strref(VM *vm, Value s, Value i);
Value op_strappend(VM *vm, Value a, Value b);
Value op_assoc(VM *vm, Value m, Value k, Value v);
Value op_assoc_n(VM *vm, const Value *args, int n);
Value op_dissoc(VM *vm, Value m, Value k);
Value op_keyword_call(VM *vm, Value kw, Value m);
/* the 1BRC row parse (stdlib.md §3, §7) */
Value op_string_split(VM *vm, Value s, Value sep);
Value op_string_to_number(VM *vm, Value s);

#endif
