/* registry.c - registration of library modules and argument helpers. */
#include "lib.h"

void lib_register(VM *vm, const NativeDef *defs) {
  for (; defs->name; defs++) {
    Value n = native_new(vm, defs->name, defs->fn, defs->min_args, defs->max_args);
    as_native(n)->doc = defs->doc;
    global_define(vm, defs->name, n);
  }
}

void lib_alias(VM *vm, const char *new_name, const char *old_name) {
  Value v = global_get(vm, old_name);
  if (v == UNBOUND_VAL) {
    fprintf(stderr, "sema: alias %s of missing %s\n", new_name, old_name);
    return;
  }
  global_define(vm, new_name, v);
}

int64_t arg_int(VM *vm, Value v) {
  if (!is_int(v)) err_type(vm, "int", v);
  return int_of(v);
}

double arg_num(VM *vm, Value v) {
  if (!is_number(v)) err_type(vm, "number", v);
  return num_to_double(v);
}

Value arg_string(VM *vm, Value v) {
  if (!is_string(v)) err_type(vm, "string", v);
  return v;
}

void arg_seq(VM *vm, Value v, const char *fname) {
  if (!is_list(v) && !is_vector(v)) err_type_in(vm, "list or vector", v, fname);
}
