/* vm.c - the dispatch loop, calls, frames and the global environment.
 *
 * One contiguous value stack, reserved once and never moved, holds every
 * frame's registers; a frame's function sits just below its register 0
 * (base[-1]) and its result is written there on return.  Sema-to-Sema calls
 * never recurse in C; natives that call back (map, sort, ...) enter a new
 * run level (vm_run), which is where errors caught by `try` resume.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include "arena.h"
#include "state.h"
#include "vm.h"
#include "map.h"
#include "opcodes.h"
#include "ops.h"
#include "env.h"
#include "runtime.h"

#define STACK_SLOTS (16u << 20) /* 16M values: 128 MiB reserved, touched lazily */
#define MAX_FRAMES 400000u


#ifdef SEMA_PROFILE_OPS
static void print_op_profile(void);
#endif

static void *reserve(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    fprintf(stderr, "sema: cannot reserve %zu bytes\n", bytes);
    exit(70);
  }
  return p;
}

/* ---- C stack guard ---- */

static char *stack_limit_for(size_t size) {
  uintptr_t here = (uintptr_t)__builtin_frame_address(0);
  /* leave a generous margin for the deepest C frames (printing, sorting) */
  return (char *)(here - (size - (size / 4 > (1u << 20) ? (1u << 20) : size / 4)));
}

static char *stack_limit_from_rlimit(void) {
  struct rlimit rl;
  size_t size = 8u << 20;
  if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > (1u << 20))
    size = rl.rlim_cur;
  if (size > (256u << 20)) size = 256u << 20;
  return stack_limit_for(size);
}

void vm_set_c_stack_size(VM *vm, size_t size) { vm->c_stack_limit = stack_limit_for(size); }


/* ---- output: the default writer is stdio ---- */

static void std_write(void *ud, int stream, const char *s, size_t n) {
  if (stream == 2) {
    fflush(stdout); /* keep program order when both go to one place */
    fwrite(s, 1, n, stderr);
  } else {
    fwrite(s, 1, n, stdout);
  }
}

static void std_flush(void *ud) {
  fflush(stdout);
  fflush(stderr);
}

/* ---- lifecycle ---- */

VM *vm_new(void) {
  VM *vm = calloc(1, sizeof(VM));
  if (!vm) abort();
  val_current_vm = vm;
  vm->stack = reserve(STACK_SLOTS * sizeof(Value));
  vm->stack_end = vm->stack + STACK_SLOTS - 512;
  vm->top = vm->stack;
  vm->stack_hw = vm->stack;
  vm->ci_base = reserve((MAX_FRAMES + 8) * sizeof(CallInfo));
  vm->ci = vm->ci_base; /* sentinel frame */
  vm->ci_end = vm->ci_base + MAX_FRAMES;
  vm->max_depth = MAX_FRAMES;
  vm->arenas = calloc(ARENA_MAX_NESTING, sizeof(Arena *));
  vm->c_stack_limit = stack_limit_from_rlimit();
  gc_init(vm);
  vm->error = vm->error_hint = vm->pending_hint = NIL_VAL;
  for (int i = 0; i < VM_MAX_HELPERS; i++) vm->helpers[i] = NIL_VAL;
  vm->args = EMPTY_VAL;
  vm->modules = NIL_VAL;
  vm->loading = EMPTY_VAL;
  vm->cur_file = NIL_VAL;
  vm->intern_strs = NIL_VAL;
  vm->output = (VmOutput){std_write, std_flush, NULL};
  env_init(&vm->genv, NULL);
  vm->env = &vm->genv;
  vm->modules = map_empty(vm);
#ifdef SEMA_PROFILE_OPS
  static int registered;
  if (!registered++) atexit(print_op_profile);
#endif
  return vm;
}

void vm_free(VM *vm) {
  if (vm->hooks.on_free) vm->hooks.on_free(vm);
  gc_heap_free(vm);
  sym_table_free(&vm->syms);
  env_free(&vm->genv);
  free(vm->globals);
  free(vm->roots);
  free(vm->handlers);
  arena_release(vm, 0);
  free(vm->arenas);
  munmap(vm->stack, STACK_SLOTS * sizeof(Value));
  munmap(vm->ci_base, (MAX_FRAMES + 8) * sizeof(CallInfo));
  if (val_current_vm == vm) val_current_vm = NULL;
  free(vm);
}

/* ---- roots for C code ---- */

void vm_push_root(VM *vm, Value v) {
  if (UNLIKELY(vm->nroots == vm->caproots)) {
    vm->caproots = vm->caproots ? vm->caproots * 2 : 256;
    vm->roots = realloc(vm->roots, vm->caproots * sizeof(Value));
    if (!vm->roots) abort();
  }
  vm->roots[vm->nroots++] = v;
}

void vm_pop_roots(VM *vm, uint32_t n) { vm->nroots -= n; }

uint32_t vm_root_slot(VM *vm, Value v) {
  vm_push_root(vm, v);
  return vm->nroots - 1;
}

Value *vm_root_ref(VM *vm, uint32_t slot) { return &vm->roots[slot]; }
uint32_t vm_roots_mark(VM *vm) { return vm->nroots; }
void vm_roots_reset(VM *vm, uint32_t mark) { vm->nroots = mark; }

void vm_add_marker(VM *vm, void (*mark)(VM *vm)) {
  for (int i = 0; i < VM_MAX_MARKERS; i++)
    if (!vm->markers[i]) {
      vm->markers[i] = mark;
      return;
    }
  abort(); /* a fixed set of subsystems registers markers: more is a bug */
}

