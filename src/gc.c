/* gc.c - size-class allocator and non-moving mark-sweep collector.
 *
 * ALLOCATION.  Objects up to GC_MAX_SMALL bytes come from 64 KiB pages of one
 * size class (8-byte granularity), each class with a free list: allocation
 * is a pop.  Larger objects are malloc'd and kept on a list.  Objects never
 * move, so a C pointer to a reachable object stays valid.
 *
 * WHEN IT COLLECTS.  Never inside gc_alloc: allocation only adds to
 * heap.allocated and sets heap.pending once the debt passes the threshold
 * (or always, under SEMA_GC_STRESS).  The VM collects at its safe points
 * (vm.c: after allocating instructions, after native calls, on return,
 * vm_safepoint).  This is the invariant the whole runtime leans on: C code
 * may hold fresh, unrooted objects in locals as long as it does not reach a
 * safe point, i.e. does not call back into Sema code.  Natives that do call
 * back root what they hold (vm_push_root).
 *
 * ROOTS.  The value stack up to vm->top (the live windows of every frame:
 * the VM sets top before collecting), each frame's closure, the global
 * cells, the symbol table's names, the C root stack, the handlers' saved
 * files, the runtime helpers, a few VM fields, and what the subsystems'
 * markers add (the embedding API's handles, the evaluator's kept units).
 * Marking uses an explicit gray stack; list spines are walked iteratively,
 * so no structure, however deep, recurses in C.  After marking, the dead
 * part of the value stack (top .. high-water mark) is cleared to nil, so a
 * stale register can never keep garbage alive or point at a freed object.
 *
 * SWEEP.  Every page is swept; unmarked objects are finalized (prototypes'
 * code arrays, foreign objects' C data, hash-map tables) and threaded onto
 * the free lists.  Empty pages are released only beyond twice the live data
 * plus PAGE_SLACK: re-threading fresh pages every cycle was 6% of 1BRC.
 *
 * GENERATIONS (sticky mark bits).  An object that survives a collection
 * keeps its mark, GC_OLD; new objects have mark 0 (young).  Most
 * collections are minor: marking stops at old objects (they count as
 * already marked), so it visits the roots, the young objects they reach, the
 * remembered old objects and the sticky ones, never the old heap behind
 * them; the sweep frees unmarked (young, dead) objects and skips every page
 * that had no free slot after the last sweep, since nothing young can be in
 * it.  Survivors are old at once.  Invariant: an old object that is neither
 * remembered nor sticky points only to old objects.  The write barrier keeps
 * it: storing a reference into an old object puts the object on the
 * remembered list (gc_barrier, gc.h); the minor collection scans the
 * remembered objects' children and empties the list.  Sticky objects
 * (foreign objects, prototypes, natives, macros, multimethods: few, and
 * written by code that would be easy to miss) are rescanned by every
 * minor collection instead.  A major collection clears every mark and marks
 * the whole heap, freeing old garbage; it runs when the live bytes have
 * doubled since the last major one (old garbage piles up until then), when a
 * minor one kept more than half of what was allocated, near the heap limit,
 * and after an out-of-memory error.  SEMA_GC_VERIFY=1 checks the invariant
 * before every minor collection (every old object's children, the whole
 * heap) and aborts naming the two types of an edge the barrier missed.
 *
 * Minor collections are OFF by default (SEMA_GC_GENERATIONAL=1 or
 * SEMA_GC_VERIFY=1 turn them on): measured on the public workloads they win
 * where the live heap is old and the garbage young (100k live records and
 * short-lived lists: 0.69 -> 0.55 s) but lose where the young survive (a
 * growing hash map rescanned through the remembered list: bigrams 0.42 ->
 * 0.50 s) and raise peak RSS (inventory 80 -> 89-102 MB); docs/design.md,
 * "Measured decisions".  Off, every collection is major and the sweep clears
 * the marks as it goes, as before; the barrier then never fires (no object
 * is marked between collections), and the test command runs the language
 * tests with them on and verified, so the barrier stays complete.
 *
 * THE HEAP LIMIT.  live + allocated may not pass max_heap (--max-heap,
 * SEMA_MAX_HEAP, default half the physical memory).  Crossing it raises the
 * catchable "out of memory" error (never the OOM killer); raising grants a
 * grace (a quarter of the limit more, until the next collection) so the
 * error map and the handler can allocate.  Near the limit the threshold
 * shrinks to half the remaining room, so garbage is reclaimed before the
 * limit is declared exceeded.  The next collection is due when the debt
 * exceeds max(GC_MIN_DEBT (1 MiB), live).
 *
 * C-SIDE MEMORY.  Buffers C code grows for the VM (string buffers, file
 * readers, encoders, the compiler's arenas, hash tables, streams) are counted
 * in heap.ext and included in heap.live, so the one limit check covers them:
 * gc_tmp_* and gc_ext_charge raise the same catchable error before the
 * limit is crossed, never abort().  Invariant: ext <= live, since a
 * collection sets live = swept bytes + ext and every release matches a
 * charge.
 *
 * UNWINDING.  An error longjmps past C frames that own memory.  Such memory
 * is registered on heap.cleanups (gc_tmp_alloc, gc_defer) with a serial;
 * each handler saves the next serial, and restoring it runs every cleanup
 * registered since (gc_unwind), like arenas.  Records leave the list in any
 * order (a done record is cleared and the top trimmed), so they are found
 * by serial, not by depth: a handler's records are exactly those with a
 * serial at or above its mark, whatever was trimmed in between.
 *
 * FAILURE INJECTION.  gc_fail_arm(n) makes the n-th counted allocation
 * fail (SEMA_FAIL_ALLOC, tests/reliability/oom_sweep.sh).  It costs the
 * allocator nothing: gc_alloc compares against heap.trip, which is
 * max_heap normally and 0 while armed, so every allocation takes the slow
 * path and is counted there.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "gc.h"
/* The least allocation between two collections.  Small: a program with
 * little live data then keeps its heap within the caches and its RSS near
 * Lua's (docs/design.md "Measured decisions": 8 MiB -> 1 MiB made the
 * small-heap workloads 12.7 -> 4.8 MB and no slower).  -DGC_MIN_DEBT=...
 * for experiments. */
