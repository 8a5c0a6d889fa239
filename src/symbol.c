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
    t->order = realloc(t->order, t->cap * sizeof(uint64_t));
    if (!t->names || !t->tags || !t->order) abort();
  }
  uint32_t id = t->count;
  /* allocation cannot collect, so the new name is safe until it is stored */
  t->names[id] = as_string(str_new(vm, name, len));
  t->tags[id] = 0;
  uint64_t key = 0;
  for (size_t k = 0; k < 8; k++) key = key << 8 | (k < len ? (uint8_t)name[k] : 0);
  t->order[id] = key;
  t->count++;
  t->slots[i] = id + 1;
  return id;
}

String *sym_name(VM *vm, uint32_t id) { return vm->syms.names[id]; }

int sym_compare(const SymTab *t, uint32_t a, uint32_t b) {
  if (a == b) return 0;
  uint64_t x = t->order[a], y = t->order[b];
  if (x != y) return x < y ? -1 : 1;
  const String *p = t->names[a], *q = t->names[b];
  size_t n = p->len < q->len ? p->len : q->len;
  int c = memcmp(p->data, q->data, n);
  if (c) return c < 0 ? -1 : 1;
  return (p->len > q->len) - (p->len < q->len);
}

void sym_table_free(SymTab *t) {
  free(t->names);
  free(t->tags);
  free(t->order);
  free(t->slots);
  memset(t, 0, sizeof *t);
}
