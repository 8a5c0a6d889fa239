/* intrinsics.h - the builtins that compile to instructions, in one table.
 *
 * A call (NAME a1 ... aN) of the global builtin NAME, with N = argc, while the
 * global still holds the original builtin and no local shadows the name,
 * compiles to the instruction OP instead of a call.  From this one table:
 *   - opcodes.h appends OP to the instruction set (enum, names, layouts);
 *   - the analyzer (analyze.c) finds the instruction for a name and an
 *     argument count (intrinsic.c keeps the lookup set);
 *   - codegen (codegen.c) emits it from its layout: L_B one operand, L_BC
 *     two, L_B3 and L_ARGS consecutive registers (plus the special forms it
 *     knows, such as immediates for ADD or fused branches for the
 *     comparisons);
 *   - the VM (vm.c) runs it: a row of kind CALLn or PURE1 gets a generated
 *     case that calls IMPL on its operands; a row of kind FAST has a hand-written case
 *     with an inline fast path that calls IMPL for every other operand;
 *   - the docs list it (`sema doc` says a builtin is compiled inline).
 * Each instruction is recorded in its prototype's deopt table; when the
 * program stores another value into the global, the instruction is rewritten
 * into DEOPT, which calls the global's value instead (vm.c, "DEOPT").
 *
 * IMPL is the C function with the builtin's semantics for these operands
 * (ops.c): it takes no argument vector, so the slow path copies nothing.  The
 * builtin's own native (src/lib/) calls the same function, so the compiled
 * and the called paths cannot drift apart.
 *
 * Adding an intrinsic is one row here plus IMPL (see docs/design.md, "Adding
 * an intrinsic").  Extra names for the same instruction go in
 * SEMA_INTRINSIC_ALIASES.
 *
 * I(OP, name, argc, layout, kind, impl, effect)
 *   argc: operand count, or -1 for any count below INTRINSIC_MAX_ARGS
 *   layout: as opcodes.h (L_B2 and L_B3 keep their operands in consecutive
 *         registers and leave C free, which owned updates use for their token)
 *   kind: FAST, or CALL1 / CALL2 / CALL3 (IMPL(vm, operands...)) / CALLN
 *         (IMPL(vm, first operand's register, count)), or PURE1: IMPL is a
 *         static inline function (ops.h) that neither allocates nor raises,
 *         so its generated case needs no saved pc and no safe point
 */
#ifndef SEMA_INTRINSICS_H
#define SEMA_INTRINSICS_H

#define INTRINSIC_MAX_ARGS 200

