/* map.c - persistent sorted maps (OBJ_MAP), plus the code shared by both map
 * kinds: iteration, sorted entries and GC marking.
 *
 * A map of at most SMAP_FLAT_MAX entries is one flat sorted array of
 * key/value pairs inside the root object (binary search, one allocation per
 * update).  Larger maps are a persistent B+tree: leaves hold key/value pairs,
 * interior nodes hold (smallest key of subtree, child) pairs, so both node
 * kinds share one layout.  Updates copy the path from the root to the leaf.
 * Keys are ordered by val_compare (language.md §5.3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "map.h"
#include "runtime.h"
#include "state.h"

/* Entries per B+tree node (a full node is 264 bytes).  Measured against 31
 * (the widest node that fits a GC size class): 31 looks up ~15% faster at
 * 100k entries but allocates ~35% more per update (every copied node is wider);
 * below a few thousand entries the two are equal.  Persistent updates in
 * loops are the common case, so the smaller node wins.  The MAP_BENCH build
 * of tests/unit/test_map.c reproduces the numbers. */
#ifndef MNODE_MAX
#define MNODE_MAX 16
#endif
#define MNODE_MIN (MNODE_MAX / 2)
/* Maps up to this size stay flat: a flat map is a leaf without the root
 * indirection, so it costs one allocation per update instead of two; 16
 * made assoc on 9..16-entry maps ~35% faster than 8 and lookups equal. */
#ifndef SMAP_FLAT_MAX
#define SMAP_FLAT_MAX 16
#endif
_Static_assert(SMAP_FLAT_MAX <= MNODE_MAX, "a flat map must fit in one leaf");
_Static_assert(MNODE_MIN >= 2, "nodes need room to merge and split");

/* OBJ_MAPNODE objects of hash maps carry this flag; sorted-map nodes keep
 * their entry count (< 0x4000) in the flags instead.  Shared with hashmap.c. */
#define MN_HASH 0x8000u

typedef struct {
  Obj h;           /* aux: entry count */
  uint32_t height; /* 0: flat, entries inline; else B+tree height (1 = root is a leaf) */
  uint32_t owner;  /* owner token of a tagged root (0 = none); see "owned updates" */
  Value kv[];      /* flat: k0 v0 k1 v1 ...; tree: kv[0] is the root node */
} SMap;

/* A persistent node never changes once built, so it is allocated at its
 * exact size; a node tagged with an owner token (aux) is allocated at
 * MNODE_MAX pairs and changed in place by its owner ("owned updates"). */
typedef struct {
  Obj h;      /* flags: entry count; aux: owner token (0 = none) */
  Value kv[]; /* leaf: key, value; interior: smallest key of the subtree, child */
} MNode;

/* Internal to hashmap.c. */
void hmap_iter_init(MapIter *it, Value m);
bool hmap_iter_next(MapIter *it, Value *k, Value *v);
void hmap_mark_children(VM *vm, Obj *o);

static inline SMap *smap(Value m) { return (SMap *)as_obj(m); }
static inline uint32_t mn_count(const MNode *n) { return n->h.flags; }
static inline MNode *mn_child(const MNode *n, uint32_t i) { return (MNode *)as_obj(n->kv[2 * i + 1]); }
static inline MNode *smap_root(const SMap *s) { return (MNode *)as_obj(s->kv[0]); }

static SMap *smap_alloc(VM *vm, uint32_t count, uint32_t height, uint32_t nvals) {
  SMap *s = gc_alloc(vm, OBJ_MAP, sizeof(SMap) + nvals * sizeof(Value));
  s->h.flags = 0;
  s->h.aux = count;
  s->height = height;
  s->owner = 0;
  return s;
}

static Value smap_tree(VM *vm, uint32_t count, uint32_t height, MNode *root) {
  SMap *s = smap_alloc(vm, count, height, 1);
  s->kv[0] = obj_val(root);
  return obj_val(s);
}

static MNode *mn_new(VM *vm, const Value *kv, uint32_t n) {
  MNode *nd = gc_alloc(vm, OBJ_MAPNODE, sizeof(MNode) + 2 * n * sizeof(Value));
  nd->h.flags = (uint16_t)n;
  nd->h.aux = 0;
  memcpy(nd->kv, kv, 2 * n * sizeof(Value));
  return nd;
}

/* String keys (ids, names, SKUs) in their byte order, val_compare's order
 * for strings: keys of one map often share a prefix and differ within a few
 * bytes, so the first bytes are compared here and only a long common run
 * goes to memcmp (through val_compare, a string comparison paid two type
 * dispatches and two calls: 17% of the inventory workload). */
