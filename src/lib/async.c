/* async.c - the cooperative task scheduler: async promises, tasks, channels,
 * the virtual clock and the drivers (async.md; the parking mechanism is the
 * VM's, vm.c "TASKS").
 *
 * A task is a Task record owned by its promise (a Foreign object whose ptr
 * is the Task): the promise's state and value, the thunk, the parked VM
 * state while the task waits (VmParked), what it waits for, and its place in
 * the list.  Promises made by async/resolved and async/rejected have a Task
 * too, settled from the start and never listed.
 *
 * THE LIST (async.md §3.3) is never materialised.  Every task gets a
 * sequence key when it is appended at the end of the list, at spawn and
 * again after each step that leaves it alive (after the keys of the tasks
 * it spawned in that step, which got theirs at spawn), so list order is key
 * order.  READY tasks sit in a min-heap by key, sleepers in a heap by (wake
 * time, key); a task waiting on a promise or a channel sits in that object's
 * wait queue (WaitQ), whose entries are in key order because a task enters a
 * queue only when it yields, just before it receives the largest key.
 *
 * THE WAKE PASS examines blocked tasks in list order against the current
 * state (§3.5).  A task's condition can become true only when its object
 * changes (a channel's buffer or closed flag, a promise settling), its wake
 * time comes or its I/O finishes, so the pass visits only those: it merges,
 * by key, the due sleepers, the finished I/O and the queues of the objects
 * that changed ("dirty" queues).  For a queue it examines the first waiter;
 * if it progresses, the next one is merged in.  A waiter that cannot
 * progress stops its queue: every later waiter of the same queue waits for
 * the same condition.  When a wake changes another object during the pass
 * (a receive makes room for senders, a send feeds receivers, a failing
 * waiter rejects its promise), that object's waiters after the current key
 * join this pass and those before it are left for the next one, exactly as
 * the reference's single pass over the list would find them.  So a pass
 * costs the work it does, not the number of blocked tasks: 100,000 sleepers
 * do not make every pick O(n).
 *
 * GC: the scheduler is a Foreign object in a hidden global; its mark
 * function marks the promise of every live task (and of every task an entry
 * of a heap or a queue still names, so no entry ever dangles); a promise's
 * mark marks its task's values and parked stack (vm_parked_mark).  Finished
 * tasks are not referenced by the scheduler any more and go with their
 * promise.
 *
 * OFFLOADED I/O (§3.13): offload_run called by a task's own code submits the
 * job to a pool of worker threads and parks the task.  Workers run only
 * job->run, which touches no Sema value; a finished job goes on its
 * scheduler's completion list (under the pool mutex) and an eventfd wakes the
 * scheduler, which runs job->finish on its own thread during the wake pass.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "lib.h"
#include "offload.h"

enum { PENDING, RESOLVED, REJECTED, CANCELLED };
static const char *const state_names[] = {"pending", "resolved", "rejected", "cancelled"};
enum { T_NEW, T_READY, T_BLOCKED, T_RUNNING, T_DONE };
enum { W_NONE, W_AWAIT, W_RECV, W_SEND, W_SLEEP, W_IO };
enum { Q_AWAIT, Q_RECV, Q_SEND };

#define MAX_TICKS 1000000
#define MAX_MS 86400000

typedef struct Task Task;
typedef struct Chan Chan;

/* Waiters of one object, in key order; NULL entries were removed. */
typedef struct WaitQ {
  Task **v;
  uint32_t head, len, cap;
  uint8_t kind;
  bool dirty;
  void *owner; /* Task (Q_AWAIT) or Chan */
} WaitQ;

struct Task {
  int pstate;   /* the promise's state */
  Value result; /* resolved value or rejection message */
  int status;
  int wait;
  bool spawned;
  Value self;   /* the promise (not marked from here) */
  Value thunk;  /* until the first step */
  Value args;   /* inline task: vector of the callback's arguments, else nil */
  VmParked *parked;
  uint64_t key;
  WaitQ *wait_q;     /* the queue the task waits in */
  Value wait_obj;    /* awaited promise or channel */
  Value wait_val;    /* value of a pending send */
  int64_t wake_at;
  Value resume;      /* value the yielding call returns */
  OffloadJob *job;   /* I/O in flight */
  WaitQ awaiters;
  Task *prev, *next; /* the live tasks (not DONE, ever listed) */
};

struct Chan {
  uint32_t cap, len, head;
  bool closed;
  WaitQ recvq, sendq;
  Value buf[];
};

typedef struct {
  uint64_t a, b;
  Task *t;
  WaitQ *q;
} Entry;

typedef struct {
  Entry *v;
  uint32_t n, cap;
} EHeap;

typedef struct Sched {
  uint64_t next_key;
  int64_t now;              /* the virtual clock, ms */
  Task *live;               /* doubly linked, any order */
  uint32_t nblocked, nio;   /* BLOCKED tasks, of which waiting for I/O */
  uint64_t nrejected, nsettled; /* counters for the goals' rescans */
  EHeap ready, sleepers, cand;
  WaitQ **dirty;
  uint32_t ndirty, capdirty;
  bool in_pass;
  uint64_t pass_key;        /* the key being examined in the pass */
  Task *current;            /* the task whose step runs (innermost) */
  Task **inflight;          /* tasks with a job in flight (also cancelled ones) */
  uint32_t ninflight, capinflight;
  OffloadJob *done;         /* finished jobs (pool mutex) */
  int efd;                  /* eventfd: a job finished */
} Sched;

static void *xrealloc(VM *vm, void *p, size_t n) {
  void *q = realloc(p, n);
  if (!q) err_eval(vm, "out of memory");
  return q;
}

/* ---- heaps of entries, ordered by (a, b) ---- */

static bool e_less(const Entry *x, const Entry *y) { return x->a < y->a || (x->a == y->a && x->b < y->b); }

static void eh_push(VM *vm, EHeap *h, Entry e) {
  if (h->n == h->cap) {
    h->cap = h->cap ? h->cap * 2 : 64;
    h->v = xrealloc(vm, h->v, h->cap * sizeof(Entry));
  }
  uint32_t i = h->n++;
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (!e_less(&e, &h->v[p])) break;
    h->v[i] = h->v[p];
    i = p;
  }
  h->v[i] = e;
}

static Entry eh_pop(EHeap *h) {
  Entry top = h->v[0], last = h->v[--h->n];
  uint32_t i = 0;
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && e_less(&h->v[c + 1], &h->v[c])) c++;
    if (!e_less(&h->v[c], &last)) break;
    h->v[i] = h->v[c];
    i = c;
  }
  if (h->n) h->v[i] = last;
  return top;
}

