/* test_map.c - unit tests for the persistent maps (src/map.c, src/hashmap.c).
 *
 * Standalone mode (what the project runs for these tests):
 *   gcc -std=c11 -Wall -Wextra -DMAP_STANDALONE_TEST -Isrc \
 *       tests/unit/test_map.c src/map.c src/hashmap.c -lcmocka
 * provides small stand-ins for the GC (malloc plus a tiny mark-sweep that
 * drives map_mark_children) and for val_compare/val_equal/val_hash on small
 * integers and doubles; the hash stand-in can be degraded to force
 * collisions.  Without MAP_STANDALONE_TEST (the Makefile's `make unit`) the
 * same tests run against the real runtime, minus the forced-collision ones.
 *
 * Add -DMAP_BENCH to build a timing program instead of the tests.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "boot.h"
#include "compiler.h"
#include "state.h"
#include "map.h"
#include "runtime.h"

static VM *vm;

#ifdef MAP_STANDALONE_TEST
static uint64_t mix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

/* ---- stand-in GC: every object is malloc'd and kept on a list ---- */
typedef struct Block {
  struct Block *next;
  uint64_t pad; /* keeps the object 16-byte aligned like malloc */
} Block;
static Block *blocks;
static size_t nblocks, alloc_bytes;
static Obj **gray;
static size_t ngray, capgray;

void *gc_alloc(VM *v, ObjType type, size_t size) {
  (void)v;
  Block *b = malloc(sizeof(Block) + size);
  assert_non_null(b);
  memset(b + 1, 0xA5, size); /* poison: fields the map code forgets to set show up */
  Obj *o = (Obj *)(b + 1);
  o->type = (uint8_t)type;
  o->mark = 0;
  b->next = blocks;
  blocks = b;
  nblocks++;
  alloc_bytes += size;
  return o;
}

void gc_mark_value(VM *v, Value x) {
  (void)v;
  if (!is_obj(x)) return;
  Obj *o = as_obj(x);
  if (o->mark) return;
  o->mark = 1;
  if (ngray == capgray) {
    capgray = capgray ? 2 * capgray : 1024;
    gray = realloc(gray, capgray * sizeof *gray);
  }
  gray[ngray++] = o;
}

/* Mark from roots, free everything else; returns the number of objects freed. */
static size_t collect(const Value *roots, size_t n) {
  for (size_t i = 0; i < n; i++) gc_mark_value(NULL, roots[i]);
  while (ngray) map_mark_children(NULL, gray[--ngray]);
  size_t freed = 0;
  for (Block **p = &blocks; *p;) {
    Obj *o = (Obj *)(*p + 1);
    if (o->mark) {
      o->mark = 0;
      p = &(*p)->next;
    } else {
      Block *dead = *p;
      *p = dead->next;
      free(dead);
      freed++;
      nblocks--;
    }
  }
  return freed;
}

/* ---- stand-in value operations: small ints and doubles only ---- */
static int hash_mode; /* 0: good hash; 1: 5 distinct values; 2: 16 values differing only in the top 4 bits */

int val_compare(Value a, Value b) {
  bool da = is_double(a), db = is_double(b);
  assert_true((da || is_small_int(a)) && (db || is_small_int(b)));
  if (da != db) return da ? 1 : -1; /* integers before floats */
  if (!da) return (small_int_of(a) > small_int_of(b)) - (small_int_of(a) < small_int_of(b));
  double x = as_double(a), y = as_double(b);
  bool xn = x != x, yn = y != y;
  if (xn || yn) return xn - yn;
  if (x != y) return x < y ? -1 : 1;
  return (signbit(y) != 0) - (signbit(x) != 0); /* -0.0 < 0.0 */
}

bool val_equal(Value a, Value b) {
  if (is_double(a) || is_double(b)) return is_double(a) && is_double(b) && as_double(a) == as_double(b);
  return a == b;
}

uint64_t val_hash(Value v) {
  if (is_double(v) && as_double(v) == 0.0) v = double_val(0.0);
  uint64_t h = mix64(v);
  if (hash_mode == 1) return h % 5;
  if (hash_mode == 2) return (h & 15) << 60;
  return h;
}

