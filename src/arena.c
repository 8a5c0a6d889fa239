/* arena.c - bump allocation for the compiler and the reader (arena.h). */
#include <stdlib.h>
#include <string.h>
#include "arena.h"
#include "state.h"
#include "vm.h"

void *arena_alloc(Arena **ap, size_t n) {
  n = (n + 15) & ~(size_t)15;
  Arena *a = *ap;
  if (!a || a->used + n > a->cap) {
    size_t cap = n > 65536 ? n : 65536;
    Arena *b = malloc(sizeof(Arena));
    if (!b || !(b->block = malloc(cap))) abort();
    b->used = 0;
    b->cap = cap;
    b->prev = a;
    *ap = a = b;
  }
  void *p = a->block + a->used;
  a->used += n;
  memset(p, 0, n);
  return p;
}

void arena_free(Arena **ap) {
  Arena *a = *ap;
  while (a) {
    Arena *p = a->prev;
    free(a->block);
    free(a);
    a = p;
  }
  *ap = NULL;
}

unsigned arena_push(VM *vm) {
  if (vm->narenas == ARENA_MAX_NESTING) err_eval(vm, "compilation nested too deeply");
  vm->arenas[vm->narenas] = NULL;
  return vm->narenas++;
}

Arena **arena_at(VM *vm, unsigned slot) { return &vm->arenas[slot]; }

void arena_release(VM *vm, unsigned slot) {
  while (vm->narenas > slot) arena_free(&vm->arenas[--vm->narenas]);
}
