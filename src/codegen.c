/* codegen.c - AST to register bytecode.
 *
 * Registers are allocated in stack order: variables first, temporaries on
 * top, released when an expression is done.  Captured-and-mutated variables
 * live in boxes; other captured variables are copied into the closure.
 * A named let whose loop variable is only called in tail position of its own
 * body is compiled as a loop in the enclosing function.
 */
#include <stdlib.h>
#include "ast.h"
#include "disasm.h"
#include "env.h"
#include "helpers.h"
#include "runtime.h"
#include "state.h"

#define MAX_REGS 250

/* Spilled variables.  A frame has MAX_REGS registers (operands are 8 bits);
 * a function with more variables than that keeps the ones past the window in
 * a spill vector, one slot per variable, held in one register (spillreg).
 * Only a function that needs it has one: one of more than SPILL_PARAMS
 * required parameters, or whose frame has more than SPILL_WINDOW variables
 * in all (FnInfo.nvars); every other function compiles exactly as before.
 *   - Parameters: the first SPILL_WINDOW are registers; the prototype says
 *     nparams = SPILL_WINDOW with a rest list, so the VM's calling
 *     convention gathers the others into a list, and SPILLARGS (the first
 *     instruction) checks the true arity and moves them into slots.
 *   - Locals: a variable bound once SPILL_WINDOW registers are in use gets
 *     a slot instead of a register.  Reads are GETSPILL into a temporary,
 *     set! and rebinding are SETSPILL; a boxed variable's slot holds its box.
 *   - Closures capture a spilled variable by value, like a register
 *     (CLOSURESP: upvalue source 2 = a slot), so a loop's fresh bindings
 *     stay distinct and set! of a captured variable goes through its box.
 * SPILL_WINDOW leaves MAX_REGS - SPILL_WINDOW registers for temporaries.
 * A slot is numbered by 16 bits, so a frame may spill 65,535 variables. */
#define SPILL_WINDOW 128
#define SPILL_PARAMS 200

typedef struct FS {
  struct FS *parent;
  FnInfo *fn;
  Unit *u;
  Instr *code;
  uint32_t *pos;
  uint32_t ncode, capcode;
  Value *consts;
  uint32_t nconsts, capconsts;
  Var **upvars;
  uint8_t *upsrc;
  uint16_t *upidx;
  uint32_t nup, capup;
  int32_t *deopt; /* triples: pc, cell, op */
  uint32_t ndeopt, capdeopt;
  int freereg, maxregs;
  uint32_t curpos;
  int spillreg;       /* register of the spill vector, or -1: no spilling */
  uint32_t nspill;    /* slots used */
  int spill_new_pc;   /* the SPILLNEW, or -1 */
  uint32_t spill_arity; /* SPILLARGS: required parameters (Proto.spill_arity) */
} FS;

static void cg(FS *fs, Node *n, int dest, bool tail);

static NORETURN void gerr(FS *fs, const char *msg) {
  fs->u->vm->compile_pos = fs->curpos;
  err_eval(fs->u->vm, "%s", msg);
}

/* Work arrays live in the unit's arena, so an error that abandons the
 * compilation (a longjmp) leaks nothing; finish_proto copies them out. */
static void *grow(FS *fs, void *p, uint32_t *cap, size_t elem) {
  uint32_t old = *cap;
  *cap = old ? old * 2 : 16;
  void *q = arena_alloc(fs->u->arena, (size_t)*cap * elem);
  if (old) memcpy(q, p, (size_t)old * elem);
  return q;
}

static void *copy_out(const void *p, size_t n) {
  if (!n) return NULL;
  void *q = malloc(n);
  if (!q) abort();
  memcpy(q, p, n);
  return q;
}

static int emit(FS *fs, Instr i) {
  if (fs->ncode == fs->capcode) {
    uint32_t cap = fs->capcode;
    fs->code = grow(fs, fs->code, &fs->capcode, sizeof(Instr));
    fs->pos = grow(fs, fs->pos, &cap, sizeof(uint32_t));
  }
  fs->code[fs->ncode] = i;
  fs->pos[fs->ncode] = fs->curpos;
  return (int)fs->ncode++;
}

static int emit_jmp(FS *fs) { return emit(fs, MK_sJ(OP_JMP, 0)); }

static void patch_to(FS *fs, int jpc, int target) {
  if (jpc < 0) return;
  int off = target - (jpc + 1);
  if (off > SJ_BIAS || off < -SJ_BIAS) gerr(fs, "function too large (jump out of range)");
  fs->code[jpc] = MK_sJ(OP_JMP, off);
}
static void patch_here(FS *fs, int jpc) { patch_to(fs, jpc, (int)fs->ncode); }

static uint32_t kidx(FS *fs, Value v) {
  for (uint32_t i = 0; i < fs->nconsts; i++)
    if (fs->consts[i] == v && !is_double(v)) return i;
  if (is_double(v))
    for (uint32_t i = 0; i < fs->nconsts; i++)
      if (fs->consts[i] == v) return i;
  if (fs->nconsts == fs->capconsts) fs->consts = grow(fs, fs->consts, &fs->capconsts, sizeof(Value));
  if (fs->nconsts >= 65535) gerr(fs, "function too large (too many constants)");
  fs->consts[fs->nconsts] = v;
  return fs->nconsts++;
}

static int alloc_reg(FS *fs) {
  int r = fs->freereg++;
  if (fs->freereg > MAX_REGS) gerr(fs, "function too large (too many registers)");
  if (fs->freereg > fs->maxregs) fs->maxregs = fs->freereg;
  return r;
}

static void set_pos(FS *fs, Node *n) {
  if (n->pos) fs->curpos = n->pos;
}

static bool is_local_here(FS *fs, Var *v) { return fn_eff(v->fn) == fn_eff(fs->fn); }

static bool is_self_ref(FS *fs, Var *v) {
  return v->self_fn && !v->assigned && fn_eff(v->self_fn->fn) == fn_eff(fs->fn) && !is_local_here(fs, v);
}

static uint32_t upval(FS *fs, Var *v) {
  for (uint32_t i = 0; i < fs->nup; i++)
    if (fs->upvars[i] == v) return i;
  FS *p = fs->parent;
  if (!p) gerr(fs, "internal error: free variable without an enclosing function");
  uint8_t src;
  uint16_t idx;
  if (is_local_here(p, v)) {
    src = v->spill >= 0 ? 2 : 1; /* 2: a slot of the parent's spill vector (CLOSURESP) */
    idx = (uint16_t)(v->spill >= 0 ? v->spill : v->reg);
  } else {
    src = 0;
    idx = (uint16_t)upval(p, v);
  }
  if (fs->nup == fs->capup) {
    uint32_t c1 = fs->capup, c2 = fs->capup;
    fs->upvars = grow(fs, fs->upvars, &fs->capup, sizeof(Var *));
    fs->upsrc = grow(fs, fs->upsrc, &c1, sizeof(uint8_t));
    fs->upidx = grow(fs, fs->upidx, &c2, sizeof(uint16_t));
  }
  if (fs->nup >= 65535) gerr(fs, "function too large (too many upvalues)");
  fs->upvars[fs->nup] = v;
  fs->upsrc[fs->nup] = src;
  fs->upidx[fs->nup] = idx;
  return fs->nup++;
}

