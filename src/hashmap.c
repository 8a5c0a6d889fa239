/* hashmap.c - persistent hash maps (OBJ_HASHMAP): a CHAMP trie.
 *
 * Keys are compared with val_equal and hashed with val_hash (language.md
 * §5.5).  A map of at most HMAP_FLAT_MAX entries is a flat array of pairs in
 * the root, searched linearly.  Larger maps are a CHAMP trie: each node
 * consumes 5 bits of the 64-bit hash and has separate bitmaps for inline
 * entries and child nodes, so a node stores exactly what it holds.  After 13
 * levels the hash is used up and keys whose hashes are fully equal share a
 * collision node (a plain list of pairs).  Updates copy the path.
 *
 * Canonical form: a non-root node never holds just one entry; removing keys
 * pulls a lone remaining entry up into its parent, so the trie stays as
 * shallow as the hashes allow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "map.h"
#include "runtime.h"
#include "state.h"

/* Small maps: a linear scan over <= 8 pairs costs about what one hash does. */
#ifndef HMAP_FLAT_MAX
#define HMAP_FLAT_MAX 8
#endif
#define HBITS 5
#define HASH_BITS 64

/* Flags of hash-map nodes (OBJ_MAPNODE).  MN_HASH tells them apart from
 * sorted-map nodes (map.c). */
#define MN_HASH 0x8000u
#define MN_COLL 0x4000u

typedef struct {
  Obj h;          /* aux: entry count */
  uint32_t flat;  /* HM_FLAT: entries inline in kv; HM_TRIE: kv[0] is the root node; HM_TABLE: see below */
  uint32_t owner; /* owner token of an owned trie or table (0 = none) */
  Value kv[];
} HMap;

#define HM_TRIE 0
#define HM_FLAT 1
/* An owned map that outgrew the flat form is a mutable open-addressing table
 * (linear probing, malloc'd slots; kv[0] holds the slot pointer, kv[1] the
 * capacity).  Only its owner updates it in place; any other update first
 * freezes it, in place, into the equivalent trie.  Allocated with room for
 * two values so that the trie root fits when it freezes. */
#define HM_TABLE 2
typedef struct {
  Value k, v; /* k == UNBOUND_VAL: empty; hashes are recomputed when growing (strings cache theirs) */
} HSlot;

/* Sized exactly; transients (later) will allocate owned nodes with room to grow. */
typedef struct {
  Obj h;            /* flags: MN_HASH, plus MN_COLL for a collision node; aux: owner token (0 = none) */
  uint32_t datamap; /* bits with an inline entry; collision node: entry count */
  uint32_t nodemap; /* bits with a child node; collision node: 0 */
  Value v[];        /* entry pairs in bit order, then the children in bit order */
} HNode;

void hmap_iter_init(MapIter *it, Value m);
bool hmap_iter_next(MapIter *it, Value *k, Value *v);
void hmap_mark_children(VM *vm, Obj *o);

static inline HMap *hmap(Value m) { return (HMap *)as_obj(m); }
static inline HSlot *tbl_slots(const HMap *s) { return (HSlot *)(uintptr_t)s->kv[0]; }
static inline uint32_t tbl_cap(const HMap *s) { return (uint32_t)s->kv[1]; }
static inline HNode *hmap_root(const HMap *s) { return (HNode *)as_obj(s->kv[0]); }
static inline uint32_t popc(uint32_t x) { return (uint32_t)__builtin_popcount(x); }
static inline uint32_t frag(uint64_t hash, unsigned shift) { return (uint32_t)(hash >> shift) & 31u; }
static inline bool is_coll(const HNode *n) { return n->h.flags & MN_COLL; }
/* Entries stored inline in a node. */
static inline uint32_t hn_ndata(const HNode *n) { return is_coll(n) ? n->datamap : popc(n->datamap); }
static inline uint32_t hn_nvals(const HNode *n) { return 2 * hn_ndata(n) + (is_coll(n) ? 0 : popc(n->nodemap)); }
static inline HNode *hn_at(const HNode *n, uint32_t i) { return (HNode *)as_obj(n->v[i]); }
/* A node holding exactly one entry and no children: its parent absorbs it. */
static inline bool hn_single(const HNode *n) { return hn_ndata(n) == 1 && (is_coll(n) || n->nodemap == 0); }

