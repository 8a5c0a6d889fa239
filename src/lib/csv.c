/* csv.c - (being written) */
#include "lib.h"

void lib_csv_init(VM *vm) { (void)vm; }