/* register already holding the node's value, or -1 */
static int reg_of(FS *fs, Node *n) {
  if (n->kind == N_LOCAL && is_local_here(fs, n->var) && !n->var->boxed && n->var->spill < 0 && !is_self_ref(fs, n->var))
    return n->var->reg;
  return -1;
}

static int cg_any(FS *fs, Node *n) {
  int r = reg_of(fs, n);
  if (r >= 0) return r;
  r = alloc_reg(fs);
  cg(fs, n, r, false);
  return r;
}

static void ret(FS *fs, int r, bool tail) {
  if (tail) emit(fs, MK_ABC(OP_RETURN, r, 0, 0));
}

static void cg_const(FS *fs, Value v, int dest) {
  if (v == NIL_VAL)
    emit(fs, MK_ABC(OP_LOADNIL, dest, 0, 0));
  else if (v == TRUE_VAL)
    emit(fs, MK_ABC(OP_LOADTRUE, dest, 0, 0));
  else if (v == FALSE_VAL)
    emit(fs, MK_ABC(OP_LOADFALSE, dest, 0, 0));
  else if (v == EMPTY_VAL)
    emit(fs, MK_ABC(OP_LOADEMPTY, dest, 0, 0));
  else if (is_small_int(v) && small_int_of(v) >= -SBX_BIAS && small_int_of(v) <= SBX_BIAS)
    emit(fs, MK_AsBx(OP_LOADI, dest, (int)small_int_of(v)));
  else
    emit(fs, MK_ABx(OP_LOADK, dest, kidx(fs, v)));
}

static void cg_local(FS *fs, Var *v, int dest) {
  if (is_self_ref(fs, v)) {
    emit(fs, MK_ABC(OP_SELF, dest, 0, 0));
  } else if (is_local_here(fs, v)) {
    if (v->spill >= 0) {
      emit(fs, MK_ABx(OP_GETSPILL, dest, (uint32_t)v->spill));
      if (v->boxed) emit(fs, MK_ABC(OP_GETBOX, dest, dest, 0));
    } else if (v->boxed)
      emit(fs, MK_ABC(OP_GETBOX, dest, v->reg, 0));
    else if (dest != v->reg)
      emit(fs, MK_ABC(OP_MOVE, dest, v->reg, 0));
  } else {
    uint32_t i = upval(fs, v);
    if (i > 255) gerr(fs, "function too large (too many upvalues)");
    emit(fs, MK_ABC(v->boxed ? OP_GETUPBOX : OP_GETUPVAL, dest, i, 0));
  }
}

/* store the value in register r into variable v */
static void store_local(FS *fs, Var *v, int r) {
  if (is_local_here(fs, v)) {
    if (v->spill >= 0) {
      if (v->boxed) {
        int save = fs->freereg;
        int t = alloc_reg(fs);
        emit(fs, MK_ABx(OP_GETSPILL, t, (uint32_t)v->spill));
        emit(fs, MK_ABC(OP_SETBOX, t, r, 0));
        fs->freereg = save;
      } else {
        emit(fs, MK_ABx(OP_SETSPILL, r, (uint32_t)v->spill));
      }
    } else if (v->boxed)
      emit(fs, MK_ABC(OP_SETBOX, v->reg, r, 0));
    else if (v->reg != r)
      emit(fs, MK_ABC(OP_MOVE, v->reg, r, 0));
  } else {
    uint32_t i = upval(fs, v);
    if (i > 255) gerr(fs, "function too large (too many upvalues)");
    if (!v->boxed) gerr(fs, "internal error: assignment to an unboxed captured variable");
    emit(fs, MK_ABC(OP_SETUPBOX, r, i, 0));
  }
}

/* bind a fresh variable whose value is already in its register */
static void bind_var(FS *fs, Var *v, int reg) {
  v->reg = reg;
  if (v->boxed) emit(fs, MK_ABC(OP_MKBOX, reg, reg, 0));
}

/* Does a variable bound now, in register reg, go to the spill vector? */
static bool spills(FS *fs, int reg) { return fs->spillreg >= 0 && reg >= SPILL_WINDOW; }

static void new_slot(FS *fs, Var *v) {
  if (fs->nspill >= 65535) gerr(fs, "function too large (more than 65535 spilled variables)");
  v->reg = -1;
  v->spill = (int)fs->nspill++;
}

/* Give the (spilled or register) variable v a fresh binding to the value in
 * register r: a new box if it is boxed, as a new iteration's binding needs. */
static void assign_fresh(FS *fs, Var *v, int r) {
  if (v->spill >= 0) {
    int save = fs->freereg;
    if (v->boxed) {
      int t = alloc_reg(fs);
      emit(fs, MK_ABC(OP_MKBOX, t, r, 0));
      r = t;
    }
    emit(fs, MK_ABx(OP_SETSPILL, r, (uint32_t)v->spill));
    fs->freereg = save;
  } else if (v->boxed) {
    emit(fs, MK_ABC(OP_MKBOX, v->reg, r, 0));
  } else if (v->reg != r) {
    emit(fs, MK_ABC(OP_MOVE, v->reg, r, 0));
  }
}

/* Evaluate the inits of the fresh variables vars[0..n) in order and bind
 * them: in consecutive registers from the current one, except that those
 * past the window go to slots as soon as their value is computed (no init
 * can see a variable of the group, so binding early is not observable). */
static void cg_bind_inits(FS *fs, Node **kids, Var **vars, uint32_t n) {
  int base = fs->freereg;
  uint32_t nreg = n;
  if (fs->spillreg >= 0 && base + (int)n > SPILL_WINDOW) nreg = base < SPILL_WINDOW ? (uint32_t)(SPILL_WINDOW - base) : 0;
  for (uint32_t i = 0; i < n; i++) {
    if (i < nreg) {
      cg(fs, kids[i], alloc_reg(fs), false);
      continue;
    }
    int save = fs->freereg;
    int r = cg_any(fs, kids[i]);
    new_slot(fs, vars[i]);
    assign_fresh(fs, vars[i], r);
    fs->freereg = save;
  }
  for (uint32_t i = 0; i < nreg; i++) bind_var(fs, vars[i], base + (int)i);
}