static void setup_vm(void) { vm = NULL; }
static void teardown_vm(void) {
  collect(NULL, 0);
  assert_int_equal(nblocks, 0);
  free(gray);
  gray = NULL;
  ngray = capgray = 0;
}
#else
/* ---- against the real runtime ---- */
static size_t collect(const Value *roots, size_t n) {
  for (size_t i = 0; i < n; i++) vm_push_root(vm, roots[i]);
  gc_collect(vm);
  vm_pop_roots(vm, (uint32_t)n);
  return 0;
}
static void setup_vm(void) { vm = boot_vm_new(); }
static void teardown_vm(void) { vm_free(vm); }
#endif

/* ---- helpers ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}
static void shuffle(uint32_t *a, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = rnd() % i;
    uint32_t t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
  }
}
static uint32_t *perm(size_t n) {
  uint32_t *a = malloc(n * sizeof *a);
  for (size_t i = 0; i < n; i++) a[i] = (uint32_t)i;
  shuffle(a, n);
  return a;
}

/* Key number i: a mix of integers and floats, all distinct keys for both kinds. */
static Value key(uint32_t i) {
  if (i % 3 == 0) return double_val(i * 0.5 - 1000.25);
  return small_int_val((int64_t)i - 50000);
}
static Value val(uint32_t i, uint32_t gen) { return small_int_val((int64_t)i * 1000 + gen); }

static Value empty_of(bool hashed) { return hashed ? hmap_empty(vm) : map_empty(vm); }

/* Reference model: present[i] and the value of key(i). */
typedef struct {
  size_t n;
  uint8_t *present;
  Value *vals;
  size_t count;
} Ref;

static Ref ref_new(size_t n) {
  Ref r = {n, calloc(n, 1), calloc(n, sizeof(Value)), 0};
  return r;
}
static Ref ref_copy(const Ref *s) {
  Ref r = ref_new(s->n);
  memcpy(r.present, s->present, s->n);
  memcpy(r.vals, s->vals, s->n * sizeof(Value));
  r.count = s->count;
  return r;
}
static void ref_free(Ref *r) {
  free(r->present);
  free(r->vals);
}

/* Everything observable about m agrees with the model. */
static void check_full(Value m, const Ref *r) {
  assert_int_equal(anymap_count(m), r->count);
  for (uint32_t i = 0; i < r->n; i++) {
    Value out = NIL_VAL;
    bool found = anymap_get(m, key(i), &out);
    assert_int_equal(found, r->present[i]);
    if (found) assert_true(out == r->vals[i]);
  }
  /* iteration visits each entry once; sorted maps in ascending key order */
  MapIter it;
  map_iter_init(&it, m);
  Value k, v, prev = NIL_VAL;
  size_t seen = 0;
  while (map_iter_next(&it, &k, &v)) {
    if (OBJ_TYPE(m) == OBJ_MAP && seen) assert_true(val_compare(prev, k) < 0);
    Value w;
    assert_true(anymap_get(m, k, &w));
    assert_true(w == v);
    prev = k;
    seen++;
  }
  assert_int_equal(seen, r->count);
  size_t n;
  Value *e = map_sorted_entries(NULL, m, &n);
  assert_int_equal(n, r->count);
  for (size_t i = 1; i < n; i++) assert_true(val_compare(e[2 * i - 2], e[2 * i]) < 0);
  free(e);
}

static Value do_assoc(Value m, Ref *r, uint32_t i, Value v) {
  Value m2 = anymap_assoc(vm, m, key(i), v);
  if (!r->present[i]) r->count++;
  r->present[i] = 1;
  r->vals[i] = v;
  return m2;
}
static Value do_dissoc(Value m, Ref *r, uint32_t i) {
  Value m2 = anymap_dissoc(vm, m, key(i));
  if (r->present[i]) r->count--;
  r->present[i] = 0;
  return m2;
}

/* ---- tests ---- */

static void empty_kind(bool hashed) {
  Value m = empty_of(hashed);
  assert_int_equal(OBJ_TYPE(m), hashed ? OBJ_HASHMAP : OBJ_MAP);
  assert_int_equal(anymap_count(m), 0);
  Value out = TRUE_VAL;
  assert_false(anymap_get(m, small_int_val(1), &out));
  assert_true(out == TRUE_VAL);
  assert_true(anymap_dissoc(vm, m, small_int_val(1)) == m);
  MapIter it;
  map_iter_init(&it, m);
  Value k, v;
  assert_false(map_iter_next(&it, &k, &v));
  size_t n = 99;
  Value *e = map_sorted_entries(NULL, m, &n);
  assert_int_equal(n, 0);
  free(e);
  Value one = anymap_assoc(vm, m, small_int_val(1), small_int_val(2));
  assert_int_equal(anymap_count(one), 1);
  assert_int_equal(anymap_count(m), 0);
  Value zero = anymap_dissoc(vm, one, small_int_val(1));
  assert_int_equal(anymap_count(zero), 0);
  assert_false(anymap_get(zero, small_int_val(1), NULL));
}
static void test_empty(void **st) {
  (void)st;
  empty_kind(false);
  empty_kind(true);
}

