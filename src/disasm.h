/* disasm.h - bytecode listing for development. */
#ifndef SEMA_DISASM_H
#define SEMA_DISASM_H

#include <stdio.h>
#include "vm.h"

void disasm_proto(VM *vm, Proto *p, FILE *f);

#endif