void vm_remove_marker(VM *vm, void (*mark)(VM *vm)) {
  for (int i = 0; i < VM_MAX_MARKERS; i++)
    if (vm->markers[i] == mark) vm->markers[i] = NULL;
}

Value vm_error(VM *vm) { return vm->error; }
Value vm_args(VM *vm) { return vm->args; }

void vm_safepoint(VM *vm) {
  if (vm->heap.pending) gc_collect(vm);
}

volatile sig_atomic_t vm_interrupt_requested;

void vm_interrupted(VM *vm) {
  vm_interrupt_requested = 0;
  err_eval(vm, "interrupted");
}

/* ---- output ---- */

void vm_write(VM *vm, const char *s, size_t n) { vm->output.write(vm->output.ud, 1, s, n); }
void vm_write_err(VM *vm, const char *s, size_t n) { vm->output.write(vm->output.ud, 2, s, n); }
void vm_flush(VM *vm) { vm->output.flush(vm->output.ud); }

void vm_set_output(VM *vm, void (*write)(void *ud, int stream, const char *s, size_t n), void (*flush)(void *ud), void *ud) {
  vm->output = write ? (VmOutput){write, flush ? flush : std_flush, ud} : (VmOutput){std_write, std_flush, NULL};
}

/* ---- calls ---- */

void vm_stack_overflow(VM *vm) {
  err_hint(vm, "make the call tail-recursive or use do");
  err_eval(vm, "stack overflow: maximum call depth exceeded");
}

static NORETURN void closure_arity(VM *vm, Proto *p, int got) {
  char exp[32];
  snprintf(exp, sizeof exp, p->has_rest ? "%u+" : "%u", p->nparams);
  err_arity(vm, is_sym(p->name) ? sym_cstr(vm, p->name) : "<lambda>", exp, got);
}

static NORETURN void native_arity(VM *vm, Native *n, int got) {
  char exp[32];
  if (n->max_args < 0)
    snprintf(exp, sizeof exp, "%d+", n->min_args);
  else if (n->min_args == n->max_args)
    snprintf(exp, sizeof exp, "%d", n->min_args);
  else
    snprintf(exp, sizeof exp, "%d-%d", n->min_args, n->max_args);
  err_arity(vm, sym_cstr(vm, n->name), exp, got);
}

static NORETURN void not_callable(VM *vm, Value f) {
  StrBuf b;
  sb_init(&b);
  print_value(vm, &b, f, true);
  Value s = sb_to_string(vm, &b);
  err_eval(vm, "not callable: %s (%s)", str_data(s), val_type_name(f));
}

/* Set up a closure frame for base[-1] with argc arguments at base[0..]. */
static inline CallInfo *push_frame(VM *vm, Closure *cl, Value *base, int argc) {
  Proto *p = cl->proto;
  if (UNLIKELY(argc != p->nparams)) {
    if (!p->has_rest || argc < p->nparams) closure_arity(vm, p, argc);
  }
  if (p->has_rest) {
    Value rest = EMPTY_VAL;
    for (int i = argc; i-- > p->nparams;) rest = list_cons(vm, base[i], rest);
    base[p->nparams] = rest;
  }
  Value *top = base + p->maxregs;
  if (UNLIKELY(top > vm->stack_end || vm->ci + 1 >= vm->ci_end)) vm_stack_overflow(vm);
  if (top > vm->stack_hw) vm->stack_hw = top;
  CallInfo *ci = ++vm->ci;
  ci->cl = cl;
  ci->base = base;
  ci->pc = p->code;
  ci->flags = 0;
  ci->owner = 0;
  return ci;
}


static Value call_native(VM *vm, Native *n, int argc, Value *argv) {
  if (UNLIKELY(argc < n->min_args || (n->max_args >= 0 && argc > n->max_args))) native_arity(vm, n, argc);
  return n->fn(vm, argc, argv);
}

static void vm_run(VM *vm);

/* A multimethod (language.md §7.22): call the dispatch function, then the
 * method registered for its result, or the default. */
static Value call_multi(VM *vm, Value mv, int argc, Value *argv) {
  vm_push_root(vm, mv);
  Multi *m = (Multi *)as_obj(mv);
  Value d = vm_call(vm, m->dispatch, argc, argv);
  Value method;
  if (!map_get(m->methods, d, &method)) {
    if (m->deflt == UNBOUND_VAL) {
      Value s = print_to_string(vm, d, true);
      err_eval(vm, "no method in multimethod '%s' for dispatch value: %s", sym_cstr(vm, m->name), str_data(s));
    }
    method = m->deflt;
  }
  Value r = vm_call(vm, method, argc, argv);
  vm_pop_roots(vm, 1);
  return r;
}

/* Call slot[0] with argc arguments at slot[1..]; the result replaces slot[0]. */
static void call_at(VM *vm, Value *slot, int argc, uint32_t owner) {
  Value f = slot[0];
  if (is_closure(f)) {
    CallInfo *ci = push_frame(vm, as_closure(f), slot + 1, argc);
    ci->flags = CI_FRESH;
    ci->owner = owner;
    vm_run(vm);
    return;
  }
  if (is_native(f)) {
    slot[0] = call_native(vm, as_native(f), argc, slot + 1);
    return;
  }
  if (is_kw(f)) {
    if (argc != 1) {
      char name[256];
      snprintf(name, sizeof name, ":%s", sym_cstr(vm, f));
      err_arity(vm, name, "1", argc);
    }
    slot[0] = op_keyword_call(vm, f, slot[1]);
    return;
  }
  if (is_objtype(f, OBJ_MULTI)) {
    slot[0] = call_multi(vm, f, argc, slot + 1);
    return;
  }
  not_callable(vm, f);
}