static inline int str_key_compare(const String *a, const String *b) {
  uint32_t n = a->len < b->len ? a->len : b->len, i = 0;
  const unsigned char *x = (const unsigned char *)a->data, *y = (const unsigned char *)b->data;
  for (; i < n && i < 16; i++)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  if (i < n) {
    int c = memcmp(x + i, y + i, n - i);
    if (c) return c < 0 ? -1 : 1;
  }
  return a->len < b->len ? -1 : a->len > b->len;
}

/* The order of key e against k: identity first, then for two names of the
 * same kind (both keywords, both symbols: the keys of most maps) their
 * precomputed order keys (symbol.h), else the total order. */
static inline int key_compare(Value e, Value k) {
  if (e == k) return 0;
  if (VAL_TAG(e) == VAL_TAG(k) && (is_kw(k) || is_sym(k))) return sym_compare(&val_current_vm->syms, sym_id(e), sym_id(k));
  if (is_string(e) && is_string(k)) return str_key_compare(as_string(e), as_string(k));
  return val_compare(e, k);
}

/* Index of the first pair whose key is >= k; *found says whether it equals k. */
static uint32_t search(const Value *kv, uint32_t n, Value k, bool *found) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    int c = key_compare(kv[2 * mid], k);
    if (c < 0)
      lo = mid + 1;
    else if (c > 0)
      hi = mid;
    else {
      *found = true;
      return mid;
    }
  }
  *found = false;
  return lo;
}

/* The child of an interior node whose subtree may hold k. */
static uint32_t child_index(const MNode *nd, Value k) {
  bool found;
  uint32_t i = search(nd->kv, mn_count(nd), k, &found);
  return found || i == 0 ? i : i - 1;
}

Value map_empty(VM *vm) { return obj_val(smap_alloc(vm, 0, 0, 0)); }

size_t map_count(Value m) { return smap(m)->h.aux; }

bool map_get(Value m, Value k, Value *out) {
  SMap *s = smap(m);
  const Value *kv = s->kv;
  uint32_t n = s->h.aux;
  if (s->height) {
    MNode *nd = smap_root(s);
    for (uint32_t h = s->height; h > 1; h--) nd = mn_child(nd, child_index(nd, k));
    kv = nd->kv;
    n = mn_count(nd);
  }
  /* A keyword or symbol equals only itself (interned), so a node's at most
   * MNODE_MAX keys can be scanned for identity instead of ordered by name:
   * records keyed by keywords are the common case, and a binary search
   * there paid three order comparisons (sym_compare through the symbol
   * table) per lookup. */
  if (is_kw(k) || is_sym(k)) {
    for (uint32_t i = 0; i < n; i++)
      if (kv[2 * i] == k) {
        if (out) *out = kv[2 * i + 1];
        return true;
      }
    return false;
  }
  bool found;
  uint32_t i = search(kv, n, k, &found);
  if (found && out) *out = kv[2 * i + 1];
  return found;
}

/* ---- B+tree update ---- */

/* Build one node from n pairs, or two halves when n overflows a node. */
static uint32_t emit(VM *vm, const Value *kv, uint32_t n, MNode *out[2]) {
  if (n <= MNODE_MAX) {
    out[0] = mn_new(vm, kv, n);
    return 1;
  }
  uint32_t left = n / 2;
  out[0] = mn_new(vm, kv, left);
  out[1] = mn_new(vm, kv + 2 * left, n - left);
  return 2;
}

/* Copy of nd with pair i set to (a, b). */
static MNode *mn_with(VM *vm, const MNode *nd, uint32_t i, Value a, Value b) {
  MNode *c = mn_new(vm, nd->kv, mn_count(nd));
  c->kv[2 * i] = a;
  c->kv[2 * i + 1] = b;
  return c;
}

/* Insert or replace k in the subtree nd of height h.  Returns the number of
 * replacement nodes in out (1, or 2 after a split), 0 if nothing changed. */