/* ---- wait queues ---- */

static void q_init(WaitQ *q, int kind, void *owner) {
  memset(q, 0, sizeof *q);
  q->kind = (uint8_t)kind;
  q->owner = owner;
}

static bool q_valid(WaitQ *q, Task *t) { return t && t->status == T_BLOCKED && t->wait_q == q; }

static void q_append(VM *vm, WaitQ *q, Task *t) {
  if (q->head > 0 && q->head == q->len) q->head = q->len = 0;
  if (q->len == q->cap) {
    if (q->head > q->cap / 2) { /* compact */
      memmove(q->v, q->v + q->head, (q->len - q->head) * sizeof(Task *));
      q->len -= q->head;
      q->head = 0;
    } else {
      q->cap = q->cap ? q->cap * 2 : 4;
      q->v = xrealloc(vm, q->v, q->cap * sizeof(Task *));
    }
  }
  q->v[q->len++] = t;
}

/* The position of the first valid waiter with key >= min, or -1; drops
 * invalid entries at the front.  *earlier: some valid waiter has a smaller key. */
static int64_t q_first_from(WaitQ *q, uint64_t min, bool *earlier) {
  while (q->head < q->len && !q_valid(q, q->v[q->head])) q->head++;
  *earlier = false;
  for (uint32_t i = q->head; i < q->len; i++) {
    Task *t = q->v[i];
    if (!q_valid(q, t)) {
      q->v[i] = NULL;
      continue;
    }
    if (t->key >= min) return i;
    *earlier = true;
  }
  return -1;
}


static void q_mark(VM *vm, WaitQ *q) {
  for (uint32_t i = q->head; i < q->len; i++)
    if (q->v[i]) gc_mark_value(vm, q->v[i]->self);
}

/* ---- the scheduler object ---- */

static void sched_mark(VM *vm, Foreign *f) {
  Sched *s = f->ptr;
  for (Task *t = s->live; t; t = t->next) gc_mark_value(vm, t->self);
  EHeap *hs[] = {&s->ready, &s->sleepers, &s->cand};
  for (int k = 0; k < 3; k++)
    for (uint32_t i = 0; i < hs[k]->n; i++)
      if (hs[k]->v[i].t) gc_mark_value(vm, hs[k]->v[i].t->self);
  for (uint32_t i = 0; i < s->ninflight; i++) gc_mark_value(vm, s->inflight[i]->self);
  if (s->current) gc_mark_value(vm, s->current->self);
}

static void pool_orphan(Sched *s);

static void sched_finalize(Foreign *f) {
  Sched *s = f->ptr;
  pool_orphan(s);
  free(s->ready.v);
  free(s->sleepers.v);
  free(s->cand.v);
  free(s->dirty);
  free(s->inflight);
  if (s->efd >= 0) close(s->efd);
  free(s);
}

static const ForeignClass sched_class = {.name = "async-scheduler", .finalize = sched_finalize, .mark = sched_mark};

#define SCHED_CELL " async scheduler"

static Sched *sched_of(VM *vm) {
  Value c = env_get(vm, SCHED_CELL);
  if (c != UNBOUND_VAL) return ((Foreign *)as_obj(c))->ptr;
  Sched *s = calloc(1, sizeof(Sched));
  if (!s) err_eval(vm, "out of memory");
  s->efd = -1;
  s->next_key = 1;
  env_define(vm, SCHED_CELL, obj_foreign(vm, &sched_class, s, NIL_VAL));
  return s;
}

/* ---- promises ---- */

static void promise_print(VM *vm, StrBuf *b, Foreign *f) {
  Task *t = f->ptr;
  sb_addf(b, "<async-promise %s", state_names[t->pstate]);
  if (t->pstate == RESOLVED) {
    sb_adds(b, ": ");
    print_value(vm, b, t->result, true);
  } else if (t->pstate == REJECTED) {
    sb_adds(b, ": ");
    print_value(vm, b, t->result, false);
  }
  sb_addc(b, '>');
}

static void promise_mark(VM *vm, Foreign *f) {
  Task *t = f->ptr;
  gc_mark_value(vm, t->result);
  gc_mark_value(vm, t->thunk);
  gc_mark_value(vm, t->args);
  gc_mark_value(vm, t->wait_obj);
  gc_mark_value(vm, t->wait_val);
  gc_mark_value(vm, t->resume);
  if (t->parked) vm_parked_mark(vm, t->parked);
  q_mark(vm, &t->awaiters);
}

static void promise_finalize(Foreign *f) {
  Task *t = f->ptr;
  if (t->parked) vm_parked_free(t->parked);
  free(t->awaiters.v);
  free(t);
}

static const ForeignClass promise_class = {
    .name = "async-promise", .print = promise_print, .mark = promise_mark, .finalize = promise_finalize, .order = 17};

static Task *promise_arg(VM *vm, Value v) {
  if (!obj_is_foreign(v, &promise_class)) err_type(vm, "async-promise", v);
  return ((Foreign *)as_obj(v))->ptr;
}

static Task *new_task(VM *vm, int pstate, Value result) {
  Task *t = calloc(1, sizeof(Task));
  if (!t) err_eval(vm, "out of memory");
  t->pstate = pstate;
  t->result = result;
  t->status = T_DONE;
  t->thunk = t->args = t->wait_obj = t->wait_val = t->resume = NIL_VAL;
  q_init(&t->awaiters, Q_AWAIT, t);
  vm_push_root(vm, result);
  t->self = obj_foreign(vm, &promise_class, t, NIL_VAL);
  vm_pop_roots(vm, 1);
  return t;
}

/* ---- state changes ---- */

static void push_queue(VM *vm, Sched *s, WaitQ *q, uint64_t min);

static void mark_dirty(VM *vm, Sched *s, WaitQ *q) {
  if (q->dirty) return;
  q->dirty = true;
  if (s->ndirty == s->capdirty) {
    s->capdirty = s->capdirty ? s->capdirty * 2 : 16;
    s->dirty = xrealloc(vm, s->dirty, s->capdirty * sizeof(WaitQ *));
  }
  s->dirty[s->ndirty++] = q;
}

/* The state of q's object changed: its waiters may progress. */
static void notify(VM *vm, Sched *s, WaitQ *q) {
  if (q->head >= q->len) return;
  if (s->in_pass)
    push_queue(vm, s, q, s->pass_key + 1);
  else
    mark_dirty(vm, s, q);
}

