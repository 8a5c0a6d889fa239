/* encoding.c - (being written) */
#include "lib.h"

void lib_encoding_init(VM *vm) { (void)vm; }
