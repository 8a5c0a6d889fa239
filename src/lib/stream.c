/* stream.c - (being written) */
#include "lib.h"

void lib_stream_init(VM *vm) { (void)vm; }
