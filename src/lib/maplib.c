/* maplib.c - maps and hash maps (stdlib.md §10): construction, access,
 * update, transformation.  get, contains?, assoc and hash-ref live in core.c
 * (they are also opcodes); map? and empty? in math.c.
 *
 * Kind-preserving functions build their result with an Acc, which keeps the
 * partial map in a GC root slot (callbacks may collect) and builds hash maps
 * with owned updates: the partial result is private to the native, so after
 * the first copy its nodes are updated in place. */
#include <stdlib.h>
#include "lib.h"
#include "ops.h"

static void check_map(VM *vm, Value m) {
  if (!is_anymap(m)) err_type(vm, "map or hashmap", m);
}

static void check_hashmap(VM *vm, Value m) {
  if (!is_hashmap(m)) err_type(vm, "hashmap", m);
}

/* ---- result accumulator ---- */

typedef struct {
  uint32_t slot, token;
} Acc;

static void acc_init(VM *vm, Acc *a, Value m) {
  a->slot = vm_root_slot(vm, m);
  a->token = is_hashmap(m) ? vm_new_token(vm) : 0;
}

static void acc_put(VM *vm, Acc *a, Value k, Value v) {
  Value m = ROOT(vm, a->slot);
  ROOT(vm, a->slot) = is_hashmap(m) ? hmap_assoc_owned(vm, m, k, v, a->token) : map_assoc(vm, m, k, v);
}

static Value acc_done(VM *vm, Acc *a) {
  Value m = ROOT(vm, a->slot);
  vm_pop_roots(vm, 1);
  return m;
}

/* Copy every entry of src into the accumulator (later wins). */
static void acc_put_all(VM *vm, Acc *a, Value src) {
  MapIter it;
  Value k, v;
  map_iter_init(&it, src);
  while (map_iter_next(&it, &k, &v)) acc_put(vm, a, k, v);
}

/* A sorted map with the entries of m (either kind); m itself if sorted. */
static Value to_sorted(VM *vm, Value m) {
  if (is_map(m)) return m;
  Value r = map_empty(vm);
  MapIter it;
  Value k, v;
  map_iter_init(&it, m);
  while (map_iter_next(&it, &k, &v)) r = map_assoc(vm, r, k, v);
  return r;
}

/* ---- construction ---- */

static Value from_pairs(VM *vm, Value empty, int argc, Value *argv) {
  Acc a;
  acc_init(vm, &a, empty);
  for (int i = 0; i + 1 < argc; i += 2) acc_put(vm, &a, argv[i], argv[i + 1]);
  return acc_done(vm, &a);
}

static Value n_hash_map(VM *vm, int argc, Value *argv) {
  if (argc % 2) err_eval(vm, "hash-map: requires even number of arguments");
  return from_pairs(vm, map_empty(vm), argc, argv);
}

static Value n_hashmap_new(VM *vm, int argc, Value *argv) {
  if (argc % 2) err_eval(vm, "hashmap/new: requires even number of arguments");
  return from_pairs(vm, hmap_empty(vm), argc, argv);
}

static void check_seq(VM *vm, Value v) {
  if (!is_list(v) && !is_vector(v)) err_type(vm, "list or vector", v);
}

/* Length of a list or vector. */
static size_t seq_len(Value v) { return is_vector(v) ? vec_len(v) : (size_t)list_length(v); }

static Value n_from_entries(VM *vm, int argc, Value *argv) {
  check_seq(vm, argv[0]);
  SeqIter it;
  Value e, k = NIL_VAL, v = NIL_VAL;
  /* validate every entry first so that errors come before any work */
  seqiter_init(&it, argv[0]);
  while (seqiter_next(&it, &e)) {
    check_seq(vm, e);
    if (seq_len(e) != 2) err_eval(vm, "map/from-entries: each entry must be a pair (key value)");
  }
  Value m = map_empty(vm);
  seqiter_init(&it, argv[0]);
  while (seqiter_next(&it, &e)) {
    SeqIter p;
    seqiter_init(&p, e);
    seqiter_next(&p, &k);
    seqiter_next(&p, &v);
    m = map_assoc(vm, m, k, v);
  }
  return m;
}

static Value n_zip(VM *vm, int argc, Value *argv) {
  check_seq(vm, argv[0]);
  check_seq(vm, argv[1]);
  SeqIter ki, vi;
  Value k, v, m = map_empty(vm);
  seqiter_init(&ki, argv[0]);
  seqiter_init(&vi, argv[1]);
  while (seqiter_next(&ki, &k) && seqiter_next(&vi, &v)) m = map_assoc(vm, m, k, v);
  return m;
}

/* ---- access ---- */

