/* vector.c - flat immutable vectors. */
#include <string.h>
#include "runtime.h"

Value vec_new(VM *vm, size_t n) {
  if (n > 0x0FFFFFFFu) err_eval(vm, "vector too large (%zu elements)", n);
  Vector *v = gc_alloc(vm, OBJ_VECTOR, sizeof(Vector) + n * sizeof(Value));
  v->h.aux = (uint32_t)n;
  for (size_t i = 0; i < n; i++) v->items[i] = NIL_VAL;
  return obj_val(v);
}

Value vec_from(VM *vm, const Value *items, size_t n) {
  Value v = vec_new(vm, n);
  if (n) memcpy(vec_items(v), items, n * sizeof(Value));
  return v;
}
