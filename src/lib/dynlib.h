/* dynlib.h - shared libraries loaded on first use (dlopen).
 *
 * Libraries a program may never need (libcurl, libsqlite3, libmicrohttpd,
 * wslay, nettle) are not linked: loading and relocating them cost every
 * program's start (libnettle alone was 16% of `sema -e 1`).  A module lists
 * the functions it uses and resolves them the first time one is needed;
 * each module keeps its own pthread_once so the resolving happens once per
 * process, on whichever thread comes first.
 */
#ifndef SEMA_DYNLIB_H
#define SEMA_DYNLIB_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  const char *name; /* the symbol in the library */
  void **slot;      /* where its address goes (a function pointer, through a cast) */
  bool optional;    /* may be absent (newer than some versions still in use): left NULL */
} DynSym;

/* Open SONAME and resolve every entry of syms (ending with {NULL}).  On
 * failure returns NULL with a message in err ("libfoo.so.1: cannot open
 * shared object file", "libfoo.so.1 has no foo_bar (too old)"). */
void *dynlib_open(const char *soname, const DynSym *syms, char *err, size_t errsz);

#endif
