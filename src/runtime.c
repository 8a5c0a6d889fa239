/* runtime.c - constructors, UTF-8, string buffers, equality, order, hashing
 * and type names. */
#include <math.h>
#include <stdlib.h>
#define XXH_INLINE_ALL
#include <xxhash.h>
#include "map.h"
#include "runtime.h"

_Thread_local VM *rt_current_vm; /* the running state, for pure helpers (symbol names, depth checks) */

/* ---- numbers ---- */

Value int_val(VM *vm, int64_t i) {
  if (fits_small_int(i)) return small_int_val(i);
  BigInt *b = gc_alloc(vm, OBJ_BIGINT, sizeof(BigInt));
  b->i = i;
  return obj_val(b);
}

/* ---- UTF-8 ---- */

size_t utf8_encode(uint32_t cp, char *out) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

uint32_t utf8_decode(const char *s, size_t *adv) {
  const unsigned char *u = (const unsigned char *)s;
  if (u[0] < 0x80) {
    *adv = 1;
    return u[0];
  }
  if (u[0] < 0xE0) {
    *adv = 2;
    return ((uint32_t)(u[0] & 0x1F) << 6) | (u[1] & 0x3F);
  }
  if (u[0] < 0xF0) {
    *adv = 3;
    return ((uint32_t)(u[0] & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
  }
  *adv = 4;
  return ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) | ((uint32_t)(u[2] & 0x3F) << 6) |
         (u[3] & 0x3F);
}

/* Length of the ASCII prefix of s, eight bytes at a time (most text is ASCII). */
static inline size_t ascii_prefix(const char *s, size_t len) {
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    if (w & 0x8080808080808080ull) break;
  }
  while (i < len && (unsigned char)s[i] < 0x80) i++;
  return i;
}