/* Random inserts, overwrites and removals of n keys, checked against the model. */
static void random_ops(bool hashed, uint32_t n) {
  Ref r = ref_new(n);
  Value m = empty_of(hashed);
  uint32_t *order = perm(n);
  uint32_t step = n / 8 ? n / 8 : 1;
  for (uint32_t j = 0; j < n; j++) {
    uint32_t i = order[j];
    m = do_assoc(m, &r, i, val(i, 0));
    assert_int_equal(anymap_count(m), j + 1);
    Value out;
    assert_true(anymap_get(m, key(i), &out) && out == val(i, 0));
    uint32_t q = (uint32_t)(rnd() % n);
    assert_int_equal(anymap_get(m, key(q), NULL), r.present[q]);
    if (j % step == 0) {
      check_full(m, &r);
      collect(&m, 1);
    }
  }
  check_full(m, &r);
  Value full = m;
  Ref rfull = ref_copy(&r);
  /* overwrite a third, remove a third (half of them absent keys by then) */
  shuffle(order, n);
  for (uint32_t j = 0; j < n; j++) {
    uint32_t i = order[j];
    if (j % 3 == 0)
      m = do_assoc(m, &r, i, val(i, 1));
    else if (j % 3 == 1) {
      m = do_dissoc(m, &r, i);
      m = do_dissoc(m, &r, i); /* absent now: must be a no-op */
    }
    assert_int_equal(anymap_count(m), r.count);
    if (j % step == 0) {
      Value roots[2] = {m, full};
      collect(roots, 2);
    }
  }
  check_full(m, &r);
  check_full(full, &rfull); /* the old version is untouched */
  /* remove everything, in random order, down to empty */
  shuffle(order, n);
  for (uint32_t j = 0; j < n; j++) {
    uint32_t i = order[j];
    bool had = r.present[i];
    Value m2 = do_dissoc(m, &r, i);
    if (!had) assert_true(m2 == m);
    m = m2;
    assert_int_equal(anymap_count(m), r.count);
    if (j % step == 0 || r.count < 40) check_full(m, &r);
  }
  assert_int_equal(anymap_count(m), 0);
  Value roots[1] = {full};
  collect(roots, 1);
  check_full(full, &rfull);
  free(order);
  ref_free(&r);
  ref_free(&rfull);
}
static void test_random_sorted(void **st) {
  (void)st;
  random_ops(false, 100000);
  random_ops(false, 1000);
}
static void test_random_hash(void **st) {
  (void)st;
  random_ops(true, 100000);
  random_ops(true, 1000);
}

/* Every size around the flat/tree boundaries, removed in three orders. */
static void small_sizes(bool hashed) {
  for (uint32_t n = 0; n <= 70; n++)
    for (int order = 0; order < 3; order++) {
      Ref r = ref_new(n + 1);
      Value m = empty_of(hashed);
      for (uint32_t i = 0; i < n; i++) m = do_assoc(m, &r, i, val(i, 0));
      check_full(m, &r);
      uint32_t *p = perm(n + 1); /* n+1: never malloc(0) */
      for (uint32_t j = 0, k = 0; j < n; j++) {
        while (p[k] == n) k++;
        uint32_t i = order == 0 ? j : order == 1 ? n - 1 - j : p[k++];
        m = do_dissoc(m, &r, i);
        check_full(m, &r);
      }
      assert_int_equal(anymap_count(m), 0);
      free(p);
      ref_free(&r);
    }
}
static void test_small_sizes(void **st) {
  (void)st;
  small_sizes(false);
  small_sizes(true);
}

