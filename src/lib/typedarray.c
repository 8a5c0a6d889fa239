/* typedarray.c - homogeneous f64 / i64 arrays (stdlib.md §30).
 *
 * An array is a Foreign object whose ptr is a malloc'd TArr (length and
 * elements), freed by the class finalizer.  Arrays are immutable: set! and map
 * build new arrays.  Printing (#f64(1 2.5)), equality by content (f64 by
 * element bits), the total order (language.md §5.3) and length go through the
 * ForeignClass hooks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lib.h"

typedef struct {
  size_t len;
  union {
    double d[1];
    int64_t i[1];
  } u;
} TArr;

#define MAX_LEN ((int64_t)1 << 32)

static void tarr_finalize(Foreign *f) { free(f->ptr); }
static TArr *tarr_of(Foreign *f) { return (TArr *)f->ptr; }
static int64_t tarr_length(Foreign *f) { return (int64_t)tarr_of(f)->len; }

static int cmp3u(size_t a, size_t b) { return (a > b) - (a < b); }

static void f64_print(VM *vm, StrBuf *b, Foreign *f) {
  TArr *a = tarr_of(f);
  sb_adds(b, "#f64(");
  for (size_t k = 0; k < a->len; k++) {
    if (k) sb_addc(b, ' ');
    print_double(b, a->u.d[k], false);
  }
  sb_addc(b, ')');
}

static void i64_print(VM *vm, StrBuf *b, Foreign *f) {
  TArr *a = tarr_of(f);
  sb_adds(b, "#i64(");
  for (size_t k = 0; k < a->len; k++) sb_addf(b, k ? " %lld" : "%lld", (long long)a->u.i[k]);
  sb_addc(b, ')');
}

static uint64_t dbits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

/* IEEE total order (-0.0 < 0.0, NaN last); ties broken by bits so that
 * compare == 0 exactly when the elements have the same bits. */
static int cmp_f64(double x, double y) {
  bool xn = x != x, yn = y != y;
  if (!xn && !yn) {
    if (x < y) return -1;
    if (x > y) return 1;
  } else if (xn != yn)
    return xn ? 1 : -1;
  uint64_t a = dbits(x), b = dbits(y);
  if (a == b) return 0;
  if (!xn) return (int)(signbit(y) != 0) - (int)(signbit(x) != 0); /* -0.0 vs 0.0 */
  return a < b ? -1 : 1;
}

static int f64_compare(Foreign *fa, Foreign *fb) {
  TArr *a = tarr_of(fa), *b = tarr_of(fb);
  for (size_t k = 0; k < a->len && k < b->len; k++) {
    int c = cmp_f64(a->u.d[k], b->u.d[k]);
    if (c) return c;
  }
  return cmp3u(a->len, b->len);
}

static int i64_compare(Foreign *fa, Foreign *fb) {
  TArr *a = tarr_of(fa), *b = tarr_of(fb);
  for (size_t k = 0; k < a->len && k < b->len; k++)
    if (a->u.i[k] != b->u.i[k]) return a->u.i[k] < b->u.i[k] ? -1 : 1;
  return cmp3u(a->len, b->len);
}