bool utf8_valid(const char *s, size_t len, size_t *bad_at) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    i += ascii_prefix(s + i, len - i);
    if (i >= len) break;
    unsigned char c = u[i];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4, cp = c & 0x07, min = 0x10000;
    } else
      goto bad;
    if (i + n > len) goto bad;
    for (size_t k = 1; k < n; k++) {
      if ((u[i + k] & 0xC0) != 0x80) goto bad;
      cp = (cp << 6) | (u[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
    i += n;
  }
  return true;
bad:
  if (bad_at) *bad_at = i;
  return false;
}

size_t utf8_count(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

/* ---- strings ---- */

Value str_new_uninit(VM *vm, size_t len) {
  if (len > 0xFFFFFFF0u) err_eval(vm, "string too large (%zu bytes)", len);
  String *s = gc_alloc(vm, OBJ_STRING, sizeof(String) + len + 1);
  s->len = (uint32_t)len;
  s->nchars = (uint32_t)len;
  s->data[len] = 0;
  return obj_val(s);
}

void str_finish(Value v) {
  String *s = as_string(v);
  size_t n = ascii_prefix(s->data, s->len);
  if (n == s->len) {
    s->nchars = (uint32_t)n;
    s->h.flags = STR_ASCII;
    return;
  }
  for (uint32_t i = (uint32_t)n; i < s->len; i++) n += ((unsigned char)s->data[i] & 0xC0) != 0x80;
  s->nchars = (uint32_t)n;
  s->h.flags = 0;
}

Value str_new(VM *vm, const char *p, size_t len) {
  Value v = str_new_uninit(vm, len);
  memcpy(as_string(v)->data, p, len);
  str_finish(v);
  return v;
}

Value str_from_c(VM *vm, const char *s) { return str_new(vm, s, strlen(s)); }

Value str_new_flagged(VM *vm, const char *p, size_t len, bool ascii) {
  Value r = str_new_uninit(vm, len);
  memcpy(as_string(r)->data, p, len);
  if (ascii)
    as_string(r)->h.flags = STR_ASCII;
  else
    str_finish(r);
  return r;
}

uint32_t str_hash(Value v) {
  String *s = as_string(v);
  if (s->h.flags & STR_HASHED) return s->h.aux;
  uint32_t h = (uint32_t)XXH3_64bits(s->data, s->len);
  s->h.aux = h;
  s->h.flags |= STR_HASHED;
  return h;
}

bool str_eq(Value a, Value b) {
  String *x = as_string(a), *y = as_string(b);
  if (x == y) return true;
  if (x->len != y->len) return false;
  if ((x->h.flags & y->h.flags & STR_HASHED) && x->h.aux != y->h.aux) return false;
  return memcmp(x->data, y->data, x->len) == 0;
}

size_t str_byte_offset(Value v, size_t i) {
  String *s = as_string(v);
  if (s->h.flags & STR_ASCII) return i;
  size_t b = 0;
  while (i > 0 && b < s->len) {
    b++;
    while (b < s->len && ((unsigned char)s->data[b] & 0xC0) == 0x80) b++;
    i--;
  }
  return b;
}

/* ---- string buffers ---- */

void sb_init(StrBuf *b) {
  b->data = NULL;
  b->len = b->cap = 0;
}
void sb_free(StrBuf *b) {
  free(b->data);
  sb_init(b);
}
static void sb_reserve(StrBuf *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1) cap *= 2;
  b->data = realloc(b->data, cap);
  if (!b->data) abort();
  b->cap = cap;
}
void sb_add(StrBuf *b, const char *s, size_t n) {
  sb_reserve(b, n);
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = 0;
}
void sb_addc(StrBuf *b, char c) {
  sb_reserve(b, 1);
  b->data[b->len++] = c;
  b->data[b->len] = 0;
}
void sb_adds(StrBuf *b, const char *s) { sb_add(b, s, strlen(s)); }
void sb_addf(StrBuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  sb_reserve(b, (size_t)n);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  b->len += (size_t)n;
}
void sb_add_utf8(StrBuf *b, uint32_t cp) {
  char tmp[4];
  sb_add(b, tmp, utf8_encode(cp, tmp));
}
Value sb_to_string(VM *vm, StrBuf *b) {
  if (!gc_has_room(vm, b->len + sizeof(String)) && !vm->heap.grace) { /* free the buffer before the error unwinds */
    size_t n = b->len;
    sb_free(b);
    gc_check_room(vm, n + sizeof(String));
  }
  Value v = str_new(vm, b->data ? b->data : "", b->len);
  sb_free(b);
  return v;
}

/* ---- lists and vectors ---- */

Value cons(VM *vm, Value a, Value d) {
  Cons *c = gc_alloc(vm, OBJ_CONS, sizeof(Cons));
  c->car = a;
  c->cdr = d;
  return obj_val(c);
}

Value cons_pos(VM *vm, Value a, Value d, uint32_t pos) {
  Value v = cons(vm, a, d);
  as_obj(v)->aux = pos;
  return v;
}

Value list_from(VM *vm, const Value *items, size_t n) {
  Value l = EMPTY_VAL;
  while (n > 0) l = cons(vm, items[--n], l);
  return l;
}
Value list1(VM *vm, Value a) { return cons(vm, a, EMPTY_VAL); }
Value list2(VM *vm, Value a, Value b) { return cons(vm, a, cons(vm, b, EMPTY_VAL)); }
Value list3(VM *vm, Value a, Value b, Value c) { return cons(vm, a, list2(vm, b, c)); }

Value list(VM *vm, int n, ...) {
  Value items[16];
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n && i < 16; i++) items[i] = va_arg(ap, Value);
  va_end(ap);
  return list_from(vm, items, (size_t)(n < 16 ? n : 16));
}

int64_t list_length(Value l) {
  int64_t n = 0;
  while (is_cons(l)) {
    n++;
    l = cdr(l);
  }
  return l == EMPTY_VAL ? n : -1;
}