static uint32_t tree_assoc(VM *vm, MNode *nd, uint32_t h, Value k, Value v, MNode *out[2], bool *added) {
  uint32_t n = mn_count(nd);
  Value buf[2 * (MNODE_MAX + 1)];
  if (h == 1) {
    bool found;
    uint32_t i = search(nd->kv, n, k, &found);
    if (found) {
      if (nd->kv[2 * i + 1] == v) return 0;
      out[0] = mn_with(vm, nd, i, nd->kv[2 * i], v);
      return 1;
    }
    *added = true;
    memcpy(buf, nd->kv, 2 * i * sizeof(Value));
    buf[2 * i] = k;
    buf[2 * i + 1] = v;
    memcpy(buf + 2 * i + 2, nd->kv + 2 * i, 2 * (n - i) * sizeof(Value));
    return emit(vm, buf, n + 1, out);
  }
  uint32_t i = child_index(nd, k);
  MNode *sub[2];
  uint32_t r = tree_assoc(vm, mn_child(nd, i), h - 1, k, v, sub, added);
  if (r == 0) return 0;
  if (r == 1) {
    out[0] = mn_with(vm, nd, i, sub[0]->kv[0], obj_val(sub[0]));
    return 1;
  }
  memcpy(buf, nd->kv, 2 * (i + 1) * sizeof(Value));
  buf[2 * i] = sub[0]->kv[0];
  buf[2 * i + 1] = obj_val(sub[0]);
  buf[2 * i + 2] = sub[1]->kv[0];
  buf[2 * i + 3] = obj_val(sub[1]);
  memcpy(buf + 2 * i + 4, nd->kv + 2 * i + 2, 2 * (n - i - 1) * sizeof(Value));
  return emit(vm, buf, n + 1, out);
}

static Value root_assoc(VM *vm, Value m, MNode *root, uint32_t height, Value k, Value v) {
  MNode *out[2];
  bool added = false;
  uint32_t r = tree_assoc(vm, root, height, k, v, out, &added);
  if (r == 0) return m;
  MNode *nr = out[0];
  if (r == 2) {
    Value pair[4] = {out[0]->kv[0], obj_val(out[0]), out[1]->kv[0], obj_val(out[1])};
    nr = mn_new(vm, pair, 2);
    height++;
  }
  return smap_tree(vm, (uint32_t)map_count(m) + added, height, nr);
}

/* search() for the pairs of a flat map: a keyword or symbol key is looked
 * for by identity first (as map_get does), since replacing a field of a
 * record keyed by keywords is the common assoc; only a new key pays the
 * ordered search for its place. */
static uint32_t flat_search(const Value *kv, uint32_t n, Value k, bool *found) {
  if (is_kw(k) || is_sym(k))
    for (uint32_t i = 0; i < n; i++)
      if (kv[2 * i] == k) {
        *found = true;
        return i;
      }
  return search(kv, n, k, found);
}

static Value flat_assoc(VM *vm, Value m, Value k, Value v) {
  SMap *s = smap(m);
  uint32_t n = s->h.aux;
  bool found;
  uint32_t i = flat_search(s->kv, n, k, &found);
  if (found) {
    if (s->kv[2 * i + 1] == v) return m;
    SMap *r = smap_alloc(vm, n, 0, 2 * n);
    memcpy(r->kv, s->kv, 2 * n * sizeof(Value));
    r->kv[2 * i + 1] = v;
    return obj_val(r);
  }
  if (n == SMAP_FLAT_MAX) /* outgrown: continue as a tree whose root is a leaf */
    return root_assoc(vm, m, mn_new(vm, s->kv, n), 1, k, v);
  SMap *r = smap_alloc(vm, n + 1, 0, 2 * (n + 1));
  memcpy(r->kv, s->kv, 2 * i * sizeof(Value));
  r->kv[2 * i] = k;
  r->kv[2 * i + 1] = v;
  memcpy(r->kv + 2 * i + 2, s->kv + 2 * i, 2 * (n - i) * sizeof(Value));
  return obj_val(r);
}

Value map_assoc(VM *vm, Value m, Value k, Value v) {
  SMap *s = smap(m);
  if (s->height == 0) return flat_assoc(vm, m, k, v);
  return root_assoc(vm, m, smap_root(s), s->height, k, v);
}

/* The flat map m was made by the caller's previous assoc and nobody else
 * holds it yet, so replacing a key it already has can write in place:
 * (assoc m k1 v1 k2 v2 k3 v3) on a record allocates one copy, not three
 * (nbody: each step rebuilds every body with three fields).  Allocation
 * never collects (gc.c), so m cannot have been seen by anything between the
 * two calls.  A new key, or a tree, takes the persistent path. */
Value map_assoc_fresh(VM *vm, Value m, Value k, Value v) {
  SMap *s = smap(m);
  if (s->height == 0) {
    bool found;
    uint32_t i = flat_search(s->kv, s->h.aux, k, &found);
    if (found) {
      s->kv[2 * i + 1] = v;
      gc_barrier(vm, s); /* young in every use today (nothing collects in between); kept for safety */
      return m;
    }
  }
  return map_assoc(vm, m, k, v);
}

