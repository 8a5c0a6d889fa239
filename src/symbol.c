/* symbol.c - interning of symbol and keyword names. */
#include <stdlib.h>
#include "runtime.h"
#include "state.h"
#include "symbol.h"
#include "vm.h"

static uint32_t name_hash(const char *s, size_t len) {
  uint32_t h = 2166136261u; /* FNV-1a: names are short */
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static void rehash(SymTab *t) {
  uint32_t n = t->nslots ? t->nslots * 2 : 1024;
  uint32_t *slots = calloc(n, sizeof *slots);
  if (!slots) abort();
  for (uint32_t id = 0; id < t->count; id++) {
    String *s = t->names[id];
    uint32_t i = name_hash(s->data, s->len) & (n - 1);
    while (slots[i]) i = (i + 1) & (n - 1);
    slots[i] = id + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = n;
}

uint32_t sym_intern(VM *vm, const char *name, size_t len) {
  SymTab *t = &vm->syms;
  if (t->count * 2 >= t->nslots) rehash(t);
  uint32_t i = name_hash(name, len) & (t->nslots - 1);
  while (t->slots[i]) {
    String *s = t->names[t->slots[i] - 1];
    if (s->len == len && memcmp(s->data, name, len) == 0) return t->slots[i] - 1;
    i = (i + 1) & (t->nslots - 1);
  }
  if (t->count == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 1024;
    t->names = realloc(t->names, t->cap * sizeof(String *));
    t->tags = realloc(t->tags, t->cap);
    if (!t->names || !t->tags) abort();
  }
  uint32_t id = t->count;
  /* allocation cannot collect, so the new name is safe until it is stored */
  t->names[id] = as_string(str_new(vm, name, len));
  t->tags[id] = 0;
  t->count++;
  t->slots[i] = id + 1;
  return id;
}

String *sym_name(VM *vm, uint32_t id) { return vm->syms.names[id]; }

void sym_table_free(SymTab *t) {
  free(t->names);
  free(t->tags);
  free(t->slots);
  memset(t, 0, sizeof *t);
}
