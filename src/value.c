/* value.c - the operations every value has: equality, the total order,
 * hashing and type names (language.md §5).
 *
 * Invariants the maps rely on:
 *  - val_equal is structural (equal?): an int never equals a float (1 and
 *    1.0 differ; `=` is the numeric comparison, val_num_eq), -0.0 equals
 *    0.0, NaN equals nothing; sorted and hash maps of equal contents are
 *    equal whatever their representation.
 *  - val_hash(a) == val_hash(b) whenever val_equal(a, b): a hash map may mix
 *    representations (flat, trie, owned table) and still find a key.
 *  - val_compare is a total order consistent with val_equal (0 exactly when
 *    equal): values of different types order by a fixed type rank, then
 *    within the type (numbers numerically, strings/symbols/keywords by
 *    bytes, sequences lexicographically).  Sorted maps key on it.
 *  - None of them allocates or calls back into Sema code; deep structures
 *    recurse in C only through nested elements, bounded by the C stack guard
 *    (deep_check), never along a list's spine.
 */
#include <math.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>
#include "map.h"
#include "runtime.h"
#include "state.h"

_Thread_local VM *val_current_vm; /* the running state, for pure helpers (symbol names, depth checks) */

/* ---- deep-structure guard ---- */

static void deep_check(void) {
  if (val_current_vm) err_check_c_stack(val_current_vm);
}

/* ---- equality ---- */

bool val_equal(Value a, Value b) {
  for (;;) {
    if (is_double(a) || is_double(b)) return is_double(a) && is_double(b) && as_double(a) == as_double(b);
    if (a == b) return true;
    if (!is_obj(a) || !is_obj(b)) return false;
    Obj *x = as_obj(a), *y = as_obj(b);
    if (x->type != y->type) return false;
    switch (x->type) {
    case OBJ_STRING: return str_eq(a, b);
    case OBJ_BIGINT: return ((BigInt *)x)->i == ((BigInt *)y)->i;
    case OBJ_CONS: {
      deep_check();
      while (is_cons(a) && is_cons(b)) {
        if (a == b) return true;
        if (!val_equal(car(a), car(b))) return false;
        a = cdr(a);
        b = cdr(b);
      }
      return a == b;
    }
    case OBJ_VECTOR: {
      uint32_t n = x->aux;
      if (n != y->aux) return false;
      deep_check();
      for (uint32_t i = 0; i < n; i++)
        if (!val_equal(((Vector *)x)->items[i], ((Vector *)y)->items[i])) return false;
      return true;
    }
    case OBJ_MAP:
    case OBJ_HASHMAP: {
      if (anymap_count(a) != anymap_count(b)) return false;
      deep_check();
      MapIter it;
      map_iter_init(&it, a);
      Value k, v, w;
      while (map_iter_next(&it, &k, &v))
        if (!anymap_get(b, k, &w) || !val_equal(v, w)) return false;
      return true;
    }
    case OBJ_RECORD: {
      Record *r = (Record *)x, *s = (Record *)y;
      if (r->tag != s->tag || x->aux != y->aux) return false;
      deep_check();
      for (uint32_t i = 0; i < x->aux; i++)
        if (!val_equal(r->fields[i], s->fields[i])) return false;
      return true;
    }
    case OBJ_BYTEVEC: {
      Bytevec *p = (Bytevec *)x, *q = (Bytevec *)y;
      return p->len == q->len && memcmp(p->data, q->data, p->len) == 0;
    }
    case OBJ_FOREIGN: {
      const ForeignClass *c = ((Foreign *)x)->cls;
      return c == ((Foreign *)y)->cls && c->compare && c->compare((Foreign *)x, (Foreign *)y) == 0;
    }
    default: return false;
    }
  }
}

bool val_num_eq(Value a, Value b) {
  if (is_small_int(a) && is_small_int(b)) return a == b;
  if (is_number(a) && is_number(b)) {
    if (is_int(a) && is_int(b)) return int_of(a) == int_of(b);
    return num_to_double(a) == num_to_double(b);
  }
  return val_equal(a, b);
}

/* ---- total order (§5.3) ---- */