/* Record an intrinsic instruction: pc, the global cell it came from, and its
 * opcode (| DEOPT_SWAPPED when the two arguments were emitted in reverse). */
static void add_deopt(FS *fs, int pc, int32_t cell, int32_t op) {
  if (cell < 0) return;
  while (fs->ndeopt + 3 > fs->capdeopt) fs->deopt = grow(fs, fs->deopt, &fs->capdeopt, sizeof(int32_t));
  fs->deopt[fs->ndeopt++] = pc;
  fs->deopt[fs->ndeopt++] = cell;
  fs->deopt[fs->ndeopt++] = op;
}

static bool small_imm(Node *n, int *imm) {
  if (n->kind != N_CONST || !is_small_int(n->value)) return false;
  int64_t i = small_int_of(n->value);
  if (i < -128 || i > 127) return false;
  *imm = (int)i;
  return true;
}

/* ---- conditional jumps ---- */

static bool is_cmp(OpCode op) { return op == OP_EQV || op == OP_LTV || op == OP_LEV || op == OP_GTV || op == OP_GEV; }

static OpCode branch_op(OpCode v, bool imm) {
  switch (v) {
  case OP_EQV: return imm ? OP_BEQI : OP_BEQ;
  case OP_LTV: return imm ? OP_BLTI : OP_BLT;
  case OP_LEV: return imm ? OP_BLEI : OP_BLE;
  case OP_GTV: return imm ? OP_BGTI : OP_BGT;
  default: return imm ? OP_BGEI : OP_BGE;
  }
}

static OpCode swap_cmp(OpCode v) {
  switch (v) {
  case OP_LTV: return OP_GTV;
  case OP_LEV: return OP_GEV;
  case OP_GTV: return OP_LTV;
  case OP_GEV: return OP_LEV;
  default: return v;
  }
}

/* Emit code that jumps when truthiness(n) == when; returns the jump's pc or -1 (never jumps). */
static int cg_test(FS *fs, Node *n, bool when) {
  set_pos(fs, n);
  int save = fs->freereg;
  if (n->kind == N_CONST) {
    if (is_truthy(n->value) == when) return emit_jmp(fs);
    return -1;
  }
  if (n->kind == N_PRIM && n->op == OP_NOT && n->cell < 0) return cg_test(fs, n->kids[0], !when);
  if (n->kind == N_PRIM && (n->op == OP_NOT || n->op == OP_NULLP || n->op == OP_PAIRP)) {
    /* predicate and branch in one instruction; its deopt record calls the global */
    OpCode op = n->op == OP_NOT ? OP_BNOT : n->op == OP_NULLP ? OP_BNULLP : OP_BPAIRP;
    int r = cg_any(fs, n->kids[0]);
    int pc = emit(fs, MK_ABC(op, r, 0, when));
    add_deopt(fs, pc, n->cell, (int32_t)op);
    fs->freereg = save;
    return emit_jmp(fs);
  }
  if (n->kind == N_PRIM && is_cmp(n->op)) {
    int imm;
    OpCode op = n->op;
    Node *a = n->kids[0], *b = n->kids[1];
    int pc;
    int32_t swapped = 0;
    if (small_imm(b, &imm)) {
      int ra = cg_any(fs, a);
      pc = emit(fs, MK_ABC(branch_op(op, true), ra, (uint8_t)(int8_t)imm, when));
    } else if (small_imm(a, &imm)) {
      int rb = cg_any(fs, b);
      pc = emit(fs, MK_ABC(branch_op(swap_cmp(op), true), rb, (uint8_t)(int8_t)imm, when));
      swapped = DEOPT_SWAPPED;
    } else {
      int ra = cg_any(fs, a);
      int rb = cg_any(fs, b);
      pc = emit(fs, MK_ABC(branch_op(op, false), ra, rb, when));
    }
    add_deopt(fs, pc, n->cell, (int32_t)GET_OP(fs->code[pc]) | swapped);
    fs->freereg = save;
    return emit_jmp(fs);
  }
  int r = cg_any(fs, n);
  emit(fs, MK_ABC(OP_TEST, r, 0, when));
  fs->freereg = save;
  return emit_jmp(fs);
}

/* ---- node kinds ---- */

static void cg_if(FS *fs, Node *n, int dest, bool tail) {
  int jelse = cg_test(fs, n->a, false);
  cg(fs, n->b, dest, tail);
  int jend = tail ? -1 : emit_jmp(fs);
  patch_here(fs, jelse);
  cg(fs, n->c, dest, tail);
  patch_here(fs, jend);
}

static void cg_andor(FS *fs, Node *n, int dest, bool tail) {
  bool is_or = n->kind == N_OR;
  int *jumps = arena_alloc(fs->u->arena, (n->nkids + 1) * sizeof(int)); /* freed with the unit, also on errors */
  for (uint32_t i = 0; i + 1 < n->nkids; i++) {
    cg(fs, n->kids[i], dest, false);
    emit(fs, MK_ABC(OP_TEST, dest, 0, is_or));
    jumps[i] = emit_jmp(fs);
  }
  cg(fs, n->kids[n->nkids - 1], dest, tail);
  for (uint32_t i = 0; i + 1 < n->nkids; i++) patch_here(fs, jumps[i]);
  if (tail) emit(fs, MK_ABC(OP_RETURN, dest, 0, 0));
}

/* The updates that may consume their map, and their in-place forms. */
static bool is_update_op(OpCode op) { return op == OP_ASSOC || op == OP_DISSOC || op == OP_MAPUPDATE; }
static OpCode owned_op(OpCode op) {
  return op == OP_ASSOC ? OP_ASSOC_OWNED : op == OP_DISSOC ? OP_DISSOC_OWNED : OP_MAPUPDATE_OWNED;
}