#ifndef GC_MIN_DEBT
#define GC_MIN_DEBT ((size_t)1 << 20)
#endif
#include "map.h"
#include "runtime.h"
#include "state.h"
#include "vm.h"

#define PAGE_BYTES (64 * 1024)

/* A page of one size class.  Slots are carved lazily: [0, frontier) have
 * been handed to the free list at least once (each is an object or
 * OBJ_FREE); the rest have never been touched, so a fresh page costs no
 * writes and, for the kernel, no resident memory until it is used.  Only
 * the newest page of a class (the head of its list) can be partly carved:
 * a new page is made only when the head is full, and sweeping keeps the
 * list's order. */
struct Page {
  Page *next;
  uint32_t slot_size, nslots, frontier;
  uint32_t in_arena; /* carved from a huge-page arena (see page_new), not malloc'd */
  uint32_t full;     /* no free slot after the last sweep: holds old objects only */
  uint32_t pad_;
  /* slots follow, 16-byte aligned */
  _Alignas(16) unsigned char slots[];
};

struct LargeObj {
  LargeObj *next;
  size_t size;
  _Alignas(16) unsigned char obj[];
};

size_t gc_parse_size(const char *s) {
  char *end;
  unsigned long long n = strtoull(s, &end, 10);
  if (end == s) return 0;
  unsigned shift = 0;
  switch (*end) {
  case 'k': case 'K': shift = 10, end++; break;
  case 'm': case 'M': shift = 20, end++; break;
  case 'g': case 'G': shift = 30, end++; break;
  default: break;
  }
  if (*end == 'B' || *end == 'b') end++;
  if (*end || n == 0 || n > (SIZE_MAX >> shift)) return 0;
  return (size_t)n << shift;
}

/* The default heap limit: SEMA_MAX_HEAP, else half of the physical memory,
 * so a runaway program gets an error instead of the out-of-memory killer. */
static size_t default_max_heap(void) {
  const char *e = getenv("SEMA_MAX_HEAP");
  size_t n = e ? gc_parse_size(e) : 0;
  if (n) return n;
  long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && psize > 0 ? (size_t)pages * (size_t)psize / 2 : SIZE_MAX;
}

void gc_init(VM *vm) {
  memset(&vm->heap, 0, sizeof vm->heap);
  vm->heap.threshold = GC_MIN_DEBT;
  vm->heap.max_heap = vm->heap.trip = default_max_heap();
  const char *g = getenv("SEMA_GC_GENERATIONAL"), *v = getenv("SEMA_GC_VERIFY");
  vm->heap.verify = v && *v && strcmp(v, "0") != 0;
  /* off by default (GENERATIONS); checking the barrier needs minor collections */
  vm->heap.generational = (g && *g && strcmp(g, "0") != 0) || vm->heap.verify;
  vm->heap.next_major = !vm->heap.generational;
  if (vm->heap.verify) vm->heap.threshold = 64u << 10;
}

void gc_set_limit(VM *vm, size_t max_heap) {
  Heap *h = &vm->heap;
  h->max_heap = max_heap;
  if (!h->fail_at) h->trip = max_heap;
}

/* Over the limit (or malloc failed): raise a catchable error.  The error
 * itself and the handler need a little memory before the next collection
 * reclaims the aborted computation's garbage: that is the grace. */
static NORETURN void heap_exhausted(VM *vm, size_t size) {
  Heap *h = &vm->heap;
  h->grace = 1;
  h->pending = 1;
  err_hint(vm, "raise the limit with --max-heap SIZE or SEMA_MAX_HEAP");
  err_eval(vm, "out of memory: allocating %zu bytes would exceed the heap limit of %zu MB", size, h->max_heap >> 20);
}

void gc_oom(VM *vm, size_t size) { heap_exhausted(vm, size); }

bool gc_has_room(VM *vm, size_t size) {
  Heap *h = &vm->heap;
  return size <= h->max_heap && h->live + h->allocated <= h->max_heap - size;
}

/* While the error is raised (grace), a quarter of the limit more. */
static bool within_grace(Heap *h, size_t size) {
  size_t cap = h->max_heap + (h->max_heap >> 2) + (1u << 20);
  if (cap < h->max_heap) cap = SIZE_MAX;
  return h->grace && size <= cap && h->live + h->allocated <= cap - size;
}

size_t gc_room(VM *vm) {
  Heap *h = &vm->heap;
  return h->live + h->allocated < h->max_heap ? h->max_heap - (h->live + h->allocated) : 0;
}

bool gc_can_alloc(VM *vm, size_t size) { return gc_has_room(vm, size) || within_grace(&vm->heap, size); }

