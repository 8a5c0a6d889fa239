/* doc.h - what `,doc NAME`, `sema doc` and docs/reference.md show for a name
 * (doc.c). */
#ifndef SEMA_LIB_DOC_H
#define SEMA_LIB_DOC_H

#include "lib.h"

typedef struct {
  const char *kind; /* "special form", "macro", "builtin", "internal helper", "procedure",
                       "multimethod", "constant", "variable" */
  Value sig;        /* string: the signature line, "(map f seq...)" or "pi" */
  Value desc;       /* string: the description; nil when there is no docstring */
  Value alias_of;   /* symbol: a builtin's own name when looked up under another name, else nil */
  Value value;      /* the bound value (UNBOUND_VAL for a special form that is only that) */
} DocEntry;

/* The entry of SYM; false when it names neither a global nor a special form.
 * The strings are fresh: root them before anything that may collect. */
bool doc_lookup(VM *vm, Value sym, DocEntry *e);
/* The text `,doc NAME` prints (ends with a newline): signature, kind and the
 * description wrapped to 78 columns; for an unbound name, that it is not
 * bound and the close names (doc_suggest). */
Value doc_format(VM *vm, Value sym);
/* Up to 4 bound names (and special forms) close to NAME: a list of symbols,
 * nearest first. */
Value doc_suggest(VM *vm, const char *name);
/* Append S to B wrapped to WIDTH columns, each line starting with INDENT
 * spaces; the line breaks in S are kept. */
void doc_wrap(StrBuf *b, const char *s, size_t len, int indent, int width);

#endif
