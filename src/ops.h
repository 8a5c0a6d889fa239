/* ops.h - the semantics of the builtins that are also opcodes.
 *
 * The VM's intrinsic instructions take their fast path inline and call these
 * for everything else; the library's natives call them too, so both paths
 * behave identically.
 */
#ifndef SEMA_OPS_H
#define SEMA_OPS_H

#include "vm.h"

Value arith_add(VM *vm, Value a, Value b);
Value arith_sub(VM *vm, Value a, Value b);
Value arith_mul(VM *vm, Value a, Value b);
Value arith_div(VM *vm, Value a, Value b);
Value arith_mod(VM *vm, Value a, Value b);
Value arith_neg(VM *vm, Value a);
/* comparisons: numbers numerically, two strings lexicographically */
bool cmp_lt(VM *vm, Value a, Value b);
bool cmp_le(VM *vm, Value a, Value b);
Value op_min2(VM *vm, Value a, Value b);
Value op_max2(VM *vm, Value a, Value b);

Value op_car(VM *vm, Value x);
Value op_cdr(VM *vm, Value x);
Value op_cons(VM *vm, Value a, Value b);
Value op_length(VM *vm, Value x);
Value op_get(VM *vm, Value m, Value k, Value dflt);
Value op_contains(VM *vm, Value m, Value k);
Value op_nth(VM *vm, Value coll, Value idx);
Value op_append2(VM *vm, Value a, Value b);
Value op_strlen(VM *vm, Value s);
Value op_strref(VM *vm, Value s, Value i);
Value op_strappend(VM *vm, Value a, Value b);
Value op_assoc(VM *vm, Value m, Value k, Value v);
Value op_keyword_call(VM *vm, Value kw, Value m);
/* the 1BRC row parse (stdlib.md §3): string.c, math.c */
Value op_string_split(VM *vm, Value s, Value sep);
Value op_string_to_number(VM *vm, Value s);

#endif
