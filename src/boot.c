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
void lib_prelude_init(VM *vm);
void async_drain(VM *vm);

/* Library modules, in dependency order (a module may alias names of an
 * earlier one). */
static void (*const lib_modules[])(VM *vm) = {
    lib_core_init,
    lib_math_init,
    lib_listlib_init,
    lib_maplib_init,
    lib_strlib_init,
    lib_io_init,
    lib_meta_init,
    lib_regex_init,
    lib_json_init,
    lib_csv_init,
    lib_bytevec_init,
    lib_encoding_init,
    lib_system_init,
    lib_datetime_init,
    lib_toml_init,
    lib_typedarray_init,
    lib_stream_init,
    lib_context_init,
    lib_term_init,
    lib_async_init,
    lib_compat_init,
    lib_http_init,
    lib_kv_init,
    lib_db_init,
};

static bool env_flag(const char *name) {
  const char *s = getenv(name);
  return s && *s && *s != '0';
}

static void free_front_end(VM *vm) {
  if (vm->interp) interp_free(vm);
}

VM *boot_vm_new(void) {
  VM *vm = vm_new();
  vm->stress_gc = env_flag("SEMA_GC_STRESS");
  vm->disasm = env_flag("SEMA_DISASM");
  analyze_intern_specials(vm);
  for (size_t i = 0; i < sizeof lib_modules / sizeof lib_modules[0]; i++) lib_modules[i](vm);
  compile_register_helpers(vm);
  compile_bind_helpers(vm);
  vm->hooks.ext_frame = interp_frame;
  vm->hooks.unit_done = async_drain;
  vm->hooks.on_free = free_front_end;
  lib_prelude_init(vm);
  vm->first_user_global = vm->nglobals;
  return vm;
}