static void live_add(Sched *s, Task *t) {
  t->prev = NULL;
  t->next = s->live;
  if (s->live) s->live->prev = t;
  s->live = t;
}

static void live_remove(Sched *s, Task *t) {
  if (t->prev)
    t->prev->next = t->next;
  else if (s->live == t)
    s->live = t->next;
  if (t->next) t->next->prev = t->prev;
  t->prev = t->next = NULL;
}

static void leave_blocked(Sched *s, Task *t) {
  if (t->status != T_BLOCKED) return;
  s->nblocked--;
  if (t->wait == W_IO) s->nio--;
}

/* The task ends: its promise settles, the tasks awaiting it may go on. */
static void finish_task(VM *vm, Sched *s, Task *t, int pstate, Value result) {
  leave_blocked(s, t);
  if (t->status != T_DONE && t->status != T_NEW) live_remove(s, t);
  t->status = T_DONE;
  t->pstate = pstate;
  t->result = result;
  t->thunk = t->args = t->wait_obj = t->wait_val = t->resume = NIL_VAL;
  t->wait_q = NULL;
  if (t->parked) {
    vm_parked_free(t->parked);
    t->parked = NULL;
  }
  s->nsettled++;
  if (pstate == REJECTED) s->nrejected++;
  notify(vm, s, &t->awaiters);
}

static void make_ready(VM *vm, Sched *s, Task *t, Value v) {
  leave_blocked(s, t);
  t->status = T_READY;
  t->wait = W_NONE;
  t->wait_q = NULL;
  t->wait_obj = t->wait_val = NIL_VAL;
  t->resume = v;
  eh_push(vm, &s->ready, (Entry){t->key, 0, t, NULL});
}

static void fail_task(VM *vm, Sched *s, Task *t, Value msg) {
  if (t->job) atomic_store(&t->job->cancelled, 1);
  finish_task(vm, s, t, REJECTED, msg);
}

/* Cancel P's task and, transitively, the task it awaits (§3.8). */
static bool cancel_tree(VM *vm, Sched *s, Task *p) {
  bool any = false;
  while (p && p->spawned && p->pstate == PENDING && p->status != T_RUNNING) {
    Task *next = NULL;
    if (p->status == T_BLOCKED && p->wait == W_AWAIT) next = ((Foreign *)as_obj(p->wait_obj))->ptr;
    if (p->job) atomic_store(&p->job->cancelled, 1);
    finish_task(vm, s, p, CANCELLED, NIL_VAL);
    any = true;
    p = next;
  }
  return any;
}

/* ---- the wake pass (§3.5) ---- */

static void push_queue(VM *vm, Sched *s, WaitQ *q, uint64_t min) {
  bool earlier;
  int64_t i = q_first_from(q, min, &earlier);
  if (earlier) mark_dirty(vm, s, q);
  if (i >= 0) eh_push(vm, &s->cand, (Entry){q->v[i]->key, 1, NULL, q});
}

static Value chan_pop(Chan *c) {
  Value v = c->buf[c->head];
  c->buf[c->head] = NIL_VAL;
  c->head = (c->head + 1) % c->cap;
  c->len--;
  return v;
}

static void chan_push(Chan *c, Value v) { c->buf[(c->head + c->len++) % c->cap] = v; }

/* Examine waiter t of q (§3.5): true when it no longer waits. */
static bool examine(VM *vm, Sched *s, Task *t, WaitQ *q) {
  switch (q->kind) {
  case Q_AWAIT: {
    Task *p = q->owner;
    if (p->pstate == PENDING) return false;
    if (p->pstate == RESOLVED)
      make_ready(vm, s, t, p->result);
    else if (p->pstate == REJECTED)
      fail_task(vm, s, t, p->result);
    else
      fail_task(vm, s, t, str_from_c(vm, "awaited task was cancelled"));
    return true;
  }
  case Q_RECV: {
    Chan *c = q->owner;
    if (c->len) {
      make_ready(vm, s, t, chan_pop(c));
      notify(vm, s, &c->sendq);
      return true;
    }
    if (c->closed) {
      make_ready(vm, s, t, NIL_VAL);
      return true;
    }
    return false;
  }
  default: { /* Q_SEND */
    Chan *c = q->owner;
    if (c->closed) {
      Value shown = print_to_string(vm, t->wait_val, true);
      StrBuf b;
      sb_init(&b);
      sb_addf(&b, "channel/send: closed while sending %s; value dropped (send was pending)", str_data(shown));
      fail_task(vm, s, t, sb_to_string(vm, &b));
      return true;
    }
    if (c->len < c->cap) {
      chan_push(c, t->wait_val);
      make_ready(vm, s, t, NIL_VAL);
      notify(vm, s, &c->recvq);
      return true;
    }
    return false;
  }
  }
}

static void pool_collect(VM *vm, Sched *s);

/* The :message of an error map (the raw text, without the kind's prefix). */
static Value err_message(VM *vm, Value err) {
  Value msg = NIL_VAL;
  if (is_anymap(err)) anymap_get(err, KW(vm, "message"), &msg);
  return is_string(msg) ? msg : err_display(vm, err);
}

static void wake_pass(VM *vm, Sched *s) {
  EHeap *cand = &s->cand;
  cand->n = 0;
  while (s->sleepers.n && (int64_t)s->sleepers.v[0].a <= s->now) {
    Entry e = eh_pop(&s->sleepers);
    Task *t = e.t;
    if (t->status == T_BLOCKED && t->wait == W_SLEEP && t->key == e.b) eh_push(vm, cand, (Entry){t->key, 0, t, NULL});
  }
  if (s->nio) pool_collect(vm, s);
  uint32_t nd = s->ndirty;
  s->ndirty = 0;
  s->in_pass = true;
  s->pass_key = 0;
  for (uint32_t i = 0; i < nd; i++) {
    WaitQ *q = s->dirty[i];
    q->dirty = false;
    push_queue(vm, s, q, 0);
  }
  while (cand->n) {
    Entry e = eh_pop(cand);
    s->pass_key = e.a;
    if (!e.q) { /* a due sleeper or finished I/O */
      Task *t = e.t;
      if (t->status != T_BLOCKED) continue;
      if (t->wait == W_SLEEP) {
        make_ready(vm, s, t, NIL_VAL);
      } else if (t->wait == W_IO) {
        /* finish runs here, on the scheduler thread; its error fails the task with the raw message */
        OffloadJob *job = t->job;
        t->job = NULL;
        Value out = NIL_VAL;
        int failed = offload_finish(vm, job, &out);
        if (!failed)
          make_ready(vm, s, t, out);
        else if (vm_unwinding(vm))
          err_rethrow(vm);
        else
          fail_task(vm, s, t, err_message(vm, vm_error(vm)));
      }
      continue;
    }
    bool earlier;
    int64_t i = q_first_from(e.q, e.a, &earlier);
    if (i < 0 || e.q->v[i]->key != e.a) continue; /* gone since it was merged in */
    Task *t = e.q->v[i];
    if (examine(vm, s, t, e.q)) {
      e.q->v[i] = NULL;
      push_queue(vm, s, e.q, e.a + 1);
    }
  }
  s->in_pass = false;
}