uint32_t vm_new_token(VM *vm) {
  if (++vm->next_token == 0) vm->next_token = 1;
  return vm->next_token;
}

static Value call_with(VM *vm, Value fn, int argc, const Value *argv, uint32_t owner) {
  err_check_c_stack(vm);
  Value *slot = vm->top;
  if (slot + argc + 1 + 256 > vm->stack_end) vm_stack_overflow(vm);
  if (argc) memmove(slot + 1, argv, (size_t)argc * sizeof(Value));
  slot[0] = fn;
  vm->top = slot + argc + 1;
  if (vm->top > vm->stack_hw) vm->stack_hw = vm->top;
  call_at(vm, slot, argc, owner);
  vm->top = slot;
  return slot[0];
}

Value vm_call(VM *vm, Value fn, int argc, const Value *argv) { return call_with(vm, fn, argc, argv, 0); }

Value vm_call_owned(VM *vm, Value fn, int argc, const Value *argv, uint32_t token) {
  return call_with(vm, fn, argc, argv, token);
}

/* ---- handlers ---- */

static Handler *push_handler(VM *vm) {
  if (vm->nhandlers == vm->caphandlers) {
    vm->caphandlers = vm->caphandlers ? vm->caphandlers * 2 : 64;
    vm->handlers = realloc(vm->handlers, vm->caphandlers * sizeof(Handler));
    if (!vm->handlers) abort();
  }
  Handler *h = &vm->handlers[vm->nhandlers++];
  h->ci = vm->ci;
  h->top = vm->top;
  h->nroots = vm->nroots;
  h->c_depth = vm->c_depth;
  h->catch_pc = NULL;
  h->reg = 0;
  h->jb = NULL;
  h->cur_file = vm->cur_file;
  h->env = vm->env;
  h->narenas = vm->narenas;
  h->ext_depth = vm->ext_depth;
  return h;
}

static void restore_handler(VM *vm, uint32_t idx) {
  Handler *h = &vm->handlers[idx];
  vm->ci = h->ci;
  vm->top = h->top;
  vm->nroots = h->nroots;
  vm->c_depth = h->c_depth;
  vm->cur_file = h->cur_file;
  vm->env = h->env;
  vm->ext_depth = h->ext_depth;
  arena_release(vm, h->narenas);
  vm->nhandlers = idx;
}


int vm_pcall(VM *vm, Value fn, int argc, const Value *argv, Value *out) {
  val_current_vm = vm;
  jmp_buf jb;
  volatile uint32_t idx = vm->nhandlers;
  jmp_buf *volatile saved_run = vm->run_jb;
  Handler *h = push_handler(vm);
  h->jb = &jb;
  if (setjmp(jb) == 0) {
    *out = vm_call(vm, fn, argc, argv);
    vm->nhandlers = idx;
    return 0;
  }
  restore_handler(vm, idx);
  vm->run_jb = saved_run;
  return 1;
}

int vm_protect(VM *vm, void (*fn)(VM *, void *), void *ud) {
  val_current_vm = vm;
  jmp_buf jb;
  volatile uint32_t idx = vm->nhandlers;
  jmp_buf *volatile saved_run = vm->run_jb;
  Handler *h = push_handler(vm);
  h->jb = &jb;
  if (setjmp(jb) == 0) {
    fn(vm, ud);
    vm->nhandlers = idx;
    return 0;
  }
  restore_handler(vm, idx);
  vm->run_jb = saved_run;
  return 1;
}

/* ---- DEOPT: an intrinsic whose builtin was redefined calls the global ---- */