void gc_check_room(VM *vm, size_t size) {
  if (!gc_can_alloc(vm, size)) heap_exhausted(vm, size);
}

/* The slow path of every counted allocation: the injected failure, then
 * the limit itself. */
static void count_alloc(VM *vm, size_t size) {
  Heap *h = &vm->heap;
  if (UNLIKELY(h->fail_at) && ++h->nallocs == h->fail_at) {
    h->fail_at = 0;
    h->fail_fired = true;
    h->trip = h->max_heap;
    heap_exhausted(vm, size);
  }
  gc_check_room(vm, size);
}

void gc_fail_arm(VM *vm, uint64_t n) {
  Heap *h = &vm->heap;
  h->fail_at = n;
  h->nallocs = 0;
  h->fail_fired = false;
  h->trip = n ? 0 : h->max_heap;
}

static void *xmalloc(VM *vm, size_t n) {
  void *p = malloc(n);
  if (!p) heap_exhausted(vm, n);
  return p;
}

/* ---- C-side memory and unwinding ---- */

typedef struct {
  size_t size;   /* payload bytes, counted in heap.ext */
  uint32_t slot; /* cleanup slot + 1, or 0 when not registered */
  uint32_t pad;
} CHdr;          /* 16 bytes: the payload keeps malloc's alignment */

static CHdr *chdr(void *p) { return (CHdr *)p - 1; }

void gc_ext_charge(VM *vm, size_t n) {
  Heap *h = &vm->heap;
  if (UNLIKELY(h->live + h->allocated + n > h->trip)) count_alloc(vm, n);
  h->ext += n;
  h->live += n;
}

void gc_ext_release(Heap *h, size_t n) {
  h->ext -= n;
  h->live -= n;
}

/* A free cleanup slot at the top (may raise before anything is registered). */
static uint32_t cleanup_reserve(VM *vm) {
  Heap *h = &vm->heap;
  if (h->ncleanups == h->capcleanups) {
    uint32_t cap = h->capcleanups ? h->capcleanups * 2 : 64;
    Cleanup *c = realloc(h->cleanups, cap * sizeof(Cleanup));
    if (!c) heap_exhausted(vm, cap * sizeof(Cleanup));
    h->cleanups = c;
    h->capcleanups = cap;
  }
  return h->ncleanups;
}

static uint32_t cleanup_push(Heap *h, void (*fn)(void *), void *p) {
  uint32_t slot = h->ncleanups++;
  h->cleanups[slot] = (Cleanup){fn, p, h->cleanup_serial++};
  return slot;
}

/* Drop a record without running it; trim the done ones at the top. */
static void cleanup_drop(Heap *h, uint32_t slot) {
  h->cleanups[slot].p = NULL;
  while (h->ncleanups > 0 && h->cleanups[h->ncleanups - 1].p == NULL) h->ncleanups--;
}

void *gc_tmp_alloc(VM *vm, size_t n) {
  Heap *h = &vm->heap;
  if (n > SIZE_MAX - sizeof(CHdr)) heap_exhausted(vm, n);
  cleanup_reserve(vm);
  gc_ext_charge(vm, n);
  CHdr *c = malloc(sizeof(CHdr) + n);
  if (!c) {
    gc_ext_release(h, n);
    heap_exhausted(vm, n);
  }
  c->size = n;
  c->slot = cleanup_push(h, NULL, c + 1) + 1;
  return c + 1;
}

void *gc_tmp_realloc(VM *vm, void *p, size_t n) {
  if (!p) return gc_tmp_alloc(vm, n);
  Heap *h = &vm->heap;
  CHdr *c = chdr(p);
  size_t old = c->size;
  if (n > SIZE_MAX - sizeof(CHdr)) heap_exhausted(vm, n);
  if (n > old) gc_ext_charge(vm, n - old);
  CHdr *d = realloc(c, sizeof(CHdr) + n);
  if (!d) {
    if (n > old) gc_ext_release(h, n - old);
    heap_exhausted(vm, n);
  }
  if (n < old) gc_ext_release(h, old - n);
  d->size = n;
  if (d->slot) h->cleanups[d->slot - 1].p = d + 1;
  return d + 1;
}

void gc_tmp_keep(VM *vm, void *p) {
  if (!p) return;
  CHdr *c = chdr(p);
  if (c->slot) cleanup_drop(&vm->heap, c->slot - 1);
  c->slot = 0;
}

void gc_tmp_free(VM *vm, void *p) {
  if (!p) return;
  Heap *h = &vm->heap;
  CHdr *c = chdr(p);
  if (c->slot) cleanup_drop(h, c->slot - 1);
  gc_ext_release(h, c->size);
  free(c);
}

uint32_t gc_defer(VM *vm, void (*fn)(void *), void *p) {
  cleanup_reserve(vm);
  return cleanup_push(&vm->heap, fn, p);
}

void gc_defer_cancel(VM *vm, uint32_t slot) { cleanup_drop(&vm->heap, slot); }

uint64_t gc_unwind_mark(VM *vm) { return vm->heap.cleanup_serial; }

void gc_unwind(VM *vm, uint64_t mark) {
  Heap *h = &vm->heap;
  while (h->ncleanups > 0 && h->cleanups[h->ncleanups - 1].serial >= mark) {
    Cleanup c = h->cleanups[--h->ncleanups];
    if (!c.p) continue;
    if (c.fn) {
      c.fn(c.p);
    } else {
      CHdr *b = chdr(c.p);
      gc_ext_release(h, b->size);
      free(b);
    }
  }
}


