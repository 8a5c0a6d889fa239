/* async.c - (being written) */
#include "lib.h"

void lib_async_init(VM *vm) { (void)vm; }