/* keys (want_keys) or vals, in iteration order */
static Value key_or_val_list(VM *vm, Value m, bool want_keys) {
  ListBuilder lb;
  list_start(&lb);
  MapIter it;
  Value k, v;
  map_iter_init(&it, m);
  while (map_iter_next(&it, &k, &v)) list_add(vm, &lb, want_keys ? k : v);
  return lb.head;
}

static Value n_keys(VM *vm, int argc, Value *argv) {
  check_map(vm, argv[0]);
  return key_or_val_list(vm, argv[0], true);
}

static Value n_vals(VM *vm, int argc, Value *argv) {
  check_map(vm, argv[0]);
  return key_or_val_list(vm, argv[0], false);
}

static Value n_hashmap_keys(VM *vm, int argc, Value *argv) {
  check_hashmap(vm, argv[0]);
  return key_or_val_list(vm, argv[0], true);
}

static Value n_count(VM *vm, int argc, Value *argv) {
  Value x = argv[0];
  if (is_nil(x)) return small_int_val(0);
  if (is_list(x)) return small_int_val(list_length(x));
  if (is_vector(x)) return small_int_val(vec_len(x));
  if (is_string(x)) return small_int_val(as_string(x)->nchars);
  if (is_anymap(x)) return small_int_val((int64_t)anymap_count(x));
  err_type(vm, "collection", x);
}

static Value n_entries(VM *vm, int argc, Value *argv) {
  check_map(vm, argv[0]);
  size_t n;
  Value *e = map_sorted_entries(vm, argv[0], &n);
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = 0; i < n; i++) list_add(vm, &lb, list_2(vm, e[2 * i], e[2 * i + 1]));
  map_entries_free(vm, e);
  return lb.head;
}

/* Walk path through nested maps; *found is false on a miss or a non-map. */
static Value walk_path(Value m, Value path, bool *found) {
  SeqIter it;
  Value k;
  seqiter_init(&it, path);
  *found = true;
  while (seqiter_next(&it, &k)) {
    if (!is_anymap(m) || !anymap_get(m, k, &m)) {
      *found = false;
      return NIL_VAL;
    }
  }
  return m;
}

static Value n_get_in(VM *vm, int argc, Value *argv) {
  check_seq(vm, argv[1]);
  bool found;
  Value v = walk_path(argv[0], argv[1], &found);
  return found ? v : argc > 2 ? argv[2] : NIL_VAL;
}

static Value n_hashmap_get(VM *vm, int argc, Value *argv) {
  if (!is_anymap(argv[0])) err_type(vm, "hashmap", argv[0]);
  Value v;
  return anymap_get(argv[0], argv[1], &v) ? v : argc > 2 ? argv[2] : NIL_VAL;
}

static Value n_hashmap_contains(VM *vm, int argc, Value *argv) {
  check_hashmap(vm, argv[0]);
  Value v;
  return bool_val(hmap_get(argv[0], argv[1], &v));
}

/* ---- update ---- */

static Value n_dissoc(VM *vm, int argc, Value *argv) {
  if (argc == 2) return op_dissoc(vm, argv[0], argv[1]); /* what the DISSOC instruction calls */
  check_map(vm, argv[0]);
  Value m = argv[0];
  for (int i = 1; i < argc; i++) m = anymap_dissoc(vm, m, argv[i]);
  return m;
}

static Value n_merge(VM *vm, int argc, Value *argv) {
  for (int i = 0; i < argc; i++) check_map(vm, argv[i]);
  if (argc == 0) return map_empty(vm);
  Acc a;
  acc_init(vm, &a, argv[0]);
  for (int i = 1; i < argc; i++) acc_put_all(vm, &a, argv[i]);
  return acc_done(vm, &a);
}

static Value n_hashmap_assoc(VM *vm, int argc, Value *argv) {
  if (argc % 2 == 0) err_eval(vm, "hashmap/assoc: requires hashmap and even number of key-value pairs");
  check_hashmap(vm, argv[0]);
  Acc a;
  acc_init(vm, &a, argv[0]);
  for (int i = 1; i + 1 < argc; i += 2) acc_put(vm, &a, argv[i], argv[i + 1]);
  return acc_done(vm, &a);
}

static Value n_update(VM *vm, int argc, Value *argv) { return vm_map_update(vm, argv[0], argv[1], argv[2]); }

/* m with v at the rest of the path in it; a non-map level becomes a fresh
 * sorted map.  Recursion depth is the path length. */
static Value assoc_path(VM *vm, Value m, SeqIter it, Value v) {
  Value k, child = NIL_VAL;
  if (!seqiter_next(&it, &k)) return v;
  err_check_c_stack(vm);
  if (is_anymap(m))
    anymap_get(m, k, &child);
  else
    m = map_empty(vm);
  return anymap_assoc(vm, m, k, assoc_path(vm, child, it, v));
}