/* Old versions stay unchanged after many updates (and after collections). */
static void persistence(bool hashed) {
  enum { DOMAIN = 3000, OPS = 20000, EVERY = 500 };
  Ref r = ref_new(DOMAIN);
  Ref snaps[OPS / EVERY];
  Value versions[OPS / EVERY];
  size_t nv = 0;
  Value m = empty_of(hashed);
  for (uint32_t op = 0; op < OPS; op++) {
    uint32_t i = (uint32_t)(rnd() % DOMAIN);
    m = rnd() % 3 ? do_assoc(m, &r, i, val(i, op)) : do_dissoc(m, &r, i);
    if (op % EVERY == 0) {
      versions[nv] = m;
      snaps[nv++] = ref_copy(&r);
    }
    if (op % 4000 == 3999) {
      Value roots[OPS / EVERY + 1];
      memcpy(roots, versions, nv * sizeof(Value));
      roots[nv] = m;
      collect(roots, nv + 1);
    }
  }
  for (size_t j = 0; j < nv; j++) {
    check_full(versions[j], &snaps[j]);
    ref_free(&snaps[j]);
  }
  ref_free(&r);
}
static void test_persistence(void **st) {
  (void)st;
  persistence(false);
  persistence(true);
}

/* Owned updates (map_assoc_owned and friends, docs/design.md "Owned
 * updates"): random assoc/dissoc under one token agree with the model; a
 * version that escapes (saved here, after which the owner moves on to a new
 * token, as a new loop would) never changes; and once the root carries the
 * token, every further update returns the same map object, i.e. happens in
 * place -- except at the flat/tree boundary, where the root changes form.
 * Persistent updates mixed in see owned nodes as ordinary ones. */
static Value owned_assoc(Value m, Ref *r, uint32_t i, Value v, uint32_t token) {
  Value m2 = anymap_assoc_owned(vm, m, key(i), v, token);
  if (!r->present[i]) r->count++;
  r->present[i] = 1;
  r->vals[i] = v;
  return m2;
}
static Value owned_dissoc(Value m, Ref *r, uint32_t i, uint32_t token) {
  Value m2 = anymap_dissoc_owned(vm, m, key(i), token);
  if (r->present[i]) r->count--;
  r->present[i] = 0;
  return m2;
}
static void owned_ops(bool hashed, uint32_t domain, uint32_t ops) {
  enum { NSAVE = 16 };
  Ref r = ref_new(domain);
  Ref snaps[NSAVE];
  Value saved[NSAVE];
  size_t ns = 0;
  uint32_t token = 0x70000001u;
  uint32_t flat_max = hashed ? 8 : 16;
  Value m = empty_of(hashed);
  size_t checked = 0;
  bool fresh = true; /* the root may not carry the token yet: the next update copies it */
  for (uint32_t op = 0; op < ops; op++) {
    uint32_t i = (uint32_t)(rnd() % domain);
    size_t before = r.count;
    uint64_t what = rnd() % 10;
    Value m2;
    if (what < 6)
      m2 = owned_assoc(m, &r, i, val(i, op), token);
    else if (what < 9)
      m2 = owned_dissoc(m, &r, i, token);
    else
      m2 = rnd() % 2 ? do_assoc(m, &r, i, val(i, op)) : do_dissoc(m, &r, i); /* persistent */
    if (what < 9) {
      if (!fresh && before > flat_max + 1 && r.count > flat_max + 1) {
        assert_true(m2 == m); /* in place */
        checked++;
      }
      if (what < 6 || before != r.count) fresh = false; /* removing an absent key changes nothing */
    } else {
      fresh = true;
    }
    m = m2;
    assert_int_equal(anymap_count(m), r.count);
    if (op % 997 == 0 && ns < NSAVE) { /* m escapes: later updates use a new token */
      saved[ns] = m;
      snaps[ns++] = ref_copy(&r);
      token++;
      fresh = true;
    }
    if (op % 3001 == 0) {
      Value roots[NSAVE + 1];
      memcpy(roots, saved, ns * sizeof(Value));
      roots[ns] = m;
      collect(roots, ns + 1);
      check_full(m, &r);
    }
  }
  check_full(m, &r);
  for (size_t j = 0; j < ns; j++) {
    check_full(saved[j], &snaps[j]);
    ref_free(&snaps[j]);
  }
  if (domain > 4 * flat_max) assert_true(checked > ops / 4);
  ref_free(&r);
}
static void test_owned(void **st) {
  (void)st;
  for (int hashed = 0; hashed < 2; hashed++) {
    owned_ops(hashed, 5000, 60000); /* trees: splits, merges, rebalancing */
    owned_ops(hashed, 40, 20000);   /* around the flat/tree boundary */
    owned_ops(hashed, 12, 5000);
  }
}