/* ---- steps ---- */

typedef struct {
  Task *t;
  Value out;
  VmParked *parked;
} Step;

static void step_body(VM *vm, void *ud) {
  Step *st = ud;
  Task *t = st->t;
  if (t->parked) {
    VmParked *p = t->parked;
    t->parked = NULL;
    Value rv = t->resume;
    t->resume = NIL_VAL;
    st->parked = vm_task_run(vm, NIL_VAL, 0, NULL, p, rv, &st->out);
    return;
  }
  Value fn = t->thunk;
  t->thunk = NIL_VAL;
  vm_push_root(vm, fn);
  Value args = t->args;
  vm_push_root(vm, args);
  int argc = 0;
  Value nils[8] = {NIL_VAL, NIL_VAL, NIL_VAL, NIL_VAL, NIL_VAL, NIL_VAL, NIL_VAL, NIL_VAL};
  const Value *argv = nils;
  if (is_vector(args)) {
    argc = (int)vec_len(args);
    argv = vec_items(args);
  } else if (is_closure(fn)) {
    /* async.md §5: the thunk's parameter count is not checked; parameters are nil */
    int n = as_closure(fn)->proto->nparams;
    argc = n > 8 ? 8 : n;
  }
  st->parked = vm_task_run(vm, fn, argc, argv, NULL, NIL_VAL, &st->out);
  vm_pop_roots(vm, 2);
}

static void run_step(VM *vm, Sched *s, Task *t) {
  Task *prev = s->current;
  s->current = t;
  t->status = T_RUNNING;
  Step st = {t, NIL_VAL, NULL};
  int failed = vm_protect(vm, step_body, &st);
  s->current = prev;
  if (failed) {
    if (vm_unwinding(vm)) {
      if (t->pstate == PENDING) finish_task(vm, s, t, CANCELLED, NIL_VAL);
      err_rethrow(vm);
    }
    if (t->pstate == PENDING) finish_task(vm, s, t, REJECTED, err_display(vm, vm_error(vm)));
    return;
  }
  if (!st.parked) {
    if (t->pstate == PENDING) finish_task(vm, s, t, RESOLVED, st.out);
    return;
  }
  if (t->pstate != PENDING) { /* cancelled while it ran */
    vm_parked_free(st.parked);
    return;
  }
  t->parked = st.parked;
  t->status = T_BLOCKED;
  t->key = s->next_key++;
  s->nblocked++;
  if (t->wait == W_IO) s->nio++;
  if (t->wait == W_SLEEP) eh_push(vm, &s->sleepers, (Entry){(uint64_t)t->wake_at, t->key, t, NULL});
}

/* ---- drivers (§3.3) ---- */

enum { G_ALL, G_ONE, G_ALL_OF, G_ANY_OF };
enum { COMPLETE, TIMED_OUT };

typedef struct {
  int kind;
  Task *one;
  Task **ps; /* ALL_OF / ANY_OF */
  uint32_t nps, cursor;
  uint64_t seen; /* s->nrejected or s->nsettled at the last full scan */
  bool met;
} Goal;

static bool satisfied(Sched *s, Goal *g) {
  switch (g->kind) {
  case G_ALL: return false;
  case G_ONE: return g->one->pstate != PENDING;
  case G_ALL_OF:
    if (g->met) return true;
    while (g->cursor < g->nps && g->ps[g->cursor]->pstate != PENDING) {
      if (g->ps[g->cursor]->pstate == REJECTED) return g->met = true;
      g->cursor++;
    }
    if (g->cursor == g->nps) return g->met = true;
    if (s->nrejected != g->seen) { /* some promise was rejected since: is it one of ours? */
      g->seen = s->nrejected;
      for (uint32_t i = g->cursor; i < g->nps; i++)
        if (g->ps[i]->pstate == REJECTED) return g->met = true;
    }
    return false;
  default: /* ANY_OF */
    if (g->met) return true;
    if (s->nsettled == g->seen) return false;
    g->seen = s->nsettled;
    for (uint32_t i = 0; i < g->nps; i++)
      if (g->ps[i]->pstate != PENDING) return g->met = true;
    return false;
  }
}

static Task *pop_ready(Sched *s) {
  while (s->ready.n) {
    Entry e = eh_pop(&s->ready);
    if (e.t->status == T_READY && e.t->key == e.a) return e.t;
  }
  return NULL;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(VM *vm, int64_t ms) {
  if (ms <= 0) return;
  vm_flush(vm);
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) vm_safepoint(vm);
}

static void pool_wait(Sched *s, int64_t ms);

static int run(VM *vm, Sched *s, Goal *g, bool timed, int64_t ms, Task *target) {
  int64_t deadline = timed ? s->now + ms : 0;
  for (uint32_t tick = 0; tick < MAX_TICKS; tick++) {
    if (satisfied(s, g)) return COMPLETE;
    wake_pass(vm, s);
    if (satisfied(s, g)) return COMPLETE;
    Task *t = pop_ready(s);
    if (!t) {
      if (s->nblocked == 0) return COMPLETE;
      int64_t next = -1;
      if (s->sleepers.n) next = (int64_t)s->sleepers.v[0].a;
      if (timed && (next < 0 || deadline < next)) next = deadline;
      if (s->nio) {
        int64_t slice = next < 0 ? 50 : next - s->now;
        if (slice < 1) slice = 1;
        if (slice > 50) slice = 50;
        int64_t t0 = mono_ms();
        vm_flush(vm);
        pool_wait(s, slice);
        int64_t el = mono_ms() - t0;
        s->now += el < 1 ? 1 : el;
      } else {
        if (next < 0) err_eval(vm, "async scheduler: all tasks blocked (deadlock detected)");
        sleep_ms(vm, next - s->now);
        if (next > s->now) s->now = next;
      }
      if (timed && s->now >= deadline) {
        cancel_tree(vm, s, target);
        return TIMED_OUT;
      }
      vm_safepoint(vm);
      continue;
    }
    run_step(vm, s, t);
  }
  err_eval(vm, "async scheduler: exceeded maximum ticks (possible infinite loop)");
}

