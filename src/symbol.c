/* symbol.c - interning of symbol and keyword names. */
#include <stdlib.h>
#include "runtime.h"
#include "state.h"
#include "symbol.h"
#include "vm.h"

/* Names are hashed eight bytes at a time (multiply and fold, as in
 * wyhash's mixing step), with the length mixed in: a byte-at-a-time FNV-1a
 * was 8% of `sema -e 1`, which interns about 1,800 names. */
static uint32_t name_hash(const char *s, size_t len) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  if (i < len) {
    uint64_t w = 0;
    memcpy(&w, s + i, len - i);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  h *= 0x94D049BB133111EBull;
  return (uint32_t)(h ^ h >> 32);
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
  uint64_t key = 0; /* the first 8 bytes, big-endian, zero-padded */
  memcpy(&key, name, len < 8 ? len : 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  key = __builtin_bswap64(key);
#endif
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