/* An underfull child c (at index i of nd) is merged with a neighbour; when
 * the two do not fit one node they are split evenly again.  Works for leaves
 * and interior nodes alike because both hold pairs. */
static MNode *rebalance(VM *vm, const MNode *nd, uint32_t i, MNode *c) {
  uint32_t n = mn_count(nd);
  uint32_t lo = i + 1 < n ? i : i - 1;
  MNode *a = lo == i ? c : mn_child(nd, lo);
  MNode *b = lo == i ? mn_child(nd, lo + 1) : c;
  uint32_t na = mn_count(a), nb = mn_count(b);
  Value buf[4 * MNODE_MAX];
  memcpy(buf, a->kv, 2 * na * sizeof(Value));
  memcpy(buf + 2 * na, b->kv, 2 * nb * sizeof(Value));
  MNode *out[2];
  uint32_t r = emit(vm, buf, na + nb, out);
  Value pbuf[2 * MNODE_MAX];
  memcpy(pbuf, nd->kv, 2 * lo * sizeof(Value));
  for (uint32_t j = 0; j < r; j++) {
    pbuf[2 * (lo + j)] = out[j]->kv[0];
    pbuf[2 * (lo + j) + 1] = obj_val(out[j]);
  }
  memcpy(pbuf + 2 * (lo + r), nd->kv + 2 * (lo + 2), 2 * (n - lo - 2) * sizeof(Value));
  return mn_new(vm, pbuf, n - 2 + r);
}

/* Remove k from the subtree nd of height h.  Returns nd itself when k is
 * absent; the result may be underfull (the parent fixes that). */
static MNode *tree_dissoc(VM *vm, MNode *nd, uint32_t h, Value k) {
  uint32_t n = mn_count(nd);
  if (h == 1) {
    bool found;
    uint32_t i = search(nd->kv, n, k, &found);
    if (!found) return nd;
    Value buf[2 * MNODE_MAX];
    memcpy(buf, nd->kv, 2 * i * sizeof(Value));
    memcpy(buf + 2 * i, nd->kv + 2 * i + 2, 2 * (n - i - 1) * sizeof(Value));
    return mn_new(vm, buf, n - 1);
  }
  uint32_t i = child_index(nd, k);
  MNode *c = mn_child(nd, i);
  MNode *nc = tree_dissoc(vm, c, h - 1, k);
  if (nc == c) return nd;
  if (mn_count(nc) >= MNODE_MIN) return mn_with(vm, nd, i, nc->kv[0], obj_val(nc));
  return rebalance(vm, nd, i, nc);
}

/* Copy the pairs of a subtree in order (depth bounded by the tree height). */
static Value *collect(const MNode *nd, uint32_t h, Value *out) {
  uint32_t n = mn_count(nd);
  if (h == 1) {
    memcpy(out, nd->kv, 2 * n * sizeof(Value));
    return out + 2 * n;
  }
  for (uint32_t i = 0; i < n; i++) out = collect(mn_child(nd, i), h - 1, out);
  return out;
}

Value map_dissoc(VM *vm, Value m, Value k) {
  SMap *s = smap(m);
  uint32_t n = s->h.aux;
  if (s->height == 0) {
    bool found;
    uint32_t i = search(s->kv, n, k, &found);
    if (!found) return m;
    SMap *r = smap_alloc(vm, n - 1, 0, 2 * (n - 1));
    memcpy(r->kv, s->kv, 2 * i * sizeof(Value));
    memcpy(r->kv + 2 * i, s->kv + 2 * i + 2, 2 * (n - i - 1) * sizeof(Value));
    return obj_val(r);
  }
  MNode *root = smap_root(s);
  MNode *nr = tree_dissoc(vm, root, s->height, k);
  if (nr == root) return m;
  uint32_t height = s->height;
  if (n - 1 <= SMAP_FLAT_MAX) { /* keep small maps flat: one representation per size */
    SMap *r = smap_alloc(vm, n - 1, 0, 2 * (n - 1));
    collect(nr, height, r->kv);
    return obj_val(r);
  }
  while (height > 1 && mn_count(nr) == 1) { /* drop a root with a single child */
    nr = mn_child(nr, 0);
    height--;
  }
  return smap_tree(vm, n - 1, height, nr);
}