static HMap *hmap_alloc(VM *vm, uint32_t count, uint32_t flat, uint32_t nvals) {
  HMap *s = gc_alloc(vm, OBJ_HASHMAP, sizeof(HMap) + nvals * sizeof(Value));
  gc_note_finalizer(&vm->heap, sizeof(HMap) + nvals * sizeof(Value));
  s->h.flags = 0;
  s->h.aux = count;
  s->flat = flat;
  s->owner = 0;
  return s;
}

static Value hmap_tree(VM *vm, uint32_t count, HNode *root) {
  HMap *s = hmap_alloc(vm, count, false, 1);
  s->kv[0] = obj_val(root);
  return obj_val(s);
}

static HNode *hn_alloc(VM *vm, uint16_t flags, uint32_t dm, uint32_t nm, uint32_t nvals) {
  HNode *n = gc_alloc(vm, OBJ_MAPNODE, sizeof(HNode) + nvals * sizeof(Value));
  n->h.flags = flags;
  n->h.aux = 0;
  n->datamap = dm;
  n->nodemap = nm;
  return n;
}

/* Copy of o with new bitmaps, the values ins[0..nins) inserted before old
 * index `at`, and old values [del, del+ndel) left out.  Every trie edit is
 * one of these. */
static HNode *hn_edit(VM *vm, const HNode *o, uint32_t dm, uint32_t nm, uint32_t at, const Value *ins, uint32_t nins,
                      uint32_t del, uint32_t ndel) {
  uint32_t n = hn_nvals(o);
  HNode *r = hn_alloc(vm, o->h.flags, dm, nm, n + nins - ndel);
  Value *out = r->v;
  for (uint32_t p = 0; p <= n; p++) {
    if (p == at)
      for (uint32_t j = 0; j < nins; j++) *out++ = ins[j];
    if (p < n && (p < del || p >= del + ndel)) *out++ = o->v[p];
  }
  return r;
}

static HNode *hn_empty(VM *vm) { return hn_alloc(vm, MN_HASH, 0, 0, 0); }

/* The smallest subtrie at `shift` holding two distinct keys. */
static HNode *hn_pair(VM *vm, unsigned shift, Value k1, Value v1, uint64_t h1, Value k2, Value v2, uint64_t h2) {
  if (shift >= HASH_BITS) {
    HNode *c = hn_alloc(vm, MN_HASH | MN_COLL, 2, 0, 4);
    c->v[0] = k1, c->v[1] = v1, c->v[2] = k2, c->v[3] = v2;
    return c;
  }
  uint32_t b1 = frag(h1, shift), b2 = frag(h2, shift);
  if (b1 == b2) {
    HNode *n = hn_alloc(vm, MN_HASH, 0, 1u << b1, 1);
    n->v[0] = obj_val(hn_pair(vm, shift + HBITS, k1, v1, h1, k2, v2, h2));
    return n;
  }
  HNode *n = hn_alloc(vm, MN_HASH, (1u << b1) | (1u << b2), 0, 4);
  int first = b1 < b2 ? 0 : 2;
  n->v[first] = k1, n->v[first + 1] = v1;
  n->v[2 - first] = k2, n->v[3 - first] = v2;
  return n;
}

static HNode *coll_assoc(VM *vm, HNode *nd, Value k, Value v, bool *added) {
  uint32_t n = nd->datamap;
  for (uint32_t i = 0; i < n; i++)
    if (val_equal(nd->v[2 * i], k)) {
      if (nd->v[2 * i + 1] == v) return nd;
      return hn_edit(vm, nd, n, 0, 2 * i + 1, &v, 1, 2 * i + 1, 1);
    }
  *added = true;
  Value kv[2] = {k, v};
  return hn_edit(vm, nd, n + 1, 0, 2 * n, kv, 2, 0, 0);
}

