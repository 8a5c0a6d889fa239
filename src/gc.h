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

typedef struct Heap {
  FreeSlot *free[GC_NCLASSES];
  Page *pages[GC_NCLASSES];
  LargeObj *large;
  size_t allocated;   /* bytes allocated since the last collection */
  size_t threshold;   /* collect when allocated exceeds this */
  size_t live;        /* bytes live after the last collection */
  size_t total;       /* bytes currently in use (approximate) */
  size_t max_heap;    /* limit on live + newly allocated bytes (SIZE_MAX: none) */
  int grace;          /* over the limit, error raised: allow a little more until the next collection */
  uint64_t collections;
  uint8_t finalizable[GC_NCLASSES]; /* the class may hold objects with a finalizer */
  Obj **gray;
  size_t ngray, capgray;
  int pending;
} Heap;

struct VM;
void *gc_alloc(struct VM *vm, ObjType type, size_t size);
/* Would allocating size bytes stay within the heap limit?  gc_check_room raises the
 * out-of-memory error if not (for callers that must free C memory first). */
bool gc_has_room(struct VM *vm, size_t size);
void gc_check_room(struct VM *vm, size_t size);
void gc_collect(struct VM *vm);
/* An object of this size that needs finalize() (a prototype, a foreign
 * object, a hash map) was allocated: freeing the heap must visit its class. */
static inline void gc_note_finalizer(Heap *h, size_t size) {
  size_t cls = (size + GC_GRAIN - 1) / GC_GRAIN; /* every such object is larger than a FreeSlot */
  if (cls < GC_NCLASSES) h->finalizable[cls] = 1;
}
void gc_mark_value(struct VM *vm, Value v);
void gc_heap_free(struct VM *vm);
void gc_init(struct VM *vm);
/* Parse a size such as "512M", "2G", "65536"; 0 if malformed. */
size_t gc_parse_size(const char *s);
/* Call fn on every live object of a type (used to patch code when a builtin is redefined). */
void gc_each_object(struct VM *vm, ObjType type, void (*fn)(struct VM *, Obj *, void *), void *ud);

#endif
