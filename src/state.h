/* state.h - the interpreter state: one VM per sema_State.
 *
 * Seen by the value core's collector and error unwinding, the VM and the
 * front end.  Library modules do not include it: they reach the state only
 * through the functions of vm.h, so the layout can change under them.
 *
 * The value stack is reserved once (STACK_SLOTS) and never moves: a pointer
 * into it (a frame's base, a native's argv) stays valid for as long as the
 * slot is in use.  Frames (CallInfo) are a second reserved array.
 */
#ifndef SEMA_STATE_H
#define SEMA_STATE_H

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include "object.h"
#include "gc.h"
#include "symbol.h"

typedef struct CallInfo {
  Closure *cl;     /* NULL for a native boundary frame */
  const Instr *pc; /* saved pc (next instruction) */
  Value *base;     /* register 0; the callee sits in base[-1] */
  uint32_t flags;
  uint32_t owner;  /* token a fold driver lends this call for its accumulator, or 0 */
} CallInfo;
#define CI_FRESH 1u /* returning from this frame leaves the current execute() */

/* An active error handler: a `try` in some frame, or a C-level protected
 * call.  Raising longjmps to the innermost one, which restores every field
 * below, so the state after a caught error is the state at its `try`. */
typedef struct Handler {
  jmp_buf *jb;       /* the run level (vm_run or a protected call) that resumes */
  CallInfo *ci;      /* frame that owns the handler */
  const Instr *catch_pc; /* try: where the catch code starts; NULL for a C handler */
  Value *top;
  uint32_t nroots;
  uint32_t c_depth;
  int reg;           /* try: register receiving the error map */
  Value cur_file;    /* restored on unwind, with env */
  unsigned narenas;  /* arenas above this are freed on unwind */
  uint64_t cleanups; /* cleanups registered from this serial on run on unwind (gc.c) */
  struct Env *env;
  uint32_t ext_depth;
  uint32_t native_nest;     /* vm->native_nest and vm->task at the handler, restored on unwind */
  struct VmTaskRun *task;
} Handler;

/* A global variable cell.  Code refers to cells by index (env.c). */
typedef struct {
  Value value;      /* UNBOUND_VAL when undefined */
  Value name;       /* symbol */
  int32_t fallback; /* module cells: index of the global cell to read when unbound, else -1 */
  uint16_t flags;   /* CELL_... */
  const char *doc;  /* with CELL_DOC: the docstring of the value bound at start-up (env_define_doc) */
} GlobalCell;
#define CELL_INTRINSIC 1u     /* the builtin stored here compiles to instructions (intrinsics.h) */
#define CELL_INTRINSIC_OFF 2u /* ... and was replaced: those instructions are deoptimized */
#define CELL_MACRO 4u
#define CELL_DOC 8u /* doc describes the value: cleared when another value is stored */
/* The cell is unbound but has a definition waiting (the prelude's macros):
 * the first read runs hooks.define_lazy (env.c, "Lazy globals"); storing a
 * value first drops it. */
#define CELL_LAZY 16u

typedef struct Env {
  /* symbol id -> cell index, open addressing; module envs chain to the global env */
  uint32_t *keys; /* symbol id + 1, 0 = empty */
  int32_t *cells;
  uint32_t cap, count;
  struct Env *parent;
  Value exports; /* list of exported symbols or nil (module) */
} Env;

struct VM;

/* Calls from the VM and the value core up into the front end and the
 * library.  Lower layers never link against higher ones: where they need one
 * at run time they call through these, which the bootstrap (boot.c) installs.
 * Every hook may be NULL. */
typedef struct VmHooks {
  /* Frame i (0 = outermost) of the frames that are not the VM's own (the
   * reference evaluator's, vm->ext_depth of them), for error traces. */
  void (*ext_frame)(struct VM *vm, uint32_t i, const char **name, uint32_t *pos, Value *file);
  /* A top-level unit finished (language.md §7.25: pending tasks run then). */
  void (*unit_done)(struct VM *vm);
  /* vm_free is about to release the heap: subsystems free their own state. */
  void (*on_free)(struct VM *vm);
  /* vm_call of a closure while a task runs (async.md §3.11): the scheduler
   * runs the call as an inline task and returns its value. */
  Value (*task_call)(struct VM *vm, Value fn, int argc, const Value *argv);
  /* Define the global NAME whose cell has CELL_LAZY (the prelude, prelude.c). */
  void (*define_lazy)(struct VM *vm, Value name);
} VmHooks;

/* Where output goes (vm_write): stdout/stderr by default; `sema eval --json`
 * and embedding hosts install their own writer. */
typedef struct VmOutput {
  void (*write)(void *ud, int stream, const char *s, size_t n); /* stream 1: out, 2: err */
  void (*flush)(void *ud);
  void *ud;
} VmOutput;

#define VM_MAX_MARKERS 4
#define VM_MAX_HELPERS 32 /* the front end's runtime helpers (helpers.h) */

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
  struct ArenaSlot *arenas; /* arenas of compilations and reads in progress */
  unsigned narenas;
  char *c_stack_limit;
  Value error;      /* the error map being raised / last error */
  Value error_hint; /* string or nil; shown by the CLI, not part of the map */
  Value pending_hint; /* set just before raising; moved to error_hint by err_make */
  Value args;       /* (sys/args) */
  Value modules;    /* sorted map path -> export map */
  Value loading;    /* list of paths being imported */
  Value cur_file;   /* string: file being run/loaded, or nil */
  Value intern_strs; /* commonly used strings/keywords kept alive */
  Value helpers[VM_MAX_HELPERS]; /* the natives lowered code calls, by HelperId (helpers.h) */
  /* references compiled while their global was unbound, with the locals in
   * scope there, for "Did you mean" (env_note_unbound); a ring of
   * UNBOUND_REFS entries.  Symbols are immediates: nothing to mark. */
  struct UnboundRef *unbound_refs;
  uint32_t nunbound_refs;
  uint64_t gensym_counter;
  uint32_t next_token; /* owner tokens for in-place updates; never reused */
  uint32_t max_depth; /* call depth limit */
  uint32_t ext_depth; /* frames of the reference evaluator (hooks.ext_frame), restored by handlers */
  uint32_t native_nest; /* calls from C into callables (vm_call) in progress; a task parks only at its own level */
  struct VmTaskRun *task; /* the innermost task step running (vm_task_run), NULL outside tasks */
  /* Host control (vm_set_interrupt_hook, vm_set_exit_unwinds).  Safe points
   * poll while interrupt_pending is set: a count hook keeps it set, so code
   * without a hook pays nothing.  unwinding makes the error being raised pass
   * every `try` (exit, a stop from the hook); the outermost vm_protect clears
   * it when the next evaluation starts. */
  const char *(*interrupt_hook)(struct VM *vm, void *ud);
  void *interrupt_ud;
  uint64_t interrupt_every, interrupt_countdown;
  _Atomic int interrupt_pending; /* set from other threads (vm_request_interrupt) */
  bool unwinding, exit_unwinds, exited;
  int exit_code;
  bool stress_gc;   /* SEMA_GC_STRESS: collect at every safe point */
  bool disasm;      /* SEMA_DISASM: list every compiled prototype on stderr */
  VmOutput output;
  VmHooks hooks;
  void (*markers[VM_MAX_MARKERS])(struct VM *vm); /* mark roots that subsystems hold */
  void *interp;     /* the reference evaluator's state (interp.c), NULL unless --interp */
  void *api;        /* embedding API state (api.c) */
  void *user;
} VM;

#endif
