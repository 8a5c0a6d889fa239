/* compat.c - (being written) */
#include "lib.h"

void lib_compat_init(VM *vm) { (void)vm; }