static const int32_t *deopt_find(Proto *p, uint32_t pc) {
  Value *d = vec_items(p->deopt);
  uint32_t lo = 0, hi = vec_len(p->deopt) / 3;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    uint32_t mpc = (uint32_t)small_int_of(d[mid * 3]);
    if (mpc == pc) {
      static int32_t rec[2];
      rec[0] = (int32_t)small_int_of(d[mid * 3 + 1]);
      rec[1] = (int32_t)small_int_of(d[mid * 3 + 2]);
      return rec;
    }
    if (mpc < pc)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* Returns the call's result; *branch is set for compare-and-branch layouts. */
static Value deopt_call(VM *vm, Proto *p, Value *base, const Value *k, uint32_t pc, Instr i) {
  const int32_t *rec = deopt_find(p, pc);
  if (!rec) err_eval(vm, "internal error: missing deopt record");
  int32_t cell = rec[0];
  int op = rec[1] & 0xFF;
  bool swapped = rec[1] & DEOPT_SWAPPED;
  Value f = vm->globals[cell].value;
  if (f == UNBOUND_VAL) err_unbound(vm, vm->globals[cell].name);
  Value args[256];
  int n = 0;
  switch (opcode_layouts[op]) {
  case L_B: args[n++] = base[GET_B(i)]; break;
  case L_BC:
    args[n++] = base[GET_B(i)];
    args[n++] = base[GET_C(i)];
    break;
  case L_BsC:
    args[n++] = base[GET_B(i)];
    args[n++] = small_int_val(GET_sC(i));
    break;
  case L_BsC_R:
    args[n++] = small_int_val(GET_sC(i));
    args[n++] = base[GET_B(i)];
    break;
  case L_BK:
    args[n++] = base[GET_B(i)];
    args[n++] = k[GET_C(i)];
    break;
  case L_AB_J:
    args[n++] = base[GET_A(i)];
    args[n++] = base[GET_B(i)];
    break;
  case L_AsB_J:
    args[n++] = base[GET_A(i)];
    args[n++] = small_int_val(GET_sB(i));
    break;
  case L_A_J: args[n++] = base[GET_A(i)]; break;
  case L_ARGS:
    for (uint32_t j = 0; j < GET_C(i); j++) args[n++] = base[GET_B(i) + j];
    break;
  case L_B3:
    for (uint32_t j = 0; j < 3; j++) args[n++] = base[GET_B(i) + j];
    break;
  default: err_eval(vm, "internal error: bad deopt layout");
  }
  if (swapped) {
    Value t = args[0];
    args[0] = args[1];
    args[1] = t;
  }
  return vm_call(vm, f, n, args);
}

/* ---- the dispatch loop ---- */

#if defined(__GNUC__) && !defined(SEMA_SWITCH_DISPATCH)
#define USE_COMPUTED_GOTO 1
#endif

#define RA base[GET_A(i)]
#define RB base[GET_B(i)]
#define RC base[GET_C(i)]
#define SAVE_PC() (ci->pc = pc)
/* reload frame state after anything that may have switched frames */
#define LOAD_FRAME()        \
  do {                      \
    ci = vm->ci;            \
    cl = ci->cl;            \
    base = ci->base;        \
    pc = ci->pc;            \
    k = cl->proto->consts;  \
  } while (0)
#define GC_CHECK()                                  \
  do {                                              \
    if (UNLIKELY(vm->heap.pending)) {               \
      vm->top = base + cl->proto->maxregs;          \
      gc_collect(vm);                               \
    }                                               \
  } while (0)
#define BOTH_SMALL(a, b) (VAL_TAG(a) == TAG_INT && VAL_TAG(b) == TAG_INT)
#define BOTH_DOUBLE(a, b) (is_double(a) && is_double(b))
#define TAKE_JUMP() (pc += GET_sJ(*pc) + 1)
/* every loop goes through a backward jump or a call: check for an interrupt there */
#define CHECK_INTERRUPT()                      \
  do {                                         \
    if (UNLIKELY(vm_interrupt_requested)) {    \
      SAVE_PC();                               \
      vm_interrupted(vm);                      \
    }                                          \
  } while (0)
#define COND_JUMP(cond)             \
  do {                              \
    if ((cond) == (bool)GET_C(i))   \
      TAKE_JUMP();                  \
    else                            \
      pc++;                         \
  } while (0)

/* Opcode-pair profile (build with -DSEMA_PROFILE_OPS; printed at exit):
 * the data behind superinstruction and quickening choices. */
#ifdef SEMA_PROFILE_OPS
static uint64_t op_pairs[OP__COUNT][OP__COUNT];
static unsigned prev_op;
#define PROFILE(op) (op_pairs[prev_op][op]++, prev_op = (op))
static void print_op_profile(void) {
  typedef struct { uint64_t n; unsigned a, b; } Pair;
  Pair top[40] = {{0}};
  uint64_t total = 0, singles[OP__COUNT] = {0};
  for (unsigned a = 0; a < OP__COUNT; a++)
    for (unsigned b = 0; b < OP__COUNT; b++) {
      uint64_t n = op_pairs[a][b];
      total += n;
      singles[b] += n;
      for (int k = 0; k < 40; k++)
        if (n > top[k].n) {
          memmove(&top[k + 1], &top[k], (39 - k) * sizeof(Pair));
          top[k] = (Pair){n, a, b};
          break;
        }
    }
  fprintf(stderr, "-- opcode pairs (%llu instructions)\n", (unsigned long long)total);
  for (int k = 0; k < 40 && top[k].n; k++)
    fprintf(stderr, "%6.2f%%  %-10s %-10s\n", 100.0 * top[k].n / total, opcode_names[top[k].a], opcode_names[top[k].b]);
  fprintf(stderr, "-- opcodes\n");
  for (unsigned b = 0; b < OP__COUNT; b++)
    if (singles[b] * 200 > total) fprintf(stderr, "%6.2f%%  %s\n", 100.0 * singles[b] / total, opcode_names[b]);
}
#else
#define PROFILE(op) ((void)0)
#endif

#ifdef USE_COMPUTED_GOTO
#define DISPATCH()            \
  do {                        \
    i = *pc++;                \
    PROFILE(GET_OP(i));       \
    goto *jump[GET_OP(i)];    \
  } while (0)
#define CASE(name) L_##name:
#else
#define DISPATCH() goto dispatch
#define CASE(name) case OP_##name:
#endif

static inline Value int_result(VM *vm, int64_t r) { return fits_small_int(r) ? small_int_val(r) : obj_int(vm, r); }

static void execute(VM *vm) {
#ifdef USE_COMPUTED_GOTO
  static const void *const jump[] = {
#define X(name, ...) &&L_##name,
      SEMA_ALL_OPCODES(X)
#undef X
  };
#endif
  CallInfo *ci;
  Closure *cl;
  Value *base;
  const Value *k;
  const Instr *pc;
  Instr i;
  LOAD_FRAME();
#ifdef USE_COMPUTED_GOTO
  DISPATCH();
#else
dispatch:
  i = *pc++;
  PROFILE(GET_OP(i));
  switch (GET_OP(i)) {
#endif

  CASE(MOVE) {
    RA = RB;
    DISPATCH();
  }
  CASE(MOVE2) {
    RA = RB;
    base[GET_A(i) + 1] = base[GET_B(i) + 1];
    pc++;
    DISPATCH();
  }
  CASE(MOVEJ) {
    RA = RB;
    TAKE_JUMP();
    CHECK_INTERRUPT();
    DISPATCH();
  }
  CASE(MOVE2J) {
    RA = RB;
    base[GET_A(i) + 1] = base[GET_B(i) + 1];
    pc++;
    TAKE_JUMP();
    CHECK_INTERRUPT();
    DISPATCH();
  }
  CASE(LOADK) {
    RA = k[GET_Bx(i)];
    DISPATCH();
  }
  CASE(LOADI) {
    RA = small_int_val(GET_sBx(i));
    DISPATCH();
  }
  CASE(LOADNIL) {
    RA = NIL_VAL;
    DISPATCH();
  }
  CASE(LOADTRUE) {
    RA = TRUE_VAL;
    DISPATCH();
  }
  CASE(LOADFALSE) {
    RA = FALSE_VAL;
    DISPATCH();
  }
  CASE(LOADEMPTY) {
    RA = EMPTY_VAL;
    DISPATCH();
  }
  CASE(GETGLOBAL) {
    Value v = vm->globals[GET_Bx(i)].value;
    if (UNLIKELY(v == UNBOUND_VAL)) {
      SAVE_PC();
      v = env_global_unbound(vm, GET_Bx(i));
    }
    RA = v;
    DISPATCH();
  }
  CASE(SETGLOBAL)
  CASE(DEFGLOBAL) {
    SAVE_PC();
    env_set_global(vm, (int32_t)GET_Bx(i), RA);
    DISPATCH();
  }
  CASE(GETUPVAL) {
    RA = cl->upvals[GET_B(i)];
    DISPATCH();
  }
  CASE(GETUPBOX) {
    RA = ((Box *)as_obj(cl->upvals[GET_B(i)]))->v;
    DISPATCH();
  }
  CASE(SETUPBOX) {
    ((Box *)as_obj(cl->upvals[GET_B(i)]))->v = RA;
    DISPATCH();
  }
  CASE(MKBOX) {
    RA = obj_box(vm, RB);
    GC_CHECK();
    DISPATCH();
  }
  CASE(GETBOX) {
    RA = ((Box *)as_obj(RB))->v;
    DISPATCH();
  }
  CASE(SETBOX) {
    ((Box *)as_obj(RA))->v = RB;
    DISPATCH();
  }
  CASE(CLOSURE) {
    Proto *p = as_proto(k[GET_Bx(i)]);
    Closure *c = gc_alloc(vm, OBJ_CLOSURE, sizeof(Closure) + p->nupvals * sizeof(Value));
    c->h.aux = p->nupvals;
    c->proto = p;
    for (uint32_t j = 0; j < p->nupvals; j++)
      c->upvals[j] = p->upval_src[j] ? base[p->upval_idx[j]] : cl->upvals[p->upval_idx[j]];
    RA = obj_val(c);
    GC_CHECK();
    DISPATCH();
  }
  CASE(SELF) {
    RA = obj_val(cl);
    DISPATCH();
  }
  CASE(JMP) {
    pc += GET_sJ(i);
    if (GET_sJ(i) < 0) CHECK_INTERRUPT();
    DISPATCH();
  }
  CASE(TEST) {
    COND_JUMP(is_truthy(RA));
    DISPATCH();
  }
  /* a one-argument predicate fused with the branch on its result */
  CASE(BNOT) {
    COND_JUMP(!is_truthy(RA));
    DISPATCH();
  }
  CASE(BNULLP) {
    Value x = RA;
    COND_JUMP(x == EMPTY_VAL || x == NIL_VAL);
    DISPATCH();
  }
  CASE(BPAIRP) {
    COND_JUMP(is_cons(RA));
    DISPATCH();
  }
  CASE(CALL) {
    CHECK_INTERRUPT();
    Value *fslot = &RA;
    Value f = *fslot;
    int argc = (int)GET_B(i);
    SAVE_PC();
    if (LIKELY(is_closure(f))) {
      ci = push_frame(vm, as_closure(f), fslot + 1, argc);
      cl = ci->cl;
      base = ci->base;
      pc = ci->pc;
      k = cl->proto->consts;
      if (cl->proto->has_rest) GC_CHECK();
      DISPATCH();
    }
    vm->top = base + cl->proto->maxregs;
    if (LIKELY(is_native(f))) {
      *fslot = call_native(vm, as_native(f), argc, fslot + 1);
    } else {
      call_at(vm, fslot, argc, 0);
    }
    GC_CHECK();
    DISPATCH();
  }
  CASE(TAILCALL) {
    CHECK_INTERRUPT();
    Value *fslot = &RA;
    Value f = *fslot;
    int argc = (int)GET_B(i);
    SAVE_PC();
    if (LIKELY(is_closure(f))) {
      memmove(base - 1, fslot, ((size_t)argc + 1) * sizeof(Value));
      uint32_t flags = ci->flags;
      vm->ci--;
      ci = push_frame(vm, as_closure(f), base, argc);
      ci->flags = flags;
      cl = ci->cl;
      pc = ci->pc;
      k = cl->proto->consts;
      if (cl->proto->has_rest) GC_CHECK();
      DISPATCH();
    }
    vm->top = base + cl->proto->maxregs;
    if (LIKELY(is_native(f)))
      *fslot = call_native(vm, as_native(f), argc, fslot + 1);
    else
      call_at(vm, fslot, argc, 0);
    base[-1] = *fslot;
    goto do_return;
  }
  CASE(RETURN) {
    base[-1] = RA;
  do_return:
    if (ci->flags & CI_FRESH) {
      vm->ci = ci - 1;
      return;
    }
    vm->ci = --ci;
    cl = ci->cl;
    base = ci->base;
    pc = ci->pc;
    k = cl->proto->consts;
    GC_CHECK();
    DISPATCH();
  }
  CASE(TRY) {
    Handler *h = push_handler(vm);
    h->jb = vm->run_jb;
    h->reg = (int)GET_A(i);
    h->catch_pc = pc + GET_sJ(*pc) + 1;
    h->top = base + cl->proto->maxregs;
    pc++;
    DISPATCH();
  }
  CASE(ENDTRY) {
    vm->nhandlers--;
    DISPATCH();
  }
  CASE(THROW) {
    SAVE_PC();
    err_user(vm, RA);
  }
  CASE(MKVEC) {
    RA = vec_from(vm, &RB, GET_C(i));
    GC_CHECK();
    DISPATCH();
  }
  CASE(MKLIST) {
    RA = list_from(vm, &RB, GET_C(i));
    GC_CHECK();
    DISPATCH();
  }
  CASE(MKMAP) {
    SAVE_PC();
    Value m = map_empty(vm);
    Value *kv = &RB;
    for (uint32_t j = 0; j < GET_C(i); j++) m = map_assoc(vm, m, kv[2 * j], kv[2 * j + 1]);
    RA = m;
    GC_CHECK();
    DISPATCH();
  }
  CASE(DEOPT) {
    SAVE_PC();
    vm->top = base + cl->proto->maxregs;
    uint32_t at = (uint32_t)(pc - 1 - cl->proto->code);
    const int32_t *rec = deopt_find(cl->proto, at);
    int layout = rec ? opcode_layouts[rec[1] & 0xFF] : L_NONE;
    Value r = deopt_call(vm, cl->proto, base, k, at, i);
    if (layout == L_AB_J || layout == L_AsB_J || layout == L_A_J)
      COND_JUMP(is_truthy(r));
    else
      RA = r;
    GC_CHECK();
    DISPATCH();
  }

  /* ---- arithmetic ---- */
#define ARITH(name, iop, dop, slow)                                    \
  CASE(name) {                                                         \
    Value b = RB, c = RC;                                              \
    if (LIKELY(BOTH_SMALL(b, c))) {                                    \
      RA = int_result(vm, small_int_of(b) iop small_int_of(c));        \
    } else if (BOTH_DOUBLE(b, c)) {                                    \
      RA = double_val(as_double(b) dop as_double(c));                  \
    } else {                                                           \
      SAVE_PC();                                                       \
      RA = slow(vm, b, c);                                             \
      GC_CHECK();                                                      \
    }                                                                  \
    DISPATCH();                                                        \
  }
  ARITH(ADD, +, +, op_add)
  ARITH(SUB, -, -, op_sub)
  CASE(MUL) {
    Value b = RB, c = RC;
    int64_t r;
    if (LIKELY(BOTH_SMALL(b, c)) && !__builtin_mul_overflow(small_int_of(b), small_int_of(c), &r)) {
      RA = int_result(vm, r);
    } else if (BOTH_DOUBLE(b, c)) {
      RA = double_val(as_double(b) * as_double(c));
    } else {
      SAVE_PC();
      RA = op_mul(vm, b, c);
      GC_CHECK();
    }
    DISPATCH();
  }
  CASE(DIV) {
    Value b = RB, c = RC;
    if (BOTH_DOUBLE(b, c)) {
      RA = double_val(as_double(b) / as_double(c));
    } else {
      SAVE_PC();
      RA = op_div(vm, b, c);
      GC_CHECK();
    }
    DISPATCH();
  }
  CASE(MOD) {
    Value b = RB, c = RC;
    if (BOTH_SMALL(b, c) && small_int_of(c) > 0) {
      RA = small_int_val(small_int_of(b) % small_int_of(c));
    } else {
      SAVE_PC();
      RA = op_mod(vm, b, c);
      GC_CHECK();
    }
    DISPATCH();
  }
#define ARITH_IMM(name, iop, dop, slow, reversed)                      \
  CASE(name) {                                                         \
    Value b = RB;                                                      \
    int imm = GET_sC(i);                                               \
    if (LIKELY(VAL_TAG(b) == TAG_INT)) {                               \
      RA = int_result(vm, reversed ? imm iop small_int_of(b) : small_int_of(b) iop imm); \
    } else if (is_double(b)) {                                         \
      RA = double_val(reversed ? (double)imm dop as_double(b) : as_double(b) dop(double) imm); \
    } else {                                                           \
      SAVE_PC();                                                       \
      RA = reversed ? slow(vm, small_int_val(imm), b) : slow(vm, b, small_int_val(imm)); \
      GC_CHECK();                                                      \
    }                                                                  \
    DISPATCH();                                                        \
  }
  ARITH_IMM(ADDI, +, +, op_add, 0)
  ARITH_IMM(SUBI, -, -, op_sub, 0)
  ARITH_IMM(RSUBI, -, -, op_sub, 1)
  ARITH_IMM(MULI, *, *, op_mul, 0)
#define ARITH_K(name, dop, slow)                                       \
  CASE(name) {                                                         \
    Value b = RB, c = k[GET_C(i)];                                     \
    if (BOTH_DOUBLE(b, c)) {                                           \
      RA = double_val(as_double(b) dop as_double(c));                  \
    } else {                                                           \
      SAVE_PC();                                                       \
      RA = slow(vm, b, c);                                             \
      GC_CHECK();                                                      \
    }                                                                  \
    DISPATCH();                                                        \
  }
  ARITH_K(ADDK, +, op_add)
  ARITH_K(SUBK, -, op_sub)
  ARITH_K(MULK, *, op_mul)
  ARITH_K(DIVK, /, op_div)
  CASE(NEG) {
    Value b = RB;
    if (is_double(b)) {
      RA = double_val(-as_double(b));
    } else {
      SAVE_PC();
      RA = op_neg(vm, b);
      GC_CHECK();
    }
    DISPATCH();
  }
  CASE(NOT) {
    RA = bool_val(is_falsy(RB));
    DISPATCH();
  }

  /* ---- comparisons ---- */
#define CMP_VALUE(name, iop, slowexpr)                                 \
  CASE(name) {                                                         \
    Value b = RB, c = RC;                                              \
    bool r;                                                            \
    if (LIKELY(BOTH_SMALL(b, c)))                                      \
      r = small_int_of(b) iop small_int_of(c);                         \
    else if (BOTH_DOUBLE(b, c))                                        \
      r = as_double(b) iop as_double(c);                               \
    else {                                                             \
      SAVE_PC();                                                       \
      r = slowexpr;                                                    \
    }                                                                  \
    RA = bool_val(r);                                                  \
    DISPATCH();                                                        \
  }
  CMP_VALUE(EQV, ==, val_num_eq(b, c))
  CMP_VALUE(LTV, <, op_cmp_lt(vm, b, c))
  CMP_VALUE(LEV, <=, op_cmp_le(vm, b, c))
  CMP_VALUE(GTV, >, op_cmp_lt(vm, c, b))
  CMP_VALUE(GEV, >=, op_cmp_le(vm, c, b))
#define CMP_BRANCH(name, iop, slowexpr)                                \
  CASE(name) {                                                         \
    Value b = RA, c = RB;                                              \
    bool r;                                                            \
    if (LIKELY(BOTH_SMALL(b, c)))                                      \
      r = small_int_of(b) iop small_int_of(c);                         \
    else if (BOTH_DOUBLE(b, c))                                        \
      r = as_double(b) iop as_double(c);                               \
    else {                                                             \
      SAVE_PC();                                                       \
      r = slowexpr;                                                    \
    }                                                                  \
    COND_JUMP(r);                                                      \
    DISPATCH();                                                        \
  }
  CMP_BRANCH(BEQ, ==, val_num_eq(b, c))
  CMP_BRANCH(BLT, <, op_cmp_lt(vm, b, c))
  CMP_BRANCH(BLE, <=, op_cmp_le(vm, b, c))
  CMP_BRANCH(BGT, >, op_cmp_lt(vm, c, b))
  CMP_BRANCH(BGE, >=, op_cmp_le(vm, c, b))
#define CMP_BRANCH_I(name, iop, slowexpr)                              \
  CASE(name) {                                                         \
    Value b = RA;                                                      \
    int imm = GET_sB(i);                                               \
    bool r;                                                            \
    if (LIKELY(VAL_TAG(b) == TAG_INT))                                 \
      r = small_int_of(b) iop imm;                                     \
    else if (is_double(b))                                             \
      r = as_double(b) iop(double) imm;                                \
    else {                                                             \
      Value c = small_int_val(imm);                                    \
      SAVE_PC();                                                       \
      r = slowexpr;                                                    \
    }                                                                  \
    COND_JUMP(r);                                                      \
    DISPATCH();                                                        \
  }
  CMP_BRANCH_I(BEQI, ==, val_num_eq(b, c))
  CMP_BRANCH_I(BLTI, <, op_cmp_lt(vm, b, c))
  CMP_BRANCH_I(BLEI, <=, op_cmp_le(vm, b, c))
  CMP_BRANCH_I(BGTI, >, op_cmp_lt(vm, c, b))
  CMP_BRANCH_I(BGEI, >=, op_cmp_le(vm, c, b))

  /* ---- lists, predicates, collections ---- */
  CASE(CAR) {
    Value x = RB;
    if (LIKELY(is_cons(x)))
      RA = car(x);
    else {
      SAVE_PC();
      RA = op_car(vm, x);
    }
    DISPATCH();
  }
  CASE(CDR) {
    Value x = RB;
    if (LIKELY(is_cons(x)))
      RA = cdr(x);
    else {
      SAVE_PC();
      RA = op_cdr(vm, x);
      GC_CHECK();
    }
    DISPATCH();
  }
  CASE(CONS) {
    Value d = RC;
    if (LIKELY(is_list(d)))
      RA = list_cons(vm, RB, d);
    else {
      SAVE_PC();
      RA = op_cons(vm, RB, d);
    }
    GC_CHECK();
    DISPATCH();
  }
  CASE(CADR) {
    Value x = RB;
    if (LIKELY(is_cons(x) && is_cons(cdr(x))))
      RA = car(cdr(x));
    else {
      SAVE_PC();
      RA = op_car(vm, op_cdr(vm, x));
      GC_CHECK();
    }
    DISPATCH();
  }
  CASE(NULLP) {
    Value x = RB;
    RA = bool_val(x == EMPTY_VAL || x == NIL_VAL);
    DISPATCH();
  }
  CASE(NILP) {
    RA = bool_val(RB == NIL_VAL);
    DISPATCH();
  }
  CASE(PAIRP) {
    RA = bool_val(is_cons(RB));
    DISPATCH();
  }
  CASE(LISTP) {
    RA = bool_val(is_list(RB));
    DISPATCH();
  }
  CASE(NUMBERP) {
    RA = bool_val(is_number(RB));
    DISPATCH();
  }
  CASE(STRINGP) {
    RA = bool_val(is_string(RB));
    DISPATCH();
  }
  CASE(SYMBOLP) {
    RA = bool_val(is_sym(RB));
    DISPATCH();
  }
  CASE(ZEROP) {
    Value x = RB;
    if (VAL_TAG(x) == TAG_INT)
      RA = bool_val(x == small_int_val(0));
    else if (is_double(x))
      RA = bool_val(as_double(x) == 0.0);
    else if (is_bigint(x))
      RA = FALSE_VAL;
    else {
      SAVE_PC();
      err_type(vm, "number", x);
    }
    DISPATCH();
  }
  CASE(EQUALP) {
    RA = bool_val(val_equal(RB, RC));
    DISPATCH();
  }
  CASE(NTH) {
    Value coll = RB, idx = RC;
    if (is_vector(coll) && VAL_TAG(idx) == TAG_INT && (uint64_t)small_int_of(idx) < vec_len(coll)) {
      RA = vec_items(coll)[small_int_of(idx)];
    } else {
      SAVE_PC();
      RA = op_nth(vm, coll, idx);
    }
    DISPATCH();
  }
  CASE(STRLEN) {
    Value s = RB;
    if (is_string(s))
      RA = small_int_val(as_string(s)->nchars);
    else {
      SAVE_PC();
      RA = op_strlen(vm, s);
    }
    DISPATCH();
  }
  CASE(MIN2) {
    Value b = RB, c = RC;
    if (BOTH_DOUBLE(b, c))
      RA = as_double(b) < as_double(c) ? b : c;
    else {
      SAVE_PC();
      RA = op_min2(vm, b, c);
    }
    DISPATCH();
  }
  CASE(MAX2) {
    Value b = RB, c = RC;
    if (BOTH_DOUBLE(b, c))
      RA = as_double(b) > as_double(c) ? b : c;
    else {
      SAVE_PC();
      RA = op_max2(vm, b, c);
    }
    DISPATCH();
  }
  CASE(ADD3) {
    /* three small ints inline; anything else goes to op_add3, which
     * folds from 0 like the builtin (float contagion, strings rejected) */
    Value *a = &RB;
    if (LIKELY(VAL_TAG(a[0]) == TAG_INT && VAL_TAG(a[1]) == TAG_INT && VAL_TAG(a[2]) == TAG_INT)) {
      RA = int_result(vm, small_int_of(a[0]) + small_int_of(a[1]) + small_int_of(a[2]));
    } else {
      SAVE_PC();
      RA = op_add3(vm, a[0], a[1], a[2]);
    }
    GC_CHECK();
    DISPATCH();
  }
  CASE(ASSOC_OWNED) {
    SAVE_PC();
    Value *a = &RB;
    uint32_t token = GET_C(i) == 255 ? ci->owner : (uint32_t)small_int_of(RC);
    if (is_hashmap(a[0]))
      RA = hmap_assoc_owned(vm, a[0], a[1], a[2], token);
    else
      RA = op_assoc(vm, a[0], a[1], a[2]);
    GC_CHECK();
    DISPATCH();
  }
  CASE(NEWTOKEN) {
    RA = small_int_val(vm_new_token(vm));
    DISPATCH();
  }
  /* ---- intrinsics without a hand-written fast path (intrinsics.h kind CALLn):
   * the instruction is a direct call of the row's IMPL on its operands ---- */
#define GEN_FAST(op, impl)
#define GEN_CALL1(op, impl) CASE(op) { SAVE_PC(); RA = impl(vm, RB); GC_CHECK(); DISPATCH(); }
#define GEN_CALL2(op, impl) CASE(op) { SAVE_PC(); RA = impl(vm, RB, RC); GC_CHECK(); DISPATCH(); }
#define GEN_CALL3(op, impl) CASE(op) { SAVE_PC(); Value *a3 = &RB; RA = impl(vm, a3[0], a3[1], a3[2]); GC_CHECK(); DISPATCH(); }
#define GEN_CALLN(op, impl) CASE(op) { SAVE_PC(); RA = impl(vm, &RB, (int)GET_C(i)); GC_CHECK(); DISPATCH(); }
#define I(op, name, argc, layout, kind, impl, doc) GEN_##kind(op, impl)
  SEMA_INTRINSICS(I)
#undef I
#ifndef USE_COMPUTED_GOTO
  default: abort();
  }
#endif
}

/* One run level: resumes execution after an error caught by a `try` whose
 * handler belongs to this level. */
static void vm_run(VM *vm) {
  jmp_buf jb;
  jmp_buf *volatile saved = vm->run_jb;
  vm->run_jb = &jb;
  vm->c_depth++;
  if (setjmp(jb) != 0) {
    uint32_t idx = vm->nhandlers - 1;
    Handler h = vm->handlers[idx];
    restore_handler(vm, idx);
    vm->run_jb = &jb;
    h.ci->base[h.reg] = vm->error;
    /* the try body's registers are dead: drop what they hold (a precise GC would keep it) */
    for (Value *r = h.ci->base + h.reg + 1; r < h.top; r++) *r = NIL_VAL;
    h.ci->pc = h.catch_pc;
    vm->top = h.top;
  }
  execute(vm);
  vm->run_jb = saved;
  vm->c_depth--;
}
