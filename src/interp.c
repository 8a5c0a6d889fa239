/* interp.c - the reference evaluator (`sema --interp`).
 *
 * A direct walk of the analyzer's AST, written for obviousness rather than
 * speed, so that it can check the compiler and the VM (tests/diff):
 *
 * - Environments are chains of frames, one per scope that binds variables
 *   (lambda, let, letrec, body defines, do, try, named let).  A frame is a
 *   vector [parent, tag, values...]; a variable finds its frame by the tag of
 *   its scope, so closures just keep the chain and nothing is boxed.
 * - Closures are natives flagged NATIVE_INTERP (ud: the FnInfo, data: the
 *   frame), so the library and compiled code can call them like any function.
 * - Intrinsic calls (N_PRIM) call the builtin in their global cell, the same
 *   path compiled code takes after the builtin is redefined; the owned
 *   (in-place) assoc is never used, every update is persistent.
 * - Every intermediate value lives on the VM value stack, which the GC scans;
 *   collection only happens at safe points, so C locals need no rooting.
 * - A call in tail position leaves callee and arguments on the stack and
 *   returns to the enclosing apply, which loops: tail calls run in constant
 *   C stack.  Other calls nest in C; the CLI gives --interp a 1 GiB stack.
 * - The AST of an interpreted unit lives as long as the VM (closures point
 *   into it): its arena is detached from the VM and its constants are kept in
 *   vm->interp_keep.
 */
#include <stdlib.h>
#include "interp.h"
#include "ast.h"
#include "map.h"
#include "ops.h"
#include "env.h"
#include "helpers.h"
#include "runtime.h"

typedef struct {
  FnInfo *fn;
  uint32_t pos; /* of the node being evaluated in this call */
} Call;

typedef struct {
  Call *calls; /* the call stack, vm->ext_depth deep (handlers restore the depth) */
  uint32_t capcalls;
  Arena **arenas; /* detached unit arenas, freed with the VM */
  size_t narenas, caparenas;
  Value keep;   /* list of the constant vectors of interpreted units, kept alive */
  bool tail_pending; /* eval returned a tail call: callee and arguments at tail_base */
  Value *tail_base;
  int tail_argc;
} Interp;

#define STATE(vm) ((Interp *)(vm)->interp)

static Value eval(VM *vm, Node *n, Value env, bool tail);

static inline void push(VM *vm, Value v) {
  if (UNLIKELY(vm->top >= vm->stack_end)) vm_stack_overflow(vm);
  *vm->top++ = v;
  if (vm->top > vm->stack_hw) vm->stack_hw = vm->top;
}

static inline void set_pos(VM *vm, uint32_t pos) { STATE(vm)->calls[vm->ext_depth - 1].pos = pos; }

static void push_call(VM *vm, FnInfo *fn) {
  Interp *I = STATE(vm);
  if (vm->ext_depth == I->capcalls) {
    I->capcalls = I->capcalls ? I->capcalls * 2 : 256;
    I->calls = realloc(I->calls, I->capcalls * sizeof(Call));
    if (!I->calls) abort();
  }
  I->calls[vm->ext_depth].fn = fn;
  I->calls[vm->ext_depth++].pos = fn->pos;
}

void interp_frame(VM *vm, uint32_t i, const char **name, uint32_t *pos, Value *file) {
  Call *c = &STATE(vm)->calls[i];
  *name = is_sym(c->fn->name) ? sym_cstr(vm, c->fn->name) : "<lambda>";
  *pos = c->pos;
  *file = c->fn->file;
}

/* Like vm_check_c_stack with a margin, so deep recursion is caught at a call. */
static void check_depth(VM *vm) {
  char here;
  if (UNLIKELY(&here < vm->c_stack_limit + (64u << 10))) vm_stack_overflow(vm);
}

static inline Value tag_of(const void *scope) { return small_int_val((int64_t)(uintptr_t)scope); }