static uint64_t hash_words(const TArr *a, uint64_t seed) {
  uint64_t h = seed ^ (a->len * 0x9e3779b97f4a7c15ull);
  for (size_t k = 0; k < a->len; k++) {
    uint64_t w;
    memcpy(&w, &a->u.i[k], sizeof w);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  return h;
}
static uint64_t f64_hash(Foreign *f) { return hash_words(tarr_of(f), 0xf64f64ull); }
static uint64_t i64_hash(Foreign *f) { return hash_words(tarr_of(f), 0x164164ull); }

static const ForeignClass f64_class = {
    .name = "f64-array",
    .finalize = tarr_finalize,
    .print = f64_print,
    .compare = f64_compare,
    .hash = f64_hash,
    .length = tarr_length,
    .order = 14,
};
static const ForeignClass i64_class = {
    .name = "i64-array",
    .finalize = tarr_finalize,
    .print = i64_print,
    .compare = i64_compare,
    .hash = i64_hash,
    .length = tarr_length,
    .order = 15,
};

/* A new zero-filled array of n elements, already owned by its Foreign object
 * (so an error while filling it leaks nothing). */
static Value tarr_new(VM *vm, const ForeignClass *cls, size_t n, TArr **out) {
  TArr *a = calloc(1, sizeof(TArr) + (n ? n - 1 : 0) * sizeof(int64_t));
  if (!a) err_eval(vm, "%s: out of memory", cls->name);
  a->len = n;
  *out = a;
  return obj_foreign(vm, cls, a, NIL_VAL);
}

static TArr *arg_f64(VM *vm, Value v) {
  if (!obj_is_foreign(v, &f64_class)) err_type(vm, "f64-array", v);
  return tarr_of((Foreign *)as_obj(v));
}
static TArr *arg_i64(VM *vm, Value v) {
  if (!obj_is_foreign(v, &i64_class)) err_type(vm, "i64-array", v);
  return tarr_of((Foreign *)as_obj(v));
}

static int64_t elem_int(VM *vm, Value v) {
  if (!is_int(v)) err_type(vm, "integer", v);
  return int_of(v);
}
static double elem_num(VM *vm, Value v) {
  if (!is_number(v)) err_type(vm, "number", v);
  return num_to_double(v);
}

static size_t arg_index(VM *vm, Value v, const TArr *a) {
  int64_t i = elem_int(vm, v);
  if (i < 0 || (uint64_t)i >= a->len) err_eval(vm, "index %lld out of bounds (len %zu)", (long long)i, a->len);
  return (size_t)i;
}

static size_t arg_length(VM *vm, Value v, const char *fname) {
  int64_t n = elem_int(vm, v);
  if (n < 0) err_eval(vm, "%s: length must be non-negative, got %lld", fname, (long long)n);
  if (n > MAX_LEN) err_eval(vm, "%s: length too large, got %lld", fname, (long long)n);
  return (size_t)n;
}

/* ---- constructors ---- */

static Value n_f64_array(VM *vm, int argc, Value *argv) {
  for (int k = 0; k < argc; k++) elem_num(vm, argv[k]);
  TArr *a;
  Value r = tarr_new(vm, &f64_class, (size_t)argc, &a);
  for (int k = 0; k < argc; k++) a->u.d[k] = num_to_double(argv[k]);
  return r;
}

static Value n_i64_array(VM *vm, int argc, Value *argv) {
  for (int k = 0; k < argc; k++) elem_int(vm, argv[k]);
  TArr *a;
  Value r = tarr_new(vm, &i64_class, (size_t)argc, &a);
  for (int k = 0; k < argc; k++) a->u.i[k] = int_of(argv[k]);
  return r;
}

static Value n_f64_make(VM *vm, int argc, Value *argv) {
  size_t n = arg_length(vm, argv[0], "f64-array/make");
  double fill = argc > 1 ? elem_num(vm, argv[1]) : 0.0;
  TArr *a;
  Value r = tarr_new(vm, &f64_class, n, &a);
  for (size_t k = 0; k < n; k++) a->u.d[k] = fill;
  return r;
}

static Value n_i64_make(VM *vm, int argc, Value *argv) {
  size_t n = arg_length(vm, argv[0], "i64-array/make");
  int64_t fill = argc > 1 ? elem_int(vm, argv[1]) : 0;
  TArr *a;
  Value r = tarr_new(vm, &i64_class, n, &a);
  for (size_t k = 0; k < n; k++) a->u.i[k] = fill;
  return r;
}

static size_t arg_list(VM *vm, Value l) {
  if (!is_list(l)) err_type(vm, "list", l);
  int64_t n = list_length(l);
  if (n < 0) err_type(vm, "list", l);
  return (size_t)n;
}

static Value n_f64_from_list(VM *vm, int argc, Value *argv) {
  Value l = argv[0];
  size_t n = arg_list(vm, l);
  for (Value p = l; is_cons(p); p = cdr(p)) elem_num(vm, car(p));
  TArr *a;
  Value r = tarr_new(vm, &f64_class, n, &a);
  size_t k = 0;
  for (Value p = l; is_cons(p); p = cdr(p)) a->u.d[k++] = num_to_double(car(p));
  return r;
}

static Value n_i64_from_list(VM *vm, int argc, Value *argv) {
  Value l = argv[0];
  size_t n = arg_list(vm, l);
  for (Value p = l; is_cons(p); p = cdr(p)) elem_int(vm, car(p));
  TArr *a;
  Value r = tarr_new(vm, &i64_class, n, &a);
  size_t k = 0;
  for (Value p = l; is_cons(p); p = cdr(p)) a->u.i[k++] = int_of(car(p));
  return r;
}

/* Floats from start by step while < end (> end for a negative step). */
static Value n_f64_range(VM *vm, int argc, Value *argv) {
  double start = elem_num(vm, argv[0]), end = elem_num(vm, argv[1]);
  double step = argc > 2 ? elem_num(vm, argv[2]) : 1.0;
  if (step == 0) err_eval(vm, "f64-array/range: step cannot be zero");
  size_t n = 0;
  for (double x = start; step > 0 ? x < end : x > end; x += step)
    if (++n > (size_t)MAX_LEN || x + step == x) err_eval(vm, "f64-array/range: too many elements");
  TArr *a;
  Value r = tarr_new(vm, &f64_class, n, &a);
  double x = start;
  for (size_t k = 0; k < n; k++, x += step) a->u.d[k] = x;
  return r;
}

static Value n_i64_range(VM *vm, int argc, Value *argv) {
  int64_t start = elem_int(vm, argv[0]), end = elem_int(vm, argv[1]);
  int64_t step = argc > 2 ? elem_int(vm, argv[2]) : 1;
  if (step == 0) err_eval(vm, "i64-array/range: step cannot be zero");
  uint64_t span, ustep;
  if (step > 0) {
    span = start < end ? (uint64_t)end - (uint64_t)start : 0;
    ustep = (uint64_t)step;
  } else {
    span = start > end ? (uint64_t)start - (uint64_t)end : 0;
    ustep = 0 - (uint64_t)step;
  }
  uint64_t n = span / ustep + (span % ustep != 0);
  if (n > (uint64_t)MAX_LEN) err_eval(vm, "i64-array/range: too many elements");
  TArr *a;
  Value r = tarr_new(vm, &i64_class, (size_t)n, &a);
  uint64_t x = (uint64_t)start;
  for (size_t k = 0; k < n; k++, x += (uint64_t)step) a->u.i[k] = (int64_t)x;
  return r;
}

/* ---- access ---- */

static Value n_f64_ref(VM *vm, int argc, Value *argv) {
  TArr *a = arg_f64(vm, argv[0]);
  return double_val(a->u.d[arg_index(vm, argv[1], a)]);
}

static Value n_i64_ref(VM *vm, int argc, Value *argv) {
  TArr *a = arg_i64(vm, argv[0]);
  return num_int(vm, a->u.i[arg_index(vm, argv[1], a)]);
}

static Value n_f64_set(VM *vm, int argc, Value *argv) {
  TArr *a = arg_f64(vm, argv[0]);
  size_t i = arg_index(vm, argv[1], a);
  double x = elem_num(vm, argv[2]);
  TArr *b;
  Value r = tarr_new(vm, &f64_class, a->len, &b);
  memcpy(b->u.d, a->u.d, a->len * sizeof(double));
  b->u.d[i] = x;
  return r;
}

static Value n_i64_set(VM *vm, int argc, Value *argv) {
  TArr *a = arg_i64(vm, argv[0]);
  size_t i = arg_index(vm, argv[1], a);
  int64_t x = elem_int(vm, argv[2]);
  TArr *b;
  Value r = tarr_new(vm, &i64_class, a->len, &b);
  memcpy(b->u.i, a->u.i, a->len * sizeof(int64_t));
  b->u.i[i] = x;
  return r;
}

static Value n_f64_length(VM *vm, int argc, Value *argv) { return num_int(vm, (int64_t)arg_f64(vm, argv[0])->len); }
static Value n_i64_length(VM *vm, int argc, Value *argv) { return num_int(vm, (int64_t)arg_i64(vm, argv[0])->len); }

static Value n_f64_sum(VM *vm, int argc, Value *argv) {
  TArr *a = arg_f64(vm, argv[0]);
  double s = 0;
  for (size_t k = 0; k < a->len; k++) s += a->u.d[k];
  return double_val(s);
}

static Value n_i64_sum(VM *vm, int argc, Value *argv) {
  TArr *a = arg_i64(vm, argv[0]);
  uint64_t s = 0;
  for (size_t k = 0; k < a->len; k++) s += (uint64_t)a->u.i[k];
  return num_int(vm, (int64_t)s);
}

static Value n_f64_dot(VM *vm, int argc, Value *argv) {
  TArr *a = arg_f64(vm, argv[0]), *b = arg_f64(vm, argv[1]);
  if (a->len != b->len) err_eval(vm, "f64-array/dot: length mismatch (%zu vs %zu)", a->len, b->len);
  double s = 0;
  for (size_t k = 0; k < a->len; k++) s += a->u.d[k] * b->u.d[k];
  return double_val(s);
}

static Value n_f64p(VM *vm, int argc, Value *argv) { return bool_val(obj_is_foreign(argv[0], &f64_class)); }
static Value n_i64p(VM *vm, int argc, Value *argv) { return bool_val(obj_is_foreign(argv[0], &i64_class)); }

/* ---- higher-order: the arrays are rooted across the calls ---- */

static Value n_f64_map(VM *vm, int argc, Value *argv) {
  Value fn = argv[0], src = argv[1];
  TArr *a = arg_f64(vm, src), *b;
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, fn);
  vm_push_root(vm, src);
  Value r = tarr_new(vm, &f64_class, a->len, &b);
  vm_push_root(vm, r);
  for (size_t k = 0; k < a->len; k++) {
    Value y = vm_call1(vm, fn, double_val(a->u.d[k]));
    b->u.d[k] = elem_num(vm, y);
  }
  vm_roots_reset(vm, base);
  return r;
}

