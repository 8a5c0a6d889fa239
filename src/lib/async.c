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
 *
 * Channels (async.md §6) are here too, with the behaviour the spec gives
 * code outside a task; parking a task on a full or empty channel waits for
 * the suspending scheduler (issue 19, docs/design.md "Scheduler").
 */
#include <stdlib.h>
#include <string.h>
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
  /* a closure: the VM's, or the reference evaluator's (a native flagged NATIVE_INTERP) */
  if (!is_closure(argv[0]) && !(is_native(argv[0]) && (as_obj(argv[0])->flags & NATIVE_INTERP))) err_eval(vm, "async/spawn: argument must be a function (compiled VM closure)");
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
  case REJECTED: {
    /* async.md §5: one repeated prefix is dropped, so chains of awaits do not repeat it */
    const char *m = str_data(slots(f)[1]);
    static const char *const prefixes[] = {"Eval error: async/await: task rejected: ", "async/await: task rejected: "};
    for (int i = 0; i < 2; i++)
      if (strncmp(m, prefixes[i], strlen(prefixes[i])) == 0) {
        m += strlen(prefixes[i]);
        break;
      }
    err_eval(vm, "async/await: task rejected: %s", m);
  }
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
  return new_promise(vm, REJECTED, NIL_VAL, arg_string(vm, argv[0]));
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

/* ---- channels (async.md §1.2, §6) ----
 * A FIFO ring buffer of cap values plus a closed flag, in C memory owned by
 * the Foreign object (marked by its class, freed by its finalizer).  Only
 * the non-blocking halves exist yet: a send on a full channel and a receive
 * on an empty open one raise the top-level errors of §6 everywhere, since
 * tasks cannot be parked until the scheduler of issue 19 lands. */
typedef struct {
  uint32_t cap, len, head;
  bool closed;
  Value buf[];
} Chan;

static void chan_finalize(Foreign *f) { free(f->ptr); }

static void chan_mark(VM *vm, Foreign *f) {
  Chan *c = f->ptr;
  for (uint32_t i = 0; i < c->len; i++) gc_mark_value(vm, c->buf[(c->head + i) % c->cap]);
}

static void chan_print(VM *vm, StrBuf *b, Foreign *f) {
  Chan *c = f->ptr;
  sb_addf(b, "<channel %u/%u%s>", c->len, c->cap, c->closed ? " closed" : "");
}

static const ForeignClass chan_class = {.name = "channel", .finalize = chan_finalize, .mark = chan_mark, .print = chan_print, .order = 18};

static Chan *chan_arg(VM *vm, Value v) {
  if (!obj_is_foreign(v, &chan_class)) err_type(vm, "channel", v);
  return ((Foreign *)as_obj(v))->ptr;
}

static Value chan_pop(Chan *c) {
  Value v = c->buf[c->head];
  c->buf[c->head] = NIL_VAL;
  c->head = (c->head + 1) % c->cap;
  c->len--;
  return v;
}

static Value n_chan_new(VM *vm, int argc, Value *argv) {
  int64_t cap = argc ? arg_int(vm, argv[0]) : 1;
  if (cap < 1) err_eval(vm, "channel/new: capacity must be at least 1");
  if (cap > (1 << 24)) err_eval(vm, "channel/new: capacity %lld is too large (at most %d)", (long long)cap, 1 << 24);
  Chan *c = calloc(1, sizeof(Chan) + (size_t)cap * sizeof(Value));
  if (!c) err_eval(vm, "out of memory");
  c->cap = (uint32_t)cap;
  for (uint32_t i = 0; i < c->cap; i++) c->buf[i] = NIL_VAL;
  return obj_foreign(vm, &chan_class, c, NIL_VAL);
}

static Value n_chan_send(VM *vm, int argc, Value *argv) {
  Chan *c = chan_arg(vm, argv[0]);
  if (c->closed) {
    Value s = print_to_string(vm, argv[1], true);
    err_eval(vm, "channel/send: channel is closed; value %s was dropped", str_data(s));
  }
  if (c->len >= c->cap) err_eval(vm, "channel/send: channel is full");
  c->buf[(c->head + c->len++) % c->cap] = argv[1];
  return NIL_VAL;
}

static Value n_chan_recv(VM *vm, int argc, Value *argv) {
  Chan *c = chan_arg(vm, argv[0]);
  if (c->len) return chan_pop(c);
  if (c->closed) return NIL_VAL;
  err_eval(vm, "channel/recv: channel is empty");
}

static Value n_chan_try_recv(VM *vm, int argc, Value *argv) {
  Chan *c = chan_arg(vm, argv[0]);
  return c->len ? chan_pop(c) : NIL_VAL;
}

static Value n_chan_close(VM *vm, int argc, Value *argv) {
  chan_arg(vm, argv[0])->closed = true;
  return NIL_VAL;
}

static Value n_chan_closedp(VM *vm, int argc, Value *argv) { return bool_val(chan_arg(vm, argv[0])->closed); }
static Value n_chan_emptyp(VM *vm, int argc, Value *argv) { return bool_val(chan_arg(vm, argv[0])->len == 0); }
static Value n_chan_fullp(VM *vm, int argc, Value *argv) {
  Chan *c = chan_arg(vm, argv[0]);
  return bool_val(c->len >= c->cap);
}
static Value n_chan_count(VM *vm, int argc, Value *argv) { return small_int_val(chan_arg(vm, argv[0])->len); }
static Value n_chanp(VM *vm, int argc, Value *argv) { return bool_val(obj_is_foreign(argv[0], &chan_class)); }

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
    {"channel/new", n_chan_new, 0, 1, "(channel/new [cap])\nA new open channel holding at most cap values (default 1, at least 1)."},
    {"channel/send", n_chan_send, 2, 2, "(channel/send ch v)\nAppends v to the channel's buffer and returns nil; raises when the channel is closed or full."},
    {"channel/recv", n_chan_recv, 1, 1, "(channel/recv ch)\nRemoves and returns the front value; nil when the channel is empty and closed; raises when it is empty and open."},
    {"channel/try-recv", n_chan_try_recv, 1, 1, "(channel/try-recv ch)\nRemoves and returns the front value, or nil when the buffer is empty; never raises on empty."},
    {"channel/close", n_chan_close, 1, 1, "(channel/close ch)\nCloses the channel (idempotent); buffered values stay receivable. Returns nil."},
    {"channel/closed?", n_chan_closedp, 1, 1, "(channel/closed? ch)\nTrue once the channel is closed."},
    {"channel/empty?", n_chan_emptyp, 1, 1, "(channel/empty? ch)\nTrue when the buffer holds no value."},
    {"channel/full?", n_chan_fullp, 1, 1, "(channel/full? ch)\nTrue when the buffer holds cap values."},
    {"channel/count", n_chan_count, 1, 1, "(channel/count ch)\nThe number of buffered values."},
    {"channel?", n_chanp, 1, 1, "(channel? x)\nTrue for channels."},
    {NULL, NULL, 0, 0},
};

void lib_async_init(VM *vm) { env_register(vm, async_defs); }
