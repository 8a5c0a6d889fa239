#include "http.h"
void lib_http_serve_init(VM *vm) { (void)vm; }