/* ---- owned updates ----
 *
 * map_assoc_owned / map_dissoc_owned are assoc / dissoc for a caller that
 * has proven the old map dead once the update is done (docs/design.md,
 * "Owned updates"), as hmap_assoc_owned is for hash maps.  A root (SMap
 * owner) or node (MNode h.aux) that carries the caller's token was made by
 * this same owner and is reachable only through the map being updated, so it
 * is changed in place; anything else on the path is copied once and the copy
 * is tagged.  Tokens are never reused, so a map that escapes is persistent
 * from then on, and the persistent operations above treat owned nodes as
 * ordinary ones.
 *
 * Capacity invariant: a tagged node is allocated with room for MNODE_MAX
 * pairs and a tagged flat root with room for SMAP_FLAT_MAX pairs, so the
 * owner inserts into them without reallocating; the GC marks only the
 * counted pairs.  Every update allocates what it needs before it changes a
 * tagged node, so an allocation failure (a raised error) leaves the map
 * whole. */

static MNode *mn_new_owned(VM *vm, const Value *kv, uint32_t n, uint32_t token) {
  MNode *nd = gc_alloc(vm, OBJ_MAPNODE, sizeof(MNode) + 2 * MNODE_MAX * sizeof(Value));
  nd->h.flags = (uint16_t)n;
  nd->h.aux = token;
  memcpy(nd->kv, kv, 2 * n * sizeof(Value));
  return nd;
}

static SMap *flat_new_owned(VM *vm, const Value *kv, uint32_t n, uint32_t token) {
  SMap *r = smap_alloc(vm, n, 0, 2 * SMAP_FLAT_MAX);
  r->owner = token;
  memcpy(r->kv, kv, 2 * n * sizeof(Value));
  return r;
}

/* The tagged node nd itself, or its tagged copy (the copy replaces it in its parent). */
static MNode *mn_owned(VM *vm, MNode *nd, uint32_t token) {
  if (nd->h.aux != token) return mn_new_owned(vm, nd->kv, mn_count(nd), token);
  gc_barrier(vm, nd); /* about to change in place: it may be old (gc.c, GENERATIONS) */
  return nd;
}

/* Insert pair (a, b) at index i of the tagged node nd, which has room. */
static void mn_insert(MNode *nd, uint32_t i, Value a, Value b) {
  uint32_t n = mn_count(nd);
  memmove(nd->kv + 2 * i + 2, nd->kv + 2 * i, 2 * (n - i) * sizeof(Value));
  nd->kv[2 * i] = a;
  nd->kv[2 * i + 1] = b;
  nd->h.flags = (uint16_t)(n + 1);
}

/* Insert (a, b) at index i of the tagged node nd, splitting a full node:
 * then *right gets the new upper half (tagged, allocated before nd changes)
 * and nd keeps the lower half. */
static void mn_insert_split(VM *vm, MNode *nd, uint32_t i, Value a, Value b, MNode **right, uint32_t token) {
  uint32_t n = mn_count(nd);
  if (n < MNODE_MAX) {
    mn_insert(nd, i, a, b);
    *right = NULL;
    return;
  }
  Value buf[2 * (MNODE_MAX + 1)];
  memcpy(buf, nd->kv, 2 * i * sizeof(Value));
  buf[2 * i] = a;
  buf[2 * i + 1] = b;
  memcpy(buf + 2 * i + 2, nd->kv + 2 * i, 2 * (n - i) * sizeof(Value));
  uint32_t left = (n + 1) / 2;
  *right = mn_new_owned(vm, buf + 2 * left, n + 1 - left, token);
  memcpy(nd->kv, buf, 2 * left * sizeof(Value));
  nd->h.flags = (uint16_t)left;
}

/* Insert or replace k in the subtree at *slot (height h), in place on tagged
 * nodes; *slot is replaced by the tagged copy when the node was not tagged.
 * Returns the new right sibling after a split, else NULL. */
static MNode *tree_assoc_owned(VM *vm, MNode **slot, uint32_t h, Value k, Value v, bool *added, uint32_t token) {
  MNode *nd = *slot;
  bool found;
  if (h == 1) {
    uint32_t i = search(nd->kv, mn_count(nd), k, &found);
    if (found && nd->kv[2 * i + 1] == v) return NULL;
    nd = *slot = mn_owned(vm, nd, token);
    if (found) {
      nd->kv[2 * i + 1] = v;
      return NULL;
    }
    *added = true;
    MNode *right;
    mn_insert_split(vm, nd, i, k, v, &right, token);
    return right;
  }
  nd = *slot = mn_owned(vm, nd, token);
  uint32_t i = child_index(nd, k);
  MNode *c = mn_child(nd, i);
  MNode *right = tree_assoc_owned(vm, &c, h - 1, k, v, added, token);
  nd->kv[2 * i] = c->kv[0]; /* the subtree's smallest key may have changed */
  nd->kv[2 * i + 1] = obj_val(c);
  if (!right) return NULL;
  MNode *up;
  mn_insert_split(vm, nd, i + 1, right->kv[0], obj_val(right), &up, token);
  return up;
}

