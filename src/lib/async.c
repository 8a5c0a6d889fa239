/* async.c - cooperative single-threaded tasks: async promises, the ready
 * queue, async/spawn and async/await (language.md §7.25; the `async` and
 * `await` forms are prelude macros over these).
 *
 * A task runs to completion once started; tasks interleave only where one
 * awaits a promise that is still pending, which runs the ready tasks in spawn
 * order (nested inside the await) until that promise settles.  Whatever is
 * still pending when a top-level unit ends (a script, -e, a REPL entry) is run
 * by async_drain.  The queue is a list in a hidden global cell, so the
 * collector sees it like any other value.
 */
#include "lib.h"

enum { PENDING, RESOLVED, REJECTED, CANCELLED };
static const char *const state_names[] = {"pending", "resolved", "rejected", "cancelled"};

/* extra: [thunk result]; ptr: the state */
static int state_of(Foreign *f) { return (int)(intptr_t)f->ptr; }
static Value *slots(Foreign *f) { return vec_items(f->extra); }

static void promise_print(VM *vm, StrBuf *b, Foreign *f) {
  int st = state_of(f);
  sb_addf(b, "<async-promise %s", state_names[st]);
  if (st == RESOLVED) {
    sb_adds(b, ": ");
    print_value(vm, b, slots(f)[1], true);
  } else if (st == REJECTED) {
    sb_adds(b, ": ");
    print_value(vm, b, slots(f)[1], false);
  }
  sb_addc(b, '>');
}

static const ForeignClass promise_class = {.name = "async-promise", .print = promise_print, .order = 17};

#define QUEUE_CELL " async queue"

static Foreign *promise_arg(VM *vm, Value v) {
  if (!obj_is_foreign(v, &promise_class)) err_type(vm, "async-promise", v);
  return (Foreign *)as_obj(v);
}

static Value new_promise(VM *vm, int state, Value thunk, Value result) {
  Value extra = vec_new(vm, 2);
  vec_items(extra)[0] = thunk;
  vec_items(extra)[1] = result;
  return obj_foreign(vm, &promise_class, (void *)(intptr_t)state, extra);
}

static void settle(Foreign *f, int state, Value result) {
  f->ptr = (void *)(intptr_t)state;
  slots(f)[0] = NIL_VAL;
  slots(f)[1] = result;
}

static void enqueue(VM *vm, Value p) {
  /* append: queues are short, and spawn order is what the spec orders by */
  Value q = env_get(vm, QUEUE_CELL);
  if (q == UNBOUND_VAL) q = EMPTY_VAL;
  vm_push_root(vm, p);
  Value tail = list_1(vm, p);
  vm_pop_roots(vm, 1);
  if (q == EMPTY_VAL) {
    env_define(vm, QUEUE_CELL, tail);
    return;
  }
  Value last = q;
  while (is_cons(cdr(last))) last = cdr(last);
  as_cons(last)->cdr = tail;
}

static Value dequeue(VM *vm) {
  Value q = env_get(vm, QUEUE_CELL);
  if (q == UNBOUND_VAL || !is_cons(q)) return NIL_VAL;
  env_define(vm, QUEUE_CELL, cdr(q));
  return car(q);
}

/* Run a pending task to completion; its errors reject its promise. */
static void run_task(VM *vm, Value p) {
  Foreign *f = (Foreign *)as_obj(p);
  if (state_of(f) != PENDING) return;
  Value thunk = slots(f)[0];
  slots(f)[0] = NIL_VAL;
  vm_push_root(vm, p);
  Value out;
  if (vm_pcall(vm, thunk, 0, NULL, &out) == 0) {
    settle(f, RESOLVED, out);
  } else if (vm_unwinding(vm)) {
    err_rethrow(vm); /* exit or a stop from the host: not the task's error */
  } else {
    Value msg = NIL_VAL;
    if (is_anymap(vm_error(vm))) anymap_get(vm_error(vm), KW(vm, "message"), &msg);
    settle(f, REJECTED, is_string(msg) ? msg : print_to_string(vm, vm_error(vm), false));
  }
  vm_pop_roots(vm, 1);
}

void async_drain(VM *vm) {
  for (Value p; (p = dequeue(vm)) != NIL_VAL;) run_task(vm, p);
}

static Value n_spawn(VM *vm, int argc, Value *argv) {
  if (!is_procedure(argv[0])) err_type(vm, "function", argv[0]);
  Value p = new_promise(vm, PENDING, argv[0], NIL_VAL);
  enqueue(vm, p);
  return p;
}

