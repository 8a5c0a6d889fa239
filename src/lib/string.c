/* string.c - (being written) */
#include "lib.h"

void lib_string_init(VM *vm) { (void)vm; }
