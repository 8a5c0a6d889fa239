/* vm.h - what the VM offers every layer above it: lifecycle, calls into
 * Sema code, protected calls, GC roots for C code, safe points, interrupts,
 * output, and the global environment.
 *
 * The state itself (the VM struct) is in state.h, which library modules do
 * not see; everything they may do with it is a function here.
 */
#ifndef SEMA_VM_H
#define SEMA_VM_H

#include <signal.h>
#include <stdio.h>
#include "object.h"
#include "error.h"
#include "gc.h"
#include "symbol.h"

typedef struct VM VM;

/* ---- lifecycle ----
 * vm_new makes a bare state: no library, no front end (boot.h makes a
 * complete interpreter).  vm_free releases everything. */
VM *vm_new(void);
void vm_free(VM *vm);
/* The running thread's C stack is size bytes (a thread made with a big stack). */
void vm_set_c_stack_size(VM *vm, size_t size);

/* ---- GC roots for C code ----
 * Allocation never collects; collection happens only at safe points: after
 * calls to natives, on return, at allocating instructions, and inside
 * vm_call.  So a native may keep fresh objects in C locals until it calls
 * back into Sema code (vm_call and friends); across such a call, every value
 * it still needs must be on the root stack.  Roots are popped in LIFO order;
 * an error unwinds the root stack to the catching handler's depth. */
void vm_push_root(VM *vm, Value v);
void vm_pop_roots(VM *vm, uint32_t n);
/* A rooted slot C code may update: returns its index for vm_root_ref. */
uint32_t vm_root_slot(VM *vm, Value v);
Value *vm_root_ref(VM *vm, uint32_t slot);
#define ROOT(vm, i) (*vm_root_ref(vm, i))
/* The root stack's depth, to drop everything pushed since (vm_roots_reset). */
uint32_t vm_roots_mark(VM *vm);
void vm_roots_reset(VM *vm, uint32_t mark);
/* Add or remove a function that marks roots a subsystem keeps (at most
 * VM_MAX_MARKERS); it runs inside every collection. */
void vm_add_marker(VM *vm, void (*mark)(VM *vm));
void vm_remove_marker(VM *vm, void (*mark)(VM *vm));

/* Run a safe point: collect if the allocator asked for it. */
void vm_safepoint(VM *vm);

/* ---- interruption ----
 * A signal handler (or another thread) sets this flag; running code checks it
 * at backward jumps and calls and raises the catchable error "interrupted".
 * The REPL's Ctrl-C and the fuzzers' time budget use it. */
extern volatile sig_atomic_t vm_interrupt_requested;
NORETURN void vm_interrupted(VM *vm); /* clears the flag, raises "interrupted" */
/* At a safe point where an interrupt is due: call the host's hook (which
 * may stop the evaluation past every `try`), else raise "interrupted". */
void vm_poll_interrupt(VM *vm);
/* HOOK runs at every EVERY-th safe point (calls and backward jumps), or, with
 * EVERY 0, when vm_request_interrupt or the global flag asks.  It returns
 * NULL to go on, or a message: the evaluation ends with "Eval error: MSG",
 * which no `try` catches.  NULL HOOK removes it. */
void vm_set_interrupt_hook(VM *vm, const char *(*hook)(VM *vm, void *ud), void *ud, uint64_t every);
void vm_request_interrupt(VM *vm); /* async-signal-safe */
/* (exit N): with exit_unwinds off (the default, the CLI) the process exits;
 * on, the evaluation unwinds past every `try` to the host's vm_protect, and
 * vm_exited reports the status. */
NORETURN void vm_exit(VM *vm, int code);
void vm_set_exit_unwinds(VM *vm, bool on);
bool vm_exited(VM *vm, int *code);
/* An uncatchable unwind (exit, a stop from the hook) is in progress: C code
 * that catches errors with vm_pcall must re-raise. */
bool vm_unwinding(VM *vm);
NORETURN void vm_stack_overflow(VM *vm); /* "stack overflow: maximum call depth exceeded", with a hint */

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
/* (map/update m k f): the map with k set to (f old), old being k's value or nil. */
Value vm_map_update(VM *vm, Value m, Value k, Value f);
/* Protected call: returns 0 on success (result in *out), or 1 with the error in vm_error. */
int vm_pcall(VM *vm, Value fn, int argc, const Value *argv, Value *out);
/* Run fn(vm, ud) under a C-level handler: 0 on success, 1 with the error in vm_error. */
int vm_protect(VM *vm, void (*fn)(VM *, void *), void *ud);
/* The error being raised, or the last one caught by vm_pcall / vm_protect. */
Value vm_error(VM *vm);
/* (sys/args): the program's argument list. */
Value vm_args(VM *vm);

