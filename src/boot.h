/* boot.h - a complete interpreter: the VM with the front end, the library
 * and the prelude (boot.c).  Free it with vm_free. */
#ifndef SEMA_BOOT_H
#define SEMA_BOOT_H

#include "vm.h"

VM *boot_vm_new(void);

#endif