static Value n_i64_map(VM *vm, int argc, Value *argv) {
  Value fn = argv[0], src = argv[1];
  TArr *a = arg_i64(vm, src), *b;
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, fn);
  vm_push_root(vm, src);
  Value r = tarr_new(vm, &i64_class, a->len, &b);
  vm_push_root(vm, r);
  for (size_t k = 0; k < a->len; k++) {
    Value y = vm_call1(vm, fn, num_int(vm, a->u.i[k]));
    b->u.i[k] = elem_int(vm, y);
  }
  vm_roots_reset(vm, base);
  return r;
}

static Value fold(VM *vm, Value *argv, bool f64) {
  Value fn = argv[0], acc = argv[1], src = argv[2];
  TArr *a = f64 ? arg_f64(vm, src) : arg_i64(vm, src);
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, fn);
  vm_push_root(vm, src);
  uint32_t token = vm_new_token(vm);
  Value args[2];
  for (size_t k = 0; k < a->len; k++) {
    args[0] = acc;
    args[1] = f64 ? double_val(a->u.d[k]) : num_int(vm, a->u.i[k]);
    acc = vm_call_owned(vm, fn, 2, args, token);
  }
  vm_roots_reset(vm, base);
  return acc;
}
static Value n_f64_fold(VM *vm, int argc, Value *argv) { return fold(vm, argv, true); }
static Value n_i64_fold(VM *vm, int argc, Value *argv) { return fold(vm, argv, false); }

