/* vm.c - the dispatch loop, calls, run levels, handlers and deopt.
 *
 * THE STACK.  One contiguous value stack, reserved once (STACK_SLOTS values,
 * pages touched lazily) and never moved, holds every frame's registers.  So a
 * pointer into it -- a frame's base, a native's argv, a handler's top --
 * stays valid as long as its slot is in use, and nothing ever has to be
 * re-derived after a reallocation (there is none).  What *does* change under
 * a running frame is which frame is current: after anything that may push
 * or pop frames (a call, a return, an error caught by `try`), the dispatch
 * loop reloads ci, cl, base, pc and k from vm->ci (LOAD_FRAME) instead of
 * trusting its locals.
 *
 * CALLING CONVENTION.  A frame is a window of the stack: its function sits in
 * base[-1], its arguments in base[0..argc), its other registers above; a
 * prototype's maxregs bounds the window.  `CALL A B` calls R[A] with
 * R[A+1..A+B]: the callee's base is &R[A+1], so arguments are never copied,
 * and the result is written into R[A] (the callee's base[-1]) on return.
 * A rest parameter is collected into a list at frame entry.  TAILCALL moves
 * callee and arguments down over the current frame and reuses its CallInfo,
 * so tail calls run in constant space.  Sema-to-Sema calls never recurse in
 * C: the loop just switches frames.
 *
 * RUN LEVELS.  A native that calls back into Sema code (map, sort, foldl,
 * the embedding API) goes through vm_call, which pushes the callee's frame
 * marked CI_FRESH and enters a new run level (vm_run -> execute).  Returning
 * from a CI_FRESH frame leaves that execute(); so C recursion happens only
 * at native boundaries, and the C stack guard (err_check_c_stack) bounds it.
 *
 * SAFE POINTS.  Allocation never collects: gc_alloc only records debt and
 * sets heap.pending.  The collector runs only at safe points: after an
 * instruction that allocates (GC_CHECK), after a call to a native, on
 * return, at frame entry with a rest list, and in vm_safepoint.  Before
 * collecting, the loop sets vm->top to the end of the current window, so the
 * collector scans exactly the live registers of every frame (gc.c: the stack
 * up to vm->top).  Consequences: a native may keep fresh objects in C
 * locals until it calls back into Sema code; an instruction handler may hold
 * an unrooted value across an allocation but not across a GC_CHECK.
 *
 * ERRORS.  Raising (error.c) is a longjmp to the innermost Handler.  `TRY`
 * pushes one that names this run level's jmp_buf, the frame, the register
 * for the error map and the catch pc; vm_run's setjmp restores the state the
 * handler saved (frames, top, roots, arenas, environment, current file) and
 * resumes at the catch pc.  A protected call (vm_protect) is a handler with
 * no catch pc.  The setjmp lives in vm_run, once per run level, not in the
 * dispatch loop, so the loop is not pessimised by returns_twice.
 *
 * DEOPT CONTRACT.  Intrinsic instructions (intrinsics.h) assume the builtin
 * they were compiled from is still in its global cell.  Each such
 * instruction is recorded in its prototype's deopt table (pc, cell, opcode
 * and a swapped-operands flag).  Storing a different value into the cell
 * (env_set_global) rewrites every recorded instruction of every live
 * prototype into DEOPT before the store; DEOPT finds its record and calls the
 * cell's current value with the operands the layout names.  A program that
 * never redefines a builtin pays nothing; one that does gets its own
 * definition from the next execution of each instruction on.
 *
 * OWNER TOKENS.  An owner token (vm_new_token) marks map nodes that only
 * one loop activation or one fold-driver call can reach; ASSOC_OWNED may
 * update such nodes in place.  A token is lent to a frame (CallInfo.owner)
 * by vm_call_owned and dropped by any tail call out of it; tokens come from
 * a counter and are never reused, so an escaped map is persistent forever
 * after.  (docs/design.md, "Owned updates".)
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

/* ---- C stack guard ----
 * C recursion happens at native boundaries (callbacks, printing, equality,
 * macro expansion).  The limit is derived from RLIMIT_STACK at start (or set
 * for a thread made with a big stack), leaving a margin for the deepest C
 * frames below the check, so running out is the catchable "stack overflow",
 * never SIGSEGV. */

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

/* ---- lifecycle ----
 * A bare state: stack and frames reserved (virtual memory only until
 * touched), heap, global environment.  No symbol is interned here, no
 * library exists yet: boot.c builds the rest on top. */

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
  vm->arenas = calloc(ARENA_MAX_NESTING, sizeof(ArenaSlot));
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
  opcode_mark_intrinsic_names(vm);
#ifdef SEMA_PROFILE_OPS
  static int registered;
  if (!registered++) atexit(print_op_profile);
#endif
  return vm;
}

void vm_free(VM *vm) {
  if (vm->hooks.on_free) vm->hooks.on_free(vm);
  arena_release(vm, 0);
  gc_heap_free(vm);
  sym_table_free(&vm->syms);
  env_free(&vm->genv);
  free(vm->unbound_refs);
  free(vm->globals);
  free(vm->roots);
  free(vm->handlers);
  free(vm->arenas);
  munmap(vm->stack, STACK_SLOTS * sizeof(Value));
  munmap(vm->ci_base, (MAX_FRAMES + 8) * sizeof(CallInfo));
  if (val_current_vm == vm) val_current_vm = NULL;
  free(vm);
}

/* ---- roots for C code ----
 * A LIFO stack of values the collector marks (vm.h explains when a native
 * needs it).  Handlers save its depth, so an error pops what the aborted
 * code pushed. */