/* Insert or replace k (hash `hash`) in the subtrie nd at `shift`; returns nd if nothing changed. */
static HNode *hn_assoc(VM *vm, HNode *nd, unsigned shift, uint64_t hash, Value k, Value v, bool *added) {
  if (is_coll(nd)) return coll_assoc(vm, nd, k, v, added);
  uint32_t bit = 1u << frag(hash, shift), dm = nd->datamap, nm = nd->nodemap;
  uint32_t di = popc(dm & (bit - 1)), ci = 2 * popc(dm) + popc(nm & (bit - 1));
  if (dm & bit) {
    Value ek = nd->v[2 * di], ev = nd->v[2 * di + 1];
    if (val_equal(ek, k)) {
      if (ev == v) return nd;
      return hn_edit(vm, nd, dm, nm, 2 * di + 1, &v, 1, 2 * di + 1, 1);
    }
    *added = true; /* two keys now share this slot: push both down a level */
    Value c = obj_val(hn_pair(vm, shift + HBITS, ek, ev, val_hash(ek), k, v, hash));
    return hn_edit(vm, nd, dm ^ bit, nm | bit, ci, &c, 1, 2 * di, 2);
  }
  if (nm & bit) {
    HNode *child = hn_at(nd, ci);
    HNode *nc = hn_assoc(vm, child, shift + HBITS, hash, k, v, added);
    if (nc == child) return nd;
    Value c = obj_val(nc);
    return hn_edit(vm, nd, dm, nm, ci, &c, 1, ci, 1);
  }
  *added = true;
  Value kv[2] = {k, v};
  return hn_edit(vm, nd, dm | bit, nm, 2 * di, kv, 2, 0, 0);
}

/* Remove k from the subtrie nd; returns nd if k is absent.  The result may be
 * a single-entry node, which the caller pulls up. */
static HNode *hn_dissoc(VM *vm, HNode *nd, unsigned shift, uint64_t hash, Value k) {
  if (is_coll(nd)) {
    for (uint32_t i = 0; i < nd->datamap; i++)
      if (val_equal(nd->v[2 * i], k)) return hn_edit(vm, nd, nd->datamap - 1, 0, 0, NULL, 0, 2 * i, 2);
    return nd;
  }
  uint32_t bit = 1u << frag(hash, shift), dm = nd->datamap, nm = nd->nodemap;
  uint32_t di = popc(dm & (bit - 1)), ci = 2 * popc(dm) + popc(nm & (bit - 1));
  if (dm & bit) {
    if (!val_equal(nd->v[2 * di], k)) return nd;
    return hn_edit(vm, nd, dm ^ bit, nm, 0, NULL, 0, 2 * di, 2);
  }
  if (!(nm & bit)) return nd;
  HNode *child = hn_at(nd, ci);
  HNode *nc = hn_dissoc(vm, child, shift + HBITS, hash, k);
  if (nc == child) return nd;
  if (!hn_single(nc)) {
    Value c = obj_val(nc);
    return hn_edit(vm, nd, dm, nm, ci, &c, 1, ci, 1);
  }
  if (dm == 0 && nm == bit) return nc; /* we would hold only that entry: let our parent absorb it */
  return hn_edit(vm, nd, dm | bit, nm ^ bit, 2 * di, nc->v, 2, ci, 1);
}

/* ---- public operations ---- */

/* ---- the owned table ---- */

/* Integer keys hash to themselves, so runs of nearby keys fill nearby slots
 * (as in Lua); a probe run longer than TBL_MAX_PROBE switches the table to
 * the mixed hash for good, so a regular stride cannot make it degrade. */
#define TBL_MIXED 0x1u
#define TBL_MAX_PROBE 40

static inline uint64_t tbl_hash(const HMap *s, Value k) {
  return (!(s->h.flags & TBL_MIXED) && is_small_int(k)) ? (uint64_t)small_int_of(k) : val_hash(k);
}

/* x is a stored key: immediates other than doubles are equal only when identical */
static inline bool key_eq(Value x, Value k) { return x == k || ((is_obj(k) || is_double(k)) && val_equal(x, k)); }