/* A frame for vars (all nil); the variables learn their tag and slot. */
static Value frame_new(VM *vm, Value parent, const void *scope, Var **vars, uint32_t n) {
  Value f = vec_new(vm, (size_t)n + 2);
  Value *it = vec_items(f);
  it[0] = parent;
  it[1] = tag_of(scope);
  for (uint32_t i = 0; i < n; i++) {
    vars[i]->itag = it[1];
    vars[i]->reg = (int)i + 2;
  }
  return f;
}

/* A frame holding the n values at base (the top of the stack), which it replaces there. */
static Value frame_from_stack(VM *vm, Value parent, const void *scope, Var **vars, uint32_t n, Value *base) {
  Value f = frame_new(vm, parent, scope, vars, n);
  memcpy(vec_items(f) + 2, base, n * sizeof(Value));
  vm->top = base;
  push(vm, f);
  return f;
}

static Value *var_slot(VM *vm, Value env, Var *v) {
  for (Value f = env; is_vector(f); f = vec_items(f)[0])
    if (vec_items(f)[1] == v->itag) return &vec_items(f)[v->reg];
  err_eval(vm, "internal error: variable %s is not bound in this scope", sym_cstr(vm, v->name));
}

/* set!/define of a local: the frame may be old (gc.c, GENERATIONS) */
static void var_store(VM *vm, Value env, Var *v, Value x) {
  for (Value f = env; is_vector(f); f = vec_items(f)[0])
    if (vec_items(f)[1] == v->itag) {
      vec_items(f)[v->reg] = x;
      gc_barrier(vm, as_obj(f));
      return;
    }
  err_eval(vm, "internal error: variable %s is not bound in this scope", sym_cstr(vm, v->name));
}

static Value interp_entry(VM *vm, int argc, Value *argv);

static Value closure_new(VM *vm, FnInfo *fn, Value env) {
  Native *c = gc_alloc_sticky(vm, OBJ_NATIVE, sizeof(Native));
  c->h.flags = NATIVE_INTERP;
  c->fn = interp_entry;
  c->name = is_sym(fn->name) ? fn->name : SYM(vm, "<vm-closure>");
  c->min_args = 0;
  c->max_args = -1;
  c->ud = fn;
  c->data = env;
  return obj_val(c);
}

static inline bool is_interp_closure(Value f) { return is_native(f) && (as_obj(f)->flags & NATIVE_INTERP); }

static NORETURN void arity_error(VM *vm, FnInfo *fn, uint32_t fixed, int got) {
  char exp[32];
  snprintf(exp, sizeof exp, fn->has_rest ? "%u+" : "%u", fixed);
  err_arity(vm, is_sym(fn->name) ? sym_cstr(vm, fn->name) : "<lambda>", exp, got);
}

static Value call_value(VM *vm, Value *cb, int argc);

/* Call fn in env with argc arguments at argv (on the value stack). */
static Value apply(VM *vm, FnInfo *fn, Value env, int argc, Value *argv) {
  Interp *I = STATE(vm);
  Value *base = vm->top;
  check_depth(vm);
  uint32_t depth = vm->ext_depth;
  for (;;) {
    vm->ext_depth = depth; /* a tail call replaces the caller's entry */
    if (UNLIKELY(vm_interrupt_requested | vm->interrupt_pending)) vm_poll_interrupt(vm);
    uint32_t fixed = fn->nparams - (fn->has_rest ? 1u : 0u);
    if ((uint32_t)argc != fixed && (!fn->has_rest || (uint32_t)argc < fixed)) arity_error(vm, fn, fixed, argc);
    push_call(vm, fn);
    Value frame = frame_new(vm, env, fn, fn->params, fn->nparams);
    for (uint32_t i = 0; i < fixed; i++) vec_items(frame)[2 + i] = argv[i];
    if (fn->has_rest) {
      Value rest = EMPTY_VAL;
      for (int i = argc; i-- > (int)fixed;) rest = list_cons(vm, argv[i], rest);
      vec_items(frame)[2 + fixed] = rest;
    }
    push(vm, frame);
    vm_safepoint(vm);
    Value r = eval(vm, fn->body, frame, true);
    if (!I->tail_pending) {
      vm->top = base;
      vm->ext_depth = depth;
      return r;
    }
    /* a tail call: move callee and arguments down and go round */
    I->tail_pending = false;
    argc = I->tail_argc;
    memmove(base, I->tail_base, ((size_t)argc + 1) * sizeof(Value));
    vm->top = base + argc + 1;
    if (!is_interp_closure(base[0])) {
      r = call_value(vm, base, argc);
      vm->top = base;
      vm->ext_depth = depth;
      return r;
    }
    Native *c = as_native(base[0]);
    fn = c->ud;
    env = c->data;
    argv = base + 1;
  }
}

