/* object.c - constructors of the other heap objects: boxed integers, boxes,
 * bytevectors, foreign (C) objects and natives. */
#include <string.h>
#include "runtime.h"
#include "state.h"

Value obj_int(VM *vm, int64_t i) {
  if (fits_small_int(i)) return small_int_val(i);
  BigInt *b = gc_alloc(vm, OBJ_BIGINT, sizeof(BigInt));
  b->i = i;
  return obj_val(b);
}

Value obj_box(VM *vm, Value v) {
  Box *b = gc_alloc(vm, OBJ_BOX, sizeof(Box));
  b->v = v;
  return obj_val(b);
}

Value obj_bytevec(VM *vm, const uint8_t *data, size_t len) {
  Bytevec *bv = gc_alloc(vm, OBJ_BYTEVEC, sizeof(Bytevec) + len);
  bv->len = (uint32_t)len;
  if (data && len) memcpy(bv->data, data, len);
  else if (len) memset(bv->data, 0, len);
  return obj_val(bv);
}

Value obj_foreign(VM *vm, const ForeignClass *cls, void *ptr, Value extra) {
  Foreign *f = gc_alloc_sticky(vm, OBJ_FOREIGN, sizeof(Foreign));
  gc_note_finalizer(&vm->heap, sizeof(Foreign));
  f->cls = cls;
  f->ptr = ptr;
  f->extra = extra;
  f->ext = 0;
  return obj_val(f);
}

bool obj_is_foreign(Value v, const ForeignClass *cls) {
  return is_objtype(v, OBJ_FOREIGN) && ((Foreign *)as_obj(v))->cls == cls;
}

Value obj_native(VM *vm, const char *name, NativeFn fn, int min_args, int max_args) {
  Native *n = gc_alloc_sticky(vm, OBJ_NATIVE, sizeof(Native));
  n->fn = fn;
  n->name = SYM(vm, name);
  n->min_args = (int16_t)min_args;
  n->max_args = (int16_t)max_args;
  n->ud = NULL;
  n->data = NIL_VAL;
  n->doc = NULL;
  return obj_val(n);
}
