/* arena.h - bump allocation for temporary compiler and reader data.
 *
 * Arenas in use are registered on the VM's arena stack, so that an error
 * (a longjmp) that abandons a compilation or a read frees them when the
 * handler that catches it restores the VM state.
 */
#ifndef SEMA_ARENA_H
#define SEMA_ARENA_H

#include <stddef.h>

typedef struct Arena {
  char *block;
  size_t used, cap;
  struct Arena *prev;
} Arena;

#define ARENA_MAX_NESTING 256 /* compilations and reads in progress at once */

struct VM;
void *arena_alloc(Arena **a, size_t n);
void arena_free(Arena **a);
/* Register a fresh arena on the VM's stack; returns its slot. */
unsigned arena_push(struct VM *vm);
Arena **arena_at(struct VM *vm, unsigned slot);
/* Free every arena from slot up. */
void arena_release(struct VM *vm, unsigned slot);

#endif