/* ---- where pages and big blocks come from ----
 *
 * A fresh page costs a page fault per 4 KiB the first time it is written,
 * and on this project's (virtualized) machines the fault itself, not the
 * clearing, is the cost: a program that grows its heap to 120 MB spent a
 * third of its time in the kernel's fault path.  So once the heap passes
 * HUGE_FROM, pages are carved from 2 MiB-aligned arenas the kernel is
 * asked to back with transparent huge pages (MADV_HUGEPAGE; the default
 * "madvise" mode of Debian's kernels honours it): one fault per 2 MiB.
 * Small heaps keep malloc'd pages, so a short script's resident size is not
 * rounded up to 2 MiB steps.  Arena pages are never returned to the system
 * one by one (that would split the huge page): an empty one goes back to
 * the pool and is reused before any new memory is touched; arenas are
 * unmapped when the heap is freed.  Where the kernel has no THP the arenas
 * are ordinary memory and nothing else changes. */
#define ARENA_BYTES ((size_t)2 << 20)
#define HUGE_FROM ((size_t)8 << 20)

struct Arena {
  Arena *next;
};

/* LeakSanitizer finds leaks by scanning malloc'd blocks, globals and stacks
 * for pointers; it does not scan mmap'd memory.  Objects in arenas and big
 * blocks point to malloc'd memory (a prototype's code, a page further down
 * a class's page list), which would look unreachable and be reported as
 * leaked at exit: under the sanitizers each mapping is registered as a
 * root region, scanned like a malloc'd block. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define SEMA_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SEMA_LSAN)
#define SEMA_LSAN 1
#endif
#ifdef SEMA_LSAN
#include <sanitizer/lsan_interface.h>
#define LSAN_ROOT(p, n) __lsan_register_root_region((p), (n))
#define LSAN_UNROOT(p, n) __lsan_unregister_root_region((p), (n))
#else
#define LSAN_ROOT(p, n) ((void)0)
#define LSAN_UNROOT(p, n) ((void)0)
#endif

static void unmap_huge(void *p, size_t bytes) {
  LSAN_UNROOT(p, bytes);
  munmap(p, bytes);
}

static void *map_huge(size_t bytes) {
  /* over-map by the alignment, then trim both ends to a 2 MiB boundary */
  size_t span = bytes + ARENA_BYTES;
  unsigned char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return NULL;
  uintptr_t start = ((uintptr_t)raw + ARENA_BYTES - 1) & ~(uintptr_t)(ARENA_BYTES - 1);
  size_t head = start - (uintptr_t)raw, tail = span - head - bytes;
  if (head) munmap(raw, head);
  if (tail) munmap((unsigned char *)start + bytes, tail);
#ifdef MADV_HUGEPAGE
  madvise((void *)start, bytes, MADV_HUGEPAGE);
#endif
  LSAN_ROOT((void *)start, bytes);
  return (void *)start;
}

static Page *page_new(VM *vm, Heap *h) {
  if (h->total < HUGE_FROM) {
    Page *p = xmalloc(vm, PAGE_BYTES);
    p->in_arena = 0;
    return p;
  }
  if (!h->page_pool) {
    /* a new arena: its first PAGE_BYTES hold the arena link (the rest of
     * that page is wasted: 1/32 of the arena, the price of not touching
     * the other pages until they are used) */
    unsigned char *a = map_huge(ARENA_BYTES);
    if (!a) heap_exhausted(vm, ARENA_BYTES);
    ((Arena *)a)->next = h->arenas;
    h->arenas = (Arena *)a;
    for (size_t off = ARENA_BYTES - PAGE_BYTES; off >= PAGE_BYTES; off -= PAGE_BYTES) {
      Page *p = (Page *)(a + off);
      p->next = h->page_pool;
      h->page_pool = p;
    }
  }
  Page *p = h->page_pool;
  h->page_pool = p->next;
  p->in_arena = 1;
  return p;
}

static void page_release(Heap *h, Page *p) {
  if (p->in_arena) {
    p->next = h->page_pool;
    h->page_pool = p;
  } else {
    free(p);
  }
}

/* Big C blocks (hash-map tables): the same reasoning as arenas; a block of
 * at least BIG_FROM bytes is its own huge-page mapping, smaller ones are
 * malloc'd.  The caller passes the size back when freeing. */
#define BIG_FROM ((size_t)1 << 20)

void *gc_big_alloc(size_t bytes) {
  if (bytes < BIG_FROM) return malloc(bytes);
  return map_huge((bytes + ARENA_BYTES - 1) & ~(ARENA_BYTES - 1));
}

void gc_big_free(void *p, size_t bytes) {
  if (!p) return;
  if (bytes < BIG_FROM) free(p);
  else unmap_huge(p, (bytes + ARENA_BYTES - 1) & ~(ARENA_BYTES - 1));
}

/* The free list of a class ran dry: carve the next batch (about 4 KB) of
 * the newest page, or start a new page.  Carving in batches instead of
 * threading a whole page at once made `sema -e 1` 9% fewer instructions
 * and touches memory only as it is used. */