static Value interp_entry(VM *vm, int argc, Value *argv) {
  Native *self = as_native(argv[-1]); /* every call path puts the callee below its arguments */
  return apply(vm, self->ud, self->data, argc, argv);
}

/* Call cb[0] with the argc values after it. */
static Value call_value(VM *vm, Value *cb, int argc) {
  Value f = cb[0];
  if (is_interp_closure(f)) return apply(vm, as_native(f)->ud, as_native(f)->data, argc, cb + 1);
  return vm_call(vm, f, argc, cb + 1);
}

/* Evaluate the kids onto the stack; returns where they start. */
static Value *eval_onto_stack(VM *vm, Node **kids, uint32_t n, Value env) {
  Value *base = vm->top;
  for (uint32_t i = 0; i < n; i++) {
    Value v = eval(vm, kids[i], env, false);
    push(vm, v);
  }
  return base;
}

/* An intrinsic call (N_PRIM): the IMPL of its row in intrinsics.h, the
 * function the compiled instruction's slow path calls; once the program has
 * stored another value into the builtin's global, that value is called
 * instead, as compiled code's DEOPT does. */
static Value eval_prim(VM *vm, Node *n, Value env) {
  Value *a = vm->top;
  bool redefined = n->cell >= 0 && (vm->globals[n->cell].flags & CELL_INTRINSIC_OFF);
  if (redefined) push(vm, env_global_value(vm, (uint32_t)n->cell));
  Value *args = eval_onto_stack(vm, n->kids, n->nkids, env);
  set_pos(vm, n->pos);
  if (redefined) return call_value(vm, a, (int)n->nkids);
#define ARGS_L_B(impl) impl(vm, args[0])
#define ARGS_L_BC(impl) impl(vm, args[0], args[1])
#define ARGS_L_B2(impl) impl(vm, args[0], args[1])
#define ARGS_L_B3(impl) impl(vm, args[0], args[1], args[2])
#define ARGS_L_ARGS(impl) impl(vm, args, (int)n->nkids)
  switch (n->op) {
#define I(op, name, argc, layout, kind, impl, doc) \
  case OP_##op: return ARGS_##layout(impl);
    SEMA_INTRINSICS(I)
#undef I
  default: err_eval(vm, "internal error: instruction %s is not an intrinsic", opcode_names[n->op]);
  }
}

typedef struct {
  Node *body;
  Value env;
  Value result;
} TryJob;

static void try_body(VM *vm, void *ud) {
  TryJob *j = ud;
  j->result = eval(vm, j->body, j->env, false);
}

/* The do loop; returns the frame its result clause runs in. */
static Value eval_do(VM *vm, Node *n, Value env) {
  Value *base = eval_onto_stack(vm, n->kids, n->nkids, env);
  Value frame = frame_from_stack(vm, env, n, n->vars, n->nvars, base);
  bool steps = false;
  for (uint32_t i = 0; i < n->nvars; i++) steps |= n->steps[i] != NULL;
  while (!is_truthy(eval(vm, n->a, frame, false))) {
    eval(vm, n->c, frame, false);
    if (steps) {
      /* all steps see the old values; then fresh bindings, as compiled code makes */
      Value *sb = vm->top;
      for (uint32_t i = 0; i < n->nvars; i++) push(vm, n->steps[i] ? eval(vm, n->steps[i], frame, false) : vec_items(frame)[2 + i]);
      Value nf = frame_new(vm, env, n, n->vars, n->nvars);
      memcpy(vec_items(nf) + 2, sb, n->nvars * sizeof(Value));
      base[0] = frame = nf;
      vm->top = base + 1;
    }
    if (UNLIKELY(vm_interrupt_requested | vm->interrupt_pending)) vm_poll_interrupt(vm);
    vm_safepoint(vm);
  }
  return frame;
}

