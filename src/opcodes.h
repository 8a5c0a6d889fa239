/* opcodes.h - the instruction set, in one X-macro list.
 *
 * Instructions are 32-bit words:
 *
 *   iABC   | C:8 | B:8 | A:8 | op:8 |
 *   iABx   |    Bx:16  | A:8 | op:8 |     Bx unsigned
 *   iAsBx  |   sBx:16  | A:8 | op:8 |     sBx signed (excess 32767)
 *   isJ    |       sJ:24     | op:8 |     sJ signed (excess 2^23-1)
 *
 * R[x] is register x of the current frame, K[x] constant x, U[x] upvalue x,
 * G[x] global cell x.  A conditional ("if ... then jump") is followed by a
 * JMP word; the conditional's handler takes that jump itself, so a taken
 * branch costs one dispatch.
 *
 * The instruction set is this list followed by the intrinsics, the builtins
 * compiled to instructions (intrinsics.h, one row each).  Some instructions
 * here are variants that codegen derives from an intrinsic (immediate
 * operands, fused branches, owned updates); like the intrinsics they are
 * recorded in their prototype's deopt table and rewritten into DEOPT when the
 * program redefines the builtin.
 *
 * X(name, format, deopt argument layout, effect)
 */
#ifndef SEMA_OPCODES_H
#define SEMA_OPCODES_H

#include "intrinsics.h"

/* argument layouts for DEOPT: which operands are the call's arguments */
#define L_NONE 0  /* not an intrinsic */
#define L_B 1     /* f(R[B]) -> R[A] */
#define L_BC 2    /* f(R[B], R[C]) -> R[A] */
#define L_BsC 3   /* f(R[B], sC) -> R[A] */
#define L_BK 4    /* f(R[B], K[C]) -> R[A] */
#define L_AB_J 5  /* f(R[A], R[B]) then branch on truth (C = expected) */
#define L_AsB_J 6 /* f(R[A], sB) then branch */
#define L_ARGS 7  /* f(R[B], ..., R[B+C-1]) -> R[A] */
#define L_BsC_R 8 /* f(sC, R[B]) -> R[A] (reversed immediate) */
#define L_B3 9    /* f(R[B], R[B+1], R[B+2]) -> R[A] */
#define L_A_J 10  /* f(R[A]) then branch on truth (C = expected) */
#define L_B2 11   /* f(R[B], R[B+1]) -> R[A] (C is free: owned updates keep their token there) */
#define DEOPT_SWAPPED 0x100 /* deopt record flag: the two arguments were emitted reversed */