static const HSlot *tbl_find(const HMap *s, uint64_t hash, Value k) {
  const HSlot *sl = tbl_slots(s);
  uint32_t mask = tbl_cap(s) - 1;
  for (uint32_t i = (uint32_t)hash & mask;; i = (i + 1) & mask) {
    Value x = sl[i].k;
    if (x == UNBOUND_VAL || key_eq(x, k)) return &sl[i];
  }
}

/* Table slots are C memory counted against the heap limit (gc.c): a table
 * that cannot grow raises "out of memory" before anything changes. */
static HSlot *tbl_new_slots(VM *vm, uint32_t cap) {
  size_t bytes = (size_t)cap * sizeof(HSlot);
  gc_ext_charge(vm, bytes);
  HSlot *sl = gc_big_alloc(bytes);
  if (!sl) {
    gc_ext_release(&vm->heap, bytes);
    gc_oom(vm, bytes);
  }
  for (uint32_t i = 0; i < cap; i++) sl[i].k = UNBOUND_VAL;
  return sl;
}

static void tbl_free_slots(Heap *h, HSlot *sl, uint32_t cap) {
  gc_big_free(sl, (size_t)cap * sizeof(HSlot));
  if (sl) gc_ext_release(h, (size_t)cap * sizeof(HSlot));
}

static void tbl_rehash(VM *vm, HMap *s, uint32_t cap) {
  HSlot *old = tbl_slots(s);
  uint32_t ocap = tbl_cap(s), mask = cap - 1;
  HSlot *sl = tbl_new_slots(vm, cap);
  for (uint32_t i = 0; i < ocap; i++) {
    if (old[i].k == UNBOUND_VAL) continue;
    uint32_t j = (uint32_t)tbl_hash(s, old[i].k) & mask;
    while (sl[j].k != UNBOUND_VAL) j = (j + 1) & mask;
    sl[j] = old[i];
  }
  tbl_free_slots(&vm->heap, old, ocap);
  s->kv[0] = (Value)(uintptr_t)sl;
  s->kv[1] = cap;
}

/* Every store into a table goes through here: the table's slots are C
 * memory the HMap owns, so the barrier is on the HMap (gc.c, GENERATIONS). */
static void tbl_put(VM *vm, HMap *s, Value k, Value v) {
  gc_barrier(vm, s);
  if ((s->h.aux + 1) * 4 > tbl_cap(s) * 3) tbl_rehash(vm, s, tbl_cap(s) * 4); /* x4: half the rehash work of doubling */
  for (;;) {
    uint64_t hash = tbl_hash(s, k);
    HSlot *sl = tbl_slots(s);
    uint32_t mask = tbl_cap(s) - 1, probes = 0;
    for (uint32_t i = (uint32_t)hash & mask;; i = (i + 1) & mask, probes++) {
      Value x = sl[i].k;
      if (x != UNBOUND_VAL && key_eq(x, k)) {
        sl[i].v = v;
        return;
      }
      if (x == UNBOUND_VAL) {
        if (probes > TBL_MAX_PROBE && !(s->h.flags & TBL_MIXED)) break;
        sl[i] = (HSlot){k, v};
        s->h.aux++;
        return;
      }
    }
    s->h.flags |= TBL_MIXED;
    tbl_rehash(vm, s, tbl_cap(s));
  }
}

/* A new owned table holding the n flat pairs of kv. */
static HMap *tbl_from_flat(VM *vm, const Value *kv, uint32_t n, uint32_t token) {
  HMap *t = hmap_alloc(vm, 0, HM_TABLE, 2);
  t->owner = token;
  t->kv[0] = 0; /* no slots yet: what the finalizer sees if the next line raises */
  t->kv[1] = 0;
  t->kv[0] = (Value)(uintptr_t)tbl_new_slots(vm, 32);
  t->kv[1] = 32;
  for (uint32_t i = 0; i < n; i++) tbl_put(vm, t, kv[2 * i], kv[2 * i + 1]);
  return t;
}

