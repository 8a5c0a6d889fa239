/* toml.c - (being written) */
#include "lib.h"

void lib_toml_init(VM *vm) { (void)vm; }