static void cg_prim(FS *fs, Node *n, int dest) {
  int save = fs->freereg;
  OpCode op = n->op;
  int pc;
  int imm;
  /* the operand shape comes from the row's layout (intrinsics.h): one or
   * two registers, or consecutive registers from B (C = their count) */
  int layout = opcode_layouts[op];
  if (layout == L_ARGS || layout == L_B3 || layout == L_B2) {
    int base = fs->freereg;
    for (uint32_t i = 0; i < n->nkids; i++) cg(fs, n->kids[i], alloc_reg(fs), false);
    if (n->owner) { /* a consuming update (see "owned updates" below): the token goes in C */
      op = owned_op(op);
      pc = emit(fs, MK_ABC(op, dest, base, n->owner));
    } else {
      pc = emit(fs, MK_ABC(op, dest, base, n->nkids));
    }
  } else switch (op) {
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV: {
    Node *a = n->kids[0], *b = n->kids[1];
    if (op != OP_DIV && small_imm(b, &imm)) {
      int ra = cg_any(fs, a);
      OpCode o = op == OP_ADD ? OP_ADDI : op == OP_SUB ? OP_SUBI : OP_MULI;
      pc = emit(fs, MK_ABC(o, dest, ra, (uint8_t)(int8_t)imm));
      op = o;
    } else if (op == OP_SUB && small_imm(a, &imm)) {
      int rb = cg_any(fs, b);
      pc = emit(fs, MK_ABC(OP_RSUBI, dest, rb, (uint8_t)(int8_t)imm));
      op = OP_RSUBI;
    } else if (b->kind == N_CONST && is_number(b->value) && fs->nconsts < 255) {
      int ra = cg_any(fs, a);
      OpCode o = op == OP_ADD ? OP_ADDK : op == OP_SUB ? OP_SUBK : op == OP_MUL ? OP_MULK : OP_DIVK;
      pc = emit(fs, MK_ABC(o, dest, ra, kidx(fs, b->value)));
      op = o;
    } else {
      int ra = cg_any(fs, a), rb = cg_any(fs, b);
      pc = emit(fs, MK_ABC(op, dest, ra, rb));
    }
    break;
  }
  default:
    if (layout == L_B) {
      int ra = cg_any(fs, n->kids[0]);
      pc = emit(fs, MK_ABC(op, dest, ra, 0));
    } else {
      int ra = cg_any(fs, n->kids[0]), rb = cg_any(fs, n->kids[1]);
      pc = emit(fs, MK_ABC(op, dest, ra, rb));
    }
    break;
  }
  add_deopt(fs, pc, n->cell, (int32_t)op);
  fs->freereg = save;
}

static void cg_args(FS *fs, Node *n, int base) {
  for (uint32_t i = 0; i < n->nkids; i++) {
    int r = alloc_reg(fs);
    cg(fs, n->kids[i], r, false);
  }
}

/* Evaluate a new value for one of several variables assigned in parallel: a
 * plain reference to another of those variables must be copied first. */
static int cg_parallel(FS *fs, Node *n, Var **targets, uint32_t ntargets) {
  int r = reg_of(fs, n);
  if (r >= 0)
    for (uint32_t i = 0; i < ntargets; i++)
      if (targets[i]->reg == r) {
        int t = alloc_reg(fs);
        emit(fs, MK_ABC(OP_MOVE, t, r, 0));
        return t;
      }
  return cg_any(fs, n);
}

/* ---- owned updates: which assoc calls consume a map nobody else holds ----
 *
 * A loop variable (or a function's first parameter, for fold drivers) is a
 * linear accumulator when, in its body, it is only
 *   - read by get / contains? / length (intrinsics that do not retain it),
 *     anywhere inside other intrinsic expressions, conditionals and lets:
 *     what those reads return is an element, never the map, and in-place
 *     updates change only the map's own nodes (deopt: when a program
 *     replaces any such builtin, env.c turns every owned assoc back into a
 *     persistent one, since the replacement might keep the map),
 *   - returned in tail position (the loop or function ends with it),
 *   - passed to the next iteration unchanged or as the first argument of a
 *     consuming update -- (assoc acc k v), (dissoc acc k), (map/update acc k
 *     f) -- in that argument position, with no later argument mentioning it,
 *     or, for a function, consumed by such an update in tail position.
 * It must not be captured or assigned.  Such an update may then change the
 * map in place when the map carries this loop's (or call's) owner token. */

static bool mentions(Node *n, Var *v);

static bool mentions_list(Node **kids, uint32_t n, Var *v) {
  for (uint32_t i = 0; i < n; i++)
    if (kids[i] && mentions(kids[i], v)) return true;
  return false;
}

static bool mentions(Node *n, Var *v) {
  if (!n) return false;
  if ((n->kind == N_LOCAL || n->kind == N_SETLOCAL || n->kind == N_DEFLOCAL) && n->var == v) return true;
  if (n->kind == N_LAMBDA) return mentions(n->fn->body, v);
  if (n->kind == N_NAMEDLET && mentions(n->fn->body, v)) return true;
  return mentions(n->a, v) || mentions(n->b, v) || mentions(n->c, v) || mentions_list(n->kids, n->nkids, v) ||
         (n->steps && mentions_list(n->steps, n->nvars, v));
}

typedef struct {
  Var *acc;
  Node *loop;    /* the named let, or NULL for a function's parameter */
  uint32_t idx;  /* the accumulator's parameter position */
  int32_t token; /* what owned assoc nodes get: register or 255 */
  bool mark;     /* second pass: tag the assoc nodes */
  int found;
  bool consume;  /* an update of acc in tail position consumes it: a function's body, the
                    loop's own argument or step expression (as (if c (assoc acc k v) acc)) */
} Linear;

static bool is_acc(Node *n, Linear *l) { return n->kind == N_LOCAL && n->var == l->acc; }

static bool lin(Node *n, bool tail, Linear *l);

static bool lin_list(Node **kids, uint32_t n, bool tail_last, Linear *l) {
  for (uint32_t i = 0; i < n; i++)
    if (kids[i] && !lin(kids[i], tail_last && i + 1 == n, l)) return false;
  return true;
}

/* (assoc acc k v), (dissoc acc k) or (map/update acc k f): the other
 * operands are evaluated before the update and may only read acc.  The f of
 * map/update runs in the middle of the update but receives only the old
 * value, and it cannot reach acc: acc is not captured, and an operand that
 * passed acc on (a closure over it, a list holding it) is rejected here. */
static bool lin_update(Node *n, Linear *l) {
  if (is_acc(n->kids[0], l)) {
    if (!lin_list(n->kids + 1, n->nkids - 1, false, l)) return false;
  } else {
    /* a chain, (dissoc (assoc acc k v) k2): the inner update's result is
     * consumed at once; the outer operands run after the inner update, so
     * they must not mention acc (they would see the updated map) */
    if (!lin_update(n->kids[0], l) || mentions_list(n->kids + 1, n->nkids - 1, l->acc)) return false;
  }
  if (l->mark) n->owner = l->token;
  l->found++;
  return true;
}

/* acc consumed by an update, or by a chain of updates (see lin_update) */
static bool is_update_of(Node *n, Linear *l) {
  return n->kind == N_PRIM && is_update_op(n->op) && (is_acc(n->kids[0], l) || is_update_of(n->kids[0], l));
}

