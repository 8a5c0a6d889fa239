/* arena.h - bump allocation for temporary compiler and reader data.
 *
 * Arenas in use are registered on the VM's arena stack, so that an error
 * (a longjmp) that abandons a compilation or a read frees them when the
 * handler that catches it restores the VM state.  Their blocks are C memory
 * counted against the heap limit (gc.c): a compilation or a macro
 * expansion that outgrows it raises "out of memory" like any allocation.
 */
#ifndef SEMA_ARENA_H
#define SEMA_ARENA_H

#include <stddef.h>

typedef struct Arena {
  char *block;
  size_t used, cap;
  struct Arena *prev;
} Arena;

struct VM;
/* A slot of the VM's arena stack: the newest block and the VM it counts against. */
typedef struct ArenaSlot {
  Arena *top;
  struct VM *vm;
} ArenaSlot;

#define ARENA_MAX_NESTING 256 /* compilations and reads in progress at once */

void *arena_alloc(ArenaSlot *a, size_t n);
/* Free a chain of blocks (counted ones give their bytes back to vm's heap). */
void arena_free(struct VM *vm, Arena **a);
/* Register a fresh arena on the VM's stack; returns its slot. */
unsigned arena_push(struct VM *vm);
ArenaSlot *arena_at(struct VM *vm, unsigned slot);
/* Free every arena from slot up. */
void arena_release(struct VM *vm, unsigned slot);

#endif
