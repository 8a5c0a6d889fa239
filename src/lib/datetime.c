/* datetime.c - (being written) */
#include "lib.h"

void lib_datetime_init(VM *vm) { (void)vm; }