Value map_assoc_owned(VM *vm, Value m, Value k, Value v, uint32_t token) {
  SMap *s = smap(m);
  if (!token) return map_assoc(vm, m, k, v);
  uint32_t n = s->h.aux;
  if (s->height == 0) {
    bool found;
    uint32_t i = search(s->kv, n, k, &found);
    if (found && s->kv[2 * i + 1] == v) return m;
    if (found || n < SMAP_FLAT_MAX) {
      if (s->owner != token) s = flat_new_owned(vm, s->kv, n, token);
      gc_barrier(vm, s);
      if (found) {
        s->kv[2 * i + 1] = v;
      } else {
        memmove(s->kv + 2 * i + 2, s->kv + 2 * i, 2 * (n - i) * sizeof(Value));
        s->kv[2 * i] = k;
        s->kv[2 * i + 1] = v;
        s->h.aux = n + 1;
      }
      return obj_val(s);
    }
    /* outgrown: a tree whose root is a tagged leaf, under a new tagged root */
    MNode *leaf = mn_new_owned(vm, s->kv, n, token);
    SMap *r = smap_alloc(vm, n, 1, 1);
    r->owner = token;
    r->kv[0] = obj_val(leaf);
    s = r;
    m = obj_val(r);
  } else if (s->owner != token) {
    SMap *r = smap_alloc(vm, n, s->height, 1);
    r->owner = token;
    r->kv[0] = s->kv[0];
    s = r;
    m = obj_val(r);
  }
  /* s is tagged; a new root for a split is allocated before s changes */
  bool added = false;
  MNode *root = smap_root(s);
  MNode *right = tree_assoc_owned(vm, &root, s->height, k, v, &added, token);
  if (right) {
    Value pair[4] = {root->kv[0], obj_val(root), right->kv[0], obj_val(right)};
    root = mn_new_owned(vm, pair, 2, token);
    s->height++;
  }
  s->kv[0] = obj_val(root);
  s->h.aux += added;
  gc_barrier(vm, s);
  return m;
}

/* Remove pair i of the tagged node nd. */
static void mn_remove(MNode *nd, uint32_t i) {
  uint32_t n = mn_count(nd);
  memmove(nd->kv + 2 * i, nd->kv + 2 * i + 2, 2 * (n - i - 1) * sizeof(Value));
  nd->h.flags = (uint16_t)(n - 1);
}

/* The underfull child at index i of the tagged node nd is merged with a
 * neighbour, or the two are split evenly again when they do not fit one
 * node (as rebalance does persistently); the result is tagged. */
static void rebalance_owned(VM *vm, MNode *nd, uint32_t i, uint32_t token) {
  uint32_t n = mn_count(nd);
  uint32_t lo = i + 1 < n ? i : i - 1;
  MNode *a = mn_child(nd, lo), *b = mn_child(nd, lo + 1);
  uint32_t na = mn_count(a), nb = mn_count(b);
  if (na + nb <= MNODE_MAX) {
    a = mn_owned(vm, a, token);
    memcpy(a->kv + 2 * na, b->kv, 2 * nb * sizeof(Value));
    a->h.flags = (uint16_t)(na + nb);
    nd->kv[2 * lo] = a->kv[0];
    nd->kv[2 * lo + 1] = obj_val(a);
    mn_remove(nd, lo + 1);
    return;
  }
  Value buf[4 * MNODE_MAX];
  memcpy(buf, a->kv, 2 * na * sizeof(Value));
  memcpy(buf + 2 * na, b->kv, 2 * nb * sizeof(Value));
  uint32_t left = (na + nb) / 2;
  MNode *x = mn_new_owned(vm, buf, left, token);
  MNode *y = mn_new_owned(vm, buf + 2 * left, na + nb - left, token);
  nd->kv[2 * lo] = x->kv[0];
  nd->kv[2 * lo + 1] = obj_val(x);
  nd->kv[2 * lo + 2] = y->kv[0];
  nd->kv[2 * lo + 3] = obj_val(y);
}

/* Remove k (known to be present) from the subtree at *slot of height h, in
 * place on tagged nodes (untagged ones on the path are copied and tagged).
 * The node left in *slot may be underfull; the parent fixes that. */