static int run_one(VM *vm, Sched *s, Task *p) {
  Goal g = {.kind = G_ONE, .one = p};
  return run(vm, s, &g, false, 0, NULL);
}

/* ---- spawning ---- */

static Task *spawn(VM *vm, Sched *s, Value fn, Value args) {
  vm_push_root(vm, fn);
  vm_push_root(vm, args);
  Task *t = new_task(vm, PENDING, NIL_VAL);
  vm_pop_roots(vm, 2);
  t->spawned = true;
  t->thunk = fn;
  t->args = args;
  t->key = s->next_key++;
  t->status = T_READY;
  live_add(s, t);
  eh_push(vm, &s->ready, (Entry){t->key, 0, t, NULL});
  return t;
}

static Value n_spawn(VM *vm, int argc, Value *argv) {
  /* a closure: the VM's, or the reference evaluator's (a native flagged NATIVE_INTERP) */
  if (!is_closure(argv[0]) && !(is_native(argv[0]) && (as_obj(argv[0])->flags & NATIVE_INTERP)))
    err_eval(vm, "async/spawn: argument must be a function (compiled VM closure)");
  return spawn(vm, sched_of(vm), argv[0], NIL_VAL)->self;
}

/* A callback of a native while a task runs (§3.11): an inline task. */
Value async_task_call(VM *vm, Value fn, int argc, const Value *argv) {
  Sched *s = sched_of(vm);
  Value args = vec_new(vm, (uint32_t)argc);
  memcpy(vec_items(args), argv, (size_t)argc * sizeof(Value));
  Task *t = spawn(vm, s, fn, args);
  vm_push_root(vm, t->self);
  run_one(vm, s, t);
  vm_pop_roots(vm, 1);
  switch (t->pstate) {
  case RESOLVED: return t->result;
  case REJECTED: err_eval(vm, "%s", str_data(t->result));
  case CANCELLED: err_eval(vm, "awaited task was cancelled");
  default: err_eval(vm, "async/await: still pending after scheduler run");
  }
}

static const char yield_in_native[] =
    "yielding native passed directly to a higher-order function \xe2\x80\x94 wrap it in a lambda so the yield can "
    "suspend cleanly. For example, `(map (fn (x) (channel/recv x)) ...)` instead of `(map channel/recv ...)`.";

/* The running task parks until woken for REASON on Q (or the clock). */
static NORETURN void park(VM *vm, Sched *s, int reason, WaitQ *q, Value obj) {
  Task *t = s->current;
  t->wait = reason;
  t->wait_obj = obj;
  t->wait_q = q;
  if (q) q_append(vm, q, t);
  vm_task_yield(vm);
}

/* ---- promise procedures (§5) ---- */

static Value settled_value(VM *vm, Task *p, const char *fname) {
  switch (p->pstate) {
  case RESOLVED: return p->result;
  case REJECTED: {
    const char *m = str_data(p->result);
    if (strcmp(fname, "async/await") == 0) {
      /* one repeated prefix is dropped, so chains of awaits do not repeat it */
      static const char *const prefixes[] = {"Eval error: async/await: task rejected: ", "async/await: task rejected: "};
      for (int i = 0; i < 2; i++)
        if (strncmp(m, prefixes[i], strlen(prefixes[i])) == 0) {
          m += strlen(prefixes[i]);
          break;
        }
    }
    err_eval(vm, "%s: task rejected: %s", fname, m);
  }
  case CANCELLED:
    err_hint(vm, "the task was cancelled via async/cancel");
    err_eval(vm, "%s: task was cancelled", fname);
  default: err_eval(vm, "%s: task still pending", fname);
  }
}

static Value n_await(VM *vm, int argc, Value *argv) {
  Task *p = promise_arg(vm, argv[0]);
  if (p->pstate == PENDING) {
    Sched *s = sched_of(vm);
    switch (vm_task_state(vm)) {
    case VM_TASK_PARKABLE: park(vm, s, W_AWAIT, &p->awaiters, argv[0]);
    case VM_TASK_IN_NATIVE: err_eval(vm, "%s", yield_in_native);
    default:
      vm_push_root(vm, argv[0]);
      run_one(vm, s, p);
      vm_pop_roots(vm, 1);
      if (p->pstate == PENDING) err_eval(vm, "async/await: still pending after scheduler run");
    }
  }
  return settled_value(vm, p, "async/await");
}

static Value n_run(VM *vm, int argc, Value *argv) {
  Goal g = {.kind = G_ALL};
  run(vm, sched_of(vm), &g, false, 0, NULL);
  return NIL_VAL;
}

/* Check a list or vector of promises and gather their tasks (freed by the caller). */
static Task **promise_seq(VM *vm, Value seq, const char *fname, uint32_t *n) {
  if (!is_list(seq) && !is_vector(seq)) {
    err_hint(vm, "%s expects a list or vector of promises", fname);
    err_type(vm, "list or vector", seq);
  }
  uint32_t cap = 0, len = 0;
  Task **ps = NULL;
  SeqIter it;
  seqiter_init(&it, seq);
  Value v;
  while (seqiter_next(&it, &v)) {
    if (!obj_is_foreign(v, &promise_class)) {
      free(ps);
      err_type(vm, "async-promise", v);
    }
    if (len == cap) {
      cap = cap ? cap * 2 : 8;
      Task **np = realloc(ps, cap * sizeof(Task *));
      if (!np) {
        free(ps);
        err_eval(vm, "out of memory");
      }
      ps = np;
    }
    ps[len++] = ((Foreign *)as_obj(v))->ptr;
  }
  *n = len;
  return ps;
}

/* A driver over a C array of tasks: frees it on the way out, also on error. */
typedef struct {
  Sched *s;
  Goal g;
} Drive;

static void drive_body(VM *vm, void *ud) {
  Drive *d = ud;
  run(vm, d->s, &d->g, false, 0, NULL);
}

static void drive(VM *vm, Sched *s, int kind, Task **ps, uint32_t n) {
  Drive d = {s, {.kind = kind, .ps = ps, .nps = n}};
  if (kind == G_ANY_OF) d.g.seen = s->nsettled - 1; /* scan once at the start */
  if (kind == G_ALL_OF) d.g.seen = s->nrejected - 1;
  int failed = vm_protect(vm, drive_body, &d);
  if (failed) {
    free(ps);
    err_rethrow(vm);
  }
}