static bool lin(Node *n, bool tail, Linear *l) {
  if (!mentions(n, l->acc)) return true;
  switch (n->kind) {
  case N_LOCAL: return tail;
  case N_PRIM:
    if ((n->op == OP_GET || n->op == OP_GET3 || n->op == OP_CONTAINS || n->op == OP_LENGTH) && is_acc(n->kids[0], l))
      return lin_list(n->kids + 1, n->nkids - 1, false, l);
    if (l->consume && tail && is_update_of(n, l)) return lin_update(n, l);
    /* any other intrinsic: the accumulator may only be read below it (a
     * direct operand is rejected by the N_LOCAL case) */
    return lin_list(n->kids, n->nkids, false, l);
  case N_CALL:
    if (l->loop && n->is_recur && n->loop == l->loop) {
      for (uint32_t i = 0; i < n->nkids; i++) {
        Node *k = n->kids[i];
        if (i > l->idx) {
          if (mentions(k, l->acc)) return false;
        } else if (i == l->idx) {
          l->consume = true;
          bool ok = lin(k, true, l);
          l->consume = false;
          if (!ok) return false;
        } else if (!lin(k, false, l)) {
          return false;
        }
      }
      return true;
    }
    return false;
  case N_IF: return lin(n->a, false, l) && lin(n->b, tail, l) && lin(n->c, tail, l);
  case N_SEQ: return lin_list(n->kids, n->nkids, tail, l);
  case N_LET:
  case N_LETREC: return lin_list(n->kids, n->nkids, false, l) && lin(n->a, tail, l);
  case N_BODY: return lin(n->a, tail, l);
  default: return false;
  }
}

/* Tag the assoc nodes that may update acc in place; true if there are any. */
static bool find_owned_updates(Node *body, Var *acc, Node *loop, uint32_t idx, int32_t token) {
  if (acc->captured || acc->boxed || acc->assigned) return false;
  Linear l = {acc, loop, idx, token, false, 0, loop == NULL};
  if (!lin(body, true, &l) || l.found == 0) return false;
  l.mark = true;
  lin(body, true, &l);
  return true;
}

/* A do-loop variable under the same rules: the test and the body commands
 * may only read it, the result may return it, and its own step may consume
 * it.  The steps are computed in order before any is assigned, so the steps
 * before its own may read it (they see the old map) and the later ones must
 * not mention it (they would see the updated one). */
static bool do_steps_linear(Node *n, uint32_t idx, Linear *l) {
  for (uint32_t j = 0; j < n->nvars; j++) {
    Node *s = n->steps[j];
    if (!s) continue;
    if (j < idx && !lin(s, false, l)) return false;
    if (j > idx && mentions(s, l->acc)) return false;
    if (j == idx) {
      l->consume = true;
      bool ok = lin(s, true, l);
      l->consume = false;
      if (!ok) return false;
    }
  }
  return true;
}

static bool find_owned_do(Node *n, uint32_t idx, int32_t token) {
  Var *acc = n->vars[idx];
  if (acc->captured || acc->boxed || acc->assigned) return false;
  Linear l = {acc, n, idx, token, false, 0, false};
  for (int pass = 0; pass < 2; pass++) {
    l.mark = pass == 1;
    if (!lin(n->a, false, &l) || !lin(n->c, false, &l) || !do_steps_linear(n, idx, &l) || !lin(n->b, true, &l))
      return false;
    if (l.found == 0) return false;
  }
  return true;
}

static void cg_recur(FS *fs, Node *n) {
  Node *loop = n->loop;
  FnInfo *lf = loop->fn;
  int save = fs->freereg;
  int *tmps = arena_alloc(fs->u->arena, (n->nkids + 1) * sizeof(int));
  for (uint32_t i = 0; i < n->nkids; i++) tmps[i] = cg_parallel(fs, n->kids[i], lf->params, lf->nparams);
  for (uint32_t i = 0; i < n->nkids; i++) assign_fresh(fs, lf->params[i], tmps[i]);
  fs->freereg = save;
  int j = emit_jmp(fs);
  patch_to(fs, j, loop->loop_pc);
}

static void cg_build(FS *fs, Node *n, int dest, OpCode op);

/* The call of the function in register base (the last allocated) with the
 * values of args[0..n) spread from a vector (CALLV / TAILCALLV): a call
 * with more arguments than fit in registers. */
static void cg_spread_call(FS *fs, Node **args, uint32_t n, int base, int dest, bool tail) {
  Node v = {0};
  v.kind = N_MKVEC;
  v.pos = fs->curpos;
  v.cell = -1;
  v.kids = args;
  v.nkids = n;
  int r = alloc_reg(fs);
  cg_build(fs, &v, r, OP_MKVEC);
  emit(fs, MK_ABC(tail ? OP_TAILCALLV : OP_CALLV, base, 0, 0));
  if (!tail && dest != base) emit(fs, MK_ABC(OP_MOVE, dest, base, 0));
}

static bool is_spread_apply(FS *fs, Node *n) {
  return !n->is_recur && n->a->kind == N_CONST && n->a->value == fs->u->vm->helpers[HELPER_APPLY] && n->nkids == 2;
}

static void cg_call(FS *fs, Node *n, int dest, bool tail) {
  if (n->is_recur && n->loop->loop_ok) {
    cg_recur(fs, n);
    return;
  }
  int save = fs->freereg;
  int base = (dest == fs->freereg - 1) ? dest : alloc_reg(fs);
  if (is_spread_apply(fs, n)) {
    /* (%apply f [args...]) from analyze.c's SPILL_ARGS: a call, not a
     * native's callback, so it is a real tail call and nests no C frame */
    cg(fs, n->kids[0], base, false);
    int r = alloc_reg(fs);
    cg(fs, n->kids[1], r, false);
    set_pos(fs, n);
    emit(fs, MK_ABC(tail ? OP_TAILCALLV : OP_CALLV, base, 0, 0));
    if (!tail && dest != base) emit(fs, MK_ABC(OP_MOVE, dest, base, 0));
    fs->freereg = save;
    return;
  }
  /* (:k m): a keyword literal called with one argument is the lookup of
   * the keyword in m, one GETKW instead of loading the keyword, moving the
   * argument and a CALL that dispatches on the callee's type.  Same result
   * and errors (vm.c); other arities keep the CALL and its arity error. */
  if (!n->is_recur && n->a->kind == N_CONST && is_kw(n->a->value) && n->nkids == 1) {
    uint32_t kc = kidx(fs, n->a->value);
    if (kc <= 0xFF) {
      int m = cg_any(fs, n->kids[0]);
      set_pos(fs, n);
      emit(fs, MK_ABC(OP_GETKW, dest, m, kc));
      ret(fs, dest, tail);
      fs->freereg = save;
      return;
    }
  }
  if (n->is_recur)
    cg_local(fs, n->loop->var, base);
  else
    cg(fs, n->a, base, false);
  if (base + (int)n->nkids >= MAX_REGS) {
    /* the arguments would not fit above the variables of this frame */
    set_pos(fs, n);
    cg_spread_call(fs, n->kids, n->nkids, base, dest, tail);
    fs->freereg = save;
    return;
  }
  cg_args(fs, n, base + 1);
  set_pos(fs, n);
  if (tail) {
    emit(fs, MK_ABC(OP_TAILCALL, base, n->nkids, 0));
  } else {
    emit(fs, MK_ABC(OP_CALL, base, n->nkids, 0));
    if (dest != base) emit(fs, MK_ABC(OP_MOVE, dest, base, 0));
  }
  fs->freereg = save;
}