Value list_reverse(VM *vm, Value l) {
  Value r = EMPTY_VAL;
  for (; is_cons(l); l = cdr(l)) r = cons(vm, car(l), r);
  return r;
}

void lb_add(VM *vm, ListBuilder *lb, Value v) {
  Value c = cons(vm, v, EMPTY_VAL);
  if (lb->tail)
    lb->tail->cdr = c;
  else
    lb->head = c;
  lb->tail = as_cons(c);
}

Value vec_new(VM *vm, size_t n) {
  if (n > 0x0FFFFFFFu) err_eval(vm, "vector too large (%zu elements)", n);
  Vector *v = gc_alloc(vm, OBJ_VECTOR, sizeof(Vector) + n * sizeof(Value));
  v->h.aux = (uint32_t)n;
  for (size_t i = 0; i < n; i++) v->items[i] = NIL_VAL;
  return obj_val(v);
}

Value vec_from(VM *vm, const Value *items, size_t n) {
  Value v = vec_new(vm, n);
  if (n) memcpy(vec_items(v), items, n * sizeof(Value));
  return v;
}

Value box_new(VM *vm, Value v) {
  Box *b = gc_alloc(vm, OBJ_BOX, sizeof(Box));
  b->v = v;
  return obj_val(b);
}

Value bytevec_new(VM *vm, const uint8_t *data, size_t len) {
  Bytevec *bv = gc_alloc(vm, OBJ_BYTEVEC, sizeof(Bytevec) + len);
  bv->len = (uint32_t)len;
  if (data && len) memcpy(bv->data, data, len);
  else if (len) memset(bv->data, 0, len);
  return obj_val(bv);
}

Value foreign_new(VM *vm, const ForeignClass *cls, void *ptr, Value extra) {
  Foreign *f = gc_alloc(vm, OBJ_FOREIGN, sizeof(Foreign));
  f->cls = cls;
  f->ptr = ptr;
  f->extra = extra;
  return obj_val(f);
}

bool is_foreign_of(Value v, const ForeignClass *cls) {
  return is_objtype(v, OBJ_FOREIGN) && ((Foreign *)as_obj(v))->cls == cls;
}

Value native_new(VM *vm, const char *name, NativeFn fn, int min_args, int max_args) {
  Native *n = gc_alloc(vm, OBJ_NATIVE, sizeof(Native));
  n->fn = fn;
  n->name = SYM(vm, name);
  n->min_args = (int16_t)min_args;
  n->max_args = (int16_t)max_args;
  n->opcode_id = 0;
  n->ud = NULL;
  n->data = NIL_VAL;
  n->doc = NULL;
  return obj_val(n);
}

/* ---- deep-structure guard ---- */

static void deep_check(void) {
  if (rt_current_vm) vm_check_c_stack(rt_current_vm);
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
      mapiter_init(&it, a);
      Value k, v, w;
      while (mapiter_next(&it, &k, &v))
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
  Value *ea = anymap_sorted_entries(a, &na);
  Value *eb = anymap_sorted_entries(b, &nb);
  int c = cmp_seq(ea, na * 2, eb, nb * 2);
  free(ea);
  free(eb);
  return c;
}

int val_compare(Value a, Value b) {
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
  case 7: {
    String *x = sym_name(rt_current_vm, sym_id(a)), *y = sym_name(rt_current_vm, sym_id(b));
    return cmp_bytes(x->data, x->len, y->data, y->len);
  }
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
    mapiter_init(&it, v);
    Value k, x;
    while (mapiter_next(&it, &k, &x)) h += mix(val_hash(k) * 31 + val_hash(x));
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

const char *type_name(Value v) {
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

Value type_keyword(VM *vm, Value v) {
  if (is_closure(v) || (is_native(v) && (as_obj(v)->flags & NATIVE_INTERP))) return KW(vm, "lambda");
  if (is_objtype(v, OBJ_RECORD)) return kw_val(sym_id(((Record *)as_obj(v))->tag));
  return KW(vm, type_name(v));
}