/* Turn a table into the equal trie, in place (its owner has let go of it). */
static void tbl_freeze(VM *vm, HMap *s) {
  HSlot *sl = tbl_slots(s);
  uint32_t cap = tbl_cap(s);
  HNode *root = hn_empty(vm);
  bool added;
  for (uint32_t i = 0; i < cap; i++)
    if (sl[i].k != UNBOUND_VAL) root = hn_assoc(vm, root, 0, val_hash(sl[i].k), sl[i].k, sl[i].v, &added);
  tbl_free_slots(&vm->heap, sl, cap);
  s->flat = HM_TRIE;
  s->owner = 0;
  s->h.flags = 0;
  s->kv[0] = obj_val(root);
  s->kv[1] = NIL_VAL;
  gc_barrier(vm, s);
}

void hmap_finalize(Heap *h, Obj *o) {
  HMap *s = (HMap *)o;
  if (s->flat == HM_TABLE) tbl_free_slots(h, tbl_slots(s), tbl_cap(s));
}

Value hmap_empty(VM *vm) { return obj_val(hmap_alloc(vm, 0, true, 0)); }

size_t hmap_count(Value m) { return hmap(m)->h.aux; }

/* Index of k among the n flat pairs, or -1. */
static int flat_find(const Value *kv, uint32_t n, Value k) {
  for (uint32_t i = 0; i < n; i++)
    if (val_equal(kv[2 * i], k)) return (int)i;
  return -1;
}

bool hmap_get(Value m, Value k, Value *out) {
  HMap *s = hmap(m);
  const Value *kv = s->kv;
  uint32_t n = s->h.aux;
  if (s->flat == HM_TABLE) {
    const HSlot *e = tbl_find(s, tbl_hash(s, k), k);
    if (e->k == UNBOUND_VAL) return false;
    if (out) *out = e->v;
    return true;
  }
  if (!s->flat) {
    uint64_t hash = val_hash(k);
    const HNode *nd = hmap_root(s);
    for (unsigned shift = 0; !is_coll(nd); shift += HBITS) {
      uint32_t bit = 1u << frag(hash, shift);
      if (nd->datamap & bit) {
        uint32_t di = popc(nd->datamap & (bit - 1));
        if (!val_equal(nd->v[2 * di], k)) return false;
        if (out) *out = nd->v[2 * di + 1];
        return true;
      }
      if (!(nd->nodemap & bit)) return false;
      nd = hn_at(nd, 2 * popc(nd->datamap) + popc(nd->nodemap & (bit - 1)));
    }
    kv = nd->v, n = nd->datamap;
  }
  int i = flat_find(kv, n, k);
  if (i >= 0 && out) *out = kv[2 * i + 1];
  return i >= 0;
}

Value hmap_assoc(VM *vm, Value m, Value k, Value v) {
  HMap *s = hmap(m);
  uint32_t n = s->h.aux;
  if (s->flat == HM_TABLE) tbl_freeze(vm, s);
  if (!s->flat) {
    bool added = false;
    HNode *root = hmap_root(s), *nr = hn_assoc(vm, root, 0, val_hash(k), k, v, &added);
    return nr == root ? m : hmap_tree(vm, n + added, nr);
  }
  int i = flat_find(s->kv, n, k);
  if (i >= 0 && s->kv[2 * i + 1] == v) return m;
  if (i < 0 && n == HMAP_FLAT_MAX) { /* outgrown: build the trie */
    bool added = false;
    HNode *root = hn_empty(vm);
    for (uint32_t j = 0; j < n; j++) root = hn_assoc(vm, root, 0, val_hash(s->kv[2 * j]), s->kv[2 * j], s->kv[2 * j + 1], &added);
    return hmap_tree(vm, n + 1, hn_assoc(vm, root, 0, val_hash(k), k, v, &added));
  }
  uint32_t nn = i < 0 ? n + 1 : n;
  HMap *r = hmap_alloc(vm, nn, true, 2 * nn);
  memcpy(r->kv, s->kv, 2 * n * sizeof(Value));
  if (i < 0) {
    r->kv[2 * n] = k;
    r->kv[2 * n + 1] = v;
  } else
    r->kv[2 * i + 1] = v;
  return obj_val(r);
}