static void tree_dissoc_owned(VM *vm, MNode **slot, uint32_t h, Value k, uint32_t token) {
  MNode *nd = *slot = mn_owned(vm, *slot, token);
  if (h == 1) {
    bool found;
    uint32_t i = search(nd->kv, mn_count(nd), k, &found);
    mn_remove(nd, i);
    return;
  }
  uint32_t i = child_index(nd, k);
  MNode *c = mn_child(nd, i);
  tree_dissoc_owned(vm, &c, h - 1, k, token);
  nd->kv[2 * i] = c->kv[0];
  nd->kv[2 * i + 1] = obj_val(c);
  if (mn_count(c) < MNODE_MIN) rebalance_owned(vm, nd, i, token);
}

Value map_dissoc_owned(VM *vm, Value m, Value k, uint32_t token) {
  SMap *s = smap(m);
  uint32_t n = s->h.aux;
  if (!token || !map_get(m, k, NULL)) return map_dissoc(vm, m, k);
  if (s->height == 0) {
    bool found;
    uint32_t i = search(s->kv, n, k, &found);
    if (s->owner != token) s = flat_new_owned(vm, s->kv, n, token);
    gc_barrier(vm, s);
    memmove(s->kv + 2 * i, s->kv + 2 * i + 2, 2 * (n - i - 1) * sizeof(Value));
    s->h.aux = n - 1;
    return obj_val(s);
  }
  if (n - 1 <= SMAP_FLAT_MAX) { /* small again: a tagged flat map (one representation per size) */
    Value buf[2 * (SMAP_FLAT_MAX + 1)];
    collect(smap_root(s), s->height, buf);
    bool found;
    uint32_t i = search(buf, n, k, &found);
    memmove(buf + 2 * i, buf + 2 * i + 2, 2 * (n - i - 1) * sizeof(Value));
    return obj_val(flat_new_owned(vm, buf, n - 1, token));
  }
  if (s->owner != token) {
    SMap *r = smap_alloc(vm, n, s->height, 1);
    r->owner = token;
    r->kv[0] = s->kv[0];
    s = r;
  }
  MNode *root = smap_root(s);
  tree_dissoc_owned(vm, &root, s->height, k, token);
  while (s->height > 1 && mn_count(root) == 1) { /* drop a root with a single child */
    root = mn_child(root, 0);
    s->height--;
  }
  s->kv[0] = obj_val(root);
  s->h.aux = n - 1;
  gc_barrier(vm, s);
  return obj_val(s);
}

/* ---- iteration ---- */

/* A flat root is iterated as if it were a leaf. */
static inline const Value *it_kv(const Obj *o) {
  return o->type == OBJ_MAP ? ((const SMap *)o)->kv : ((const MNode *)o)->kv;
}
static inline uint32_t it_count(const Obj *o) { return o->type == OBJ_MAP ? o->aux : o->flags; }

/* Push o and the leftmost path below it, `levels` nodes in all. */
static void push_leftmost(MapIter *it, Obj *o, uint32_t levels) {
  for (;;) {
    it->stack[it->depth].node = o;
    it->stack[it->depth].i = 0;
    it->depth++;
    if (--levels == 0) return;
    o = as_obj(((MNode *)o)->kv[1]);
  }
}

static inline uint32_t iter_height(const SMap *s) { return s->height ? s->height : 1; }

void map_iter_init(MapIter *it, Value m) {
  it->map = m;
  it->depth = 0;
  if (OBJ_TYPE(m) == OBJ_HASHMAP) {
    hmap_iter_init(it, m);
    return;
  }
  SMap *s = smap(m);
  push_leftmost(it, s->height ? as_obj(s->kv[0]) : &s->h, iter_height(s));
}

bool map_iter_next(MapIter *it, Value *k, Value *v) {
  if (OBJ_TYPE(it->map) == OBJ_HASHMAP) return hmap_iter_next(it, k, v);
  int height = (int)iter_height(smap(it->map));
  while (it->depth > 0) {
    Obj *o = it->stack[it->depth - 1].node;
    uint32_t i = it->stack[it->depth - 1].i;
    if (i < it_count(o)) {
      if (it->depth == height) {
        *k = it_kv(o)[2 * i];
        *v = it_kv(o)[2 * i + 1];
        it->stack[it->depth - 1].i++;
        return true;
      }
      push_leftmost(it, as_obj(it_kv(o)[2 * i + 1]), (uint32_t)(height - it->depth));
      continue;
    }
    if (--it->depth > 0) it->stack[it->depth - 1].i++; /* that child is done */
  }
  return false;
}

