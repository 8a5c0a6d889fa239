/* offload.c - the synchronous path of offloaded work (see offload.h).
 *
 * Called by a task's own code, the job goes to the scheduler's worker pool
 * and the task parks (async.c); anywhere else it runs here, on the
 * interpreter thread.  destroy runs even when finish raises: finish runs
 * under a protected call. */
#include "offload.h"

typedef struct {
  OffloadJob *job;
  Value result;
} FinishCall;

static void finish_protected(VM *vm, void *ud) {
  FinishCall *fc = ud;
  fc->result = fc->job->finish(vm, fc->job);
}

int offload_finish(VM *vm, OffloadJob *job, Value *out) {
  FinishCall fc = {job, NIL_VAL};
  int failed = vm_protect(vm, finish_protected, &fc);
  job->destroy(job);
  *out = fc.result;
  return failed;
}

Value offload_run(VM *vm, OffloadJob *job) {
  job->sched = NULL;
  if (async_offload(vm, job)) return NIL_VAL; /* not reached: the task parked */
  atomic_store(&job->cancelled, 0);
  job->run(job);
  Value out;
  if (offload_finish(vm, job, &out)) err_rethrow(vm);
  return out;
}
