/* vm.h - the interpreter state, calls into the VM, errors and GC roots.
 *
 * This is the header every runtime file and every library module includes.
 */
#ifndef SEMA_VM_H
#define SEMA_VM_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include "object.h"
#include "gc.h"
#include "symbol.h"

#define NORETURN __attribute__((noreturn))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

typedef struct CallInfo {
  Closure *cl;     /* NULL for a native boundary frame */
  const Instr *pc; /* saved pc (next instruction) */
  Value *base;     /* register 0 */
  uint32_t flags;
  uint32_t owner;  /* token a fold driver lends this call for its accumulator, or 0 */
} CallInfo;
#define CI_FRESH 1u /* returning from this frame leaves the current vm_execute */

/* An active error handler: a `try` in some frame, or a C-level protected call. */
typedef struct Handler {
  jmp_buf *jb;       /* the run level (vm_run or vm_pcall) that resumes */
  CallInfo *ci;      /* frame that owns the handler */
  const Instr *catch_pc; /* try: where the catch code starts; NULL for a C handler */
  Value *top;
  uint32_t nroots;
  uint32_t c_depth;
  int reg;           /* try: register receiving the error map */
  Value cur_file;    /* restored on unwind, with env */
  unsigned narenas;  /* arenas above this are freed on unwind */
  struct Env *env;
  uint32_t interp_depth;
} Handler;

/* A global variable cell.  Code refers to cells by index. */
typedef struct {
  Value value;   /* UNBOUND_VAL when undefined */
  Value name;    /* symbol */
  int32_t fallback; /* module cells: index of the global cell to read when unbound, else -1 */
  uint16_t flags;
  uint16_t opcode_id; /* the builtin originally here has an intrinsic opcode */
} GlobalCell;
#define GC_INTRINSIC_OFF 1u /* redefined: intrinsic opcodes for it are disabled */
#define GC_MACRO 2u

typedef struct Env {
  /* symbol id -> cell index, open addressing; module envs chain to the global env */
  uint32_t *keys; /* symbol id + 1, 0 = empty */
  int32_t *cells;
  uint32_t cap, count;
  struct Env *parent;
  Value exports; /* list of exported symbols or nil (module) */
} Env;

typedef struct {
  char *data;
  size_t len, cap;
} StrBufC;

/* Calls from the VM and the value core up into the front end and the
 * library.  Lower layers never link against higher ones: where they need one
 * at run time they call through these, which the bootstrap (boot.c) installs.
 * Every hook may be NULL. */
struct VM;
typedef struct VmHooks {
  /* Frame i (0 = outermost) of the frames that are not the VM's own (the
   * reference evaluator's, vm->ext_depth of them), for error traces. */
  void (*ext_frame)(struct VM *vm, uint32_t i, const char **name, uint32_t *pos, Value *file);
  /* A top-level unit finished (language.md §7.25: pending tasks run then). */
  void (*unit_done)(struct VM *vm);
  /* vm_free is about to release the heap: subsystems free their own state. */
  void (*on_free)(struct VM *vm);
} VmHooks;

typedef struct VM {
  /* value stack: one contiguous reservation, never moves */
  Value *stack, *stack_end, *top, *stack_hw;
  CallInfo *ci_base, *ci, *ci_end;
  Heap heap;
  SymTab syms;
  GlobalCell *globals;
  uint32_t nglobals, capglobals;
  uint32_t first_user_global; /* cells below were made at start-up (builtins, prelude) */
  Env genv;     /* the global environment */
  Env *env;     /* environment new code is compiled in */
  Value *roots; /* explicit root stack for C code */
  uint32_t nroots, caproots;
  Handler *handlers; /* stack of active handlers, innermost last */
  uint32_t nhandlers, caphandlers;
  jmp_buf *run_jb;   /* the innermost vm_run level */
  uint32_t c_depth;  /* nested vm_run invocations */
  uint32_t compile_pos; /* position of the form being compiled, for compile errors */
  struct Arena **arenas; /* arenas of compilations and reads in progress */
  unsigned narenas, caparenas;
  char *c_stack_limit;
  Value error;      /* the error map being raised / last error */
  Value error_hint; /* string or nil; shown by the CLI, not part of the map */
  Value pending_hint; /* set just before raising; moved to error_hint by make_error */
  Value args;       /* (sys/args) */
  Value modules;    /* sorted map path -> export map */
  Value loading;    /* list of paths being imported */
  Value cur_file;   /* string: file being run/loaded, or nil */
  Value intern_strs; /* commonly used strings/keywords kept alive */
  uint64_t gensym_counter;
  uint32_t next_token; /* owner tokens for in-place updates; never reused */
  uint32_t max_depth; /* call depth limit */
  int stress_gc;
  int disasm; /* SEMA_DISASM=1: list every compiled prototype on stderr */
  FILE *out, *errout;
  StrBufC outcap, errcap; /* captured output (sema eval --json) */
  int capture;
  void *user;
  bool interp;       /* sema --interp: units run on the reference evaluator (interp.c) */
  Value interp_keep; /* constants of interpreted units, alive as long as their closures may be */
  void *interp_state;
  uint32_t interp_depth; /* calls active in the reference evaluator (its stack trace) */
  VmHooks hooks;
  void *api;                          /* embedding API state (api.c) */
  void (*mark_extra)(struct VM *vm);  /* marks roots held by the embedding API */
} VM;

