/* registry.c - registration of library modules and argument helpers. */
#include "lib.h"

void lib_core_init(VM *vm);
void lib_math_init(VM *vm);
void lib_list_init(VM *vm);
void lib_maplib_init(VM *vm);
void lib_string_init(VM *vm);
void lib_io_init(VM *vm);
void lib_meta_init(VM *vm);
void lib_regex_init(VM *vm);
void lib_json_init(VM *vm);
void lib_csv_init(VM *vm);
void lib_bytevec_init(VM *vm);
void lib_encoding_init(VM *vm);
void lib_system_init(VM *vm);
void lib_datetime_init(VM *vm);
void lib_toml_init(VM *vm);
void lib_typedarray_init(VM *vm);
void lib_stream_init(VM *vm);
void lib_context_init(VM *vm);
void lib_term_init(VM *vm);
void lib_async_init(VM *vm);
void lib_compat_init(VM *vm);
void lib_llm_init(VM *vm);

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

/* Every module's init, in dependency order. */
void lib_register_all(VM *vm) {
  lib_core_init(vm);
  lib_math_init(vm);
  lib_list_init(vm);
  lib_maplib_init(vm);
  lib_string_init(vm);
  lib_io_init(vm);
  lib_meta_init(vm);
  lib_regex_init(vm);
  lib_json_init(vm);
  lib_csv_init(vm);
  lib_bytevec_init(vm);
  lib_encoding_init(vm);
  lib_system_init(vm);
  lib_datetime_init(vm);
  lib_toml_init(vm);
  lib_typedarray_init(vm);
  lib_stream_init(vm);
  lib_context_init(vm);
  lib_term_init(vm);
  lib_async_init(vm);
  lib_compat_init(vm);
  lib_llm_init(vm);
}