static Proto *finish_proto(FS *fs);
static void fs_init(FS *fs, FS *parent, FnInfo *fn, Unit *u) {
  memset(fs, 0, sizeof *fs);
  fs->parent = parent;
  fs->fn = fn;
  fs->u = u;
  fs->curpos = fn->pos;
  fs->spillreg = -1;
  fs->spill_new_pc = -1;
}

static void cg_function_body(FS *fs) {
  FnInfo *fn = fs->fn;
  uint32_t nfixed = fn->nparams - (fn->has_rest ? 1 : 0);
  if (nfixed > SPILL_PARAMS) {
    /* registers for the first SPILL_WINDOW, the rest arrive as a list in
     * the next register, which SPILLARGS turns into the spill vector */
    for (uint32_t i = 0; i < SPILL_WINDOW; i++) bind_var(fs, fn->params[i], alloc_reg(fs));
    fs->spillreg = alloc_reg(fs);
    fs->spill_arity = nfixed;
    emit(fs, MK_ABC(OP_SPILLARGS, fs->spillreg, 0, 0));
    for (uint32_t i = SPILL_WINDOW; i < fn->nparams; i++) {
      Var *v = fn->params[i];
      new_slot(fs, v);
      if (v->boxed) { /* box the argument in place */
        int t = alloc_reg(fs);
        emit(fs, MK_ABx(OP_GETSPILL, t, (uint32_t)v->spill));
        assign_fresh(fs, v, t);
        fs->freereg--;
      }
    }
  } else {
    for (uint32_t i = 0; i < fn->nparams; i++) {
      int r = alloc_reg(fs);
      bind_var(fs, fn->params[i], r);
    }
    if (fn->nvars > SPILL_WINDOW && fn->nvars > fn->nparams) { /* some local may be bound past the window */
      fs->spillreg = alloc_reg(fs);
      fs->spill_new_pc = emit(fs, MK_ABC(OP_SPILLNEW, fs->spillreg, 0, 0));
    }
  }
  /* a fold driver lends its call a token for the first parameter */
  if (fn->nparams > 0 && !fn->has_rest) find_owned_updates(fn->body, fn->params[0], NULL, 0, 255);
  int r = alloc_reg(fs);
  cg(fs, fn->body, r, true);
}

static Proto *compile_fn(FS *parent, FnInfo *fn, Unit *u) {
  FS fs;
  fs_init(&fs, parent, fn, u);
  cg_function_body(&fs);
  return finish_proto(&fs);
}

static void cg_lambda(FS *fs, Node *n, int dest) {
  Proto *p = compile_fn(fs, n->fn, fs->u);
  vm_push_root(fs->u->vm, obj_val(p)); /* released with the unit */
  set_pos(fs, n);
  OpCode op = OP_CLOSURE;
  for (uint32_t j = 0; j < p->nupvals; j++)
    if (p->upval_src[j] == 2) op = OP_CLOSURESP;
  emit(fs, MK_ABx(op, dest, kidx(fs, obj_val(p))));
}

static void cg_let(FS *fs, Node *n, int dest, bool tail) {
  int save = fs->freereg;
  cg_bind_inits(fs, n->kids, n->vars, n->nvars);
  cg(fs, n->a, dest, tail);
  fs->freereg = save;
}

static void bind_uninit(FS *fs, Var *v) {
  if (spills(fs, fs->freereg)) {
    int save = fs->freereg;
    int t = alloc_reg(fs);
    emit(fs, MK_ABC(OP_LOADNIL, t, 0, 0));
    new_slot(fs, v);
    assign_fresh(fs, v, t);
    fs->freereg = save;
    return;
  }
  int r = alloc_reg(fs);
  v->reg = r;
  emit(fs, MK_ABC(OP_LOADNIL, r, 0, 0));
  if (v->boxed) emit(fs, MK_ABC(OP_MKBOX, r, r, 0));
}

static void cg_letrec(FS *fs, Node *n, int dest, bool tail) {
  int save = fs->freereg;
  for (uint32_t i = 0; i < n->nvars; i++) bind_uninit(fs, n->vars[i]);
  uint32_t first = n->nvars - n->nkids; /* vars before that are body defines without inits */
  for (uint32_t i = 0; i < n->nkids; i++) {
    /* through a temporary: the init may still read the variable */
    int s2 = fs->freereg;
    int r = cg_any(fs, n->kids[i]);
    store_local(fs, n->vars[first + i], r);
    fs->freereg = s2;
  }
  cg(fs, n->a, dest, tail);
  fs->freereg = save;
}

static void cg_body(FS *fs, Node *n, int dest, bool tail) {
  int save = fs->freereg;
  for (uint32_t i = 0; i < n->nvars; i++) bind_uninit(fs, n->vars[i]);
  cg(fs, n->a, dest, tail);
  fs->freereg = save;
}

static void cg_namedlet(FS *fs, Node *n, int dest, bool tail) {
  int save = fs->freereg;
  FnInfo *lf = n->fn;
  if (n->loop_ok) {
    cg_bind_inits(fs, n->kids, lf->params, lf->nparams);
    int token = -1;
    for (uint32_t i = 0; i < lf->nparams; i++) {
      if (lf->params[i]->spill >= 0) continue;
      if (token < 0) token = fs->freereg; /* reserved only if some parameter qualifies */
      if (find_owned_updates(lf->body, lf->params[i], n, i, token)) {
        if (token == fs->freereg) {
          alloc_reg(fs);
          emit(fs, MK_ABC(OP_NEWTOKEN, token, 0, 0));
        }
      }
    }
    n->loop_pc = (int32_t)fs->ncode;
    cg(fs, lf->body, dest, tail);
  } else {
    /* letrec of the loop closure, then a call */
    Var *lv = n->var;
    bind_uninit(fs, lv);
    if (lv->boxed || lv->spill >= 0) {
      int r = alloc_reg(fs);
      cg_lambda(fs, n->a, r);
      store_local(fs, lv, r);
    } else {
      cg_lambda(fs, n->a, lv->reg);
    }
    int base = (dest == fs->freereg - 1) ? dest : alloc_reg(fs);
    cg_local(fs, lv, base);
    if (base + (int)n->nkids >= MAX_REGS) {
      set_pos(fs, n);
      cg_spread_call(fs, n->kids, n->nkids, base, dest, tail);
      fs->freereg = save;
      return;
    }
    for (uint32_t i = 0; i < n->nkids; i++) cg(fs, n->kids[i], alloc_reg(fs), false);
    set_pos(fs, n);
    if (tail) {
      emit(fs, MK_ABC(OP_TAILCALL, base, n->nkids, 0));
    } else {
      emit(fs, MK_ABC(OP_CALL, base, n->nkids, 0));
      if (dest != base) emit(fs, MK_ABC(OP_MOVE, dest, base, 0));
    }
  }
  fs->freereg = save;
}