static Value eval(VM *vm, Node *n, Value env, bool tail) {
  Value *top0 = vm->top;
  Value r;
  err_check_c_stack(vm);
  for (;;) {
    switch (n->kind) {
    case N_CONST: r = n->value; goto done;
    case N_LOCAL: r = *var_slot(vm, env, n->var); goto done;
    case N_GLOBAL:
      r = vm->globals[n->cell].value;
      if (r == UNBOUND_VAL) {
        set_pos(vm, n->pos);
        r = env_global_value(vm, (uint32_t)n->cell);
      }
      goto done;
    case N_SETLOCAL:
    case N_DEFLOCAL:
      r = eval(vm, n->a, env, false);
      var_store(vm, env, n->var, r);
      if (n->kind == N_DEFLOCAL) r = NIL_VAL;
      goto done;
    case N_SETGLOBAL:
    case N_DEFGLOBAL:
      r = eval(vm, n->a, env, false);
      env_set_global(vm, n->cell, r);
      if (n->kind == N_DEFGLOBAL) r = NIL_VAL;
      goto done;
    case N_IF: n = is_truthy(eval(vm, n->a, env, false)) ? n->b : n->c; continue;
    case N_SEQ:
      if (n->nkids == 0) {
        r = NIL_VAL;
        goto done;
      }
      for (uint32_t i = 0; i + 1 < n->nkids; i++) eval(vm, n->kids[i], env, false);
      n = n->kids[n->nkids - 1];
      continue;
    case N_AND:
    case N_OR:
      for (uint32_t i = 0; i + 1 < n->nkids; i++) {
        r = eval(vm, n->kids[i], env, false);
        if (is_truthy(r) == (n->kind == N_OR)) goto done;
      }
      n = n->kids[n->nkids - 1];
      continue;
    case N_LAMBDA: r = closure_new(vm, n->fn, env); goto done;
    case N_LET: {
      Value *base = eval_onto_stack(vm, n->kids, n->nkids, env);
      env = frame_from_stack(vm, env, n, n->vars, n->nvars, base);
      n = n->a;
      continue;
    }
    case N_LETREC: {
      Value frame = frame_new(vm, env, n, n->vars, n->nvars);
      push(vm, frame);
      uint32_t first = n->nvars - n->nkids; /* the body's defines come first, without inits */
      for (uint32_t i = 0; i < n->nkids; i++) {
        r = eval(vm, n->kids[i], frame, false);
        vec_items(frame)[2 + first + i] = r;
        gc_barrier(vm, as_obj(frame)); /* the inits ran after frame_new */
      }
      env = frame;
      n = n->a;
      continue;
    }
    case N_BODY: {
      Value frame = frame_new(vm, env, n, n->vars, n->nvars);
      push(vm, frame);
      env = frame;
      n = n->a;
      continue;
    }
    case N_DO: env = eval_do(vm, n, env); n = n->b; continue;
    case N_CALL:
    case N_NAMEDLET: {
      Value *cb = vm->top;
      if (n->kind == N_NAMEDLET) {
        push(vm, NIL_VAL);
        eval_onto_stack(vm, n->kids, n->nkids, env);
        Value frame = frame_new(vm, env, n, &n->var, 1);
        cb[0] = vec_items(frame)[2] = closure_new(vm, n->a->fn, frame);
      } else {
        push(vm, n->is_recur ? *var_slot(vm, env, n->loop->var) : eval(vm, n->a, env, false));
        eval_onto_stack(vm, n->kids, n->nkids, env);
      }
      set_pos(vm, n->pos);
      if (tail) {
        Interp *I = STATE(vm);
        int argc = (int)n->nkids;
        if (n->kind == N_CALL && argc == 2 && cb[0] == vm->helpers[HELPER_APPLY]) {
          /* (%apply f [args...]), a call with more arguments than the VM's
           * registers (analyze.c): spread it here, so it is a tail call as
           * the VM's TAILCALLV is (nothing allocates while v is unrooted) */
          Value f = cb[1], v = cb[2];
          vm->top = cb;
          push(vm, f);
          for (uint32_t j = 0; j < vec_len(v); j++) push(vm, vec_items(v)[j]);
          argc = (int)vec_len(v);
        }
        I->tail_pending = true;
        I->tail_base = cb;
        I->tail_argc = argc;
        return NIL_VAL; /* the stack above top0 stays as it is until apply moves it */
      }
      r = call_value(vm, cb, (int)n->nkids);
      goto done;
    }
    case N_PRIM:
      r = eval_prim(vm, n, env);
      goto done;
    case N_TRY: {
      TryJob j = {n->a, env, NIL_VAL};
      if (vm_protect(vm, try_body, &j) == 0) {
        r = j.result;
        goto done;
      }
      if (vm_unwinding(vm)) err_rethrow(vm); /* exit, a stop from the host: past every try */
      Value frame = frame_new(vm, env, n, &n->var, 1);
      vec_items(frame)[2] = vm->error;
      push(vm, frame);
      env = frame;
      n = n->b;
      continue;
    }
    case N_THROW:
      r = eval(vm, n->a, env, false);
      set_pos(vm, n->pos);
      err_user(vm, r);
    case N_MKVEC:
    case N_MKLIST: {
      Value *base = eval_onto_stack(vm, n->kids, n->nkids, env);
      r = n->kind == N_MKVEC ? vec_from(vm, base, n->nkids) : list_from(vm, base, n->nkids);
      goto done;
    }
    case N_MKMAP: {
      Value *base = eval_onto_stack(vm, n->kids, n->nkids, env);
      set_pos(vm, n->pos);
      r = map_empty(vm);
      for (uint32_t i = 0; i + 1 < n->nkids; i += 2) r = map_assoc(vm, r, base[i], base[i + 1]);
      goto done;
    }
    }
    err_eval(vm, "internal error: unknown node kind %d", (int)n->kind);
  }
done:
  vm->top = top0;
  return r;
}

