/* async.h - external event sources for the scheduler (async.c), and the
 * few scheduler entry points library modules use to run work as tasks.
 *
 * An event source is a file descriptor that some other thread (or the
 * kernel) makes readable when something a task may wait for happened: an
 * HTTP server's eventfd, a pipe, a socket.  The scheduler polls every
 * registered source, with the worker pool's eventfd, whenever no task is
 * READY, with the timeout of the earliest sleeper; it also polls them
 * without blocking every few steps while tasks are READY, so a busy task set
 * never starves a source.
 *
 * Invariants:
 *  - A registered source counts as external I/O in flight: the scheduler
 *    never reports a deadlock while one is registered, and the virtual
 *    clock follows real time (it advances by the real time elapsed, never
 *    jumps ahead to the next wake time), so sleeps take real time.
 *  - When the fd polls readable, DRAIN(UD) runs on the scheduler's thread
 *    and must make the fd not readable (read the eventfd); then the
 *    source's generation is bumped and every task that parked in
 *    async_source_wait before it, and whose READY predicate holds, becomes
 *    READY.  A task that parks after the drain waits for the next event.
 *  - Waiting is "check, then park": a task checks its condition and, when
 *    it does not hold, parks.  No other task runs between the two and the
 *    fd is drained only while no task runs, so an event that changes the
 *    condition after the check leaves the fd readable and is never lost.
 *    A woken task must re-check its condition (it is woken by any event of
 *    the source).
 *  - Removing a source wakes its waiters (they re-check and see whatever
 *    closed it); its record stays with the scheduler until the VM goes. */
#ifndef SEMA_ASYNC_H
#define SEMA_ASYNC_H
#include "lib.h"

typedef struct AsyncSource AsyncSource;

AsyncSource *async_source_add(VM *vm, int fd, void (*drain)(void *ud), void *ud);
void async_source_remove(VM *vm, AsyncSource *src);
/* In a task that may park: park until SRC fires and READY(ARG) holds (READY
 * NULL: the next time SRC fires), then the calling native's call returns
 * nil (the native's C frame is gone: callers loop in Sema code, see
 * http_serve.c).  READY runs on the scheduler's thread after each fire, so
 * a waiter whose own condition did not change costs a C call, not a step;
 * it must not touch the heap.  A removed source wakes every waiter.
 * Returns false (and does nothing) outside such a task or when SRC was
 * removed: the caller then blocks its own way. */
bool async_source_wait(VM *vm, AsyncSource *src, bool (*ready)(void *arg), void *arg);
/* A new task calling FN with the items of the vector ARGS (nil: none);
 * returns its promise. */
Value async_spawn(VM *vm, Value fn, Value args);
/* async/cancel: cancel PROMISE's task (and what it awaits); false when
 * there was nothing to cancel. */
bool async_cancel(VM *vm, Value promise);
/* In a task that may park: park until PROMISE settles, like async/await
 * (the calling native's call then returns its value or raises its error).
 * Returns false outside such a task or when PROMISE has settled. */
bool async_park_until(VM *vm, Value promise);
/* Run the scheduler (as a driver, in or outside a task) until PROMISE
 * settles. */
void async_run_until(VM *vm, Value promise);

#endif
