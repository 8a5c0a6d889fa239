/* term.c - (being written) */
#include "lib.h"

void lib_term_init(VM *vm) { (void)vm; }