#define SEMA_OPCODES(X)                                                      \
  X(MOVE, ABC, L_NONE, "R[A] = R[B]")                                        \
  /* superinstructions (codegen peephole; the words they cover stay valid jump targets) */ \
  X(MOVE2, ABC, L_NONE, "R[A] = R[B]; R[A+1] = R[B+1]; skip the next word")  \
  X(MOVEJ, ABC, L_NONE, "R[A] = R[B]; take the next JMP")                    \
  X(MOVE2J, ABC, L_NONE, "R[A] = R[B]; R[A+1] = R[B+1]; take the JMP after next") \
  X(LOADK, ABx, L_NONE, "R[A] = K[Bx]")                                      \
  X(LOADI, AsBx, L_NONE, "R[A] = integer sBx")                               \
  X(LOADNIL, ABC, L_NONE, "R[A] = nil")                                      \
  X(LOADTRUE, ABC, L_NONE, "R[A] = #t")                                      \
  X(LOADFALSE, ABC, L_NONE, "R[A] = #f")                                     \
  X(LOADEMPTY, ABC, L_NONE, "R[A] = '()")                                    \
  X(GETGLOBAL, ABx, L_NONE, "R[A] = G[Bx]; error if unbound")                \
  X(SETGLOBAL, ABx, L_NONE, "G[Bx] = R[A] (set!)")                           \
  X(DEFGLOBAL, ABx, L_NONE, "G[Bx] = R[A] (define)")                         \
  X(GETUPVAL, ABC, L_NONE, "R[A] = U[B]")                                    \
  X(GETUPBOX, ABC, L_NONE, "R[A] = U[B].box")                                \
  X(SETUPBOX, ABC, L_NONE, "U[B].box = R[A]")                                \
  X(MKBOX, ABC, L_NONE, "R[A] = new box holding R[B]")                       \
  X(GETBOX, ABC, L_NONE, "R[A] = R[B].box")                                  \
  X(SETBOX, ABC, L_NONE, "R[A].box = R[B]")                                  \
  X(CLOSURE, ABx, L_NONE, "R[A] = closure of prototype K[Bx]")               \
  X(SELF, ABC, L_NONE, "R[A] = the running closure")                         \
  X(JMP, sJ, L_NONE, "pc += sJ")                                             \
  X(TEST, ABC, L_NONE, "if truthy(R[A]) == C then take the next JMP")        \
  X(CALL, ABC, L_NONE, "R[A] = R[A](R[A+1] ... R[A+B])")                     \
  X(GETKW, ABC, L_NONE, "R[A] = (K[C] R[B]): a keyword called with one argument") \
  X(TAILCALL, ABC, L_NONE, "return R[A](R[A+1] ... R[A+B])")                 \
  X(RETURN, ABC, L_NONE, "return R[A]")                                      \
  X(TRY, ABC, L_NONE, "push handler: on error R[A] = error map, take JMP")   \
  X(ENDTRY, ABC, L_NONE, "pop the innermost handler")                        \
  X(THROW, ABC, L_NONE, "raise R[A] as a :user error")                       \
  X(MKVEC, ABC, L_NONE, "R[A] = [R[B] ... R[B+C-1]]")                        \
  X(MKLIST, ABC, L_NONE, "R[A] = (R[B] ... R[B+C-1])")                       \
  X(MKMAP, ABC, L_NONE, "R[A] = {R[B] R[B+1] ...} with C pairs")             \
  /* literals past the register window, built in batches (Lua's SETLIST) */ \
  X(VECNEW, ABC, L_NONE, "R[A] = vector of R[B] (a small int) nils")          \
  X(VECFILL, ABC, L_NONE, "R[A][R[B]+j] = R[B+1+j] for j < C (fresh vector)") \
  X(MAPADD, ABC, L_NONE, "R[A] = R[A] with the C pairs R[B] R[B+1] ...")      \
  /* variables past the register window (codegen.c, "Spilled variables"): \
   * S is the spill vector in register spillreg of the prototype */        \
  X(SPILLNEW, ABC, L_NONE, "R[A] = spill vector of nspill nils")             \
  X(SPILLARGS, ABC, L_NONE, "R[A] = spill vector from the rest list R[A] (arity check)") \
  X(GETSPILL, ABx, L_NONE, "R[A] = S[Bx]")                                   \
  X(SETSPILL, ABx, L_NONE, "S[Bx] = R[A]")                                   \
  X(CLOSURESP, ABx, L_NONE, "R[A] = closure of K[Bx]; upvalues may come from S") \
  X(CALLV, ABC, L_NONE, "R[A] = R[A](the elements of the vector R[A+1])")    \
  X(TAILCALLV, ABC, L_NONE, "return R[A](the elements of the vector R[A+1])") \
  X(DEOPT, ABC, L_NONE, "call the global an intrinsic was compiled from")    \
  /* ---- variants codegen derives from intrinsics (intrinsics.h): the deopt \
   * record names the builtin, the layout says where its arguments are ---- */ \
  X(ADDI, ABC, L_BsC, "R[A] = R[B] + sC")                                    \
  X(SUBI, ABC, L_BsC, "R[A] = R[B] - sC")                                    \
  X(RSUBI, ABC, L_BsC_R, "R[A] = sC - R[B]")                                 \
  X(MULI, ABC, L_BsC, "R[A] = R[B] * sC")                                    \
  X(ADDK, ABC, L_BK, "R[A] = R[B] + K[C]")                                   \
  X(SUBK, ABC, L_BK, "R[A] = R[B] - K[C]")                                   \
  X(MULK, ABC, L_BK, "R[A] = R[B] * K[C]")                                   \
  X(DIVK, ABC, L_BK, "R[A] = R[B] / K[C]")                                   \
  /* compare and branch: take the next JMP if the result == C */            \
  X(BEQ, ABC, L_AB_J, "(= R[A] R[B])")                                       \
  X(BLT, ABC, L_AB_J, "(< R[A] R[B])")                                       \
  X(BLE, ABC, L_AB_J, "(<= R[A] R[B])")                                      \
  X(BGT, ABC, L_AB_J, "(> R[A] R[B])")                                       \
  X(BGE, ABC, L_AB_J, "(>= R[A] R[B])")                                      \
  X(BEQI, ABC, L_AsB_J, "(= R[A] sB)")                                       \
  X(BLTI, ABC, L_AsB_J, "(< R[A] sB)")                                       \
  X(BLEI, ABC, L_AsB_J, "(<= R[A] sB)")                                      \
  X(BGTI, ABC, L_AsB_J, "(> R[A] sB)")                                       \
  X(BGEI, ABC, L_AsB_J, "(>= R[A] sB)")                                      \
  /* quickened variants (vm.c, "quickening"): the observing instruction    \
   * (ADD, BLT, ...) rewrites itself to the variant its operands call for; \
   * a failed guard sends it back to observing, and after QUICK_MISSES     \
   * failures to the generic _G variant, which stays */                   \
  X(ADD_II, ABC, L_BC, "R[A] = R[B] + R[C], small ints")                    \
  X(ADD_FF, ABC, L_BC, "R[A] = R[B] + R[C], floats")                        \
  X(ADD_G, ABC, L_BC, "R[A] = R[B] + R[C], generic")                        \
  X(SUB_II, ABC, L_BC, "R[A] = R[B] - R[C], small ints")                    \
  X(SUB_FF, ABC, L_BC, "R[A] = R[B] - R[C], floats")                        \
  X(SUB_G, ABC, L_BC, "R[A] = R[B] - R[C], generic")                        \
  X(MUL_II, ABC, L_BC, "R[A] = R[B] * R[C], small ints")                    \
  X(MUL_FF, ABC, L_BC, "R[A] = R[B] * R[C], floats")                        \
  X(MUL_G, ABC, L_BC, "R[A] = R[B] * R[C], generic")                        \
  X(DIV_FF, ABC, L_BC, "R[A] = R[B] / R[C], floats")                        \
  X(DIV_G, ABC, L_BC, "R[A] = R[B] / R[C], generic")                        \
  X(BEQ_II, ABC, L_AB_J, "(= R[A] R[B]), small ints")                       \
  X(BEQ_FF, ABC, L_AB_J, "(= R[A] R[B]), floats")                           \
  X(BEQ_G, ABC, L_AB_J, "(= R[A] R[B]), generic")                           \
  X(BLT_II, ABC, L_AB_J, "(< R[A] R[B]), small ints")                       \
  X(BLT_FF, ABC, L_AB_J, "(< R[A] R[B]), floats")                           \
  X(BLT_G, ABC, L_AB_J, "(< R[A] R[B]), generic")                           \
  X(BLE_II, ABC, L_AB_J, "(<= R[A] R[B]), small ints")                      \
  X(BLE_FF, ABC, L_AB_J, "(<= R[A] R[B]), floats")                          \
  X(BLE_G, ABC, L_AB_J, "(<= R[A] R[B]), generic")                          \
  X(BGT_II, ABC, L_AB_J, "(> R[A] R[B]), small ints")                       \
  X(BGT_FF, ABC, L_AB_J, "(> R[A] R[B]), floats")                           \
  X(BGT_G, ABC, L_AB_J, "(> R[A] R[B]), generic")                           \
  X(BGE_II, ABC, L_AB_J, "(>= R[A] R[B]), small ints")                      \
  X(BGE_FF, ABC, L_AB_J, "(>= R[A] R[B]), floats")                          \
  X(BGE_G, ABC, L_AB_J, "(>= R[A] R[B]), generic")                          \
  X(BNOT, ABC, L_A_J, "(not R[A])")                                          \
  X(BNULLP, ABC, L_A_J, "(null? R[A])")                                      \
  X(BPAIRP, ABC, L_A_J, "(pair? R[A])")                                      \
  X(ASSOC_OWNED, ABC, L_B3, "R[A] = assoc, in place when R[B] carries token R[C] (C=255: the frame's)") \
  X(DISSOC_OWNED, ABC, L_B2, "R[A] = dissoc, in place when R[B] carries token R[C] (C=255: the frame's)") \
  X(MAPUPDATE_OWNED, ABC, L_B3, "R[A] = map/update, the new value stored in place when R[B] carries token R[C]") \
  X(NEWTOKEN, ABC, L_NONE, "R[A] = a fresh owner token")