static Value n_all(VM *vm, int argc, Value *argv) {
  uint32_t n;
  Task **ps = promise_seq(vm, argv[0], "async/all", &n);
  vm_push_root(vm, argv[0]);
  Sched *s = sched_of(vm);
  drive(vm, s, G_ALL_OF, ps, n);
  for (uint32_t i = 0; i < n; i++)
    if (ps[i]->pstate != RESOLVED) {
      Task *p = ps[i];
      free(ps);
      settled_value(vm, p, "async/all");
    }
  ListBuilder lb;
  list_start(&lb);
  uint32_t out = vm_root_slot(vm, NIL_VAL);
  for (uint32_t i = 0; i < n; i++) {
    list_add(vm, &lb, ps[i]->result);
    ROOT(vm, out) = lb.head;
  }
  free(ps);
  vm_pop_roots(vm, 2);
  return lb.head == NIL_VAL ? EMPTY_VAL : lb.head;
}

static Value n_race(VM *vm, int argc, Value *argv) {
  if (argv[0] == EMPTY_VAL || (is_vector(argv[0]) && vec_len(argv[0]) == 0))
    err_eval(vm, "async/race: requires at least one promise");
  uint32_t n;
  Task **ps = promise_seq(vm, argv[0], "async/race", &n);
  vm_push_root(vm, argv[0]);
  for (uint32_t i = 0; i < n; i++)
    if (ps[i]->pstate == RESOLVED) {
      Value v = ps[i]->result;
      free(ps);
      vm_pop_roots(vm, 1);
      return v;
    }
  drive(vm, sched_of(vm), G_ANY_OF, ps, n);
  Task *rej = NULL;
  for (uint32_t i = 0; i < n; i++) {
    if (ps[i]->pstate == RESOLVED) {
      Value v = ps[i]->result;
      free(ps);
      vm_pop_roots(vm, 1);
      return v;
    }
    if (ps[i]->pstate == REJECTED && !rej) rej = ps[i];
  }
  free(ps);
  if (rej) err_eval(vm, "async/race: task rejected: %s", str_data(rej->result));
  err_eval(vm, "async/race: no promise resolved");
}

static int64_t duration_arg(VM *vm, Value v, const char *fname) {
  int64_t ms = arg_int(vm, v);
  if (ms < 0) err_eval(vm, "%s: duration must be non-negative", fname);
  if (ms > MAX_MS) err_eval(vm, "%s: duration %lld ms exceeds maximum %d ms (1 day)", fname, (long long)ms, MAX_MS);
  return ms;
}

static Value n_timeout(VM *vm, int argc, Value *argv) {
  int64_t ms = duration_arg(vm, argv[0], "async/timeout");
  Task *p = promise_arg(vm, argv[1]);
  if (p->pstate == PENDING) {
    Sched *s = sched_of(vm);
    vm_push_root(vm, argv[1]);
    Goal g = {.kind = G_ONE, .one = p};
    int r = run(vm, s, &g, true, ms, p);
    vm_pop_roots(vm, 1);
    if (r == TIMED_OUT) err_eval(vm, "async/timeout: operation timed out");
  }
  return settled_value(vm, p, "async/timeout");
}

static Value n_sleep(VM *vm, int argc, Value *argv) {
  int64_t ms = duration_arg(vm, argv[0], "async/sleep");
  switch (vm_task_state(vm)) {
  case VM_TASK_PARKABLE: {
    Sched *s = sched_of(vm);
    s->current->wake_at = s->now + ms;
    park(vm, s, W_SLEEP, NULL, NIL_VAL);
  }
  case VM_TASK_IN_NATIVE: err_eval(vm, "%s", yield_in_native);
  default: sleep_ms(vm, ms); return NIL_VAL;
  }
}

static Value n_resolved(VM *vm, int argc, Value *argv) { return new_task(vm, RESOLVED, argv[0])->self; }

static Value n_rejected(VM *vm, int argc, Value *argv) {
  return new_task(vm, REJECTED, arg_string(vm, argv[0]))->self;
}

static Value n_cancel(VM *vm, int argc, Value *argv) {
  Task *p = promise_arg(vm, argv[0]);
  return bool_val(cancel_tree(vm, sched_of(vm), p));
}

static Value state_is(VM *vm, Value p, int st) { return bool_val(promise_arg(vm, p)->pstate == st); }
static Value n_pendingp(VM *vm, int argc, Value *argv) { return state_is(vm, argv[0], PENDING); }
static Value n_resolvedp(VM *vm, int argc, Value *argv) { return state_is(vm, argv[0], RESOLVED); }
static Value n_rejectedp(VM *vm, int argc, Value *argv) { return state_is(vm, argv[0], REJECTED); }
static Value n_cancelledp(VM *vm, int argc, Value *argv) { return state_is(vm, argv[0], CANCELLED); }
static Value n_promisep(VM *vm, int argc, Value *argv) { return bool_val(obj_is_foreign(argv[0], &promise_class)); }

/* The end-of-unit drain (§3.15): run(ALL); its errors only warn. */
static void drain_body(VM *vm, void *ud) {
  Goal g = {.kind = G_ALL};
  run(vm, ud, &g, false, 0, NULL);
}

void async_drain(VM *vm) {
  Value c = env_get(vm, SCHED_CELL);
  if (c == UNBOUND_VAL) return; /* no task was ever spawned */
  Sched *s = ((Foreign *)as_obj(c))->ptr;
  if (!s->live) return;
  if (vm_protect(vm, drain_body, s) == 0) return;
  if (vm_unwinding(vm)) err_rethrow(vm);
  Value d = err_display(vm, vm_error(vm));
  vm_flush(vm);
  vm_write_err(vm, "warning: background task error: ", 32);
  vm_write_err(vm, str_data(d), str_len(d));
  vm_write_err(vm, "\n", 1);
}

/* ---- channels (§1.2, §6) ---- */

static void chan_finalize(Foreign *f) {
  Chan *c = f->ptr;
  free(c->recvq.v);
  free(c->sendq.v);
  free(c);
}