static Value n_assoc_in(VM *vm, int argc, Value *argv) {
  check_seq(vm, argv[1]);
  SeqIter it;
  seqiter_init(&it, argv[1]);
  return assoc_path(vm, argv[0], it, argv[2]);
}

static Value n_update_in(VM *vm, int argc, Value *argv) {
  check_seq(vm, argv[1]);
  bool found;
  Value nv = vm_call1(vm, argv[2], walk_path(argv[0], argv[1], &found));
  SeqIter it;
  seqiter_init(&it, argv[1]);
  return assoc_path(vm, argv[0], it, nv);
}

/* base's entries then over's, merging where both values are maps; the
 * result is sorted whatever the kinds.  Non-map base or over: over. */
static Value deep_merge2(VM *vm, Value base, Value over) {
  if (!is_anymap(base) || !is_anymap(over)) return over;
  err_check_c_stack(vm);
  Value r = to_sorted(vm, base), k, v, old;
  MapIter it;
  map_iter_init(&it, over);
  while (map_iter_next(&it, &k, &v)) {
    if (is_anymap(v) && map_get(r, k, &old) && is_anymap(old)) v = deep_merge2(vm, old, v);
    r = map_assoc(vm, r, k, v);
  }
  return r;
}

static Value n_deep_merge(VM *vm, int argc, Value *argv) {
  if (argc == 0) return map_empty(vm);
  Value r = argv[0];
  for (int i = 1; i < argc; i++) r = deep_merge2(vm, r, argv[i]);
  return r;
}

/* ---- transformation and selection ---- */

/* map-vals, map-keys and map-filter: one pass over m building a map of the
 * same kind, each entry transformed by fn as the mode says. */
enum { MAP_VALS, MAP_KEYS, MAP_FILTER };

static Value map_transform(VM *vm, Value fn, Value m, int mode) {
  check_map(vm, m);
  Acc a;
  acc_init(vm, &a, anymap_empty_like(vm, m));
  MapIter it;
  Value k, v;
  map_iter_init(&it, m);
  while (map_iter_next(&it, &k, &v)) {
    if (mode == MAP_VALS)
      acc_put(vm, &a, k, vm_call1(vm, fn, v));
    else if (mode == MAP_KEYS)
      acc_put(vm, &a, vm_call1(vm, fn, k), v);
    else if (is_truthy(vm_call2(vm, fn, k, v)))
      acc_put(vm, &a, k, v);
  }
  return acc_done(vm, &a);
}

static Value n_map_vals(VM *vm, int argc, Value *argv) { return map_transform(vm, argv[0], argv[1], MAP_VALS); }
static Value n_map_keys(VM *vm, int argc, Value *argv) { return map_transform(vm, argv[0], argv[1], MAP_KEYS); }
static Value n_map_filter(VM *vm, int argc, Value *argv) { return map_transform(vm, argv[0], argv[1], MAP_FILTER); }

static Value n_select_keys(VM *vm, int argc, Value *argv) {
  check_map(vm, argv[0]);
  if (!is_list(argv[1]) && !is_vector(argv[1])) err_type(vm, "list", argv[1]);
  Acc a;
  acc_init(vm, &a, anymap_empty_like(vm, argv[0]));
  SeqIter it;
  Value k, v;
  seqiter_init(&it, argv[1]);
  while (seqiter_next(&it, &k))
    if (anymap_get(argv[0], k, &v)) acc_put(vm, &a, k, v);
  return acc_done(vm, &a);
}

static Value n_except(VM *vm, int argc, Value *argv) {
  check_map(vm, argv[0]);
  if (!is_list(argv[1]) && !is_vector(argv[1])) err_type(vm, "list", argv[1]);
  Value m = argv[0], k;
  SeqIter it;
  seqiter_init(&it, argv[1]);
  while (seqiter_next(&it, &k)) m = anymap_dissoc(vm, m, k);
  return m;
}

static Value n_sort_keys(VM *vm, int argc, Value *argv) {
  check_map(vm, argv[0]);
  return to_sorted(vm, argv[0]);
}

static Value n_hashmap_to_map(VM *vm, int argc, Value *argv) {
  check_hashmap(vm, argv[0]);
  return to_sorted(vm, argv[0]);
}

