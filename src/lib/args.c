/* args.c - argument checks for natives: each raises the type error that
 * names the expected type. */
#include "lib.h"

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
