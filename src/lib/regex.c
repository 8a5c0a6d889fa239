/* regex.c - (being written) */
#include "lib.h"

void lib_regex_init(VM *vm) { (void)vm; }
