/* fuzz_reader.c - the reader on arbitrary bytes: every input is data or a
 * reader error, never a crash or a leak. */
#include "fuzz_common.h"

static VM *vm;

typedef struct {
  const uint8_t *data;
  size_t size;
} Input;

static void read_input(VM *v, void *ud) {
  Input *in = ud;
  Value forms = reader_read_all(v, (const char *)in->data, in->size);
  vm_push_root(v, forms);
  /* print what was read: the printer must handle whatever the reader makes */
  StrBuf b;
  sb_init(&b);
  print_value(v, &b, forms, true);
  sb_free(&b);
  vm_pop_roots(v, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_vm_begin(&vm);
  Input in = {data, size};
  uint32_t roots = vm_roots_mark(vm);
  vm_protect(vm, read_input, &in);
  vm_roots_reset(vm, roots);
  fuzz_vm_end(&vm);
  return 0;
}