static int type_rank(Value v) {
  if (is_double(v)) return 3;
  switch (VAL_TAG(v)) {
  case TAG_SPECIAL: return v == NIL_VAL ? 0 : v == EMPTY_VAL ? 8 : 1;
  case TAG_INT: return 2;
  case TAG_CHAR: return 4;
  case TAG_SYM: return 6;
  case TAG_KW: return 7;
  default: break;
  }
  switch (OBJ_TYPE(v)) {
  case OBJ_BIGINT: return 2;
  case OBJ_STRING: return 5;
  case OBJ_CONS: return 8;
  case OBJ_VECTOR: return 9;
  case OBJ_MAP: return 10;
  case OBJ_HASHMAP: return 11;
  case OBJ_RECORD: return 12;
  case OBJ_BYTEVEC: return 13;
  case OBJ_FOREIGN: { /* library types: f64 array 14, i64 array 15, stream 16 */
    int r = ((Foreign *)as_obj(v))->cls->order;
    return r ? r : 20;
  }
  default: return 20;
  }
}

static int cmp3(int64_t a, int64_t b) { return (a > b) - (a < b); }

static int cmp_double(double a, double b) {
  bool an = a != a, bn = b != b;
  if (an || bn) return an - bn;
  if (a < b) return -1;
  if (a > b) return 1;
  return (int)(signbit(b) != 0) - (int)(signbit(a) != 0);
}

static int cmp_bytes(const void *a, size_t la, const void *b, size_t lb) {
  int c = memcmp(a, b, la < lb ? la : lb);
  if (c) return c < 0 ? -1 : 1;
  return cmp3((int64_t)la, (int64_t)lb);
}

static int cmp_seq(const Value *a, size_t na, const Value *b, size_t nb) {
  for (size_t i = 0; i < na && i < nb; i++) {
    int c = val_compare(a[i], b[i]);
    if (c) return c;
  }
  return cmp3((int64_t)na, (int64_t)nb);
}

static int cmp_maps(Value a, Value b) {
  size_t na, nb;
  Value *ea = map_sorted_entries(NULL, a, &na);
  Value *eb = map_sorted_entries(NULL, b, &nb);
  int c = cmp_seq(ea, na * 2, eb, nb * 2);
  free(ea);
  free(eb);
  return c;
}

int val_compare(Value a, Value b) {
  if (a == b) return 0; /* the same word is the same value (NaN included: cmp_double orders NaNs equal) */
  int ra = type_rank(a), rb = type_rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
  case 0: return 0;
  case 1: return (a == TRUE_VAL) - (b == TRUE_VAL);
  case 2: return cmp3(int_of(a), int_of(b));
  case 3: return cmp_double(as_double(a), as_double(b));
  case 4: return cmp3(char_of(a), char_of(b));
  case 5: return cmp_bytes(str_data(a), str_len(a), str_data(b), str_len(b));
  case 6:
  case 7: return sym_compare(&val_current_vm->syms, sym_id(a), sym_id(b));
  case 8: {
    deep_check();
    while (is_cons(a) && is_cons(b)) {
      int c = val_compare(car(a), car(b));
      if (c) return c;
      a = cdr(a);
      b = cdr(b);
    }
    return is_cons(a) - is_cons(b);
  }
  case 9: deep_check(); return cmp_seq(vec_items(a), vec_len(a), vec_items(b), vec_len(b));
  case 10:
  case 11: deep_check(); return cmp_maps(a, b);
  case 12: {
    Record *x = (Record *)as_obj(a), *y = (Record *)as_obj(b);
    int c = val_compare(x->tag, y->tag);
    if (c) return c;
    deep_check();
    return cmp_seq(x->fields, x->h.aux, y->fields, y->h.aux);
  }
  case 13: {
    Bytevec *x = (Bytevec *)as_obj(a), *y = (Bytevec *)as_obj(b);
    return cmp_bytes(x->data, x->len, y->data, y->len);
  }
  default:
    if (is_objtype(a, OBJ_FOREIGN) && is_objtype(b, OBJ_FOREIGN)) {
      Foreign *x = (Foreign *)as_obj(a), *y = (Foreign *)as_obj(b);
      if (x->cls == y->cls && x->cls->compare) return x->cls->compare(x, y);
    }
    return cmp3((int64_t)(a & PAYLOAD_MASK), (int64_t)(b & PAYLOAD_MASK));
  }
}

