/* io.c - (being written) */
#include "lib.h"

void lib_io_init(VM *vm) { (void)vm; }
