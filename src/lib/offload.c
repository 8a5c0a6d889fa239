/* offload.c - the synchronous path of offloaded work (see offload.h).
 *
 * Until the scheduler parks tasks, a job runs inline on the interpreter
 * thread; the async runtime replaces this body with submission to the worker
 * pool when called from inside a task.  destroy runs even when finish raises:
 * the job is released under a protected call. */
#include "offload.h"

typedef struct {
  OffloadJob *job;
  Value result;
} FinishCall;

static void finish_protected(VM *vm, void *ud) {
  FinishCall *fc = ud;
  fc->result = fc->job->finish(vm, fc->job);
}

Value offload_run(VM *vm, OffloadJob *job) {
  atomic_store(&job->cancelled, 0);
  job->run(job);
  FinishCall fc = {job, NIL_VAL};
  int failed = vm_protect(vm, finish_protected, &fc);
  job->destroy(job);
  if (failed) err_rethrow(vm);
  return fc.result;
}