#define SEMA_INTRINSICS(I)                                                                   \
  I(ADD, "+", 2, L_BC, FAST, op_add, "R[A] = R[B] + R[C]")                                \
  I(ADD3, "+", 3, L_B3, FAST, op_add3, "R[A] = (+ R[B] R[B+1] R[B+2])")                   \
  I(SUB, "-", 2, L_BC, FAST, op_sub, "R[A] = R[B] - R[C]")                                \
  I(NEG, "-", 1, L_B, FAST, op_neg, "R[A] = -R[B]")                                       \
  I(MUL, "*", 2, L_BC, FAST, op_mul, "R[A] = R[B] * R[C]")                                \
  I(DIV, "/", 2, L_BC, FAST, op_div, "R[A] = R[B] / R[C]")                                \
  I(MOD, "mod", 2, L_BC, FAST, op_mod, "R[A] = (mod R[B] R[C])")                          \
  I(NOT, "not", 1, L_B, PURE1, op_not, "R[A] = (not R[B])")                                   \
  I(EQV, "=", 2, L_BC, FAST, op_num_eq, "R[A] = (= R[B] R[C])")                             \
  I(LTV, "<", 2, L_BC, FAST, op_lt, "R[A] = (< R[B] R[C])")                                 \
  I(LEV, "<=", 2, L_BC, FAST, op_le, "R[A] = (<= R[B] R[C])")                               \
  I(GTV, ">", 2, L_BC, FAST, op_gt, "R[A] = (> R[B] R[C]), as (< R[C] R[B])")               \
  I(GEV, ">=", 2, L_BC, FAST, op_ge, "R[A] = (>= R[B] R[C]), as (<= R[C] R[B])")            \
  I(CAR, "car", 1, L_B, FAST, op_car, "R[A] = (car R[B])")                                   \
  I(CDR, "cdr", 1, L_B, FAST, op_cdr, "R[A] = (cdr R[B])")                                   \
  I(CONS, "cons", 2, L_BC, FAST, op_cons, "R[A] = (cons R[B] R[C])")                         \
  I(CADR, "cadr", 1, L_B, FAST, op_cadr, "R[A] = (cadr R[B])")                               \
  I(NULLP, "null?", 1, L_B, PURE1, op_nullp, "R[A] = (null? R[B])")                           \
  I(NILP, "nil?", 1, L_B, PURE1, op_nilp, "R[A] = (nil? R[B])")                               \
  I(PAIRP, "pair?", 1, L_B, PURE1, op_pairp, "R[A] = (pair? R[B])")                           \
  I(LISTP, "list?", 1, L_B, PURE1, op_listp, "R[A] = (list? R[B])")                           \
  I(NUMBERP, "number?", 1, L_B, PURE1, op_numberp, "R[A] = (number? R[B])")                   \
  I(STRINGP, "string?", 1, L_B, PURE1, op_stringp, "R[A] = (string? R[B])")                   \
  I(SYMBOLP, "symbol?", 1, L_B, PURE1, op_symbolp, "R[A] = (symbol? R[B])")                   \
  I(ZEROP, "zero?", 1, L_B, FAST, op_zerop, "R[A] = (zero? R[B])")                           \
  I(EQUALP, "equal?", 2, L_BC, CALL2, op_equalp, "R[A] = (equal? R[B] R[C])")                 \
  I(NTH, "nth", 2, L_BC, FAST, op_nth, "R[A] = (nth R[B] R[C])")                             \
  I(STRLEN, "string-length", 1, L_B, FAST, op_strlen, "R[A] = (string-length R[B])")         \
  I(MIN2, "min", 2, L_BC, FAST, op_min2, "R[A] = (min R[B] R[C])")                           \
  I(MAX2, "max", 2, L_BC, FAST, op_max2, "R[A] = (max R[B] R[C])")                           \
  I(BITAND, "bit/and", 2, L_BC, FAST, op_bit_and, "R[A] = (bit/and R[B] R[C])")              \
  I(BITOR, "bit/or", 2, L_BC, FAST, op_bit_or, "R[A] = (bit/or R[B] R[C])")                   \
  I(BITXOR, "bit/xor", 2, L_BC, FAST, op_bit_xor, "R[A] = (bit/xor R[B] R[C])")              \
  I(SHL, "bit/shift-left", 2, L_BC, FAST, op_shift_left, "R[A] = (bit/shift-left R[B] R[C])")   \
  I(SHR, "bit/shift-right", 2, L_BC, FAST, op_shift_right, "R[A] = (bit/shift-right R[B] R[C])") \
  I(LENGTH, "length", 1, L_B, CALL1, op_length, "R[A] = (length R[B])")                      \
  I(GET, "get", 2, L_BC, CALL2, op_get, "R[A] = (get R[B] R[C])")                            \
  I(GET3, "get", 3, L_B3, CALL3, op_get_or, "R[A] = (get R[B] R[B+1] R[B+2])")                \
  I(CONTAINS, "contains?", 2, L_BC, CALL2, op_contains, "R[A] = (contains? R[B] R[C])")      \
  I(APPEND2, "append", 2, L_BC, CALL2, op_append2, "R[A] = (append R[B] R[C])")              \
  I(STRSPLIT, "string/split", 2, L_BC, CALL2, op_string_split, "R[A] = (string/split R[B] R[C])") \
  I(STR2NUM, "string->number", 1, L_B, CALL1, op_string_to_number, "R[A] = (string->number R[B])") \
  I(STRREF, "string-ref", 2, L_BC, CALL2, op_strref, "R[A] = (string-ref R[B] R[C])")        \
  I(STRAPPEND, "string-append", 2, L_BC, CALL2, op_strappend, "R[A] = (string-append R[B] R[C])") \
  I(VECTOR, "vector", -1, L_ARGS, CALLN, op_vector, "R[A] = (vector R[B] ... R[B+C-1])")     \
  I(LIST, "list", -1, L_ARGS, CALLN, op_list, "R[A] = (list R[B] ... R[B+C-1])")             \
  I(ASSOC, "assoc", 3, L_B3, CALL3, op_assoc, "R[A] = (assoc R[B] R[B+1] R[B+2])")                \
  I(ASSOCN, "assoc", -1, L_ARGS, CALLN, op_assoc_n, "R[A] = (assoc R[B] ... R[B+C-1]), other counts than 3") \
  I(DISSOC, "dissoc", 2, L_B2, FAST, op_dissoc, "R[A] = (dissoc R[B] R[B+1])")                    \
  I(MAPUPDATE, "map/update", 3, L_B3, FAST, vm_map_update, "R[A] = (map/update R[B] R[B+1] R[B+2])")

/* A(name, OP): another global name whose builtin is the same instruction
 * (with the argument count of OP's row). */
#define SEMA_INTRINSIC_ALIASES(A) \
  A("modulo", MOD)                \
  A("first", CAR)                 \
  A("rest", CDR)                  \
  A("eq?", EQUALP)                \
  A("string-split", STRSPLIT)     \
  A("string/to-number", STR2NUM)

#endif