static void test_identical_value(void **st) {
  (void)st;
  for (int hashed = 0; hashed < 2; hashed++)
    for (uint32_t n = 1; n < 200; n += 37) {
      Value m = empty_of(hashed);
      for (uint32_t i = 0; i < n; i++) m = anymap_assoc(vm, m, key(i), val(i, 0));
      assert_true(anymap_assoc(vm, m, key(n / 2), val(n / 2, 0)) == m);
      Value m2 = anymap_assoc(vm, m, key(n / 2), val(n / 2, 7));
      assert_true(m2 != m);
      Value out;
      assert_true(anymap_get(m, key(n / 2), &out) && out == val(n / 2, 0));
      assert_true(anymap_get(m2, key(n / 2), &out) && out == val(n / 2, 7));
      assert_int_equal(anymap_count(m2), n);
    }
}

/* §5.3: integers before floats, 1 and 1.0 distinct, -0.0 < 0.0, one NaN key last. */
static void test_sorted_order(void **st) {
  (void)st;
  Value expect[] = {small_int_val(-5), small_int_val(0), small_int_val(1), small_int_val(2),
                    double_val(-INFINITY), double_val(-1.5), double_val(-0.0), double_val(0.0),
                    double_val(1.0), double_val(INFINITY), double_val(NAN)};
  size_t n = sizeof expect / sizeof expect[0];
  for (size_t rep = 0; rep < 2; rep++) {
    Value m = map_empty(vm);
    uint32_t *p = perm(n);
    for (size_t j = 0; j < n; j++) m = map_assoc(vm, m, expect[p[j]], small_int_val(p[j]));
    /* grow past the flat limit so the tree path sees the same keys */
    if (rep) for (int i = 100; i < 200; i++) m = map_assoc(vm, m, small_int_val(i), NIL_VAL);
    free(p);
    MapIter it;
    map_iter_init(&it, m);
    Value k, v;
    for (size_t j = 0; j < n; j++) {
      if (j == 4 && rep) /* the 100 extra integers come right before the floats */
        for (int i = 100; i < 200; i++) assert_true(map_iter_next(&it, &k, &v) && k == small_int_val(i));
      assert_true(map_iter_next(&it, &k, &v));
      assert_true(k == expect[j]);
      assert_true(v == small_int_val((int64_t)j));
    }
    assert_false(map_iter_next(&it, &k, &v));
    Value out;
    assert_true(map_get(m, double_val(NAN), &out) && out == small_int_val((int64_t)n - 1));
    assert_true(map_get(m, double_val(-0.0), &out) && out == small_int_val(6));
    m = map_dissoc(vm, m, double_val(1.0));
    assert_true(map_get(m, small_int_val(1), &out) && out == small_int_val(2));
    assert_false(map_get(m, double_val(1.0), NULL));
  }
}

/* §5.5: 0.0 and -0.0 are one hash key; 1 and 1.0 are two. */
static void test_hash_keys(void **st) {
  (void)st;
  for (int big = 0; big < 2; big++) {
    Value m = hmap_empty(vm);
    if (big)
      for (int i = 1000; i < 1100; i++) m = hmap_assoc(vm, m, small_int_val(i), NIL_VAL);
    size_t base = hmap_count(m);
    m = hmap_assoc(vm, m, double_val(0.0), small_int_val(1));
    m = hmap_assoc(vm, m, double_val(-0.0), small_int_val(2));
    assert_int_equal(hmap_count(m), base + 1);
    Value out;
    assert_true(hmap_get(m, double_val(0.0), &out) && out == small_int_val(2));
    m = hmap_assoc(vm, m, small_int_val(1), small_int_val(3));
    m = hmap_assoc(vm, m, double_val(1.0), small_int_val(4));
    assert_int_equal(hmap_count(m), base + 3);
    assert_true(hmap_get(m, small_int_val(1), &out) && out == small_int_val(3));
    m = hmap_dissoc(vm, m, double_val(-0.0));
    assert_int_equal(hmap_count(m), base + 2);
    size_t n;
    Value *e = map_sorted_entries(NULL, m, &n);
    assert_int_equal(n, base + 2);
    assert_true(e[0] == small_int_val(1) && e[2 * n - 2] == double_val(1.0));
    for (size_t i = 1; i < n; i++) assert_true(val_compare(e[2 * i - 2], e[2 * i]) < 0);
    free(e);
  }
}