static void chan_mark(VM *vm, Foreign *f) {
  Chan *c = f->ptr;
  for (uint32_t i = 0; i < c->len; i++) gc_mark_value(vm, c->buf[(c->head + i) % c->cap]);
  q_mark(vm, &c->recvq);
  q_mark(vm, &c->sendq);
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

static Value n_chan_new(VM *vm, int argc, Value *argv) {
  int64_t cap = argc ? arg_int(vm, argv[0]) : 1;
  if (cap < 1) err_eval(vm, "channel/new: capacity must be at least 1");
  if (cap > (1 << 24)) err_eval(vm, "channel/new: capacity %lld is too large (at most %d)", (long long)cap, 1 << 24);
  Chan *c = calloc(1, sizeof(Chan) + (size_t)cap * sizeof(Value));
  if (!c) err_eval(vm, "out of memory");
  c->cap = (uint32_t)cap;
  for (uint32_t i = 0; i < c->cap; i++) c->buf[i] = NIL_VAL;
  q_init(&c->recvq, Q_RECV, c);
  q_init(&c->sendq, Q_SEND, c);
  return obj_foreign(vm, &chan_class, c, NIL_VAL);
}

static Value n_chan_send(VM *vm, int argc, Value *argv) {
  Chan *c = chan_arg(vm, argv[0]);
  if (c->closed) {
    Value s = print_to_string(vm, argv[1], true);
    err_eval(vm, "channel/send: channel is closed; value %s was dropped", str_data(s));
  }
  if (c->len < c->cap) {
    chan_push(c, argv[1]);
    if (c->recvq.head < c->recvq.len) notify(vm, sched_of(vm), &c->recvq);
    return NIL_VAL;
  }
  switch (vm_task_state(vm)) {
  case VM_TASK_PARKABLE: {
    Sched *s = sched_of(vm);
    s->current->wait_val = argv[1];
    park(vm, s, W_SEND, &c->sendq, argv[0]);
  }
  case VM_TASK_IN_NATIVE: err_eval(vm, "%s", yield_in_native);
  default: err_eval(vm, "channel/send: channel is full");
  }
}

static Value n_chan_recv(VM *vm, int argc, Value *argv) {
  Chan *c = chan_arg(vm, argv[0]);
  if (c->len) {
    Value v = chan_pop(c);
    if (c->sendq.head < c->sendq.len) notify(vm, sched_of(vm), &c->sendq);
    return v;
  }
  if (c->closed) return NIL_VAL;
  switch (vm_task_state(vm)) {
  case VM_TASK_PARKABLE: park(vm, sched_of(vm), W_RECV, &c->recvq, argv[0]);
  case VM_TASK_IN_NATIVE: err_eval(vm, "%s", yield_in_native);
  default: err_eval(vm, "channel/recv: channel is empty");
  }
}

static Value n_chan_try_recv(VM *vm, int argc, Value *argv) {
  Chan *c = chan_arg(vm, argv[0]);
  if (!c->len) return NIL_VAL;
  Value v = chan_pop(c);
  if (c->sendq.head < c->sendq.len) notify(vm, sched_of(vm), &c->sendq);
  return v;
}

static Value n_chan_close(VM *vm, int argc, Value *argv) {
  Chan *c = chan_arg(vm, argv[0]);
  if (!c->closed) {
    c->closed = true;
    if (c->recvq.head < c->recvq.len || c->sendq.head < c->sendq.len) {
      Sched *s = sched_of(vm);
      notify(vm, s, &c->recvq);
      notify(vm, s, &c->sendq);
    }
  }
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

/* ---- the worker pool (§3.13) ----
 * Process-wide: up to POOL_MAX threads, started when a job finds every
 * worker busy.  The queue and every scheduler's completion list are under
 * one mutex.  A job remembers its scheduler; a scheduler that goes away
 * (its VM freed) orphans its jobs, which the worker then destroys itself. */

#define POOL_MAX 16

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static OffloadJob *pool_head, *pool_tail;
static int pool_threads, pool_idle;

static void *pool_worker(void *arg) {
  (void)arg;
  pthread_mutex_lock(&pool_mu);
  for (;;) {
    while (!pool_head) {
      pool_idle++;
      pthread_cond_wait(&pool_cv, &pool_mu);
      pool_idle--;
    }
    OffloadJob *job = pool_head;
    pool_head = job->next;
    if (!pool_head) pool_tail = NULL;
    pthread_mutex_unlock(&pool_mu);
    job->run(job);
    pthread_mutex_lock(&pool_mu);
    Sched *s = job->sched;
    if (!s) {
      pthread_mutex_unlock(&pool_mu);
      job->destroy(job);
      pthread_mutex_lock(&pool_mu);
      continue;
    }
    job->next = s->done;
    s->done = job;
    uint64_t one = 1;
    if (write(s->efd, &one, sizeof one) < 0) { /* the counter cannot overflow here; a failure only delays the wake-up */
    }
  }
  return NULL;
}

static bool pool_submit(Sched *s, OffloadJob *job) {
  pthread_mutex_lock(&pool_mu);
  job->sched = s;
  job->next = NULL;
  if (pool_tail)
    pool_tail->next = job;
  else
    pool_head = job;
  pool_tail = job;
  bool ok = true;
  if (pool_idle == 0 && pool_threads < POOL_MAX) {
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &at, pool_worker, NULL) == 0)
      pool_threads++;
    else if (pool_threads == 0)
      ok = false;
    pthread_attr_destroy(&at);
  }
  if (!ok) { /* no worker at all: take the job back */
    pool_head = pool_tail = NULL;
  } else {
    pthread_cond_signal(&pool_cv);
  }
  pthread_mutex_unlock(&pool_mu);
  return ok;
}

static void pool_wait(Sched *s, int64_t ms) {
  struct pollfd pf = {.fd = s->efd, .events = POLLIN};
  if (poll(&pf, 1, (int)ms) > 0) {
    uint64_t n;
    if (read(s->efd, &n, sizeof n) < 0) { /* nothing to read: another wake-up took it */
    }
  }
}

/* Finished jobs: their tasks join the wake pass as candidates. */
static void pool_collect(VM *vm, Sched *s) {
  pthread_mutex_lock(&pool_mu);
  OffloadJob *done = s->done;
  s->done = NULL;
  pthread_mutex_unlock(&pool_mu);
  while (done) {
    OffloadJob *job = done;
    done = job->next;
    Task *t = job->task;
    for (uint32_t i = 0; i < s->ninflight; i++)
      if (s->inflight[i] == t) {
        s->inflight[i] = s->inflight[--s->ninflight];
        break;
      }
    if (t->job == job && t->status == T_BLOCKED && t->wait == W_IO)
      eh_push(vm, &s->cand, (Entry){t->key, 0, t, NULL});
    else { /* the task was cancelled or failed: the result is discarded */
      if (t->job == job) t->job = NULL;
      job->destroy(job);
    }
  }
}

