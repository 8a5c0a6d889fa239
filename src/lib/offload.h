/* offload.h - running blocking work (HTTP requests, LLM calls, shell
 * commands) off the interpreter thread (async.md §3.13).
 *
 * A job is split in two halves so that only the interpreter thread ever
 * touches the heap:
 *   run     executes on a worker thread (or inline).  It may block, may use
 *           only C memory it owns through the job, and must never call
 *           anything that allocates Sema values or raises.  It should poll
 *           `job->cancelled` (or arrange for it to abort, e.g. through a curl
 *           progress callback) so a cancelled task's work stops early.
 *   finish  executes on the interpreter thread after run returned: turns the
 *           C result into a Value, or raises the error (err_io / err_eval...).
 *   destroy frees the job (always called exactly once, after finish or after
 *           a cancelled job's run has returned).
 *
 * offload_run() is the one entry point.  Outside a task it runs the job
 * synchronously (run, then finish).  Inside a task it submits the job to the
 * worker pool and parks the task until the job is done, letting other tasks
 * run; the task resumes with finish()'s value.  Either way the caller sees
 * the same value or error, so library code is written once.
 */
#ifndef SEMA_OFFLOAD_H
#define SEMA_OFFLOAD_H

#include <stdatomic.h>
#include "lib.h"

typedef struct OffloadJob OffloadJob;
struct OffloadJob {
  void (*run)(OffloadJob *job);
  Value (*finish)(VM *vm, OffloadJob *job);
  void (*destroy)(OffloadJob *job);
  atomic_int cancelled; /* set by the scheduler when the waiting task is cancelled */
  /* private to the scheduler */
  OffloadJob *next;
  void *task;
  struct Sched *sched; /* NULL: orphaned, the worker destroys it */
};

/* Run JOB (allocated by the caller, freed through job->destroy) and return
 * the value of its finish half.  Raises what finish raises. */
Value offload_run(VM *vm, OffloadJob *job);

/* For the scheduler (async.c): run finish under a protected call, then
 * destroy.  Returns 0 with the value in *out, or 1 with the error in vm_error. */
int offload_finish(VM *vm, OffloadJob *job, Value *out);
/* In a task: submit JOB to the worker pool and park; false when it must run here. */
bool async_offload(VM *vm, OffloadJob *job);

#endif