/* ---- owned updates ----
 *
 * hmap_assoc_owned is assoc for a caller that has proven the old map dead
 * once the update is done (see docs/design.md, "Owned updates").  Nodes and
 * roots created under a token carry it (node aux / root owner); a node that
 * carries the caller's token was made by this same owner and is reachable only
 * through the map being updated, so it is changed in place.  Anything else is
 * copied once, and the copy is tagged, so a loop of updates over the same keys
 * settles into pure in-place stores.  Tokens are never reused. */

static HNode *own(HNode *n, uint32_t token) {
  n->h.aux = token;
  return n;
}

static HNode *hn_assoc_owned(VM *vm, HNode *nd, unsigned shift, uint64_t hash, Value k, Value v, bool *added,
                             uint32_t token) {
  if (nd->h.aux != token || is_coll(nd)) {
    HNode *r = hn_assoc(vm, nd, shift, hash, k, v, added);
    return r == nd ? nd : own(r, token); /* children below stay shared until updated */
  }
  gc_barrier(vm, nd); /* a tagged node changes in place below: it may be old */
  uint32_t bit = 1u << frag(hash, shift), dm = nd->datamap, nm = nd->nodemap;
  uint32_t di = popc(dm & (bit - 1)), ci = 2 * popc(dm) + popc(nm & (bit - 1));
  if ((dm & bit) && val_equal(nd->v[2 * di], k)) {
    nd->v[2 * di + 1] = v;
    return nd;
  }
  if (nm & bit) {
    HNode *child = hn_at(nd, ci);
    HNode *nc = hn_assoc_owned(vm, child, shift + HBITS, hash, k, v, added, token);
    if (nc != child) nd->v[ci] = obj_val(nc);
    return nd;
  }
  return own(hn_assoc(vm, nd, shift, hash, k, v, added), token); /* the node grows: reallocate it */
}

Value hmap_assoc_owned(VM *vm, Value m, Value k, Value v, uint32_t token) {
  HMap *s = hmap(m);
  if (!token) return hmap_assoc(vm, m, k, v);
  if (s->flat == HM_TABLE && s->owner == token) {
    tbl_put(vm, s, k, v);
    return m;
  }
  if (s->flat == HM_FLAT && s->h.aux == HMAP_FLAT_MAX && flat_find(s->kv, s->h.aux, k) < 0) {
    HMap *t = tbl_from_flat(vm, s->kv, s->h.aux, token); /* outgrown while owned: become a table */
    tbl_put(vm, t, k, v);
    return obj_val(t);
  }
  if (s->owner != token || s->flat) {
    Value r = hmap_assoc(vm, m, k, v);
    if (!hmap(r)->flat && r != m) {
      hmap(r)->owner = token;
      own(hmap_root(hmap(r)), token);
    }
    return r;
  }
  bool added = false;
  HNode *root = hmap_root(s), *nr = hn_assoc_owned(vm, root, 0, val_hash(k), k, v, &added, token);
  s->kv[0] = obj_val(nr);
  s->h.aux += added;
  gc_barrier(vm, s);
  return m;
}

/* Copy all pairs of a subtrie (depth bounded by the hash length). */
static Value *hn_collect(const HNode *nd, Value *out) {
  uint32_t nd2 = 2 * hn_ndata(nd), nv = hn_nvals(nd);
  memcpy(out, nd->v, nd2 * sizeof(Value));
  out += nd2;
  for (uint32_t i = nd2; i < nv; i++) out = hn_collect(hn_at(nd, i), out);
  return out;
}

Value hmap_dissoc(VM *vm, Value m, Value k) {
  HMap *s = hmap(m);
  uint32_t n = s->h.aux;
  if (s->flat == HM_TABLE) tbl_freeze(vm, s);
  if (s->flat) {
    int i = flat_find(s->kv, n, k);
    if (i < 0) return m;
    HMap *r = hmap_alloc(vm, n - 1, true, 2 * (n - 1));
    memcpy(r->kv, s->kv, 2 * (size_t)i * sizeof(Value));
    memcpy(r->kv + 2 * i, s->kv + 2 * i + 2, 2 * (n - (uint32_t)i - 1) * sizeof(Value));
    return obj_val(r);
  }
  HNode *root = hmap_root(s), *nr = hn_dissoc(vm, root, 0, val_hash(k), k);
  if (nr == root) return m;
  if (n - 1 > HMAP_FLAT_MAX) return hmap_tree(vm, n - 1, nr);
  HMap *r = hmap_alloc(vm, n - 1, true, 2 * (n - 1)); /* small again: back to flat */
  hn_collect(nr, r->kv);
  return obj_val(r);
}