static FreeSlot *refill(VM *vm, Heap *h, size_t cls) {
  size_t sz = cls * GC_GRAIN;
  Page *p = h->pages[cls];
  if (!p || p->frontier == p->nslots) {
    p = page_new(vm, h);
    p->slot_size = (uint32_t)sz;
    p->nslots = (uint32_t)((PAGE_BYTES - offsetof(Page, slots)) / sz);
    p->frontier = 0;
    p->full = 0;
    p->next = h->pages[cls];
    h->pages[cls] = p;
    h->total += PAGE_BYTES;
  }
  uint32_t batch = (uint32_t)(4096 / sz);
  if (batch == 0) batch = 1;
  uint32_t from = p->frontier, to = from + batch < p->nslots ? from + batch : p->nslots;
  FreeSlot *list = NULL;
  for (uint32_t i = to; i-- > from;) {
    FreeSlot *s = (FreeSlot *)(p->slots + (size_t)i * sz);
    s->h.type = OBJ_FREE;
    s->next = list;
    list = s;
  }
  p->frontier = to;
  return list;
}

/* The types rescanned by every minor collection (see GENERATIONS). */
#define STICKY_TYPES                                                                                  \
  ((1u << OBJ_FOREIGN) | (1u << OBJ_PROTO) | (1u << OBJ_NATIVE) | (1u << OBJ_MACRO) | (1u << OBJ_MULTI))
_Static_assert(OBJ_NTYPES <= 32, "STICKY_TYPES is a 32-bit mask");

static void obj_list_push(Obj ***v, size_t *n, size_t *cap, Obj *o) {
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 256;
    Obj **nv = realloc(*v, c * sizeof(Obj *));
    if (!nv) abort(); /* as the gray stack: collector bookkeeping, not a program's memory */
    *v = nv;
    *cap = c;
  }
  (*v)[(*n)++] = o;
}

static void sticky_push(Heap *h, Obj *o) { obj_list_push(&h->sticky, &h->nsticky, &h->capsticky, o); }

void gc_remember(VM *vm, Obj *o) {
  Heap *h = &vm->heap;
  o->mark = GC_OLD | GC_REM;
  obj_list_push(&h->remembered, &h->nrem, &h->caprem, o);
}

void *gc_alloc(VM *vm, ObjType type, size_t size) {
  Heap *h = &vm->heap;
  size = (size + GC_GRAIN - 1) & ~(size_t)(GC_GRAIN - 1);
  if (size < sizeof(FreeSlot)) size = sizeof(FreeSlot);
  Obj *o;
  if (UNLIKELY(h->live + h->allocated + size > h->trip)) count_alloc(vm, size);

  if (UNLIKELY(h->live + h->allocated + size > h->max_heap)) {
    if (!h->grace) heap_exhausted(vm, size);
    /* past the grace too: even the error cannot be built (raising would
     * allocate and land here again, without end) */
    if (h->live + h->allocated + size > h->max_heap + (h->max_heap >> 2) + (1u << 20)) {
      fprintf(stderr, "sema: out of memory: the heap limit of %zu MB is exhausted even for reporting it\n", h->max_heap >> 20);
      abort();
    }
  }
  if (LIKELY(size <= GC_MAX_SMALL)) {
    size_t cls = size / GC_GRAIN;
    FreeSlot *s = h->free[cls];
    if (UNLIKELY(!s)) s = refill(vm, h, cls);
    h->free[cls] = s->next;
    /* the next allocation of this class reads the new head's link: in a
     * big heap free slots are scattered and cold, and that load was most
     * of gc_alloc's time (inventory: 74% of its samples on it) */
    PREFETCH_W(s->next);
    o = &s->h;
  } else {
    LargeObj *l = size < SIZE_MAX - sizeof(LargeObj) - ARENA_BYTES ? gc_big_alloc(sizeof(LargeObj) + size) : NULL;
    if (!l) heap_exhausted(vm, size);
    l->size = size;
    l->next = h->large;
    h->large = l;
    o = (Obj *)l->obj;
    h->total += size;
  }
  h->allocated += size;
  if (UNLIKELY(h->allocated > h->threshold || vm->stress_gc)) h->pending = 1;
  o->type = (uint8_t)type;
  o->mark = 0;
  o->flags = 0;
  o->aux = 0;
  return o;
}

void *gc_alloc_sticky(VM *vm, ObjType type, size_t size) {
  /* STICKY_TYPES is what the verifier skips: the two must name the same types */
  assert((1u << type) & STICKY_TYPES);
  Obj *o = gc_alloc(vm, type, size);
  sticky_push(&vm->heap, o);
  return o;
}

/* ---- marking ---- */

static void gray_push(Heap *h, Obj *o) {
  if (h->ngray == h->capgray) {
    h->capgray = h->capgray ? h->capgray * 2 : 1024;
    h->gray = realloc(h->gray, h->capgray * sizeof(Obj *));
    if (!h->gray) abort();
  }
  h->gray[h->ngray++] = o;
}

static NORETURN void verify_failed(VM *vm, Obj *child);

void gc_mark_value(VM *vm, Value v) {
  if (!is_obj(v)) return;
  Obj *o = as_obj(v);
  if (o->mark) return;
  if (UNLIKELY(vm->heap.verifying)) verify_failed(vm, o);
  o->mark = GC_OLD;
  gray_push(&vm->heap, o);
}

static inline void mark(VM *vm, Value v) { gc_mark_value(vm, v); }

