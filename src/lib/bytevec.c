/* bytevec.c - (being written) */
#include "lib.h"

void lib_bytevec_init(VM *vm) { (void)vm; }