static Value n_await(VM *vm, int argc, Value *argv) {
  Foreign *f = promise_arg(vm, argv[0]);
  vm_push_root(vm, argv[0]);
  while (state_of(f) == PENDING) {
    Value next = dequeue(vm);
    if (next == NIL_VAL) err_eval(vm, "async/await: deadlock: the awaited task can never finish");
    run_task(vm, next);
  }
  vm_pop_roots(vm, 1);
  switch (state_of(f)) {
  case RESOLVED: return slots(f)[1];
  case REJECTED: err_eval(vm, "async/await: task rejected: %s", str_data(slots(f)[1]));
  default: err_eval(vm, "async/await: task was cancelled");
  }
}

static Value n_run(VM *vm, int argc, Value *argv) {
  async_drain(vm);
  return NIL_VAL;
}

static Value n_resolved(VM *vm, int argc, Value *argv) {
  return new_promise(vm, RESOLVED, NIL_VAL, argv[0]);
}

static Value n_rejected(VM *vm, int argc, Value *argv) {
  Value msg = is_string(argv[0]) ? argv[0] : print_to_string(vm, argv[0], false);
  return new_promise(vm, REJECTED, NIL_VAL, msg);
}

static Value n_cancel(VM *vm, int argc, Value *argv) {
  Foreign *f = promise_arg(vm, argv[0]);
  if (state_of(f) != PENDING) return FALSE_VAL;
  settle(f, CANCELLED, NIL_VAL);
  return TRUE_VAL;
}

static Value state_is(VM *vm, Value p, int st) { return bool_val(state_of(promise_arg(vm, p)) == st); }
static Value n_pendingp(VM *vm, int argc, Value *argv) { return state_is(vm, argv[0], PENDING); }
static Value n_resolvedp(VM *vm, int argc, Value *argv) { return state_is(vm, argv[0], RESOLVED); }
static Value n_rejectedp(VM *vm, int argc, Value *argv) { return state_is(vm, argv[0], REJECTED); }
static Value n_cancelledp(VM *vm, int argc, Value *argv) { return state_is(vm, argv[0], CANCELLED); }

static Value n_promisep(VM *vm, int argc, Value *argv) {
  return bool_val(obj_is_foreign(argv[0], &promise_class));
}

/* (async/all promises): a list of their values, awaiting each in order */
static Value n_all(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "async/all");
  uint32_t slot = vm_root_slot(vm, argv[0]);
  ListBuilder lb;
  list_start(&lb);
  uint32_t out = vm_root_slot(vm, NIL_VAL);
  SeqIter it;
  seqiter_init(&it, ROOT(vm, slot));
  Value p;
  while (seqiter_next(&it, &p)) {
    Value v = n_await(vm, 1, &p);
    list_add(vm, &lb, v);
    ROOT(vm, out) = lb.head;
  }
  vm_pop_roots(vm, 2);
  return lb.head == NIL_VAL ? EMPTY_VAL : lb.head;
}

static const NativeDef async_defs[] = {
    {"async/spawn", n_spawn, 1, 1,
     "(async/spawn thunk)\nQueues a task that calls the zero-argument function thunk and returns its pending async "
     "promise at once; tasks run in spawn order when a promise is awaited or the unit ends."},
    {"async/await", n_await, 1, 1,
     "(async/await p)\nReturns the value of the async promise p, running queued tasks until it settles; a rejected "
     "task raises \"async/await: task rejected: MESSAGE\", a cancelled one \"async/await: task was cancelled\"."},
    {"async/run", n_run, 0, 0,
     "(async/run)\nRuns every queued task to completion; returns nil."},
    {"async/all", n_all, 1, 1,
     "(async/all ps)\nAwaits each promise of the list or vector ps in order and returns the list of their values; the"
     " first failure raises."},
    {"async/resolved", n_resolved, 1, 1,
     "(async/resolved v)\nReturns a new async promise already resolved with v."},
    {"async/rejected", n_rejected, 1, 1,
     "(async/rejected msg)\nReturns a new async promise already rejected with the message msg."},
    {"async/cancel", n_cancel, 1, 1,
     "(async/cancel p)\nCancels the pending async promise p and returns #t; returns #f when p has already settled."},
    {"async/pending?", n_pendingp, 1, 1,
     "(async/pending? p)\nReturns #t when the async promise p has not settled yet."},
    {"async/resolved?", n_resolvedp, 1, 1,
     "(async/resolved? p)\nReturns #t when the async promise p has a value."},
    {"async/rejected?", n_rejectedp, 1, 1,
     "(async/rejected? p)\nReturns #t when the task of the async promise p failed."},
    {"async/cancelled?", n_cancelledp, 1, 1,
     "(async/cancelled? p)\nReturns #t when the async promise p was cancelled."},
    {"async/promise?", n_promisep, 1, 1,
     "(async/promise? x)\nReturns #t when x is an async promise (not a delay promise)."},
    {NULL, NULL, 0, 0},
};

void lib_async_init(VM *vm) { env_register(vm, async_defs); }
