/* disasm.c - bytecode listing for development (SEMA_DISASM=1 prints every
 * compiled prototype to stderr). */
#include "disasm.h"
#include "opcodes.h"
#include "env.h"
#include "runtime.h"

static void print_const(VM *vm, FILE *f, Value v) {
  StrBuf b;
  sb_init_vm(&b, vm);
  if (is_objtype(v, OBJ_PROTO))
    sb_adds(&b, "<proto>");
  else
    print_value(vm, &b, v, true);
  fprintf(f, "%.60s", b.data ? b.data : "");
  sb_free(&b);
}

void disasm_proto(VM *vm, Proto *p, FILE *f) {
  fprintf(f, "-- %s: %u params%s, %u regs, %u upvals, %u consts\n", is_sym(p->name) ? sym_cstr(vm, p->name) : "<lambda>",
          p->nparams, p->has_rest ? " + rest" : "", p->maxregs, p->nupvals, p->nconsts);
  if (p->spill_arity) fprintf(f, "   %u params in all%s (past the window: SPILLARGS)\n", p->spill_arity, p->spill_rest ? " + rest" : "");
  if (p->nspill) fprintf(f, "   %u spilled variables in R[%u]\n", p->nspill, p->spillreg);
  for (uint32_t pc = 0; pc < p->ncode; pc++) {
    Instr i = p->code[pc];
    OpCode op = GET_OP(i);
    fprintf(f, "%5u  [%u:%u]  %-10s", pc, POS_LINE(p->pos[pc]), POS_COL(p->pos[pc]), opcode_names[op]);
    switch (op) {
    case OP_LOADK:
    case OP_GETGLOBAL:
    case OP_SETGLOBAL:
    case OP_DEFGLOBAL:
    case OP_CLOSURE:
    case OP_CLOSURESP:
      fprintf(f, " %u %u  ; ", GET_A(i), GET_Bx(i));
      if (op == OP_LOADK || op == OP_CLOSURE || op == OP_CLOSURESP)
        print_const(vm, f, p->consts[GET_Bx(i)]);
      else
        fprintf(f, "%s", sym_cstr(vm, vm->globals[GET_Bx(i)].name));
      break;
    case OP_GETKW:
      fprintf(f, " %u %u %u  ; ", GET_A(i), GET_B(i), GET_C(i));
      print_const(vm, f, p->consts[GET_C(i)]);
      break;
    case OP_LOADI: fprintf(f, " %u %d", GET_A(i), GET_sBx(i)); break;
    case OP_GETSPILL:
    case OP_SETSPILL: fprintf(f, " %u %u  ; slot", GET_A(i), GET_Bx(i)); break;
    case OP_JMP: fprintf(f, " -> %d", (int)pc + 1 + GET_sJ(i)); break;
    default: fprintf(f, " %u %u %u", GET_A(i), GET_B(i), GET_C(i)); break;
    }
    fputc('\n', f);
  }
  for (uint32_t k = 0; k < p->nconsts; k++)
    if (is_objtype(p->consts[k], OBJ_PROTO)) disasm_proto(vm, as_proto(p->consts[k]), f);
}
