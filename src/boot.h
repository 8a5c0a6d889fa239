/* boot.h - a complete interpreter: the VM with the front end, the library
 * and the prelude (boot.c).  Free it with vm_free. */
#ifndef SEMA_BOOT_H
#define SEMA_BOOT_H

#include "vm.h"

VM *boot_vm_new(void);
/* The same, calling TRACE after each part of the start-up has defined its
 * globals: every library module (PART = its file name), "helpers" (the
 * compiler's runtime helpers), "prelude".  `sema doc --markdown` groups the
 * reference by part this way. */
VM *boot_vm_new_traced(void (*trace)(VM *vm, const char *part, void *ud), void *ud);

#endif