static const NativeDef maplib_defs[] = {
    /* tier A */
    {"hash-map", n_hash_map, 0, VARIADIC,
     "(hash-map k v...)\nReturns a sorted map (despite the name) of the alternating keys and values, later duplicates"
     " winning: (hash-map :b 2 :a 1) is {:a 1 :b 2}. An odd number of arguments is an error."},
    {"hashmap/new", n_hashmap_new, 0, VARIADIC,
     "(hashmap/new k v...)\nReturns a hash map of the alternating keys and values; an odd number of arguments is an "
     "error."},
    {"keys", n_keys, 1, 1,
     "(keys m)\nReturns the list of the keys of m: sorted for a sorted map, in no particular order for a hash map."},
    {"vals", n_vals, 1, 1,
     "(vals m)\nReturns the list of the values of m, in the order of keys."},
    {"count", n_count, 1, 1,
     "(count x)\nReturns the number of entries of a map, of elements of a list or vector, or of characters of a "
     "string; nil gives 0, other types are a type error."},
    {"get-in", n_get_in, 2, 3,
     "(get-in m path [default])\nFollows the keys of path (a list or vector) through nested maps; a missing key or a "
     "non-map on the way gives default (nil when not given). An empty path returns m."},
    {"dissoc", n_dissoc, 2, VARIADIC,
     "(dissoc m k...)\nReturns a map of the same kind without the given keys (absent keys are ignored)."},
    {"merge", n_merge, 0, VARIADIC,
     "(merge m...)\nReturns a map of the kind of the first argument with the entries of all of them, later ones "
     "winning; (merge) is {}. Sorted and hash maps may be mixed; nil is an error."},
    {"assoc-in", n_assoc_in, 3, 3,
     "(assoc-in m path v)\nReturns m with v at the nested path of keys, creating sorted maps for missing or non-map "
     "levels: (assoc-in {} [:a :b] 1) is {:a {:b 1}}. An empty path returns v."},
    {"update-in", n_update_in, 3, 3,
     "(update-in m path fn)\nLike assoc-in with the value (fn old) at path, old being nil when missing; an empty path"
     " gives (fn m)."},
    {"hashmap/to-map", n_hashmap_to_map, 1, 1,
     "(hashmap/to-map hm)\nReturns a sorted map with the entries of the hash map hm (only hash maps are accepted)."},
    /* tier B */
    {"map/from-entries", n_from_entries, 1, 1,
     "(map/from-entries entries)\nReturns a sorted map from a list or vector of (key value) pairs, lists or vectors."},
    {"map/zip", n_zip, 2, 2,
     "(map/zip keys vals)\nReturns a sorted map pairing the two sequences element by element, up to the shorter "
     "length."},
    {"map/entries", n_entries, 1, 1,
     "(map/entries m)\nReturns the list of (key value) lists of m in key order (a hash map is sorted first)."},
    {"hashmap/get", n_hashmap_get, 2, 3,
     "(hashmap/get m k [default])\nAs get, for hash maps and sorted maps: the value under k, else default (nil)."},
    {"hashmap/contains?", n_hashmap_contains, 2, 2,
     "(hashmap/contains? m k)\nReturns #t when k is a key of the hash map m."},
    {"hashmap/keys", n_hashmap_keys, 1, 1,
     "(hashmap/keys m)\nReturns the list of the keys of the hash map m, in no particular order."},
    {"hashmap/assoc", n_hashmap_assoc, 1, VARIADIC,
     "(hashmap/assoc hm k v...)\nReturns the hash map hm with each key k set to the following v; a sorted map is a "
     "type error."},
    {"map/update", n_update, 3, 3,
     "(map/update m k fn)\nReturns m, of the same kind, with k set to (fn old), old being the current value or nil."},
    {"deep-merge", n_deep_merge, 0, VARIADIC,
     "(deep-merge m...)\nMerges the maps left to right into a sorted map; where both sides hold maps under a key they"
     " are merged recursively, otherwise the later value wins. (deep-merge) is {}."},
    {"map/map-vals", n_map_vals, 2, 2,
     "(map/map-vals fn m)\nReturns m with (fn v) in place of each value v."},
    {"map/map-keys", n_map_keys, 2, 2,
     "(map/map-keys fn m)\nReturns m with (fn k) in place of each key k; when two keys map to the same new key, the "
     "later wins."},
    {"map/filter", n_map_filter, 2, 2,
     "(map/filter pred m)\nReturns the entries of m for which (pred k v) is true, in a map of the same kind."},
    {"map/select-keys", n_select_keys, 2, 2,
     "(map/select-keys m keys)\nReturns m with only those of the listed keys (a list or vector) that are present."},
    {"map/except", n_except, 2, 2,
     "(map/except m keys)\nReturns m without the listed keys."},
    {"map/sort-keys", n_sort_keys, 1, 1,
     "(map/sort-keys m)\nReturns a sorted map with the entries of m (a sorted map is returned as is)."},
    {NULL, NULL, 0, 0},
};

void lib_maplib_init(VM *vm) {
  env_register(vm, maplib_defs);
  env_alias(vm, "map/new", "hash-map");
  env_alias(vm, "map/get-in", "get-in");
  env_alias(vm, "map/assoc-in", "assoc-in");
  env_alias(vm, "map/update-in", "update-in");
  env_alias(vm, "map/deep-merge", "deep-merge");
}
