/* list.c - immutable cons lists ending in '() and their builders. */
#include <stdarg.h>
#include "runtime.h"

Value list_cons(VM *vm, Value a, Value d) {
  Cons *c = gc_alloc(vm, OBJ_CONS, sizeof(Cons));
  c->car = a;
  c->cdr = d;
  return obj_val(c);
}

Value list_cons_at(VM *vm, Value a, Value d, uint32_t pos) {
  Value v = list_cons(vm, a, d);
  as_obj(v)->aux = pos;
  return v;
}

Value list_from(VM *vm, const Value *items, size_t n) {
  Value l = EMPTY_VAL;
  while (n > 0) l = list_cons(vm, items[--n], l);
  return l;
}
Value list_1(VM *vm, Value a) { return list_cons(vm, a, EMPTY_VAL); }
Value list_2(VM *vm, Value a, Value b) { return list_cons(vm, a, list_cons(vm, b, EMPTY_VAL)); }
Value list_3(VM *vm, Value a, Value b, Value c) { return list_cons(vm, a, list_2(vm, b, c)); }

Value list_n(VM *vm, int n, ...) {
  Value items[16];
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n && i < 16; i++) items[i] = va_arg(ap, Value);
  va_end(ap);
  return list_from(vm, items, (size_t)(n < 16 ? n : 16));
}

int64_t list_length(Value l) {
  int64_t n = 0;
  while (is_cons(l)) {
    n++;
    l = cdr(l);
  }
  return l == EMPTY_VAL ? n : -1;
}

Value list_reverse(VM *vm, Value l) {
  Value r = EMPTY_VAL;
  for (; is_cons(l); l = cdr(l)) r = list_cons(vm, car(l), r);
  return r;
}

void list_add(VM *vm, ListBuilder *lb, Value v) {
  Value c = list_cons(vm, v, EMPTY_VAL);
  if (lb->tail) {
    lb->tail->cdr = c;
    gc_barrier(vm, lb->tail); /* builders fill across callbacks: the tail may be old */
  } else
    lb->head = c;
  lb->tail = as_cons(c);
}
