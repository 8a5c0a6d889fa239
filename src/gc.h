/* gc.h - allocation and the mark-sweep collector.
 *
 * Small objects (<= GC_MAX_SMALL bytes) come from size-class pages with a free
 * list per class: allocation is a list pop.  Larger objects are malloc'd and
 * kept on a list.  Allocation never collects; it only records debt.  The VM
 * collects at safe points (vm_safepoint), so C code may hold fresh objects in
 * locals until it calls back into the VM.
 */
#ifndef SEMA_GC_H
#define SEMA_GC_H

#include <stddef.h>
#include <stdint.h>
#include "object.h"

#define GC_GRAIN 8
#define GC_MAX_SMALL 512
#define GC_NCLASSES (GC_MAX_SMALL / GC_GRAIN + 1)

typedef struct FreeSlot {
  Obj h;
  struct FreeSlot *next;
} FreeSlot;

typedef struct Page Page;
typedef struct LargeObj LargeObj;
typedef struct Arena Arena;

/* A cleanup registered for unwinding (gc_defer, gc_tmp_alloc): run when an
 * error unwinds past the handler that was innermost when it was registered.
 * fn NULL: p is a counted C block (gc_tmp_alloc) to free; p NULL: done. */
typedef struct Cleanup {
  void (*fn)(void *p);
  void *p;
  uint64_t serial;
} Cleanup;

typedef struct Heap {
  FreeSlot *free[GC_NCLASSES];
  Page *pages[GC_NCLASSES];
  LargeObj *large;
  Page *page_pool;      /* empty pages of huge-page arenas, reused first */
  Arena *arenas;        /* every arena mapped (unmapped by gc_heap_free) */
  size_t allocated;   /* bytes allocated since the last collection */
  size_t threshold;   /* collect when allocated exceeds this */
  size_t live;        /* bytes live after the last collection */
  size_t total;       /* bytes currently in use (approximate) */
  size_t max_heap;    /* limit on live + newly allocated bytes (SIZE_MAX: none) */
  size_t trip;        /* gc_alloc's one compare: max_heap, or 0 while a failure is armed */
  size_t ext;         /* C-side bytes counted against the limit (part of live) */
  int grace;          /* over the limit, error raised: allow a little more until the next collection */
  uint64_t fail_at;   /* SEMA_FAIL_ALLOC: the fail_at-th counted allocation fails (0: off) */
  uint64_t nallocs;   /* counted allocations since gc_fail_arm */
  bool fail_fired;
  Cleanup *cleanups;  /* the unwinding list, oldest first */
  uint32_t ncleanups, capcleanups;
  uint64_t cleanup_serial; /* serial of the next cleanup; handlers save it */
  uint64_t collections;
  uint8_t finalizable[GC_NCLASSES]; /* the class may hold objects with a finalizer */
  Obj **gray;
  size_t ngray, capgray;
  int pending;
  /* generations (gc.c, "GENERATIONS") */
  Obj **remembered;    /* old objects written since the last collection (GC_REM) */
  size_t nrem, caprem;
  Obj **sticky;        /* objects whose children change without a barrier: rescanned by every minor */
  size_t nsticky, capsticky;
  size_t old_base;     /* live bytes after the last major collection */
  uint64_t majors;
  bool next_major;     /* the next collection marks everything */
  bool generational;   /* minor collections on (SEMA_GC_GENERATIONAL=1, SEMA_GC_VERIFY=1) */
  bool verify;         /* SEMA_GC_VERIFY: check every old -> young edge is remembered */
  Obj *verifying;      /* the old object whose children the check is visiting */
} Heap;

/* Obj.mark: GC_OLD marks an object that survived a collection (and, during
 * a collection, one reached by it); GC_REM an old object on the remembered
 * list.  Young objects have mark 0. */
#define GC_OLD 1u
#define GC_REM 2u

struct VM;
void *gc_alloc(struct VM *vm, ObjType type, size_t size);
/* gc_alloc for the sticky types (foreign objects, prototypes, natives, macros,
 * multimethods): every minor collection rescans them (gc.c, GENERATIONS), so
 * the code that fills and changes them needs no barrier. */
void *gc_alloc_sticky(struct VM *vm, ObjType type, size_t size);
/* Would allocating size bytes stay within the heap limit?  gc_check_room raises the
 * out-of-memory error if not (for callers that must free C memory first). */
bool gc_has_room(struct VM *vm, size_t size);
void gc_check_room(struct VM *vm, size_t size);
/* The bytes that can still be allocated before the limit (0 at or past it):
 * a snapshot for work that cannot check the heap as it goes (a worker
 * thread's shell output, src/lib/system.c). */
