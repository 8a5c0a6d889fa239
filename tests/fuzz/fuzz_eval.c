/* fuzz_eval.c - run the input as a program, with a fresh VM per input (so a
 * crash reproduces from its input alone), a 64 MB heap, 300 ms of CPU and the
 * outside world disabled.  Errors are fine; crashes, hangs and leaks are not. */
#include "fuzz_common.h"

typedef struct {
  const uint8_t *data;
  size_t size;
} Input;

static void eval_input(VM *v, void *ud) {
  Input *in = ud;
  compile_eval_string(v, (const char *)in->data, in->size, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  VM *vm = fuzz_vm_new();
  Input in = {data, size};
  fuzz_budget(300);
  vm_protect(vm, eval_input, &in);
  fuzz_budget(0);
  vm_free(vm);
  return 0;
}