/* ---- sorted entries of either kind ---- */

static inline int pair_cmp(const Value *e, size_t a, size_t b) { return val_compare(e[2 * a], e[2 * b]); }

static void pair_swap(Value *e, size_t a, size_t b) {
  Value k = e[2 * a], v = e[2 * a + 1];
  e[2 * a] = e[2 * b];
  e[2 * a + 1] = e[2 * b + 1];
  e[2 * b] = k;
  e[2 * b + 1] = v;
}

static void sift_down(Value *e, size_t root, size_t n) {
  for (;;) {
    size_t c = 2 * root + 1;
    if (c >= n) return;
    if (c + 1 < n && pair_cmp(e, c, c + 1) < 0) c++;
    if (pair_cmp(e, root, c) >= 0) return;
    pair_swap(e, root, c);
    root = c;
  }
}

/* Heapsort: in place and allocation-free, so an error raised inside
 * val_compare (deep structures) cannot leak sort buffers. */
static void sort_pairs(Value *e, size_t n) {
  for (size_t i = n / 2; i-- > 0;) sift_down(e, i, n);
  for (size_t end = n; end > 1; end--) {
    pair_swap(e, 0, end - 1);
    sift_down(e, 0, end - 1);
  }
}

/* Keys of one simple kind -- all strings, all small ints, all keywords or all
 * symbols: the common hash maps -- order by a comparison that cannot raise,
 * so the library's merge sort (qsort) may allocate its buffer: 400k string
 * keys sort about 6x faster than by the heap sort over val_compare. */
static int cmp_str_pairs(const void *a, const void *b) {
  String *x = as_string(*(const Value *)a), *y = as_string(*(const Value *)b);
  int c = memcmp(x->data, y->data, x->len < y->len ? x->len : y->len);
  return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int cmp_int_pairs(const void *a, const void *b) {
  int64_t x = small_int_of(*(const Value *)a), y = small_int_of(*(const Value *)b);
  return (x > y) - (x < y);
}

static int cmp_name_pairs(const void *a, const void *b) {
  return sym_compare(&val_current_vm->syms, sym_id(*(const Value *)a), sym_id(*(const Value *)b));
}

static bool sort_uniform_pairs(Value *e, size_t n) {
  if (n < 2) return true;
  int (*cmp)(const void *, const void *);
  Value k0 = e[0];
  if (is_string(k0)) {
    for (size_t i = 1; i < n; i++)
      if (!is_string(e[2 * i])) return false;
    cmp = cmp_str_pairs;
  } else if (is_small_int(k0) || is_kw(k0) || is_sym(k0)) {
    uint64_t tag = VAL_TAG(k0);
    for (size_t i = 1; i < n; i++)
      if (VAL_TAG(e[2 * i]) != tag) return false;
    cmp = is_small_int(k0) ? cmp_int_pairs : cmp_name_pairs;
  } else {
    return false;
  }
  qsort(e, n, 2 * sizeof(Value), cmp);
  return true;
}

Value *map_sorted_entries(VM *vm, Value m, size_t *count) {
  size_t n = anymap_count(m);
  size_t bytes = (2 * n + 1) * sizeof(Value); /* +1: never malloc(0) */
  Value *out = vm ? gc_tmp_alloc(vm, bytes) : malloc(bytes);
  if (!out) {
    fputs("sema: out of memory\n", stderr);
    abort();
  }
  MapIter it;
  map_iter_init(&it, m);
  size_t i = 0;
  while (map_iter_next(&it, &out[i], &out[i + 1])) i += 2;
  if (OBJ_TYPE(m) == OBJ_HASHMAP && !sort_uniform_pairs(out, n)) sort_pairs(out, n);
  *count = n;
  return out;
}

void map_entries_free(VM *vm, Value *e) {
  if (vm)
    gc_tmp_free(vm, e);
  else
    free(e);
}

/* ---- GC ---- */

void map_mark_children(VM *vm, Obj *o) {
  if (o->type == OBJ_HASHMAP || (o->type == OBJ_MAPNODE && (o->flags & MN_HASH))) {
    hmap_mark_children(vm, o);
    return;
  }
  const Value *kv = it_kv(o);
  uint32_t nvals = o->type == OBJ_MAP ? (((SMap *)o)->height ? 1 : 2 * o->aux) : 2u * o->flags;
  for (uint32_t i = 0; i < nvals; i++) gc_mark_value(vm, kv[i]);
}
