/* boot.c - the bootstrap: makes a complete interpreter out of the layers.
 *
 * The layers only call downward: value core <- VM <- front end <- library.
 * vm_new (vm.c) makes a bare state that knows nothing of the compiler or the
 * library.  This file is the one place that knows all of them: it interns
 * the special forms, registers every library module in dependency order and
 * the compiler's runtime helpers, loads the prelude, and installs the hooks
 * through which the lower layers reach the higher ones at run time
 * (vm.h, VmHooks), the way Lua keeps linit.c apart from lvm.c.
 */
#include <stdlib.h>
#include "boot.h"
#include "compiler.h"
#include "interp.h"
#include "lib/lib.h"

void lib_core_init(VM *vm);
void lib_math_init(VM *vm);
void lib_listlib_init(VM *vm);
void lib_maplib_init(VM *vm);
void lib_strlib_init(VM *vm);
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
void lib_http_init(VM *vm);
void lib_kv_init(VM *vm);
void lib_db_init(VM *vm);
void lib_llm_init(VM *vm);
void lib_doc_init(VM *vm);
void lib_prelude_init(VM *vm);
void lib_prelude_define(VM *vm, Value name);
void async_drain(VM *vm);
Value async_task_call(VM *vm, Value fn, int argc, const Value *argv);

/* Library modules, in dependency order (a module may alias names of an
 * earlier one), each with its file name (src/lib/NAME.c), by which the
 * generated reference (`sema doc --markdown`) groups the builtins. */
static const struct {
  const char *name;
  void (*init)(VM *vm);
} lib_modules[] = {
    {"core", lib_core_init},
    {"math", lib_math_init},
    {"listlib", lib_listlib_init},
    {"maplib", lib_maplib_init},
    {"strlib", lib_strlib_init},
    {"io", lib_io_init},
    {"meta", lib_meta_init},
    {"regex", lib_regex_init},
    {"json", lib_json_init},
    {"csv", lib_csv_init},
    {"bytevec", lib_bytevec_init},
    {"encoding", lib_encoding_init},
    {"system", lib_system_init},
    {"datetime", lib_datetime_init},
    {"toml", lib_toml_init},
    {"typedarray", lib_typedarray_init},
    {"stream", lib_stream_init},
    {"context", lib_context_init},
    {"term", lib_term_init},
    {"async", lib_async_init},
    {"compat", lib_compat_init},
    {"http", lib_http_init},
    {"kv", lib_kv_init},
    {"db", lib_db_init},
    {"llm", lib_llm_init},
    {"doc", lib_doc_init},
};

static bool env_flag(const char *name) {
  const char *s = getenv(name);
  return s && *s && *s != '0';
}

static void free_front_end(VM *vm) {
  if (vm->interp) interp_free(vm);
}

VM *boot_vm_new_traced(void (*trace)(VM *vm, const char *part, void *ud), void *ud) {
  VM *vm = vm_new();
  vm->stress_gc = env_flag("SEMA_GC_STRESS");
  vm->disasm = env_flag("SEMA_DISASM");
  analyze_intern_specials(vm);
  for (size_t i = 0; i < sizeof lib_modules / sizeof lib_modules[0]; i++) {
    lib_modules[i].init(vm);
    if (trace) trace(vm, lib_modules[i].name, ud);
  }
  compile_register_helpers(vm);
  if (trace) trace(vm, "helpers", ud);
  compile_bind_helpers(vm);
  vm->hooks.ext_frame = interp_frame;
  vm->hooks.unit_done = async_drain;
  vm->hooks.task_call = async_task_call;
  vm->hooks.on_free = free_front_end;
  vm->hooks.define_lazy = lib_prelude_define;
  lib_prelude_init(vm);
  if (trace) trace(vm, "prelude", ud);
  vm->first_user_global = vm->nglobals;
  return vm;
}

VM *boot_vm_new(void) { return boot_vm_new_traced(NULL, NULL); }
