/* fuzz_compile.c - read, expand macros and compile without running the
 * program (macro transformers do run, under the time budget). */
#include "fuzz_common.h"

static VM *vm;

typedef struct {
  const uint8_t *data;
  size_t size;
} Input;

static void compile_input(VM *v, void *ud) {
  Input *in = ud;
  Value forms = reader_read_all(v, (const char *)in->data, in->size);
  vm_push_root(v, forms);
  compile_forms_only(v, forms, NIL_VAL);
  vm_pop_roots(v, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_vm_begin(&vm);
  Input in = {data, size};
  uint32_t roots = vm_roots_mark(vm);
  fuzz_budget(200);
  vm_protect(vm, compile_input, &in);
  fuzz_budget(0);
  vm_roots_reset(vm, roots);
  fuzz_vm_end(&vm);
  return 0;
}
