/* arena.c - bump allocation for the compiler and the reader (arena.h). */
#include <stdlib.h>
#include <string.h>
#include "arena.h"
#include "state.h"
#include "vm.h"

/* Each block is one counted C allocation holding its header and its bytes. */
void *arena_alloc(ArenaSlot *s, size_t n) {
  n = (n + 15) & ~(size_t)15;
  Arena *a = s->top;
  if (!a || a->used + n > a->cap) {
    size_t cap = n > 65536 ? n : 65536;
    if (cap > SIZE_MAX - sizeof(Arena)) gc_oom(s->vm, n);
    Arena *b = gc_tmp_alloc(s->vm, sizeof(Arena) + cap);
    gc_tmp_keep(s->vm, b); /* the arena stack frees it, also on unwind */
    b->block = (char *)(b + 1);
    b->used = 0;
    b->cap = cap;
    b->prev = a;
    s->top = a = b;
  }
  void *p = a->block + a->used;
  a->used += n;
  memset(p, 0, n);
  return p;
}

void arena_free(VM *vm, Arena **ap) {
  Arena *a = *ap;
  while (a) {
    Arena *p = a->prev;
    gc_tmp_free(vm, a);
    a = p;
  }
  *ap = NULL;
}

unsigned arena_push(VM *vm) {
  if (vm->narenas == ARENA_MAX_NESTING) err_eval(vm, "compilation nested too deeply");
  vm->arenas[vm->narenas] = (ArenaSlot){NULL, vm};
  return vm->narenas++;
}

ArenaSlot *arena_at(VM *vm, unsigned slot) { return &vm->arenas[slot]; }

void arena_release(VM *vm, unsigned slot) {
  while (vm->narenas > slot) arena_free(vm, &vm->arenas[--vm->narenas].top);
}