static void mark_children(VM *vm, Obj *o) {
  switch ((ObjType)o->type) {
  case OBJ_CONS: {
    /* walk the spine iteratively: only cars go through the gray stack */
    Cons *c = (Cons *)o;
    for (;;) {
      mark(vm, c->car);
      Value d = c->cdr;
      if (!is_obj(d)) break;
      Obj *n = as_obj(d);
      if (n->mark) break;
      n->mark = GC_OLD;
      if (n->type != OBJ_CONS) {
        gray_push(&vm->heap, n);
        break;
      }
      c = (Cons *)n;
    }
    break;
  }
  case OBJ_VECTOR: {
    Vector *v = (Vector *)o;
    for (uint32_t i = 0; i < o->aux; i++) mark(vm, v->items[i]);
    break;
  }
  case OBJ_MAP:
  case OBJ_HASHMAP:
  case OBJ_MAPNODE: map_mark_children(vm, o); break;
  case OBJ_CLOSURE: {
    Closure *c = (Closure *)o;
    gc_mark_value(vm, obj_val(c->proto));
    for (uint32_t i = 0; i < o->aux; i++) mark(vm, c->upvals[i]);
    break;
  }
  case OBJ_NATIVE:
    mark(vm, ((Native *)o)->name);
    mark(vm, ((Native *)o)->data);
    break;
  case OBJ_PROTO: {
    Proto *p = (Proto *)o;
    for (uint32_t i = 0; i < p->nconsts; i++) mark(vm, p->consts[i]);
    mark(vm, p->name);
    mark(vm, p->file);
    mark(vm, p->deopt);
    mark(vm, p->doc);
    mark(vm, p->params);
    break;
  }
  case OBJ_BOX: mark(vm, ((Box *)o)->v); break;
  case OBJ_MACRO:
    mark(vm, ((Macro *)o)->fn);
    mark(vm, ((Macro *)o)->name);
    break;
  case OBJ_MULTI: {
    Multi *m = (Multi *)o;
    mark(vm, m->name);
    mark(vm, m->dispatch);
    mark(vm, m->methods);
    mark(vm, m->deflt);
    break;
  }
  case OBJ_RECORD: {
    Record *r = (Record *)o;
    mark(vm, r->tag);
    for (uint32_t i = 0; i < o->aux; i++) mark(vm, r->fields[i]);
    break;
  }
  case OBJ_PROMISE: mark(vm, ((Promise *)o)->thunk); break;
  case OBJ_FOREIGN: {
    Foreign *f = (Foreign *)o;
    mark(vm, f->extra);
    if (f->cls->mark) f->cls->mark(vm, f);
    break;
  }
  case OBJ_STRING:
  case OBJ_BIGINT:
  case OBJ_BYTEVEC:
  case OBJ_ENV:
  case OBJ_FREE:
  case OBJ_NTYPES: break;
  }
}

static void mark_roots(VM *vm) {
  for (Value *p = vm->stack; p < vm->top; p++) mark(vm, *p);
  /* clear the dead part of the stack so stale registers never dangle */
  for (Value *p = vm->top; p < vm->stack_hw; p++) *p = NIL_VAL;
  vm->stack_hw = vm->top;
  for (CallInfo *ci = vm->ci_base; ci <= vm->ci; ci++)
    if (ci->cl) gc_mark_value(vm, obj_val(ci->cl));
  for (uint32_t i = 0; i < vm->nglobals; i++) {
    mark(vm, vm->globals[i].value);
    mark(vm, vm->globals[i].name);
  }
  for (uint32_t i = 0; i < vm->syms.count; i++) gc_mark_value(vm, obj_val(vm->syms.names[i]));
  for (uint32_t i = 0; i < vm->nroots; i++) mark(vm, vm->roots[i]);
  mark(vm, vm->error);
  mark(vm, vm->error_hint);
  mark(vm, vm->args);
  mark(vm, vm->modules);
  mark(vm, vm->loading);
  mark(vm, vm->cur_file);
  mark(vm, vm->intern_strs);
  for (int i = 0; i < VM_MAX_HELPERS; i++) mark(vm, vm->helpers[i]);
  for (Env *e = vm->env; e; e = e->parent) mark(vm, e->exports);
  for (uint32_t i = 0; i < vm->nhandlers; i++) mark(vm, vm->handlers[i].cur_file);
  mark(vm, vm->pending_hint);
  for (int i = 0; i < VM_MAX_MARKERS; i++)
    if (vm->markers[i]) vm->markers[i](vm);
}

/* ---- sweeping ---- */

/* Bytes a prototype keeps in C memory (codegen.c charges them). */
size_t gc_proto_bytes(const Proto *p) {
  return (size_t)p->ncode * (sizeof(Instr) + sizeof(uint32_t)) + (size_t)p->nconsts * sizeof(Value) +
         (size_t)p->nupvals * (sizeof(uint8_t) + sizeof(uint16_t));
}

static inline bool has_finalizer(uint8_t type) {
  return type == OBJ_PROTO || type == OBJ_FOREIGN || type == OBJ_HASHMAP;
}

/* Release what an object owns outside the heap; has_finalizer lists the
 * types that own any (keep the two in step). */
static void finalize(Heap *h, Obj *o) {
  switch (o->type) {
  case OBJ_PROTO: {
    Proto *p = (Proto *)o;
    if (p->h.flags & PROTO_CHARGED) gc_ext_release(h, gc_proto_bytes(p));
    free(p->code);
    free(p->pos);
    free(p->consts);
    free(p->upval_src);
    free(p->upval_idx);
    free(p->quick_miss);
    break;
  }
  case OBJ_FOREIGN: {
    Foreign *f = (Foreign *)o;
    if (f->cls->finalize) f->cls->finalize(f);
    if (f->ext) gc_ext_release(h, f->ext);
    break;
  }
  case OBJ_HASHMAP: hmap_finalize(h, o); break;
  default: break;
  }
}