#ifdef MAP_STANDALONE_TEST
/* Forced collisions: few distinct hashes (collision nodes) and hashes that
 * differ only in the last trie level (the deepest bitmap nodes). */
static void test_collisions(void **st) {
  (void)st;
  for (hash_mode = 1; hash_mode <= 2; hash_mode++) {
    random_ops(true, 3000);
    small_sizes(true);
    persistence(true);
  }
  hash_mode = 0;
}
#endif

/* A collection with only some versions as roots keeps those intact. */
static void test_gc_marking(void **st) {
  (void)st;
  for (int hashed = 0; hashed < 2; hashed++) {
    Ref r = ref_new(20000);
    Value m = empty_of(hashed);
    for (uint32_t i = 0; i < 20000; i++) m = do_assoc(m, &r, i, val(i, 0));
    Ref r2 = ref_copy(&r);
    Value m2 = m;
    for (uint32_t i = 0; i < 20000; i += 2) m2 = do_dissoc(m2, &r2, i);
    Value roots[2] = {m, m2};
#ifdef MAP_STANDALONE_TEST
    assert_true(collect(roots, 2) > 0); /* the intermediate versions were garbage */
#else
    collect(roots, 2);
#endif
    check_full(m, &r);
    check_full(m2, &r2);
    ref_free(&r);
    ref_free(&r2);
  }
}

static int group_setup(void **st) {
  (void)st;
  setup_vm();
  return 0;
}
static int group_teardown(void **st) {
  (void)st;
  teardown_vm();
  return 0;
}

#ifndef MAP_BENCH
int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_identical_value),
      cmocka_unit_test(test_sorted_order),
      cmocka_unit_test(test_hash_keys),
      cmocka_unit_test(test_small_sizes),
      cmocka_unit_test(test_persistence),
      cmocka_unit_test(test_gc_marking),
      cmocka_unit_test(test_random_sorted),
      cmocka_unit_test(test_random_hash),
      cmocka_unit_test(test_owned),
#ifdef MAP_STANDALONE_TEST
      cmocka_unit_test(test_collisions),
#endif
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
#else
/* ---- timings for choosing node sizes and flat limits ---- */
static double now(void) {
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static void bench(bool hashed, uint32_t size, uint32_t reps) {
  uint32_t *p = perm(size);
#ifdef MAP_STANDALONE_TEST
  alloc_bytes = 0;
#endif
  double t0 = now();
  Value m = NIL_VAL;
  for (uint32_t r = 0; r < reps; r++) {
    m = empty_of(hashed);
    for (uint32_t j = 0; j < size; j++) m = anymap_assoc(vm, m, small_int_val(p[j]), NIL_VAL);
    if (r + 1 < reps) collect(NULL, 0);
  }
  double t1 = now();
  size_t bytes = 0;
#ifdef MAP_STANDALONE_TEST
  bytes = alloc_bytes;
  alloc_bytes = 0;
#endif
  size_t hits = 0;
  for (uint32_t r = 0; r < reps; r++)
    for (uint32_t j = 0; j < size; j++) hits += anymap_get(m, small_int_val(p[j]), NULL);
  double t2 = now();
  for (uint32_t r = 0; r < reps; r++) {
    Value x = m;
    for (uint32_t j = 0; j < size; j++) x = anymap_dissoc(vm, x, small_int_val(p[j]));
    collect(&m, 1);
  }
  double t3 = now();
  double ops = (double)size * reps;
  printf("%-6s n=%-7u assoc %6.1f ns %5.0f B  get %6.1f ns  dissoc %6.1f ns  (%zu)\n", hashed ? "hash" : "sorted",
         size, (t1 - t0) / ops * 1e9, bytes / ops, (t2 - t1) / ops * 1e9, (t3 - t2) / ops * 1e9, hits);
  collect(NULL, 0);
  free(p);
}
int main(void) {
  setup_vm();
  uint32_t sizes[] = {4, 8, 12, 16, 24, 32, 1000, 100000, 1000000};
  for (int hashed = 0; hashed < 2; hashed++)
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
      bench(hashed, sizes[i], sizes[i] >= 100000 ? 1 : 2000000 / sizes[i]);
  teardown_vm();
  return 0;
}
#endif