size_t gc_room(struct VM *vm);
/* gc_check_room would not raise (room, or the grace of an error being raised). */
bool gc_can_alloc(struct VM *vm, size_t size);
/* Raise the out-of-memory error for an allocation of size bytes (malloc failed). */
NORETURN void gc_oom(struct VM *vm, size_t size);
/* Set the heap limit (--max-heap). */
void gc_set_limit(struct VM *vm, size_t max_heap);
/* Raw memory for big C blocks (hash-map tables): at least 1 MiB is its own
 * mapping backed by transparent huge pages, less is malloc'd.  Not counted:
 * callers charge it (gc_ext_charge).  gc_big_free takes the size allocated. */
void *gc_big_alloc(size_t bytes);
void gc_big_free(void *p, size_t bytes);

/* ---- C-side memory (the allocation discipline) ----
 * Every buffer C code grows for the VM's thread (string buffers, readers,
 * encoders, arenas, tables) is counted against the heap limit like heap
 * objects: growing it past the limit raises the catchable "out of memory"
 * error instead of aborting, and an error raised while it is in use frees
 * it.  A block carries a small header (its size and its cleanup slot), so
 * it must be freed with gc_tmp_free, never free().
 *
 * gc_tmp_alloc: counted, and freed when an error unwinds past the handler
 *   that is innermost now (the buffer of an operation the error aborts).
 * gc_tmp_keep: the block now belongs to something that outlives the
 *   operation (it stays counted until gc_tmp_free).
 * gc_tmp_realloc keeps the block's registration; p may be NULL. */
void *gc_tmp_alloc(struct VM *vm, size_t n);
void *gc_tmp_realloc(struct VM *vm, void *p, size_t n);
void gc_tmp_free(struct VM *vm, void *p);
void gc_tmp_keep(struct VM *vm, void *p);
/* Count n bytes some heap object keeps in C memory (raises over the limit);
 * gc_ext_release gives them back (from finalizers: no VM needed). */
void gc_ext_charge(struct VM *vm, size_t n);
void gc_ext_release(Heap *h, size_t n);
size_t gc_proto_bytes(const Proto *p);
/* Run fn(p) if an error unwinds past the current handler before
 * gc_defer_cancel(slot) (closing a FILE, freeing a library's object). */
uint32_t gc_defer(struct VM *vm, void (*fn)(void *), void *p);
void gc_defer_cancel(struct VM *vm, uint32_t slot);
/* The unwinding point a handler saves, and running what was registered
 * after it (vm.c's handlers). */
uint64_t gc_unwind_mark(struct VM *vm);
void gc_unwind(struct VM *vm, uint64_t mark);

/* ---- the memory-failure test mode (SEMA_FAIL_ALLOC=N) ----
 * Make the n-th counted allocation from now on (heap objects and C-side
 * blocks alike) fail with the out-of-memory error, once. */
void gc_fail_arm(struct VM *vm, uint64_t n);
void gc_collect(struct VM *vm);
/* An object of this size that needs finalize() (a prototype, a foreign
 * object, a hash map) was allocated: freeing the heap must visit its class. */
static inline void gc_note_finalizer(Heap *h, size_t size) {
  size_t cls = (size + GC_GRAIN - 1) / GC_GRAIN; /* every such object is larger than a FreeSlot */
  if (cls < GC_NCLASSES) h->finalizable[cls] = 1;
}
void gc_mark_value(struct VM *vm, Value v);
/* The write barrier.  After storing a reference into an object that may
 * have survived a collection (anything but an object this C code allocated
 * with no safe point since), call gc_barrier on the object: an old object
 * goes on the remembered list once, so the next minor collection scans it
 * for young children.  One byte test on the common paths. */
void gc_remember(struct VM *vm, Obj *o);
static inline void gc_barrier(struct VM *vm, void *obj) {
  if (__builtin_expect(((Obj *)obj)->mark == GC_OLD, 0)) gc_remember(vm, (Obj *)obj);
}
void gc_heap_free(struct VM *vm);
void gc_init(struct VM *vm);
/* Parse a size such as "512M", "2G", "65536"; 0 if malformed. */
size_t gc_parse_size(const char *s);
/* Call fn on every live object of a type (used to patch code when a builtin is redefined). */
void gc_each_object(struct VM *vm, ObjType type, void (*fn)(struct VM *, Obj *, void *), void *ud);

#endif