/* ---- tasks (the mechanism; the scheduler is src/lib/async.c) ----
 * vm_task_run runs one step of a task above the current top: the first
 * (resume NULL) calls fn with argc arguments; a later one continues the
 * parked record RESUME (consumed, also when the step raises) with RV as the
 * value of the call that yielded.  Returns NULL when the task returned (its
 * value in *out) or the record of the parked task when it yielded.  Errors
 * of the task propagate (run it under vm_protect).
 * A native in a task asks vm_task_state whether it may park: then it records
 * why (the scheduler's business) and calls vm_task_yield, which does not
 * return. */
typedef struct VmParked VmParked;
enum {
  VM_TASK_NONE,     /* not in a task */
  VM_TASK_PARKABLE, /* called by the task's own code: may yield */
  VM_TASK_IN_NATIVE, /* called by a native (passed to a higher-order function) */
  VM_TASK_NESTED    /* in a task, under eval or the reference evaluator: cannot park */
};
VmParked *vm_task_run(VM *vm, Value fn, int argc, const Value *argv, VmParked *resume, Value rv, Value *out);
int vm_task_state(VM *vm);
NORETURN void vm_task_yield(VM *vm);
void vm_parked_mark(VM *vm, VmParked *p);
void vm_parked_free(VmParked *p);
size_t vm_parked_bytes(const VmParked *p);

/* ---- output: stdout and stderr, or the writer a host installed ---- */
void vm_write(VM *vm, const char *s, size_t n);
void vm_write_err(VM *vm, const char *s, size_t n);
void vm_flush(VM *vm); /* before something else writes to the terminal directly */
void vm_set_output(VM *vm, void (*write)(void *ud, int stream, const char *s, size_t n), void (*flush)(void *ud), void *ud);

/* ---- globals (env.c) ---- */
/* A native in a module's registration table; arity is checked by the VM
 * before the function runs (min_args <= argc <= max_args, max_args < 0: no
 * upper bound).  doc: the docstring shown by `,doc` and `sema doc`: the call
 * signature on the first line, then a one-paragraph description, e.g.
 * "(string/trim s)\nReturns s without leading and trailing whitespace." */
typedef struct {
  const char *name;
  NativeFn fn;
  int16_t min_args, max_args;
  const char *doc;
} NativeDef;
#define VARIADIC (-1)
/* Bind every native of a table ending in {NULL} to its global name. */
void env_register(VM *vm, const NativeDef *defs);
/* Bind NEW to the same value as the global OLD. */
void env_alias(VM *vm, const char *new_name, const char *old_name);
void env_define(VM *vm, const char *name, Value v);
/* Docstrings of globals that are not natives (those carry theirs in their
 * NativeDef row): "NAME\nDescription." for a value such as pi, "(NAME
 * args...)\nDescription." for a prelude macro.  The doc describes the value
 * the cell holds now: storing another value into the cell drops it.  DOC is
 * not copied.  env_set_doc: false when NAME is unbound; env_doc: NULL when
 * SYM has no such docstring. */
void env_define_doc(VM *vm, const char *name, Value v, const char *doc);
bool env_set_doc(VM *vm, const char *name, const char *doc);
const char *env_doc(VM *vm, Value sym);
Value env_get(VM *vm, const char *name); /* UNBOUND_VAL if undefined */
/* Lazy globals: NAME's cell is made now, unbound, with CELL_LAZY; the first
 * read of it (a macro lookup, a reference, env_get, a listing) calls
 * vm->hooks.define_lazy to define it.  env_force_all defines every waiting
 * one (tools that list or document all globals). */
void env_define_lazy(VM *vm, const char *name);
void env_force_all(VM *vm);
/* Bind SYM in the environment of the running code (a module's while one
 * loads, else the global one), as a top-level define there would. */
void env_define_current(VM *vm, Value sym, Value v);
/* Global cell I's name (a symbol) and value (UNBOUND_VAL when unbound); false
 * past the last cell.  For listing names (`,doc`'s suggestions). */
bool env_global_at(VM *vm, uint32_t i, Value *name, Value *value);
/* The locals in scope at the references to NAME compiled while it was
 * unbound (env_note_unbound, env.h): those at LINE when there are any, else
 * at all of them; up to MAX into OUT, no duplicates.  Returns how many. */
size_t env_unbound_locals(VM *vm, Value name, long line, Value *out, size_t max);

#endif