/* ---- hashing (consistent with val_equal) ---- */

static uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

uint64_t val_hash(Value v) {
  if (is_double(v)) {
    double d = as_double(v);
    if (d == 0.0) d = 0.0; /* -0.0 equals 0.0 */
    return mix(double_val(d) ^ 0x5bd1e995ull);
  }
  if (is_small_int(v)) return mix((uint64_t)small_int_of(v));
  if (!is_obj(v)) return mix(v);
  Obj *o = as_obj(v);
  switch (o->type) {
  case OBJ_STRING: return mix(str_hash(v) ^ 0x9e3779b97f4a7c15ull);
  case OBJ_BIGINT: return mix((uint64_t)((BigInt *)o)->i);
  case OBJ_CONS: {
    deep_check();
    uint64_t h = 0x1234;
    for (; is_cons(v); v = cdr(v)) h = mix(h * 31 + val_hash(car(v)));
    return h;
  }
  case OBJ_VECTOR: {
    deep_check();
    uint64_t h = 0x5678;
    for (uint32_t i = 0; i < o->aux; i++) h = mix(h * 31 + val_hash(((Vector *)o)->items[i]));
    return h;
  }
  case OBJ_MAP:
  case OBJ_HASHMAP: {
    deep_check();
    uint64_t h = o->type;
    MapIter it;
    map_iter_init(&it, v);
    Value k, x;
    while (map_iter_next(&it, &k, &x)) h += mix(val_hash(k) * 31 + val_hash(x));
    return mix(h);
  }
  case OBJ_RECORD: {
    deep_check();
    Record *r = (Record *)o;
    uint64_t h = mix(r->tag);
    for (uint32_t i = 0; i < o->aux; i++) h = mix(h * 31 + val_hash(r->fields[i]));
    return h;
  }
  case OBJ_BYTEVEC: return XXH3_64bits(((Bytevec *)o)->data, ((Bytevec *)o)->len);
  case OBJ_FOREIGN:
    if (((Foreign *)o)->cls->hash) return ((Foreign *)o)->cls->hash((Foreign *)o);
    return mix(v);
  default: return mix(v);
  }
}

/* ---- type names ---- */

const char *val_type_name(Value v) {
  if (is_double(v)) return "float";
  switch (VAL_TAG(v)) {
  case TAG_SPECIAL:
    if (v == NIL_VAL) return "nil";
    if (v == EMPTY_VAL) return "list";
    return "bool";
  case TAG_INT: return "int";
  case TAG_CHAR: return "char";
  case TAG_SYM: return "symbol";
  case TAG_KW: return "keyword";
  default: break;
  }
  switch (OBJ_TYPE(v)) {
  case OBJ_STRING: return "string";
  case OBJ_BIGINT: return "int";
  case OBJ_CONS: return "list";
  case OBJ_VECTOR: return "vector";
  case OBJ_MAP: return "map";
  case OBJ_HASHMAP: return "hashmap";
  case OBJ_CLOSURE:
  case OBJ_NATIVE: return "native-fn";
  case OBJ_MACRO: return "macro";
  case OBJ_MULTI: return "multimethod";
  case OBJ_RECORD: return "record";
  case OBJ_PROMISE: return "promise";
  case OBJ_BYTEVEC: return "bytevector";
  case OBJ_FOREIGN: return ((Foreign *)as_obj(v))->cls->name;
  default: return "object";
  }
}

Value val_type_keyword(VM *vm, Value v) {
  if (is_closure(v) || (is_native(v) && (as_obj(v)->flags & NATIVE_INTERP))) return KW(vm, "lambda");
  if (is_objtype(v, OBJ_RECORD)) return kw_val(sym_id(((Record *)as_obj(v))->tag));
  return KW(vm, val_type_name(v));
}