#define PAGE_SLACK ((size_t)16 << 20)

/* Free the unmarked objects.  Marks stay: the survivors are old.  A minor
 * sweep skips the pages that were full after the last sweep: no slot of
 * theirs was free, so nothing young was allocated there and nothing in them
 * can be unmarked (GENERATIONS); their bytes count as live. */
static size_t sweep(Heap *h, bool major) {
  bool keep = h->generational; /* otherwise marks are cleared here, as no minor collection needs them */
  size_t live = 0;
  for (size_t cls = 1; cls < GC_NCLASSES; cls++) {
    FreeSlot *list = NULL;
    Page **pp = &h->pages[cls];
    while (*pp) {
      Page *p = *pp;
      if (!major && p->full) {
        live += (size_t)p->nslots * p->slot_size;
        pp = &p->next;
        continue;
      }
      FreeSlot *page_list = list;
      uint32_t used = 0;
      for (uint32_t i = 0; i < p->frontier; i++) {
        Obj *o = (Obj *)(p->slots + (size_t)i * p->slot_size);
        if (o->type != OBJ_FREE) {
          if (o->mark) {
            if (!keep) o->mark = 0;
            used++;
            continue;
          }
          /* most dead objects (conses, maps, strings) own no C memory:
           * test inline rather than call finalize for each */
          if (has_finalizer(o->type)) finalize(h, o);
          o->type = OBJ_FREE;
        }
        ((FreeSlot *)o)->next = list;
        list = (FreeSlot *)o;
      }
      if (used == 0 && h->total > (h->live + PAGE_BYTES) * 2 + PAGE_SLACK) {
        /* release an empty page when the heap is mostly garbage, but keep
         * enough for the next cycle: refilling fresh pages costs more */
        list = page_list;
        *pp = p->next;
        h->total -= PAGE_BYTES;
        page_release(h, p);
        continue;
      }
      p->full = used == p->nslots;
      live += (size_t)used * p->slot_size;
      pp = &p->next;
    }
    h->free[cls] = list;
  }
  LargeObj **lp = &h->large;
  while (*lp) {
    LargeObj *l = *lp;
    Obj *o = (Obj *)l->obj;
    if (o->mark) {
      if (!keep) o->mark = 0;
      live += l->size;
      lp = &l->next;
    } else {
      finalize(h, o);
      *lp = l->next;
      h->total -= l->size;
      gc_big_free(l, sizeof(LargeObj) + l->size);
    }
  }
  return live;
}

/* Before a major collection: every object young again, nothing remembered. */
static void clear_marks(Heap *h) {
  for (size_t cls = 1; cls < GC_NCLASSES; cls++)
    for (Page *p = h->pages[cls]; p; p = p->next)
      for (uint32_t i = 0; i < p->frontier; i++) ((Obj *)(p->slots + (size_t)i * p->slot_size))->mark = 0;
  for (LargeObj *l = h->large; l; l = l->next) ((Obj *)l->obj)->mark = 0;
  h->nrem = 0;
}

/* ---- SEMA_GC_VERIFY: the generational invariant, checked ---- */

/* The collector's own names (val_type_name folds several into "object"). */
static const char *type_name(uint8_t t) {
  static const char *const names[OBJ_NTYPES] = {
      [OBJ_FREE] = "free",       [OBJ_STRING] = "string",   [OBJ_BIGINT] = "bigint",   [OBJ_CONS] = "cons",
      [OBJ_VECTOR] = "vector",   [OBJ_MAP] = "map",         [OBJ_HASHMAP] = "hashmap", [OBJ_MAPNODE] = "mapnode",
      [OBJ_CLOSURE] = "closure", [OBJ_NATIVE] = "native",   [OBJ_PROTO] = "proto",     [OBJ_BOX] = "box",
      [OBJ_MACRO] = "macro",     [OBJ_MULTI] = "multi",     [OBJ_RECORD] = "record",   [OBJ_PROMISE] = "promise",
      [OBJ_BYTEVEC] = "bytevector", [OBJ_ENV] = "env",      [OBJ_FOREIGN] = "foreign"};
  return t < OBJ_NTYPES && names[t] ? names[t] : "?";
}

static void verify_failed(VM *vm, Obj *child) {
  Obj *o = vm->heap.verifying;
  fprintf(stderr, "sema: gc verify: old %s %p points to young %s %p, and no barrier remembered it\n",
          type_name(o->type), (void *)o, type_name(child->type), (void *)child);
  abort();
}

static void verify_object(VM *vm, Obj *o) {
  if (o->type == OBJ_FREE || o->mark != GC_OLD || ((1u << o->type) & STICKY_TYPES)) return;
  vm->heap.verifying = o;
  if (o->type == OBJ_CONS) { /* one cell: mark_children would walk the spine */
    gc_mark_value(vm, ((Cons *)o)->car);
    gc_mark_value(vm, ((Cons *)o)->cdr);
  } else {
    mark_children(vm, o);
  }
  vm->heap.verifying = NULL;
}

static void verify_heap(VM *vm) {
  Heap *h = &vm->heap;
  for (size_t cls = 1; cls < GC_NCLASSES; cls++)
    for (Page *p = h->pages[cls]; p; p = p->next)
      for (uint32_t i = 0; i < p->frontier; i++) verify_object(vm, (Obj *)(p->slots + (size_t)i * p->slot_size));
  for (LargeObj *l = h->large; l; l = l->next) verify_object(vm, (Obj *)l->obj);
}

