/* symbol.h - the intern table shared by symbols and keywords.
 *
 * A symbol and a keyword with the same name share one id; the value tag tells
 * them apart.  Names are strings kept alive by the table (a GC root).
 */
#ifndef SEMA_SYMBOL_H
#define SEMA_SYMBOL_H

#include <stddef.h>
#include <stdint.h>
#include "object.h"

typedef struct SymTab {
  String **names; /* id -> name */
  uint8_t *tags;  /* id -> a small tag a layer above attaches (the front end: special forms) */
  uint64_t *order; /* id -> the name's first 8 bytes, big-endian: orders most pairs of names */
  uint32_t count, cap;
  uint32_t *slots; /* hash index: id + 1, 0 = empty */
  uint32_t nslots;
} SymTab;

struct VM;
uint32_t sym_intern(struct VM *vm, const char *name, size_t len);
static inline uint32_t sym_intern_c(struct VM *vm, const char *name) { return sym_intern(vm, name, strlen(name)); }
String *sym_name(struct VM *vm, uint32_t id);
static inline const char *sym_cstr(struct VM *vm, Value sym_or_kw) { return sym_name(vm, sym_id(sym_or_kw))->data; }
#define SYM(vm, s) sym_val(sym_intern_c(vm, s))
#define KW(vm, s) kw_val(sym_intern_c(vm, s))
void sym_table_free(SymTab *t);
/* Order two symbol (or keyword) names, by bytes as strings are ordered:
 * the precomputed 8-byte prefix keys decide unless they are equal, then the
 * names.  Comparing keywords in a sorted map is thus one load and compare,
 * not a memcmp of their names (value.c). */
int sym_compare(const SymTab *t, uint32_t a, uint32_t b);

/* The tags of symbol id, like Lua's reserved-word marks: the low seven bits
 * number a special form (0: none, analyze.c), the high bit marks the name of
 * an intrinsic (opcodes.c), so registering a builtin asks one load whether
 * its global cell gets CELL_INTRINSIC. */
#define SYM_TAG_SPECIAL 0x7f
#define SYM_TAG_INTRINSIC 0x80
static inline uint8_t sym_tag(const SymTab *t, uint32_t id) { return t->tags[id] & SYM_TAG_SPECIAL; }
static inline bool sym_is_intrinsic(const SymTab *t, uint32_t id) { return t->tags[id] & SYM_TAG_INTRINSIC; }
static inline void sym_set_tag(SymTab *t, uint32_t id, uint8_t tag) {
  t->tags[id] = (uint8_t)((t->tags[id] & ~SYM_TAG_SPECIAL) | (tag & SYM_TAG_SPECIAL));
}
static inline void sym_mark_intrinsic(SymTab *t, uint32_t id) { t->tags[id] |= SYM_TAG_INTRINSIC; }

#endif
