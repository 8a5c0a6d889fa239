/* map.h - the two immutable map kinds.
 *
 * Sorted maps ({...} literals, hash-map) keep entries ordered by the total
 * order of language.md §5.3 (val_compare).  Hash maps (hashmap/new) compare
 * keys with equal? (val_equal / val_hash).  Both are persistent: every update
 * returns a new map and never changes the old one.
 */
#ifndef SEMA_MAP_H
#define SEMA_MAP_H

#include "runtime.h"

/* ---- sorted maps (OBJ_MAP) ---- */
Value map_empty(VM *vm);
Value map_assoc(VM *vm, Value m, Value k, Value v);
Value map_dissoc(VM *vm, Value m, Value k);
/* map_assoc on a flat map that only the caller holds (it came from the
 * caller's previous map_assoc, which made a new map): may update in place. */
Value map_assoc_fresh(VM *vm, Value m, Value k, Value v);
bool map_get(Value m, Value k, Value *out);
size_t map_count(Value m);

/* ---- hash maps (OBJ_HASHMAP) ---- */
Value hmap_empty(VM *vm);
Value hmap_assoc(VM *vm, Value m, Value k, Value v);
Value hmap_dissoc(VM *vm, Value m, Value k);
bool hmap_get(Value m, Value k, Value *out);
size_t hmap_count(Value m);

/* Owned update: the caller guarantees the old map is dead after the call
 * (compiler-proven linear use under a token that is never reused). */
Value hmap_assoc_owned(VM *vm, Value m, Value k, Value v, uint32_t token);
Value hmap_dissoc_owned(VM *vm, Value m, Value k, uint32_t token);
Value map_assoc_owned(VM *vm, Value m, Value k, Value v, uint32_t token);
Value map_dissoc_owned(VM *vm, Value m, Value k, uint32_t token);
void hmap_finalize(Heap *h, Obj *o); /* frees an owned table's slots (gc.c) */

/* ---- either kind ---- */
static inline Value anymap_assoc_owned(VM *vm, Value m, Value k, Value v, uint32_t token) {
  return OBJ_TYPE(m) == OBJ_MAP ? map_assoc_owned(vm, m, k, v, token) : hmap_assoc_owned(vm, m, k, v, token);
}
static inline Value anymap_dissoc_owned(VM *vm, Value m, Value k, uint32_t token) {
  return OBJ_TYPE(m) == OBJ_MAP ? map_dissoc_owned(vm, m, k, token) : hmap_dissoc_owned(vm, m, k, token);
}
static inline bool anymap_get(Value m, Value k, Value *out) {
  return OBJ_TYPE(m) == OBJ_MAP ? map_get(m, k, out) : hmap_get(m, k, out);
}
static inline Value anymap_assoc(VM *vm, Value m, Value k, Value v) {
  return OBJ_TYPE(m) == OBJ_MAP ? map_assoc(vm, m, k, v) : hmap_assoc(vm, m, k, v);
}
static inline Value anymap_dissoc(VM *vm, Value m, Value k) {
  return OBJ_TYPE(m) == OBJ_MAP ? map_dissoc(vm, m, k) : hmap_dissoc(vm, m, k);
}
static inline size_t anymap_count(Value m) { return OBJ_TYPE(m) == OBJ_MAP ? map_count(m) : hmap_count(m); }
static inline Value anymap_empty_like(VM *vm, Value m) { return OBJ_TYPE(m) == OBJ_MAP ? map_empty(vm) : hmap_empty(vm); }

/* Iteration.  Sorted maps iterate in key order; hash maps in an unspecified
 * order.  The iterator holds no heap references of its own beyond the map
 * itself, which the caller must keep reachable. */
#define MAPITER_DEPTH 16
typedef struct {
  Value map;
  int depth;
  struct {
    Obj *node;
    uint32_t i;
  } stack[MAPITER_DEPTH];
} MapIter;
void map_iter_init(MapIter *it, Value m);
bool map_iter_next(MapIter *it, Value *k, Value *v);

/* Entries of either kind, sorted by key (for printing and ordering): fills
 * a malloc'd array of 2*count values (k0 v0 k1 v1 ...); caller frees. */
/* With a VM the array is a counted block freed on unwind (gc_tmp_alloc); without
 * one (the allocation-free comparisons) plain malloc.  Free with map_entries_free. */
Value *map_sorted_entries(struct VM *vm, Value m, size_t *count);
void map_entries_free(struct VM *vm, Value *e);

/* GC support: mark the children of a map object (OBJ_MAP, OBJ_HASHMAP, OBJ_MAPNODE). */
void map_mark_children(VM *vm, Obj *o);

#endif