static const NativeDef defs[] = {
    {"f64-array", n_f64_array, 0, VARIADIC,
     "(f64-array x...)\nReturns a typed array of 64-bit floats holding the numbers given."},
    {"i64-array", n_i64_array, 0, VARIADIC,
     "(i64-array x...)\nReturns a typed array of 64-bit integers holding the integers given."},
    {"f64-array/make", n_f64_make, 1, 2,
     "(f64-array/make n [fill])\nReturns an f64 array of n elements, each fill (default 0)."},
    {"i64-array/make", n_i64_make, 1, 2,
     "(i64-array/make n [fill])\nReturns an i64 array of n elements, each fill (default 0)."},
    {"f64-array/from-list", n_f64_from_list, 1, 1,
     "(f64-array/from-list lst)\nReturns an f64 array of the numbers in the list lst."},
    {"i64-array/from-list", n_i64_from_list, 1, 1,
     "(i64-array/from-list lst)\nReturns an i64 array of the integers in the list lst."},
    {"f64-array/range", n_f64_range, 2, 3,
     "(f64-array/range start end [step])\nReturns an f64 array of the floats from start by step (default 1) while "
     "below end (above it for a negative step); a zero step is an error."},
    {"i64-array/range", n_i64_range, 2, 3,
     "(i64-array/range start end [step])\nReturns an i64 array of the integers from start by step (default 1) while "
     "below end (above it for a negative step): (i64-array/range 5 0 -1) is #i64(5 4 3 2 1)."},
    {"f64-array/ref", n_f64_ref, 2, 2,
     "(f64-array/ref a i)\nReturns the element at index i of the f64 array a."},
    {"i64-array/ref", n_i64_ref, 2, 2,
     "(i64-array/ref a i)\nReturns the element at index i of the i64 array a."},
    {"f64-array/set!", n_f64_set, 3, 3,
     "(f64-array/set! a i x)\nReturns a new f64 array with element i replaced by x; a itself is unchanged."},
    {"i64-array/set!", n_i64_set, 3, 3,
     "(i64-array/set! a i x)\nReturns a new i64 array with element i replaced by x; a itself is unchanged."},
    {"f64-array/length", n_f64_length, 1, 1,
     "(f64-array/length a)\nReturns the number of elements of the f64 array a."},
    {"i64-array/length", n_i64_length, 1, 1,
     "(i64-array/length a)\nReturns the number of elements of the i64 array a."},
    {"f64-array/sum", n_f64_sum, 1, 1,
     "(f64-array/sum a)\nReturns the sum of the elements of the f64 array a, as a float."},
    {"i64-array/sum", n_i64_sum, 1, 1,
     "(i64-array/sum a)\nReturns the sum of the elements of the i64 array a, as an integer (wrapping on overflow)."},
    {"f64-array/dot", n_f64_dot, 2, 2,
     "(f64-array/dot a b)\nReturns the dot product of two f64 arrays of the same length."},
    {"f64-array/map", n_f64_map, 2, 2,
     "(f64-array/map fn a)\nReturns a new f64 array of (fn x) for each element x of a; fn must return a number."},
    {"i64-array/map", n_i64_map, 2, 2,
     "(i64-array/map fn a)\nReturns a new i64 array of (fn x) for each element x of a; fn must return an integer."},
    {"f64-array/fold", n_f64_fold, 3, 3,
     "(f64-array/fold fn init a)\nFolds the f64 array a from the left with (fn acc x), starting with init."},
    {"i64-array/fold", n_i64_fold, 3, 3,
     "(i64-array/fold fn init a)\nFolds the i64 array a from the left with (fn acc x), starting with init."},
    {"f64-array?", n_f64p, 1, 1,
     "(f64-array? x)\nReturns #t when x is an f64 array."},
    {"i64-array?", n_i64p, 1, 1,
     "(i64-array? x)\nReturns #t when x is an i64 array."},
    {NULL, NULL, 0, 0},
};

void lib_typedarray_init(VM *vm) { env_register(vm, defs); }