/* Remove k from an owned table in place (backward-shift deletion keeps
 * every probe run unbroken, so lookups need no tombstones).  Returns
 * whether k was there. */
static bool tbl_remove(HMap *s, Value k) {
  HSlot *sl = tbl_slots(s);
  uint32_t mask = tbl_cap(s) - 1;
  uint32_t i = (uint32_t)(tbl_find(s, tbl_hash(s, k), k) - sl);
  if (sl[i].k == UNBOUND_VAL) return false;
  for (uint32_t j = i;;) {
    j = (j + 1) & mask;
    if (sl[j].k == UNBOUND_VAL) break;
    uint32_t home = (uint32_t)tbl_hash(s, sl[j].k) & mask;
    /* the entry at j may move to the hole at i unless its home lies
     * cyclically in (i, j] */
    if (((j - home) & mask) >= ((j - i) & mask)) {
      sl[i] = sl[j];
      i = j;
    }
  }
  sl[i].k = UNBOUND_VAL;
  sl[i].v = NIL_VAL;
  s->h.aux--;
  return true;
}

/* Remove k (known present) from the subtrie nd, in place when nd carries the
 * token; an untagged node is edited persistently and the copy tagged.  The
 * result may be a single-entry node, which the caller pulls up. */
static HNode *hn_dissoc_owned(VM *vm, HNode *nd, unsigned shift, uint64_t hash, Value k, uint32_t token) {
  if (nd->h.aux != token || is_coll(nd)) {
    HNode *r = hn_dissoc(vm, nd, shift, hash, k);
    return r == nd ? nd : own(r, token);
  }
  gc_barrier(vm, nd);
  uint32_t bit = 1u << frag(hash, shift), dm = nd->datamap, nm = nd->nodemap;
  uint32_t di = popc(dm & (bit - 1)), ci = 2 * popc(dm) + popc(nm & (bit - 1));
  if (dm & bit) { /* the entry is here: close the gap (the node keeps its allocation) */
    uint32_t n = hn_nvals(nd);
    memmove(nd->v + 2 * di, nd->v + 2 * di + 2, (n - 2 * di - 2) * sizeof(Value));
    nd->datamap = dm ^ bit;
    return nd;
  }
  HNode *child = hn_at(nd, ci);
  HNode *nc = hn_dissoc_owned(vm, child, shift + HBITS, hash, k, token);
  if (!hn_single(nc)) {
    nd->v[ci] = obj_val(nc);
    return nd;
  }
  if (dm == 0 && nm == bit) return nc; /* we would hold only that entry: let our parent absorb it */
  /* absorbing the entry grows the node by one value: reallocate it */
  return own(hn_edit(vm, nd, dm | bit, nm ^ bit, 2 * di, nc->v, 2, ci, 1), token);
}

