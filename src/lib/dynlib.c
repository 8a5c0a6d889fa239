/* dynlib.c - shared libraries loaded on first use (dynlib.h). */
#include <dlfcn.h>
#include <stdio.h>
#include "dynlib.h"

void *dynlib_open(const char *soname, const DynSym *syms, char *err, size_t errsz) {
  void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(err, errsz, "%s", dlerror());
    return NULL;
  }
  for (const DynSym *s = syms; s->name; s++) {
    *s->slot = dlsym(h, s->name);
    if (!*s->slot && !s->optional) {
      snprintf(err, errsz, "%s has no %s (too old)", soname, s->name);
      dlclose(h);
      return NULL;
    }
  }
  return h;
}