void vm_push_root(VM *vm, Value v) {
  if (UNLIKELY(vm->nroots == vm->caproots)) {
    uint32_t cap = vm->caproots ? vm->caproots * 2 : 256;
    Value *r = realloc(vm->roots, cap * sizeof(Value));
    if (!r) gc_oom(vm, cap * sizeof(Value));
    vm->roots = r;
    vm->caproots = cap;
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

/* Set asynchronously (signal handlers, other threads); read at backward
 * jumps and calls.  sig_atomic_t: the only type a handler may write. */
volatile sig_atomic_t vm_interrupt_requested;

void vm_interrupted(VM *vm) {
  vm_interrupt_requested = 0;
  err_eval(vm, "interrupted");
}

void vm_poll_interrupt(VM *vm) {
  /* C code that swallowed the exit (a callback's vm_pcall) meets it again here */
  if (vm->exited) vm_exit(vm, vm->exit_code);
  if (!vm->interrupt_hook) {
    vm->interrupt_pending = 0;
    if (vm_interrupt_requested) vm_interrupted(vm);
    return;
  }
  if (vm->interrupt_every) {
    if (--vm->interrupt_countdown > 0 && !vm_interrupt_requested) return;
    vm->interrupt_countdown = vm->interrupt_every;
  } else
    vm->interrupt_pending = 0;
  vm_interrupt_requested = 0;
  const char *stop = vm->interrupt_hook(vm, vm->interrupt_ud);
  if (stop) {
    vm->unwinding = true;
    err_eval(vm, "%s", stop);
  }
}

void vm_set_interrupt_hook(VM *vm, const char *(*hook)(VM *vm, void *ud), void *ud, uint64_t every) {
  vm->interrupt_hook = hook;
  vm->interrupt_ud = ud;
  vm->interrupt_every = hook ? every : 0;
  vm->interrupt_countdown = vm->interrupt_every;
  vm->interrupt_pending = hook && every;
}

void vm_request_interrupt(VM *vm) { vm->interrupt_pending = 1; }

bool vm_unwinding(VM *vm) { return vm->unwinding; }

void vm_set_exit_unwinds(VM *vm, bool on) { vm->exit_unwinds = on; }

bool vm_exited(VM *vm, int *code) {
  if (code) *code = vm->exit_code;
  return vm->exited;
}

void vm_exit(VM *vm, int code) {
  if (!vm->exit_unwinds) {
    vm_flush(vm);
    fflush(stdout);
    fflush(stderr);
    exit(code);
  }
  vm->exited = true;
  vm->exit_code = code;
  vm->unwinding = true;
  vm->interrupt_pending = 1;
  char msg[32];
  snprintf(msg, sizeof msg, "exit %d", code);
  err_throw(vm, err_make(vm, "exit", str_from_c(vm, msg)));
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
  if (p->spill_arity) /* its nparams is the register window, not the arity */
    snprintf(exp, sizeof exp, p->spill_rest ? "%u+" : "%u", p->spill_arity);
  else
    snprintf(exp, sizeof exp, p->has_rest ? "%u+" : "%u", p->nparams);
  err_arity(vm, is_sym(p->name) ? sym_cstr(vm, p->name) : "<lambda>", exp, got);
}

/* The whole arity check of a call of p with argc arguments, for the callers
 * that must raise before the frame exists (a tail call drops its own frame
 * first): also exact for a prototype with spilled parameters, whose VM-level
 * nparams is only its register window (SPILLARGS checks the rest later). */
/* CALLV, TAILCALLV: the vector of arguments in fslot[1] spread over
 * fslot[1..argc], where CALL's arguments would be (past the frame's window
 * when they are many: bounded by the stack check like any frame).  Nothing
 * allocates between reading the vector and the copy.  Returns argc. */
static inline int spread_args(VM *vm, Value *fslot) {
  Value args = fslot[1];
  int argc = (int)vec_len(args);
  if (UNLIKELY(fslot + 1 + argc + 256 > vm->stack_end)) vm_stack_overflow(vm);
  memcpy(fslot + 1, vec_items(args), (size_t)argc * sizeof(Value));
  if (fslot + 1 + argc > vm->stack_hw) vm->stack_hw = fslot + 1 + argc;
  return argc;
}

static NOINLINE void closure_arity_check(VM *vm, Proto *p, int got) {
  if (p->spill_arity) {
    if ((uint32_t)got == p->spill_arity || (p->spill_rest && (uint32_t)got > p->spill_arity)) return;
    closure_arity(vm, p, got);
  }
  if (got != p->nparams && (!p->has_rest || got < p->nparams)) closure_arity(vm, p, got);
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
  sb_init_vm(&b, vm);
  print_value(vm, &b, f, true);
  Value s = sb_to_string(vm, &b);
  err_eval(vm, "not callable: %s (%s)", str_data(s), val_type_name(f));
}

/* Set up a closure frame for base[-1] with argc arguments at base[0..].
 * Checks the arity, gathers a rest parameter, and checks both limits (the
 * window must fit below stack_end, the frame below ci_end): running out of
 * either is the catchable "stack overflow", never a crash.  stack_hw records
 * the highest window ever used, so the collector can clear the dead part
 * above vm->top (a stale register must never keep garbage alive or point at
 * a freed object).  The caller sets flags (CI_FRESH) and owner. */
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


/* Natives get their arguments in place (argv points into the caller's
 * registers, callee object at argv[-1]) after the table's arity check. */
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

/* Call slot[0] with argc arguments at slot[1..]; the result replaces
 * slot[0].  Every callable kind: closures (in a new run level), natives,
 * keywords as accessors ((:k m)), multimethods.  vm->top must already be
 * above slot + argc, so a collection inside the call sees the arguments. */
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

/* The C entry into Sema code: copy callee and arguments to the top of the
 * stack (argv may point anywhere, even into the stack below), call, pop.
 * The 256 slots of headroom let the callee's first window fit without a
 * second check. */
static Value call_with(VM *vm, Value fn, int argc, const Value *argv, uint32_t owner) {
  err_check_c_stack(vm);
  Value *slot = vm->top;
  if (slot + argc + 1 + 256 > vm->stack_end) vm_stack_overflow(vm);
  if (argc) memmove(slot + 1, argv, (size_t)argc * sizeof(Value));
  slot[0] = fn;
  vm->top = slot + argc + 1;
  if (vm->top > vm->stack_hw) vm->stack_hw = vm->top;
  if (UNLIKELY(vm->task != NULL) && is_closure(fn) && vm->hooks.task_call) {
    /* in a task, a callback is an inline task (async.md §3.11) */
    Value r = vm->hooks.task_call(vm, fn, argc, slot + 1);
    vm->top = slot;
    return r;
  }
  vm->native_nest++;
  call_at(vm, slot, argc, owner);
  vm->native_nest--;
  vm->top = slot;
  return slot[0];
}

Value vm_call(VM *vm, Value fn, int argc, const Value *argv) { return call_with(vm, fn, argc, argv, 0); }

Value vm_call_owned(VM *vm, Value fn, int argc, const Value *argv, uint32_t token) {
  return call_with(vm, fn, argc, argv, token);
}

/* (map/update m k f): the builtin's native, the MAPUPDATE instruction and the
 * interpreter all call this. */
Value vm_map_update(VM *vm, Value m, Value k, Value f) {
  if (!is_anymap(m)) err_type(vm, "map or hashmap", m);
  Value old = NIL_VAL;
  anymap_get(m, k, &old);
  Value nv = vm_call1(vm, f, old);
  return anymap_assoc(vm, m, k, nv);
}

/* ---- handlers ----
 * A handler saves everything an error may leave inconsistent; restoring it
 * is what makes a caught error leave the state exactly as at the `try` or
 * the protected call.  Handlers form a stack (vm->handlers); raising jumps
 * to the innermost, whose jmp_buf is the run level that owns it. */

static Handler *push_handler(VM *vm) {
  if (vm->nhandlers == vm->caphandlers) {
    uint32_t cap = vm->caphandlers ? vm->caphandlers * 2 : 64;
    Handler *hs = realloc(vm->handlers, cap * sizeof(Handler));
    if (!hs) gc_oom(vm, cap * sizeof(Handler));
    vm->handlers = hs;
    vm->caphandlers = cap;
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
  h->cleanups = gc_unwind_mark(vm);
  h->ext_depth = vm->ext_depth;
  h->native_nest = vm->native_nest;
  h->task = vm->task;
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
  vm->native_nest = h->native_nest;
  vm->task = h->task;
  arena_release(vm, h->narenas);
  gc_unwind(vm, h->cleanups);
  vm->nhandlers = idx;
}


/* A C-level handler: run fn under it.  Locals that live across the setjmp
 * are volatile (C11 7.13.2.1). */
int vm_protect(VM *vm, void (*fn)(VM *, void *), void *ud) {
  val_current_vm = vm;
  jmp_buf jb;
  volatile uint32_t idx = vm->nhandlers;
  jmp_buf *volatile saved_run = vm->run_jb;
  if (idx == 0) { /* a new evaluation from the host */
    vm->unwinding = vm->exited = false;
    vm->interrupt_pending = vm->interrupt_every > 0;
  }
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

typedef struct {
  Value fn;
  int argc;
  const Value *argv;
  Value result;
} PCall;

static void pcall_body(VM *vm, void *ud) {
  PCall *c = ud;
  c->result = vm_call(vm, c->fn, c->argc, c->argv);
}

int vm_pcall(VM *vm, Value fn, int argc, const Value *argv, Value *out) {
  PCall c = {fn, argc, argv, NIL_VAL};
  int failed = vm_protect(vm, pcall_body, &c);
  if (!failed) *out = c.result;
  return failed;
}

/* ---- DEOPT: an intrinsic whose builtin was redefined calls the global ----
 * The record of the instruction at pc (sorted by pc in the prototype's deopt
 * vector of (pc cell op) triples) names the global cell and the opcode the
 * instruction was compiled as, which says where its operands are. */

typedef struct {
  int32_t cell; /* global cell of the builtin, -1 if there is no record */
  int32_t op;   /* opcode as compiled, | DEOPT_SWAPPED */
} DeoptRecord;

static DeoptRecord deopt_find(Proto *p, uint32_t pc) {
  Value *d = vec_items(p->deopt);
  uint32_t lo = 0, hi = vec_len(p->deopt) / 3;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    uint32_t mpc = (uint32_t)small_int_of(d[mid * 3]);
    if (mpc == pc) return (DeoptRecord){(int32_t)small_int_of(d[mid * 3 + 1]), (int32_t)small_int_of(d[mid * 3 + 2])};
    if (mpc < pc)
      lo = mid + 1;
    else
      hi = mid;
  }
  return (DeoptRecord){-1, 0};
}

/* Call the cell's current value with the instruction's operands, in the
 * order the builtin takes them; returns its result (for the branch layouts
 * the caller branches on its truth). */
static Value deopt_call(VM *vm, Proto *p, Value *base, const Value *k, DeoptRecord rec, Instr i) {
  if (rec.cell < 0) err_eval(vm, "internal error: missing deopt record");
  int32_t cell = rec.cell;
  int op = rec.op & 0xFF;
  bool swapped = rec.op & DEOPT_SWAPPED;
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
  case L_B2:
    for (uint32_t j = 0; j < 2; j++) args[n++] = base[GET_B(i) + j];
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

/* The loop keeps the current frame in locals: ci (its CallInfo), cl (its
 * closure), base (register 0), k (the constants), pc (the next word) and i
 * (the word being executed).  Invariants:
 *  - ci->pc is only written by SAVE_PC(); anything that can raise or look at
 *    the frames (an error's stack trace, a call, a collection that prints a
 *    trace for an out-of-memory error) must come after SAVE_PC(), so traces
 *    and positions name the right instruction.
 *  - After a call that returns into this frame the locals are still right
 *    (the stack does not move); after a frame switch (CALL of a closure,
 *    RETURN, an error caught here) they are reloaded from vm->ci. */
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
/* The safe point after an allocating instruction: the window of this frame
 * is the top of the live stack, everything above is dead. */
#define GC_CHECK()                                  \
  do {                                              \
    if (UNLIKELY(vm->heap.pending)) {               \
      vm->top = base + cl->proto->maxregs;          \
      gc_collect(vm);                               \
    }                                               \
  } while (0)
/* Type tests are one compare on the word (value.h): small ints by tag, doubles
 * by being below the tagged range. */
#define BOTH_SMALL(a, b) (VAL_TAG(a) == TAG_INT && VAL_TAG(b) == TAG_INT)
#define BOTH_DOUBLE(a, b) (is_double(a) && is_double(b))
#define TAKE_JUMP() (pc += GET_sJ(*pc) + 1)
/* every loop goes through a backward jump or a call: check for an interrupt there */
#define CHECK_INTERRUPT()                      \
  do {                                         \
    if (UNLIKELY(vm_interrupt_requested | vm->interrupt_pending)) { \
      SAVE_PC();                               \
      vm_poll_interrupt(vm);                   \
    }                                          \
  } while (0)
/* A conditional is followed by a JMP word: take it when cond == C, else skip
 * it, so a taken branch is one dispatch. */
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

/* The sum or difference of two 48-bit ints fits in 64 bits; it is immediate
 * again if it fits 48, else boxed.  (Wrapping at 64 bits is op_add's, for
 * operands that are already boxed.) */
static inline Value int_result(VM *vm, int64_t r) { return fits_small_int(r) ? small_int_val(r) : obj_int(vm, r); }

/* A quickened instruction's guard failed (see QUICKENING in execute):
 * count it and send the instruction back to observing, or, after
 * QUICK_MISSES failures, to its generic variant for good. */
#define QUICK_MISSES 4
static NOINLINE void quick_miss(Proto *p, const Instr *at, OpCode observe, OpCode generic) {
  uint32_t pc = (uint32_t)(at - p->code);
  Instr *w = (Instr *)at;
  if (!p->quick_miss) p->quick_miss = calloc(p->ncode, 1);
  if (!p->quick_miss || ++p->quick_miss[pc] >= QUICK_MISSES)
    *w = SET_OP(*w, generic);
  else
    *w = SET_OP(*w, observe);
}

/* Run from vm->ci until a CI_FRESH frame returns.  One invocation per run
 * level; errors caught by a `try` of this level re-enter it (vm_run). */
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
  /* Globals are cells addressed by index; an unbound cell holds UNBOUND_VAL,
   * and a module's cell falls back to the global one (env.c). */
  CASE(GETGLOBAL) {
    Value v = vm->globals[GET_Bx(i)].value;
    if (UNLIKELY(v == UNBOUND_VAL)) {
      SAVE_PC();
      v = env_global_unbound(vm, GET_Bx(i));
    }
    RA = v;
    DISPATCH();
  }
  /* may deoptimize instructions compiled from this cell's builtin */
  CASE(SETGLOBAL)
  CASE(DEFGLOBAL) {
    SAVE_PC();
    env_set_global(vm, (int32_t)GET_Bx(i), RA);
    DISPATCH();
  }
  /* Closures capture values at creation (upvals[]); a variable that is both
   * captured and assigned lives in a Box, which frame and closures share. */
  CASE(GETUPVAL) {
    RA = cl->upvals[GET_B(i)];
    DISPATCH();
  }
  CASE(GETUPBOX) {
    RA = ((Box *)as_obj(cl->upvals[GET_B(i)]))->v;
    DISPATCH();
  }
  CASE(SETUPBOX) {
    Box *bx = (Box *)as_obj(cl->upvals[GET_B(i)]);
    bx->v = RA;
    gc_barrier(vm, bx);
    DISPATCH();
  }
  CASE(MKBOX) {
    RA = obj_box(vm, RB);
    GC_CHECK();
    DISPATCH();
  }
  /* (:k m) with one argument (codegen.c cg_call).  A sorted map is looked
   * up here; anything else, hash maps and errors included, is what calling
   * the keyword does (op_keyword_call). */
  CASE(GETKW) {
    Value m = RB, kw = k[GET_C(i)], v;
    if (LIKELY(is_objtype(m, OBJ_MAP))) {
      if (!map_get(m, kw, &v)) v = NIL_VAL;
    } else {
      SAVE_PC();
      v = op_keyword_call(vm, kw, m);
    }
    RA = v;
    DISPATCH();
  }
  CASE(GETBOX) {
    RA = ((Box *)as_obj(RB))->v;
    DISPATCH();
  }
  CASE(SETBOX) {
    ((Box *)as_obj(RA))->v = RB;
    gc_barrier(vm, as_obj(RA));
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
  /* The calls' shared steps.  ENTER(fn, args, argc): run closure fn with
   * its arguments at args, as a new frame of this loop (the frame's
   * registers reloaded).  CALL_FROM_C(fslot, argc): call the non-closure in
   * *fslot on the argc values after it from C; the result replaces it.
   * CALLV and TAILCALLV first spread their vector of arguments where CALL's
   * would be (spread_args). */
#define ENTER(fn, args, argc)                          \
  do {                                                 \
    ci = push_frame(vm, (fn), (args), (argc));         \
    cl = ci->cl;                                       \
    base = ci->base;                                   \
    pc = ci->pc;                                       \
    k = cl->proto->consts;                             \
    if (cl->proto->has_rest) GC_CHECK();               \
  } while (0)
#define CALL_FROM_C(fslot, argc)                                    \
  do {                                                              \
    if (LIKELY(is_native(*(fslot))))                                \
      *(fslot) = call_native(vm, as_native(*(fslot)), (argc), (fslot) + 1); \
    else                                                            \
      call_at(vm, (fslot), (argc), 0);                              \
  } while (0)
  /* A call of a closure switches frames inside this loop (no C recursion);
   * anything else is called from C with vm->top set above the arguments,
   * and its result lands in R[A].  The interrupt check here and at backward
   * jumps means every loop, recursive or iterative, can be interrupted. */
  CASE(CALL) {
    CHECK_INTERRUPT();
    Value *fslot = &RA;
    Value f = *fslot;
    int argc = (int)GET_B(i);
    SAVE_PC();
    if (LIKELY(is_closure(f))) {
      ENTER(as_closure(f), fslot + 1, argc);
      DISPATCH();
    }
    vm->top = base + cl->proto->maxregs;
    CALL_FROM_C(fslot, argc);
    GC_CHECK();
    DISPATCH();
  }
  /* Reuse this frame: move callee and arguments down to base-1 and push the
   * callee's frame in place of ours (keeping CI_FRESH, so returning from it
   * still leaves this run level; dropping the owner token).  A native callee
   * returns at once, as if from here. */
  CASE(TAILCALL) {
    CHECK_INTERRUPT();
    Value *fslot = &RA;
    Value f = *fslot;
    int argc = (int)GET_B(i);
    SAVE_PC();
    if (LIKELY(is_closure(f))) {
      /* checked before this frame goes, so the error names the call site */
      Proto *fp = as_closure(f)->proto;
      if (UNLIKELY(argc != fp->nparams) && (!fp->has_rest || argc < fp->nparams || fp->spill_arity))
        closure_arity_check(vm, fp, argc);
      memmove(base - 1, fslot, ((size_t)argc + 1) * sizeof(Value));
      uint32_t flags = ci->flags;
      vm->ci--;
      ENTER(as_closure(f), base, argc);
      ci->flags = flags;
      DISPATCH();
    }
    vm->top = base + cl->proto->maxregs;
    CALL_FROM_C(fslot, argc);
    base[-1] = *fslot;
    goto do_return;
  }
  /* The result goes to base[-1], the caller's R[A] of its CALL. */
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
  /* Push a handler owned by this frame and this run level: on an error the
   * error map lands in R[A] and execution resumes at the catch code, the
   * target of the JMP word that follows.  top is this frame's window, so the
   * catch sees every register of the frame. */
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
  /* Map literals are built by persistent assoc, so duplicate keys keep the
   * last value (language.md §3.6). */
  CASE(MKMAP) {
    SAVE_PC();
    Value m = map_empty(vm);
    Value *kv = &RB;
    for (uint32_t j = 0; j < GET_C(i); j++) m = map_assoc(vm, m, kv[2 * j], kv[2 * j + 1]);
    RA = m;
    GC_CHECK();
    DISPATCH();
  }
  /* A literal of more elements than fit in registers (codegen's
   * LITERAL_BATCH): VECNEW makes the whole vector, each VECFILL stores one
   * batch of evaluated elements at an offset the compiler computed (in
   * bounds by construction); the vector is in no one's hands until the
   * literal is done, so storing into it is not a mutation anyone sees.  A
   * map literal goes on with persistent assoc, as MKMAP does. */
  CASE(VECNEW) {
    RA = vec_new(vm, (size_t)small_int_of(RB));
    GC_CHECK();
    DISPATCH();
  }
  CASE(VECFILL) {
    Value *src = &RB;
    memcpy(vec_items(RA) + small_int_of(src[0]), src + 1, GET_C(i) * sizeof(Value));
    gc_barrier(vm, as_obj(RA)); /* filled in batches: a collection may have run since VECNEW */
    DISPATCH();
  }
  /* Spilled variables (codegen.c): the spill vector lives in register
   * spillreg of the frame from SPILLNEW / SPILLARGS at entry on, is never
   * seen by Sema code and is stored into only here, so mutating it in place
   * is not a mutation anyone observes; the GC sees it through the register. */
  CASE(SPILLNEW) {
    RA = vec_new(vm, cl->proto->nspill);
    GC_CHECK();
    DISPATCH();
  }
  CASE(SPILLARGS) {
    /* R[A] is the rest list push_frame gathered past the register window;
     * push_frame only checked "at least nparams", the exact count is here */
    Proto *p = cl->proto;
    uint32_t need = p->spill_arity - p->nparams;
    uint32_t have = 0;
    Value l = RA;
    for (Value m = l; is_cons(m) && have <= need; m = cdr(m)) have++;
    if (have < need || (have > need && !p->spill_rest)) {
      uint32_t got = p->nparams;
      for (Value m = l; is_cons(m); m = cdr(m)) got++;
      /* reported at the call, as push_frame does: this frame is not begun */
      vm->ci = ci - 1;
      closure_arity(vm, p, (int)got);
    }
    Value v = vec_new(vm, p->nspill);
    Value *slots = vec_items(v);
    for (uint32_t j = 0; j < need; j++, l = cdr(l)) slots[j] = car(l);
    if (p->spill_rest) slots[need] = l;
    RA = v;
    GC_CHECK();
    DISPATCH();
  }
  CASE(GETSPILL) {
    RA = vec_items(base[cl->proto->spillreg])[GET_Bx(i)];
    DISPATCH();
  }
  CASE(SETSPILL) {
    vec_items(base[cl->proto->spillreg])[GET_Bx(i)] = RA;
    gc_barrier(vm, as_obj(base[cl->proto->spillreg]));
    DISPATCH();
  }
  /* CLOSURE for a prototype with upvalues from spilled variables: source 2
   * is a slot of this frame's spill vector (captured by value, as a
   * register is; a boxed variable's slot holds its box) */
  CASE(CLOSURESP) {
    Proto *p = as_proto(k[GET_Bx(i)]);
    Closure *c = gc_alloc(vm, OBJ_CLOSURE, sizeof(Closure) + p->nupvals * sizeof(Value));
    c->h.aux = p->nupvals;
    c->proto = p;
    for (uint32_t j = 0; j < p->nupvals; j++) {
      uint32_t x = p->upval_idx[j];
      c->upvals[j] = p->upval_src[j] == 2   ? vec_items(base[cl->proto->spillreg])[x]
                     : p->upval_src[j] == 1 ? base[x]
                                            : cl->upvals[x];
    }
    RA = obj_val(c);
    GC_CHECK();
    DISPATCH();
  }
  /* A call with more arguments than fit in registers (analyze.c spills them
   * into a vector): the elements are spread onto the stack where CALL's
   * arguments would be, past this frame's window -- that is the callee's
   * window, bounded by the stack check like any frame -- and the call goes
   * on as CALL / TAILCALL.  Nothing allocates between reading the vector
   * and the copy, so the vector needs no root once its register is reused. */
  CASE(CALLV) {
    CHECK_INTERRUPT();
    Value *fslot = &RA;
    Value f = *fslot;
    SAVE_PC();
    int argc = spread_args(vm, fslot);
    if (LIKELY(is_closure(f))) {
      ENTER(as_closure(f), fslot + 1, argc);
      DISPATCH();
    }
    vm->top = fslot + 1 + argc; /* the arguments lie past this frame's window */
    CALL_FROM_C(fslot, argc);
    vm->top = base + cl->proto->maxregs;
    GC_CHECK();
    DISPATCH();
  }
  CASE(TAILCALLV) {
    CHECK_INTERRUPT();
    Value *fslot = &RA;
    Value f = *fslot;
    SAVE_PC();
    int argc = spread_args(vm, fslot);
    if (LIKELY(is_closure(f))) {
      closure_arity_check(vm, as_closure(f)->proto, argc);
      memmove(base - 1, fslot, ((size_t)argc + 1) * sizeof(Value));
      uint32_t flags = ci->flags;
      vm->ci--;
      ENTER(as_closure(f), base, argc);
      ci->flags = flags;
      DISPATCH();
    }
    /* anything else is called from C, as by CALLV, and its value returned */
    vm->top = fslot + 1 + argc;
    CALL_FROM_C(fslot, argc);
    base[-1] = *fslot;
    goto do_return;
  }
  CASE(MAPADD) {
    SAVE_PC();
    Value m = RA;
    Value *kv = &RB;
    for (uint32_t j = 0; j < GET_C(i); j++) m = map_assoc(vm, m, kv[2 * j], kv[2 * j + 1]);
    RA = m;
    GC_CHECK();
    DISPATCH();
  }
  CASE(DEOPT) {
    /* an intrinsic whose builtin was replaced: call the global (see DEOPT
     * CONTRACT above); the word keeps its operands, the record its shape */
    SAVE_PC();
    vm->top = base + cl->proto->maxregs;
    DeoptRecord rec = deopt_find(cl->proto, (uint32_t)(pc - 1 - cl->proto->code));
    int layout = rec.cell >= 0 ? opcode_layouts[rec.op & 0xFF] : L_NONE;
    Value r = deopt_call(vm, cl->proto, base, k, rec, i);
    if (layout == L_AB_J || layout == L_AsB_J || layout == L_A_J)
      COND_JUMP(is_truthy(r));
    else
      RA = r;
    GC_CHECK();
    DISPATCH();
  }

  /* ---- arithmetic ----
   * Fast paths inline: two small ints (results re-boxed only past 48 bits),
   * two doubles; every other pairing (bigints, mixed int/float, strings for
   * +, errors) goes to the op_ implementation, which is the builtin's.
   *
   * QUICKENING (roadmap §14).  ADD, SUB, MUL, DIV and the compare-and-branch
   * instructions start out observing: the first time their operands are two
   * small ints or two doubles they rewrite their own opcode (the operands
   * stay) to the _II or _FF variant, whose single guard is the test for
   * that pairing.  A variant whose guard fails rewrites itself back to the
   * observing instruction and re-executes it (QUICK_REDO), so the result is
   * always the generic one; the failures are counted per instruction
   * (Proto.quick_miss), and after QUICK_MISSES of them the instruction
   * becomes the _G variant, the generic body that never rewrites again, so a
   * site whose types keep changing stops paying for rewrites.  Rewriting
   * keeps the instruction's pc, so deopt records (which name pcs) still
   * find it; only the scheduler thread runs code, so the stores need no
   * synchronization. */
#define QUICK_TO(op) (((Instr *)pc)[-1] = SET_OP(i, OP_##op))
#define QUICK_REDO(observe, generic)               \
  do {                                             \
    quick_miss(cl->proto, pc - 1, OP_##observe, OP_##generic); \
    pc--;                                          \
    DISPATCH();                                    \
  } while (0)
#define ARITH_SLOW(slow)                                               \
  do {                                                                 \
    SAVE_PC();                                                         \
    RA = slow(vm, b, c);                                               \
    GC_CHECK();                                                        \
  } while (0)
#define ARITH(name, iop, dop, slow)                                    \
  CASE(name) {                                                         \
    Value b = RB, c = RC;                                              \
    if (BOTH_SMALL(b, c)) {                                            \
      RA = int_result(vm, small_int_of(b) iop small_int_of(c));        \
      QUICK_TO(name##_II);                                             \
    } else if (BOTH_DOUBLE(b, c)) {                                    \
      RA = double_val(as_double(b) dop as_double(c));                  \
      QUICK_TO(name##_FF);                                             \
    } else {                                                           \
      ARITH_SLOW(slow);                                                \
    }                                                                  \
    DISPATCH();                                                        \
  }                                                                    \
  CASE(name##_II) {                                                    \
    Value b = RB, c = RC;                                              \
    if (UNLIKELY(!BOTH_SMALL(b, c))) QUICK_REDO(name, name##_G);       \
    RA = int_result(vm, small_int_of(b) iop small_int_of(c));          \
    DISPATCH();                                                        \
  }                                                                    \
  CASE(name##_FF) {                                                    \
    Value b = RB, c = RC;                                              \
    if (UNLIKELY(!BOTH_DOUBLE(b, c))) QUICK_REDO(name, name##_G);      \
    RA = double_val(as_double(b) dop as_double(c));                    \
    DISPATCH();                                                        \
  }                                                                    \
  CASE(name##_G) {                                                     \
    Value b = RB, c = RC;                                              \
    if (LIKELY(BOTH_SMALL(b, c)))                                      \
      RA = int_result(vm, small_int_of(b) iop small_int_of(c));        \
    else if (BOTH_DOUBLE(b, c))                                        \
      RA = double_val(as_double(b) dop as_double(c));                  \
    else                                                               \
      ARITH_SLOW(slow);                                                \
    DISPATCH();                                                        \
  }
  ARITH(ADD, +, +, op_add)
  ARITH(SUB, -, -, op_sub)
  /* MUL: a small-int product that overflows is not a type miss: op_mul
   * handles it (a boxed or big result) and the variant stays */
  CASE(MUL) {
    Value b = RB, c = RC;
    int64_t r;
    if (BOTH_SMALL(b, c)) {
      QUICK_TO(MUL_II);
      if (!__builtin_mul_overflow(small_int_of(b), small_int_of(c), &r))
        RA = int_result(vm, r);
      else
        ARITH_SLOW(op_mul);
    } else if (BOTH_DOUBLE(b, c)) {
      RA = double_val(as_double(b) * as_double(c));
      QUICK_TO(MUL_FF);
    } else {
      ARITH_SLOW(op_mul);
    }
    DISPATCH();
  }
  CASE(MUL_II) {
    Value b = RB, c = RC;
    int64_t r;
    if (UNLIKELY(!BOTH_SMALL(b, c))) QUICK_REDO(MUL, MUL_G);
    if (LIKELY(!__builtin_mul_overflow(small_int_of(b), small_int_of(c), &r)))
      RA = int_result(vm, r);
    else
      ARITH_SLOW(op_mul);
    DISPATCH();
  }
  CASE(MUL_FF) {
    Value b = RB, c = RC;
    if (UNLIKELY(!BOTH_DOUBLE(b, c))) QUICK_REDO(MUL, MUL_G);
    RA = double_val(as_double(b) * as_double(c));
    DISPATCH();
  }
  CASE(MUL_G) {
    Value b = RB, c = RC;
    int64_t r;
    if (LIKELY(BOTH_SMALL(b, c)) && !__builtin_mul_overflow(small_int_of(b), small_int_of(c), &r))
      RA = int_result(vm, r);
    else if (BOTH_DOUBLE(b, c))
      RA = double_val(as_double(b) * as_double(c));
    else
      ARITH_SLOW(op_mul);
    DISPATCH();
  }
  /* DIV of two ints is exact (op_div): only floats have a variant */
  CASE(DIV) {
    Value b = RB, c = RC;
    if (BOTH_DOUBLE(b, c)) {
      RA = double_val(as_double(b) / as_double(c));
      QUICK_TO(DIV_FF);
    } else {
      ARITH_SLOW(op_div);
    }
    DISPATCH();
  }
  CASE(DIV_FF) {
    Value b = RB, c = RC;
    if (UNLIKELY(!BOTH_DOUBLE(b, c))) QUICK_REDO(DIV, DIV_G);
    RA = double_val(as_double(b) / as_double(c));
    DISPATCH();
  }
  CASE(DIV_G) {
    Value b = RB, c = RC;
    if (BOTH_DOUBLE(b, c))
      RA = double_val(as_double(b) / as_double(c));
    else
      ARITH_SLOW(op_div);
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

  /* ---- comparisons: as values, then fused with the branch that uses them ---- */
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
#define CMP_SLOW(slowexpr)                                             \
  do {                                                                 \
    SAVE_PC();                                                         \
    r = slowexpr;                                                      \
  } while (0)
#define CMP_BRANCH(name, iop, slowexpr)                                \
  CASE(name) {                                                         \
    Value b = RA, c = RB;                                              \
    bool r;                                                            \
    if (BOTH_SMALL(b, c)) {                                            \
      r = small_int_of(b) iop small_int_of(c);                         \
      QUICK_TO(name##_II);                                             \
    } else if (BOTH_DOUBLE(b, c)) {                                    \
      r = as_double(b) iop as_double(c);                               \
      QUICK_TO(name##_FF);                                             \
    } else                                                             \
      CMP_SLOW(slowexpr);                                              \
    COND_JUMP(r);                                                      \
    DISPATCH();                                                        \
  }                                                                    \
  CASE(name##_II) {                                                    \
    Value b = RA, c = RB;                                              \
    if (UNLIKELY(!BOTH_SMALL(b, c))) QUICK_REDO(name, name##_G);       \
    COND_JUMP(small_int_of(b) iop small_int_of(c));                    \
    DISPATCH();                                                        \
  }                                                                    \
  CASE(name##_FF) {                                                    \
    Value b = RA, c = RB;                                              \
    if (UNLIKELY(!BOTH_DOUBLE(b, c))) QUICK_REDO(name, name##_G);      \
    COND_JUMP(as_double(b) iop as_double(c));                          \
    DISPATCH();                                                        \
  }                                                                    \
  CASE(name##_G) {                                                     \
    Value b = RA, c = RB;                                              \
    bool r;                                                            \
    if (LIKELY(BOTH_SMALL(b, c)))                                      \
      r = small_int_of(b) iop small_int_of(c);                         \
    else if (BOTH_DOUBLE(b, c))                                        \
      r = as_double(b) iop as_double(c);                               \
    else                                                               \
      CMP_SLOW(slowexpr);                                              \
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

  /* ---- lists, predicates, collections: inline where the common case is one
   * tag test, else the implementation (intrinsics.h) ---- */
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
      RA = op_cadr(vm, x);
      GC_CHECK();
    }
    DISPATCH();
  }
  CASE(ZEROP) {
    Value x = RB;
    if (LIKELY(VAL_TAG(x) == TAG_INT))
      RA = bool_val(x == small_int_val(0));
    else {
      SAVE_PC();
      RA = op_zerop(vm, x);
    }
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
  /* bitwise operations: two small ints inline (and, or and xor of two
   * sign-extended 48-bit values stay in range; a right shift only shrinks;
   * a left shift may leave the range and goes through int_result); other
   * operands, boxed ints and errors go to the builtin's function */
#define BIT_CASE(OPNAME, EXPR, IMPL)                                       \
  CASE(OPNAME) {                                                          \
    Value b = RB, c = RC;                                                 \
    if (LIKELY(VAL_TAG(b) == TAG_INT && VAL_TAG(c) == TAG_INT)) {         \
      int64_t x = small_int_of(b), y = small_int_of(c);                   \
      RA = small_int_val(EXPR);                                           \
    } else {                                                              \
      SAVE_PC();                                                          \
      RA = IMPL(vm, b, c);                                                \
      GC_CHECK();                                                         \
    }                                                                     \
    DISPATCH();                                                           \
  }
  BIT_CASE(BITAND, x & y, op_bit_and)
  BIT_CASE(BITOR, x | y, op_bit_or)
  BIT_CASE(BITXOR, x ^ y, op_bit_xor)
#undef BIT_CASE
  CASE(SHR) {
    Value b = RB, c = RC;
    int64_t y;
    if (LIKELY(VAL_TAG(b) == TAG_INT && VAL_TAG(c) == TAG_INT && (y = small_int_of(c)) >= 0 && y <= 63)) {
      int64_t x = small_int_of(b);
      RA = small_int_val(x < 0 ? ~(~x >> y) : x >> y);
    } else {
      SAVE_PC();
      RA = op_shift_right(vm, b, c);
      GC_CHECK();
    }
    DISPATCH();
  }
  CASE(SHL) {
    Value b = RB, c = RC;
    int64_t y;
    if (LIKELY(VAL_TAG(b) == TAG_INT && VAL_TAG(c) == TAG_INT && (y = small_int_of(c)) >= 0 && y <= 63)) {
      SAVE_PC(); /* int_result may box */
      RA = int_result(vm, (int64_t)((uint64_t)small_int_of(b) << y));
    } else {
      SAVE_PC();
      RA = op_shift_left(vm, b, c);
    }
    GC_CHECK();
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
  /* assoc where codegen proved the old map dead (docs/design.md, "Owned
   * updates"): nodes carrying the token are updated in place, others copied
   * once and tagged.  The token is R[C], or the frame's lent one (C = 255). */
  CASE(ASSOC_OWNED) {
    SAVE_PC();
    Value *a = &RB;
    uint32_t token = GET_C(i) == 255 ? ci->owner : (uint32_t)small_int_of(RC);
    if (!is_anymap(a[0])) err_type(vm, "map or hashmap", a[0]);
    RA = anymap_assoc_owned(vm, a[0], a[1], a[2], token);
    GC_CHECK();
    DISPATCH();
  }
  CASE(DISSOC) {
    SAVE_PC();
    Value *a = &RB;
    RA = op_dissoc(vm, a[0], a[1]);
    GC_CHECK();
    DISPATCH();
  }
  CASE(DISSOC_OWNED) {
    SAVE_PC();
    Value *a = &RB;
    uint32_t token = GET_C(i) == 255 ? ci->owner : (uint32_t)small_int_of(RC);
    if (!is_anymap(a[0])) err_type(vm, "map or hashmap", a[0]);
    RA = anymap_dissoc_owned(vm, a[0], a[1], token);
    GC_CHECK();
    DISPATCH();
  }
  /* map/update calls Sema code: vm->top above this frame's registers first
   * (as DEOPT does), so the callee's frame cannot overwrite them. */
  CASE(MAPUPDATE) {
    SAVE_PC();
    vm->top = base + cl->proto->maxregs;
    Value *a = &RB;
    Value r = vm_map_update(vm, a[0], a[1], a[2]);
    RA = r;
    GC_CHECK();
    DISPATCH();
  }
  /* the owned form: the function sees only the old value, and the map is
   * not changed until it has returned (an error inside it leaves the map as
   * it was); then the new value is stored in place */
  CASE(MAPUPDATE_OWNED) {
    SAVE_PC();
    vm->top = base + cl->proto->maxregs;
    Value *a = &RB;
    uint32_t token = GET_C(i) == 255 ? ci->owner : (uint32_t)small_int_of(RC);
    Value m = a[0], key = a[1], old = NIL_VAL;
    if (!is_anymap(m)) err_type(vm, "map or hashmap", m);
    anymap_get(m, key, &old);
    Value nv = vm_call1(vm, a[2], old); /* m and key stay rooted in R[B], R[B+1] */
    RA = anymap_assoc_owned(vm, m, key, nv, token);
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
#define GEN_PURE1(op, impl) CASE(op) { RA = impl(vm, RB); DISPATCH(); }
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

/* One run level.  The setjmp here is where an error caught by a `try` of
 * this level lands: restore the state the handler saved, store the error map
 * in its register, clear the registers of the aborted try body (dead, but a
 * precise collector would keep what they point to alive: a caught 32 MB list
 * stayed live before this), and re-enter execute at the catch pc.  Errors
 * caught by handlers of outer levels longjmp past this frame entirely. */
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

/* ---- TASKS: steps, parking and resuming (async.md §3; the scheduler is src/lib/async.c) ----
 *
 * A task's Sema frames all live in one execute() invocation whose bottom
 * frame (CI_FRESH) is the task's thunk, run by vm_task_run above the
 * driver's vm->top.  Closure calls never recurse in C, and a callback from a
 * native runs as an inline task with its own step (hooks.task_call), so at a
 * yield point the task's whole state is VM data: frames from the bottom one
 * up, the value stack from the thunk's slot to the top frame's window, and
 * the `try` handlers pushed since the step began.  vm_task_yield copies
 * those into a VmParked record (C memory: bases, handler frames and tops as
 * offsets from the thunk's slot) and longjmps back to vm_task_run, which
 * restores the driver's state and hands the record to the scheduler.  The
 * yielding native's C frame is abandoned, as if it had raised, so it may not
 * hold anything that needs freeing.
 *
 * Resuming copies the record back at the new driver's top (another address,
 * another nesting of drivers: everything is rebased), points the handlers at
 * the new run level and stores the resume value where the native's result
 * would have gone: R[A] of the CALL, or, for a TAILCALL, the frame's return
 * value.  Closures capture by value or through boxes, never by pointers into
 * the stack, so moving a segment invalidates nothing.
 *
 * A native may park only when it was called directly by CALL or TAILCALL of
 * the innermost task step's own execute(): vm->c_depth equals the step's
 * (no eval or other run level in between) and vm->native_nest equals the
 * step's (no native between).  vm_task_state says which case applies. */

typedef struct VmTaskRun {
  jmp_buf jb;        /* where vm_task_yield returns to */
  uint32_t c_depth;  /* vm->c_depth inside the task's execute() */
  uint32_t nest;     /* vm->native_nest of the step */
  uint32_t nroots;   /* vm->nroots at the step */
  uint32_t hbase;    /* handlers below this belong to the driver */
  bool parkable;     /* false for a thunk that is not a VM closure (the reference evaluator's) */
  CallInfo *bottom;  /* the thunk's frame */
  Value *origin;     /* the thunk's slot (bottom->base - 1) */
  VmParked *parked;  /* set by vm_task_yield */
} VmTaskRun;

struct VmParked {
  uint32_t nslots, nframes, nhandlers;
  CallInfo *frames;  /* base: offset from origin, in Values, stored in the pointer's place */
  Handler *handlers; /* ci: index from the bottom frame; top: offset from origin */
  Value slots[];
};

int vm_task_state(VM *vm) {
  VmTaskRun *tr = vm->task;
  if (!tr) return VM_TASK_NONE;
  if (!tr->parkable || vm->c_depth != tr->c_depth) return VM_TASK_NESTED;
  if (vm->native_nest != tr->nest) return VM_TASK_IN_NATIVE;
  if (vm->ci < tr->bottom || !vm->ci->cl) return VM_TASK_IN_NATIVE;
  OpCode op = GET_OP(vm->ci->pc[-1]);
  if (op != OP_CALL && op != OP_TAILCALL) return VM_TASK_IN_NATIVE;
  return VM_TASK_PARKABLE;
}

NORETURN void vm_task_yield(VM *vm) {
  VmTaskRun *tr = vm->task;
  CallInfo *top = vm->ci;
  uint32_t nframes = (uint32_t)(top - tr->bottom) + 1;
  uint32_t nslots = (uint32_t)(top->base + top->cl->proto->maxregs - tr->origin);
  uint32_t nh = vm->nhandlers - tr->hbase;
  size_t bytes = sizeof(VmParked) + nslots * sizeof(Value) + nframes * sizeof(CallInfo) + nh * sizeof(Handler);
  VmParked *p = malloc(bytes);
  if (!p) err_eval(vm, "out of memory");
  p->nslots = nslots;
  p->nframes = nframes;
  p->nhandlers = nh;
  p->frames = (CallInfo *)(p->slots + nslots);
  p->handlers = (Handler *)(p->frames + nframes);
  memcpy(p->slots, tr->origin, nslots * sizeof(Value));
  for (uint32_t j = 0; j < nframes; j++) {
    p->frames[j] = tr->bottom[j];
    p->frames[j].base = (Value *)(uintptr_t)(tr->bottom[j].base - tr->origin);
  }
  for (uint32_t j = 0; j < nh; j++) {
    Handler h = vm->handlers[tr->hbase + j];
    h.ci = (CallInfo *)(uintptr_t)(h.ci - tr->bottom);
    h.top = (Value *)(uintptr_t)(h.top - tr->origin);
    h.nroots -= tr->nroots;
    h.jb = NULL;
    p->handlers[j] = h;
  }
  tr->parked = p;
  longjmp(tr->jb, 1);
}

void vm_parked_mark(VM *vm, VmParked *p) {
  for (uint32_t j = 0; j < p->nslots; j++) gc_mark_value(vm, p->slots[j]);
  for (uint32_t j = 0; j < p->nframes; j++)
    if (p->frames[j].cl) gc_mark_value(vm, obj_val(p->frames[j].cl));
  for (uint32_t j = 0; j < p->nhandlers; j++) gc_mark_value(vm, p->handlers[j].cur_file);
}

void vm_parked_free(VmParked *p) { free(p); }

size_t vm_parked_bytes(const VmParked *p) {
  return sizeof(VmParked) + p->nslots * sizeof(Value) + p->nframes * sizeof(CallInfo) + p->nhandlers * sizeof(Handler);
}

/* vm_run for a resumed task: the frames are in place; install the parked
 * handlers at this run level, deliver the resume value, execute. */
static void vm_run_resumed(VM *vm, VmTaskRun *tr, VmParked *p, Value rv) {
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
    for (Value *r = h.ci->base + h.reg + 1; r < h.top; r++) *r = NIL_VAL;
    h.ci->pc = h.catch_pc;
    vm->top = h.top;
    execute(vm);
    goto out;
  }
  for (uint32_t j = 0; j < p->nhandlers; j++) {
    Handler *h = push_handler(vm);
    Handler s = p->handlers[j];
    s.jb = &jb;
    s.ci = tr->bottom + (uintptr_t)s.ci;
    s.top = tr->origin + (uintptr_t)s.top;
    s.nroots += vm->nroots;
    s.c_depth = vm->c_depth;
    s.native_nest = vm->native_nest;
    s.task = vm->task;
    s.narenas = vm->narenas;
    s.ext_depth = vm->ext_depth;
    *h = s;
  }
  vm_parked_free(p); /* consumed: everything is back on the stack */
  {
    CallInfo *ci = vm->ci;
    Instr i = ci->pc[-1];
    if (GET_OP(i) == OP_CALL) {
      ci->base[GET_A(i)] = rv;
    } else { /* TAILCALL: the frame returns rv */
      ci->base[-1] = rv;
      vm->ci = ci - 1;
      if (ci == tr->bottom) goto out;
    }
  }
  execute(vm);
out:
  vm->run_jb = saved;
  vm->c_depth--;
}

VmParked *vm_task_run(VM *vm, Value fn, int argc, const Value *argv, VmParked *resume, Value rv, Value *out) {
  VmTaskRun tr;
  CallInfo *const saved_ci = vm->ci;
  Value *const saved_top = vm->top;
  const uint32_t saved_nroots = vm->nroots, saved_nh = vm->nhandlers, saved_depth = vm->c_depth;
  const uint32_t saved_nest = vm->native_nest, saved_ext = vm->ext_depth;
  jmp_buf *const saved_run = vm->run_jb;
  VmTaskRun *const outer = vm->task;
  Value *const origin = vm->top;
  tr.c_depth = vm->c_depth + 1;
  tr.nest = vm->native_nest;
  tr.nroots = vm->nroots;
  tr.hbase = vm->nhandlers;
  tr.parkable = resume != NULL || is_closure(fn);
  tr.origin = origin;
  tr.parked = NULL;
  tr.bottom = vm->ci + 1;
  if (setjmp(tr.jb) != 0) { /* vm_task_yield: the task is in tr.parked */
    vm->ci = saved_ci;
    vm->top = saved_top;
    vm->nroots = saved_nroots;
    vm->nhandlers = saved_nh;
    vm->c_depth = saved_depth;
    vm->native_nest = saved_nest;
    vm->ext_depth = saved_ext;
    vm->run_jb = saved_run;
    vm->task = outer;
    return tr.parked;
  }
  err_check_c_stack(vm);
  if (!tr.parkable) { /* a native thunk (the reference evaluator's closure): an ordinary call */
    vm->task = &tr;
    *out = vm_call(vm, fn, argc, argv);
    vm->task = outer;
    return NULL;
  }
  if (resume) {
    if (origin + resume->nslots + 256 > vm->stack_end || vm->ci + resume->nframes + 1 >= vm->ci_end) {
      vm_parked_free(resume);
      vm_stack_overflow(vm);
    }
    memcpy(origin, resume->slots, resume->nslots * sizeof(Value));
    vm->top = origin + resume->nslots;
    if (vm->top > vm->stack_hw) vm->stack_hw = vm->top;
    for (uint32_t j = 0; j < resume->nframes; j++) {
      CallInfo *ci = ++vm->ci;
      *ci = resume->frames[j];
      ci->base = origin + (uintptr_t)resume->frames[j].base;
    }
    vm->task = &tr;
    vm_run_resumed(vm, &tr, resume, rv);
  } else {
    if (origin + argc + 1 + 256 > vm->stack_end) vm_stack_overflow(vm);
    origin[0] = fn;
    if (argc) memmove(origin + 1, argv, (size_t)argc * sizeof(Value));
    vm->top = origin + argc + 1;
    if (vm->top > vm->stack_hw) vm->stack_hw = vm->top;
    CallInfo *ci = push_frame(vm, as_closure(fn), origin + 1, argc);
    ci->flags = CI_FRESH;
    vm->task = &tr;
    vm_run(vm);
  }
  vm->task = outer;
  vm->top = origin;
  *out = origin[0];
  return NULL;
}
