/* system.c - (being written) */
#include "lib.h"

void lib_system_init(VM *vm) { (void)vm; }