Value hmap_dissoc_owned(VM *vm, Value m, Value k, uint32_t token) {
  HMap *s = hmap(m);
  if (!token) return hmap_dissoc(vm, m, k);
  if (s->flat == HM_TABLE && s->owner == token) {
    if (s->h.aux == HMAP_FLAT_MAX + 1 && hmap_get(m, k, NULL)) { /* small again: back to flat */
      HMap *r = hmap_alloc(vm, HMAP_FLAT_MAX, true, 2 * HMAP_FLAT_MAX);
      tbl_remove(s, k);
      const HSlot *sl = tbl_slots(s);
      uint32_t j = 0;
      for (uint32_t i = 0, cap = tbl_cap(s); i < cap; i++)
        if (sl[i].k != UNBOUND_VAL) r->kv[j++] = sl[i].k, r->kv[j++] = sl[i].v;
      return obj_val(r);
    }
    tbl_remove(s, k);
    return m;
  }
  if (s->flat == HM_FLAT || !hmap_get(m, k, NULL)) return hmap_dissoc(vm, m, k); /* flat maps are copied (<= 8 pairs) */
  uint32_t n = s->h.aux;
  if (s->flat == HM_TABLE) tbl_freeze(vm, s); /* another owner's table: now an ordinary trie */
  if (n - 1 <= HMAP_FLAT_MAX || s->owner != token) {
    Value r = hmap_dissoc(vm, m, k);
    if (!hmap(r)->flat) {
      hmap(r)->owner = token;
      own(hmap_root(hmap(r)), token);
    }
    return r;
  }
  HNode *nr = hn_dissoc_owned(vm, hmap_root(s), 0, val_hash(k), k, token);
  s->kv[0] = obj_val(nr);
  s->h.aux = n - 1;
  gc_barrier(vm, s);
  return m;
}

/* ---- iteration: stack entries are (node, next slot); slots count the
 * inline entries first, then the children.  A flat root acts as a node with
 * entries only. ---- */

static void view(const Obj *o, const Value **vals, uint32_t *ndata, uint32_t *nchild) {
  if (o->type == OBJ_HASHMAP) {
    *vals = ((const HMap *)o)->kv;
    *ndata = o->aux;
    *nchild = 0;
    return;
  }
  const HNode *n = (const HNode *)o;
  *vals = n->v;
  *ndata = hn_ndata(n);
  *nchild = (hn_nvals(n) - 2 * *ndata);
}

void hmap_iter_init(MapIter *it, Value m) {
  HMap *s = hmap(m);
  if (s->flat == HM_TABLE) {
    it->stack[0].node = &s->h;
    it->stack[0].i = 0;
    it->depth = 1;
    return;
  }
  it->stack[0].node = s->flat ? &s->h : &hmap_root(s)->h;
  it->stack[0].i = 0;
  it->depth = 1;
}

bool hmap_iter_next(MapIter *it, Value *k, Value *v) {
  if (it->depth == 1 && it->stack[0].node->type == OBJ_HASHMAP && ((HMap *)it->stack[0].node)->flat == HM_TABLE) {
    const HMap *s = (const HMap *)it->stack[0].node;
    const HSlot *sl = tbl_slots(s);
    for (uint32_t i = it->stack[0].i, cap = tbl_cap(s); i < cap; i++)
      if (sl[i].k != UNBOUND_VAL) {
        *k = sl[i].k;
        *v = sl[i].v;
        it->stack[0].i = i + 1;
        return true;
      }
    it->depth = 0;
    return false;
  }
  while (it->depth > 0) {
    const Value *vals;
    uint32_t nd, nc, i = it->stack[it->depth - 1].i++;
    view(it->stack[it->depth - 1].node, &vals, &nd, &nc);
    if (i < nd) {
      *k = vals[2 * i];
      *v = vals[2 * i + 1];
      return true;
    }
    if (i < nd + nc) {
      it->stack[it->depth].node = as_obj(vals[2 * nd + (i - nd)]);
      it->stack[it->depth].i = 0;
      it->depth++;
    } else
      it->depth--;
  }
  return false;
}

/* ---- GC ---- */

void hmap_mark_children(VM *vm, Obj *o) {
  const Value *vals;
  uint32_t n;
  if (o->type == OBJ_HASHMAP) {
    HMap *s = (HMap *)o;
    if (s->flat == HM_TABLE) {
      const HSlot *sl = tbl_slots(s);
      for (uint32_t i = 0, cap = tbl_cap(s); i < cap; i++)
        if (sl[i].k != UNBOUND_VAL) {
          gc_mark_value(vm, sl[i].k);
          gc_mark_value(vm, sl[i].v);
        }
      return;
    }
    vals = s->kv;
    n = s->flat ? 2 * o->aux : 1;
  } else {
    vals = ((HNode *)o)->v;
    n = hn_nvals((HNode *)o);
  }
  for (uint32_t i = 0; i < n; i++) gc_mark_value(vm, vals[i]);
}