static void cg_do(FS *fs, Node *n, int dest, bool tail) {
  int save = fs->freereg;
  cg_bind_inits(fs, n->kids, n->vars, n->nvars);
  int token = -1; /* one owner token for this loop activation, if a variable qualifies */
  for (uint32_t i = 0; i < n->nvars; i++) {
    if (n->vars[i]->spill >= 0) continue; /* owned updates work on registers */
    if (token < 0) token = fs->freereg;
    if (find_owned_do(n, i, token) && token == fs->freereg) {
      alloc_reg(fs);
      emit(fs, MK_ABC(OP_NEWTOKEN, token, 0, 0));
    }
  }
  int top = (int)fs->ncode;
  int jexit = cg_test(fs, n->a, true);
  {
    int s2 = fs->freereg;
    int scratch = alloc_reg(fs);
    cg(fs, n->c, scratch, false);
    /* steps: all computed with the old values, then assigned (fresh boxes) */
    int *tmps = arena_alloc(fs->u->arena, (n->nvars + 1) * sizeof(int));
    for (uint32_t i = 0; i < n->nvars; i++) tmps[i] = n->steps[i] ? cg_parallel(fs, n->steps[i], n->vars, n->nvars) : -1;
    for (uint32_t i = 0; i < n->nvars; i++)
      if (tmps[i] >= 0) assign_fresh(fs, n->vars[i], tmps[i]);
    fs->freereg = s2;
  }
  int jback = emit_jmp(fs);
  patch_to(fs, jback, top);
  patch_here(fs, jexit);
  cg(fs, n->b, dest, tail);
  fs->freereg = save;
}

static void cg_try(FS *fs, Node *n, int dest, bool tail) {
  int save = fs->freereg;
  int er = alloc_reg(fs);
  set_pos(fs, n);
  emit(fs, MK_ABC(OP_TRY, er, 0, 0));
  int jh = emit_jmp(fs);
  cg(fs, n->a, dest, false);
  emit(fs, MK_ABC(OP_ENDTRY, 0, 0, 0));
  int jend = emit_jmp(fs);
  patch_here(fs, jh);
  bind_var(fs, n->var, er);
  cg(fs, n->b, dest, tail);
  patch_here(fs, jend);
  if (tail) emit(fs, MK_ABC(OP_RETURN, dest, 0, 0)); /* the body's value leaves here */
  fs->freereg = save;
}

/* Literals of more than LITERAL_BATCH computed elements are built in
 * batches, in source order: a vector is made whole (VECNEW) and each batch
 * stored at its offset (VECFILL, the offset in the register below the
 * batch); a map is made from its first batch and each later batch assoc'ed
 * on (MAPADD).  The partial literal lives in its own register, never in
 * dest, which an element may still read. */
#define LITERAL_BATCH 64

static void cg_build_batched(FS *fs, Node *n, int dest, OpCode op) {
  int save = fs->freereg;
  int acc = alloc_reg(fs);
  const uint32_t step = LITERAL_BATCH; /* even: map pairs stay whole */
  if (op == OP_MKVEC) {
    int r = alloc_reg(fs);
    cg_const(fs, small_int_val(n->nkids), r);
    emit(fs, MK_ABC(OP_VECNEW, acc, r, 0));
    fs->freereg = r;
  } else {
    emit(fs, MK_ABC(OP_MKMAP, acc, fs->freereg, 0));
  }
  for (uint32_t at = 0; at < n->nkids; at += step) {
    uint32_t len = n->nkids - at < step ? n->nkids - at : step;
    int base = fs->freereg;
    if (op == OP_MKVEC) cg_const(fs, small_int_val(at), alloc_reg(fs));
    for (uint32_t j = 0; j < len; j++) cg(fs, n->kids[at + j], alloc_reg(fs), false);
    set_pos(fs, n);
    if (op == OP_MKVEC)
      emit(fs, MK_ABC(OP_VECFILL, acc, base, len));
    else
      emit(fs, MK_ABC(OP_MAPADD, acc, base, len / 2));
    fs->freereg = base;
  }
  emit(fs, MK_ABC(OP_MOVE, dest, acc, 0));
  fs->freereg = save;
}

static void cg_build(FS *fs, Node *n, int dest, OpCode op) {
  uint32_t count = op == OP_MKMAP ? n->nkids / 2 : n->nkids;
  if (n->nkids > 200 || (op != OP_MKLIST && n->nkids > LITERAL_BATCH && fs->freereg + (int)n->nkids >= MAX_REGS)) {
    if (op == OP_MKLIST) gerr(fs, "literal too large (more than 200 computed elements)"); /* analyze splits them */
    cg_build_batched(fs, n, dest, op);
    return;
  }
  int save = fs->freereg;
  int base = fs->freereg;
  for (uint32_t i = 0; i < n->nkids; i++) cg(fs, n->kids[i], alloc_reg(fs), false);
  emit(fs, MK_ABC(op, dest, base, count));
  fs->freereg = save;
}

