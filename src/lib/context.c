/* context.c - (being written) */
#include "lib.h"

void lib_context_init(VM *vm) { (void)vm; }
