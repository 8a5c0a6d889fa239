/* typedarray.c - (being written) */
#include "lib.h"

void lib_typedarray_init(VM *vm) { (void)vm; }