static void cg(FS *fs, Node *n, int dest, bool tail) {
  uint32_t saved_pos = fs->curpos;
  set_pos(fs, n);
  err_check_c_stack(fs->u->vm);
  switch (n->kind) {
  case N_CONST: cg_const(fs, n->value, dest); ret(fs, dest, tail); break;
  case N_LOCAL:
    if (tail && reg_of(fs, n) >= 0) {
      emit(fs, MK_ABC(OP_RETURN, reg_of(fs, n), 0, 0));
      break;
    }
    cg_local(fs, n->var, dest);
    ret(fs, dest, tail);
    break;
  case N_GLOBAL: emit(fs, MK_ABx(OP_GETGLOBAL, dest, (uint32_t)n->cell)); ret(fs, dest, tail); break;
  case N_SETLOCAL: {
    int save = fs->freereg;
    int r = cg_any(fs, n->a);
    store_local(fs, n->var, r);
    if (r != dest) emit(fs, MK_ABC(OP_MOVE, dest, r, 0));
    fs->freereg = save;
    ret(fs, dest, tail);
    break;
  }
  case N_DEFLOCAL: {
    int save = fs->freereg;
    int r = cg_any(fs, n->a);
    store_local(fs, n->var, r);
    fs->freereg = save;
    emit(fs, MK_ABC(OP_LOADNIL, dest, 0, 0));
    ret(fs, dest, tail);
    break;
  }
  case N_SETGLOBAL:
  case N_DEFGLOBAL: {
    if (n->cell > 65535) gerr(fs, "too many global variables");
    cg(fs, n->a, dest, false);
    set_pos(fs, n);
    emit(fs, MK_ABx(n->kind == N_SETGLOBAL ? OP_SETGLOBAL : OP_DEFGLOBAL, dest, (uint32_t)n->cell));
    if (n->kind == N_DEFGLOBAL) emit(fs, MK_ABC(OP_LOADNIL, dest, 0, 0));
    ret(fs, dest, tail);
    break;
  }
  case N_IF: cg_if(fs, n, dest, tail); break;
  case N_SEQ: {
    int save = fs->freereg;
    for (uint32_t i = 0; i + 1 < n->nkids; i++) {
      int scratch = alloc_reg(fs);
      cg(fs, n->kids[i], scratch, false);
      fs->freereg = save;
    }
    cg(fs, n->kids[n->nkids - 1], dest, tail);
    break;
  }
  case N_LAMBDA: cg_lambda(fs, n, dest); ret(fs, dest, tail); break;
  case N_CALL: cg_call(fs, n, dest, tail); break;
  case N_PRIM: cg_prim(fs, n, dest); ret(fs, dest, tail); break;
  case N_LET: cg_let(fs, n, dest, tail); break;
  case N_LETREC: cg_letrec(fs, n, dest, tail); break;
  case N_BODY: cg_body(fs, n, dest, tail); break;
  case N_NAMEDLET: cg_namedlet(fs, n, dest, tail); break;
  case N_DO: cg_do(fs, n, dest, tail); break;
  case N_AND:
  case N_OR: cg_andor(fs, n, dest, tail); break;
  case N_TRY: cg_try(fs, n, dest, tail); break;
  case N_THROW: {
    int save = fs->freereg;
    int r = cg_any(fs, n->a);
    set_pos(fs, n);
    emit(fs, MK_ABC(OP_THROW, r, 0, 0));
    fs->freereg = save;
    break;
  }
  case N_MKVEC: cg_build(fs, n, dest, OP_MKVEC); ret(fs, dest, tail); break;
  case N_MKLIST: cg_build(fs, n, dest, OP_MKLIST); ret(fs, dest, tail); break;
  case N_MKMAP: cg_build(fs, n, dest, OP_MKMAP); ret(fs, dest, tail); break;
  }
  fs->curpos = saved_pos;
}

/* Superinstructions for the loop tails the opcode-pair profile shows most
 * (named-let updates: MOVE MOVE JMP).  Each covered word is left in place and
 * still does its own job, so a jump into the middle stays correct and no
 * offset moves. */
static void fuse_moves(FS *fs) {
  Instr *c = fs->code;
  int n = fs->ncode;
  for (int i = 0; i + 1 < n; i++)
    if (GET_OP(c[i]) == OP_MOVE && GET_OP(c[i + 1]) == OP_JMP) c[i] = MK_ABC(OP_MOVEJ, GET_A(c[i]), GET_B(c[i]), 0);
  for (int i = 0; i + 1 < n; i++) {
    OpCode a = GET_OP(c[i]), b = GET_OP(c[i + 1]);
    if (a != OP_MOVE || (b != OP_MOVE && b != OP_MOVEJ)) continue;
    if (GET_A(c[i + 1]) != GET_A(c[i]) + 1 || GET_B(c[i + 1]) != GET_B(c[i]) + 1) continue;
    c[i] = MK_ABC(b == OP_MOVE ? OP_MOVE2 : OP_MOVE2J, GET_A(c[i]), GET_B(c[i]), 0);
  }
}

static Proto *finish_proto(FS *fs) {
  fuse_moves(fs);
  /* a frame that could have spilled but did not: the register stays nil */
  if (fs->spill_new_pc >= 0 && fs->nspill == 0) fs->code[fs->spill_new_pc] = MK_ABC(OP_LOADNIL, fs->spillreg, 0, 0);
  VM *vm = fs->u->vm;
  Proto *p = gc_alloc_sticky(vm, OBJ_PROTO, sizeof(Proto));
  gc_note_finalizer(&vm->heap, sizeof(Proto));
  /* every field cleared first: copy_out may raise, and the finalizer frees the arrays */
  memset((char *)p + sizeof(Obj), 0, sizeof(Proto) - sizeof(Obj));
  p->name = p->file = p->deopt = p->doc = p->params = NIL_VAL;
  p->code = copy_out(fs->code, fs->ncode * sizeof(Instr));
  p->pos = copy_out(fs->pos, fs->ncode * sizeof(uint32_t));
  p->ncode = fs->ncode;
  p->consts = copy_out(fs->consts, fs->nconsts * sizeof(Value));
  p->nconsts = fs->nconsts;
  p->upval_src = copy_out(fs->upsrc, fs->nup * sizeof(uint8_t));
  p->upval_idx = copy_out(fs->upidx, fs->nup * sizeof(uint16_t));
  p->nupvals = (uint16_t)fs->nup;
  FnInfo *fn = fs->fn;
  if (fs->spill_arity) {
    p->nparams = SPILL_WINDOW;
    p->has_rest = 1;
    p->spill_arity = fs->spill_arity;
    p->spill_rest = fn->has_rest;
  } else {
    p->nparams = (uint8_t)(fn->nparams - (fn->has_rest ? 1 : 0));
    p->has_rest = fn->has_rest;
  }
  p->spillreg = (uint8_t)(fs->spillreg >= 0 ? fs->spillreg : 0);
  p->nspill = fs->nspill;
  p->maxregs = (uint8_t)(fs->maxregs + 1);
  p->name = fn->name;
  p->file = fs->u->file;
  p->doc = fn->doc;
  p->params = fn->params_src;
  p->deopt = NIL_VAL;
  if (fs->ndeopt) {
    Value v = vec_new(vm, fs->ndeopt);
    for (uint32_t i = 0; i < fs->ndeopt; i++) vec_items(v)[i] = small_int_val(fs->deopt[i]);
    p->deopt = v;
  }
  return p;
}

Proto *codegen_toplevel(Unit *u, Node *n) {
  FS fs;
  fs_init(&fs, NULL, n->fn, u);
  cg_function_body(&fs);
  Proto *p = finish_proto(&fs);
  vm_push_root(u->vm, obj_val(p));
  if (u->vm->disasm) disasm_proto(u->vm, p, stderr);
  return p;
}