/* every instruction, base list then intrinsics: X(name, ...) */
#define SEMA_ALL_OPCODES(X) SEMA_OPCODES(X) SEMA_INTRINSICS(X)

typedef enum {
#define X(name, ...) OP_##name,
  SEMA_ALL_OPCODES(X)
#undef X
      OP__COUNT
} OpCode;

#include <stdbool.h>
extern const char *const opcode_names[];     /* OP_X -> "X" */
extern const unsigned char opcode_layouts[]; /* OP_X -> its deopt argument layout (L_...) */
/* The instruction a call of the builtin NAME with argc arguments compiles to. */
bool opcode_intrinsic(const char *name, int argc, OpCode *op);
/* Does NAME compile to an instruction for some argument count? */
/* Tag every intrinsic's name in the symbol table (sym_is_intrinsic); vm_new. */
struct VM;
void opcode_mark_intrinsic_names(struct VM *vm);

/* ---- field access ---- */
#define GET_OP(i) ((OpCode)((i) & 0xFF))
#define GET_A(i) (((i) >> 8) & 0xFF)
#define GET_B(i) (((i) >> 16) & 0xFF)
#define GET_C(i) (((i) >> 24) & 0xFF)
#define GET_sB(i) ((int)(int8_t)GET_B(i))
#define GET_sC(i) ((int)(int8_t)GET_C(i))
#define GET_Bx(i) ((i) >> 16)
#define SBX_BIAS 32767
#define GET_sBx(i) ((int)GET_Bx(i) - SBX_BIAS)
#define SJ_BIAS ((1 << 23) - 1)
#define GET_sJ(i) ((int)((i) >> 8) - SJ_BIAS)

#define MK_ABC(op, a, b, c) ((Instr)(op) | ((Instr)(a) << 8) | ((Instr)(b) << 16) | ((Instr)(c) << 24))
#define MK_ABx(op, a, bx) ((Instr)(op) | ((Instr)(a) << 8) | ((Instr)(bx) << 16))
#define MK_AsBx(op, a, sbx) MK_ABx(op, a, (unsigned)((sbx) + SBX_BIAS))
#define MK_sJ(op, sj) ((Instr)(op) | ((Instr)((sj) + SJ_BIAS) << 8))
#define SET_OP(i, op) (((i) & ~(Instr)0xFF) | (Instr)(op))

#endif