/* Under SEMA_GC_VERIFY collections come every VERIFY_DEBT bytes, so objects
 * stay young long enough to be stored into old ones between two of them.
 * (GC stress does not do that: collecting at every safe point promotes each
 * new object while it is still in a register, before any store.) */
#define VERIFY_DEBT ((size_t)64 << 10)

/* Minor collections only: the old objects whose children may be young. */
static void mark_remembered(VM *vm) {
  Heap *h = &vm->heap;
  for (size_t i = 0; i < h->nrem; i++) {
    Obj *o = h->remembered[i];
    o->mark = GC_OLD;
    mark_children(vm, o);
  }
  h->nrem = 0;
  for (size_t i = 0; i < h->nsticky; i++)
    if (h->sticky[i]->mark) mark_children(vm, h->sticky[i]);
}

/* After marking: sticky objects about to be freed leave the list. */
static void prune_sticky(Heap *h) {
  size_t k = 0;
  for (size_t i = 0; i < h->nsticky; i++)
    if (h->sticky[i]->mark) h->sticky[k++] = h->sticky[i];
  h->nsticky = k;
}

void gc_collect(VM *vm) {
  Heap *h = &vm->heap;
  bool major = h->next_major || h->grace;
  size_t live_before = h->live, allocated = h->allocated;
  if (major) {
    if (h->generational) clear_marks(h); /* else the last sweep cleared them */
  } else if (h->verify) {
    verify_heap(vm);
  }
  mark_roots(vm);
  if (!major) mark_remembered(vm);
  while (h->ngray > 0) mark_children(vm, h->gray[--h->ngray]);
  prune_sticky(h);
  h->live = sweep(h, major) + h->ext;
  if (major) {
    h->old_base = h->live;
    h->majors++;
  }
  h->allocated = 0;
  size_t min_debt = h->verify ? VERIFY_DEBT : GC_MIN_DEBT;
  if (h->generational) {
    /* a minor collection every live/2 bytes; a major one when the live bytes
     * have doubled since the last major one, or when a minor one kept more
     * than half of what was allocated (the young did not die young: marking
     * them twice, now and at the next major, would cost more) */
    h->threshold = h->live / 2 < min_debt ? min_debt : h->live / 2;
    size_t survived = h->live > live_before ? h->live - live_before : 0;
    h->next_major = h->live > 2 * h->old_base + GC_MIN_DEBT || (!major && survived > allocated / 2);
  } else {
    h->threshold = h->live < min_debt ? min_debt : h->live;
    h->next_major = true;
  }
  /* near the limit, collect before reaching it rather than fail with garbage still around */
  size_t room = h->live < h->max_heap ? (h->max_heap - h->live) / 2 : 0;
  if (h->threshold > room) {
    h->threshold = room > (64u << 10) ? room : (64u << 10);
    h->next_major = true;
  }
  /* GC stress collects at every safe point: every eighth is major, so both kinds run */
  if (vm->stress_gc && h->collections % 8 == 7) h->next_major = true;
  h->grace = 0;
  h->pending = 0;
  h->collections++;
}

void gc_each_object(VM *vm, ObjType type, void (*fn)(VM *, Obj *, void *), void *ud) {
  Heap *h = &vm->heap;
  for (size_t cls = 1; cls < GC_NCLASSES; cls++)
    for (Page *p = h->pages[cls]; p; p = p->next)
      for (uint32_t i = 0; i < p->frontier; i++) {
        Obj *o = (Obj *)(p->slots + (size_t)i * p->slot_size);
        if (o->type == (uint8_t)type) fn(vm, o, ud);
      }
  for (LargeObj *l = h->large; l; l = l->next) {
    Obj *o = (Obj *)l->obj;
    if (o->type == (uint8_t)type) fn(vm, o, ud);
  }
}

/* Only the classes that ever held an object with a finalizer are walked
 * (walking every slot of every page was 9% of `sema -e 1`). */
void gc_heap_free(VM *vm) {
  Heap *h = &vm->heap;
  gc_unwind(vm, 0);
  free(h->cleanups);
  free(h->remembered);
  free(h->sticky);
  if (h->fail_at) /* the memory-failure sweep stops here (tests/reliability/oom_sweep.sh) */
    fprintf(stderr, "sema: SEMA_FAIL_ALLOC=%llu not reached: %llu counted allocations\n",
            (unsigned long long)h->fail_at, (unsigned long long)h->nallocs);
  for (size_t cls = 1; cls < GC_NCLASSES; cls++) {
    Page *p = h->pages[cls];
    while (p) {
      Page *n = p->next;
      if (h->finalizable[cls])
        for (uint32_t i = 0; i < p->frontier; i++) {
          Obj *o = (Obj *)(p->slots + (size_t)i * p->slot_size);
          if (o->type != OBJ_FREE) finalize(h, o);
        }
      if (!p->in_arena) free(p);
      p = n;
    }
  }
  LargeObj *l = h->large;
  while (l) {
    LargeObj *n = l->next;
    finalize(h, (Obj *)l->obj);
    gc_big_free(l, sizeof(LargeObj) + l->size);
    l = n;
  }
  while (h->arenas) {
    Arena *a = h->arenas;
    h->arenas = a->next;
    unmap_huge(a, ARENA_BYTES);
  }
  free(h->gray);
  memset(h, 0, sizeof *h);
}