/* The state whose code is running on this thread; pure helpers such as
 * val_compare need its symbol table.  Set by vm_new and on every protected
 * entry (vm_protect, vm_pcall). */
extern _Thread_local VM *rt_current_vm;

/* ---- lifecycle ---- */
VM *vm_new(void);
void vm_free(VM *vm);

/* ---- GC roots for C code (natives that call back into the VM, the compiler) ---- */
static inline void vm_push_root(VM *vm, Value v) {
  extern void vm_grow_roots(VM * vm);
  if (UNLIKELY(vm->nroots == vm->caproots)) vm_grow_roots(vm);
  vm->roots[vm->nroots++] = v;
}
static inline void vm_pop_roots(VM *vm, uint32_t n) { vm->nroots -= n; }
/* A rooted slot that C code may update: returns its index. */
static inline uint32_t vm_root_slot(VM *vm, Value v) {
  vm_push_root(vm, v);
  return vm->nroots - 1;
}
#define ROOT(vm, i) ((vm)->roots[i])

/* Run a safe point: collect if the allocator asked for it. */
void vm_safepoint(VM *vm);

/* ---- interruption ----
 * A signal handler (or another thread) sets this flag; running code checks it
 * at backward jumps and calls and raises the catchable error "interrupted".
 * The REPL's Ctrl-C and the fuzzers' time budget use it. */
#include <signal.h>
extern volatile sig_atomic_t vm_interrupt_requested;

/* ---- calling ---- */
/* Call any callable value with argc arguments; returns its value.  Errors propagate (longjmp). */
Value vm_call(VM *vm, Value fn, int argc, const Value *argv);
static inline Value vm_call1(VM *vm, Value fn, Value a) { return vm_call(vm, fn, 1, &a); }
static inline Value vm_call2(VM *vm, Value fn, Value a, Value b) {
  Value args[2] = {a, b};
  return vm_call(vm, fn, 2, args);
}
/* Call fn for a fold driver (foldl, file/fold-lines, ...) that passes its
 * accumulator as the first argument and only keeps the result: lends the call
 * a fresh owner token so compiler-proven linear updates of the accumulator
 * happen in place.  token: from vm_new_token, one per driver invocation. */
Value vm_call_owned(VM *vm, Value fn, int argc, const Value *argv, uint32_t token);
uint32_t vm_new_token(VM *vm);
/* Protected call: returns 0 on success (result in *out), or 1 with the error in vm->error. */
int vm_pcall(VM *vm, Value fn, int argc, const Value *argv, Value *out);
/* Run fn(vm, ud) under a C-level handler: 0 on success, 1 with the error in vm->error. */
int vm_protect(VM *vm, void (*fn)(VM *, void *), void *ud);

/* ---- errors: all of these longjmp to the nearest handler ---- */
NORETURN void vm_throw(VM *vm, Value errmap);
NORETURN void vm_rethrow(VM *vm); /* raise vm->error again */
NORETURN void err_eval(VM *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
NORETURN void err_type(VM *vm, const char *expected, Value got);
NORETURN void err_type_in(VM *vm, const char *expected, Value got, const char *fname);
NORETURN void err_type2(VM *vm, const char *expected, Value a, Value b);
NORETURN void err_arity(VM *vm, const char *name, const char *expects, int got);
NORETURN void err_unbound(VM *vm, Value sym);
NORETURN void err_io(VM *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
NORETURN void err_user(VM *vm, Value thrown);
NORETURN void err_reader(VM *vm, uint32_t line, uint32_t col, const char *msg);
NORETURN void err_nonneg(VM *vm, const char *fname, Value got);
void vm_set_hint(VM *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Build the error map for kind KW with message (no raise). */
Value make_error(VM *vm, const char *kind, Value message);
/* "Eval error: ...", "Reader error at L:C: ..." (without the "Error: " prefix) */
Value error_display(VM *vm, Value err);

/* Is the C stack close to exhaustion?  Raises "stack overflow" if so. */
void vm_check_c_stack(VM *vm);
NORETURN void vm_stack_overflow(VM *vm); /* "stack overflow: maximum call depth exceeded", with a hint */
NORETURN void vm_interrupted(VM *vm);    /* clears the flag, raises "interrupted" */
/* The running thread's C stack is size bytes (a thread made with a big stack). */
void vm_set_c_stack_size(VM *vm, size_t size);

/* ---- output (stdout may be captured by `sema eval --json`) ---- */
void vm_write(VM *vm, const char *s, size_t n);
void vm_write_err(VM *vm, const char *s, size_t n);

/* ---- globals ---- */
int32_t global_cell(VM *vm, Value sym);            /* find or create in the global env */
void global_define(VM *vm, const char *name, Value v);
Value global_get(VM *vm, const char *name);        /* UNBOUND_VAL if undefined */
Value vm_global_value(VM *vm, uint32_t cell);      /* raises "Unbound variable" like compiled code */
void vm_set_global(VM *vm, int32_t cell, Value v); /* handles intrinsic invalidation */
int32_t env_lookup(VM *vm, Env *env, Value sym, bool create);

/* ---- evaluation entry points ---- */
/* Read, expand, compile and run a unit of source.  file may be NULL.  At the
 * top level (no frame running) the async tasks still pending are run after it. */
Value vm_eval_string(VM *vm, const char *src, size_t len, const char *file);
Value vm_eval_datum(VM *vm, Value form);
Value vm_load_file(VM *vm, const char *path, bool form_by_form);

#endif