static void pool_orphan(Sched *s) {
  pthread_mutex_lock(&pool_mu);
  for (OffloadJob *j = pool_head; j; j = j->next)
    if (j->sched == s) j->sched = NULL;
  OffloadJob *done = s->done;
  s->done = NULL;
  /* in flight: every task still listed has its job's sched cleared */
  for (uint32_t i = 0; i < s->ninflight; i++)
    if (s->inflight[i]->job) s->inflight[i]->job->sched = NULL;
  pthread_mutex_unlock(&pool_mu);
  while (done) {
    OffloadJob *j = done;
    done = j->next;
    j->destroy(j);
  }
}

/* offload.c's entry point, in a task: submit and park; the wake pass calls
 * offload_finish.  Returns false when the job must run synchronously. */
bool async_offload(VM *vm, OffloadJob *job) {
  if (vm_task_state(vm) != VM_TASK_PARKABLE) return false;
  Sched *s = sched_of(vm);
  if (s->efd < 0) {
    s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->efd < 0) return false;
  }
  if (s->ninflight == s->capinflight) {
    uint32_t cap = s->capinflight ? s->capinflight * 2 : 16;
    Task **n = realloc(s->inflight, cap * sizeof(Task *));
    if (!n) return false;
    s->inflight = n;
    s->capinflight = cap;
  }
  Task *t = s->current;
  atomic_store(&job->cancelled, 0);
  job->task = t;
  if (!pool_submit(s, job)) return false;
  s->inflight[s->ninflight++] = t;
  t->job = job;
  park(vm, s, W_IO, NULL, NIL_VAL);
}

static const NativeDef async_defs[] = {
    {"async/spawn", n_spawn, 1, 1,
     "(async/spawn thunk)\nQueues a task that calls the zero-argument function thunk and returns its pending async "
     "promise at once; the task runs when a driver (await, async/all, the end of the program) runs the scheduler."},
    {"async/await", n_await, 1, 1,
     "(async/await p)\nThe value of the async promise p.  In a task, waits for it while other tasks run; at top "
     "level, runs the scheduler until p settles.  A rejected task raises \"async/await: task rejected: MESSAGE\", a "
     "cancelled one \"async/await: task was cancelled\"."},
    {"async/run", n_run, 0, 0,
     "(async/run)\nRuns the scheduler until no task is ready or blocked; raises the deadlock error when tasks remain "
     "blocked with nothing to wake them.  Returns nil."},
    {"async/all", n_all, 1, 1,
     "(async/all ps)\nRuns the scheduler until every promise of the list or vector ps has settled or one is rejected,"
     " then returns the list of their values in order; the first rejected or cancelled one raises."},
    {"async/race", n_race, 1, 1,
     "(async/race ps)\nThe value of the first promise of ps to settle: runs the scheduler until one settles, then "
     "returns the first resolved value in list order, or raises for the first rejection.  Losers keep running."},
    {"async/timeout", n_timeout, 2, 2,
     "(async/timeout ms p)\nThe value of the promise p if it settles within ms milliseconds of the virtual clock; "
     "otherwise cancels its task and raises \"async/timeout: operation timed out\"."},
    {"async/sleep", n_sleep, 1, 1,
     "(async/sleep ms)\nIn a task, suspends it for ms milliseconds of the virtual clock while other tasks run (0 "
     "lets the others run once); outside a task, sleeps the thread.  Returns nil."},
    {"async/resolved", n_resolved, 1, 1, "(async/resolved v)\nReturns a new async promise already resolved with v."},
    {"async/rejected", n_rejected, 1, 1,
     "(async/rejected msg)\nReturns a new async promise already rejected with the message msg."},
    {"async/cancel", n_cancel, 1, 1,
     "(async/cancel p)\nCancels the task of the pending promise p at once, and the task it awaits, transitively; "
     "returns #t, or #f when there was nothing to cancel (settled, unspawned, or the calling task itself)."},
    {"async/pending?", n_pendingp, 1, 1, "(async/pending? p)\nReturns #t when the async promise p has not settled yet."},
    {"async/resolved?", n_resolvedp, 1, 1, "(async/resolved? p)\nReturns #t when the async promise p has a value."},
    {"async/rejected?", n_rejectedp, 1, 1, "(async/rejected? p)\nReturns #t when the task of the async promise p failed."},
    {"async/cancelled?", n_cancelledp, 1, 1, "(async/cancelled? p)\nReturns #t when the async promise p was cancelled."},
    {"async/promise?", n_promisep, 1, 1, "(async/promise? x)\nReturns #t when x is an async promise (not a delay promise)."},
    {"channel/new", n_chan_new, 0, 1, "(channel/new [cap])\nA new open channel holding at most cap values (default 1, at least 1)."},
    {"channel/send", n_chan_send, 2, 2,
     "(channel/send ch v)\nAppends v to the channel's buffer and returns nil.  When it is full, a task waits for "
     "room; code outside a task raises.  Raises when the channel is closed."},
    {"channel/recv", n_chan_recv, 1, 1,
     "(channel/recv ch)\nRemoves and returns the front value; nil when the channel is empty and closed.  When it is "
     "empty and open, a task waits for a value; code outside a task raises."},
    {"channel/try-recv", n_chan_try_recv, 1, 1,
     "(channel/try-recv ch)\nRemoves and returns the front value, or nil when the buffer is empty; never waits or raises on empty."},
    {"channel/close", n_chan_close, 1, 1,
     "(channel/close ch)\nCloses the channel (idempotent); buffered values stay receivable, waiting receivers get nil "
     "once it is empty, waiting senders fail.  Returns nil."},
    {"channel/closed?", n_chan_closedp, 1, 1, "(channel/closed? ch)\nTrue once the channel is closed."},
    {"channel/empty?", n_chan_emptyp, 1, 1, "(channel/empty? ch)\nTrue when the buffer holds no value."},
    {"channel/full?", n_chan_fullp, 1, 1, "(channel/full? ch)\nTrue when the buffer holds cap values."},
    {"channel/count", n_chan_count, 1, 1, "(channel/count ch)\nThe number of buffered values."},
    {"channel?", n_chanp, 1, 1, "(channel? x)\nTrue for channels."},
    {NULL, NULL, 0, 0, NULL},
};

void lib_async_init(VM *vm) { env_register(vm, async_defs); }