/* ---- units ---- */

static void mark_kept(VM *vm) { gc_mark_value(vm, STATE(vm)->keep); }

void interp_enable(VM *vm) {
  if (vm->interp) return;
  Interp *I = calloc(1, sizeof(Interp));
  if (!I) abort();
  I->keep = EMPTY_VAL;
  vm->interp = I;
  vm_add_marker(vm, mark_kept);
}

void interp_keep_unit(VM *vm, Unit *u, uint32_t roots_from) {
  Interp *I = STATE(vm);
  arena_release(vm, u->arena_slot + 1);
  if (I->narenas == I->caparenas) {
    I->caparenas = I->caparenas ? I->caparenas * 2 : 16;
    Arena **a = realloc(I->arenas, I->caparenas * sizeof(Arena *));
    if (!a) gc_oom(vm, I->caparenas * sizeof(Arena *));
    I->arenas = a;
  }
  ArenaSlot *slot = arena_at(vm, u->arena_slot);
  I->arenas[I->narenas++] = slot->top; /* still counted: kept for the VM's lifetime */
  slot->top = NULL;
  arena_release(vm, u->arena_slot);
  Value consts = vec_from(vm, vm->roots + roots_from, vm->nroots - roots_from);
  I->keep = list_cons(vm, consts, I->keep);
}

Value interp_run_toplevel(VM *vm, Node *lam) { return apply(vm, lam->fn, NIL_VAL, 0, vm->top); }

void interp_free(VM *vm) {
  Interp *I = STATE(vm);
  for (size_t i = 0; i < I->narenas; i++) arena_free(vm, &I->arenas[i]);
  free(I->arenas);
  free(I->calls);
  free(I);
  vm->interp = NULL;
  vm_remove_marker(vm, mark_kept);
}
