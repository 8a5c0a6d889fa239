/* listlib.c - lists and sequences (stdlib.md §8) and vectors (§9).
 *
 * car, cdr, cons, cadr, list, vector, length, append, nth, first, rest,
 * apply and the alist form of assoc live in core.c.
 *
 * GC discipline: natives that call back into the VM keep every fresh value
 * they still need (result builders, copies of the input, key vectors) in
 * root slots; values reachable from argv are safe.  Scratch space that must
 * survive a callback (or an error raised by one) is a GC vector, never
 * malloc'd memory, so an error cannot leak it. */
#include <stdlib.h>
#include "../ops.h"
#include "lib.h"

/* Longest list a constructor (range, iota, list/repeat, ...) will build:
 * beyond this a typo like (range 1e12) would exhaust memory. */
#define MAX_BUILD 100000000LL

/* ---- argument helpers ---- */

static size_t seq_len(Value s) {
  if (is_vector(s)) return vec_len(s);
  size_t n = 0;
  for (; is_cons(s); s = cdr(s)) n++;
  return n;
}

/* A non-negative integer count; negative => the §1.2 error naming fname. */
static int64_t arg_count(VM *vm, Value v, const char *fname) {
  int64_t n = arg_int(vm, v);
  if (n < 0) err_nonneg(vm, fname, v);
  return n;
}

/* The count argument of (NAME n seq), with a hint when the two are swapped. */
static int64_t lead_count(VM *vm, Value *argv, const char *fname) {
  if ((is_list(argv[0]) || is_vector(argv[0])) && is_int(argv[1]))
    err_hint(vm, "the arguments are swapped: the order is (%s n sequence)", fname);
  return arg_count(vm, argv[0], fname);
}

static void check_build(VM *vm, const char *fname, uint64_t n) {
  if (n > (uint64_t)MAX_BUILD)
    err_eval(vm, "%s: too many elements (%llu, limit %lld)", fname, (unsigned long long)n, MAX_BUILD);
}

/* The elements of a sequence as a vector: the vector itself, or a copy. */
static Value seq_to_vec(VM *vm, Value s) {
  if (is_vector(s)) return s;
  Value v = vec_new(vm, seq_len(s));
  Value *it = vec_items(v);
  for (; is_cons(s); s = cdr(s)) *it++ = car(s);
  return v;
}

/* Elements [from, to) of a sequence of length len as a list; a list
 * suffix (to == len) is shared rather than copied. */
static Value seq_slice(VM *vm, Value s, size_t from, size_t to, size_t len) {
  if (from >= to) return EMPTY_VAL;
  if (is_vector(s)) return list_from(vm, vec_items(s) + from, to - from);
  for (size_t i = 0; i < from; i++) s = cdr(s);
  if (to == len) return s;
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = from; i < to; i++, s = cdr(s)) list_add(vm, &lb, car(s));
  return lb.head;
}

/* A list builder whose head lives in a root slot (for natives that call back). */
typedef struct {
  ListBuilder lb;
  uint32_t slot;
} RootedList;

static void rl_init(VM *vm, RootedList *r) {
  list_start(&r->lb);
  r->slot = vm_root_slot(vm, EMPTY_VAL);
}
static inline void rl_add(VM *vm, RootedList *r, Value v) {
  list_add(vm, &r->lb, v);
  ROOT(vm, r->slot) = r->lb.head;
}

/* ---- stable merge sort over a Value array ---- */

/* less(ctx, a, b): a must come strictly before b. */
typedef bool (*LessFn)(void *ctx, Value a, Value b);

/* Sorts a[0..n) using tmp[0..n) as scratch.  Both are items of GC vectors
 * (stable pointers); taking from the right run only when it is strictly
 * less keeps the sort stable. */
static void msort(Value *a, Value *tmp, size_t n, LessFn less, void *ctx) {
  if (n <= 8) {
    for (size_t i = 1; i < n; i++) {
      Value x = a[i];
      size_t j = i;
      while (j > 0 && less(ctx, x, a[j - 1])) {
        a[j] = a[j - 1];
        j--;
      }
      a[j] = x;
    }
    return;
  }
  size_t h = n / 2;
  msort(a, tmp, h, less, ctx);
  msort(a + h, tmp + h, n - h, less, ctx);
  if (!less(ctx, a[h], a[h - 1])) return; /* already in order */
  memcpy(tmp, a, n * sizeof(Value));
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) a[k++] = less(ctx, tmp[j], tmp[i]) ? tmp[j++] : tmp[i++];
  while (i < h) a[k++] = tmp[i++];
  while (j < n) a[k++] = tmp[j++];
}

/* Numbers by value, ints exactly, NaN after everything. */
static int num_cmp(Value a, Value b) {
  if (is_int(a) && is_int(b)) {
    int64_t x = int_of(a), y = int_of(b);
    return (x > y) - (x < y);
  }
  double x = num_to_double(a), y = num_to_double(b);
  bool nx = x != x, ny = y != y;
  if (nx || ny) return (int)nx - (int)ny;
  return (x > y) - (x < y);
}

static bool less_num(void *ctx, Value a, Value b) { return num_cmp(a, b) < 0; }
static bool less_total(void *ctx, Value a, Value b) { return val_compare(a, b) < 0; }
/* Index sorts: the values are small-int indices into the key array ctx. */
static bool less_keyed(void *ctx, Value a, Value b) {
  const Value *keys = ctx;
  return val_compare(keys[small_int_of(a)], keys[small_int_of(b)]) < 0;
}

typedef struct {
  VM *vm;
  Value fn;
} UserCmp;
/* #t or a negative integer: a first; everything else does not put a first. */
static bool less_user(void *ctx, Value a, Value b) {
  UserCmp *u = ctx;
  Value r = vm_call2(u->vm, u->fn, a, b);
  if (r == TRUE_VAL) return true;
  return is_int(r) && int_of(r) < 0;
}

/* The vector [0 1 ... n-1] of small-int indices. */
static Value index_vec(VM *vm, size_t n) {
  Value v = vec_new(vm, n);
  for (size_t i = 0; i < n; i++) vec_items(v)[i] = small_int_val((int64_t)i);
  return v;
}

/* Indices of keys[0..n) in stable total order (no callbacks: nothing rooted). */
static Value sorted_indices(VM *vm, const Value *keys, size_t n) {
  Value idx = index_vec(vm, n);
  Value tmp = vec_new(vm, n);
  msort(vec_items(idx), vec_items(tmp), n, less_keyed, (void *)keys);
  return idx;
}

/* ---- 8.1 construction and access ---- */

/* Compositions of car/cdr, applied right to left ("add" = car of cdr of cdr). */
static Value cxr(VM *vm, Value x, const char *path) {
  for (size_t i = strlen(path); i-- > 0;) x = path[i] == 'a' ? op_car(vm, x) : op_cdr(vm, x);
  return x;
}
#define CXR(cname, path) \
  static Value cname(VM *vm, int argc, Value *argv) { return cxr(vm, argv[0], path); }
CXR(n_caar, "aa")
CXR(n_cdar, "da")
CXR(n_cddr, "dd")
CXR(n_caddr, "add")
CXR(n_cdddr, "ddd")
CXR(n_caaar, "aaa")
CXR(n_caadr, "aad")
CXR(n_cadar, "ada")
CXR(n_cdaar, "daa")
CXR(n_cdadr, "dad")
CXR(n_cddar, "dda")

static Value n_last(VM *vm, int argc, Value *argv) {
  Value s = argv[0];
  arg_seq(vm, s, "last");
  if (is_vector(s)) return vec_len(s) ? vec_items(s)[vec_len(s) - 1] : NIL_VAL;
  Value r = NIL_VAL;
  for (; is_cons(s); s = cdr(s)) r = car(s);
  return r;
}

/* n integers start, start+step, ... built back to front (wrapping arithmetic). */
static Value arith_list(VM *vm, int64_t start, int64_t step, uint64_t n) {
  Value l = EMPTY_VAL;
  for (uint64_t i = n; i-- > 0;) l = list_cons(vm, num_int(vm, (int64_t)((uint64_t)start + i * (uint64_t)step)), l);
  return l;
}

static Value n_range(VM *vm, int argc, Value *argv) {
  int64_t start = 0, end, step = 1;
  if (argc == 1) {
    end = arg_int(vm, argv[0]);
  } else {
    start = arg_int(vm, argv[0]);
    end = arg_int(vm, argv[1]);
    if (argc == 3) step = arg_int(vm, argv[2]);
  }
  if (step == 0) err_eval(vm, "range: step cannot be 0");
  uint64_t n = 0;
  if (step > 0 && start < end)
    n = ((uint64_t)end - (uint64_t)start - 1) / (uint64_t)step + 1;
  else if (step < 0 && start > end)
    n = ((uint64_t)start - (uint64_t)end - 1) / (0 - (uint64_t)step) + 1;
  check_build(vm, "range", n);
  return arith_list(vm, start, step, n);
}

static Value n_iota(VM *vm, int argc, Value *argv) {
  int64_t count = arg_int(vm, argv[0]);
  int64_t start = argc > 1 ? arg_int(vm, argv[1]) : 0;
  int64_t step = argc > 2 ? arg_int(vm, argv[2]) : 1;
  if (count <= 0) return EMPTY_VAL;
  check_build(vm, "iota", (uint64_t)count);
  return arith_list(vm, start, step, (uint64_t)count);
}

static Value n_list_repeat(VM *vm, int argc, Value *argv) {
  int64_t n = arg_count(vm, argv[0], "list/repeat");
  check_build(vm, "list/repeat", (uint64_t)n);
  Value l = EMPTY_VAL;
  while (n-- > 0) l = list_cons(vm, argv[1], l);
  return l;
}

static Value n_list_times(VM *vm, int argc, Value *argv) {
  int64_t n = arg_count(vm, argv[0], "list/times");
  check_build(vm, "list/times", (uint64_t)n);
  RootedList r;
  rl_init(vm, &r);
  for (int64_t i = 0; i < n; i++) rl_add(vm, &r, vm_call1(vm, argv[1], num_int(vm, i)));
  vm_pop_roots(vm, 1);
  return r.lb.head;
}

/* ---- 8.2 combining and reordering ---- */

static Value n_reverse(VM *vm, int argc, Value *argv) {
  Value s = argv[0];
  arg_seq(vm, s, "reverse");
  if (is_list(s)) return list_reverse(vm, s);
  uint32_t n = vec_len(s);
  Value v = vec_new(vm, n);
  for (uint32_t i = 0; i < n; i++) vec_items(v)[i] = vec_items(s)[n - 1 - i];
  return v;
}

/* (sort seq) needs all numbers or all one type: "expected T1, got T2". */
static LessFn natural_order(VM *vm, const Value *xs, size_t n) {
  if (n == 0) return less_total;
  if (is_number(xs[0])) {
    for (size_t i = 1; i < n; i++)
      if (!is_number(xs[i])) err_type(vm, val_type_name(xs[0]), xs[i]);
    return less_num;
  }
  const char *t = val_type_name(xs[0]);
  for (size_t i = 1; i < n; i++)
    if (val_type_name(xs[i]) != t && strcmp(val_type_name(xs[i]), t) != 0) err_type(vm, t, xs[i]);
  return less_total;
}

static Value n_sort(VM *vm, int argc, Value *argv) {
  Value s = argv[0];
  arg_seq(vm, s, "sort");
  size_t n = seq_len(s);
  /* one vector of 2n: the elements, then the merge scratch; rooted for comparator calls */
  Value buf = vec_new(vm, 2 * n);
  Value *a = vec_items(buf);
  SeqIter it;
  seqiter_init(&it, s);
  for (size_t i = 0; seqiter_next(&it, &a[i]); i++) {}
  if (argc == 1) {
    msort(a, a + n, n, natural_order(vm, a, n), NULL);
    return list_from(vm, a, n);
  }
  vm_push_root(vm, buf);
  UserCmp u = {vm, argv[1]};
  msort(a, a + n, n, less_user, &u);
  vm_pop_roots(vm, 1);
  return list_from(vm, a, n);
}

static Value n_sort_by(VM *vm, int argc, Value *argv) {
  Value fn = argv[0], s = argv[1];
  arg_seq(vm, s, "sort-by");
  size_t n = seq_len(s);
  Value keys = vec_new(vm, n);
  vm_push_root(vm, keys);
  SeqIter it;
  seqiter_init(&it, s);
  Value x;
  for (size_t i = 0; seqiter_next(&it, &x); i++) {
    Value key = vm_call1(vm, fn, x);
    vec_items(keys)[i] = key;
    gc_barrier(vm, as_obj(keys)); /* the key function may have collected: keys may be old */
  }
  vm_pop_roots(vm, 1);
  Value elems = seq_to_vec(vm, s);
  Value idx = sorted_indices(vm, vec_items(keys), n);
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = 0; i < n; i++) list_add(vm, &lb, vec_items(elems)[small_int_of(vec_items(idx)[i])]);
  return lb.head;
}

/* Lockstep iteration over k sequences.  The cursors (a list tail, or an
 * index into a vector) live in a GC vector so any number of sequences works
 * without C allocation. */
typedef struct {
  const Value *seqs;
  Value *pos;
  int k;
  VM *vm;
  Obj *state; /* the vector pos and the row point into: written between callbacks */
} Lockstep;

static Value lockstep_init(VM *vm, Lockstep *ls, const Value *seqs, int k, const char *fname) {
  for (int j = 0; j < k; j++) arg_seq(vm, seqs[j], fname);
  Value state = vec_new(vm, 2 * (size_t)k); /* cursors, then the current row */
  ls->seqs = seqs;
  ls->pos = vec_items(state);
  ls->k = k;
  ls->vm = vm;
  ls->state = as_obj(state);
  for (int j = 0; j < k; j++) ls->pos[j] = is_vector(seqs[j]) ? small_int_val(0) : seqs[j];
  return state;
}

/* Fill row[0..k) with the next element of every sequence; false at the shortest's end. */
static bool lockstep_next(Lockstep *ls, Value *row) {
  gc_barrier(ls->vm, ls->state); /* map's callbacks run between rows (gc.c, GENERATIONS) */
  for (int j = 0; j < ls->k; j++) {
    Value s = ls->seqs[j], p = ls->pos[j];
    if (is_vector(s)) {
      int64_t i = small_int_of(p);
      if (i >= (int64_t)vec_len(s)) return false;
      row[j] = vec_items(s)[i];
      ls->pos[j] = small_int_val(i + 1);
    } else {
      if (!is_cons(p)) return false;
      row[j] = car(p);
      ls->pos[j] = cdr(p);
    }
  }
  return true;
}

static Value n_zip(VM *vm, int argc, Value *argv) {
  Lockstep ls;
  Value state = lockstep_init(vm, &ls, argv, argc, "zip");
  Value *row = vec_items(state) + argc;
  ListBuilder lb;
  list_start(&lb);
  while (lockstep_next(&ls, row)) list_add(vm, &lb, list_from(vm, row, (size_t)argc));
  return lb.head;
}

static Value n_interleave(VM *vm, int argc, Value *argv) {
  Lockstep ls;
  Value state = lockstep_init(vm, &ls, argv, argc, "list/interleave");
  Value *row = vec_items(state) + argc;
  ListBuilder lb;
  list_start(&lb);
  while (lockstep_next(&ls, row))
    for (int j = 0; j < argc; j++) list_add(vm, &lb, row[j]);
  return lb.head;
}

static Value n_interpose(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[1], "interpose");
  ListBuilder lb;
  list_start(&lb);
  SeqIter it;
  seqiter_init(&it, argv[1]);
  Value x;
  for (bool first = true; seqiter_next(&it, &x); first = false) {
    if (!first) list_add(vm, &lb, argv[0]);
    list_add(vm, &lb, x);
  }
  return lb.head;
}

static void add_all(VM *vm, ListBuilder *lb, Value s) {
  SeqIter it;
  seqiter_init(&it, s);
  Value x;
  while (seqiter_next(&it, &x)) list_add(vm, lb, x);
}

static Value n_flatten(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "flatten");
  ListBuilder lb;
  list_start(&lb);
  SeqIter it;
  seqiter_init(&it, argv[0]);
  Value x;
  while (seqiter_next(&it, &x)) {
    if (is_list(x) || is_vector(x))
      add_all(vm, &lb, x);
    else
      list_add(vm, &lb, x);
  }
  return lb.head;
}

static void flatten_into(VM *vm, ListBuilder *lb, Value x) {
  if (!is_list(x) && !is_vector(x)) {
    list_add(vm, lb, x);
    return;
  }
  err_check_c_stack(vm);
  SeqIter it;
  seqiter_init(&it, x);
  Value e;
  while (seqiter_next(&it, &e)) flatten_into(vm, lb, e);
}

static Value n_flatten_deep(VM *vm, int argc, Value *argv) {
  ListBuilder lb;
  list_start(&lb);
  flatten_into(vm, &lb, argv[0]);
  return lb.head;
}

static Value n_shuffle(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "list/shuffle");
  size_t n = seq_len(argv[0]);
  Value v = vec_new(vm, n);
  Value *a = vec_items(v);
  SeqIter it;
  seqiter_init(&it, argv[0]);
  for (size_t i = 0; seqiter_next(&it, &a[i]); i++) {}
  for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
    size_t j = (size_t)math_random_below(i);
    Value t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
  }
  return list_from(vm, a, n);
}

static Value n_cross_join(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "list/cross-join");
  arg_seq(vm, argv[1], "list/cross-join");
  ListBuilder lb;
  list_start(&lb);
  SeqIter ia;
  seqiter_init(&ia, argv[0]);
  Value x, y;
  while (seqiter_next(&ia, &x)) {
    SeqIter ib;
    seqiter_init(&ib, argv[1]);
    while (seqiter_next(&ib, &y)) list_add(vm, &lb, list_2(vm, x, y));
  }
  return lb.head;
}

/* ---- 8.3 sublists ---- */

static Value n_take(VM *vm, int argc, Value *argv) {
  int64_t n = lead_count(vm, argv, "take");
  arg_seq(vm, argv[1], "take");
  ListBuilder lb;
  list_start(&lb);
  SeqIter it;
  seqiter_init(&it, argv[1]);
  Value x;
  for (int64_t i = 0; i < n && seqiter_next(&it, &x); i++) list_add(vm, &lb, x);
  return lb.head;
}

static Value n_drop(VM *vm, int argc, Value *argv) {
  int64_t n = lead_count(vm, argv, "drop");
  Value s = argv[1];
  arg_seq(vm, s, "drop");
  size_t len = seq_len(s);
  return seq_slice(vm, s, (uint64_t)n < len ? (size_t)n : len, len, len);
}

static Value n_take_last(VM *vm, int argc, Value *argv) {
  int64_t n = lead_count(vm, argv, "list/take-last");
  Value s = argv[1];
  arg_seq(vm, s, "list/take-last");
  size_t len = seq_len(s);
  return seq_slice(vm, s, (uint64_t)n < len ? len - (size_t)n : 0, len, len);
}

static Value n_drop_last(VM *vm, int argc, Value *argv) {
  int64_t n = lead_count(vm, argv, "list/drop-last");
  Value s = argv[1];
  arg_seq(vm, s, "list/drop-last");
  size_t len = seq_len(s);
  return seq_slice(vm, s, 0, (uint64_t)n < len ? len - (size_t)n : 0, len);
}

static Value take_while(VM *vm, Value pred, Value s, const char *fname) {
  arg_seq(vm, s, fname);
  RootedList r;
  rl_init(vm, &r);
  SeqIter it;
  seqiter_init(&it, s);
  Value x;
  while (seqiter_next(&it, &x) && is_truthy(vm_call1(vm, pred, x))) rl_add(vm, &r, x);
  vm_pop_roots(vm, 1);
  return r.lb.head;
}
static Value n_take_while(VM *vm, int argc, Value *argv) { return take_while(vm, argv[0], argv[1], "take-while"); }
static Value n_list_take_while(VM *vm, int argc, Value *argv) {
  return take_while(vm, argv[0], argv[1], "list/take-while");
}

static Value drop_while(VM *vm, Value pred, Value s, const char *fname) {
  arg_seq(vm, s, fname);
  size_t i = 0, len = seq_len(s);
  SeqIter it;
  seqiter_init(&it, s);
  Value x;
  while (seqiter_next(&it, &x) && is_truthy(vm_call1(vm, pred, x))) i++;
  return seq_slice(vm, s, i, len, len);
}
static Value n_drop_while(VM *vm, int argc, Value *argv) { return drop_while(vm, argv[0], argv[1], "drop-while"); }
static Value n_list_drop_while(VM *vm, int argc, Value *argv) {
  return drop_while(vm, argv[0], argv[1], "list/drop-while");
}

static Value n_split_at(VM *vm, int argc, Value *argv) {
  Value s = argv[0];
  arg_seq(vm, s, "list/split-at");
  int64_t n = arg_count(vm, argv[1], "list/split-at");
  size_t len = seq_len(s), k = (uint64_t)n < len ? (size_t)n : len;
  Value pre = seq_slice(vm, s, 0, k, len);
  return list_2(vm, pre, seq_slice(vm, s, k, len, len));
}

/* Windows of `size` elements starting every `step` (chunk: step = size, partial last kept). */
static Value windows(VM *vm, Value s, size_t size, size_t step, bool partial) {
  Value v = seq_to_vec(vm, s);
  size_t len = vec_len(v);
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = 0; i < len; i += step) {
    size_t end = len - i < size ? len : i + size;
    if (end - i < size && !partial) break;
    list_add(vm, &lb, list_from(vm, vec_items(v) + i, end - i));
    if (len - i <= step) break; /* avoid overflow of i + step */
  }
  return lb.head;
}

static Value n_chunk(VM *vm, int argc, Value *argv) {
  int64_t n = lead_count(vm, argv, "list/chunk");
  arg_seq(vm, argv[1], "list/chunk");
  if (n == 0) err_eval(vm, "list/chunk: chunk size must be positive");
  return windows(vm, argv[1], (size_t)n, (size_t)n, true);
}

static Value n_sliding(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "list/sliding");
  int64_t size = arg_count(vm, argv[1], "list/sliding");
  int64_t step = argc > 2 ? arg_count(vm, argv[2], "list/sliding") : 1;
  if (size == 0) err_eval(vm, "list/sliding: size must be positive");
  if (step == 0) err_eval(vm, "list/sliding: step must be positive");
  return windows(vm, argv[0], (size_t)size, (size_t)step, false);
}

static Value n_page(VM *vm, int argc, Value *argv) {
  Value s = argv[0];
  arg_seq(vm, s, "list/page");
  int64_t page = arg_int(vm, argv[1]);
  int64_t per = arg_count(vm, argv[2], "list/page");
  if (page < 1) err_eval(vm, "list/page: page must be >= 1");
  size_t len = seq_len(s);
  if (per == 0 || (uint64_t)(page - 1) >= len / (uint64_t)per + 1) return EMPTY_VAL;
  size_t from = (size_t)(page - 1) * (size_t)per;
  size_t to = len - from < (uint64_t)per ? len : from + (size_t)per;
  return seq_slice(vm, s, from < len ? from : len, to, len);
}

static Value n_pad(VM *vm, int argc, Value *argv) {
  Value s = argv[0];
  arg_seq(vm, s, "list/pad");
  int64_t n = arg_count(vm, argv[1], "list/pad");
  check_build(vm, "list/pad", (uint64_t)n);
  ListBuilder lb;
  list_start(&lb);
  add_all(vm, &lb, s);
  for (int64_t i = (int64_t)seq_len(s); i < n; i++) list_add(vm, &lb, argv[2]);
  return lb.head;
}

/* ---- 8.4 higher-order functions ---- */

static Value n_map(VM *vm, int argc, Value *argv) {
  Value fn = argv[0];
  RootedList r;
  if (argc == 2) { /* the hot path: one sequence */
    arg_seq(vm, argv[1], "map");
    rl_init(vm, &r);
    SeqIter it;
    seqiter_init(&it, argv[1]);
    Value x;
    while (seqiter_next(&it, &x)) rl_add(vm, &r, vm_call1(vm, fn, x));
    vm_pop_roots(vm, 1);
    return r.lb.head;
  }
  Lockstep ls;
  int k = argc - 1;
  Value state = lockstep_init(vm, &ls, argv + 1, k, "map");
  vm_push_root(vm, state);
  rl_init(vm, &r);
  Value *row = vec_items(state) + k;
  while (lockstep_next(&ls, row)) rl_add(vm, &r, vm_call(vm, fn, k, row));
  vm_pop_roots(vm, 2);
  return r.lb.head;
}

static Value n_for_each(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[1], "for-each");
  SeqIter it;
  seqiter_init(&it, argv[1]);
  Value x;
  while (seqiter_next(&it, &x)) vm_call1(vm, argv[0], x);
  return NIL_VAL;
}

static Value filter(VM *vm, Value pred, Value s, bool keep, const char *fname) {
  arg_seq(vm, s, fname);
  RootedList r;
  rl_init(vm, &r);
  SeqIter it;
  seqiter_init(&it, s);
  Value x;
  while (seqiter_next(&it, &x))
    if (is_truthy(vm_call1(vm, pred, x)) == keep) rl_add(vm, &r, x);
  vm_pop_roots(vm, 1);
  return r.lb.head;
}
static Value n_filter(VM *vm, int argc, Value *argv) { return filter(vm, argv[0], argv[1], true, "filter"); }
static Value n_reject(VM *vm, int argc, Value *argv) { return filter(vm, argv[0], argv[1], false, "list/reject"); }

/* The accumulator is only ever passed on, so the calls may update it in
 * place (vm_call_owned); between calls no safe point runs, and during a call
 * it lives in the callee's arguments. */
static Value n_foldl(VM *vm, int argc, Value *argv) {
  Value fn = argv[0], acc = argv[1];
  arg_seq(vm, argv[2], "foldl");
  uint32_t token = vm_new_token(vm);
  SeqIter it;
  seqiter_init(&it, argv[2]);
  Value args[2];
  while (seqiter_next(&it, &args[1])) {
    args[0] = acc;
    acc = vm_call_owned(vm, fn, 2, args, token);
  }
  return acc;
}

static Value n_foldr(VM *vm, int argc, Value *argv) {
  Value fn = argv[0], acc = argv[1];
  arg_seq(vm, argv[2], "foldr");
  Value v = seq_to_vec(vm, argv[2]);
  vm_push_root(vm, v);
  for (size_t i = vec_len(v); i-- > 0;) acc = vm_call2(vm, fn, vec_items(v)[i], acc);
  vm_pop_roots(vm, 1);
  return acc;
}

static Value n_reduce(VM *vm, int argc, Value *argv) {
  Value fn = argv[0];
  arg_seq(vm, argv[1], "reduce");
  SeqIter it;
  seqiter_init(&it, argv[1]);
  Value args[2];
  if (!seqiter_next(&it, &args[0])) err_eval(vm, "reduce: empty list");
  Value acc = args[0];
  uint32_t token = vm_new_token(vm);
  while (seqiter_next(&it, &args[1])) {
    args[0] = acc;
    acc = vm_call_owned(vm, fn, 2, args, token);
  }
  return acc;
}

static Value n_flat_map(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[1], "flat-map");
  RootedList r;
  rl_init(vm, &r);
  SeqIter it;
  seqiter_init(&it, argv[1]);
  Value x;
  while (seqiter_next(&it, &x)) {
    Value y = vm_call1(vm, argv[0], x);
    if (is_list(y) || is_vector(y)) {
      add_all(vm, &r.lb, y);
      ROOT(vm, r.slot) = r.lb.head;
    } else {
      rl_add(vm, &r, y);
    }
  }
  vm_pop_roots(vm, 1);
  return r.lb.head;
}

static Value n_partition(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[1], "partition");
  RootedList yes, no;
  rl_init(vm, &yes);
  rl_init(vm, &no);
  SeqIter it;
  seqiter_init(&it, argv[1]);
  Value x;
  while (seqiter_next(&it, &x)) rl_add(vm, is_truthy(vm_call1(vm, argv[0], x)) ? &yes : &no, x);
  vm_pop_roots(vm, 2);
  return list_2(vm, yes.lb.head, no.lb.head);
}

/* First element for which (pred x) is `want`, or false if none. */
static bool find_first(VM *vm, Value pred, Value s, bool want, Value *found) {
  SeqIter it;
  seqiter_init(&it, s);
  Value x;
  while (seqiter_next(&it, &x))
    if (is_truthy(vm_call1(vm, pred, x)) == want) {
      if (found) *found = x;
      return true;
    }
  return false;
}

static Value n_any(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[1], "any");
  return bool_val(find_first(vm, argv[0], argv[1], true, NULL));
}

static Value n_every(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[1], "every");
  return bool_val(!find_first(vm, argv[0], argv[1], false, NULL));
}

static Value n_tap(VM *vm, int argc, Value *argv) {
  vm_call1(vm, argv[1], argv[0]);
  return argv[0];
}

/* ---- 8.5 searching ---- */

/* Index of the first element equal? to x, or -1. */
static int64_t index_of(Value s, Value x) {
  SeqIter it;
  seqiter_init(&it, s);
  Value e;
  for (int64_t i = 0; seqiter_next(&it, &e); i++)
    if (val_equal(e, x)) return i;
  return -1;
}

static Value n_member(VM *vm, int argc, Value *argv) {
  Value x = argv[0], s = argv[1];
  arg_seq(vm, s, "member");
  if (is_list(s)) {
    for (; is_cons(s); s = cdr(s))
      if (val_equal(car(s), x)) return s;
    return FALSE_VAL;
  }
  int64_t i = index_of(s, x);
  return i < 0 ? FALSE_VAL : seq_slice(vm, s, (size_t)i, vec_len(s), vec_len(s));
}

static Value n_contains(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "list/contains?");
  return bool_val(index_of(argv[0], argv[1]) >= 0);
}

static Value n_index_of(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "list/index-of");
  int64_t i = index_of(argv[0], argv[1]);
  return i < 0 ? NIL_VAL : num_int(vm, i);
}

static Value n_nth_or(VM *vm, int argc, Value *argv) {
  Value s = argv[0];
  arg_seq(vm, s, "list/nth-or");
  int64_t i = arg_count(vm, argv[1], "list/nth-or");
  if (is_vector(s)) return (uint64_t)i < vec_len(s) ? vec_items(s)[i] : argv[2];
  for (; is_cons(s); s = cdr(s), i--)
    if (i == 0) return car(s);
  return argv[2];
}

static Value n_find(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[1], "list/find");
  Value found = NIL_VAL;
  find_first(vm, argv[0], argv[1], true, &found);
  return found;
}

static Value n_sole(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[1], "list/sole");
  Value found = UNDEF_VAL;
  SeqIter it;
  seqiter_init(&it, argv[1]);
  Value x;
  while (seqiter_next(&it, &x)) {
    if (!is_truthy(vm_call1(vm, argv[0], x))) continue;
    if (found != UNDEF_VAL) err_eval(vm, "list/sole: more than one matching item");
    found = x;
  }
  if (found == UNDEF_VAL) err_eval(vm, "list/sole: no matching item");
  return found;
}

/* assq/assv: the first non-empty list element whose head is equal? to key. */
static Value assoc_in(VM *vm, Value key, Value alist, const char *fname) {
  arg_seq(vm, alist, fname);
  SeqIter it;
  seqiter_init(&it, alist);
  Value e;
  while (seqiter_next(&it, &e))
    if (is_cons(e) && val_equal(car(e), key)) return e;
  return FALSE_VAL;
}
static Value n_assq(VM *vm, int argc, Value *argv) { return assoc_in(vm, argv[0], argv[1], "assq"); }
static Value n_assv(VM *vm, int argc, Value *argv) { return assoc_in(vm, argv[0], argv[1], "assv"); }

/* ---- 8.6 deduplication, grouping, sets (total order unless noted) ---- */

/* Calls fn on each element in order, keeping elements and keys: returns a
 * rooted-then-unrooted vector [elements..., keys...] of 2n. */
static Value elems_and_keys(VM *vm, Value fn, Value s, size_t *np) {
  size_t n = seq_len(s);
  Value v = vec_new(vm, 2 * n);
  vm_push_root(vm, v);
  SeqIter it;
  seqiter_init(&it, s);
  Value x;
  for (size_t i = 0; seqiter_next(&it, &x); i++) {
    vec_items(v)[i] = x;
    gc_barrier(vm, as_obj(v));
    Value key = vm_call1(vm, fn, x);
    vec_items(v)[n + i] = key;
    gc_barrier(vm, as_obj(v)); /* after a callback v may be old */
  }
  vm_pop_roots(vm, 1);
  *np = n;
  return v;
}

/* End of the run of equal keys that starts at sorted position i. */
static size_t run_end(const Value *el, const Value *idx, size_t n, size_t i) {
  size_t j = i + 1;
  while (j < n && val_compare(el[small_int_of(idx[i])], el[small_int_of(idx[j])]) == 0) j++;
  return j;
}

static Value n_group_by(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[1], "list/group-by");
  size_t n;
  Value v = elems_and_keys(vm, argv[0], argv[1], &n);
  Value *el = vec_items(v), *keys = el + n;
  Value *idx = vec_items(sorted_indices(vm, keys, n));
  Value m = map_empty(vm);
  for (size_t i = 0, j; i < n; i = j) {
    j = run_end(keys, idx, n, i);
    Value group = EMPTY_VAL; /* the stable sort kept each run in input order */
    for (size_t k = j; k-- > i;) group = list_cons(vm, el[small_int_of(idx[k])], group);
    m = map_assoc(vm, m, keys[small_int_of(idx[i])], group);
  }
  return m;
}

static Value n_key_by(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[1], "list/key-by");
  size_t n;
  Value v = elems_and_keys(vm, argv[0], argv[1], &n);
  Value *el = vec_items(v), *keys = el + n;
  Value m = map_empty(vm);
  for (size_t i = 0; i < n; i++) m = map_assoc(vm, m, keys[i], el[i]);
  return m;
}

/* Sorted indices of a sequence's elements (keys = the elements). */
static Value *sorted_elems(VM *vm, Value s, Value **elp, size_t *np) {
  Value v = seq_to_vec(vm, s);
  *np = vec_len(v);
  *elp = vec_items(v);
  return vec_items(sorted_indices(vm, *elp, *np));
}

static Value n_frequencies(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "frequencies");
  size_t n;
  Value *el, *idx = sorted_elems(vm, argv[0], &el, &n);
  Value m = map_empty(vm);
  for (size_t i = 0, j; i < n; i = j) {
    j = run_end(el, idx, n, i);
    m = map_assoc(vm, m, el[small_int_of(idx[i])], num_int(vm, (int64_t)(j - i)));
  }
  return m;
}

static Value n_unique(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "list/unique");
  size_t n;
  Value *el, *idx = sorted_elems(vm, argv[0], &el, &n);
  Value keep = vec_new(vm, n); /* nil, or #t for the first of each run */
  for (size_t i = 0, j; i < n; i = j) {
    j = run_end(el, idx, n, i);
    vec_items(keep)[small_int_of(idx[i])] = TRUE_VAL;
  }
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = 0; i < n; i++)
    if (vec_items(keep)[i] == TRUE_VAL) list_add(vm, &lb, el[i]);
  return lb.head;
}

static Value n_dedupe(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "list/dedupe");
  ListBuilder lb;
  list_start(&lb);
  SeqIter it;
  seqiter_init(&it, argv[0]);
  Value x, prev = UNDEF_VAL;
  while (seqiter_next(&it, &x)) {
    if (prev == UNDEF_VAL || !val_equal(prev, x)) list_add(vm, &lb, x);
    prev = x;
  }
  return lb.head;
}

static Value n_duplicates(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "list/duplicates");
  size_t n;
  Value *el, *idx = sorted_elems(vm, argv[0], &el, &n);
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = 0, j; i < n; i = j) {
    j = run_end(el, idx, n, i);
    if (j - i > 1) list_add(vm, &lb, el[small_int_of(idx[i])]);
  }
  return lb.head;
}

/* Elements of a whose presence in b (total order) is `want`. */
static Value set_filter(VM *vm, Value a, Value b, bool want, const char *fname) {
  arg_seq(vm, a, fname);
  arg_seq(vm, b, fname);
  size_t n = seq_len(b);
  Value sorted = vec_new(vm, 2 * n);
  Value *s = vec_items(sorted);
  SeqIter it;
  seqiter_init(&it, b);
  for (size_t i = 0; seqiter_next(&it, &s[i]); i++) {}
  msort(s, s + n, n, less_total, NULL);
  ListBuilder lb;
  list_start(&lb);
  seqiter_init(&it, a);
  Value x;
  while (seqiter_next(&it, &x)) {
    size_t lo = 0, hi = n;
    bool found = false;
    while (lo < hi && !found) {
      size_t mid = lo + (hi - lo) / 2;
      int c = val_compare(s[mid], x);
      if (c == 0) found = true;
      else if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    if (found == want) list_add(vm, &lb, x);
  }
  return lb.head;
}
static Value n_diff(VM *vm, int argc, Value *argv) { return set_filter(vm, argv[0], argv[1], false, "list/diff"); }
static Value n_intersect(VM *vm, int argc, Value *argv) {
  return set_filter(vm, argv[0], argv[1], true, "list/intersect");
}

static Value n_pluck(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[1], "list/pluck");
  ListBuilder lb;
  list_start(&lb);
  SeqIter it;
  seqiter_init(&it, argv[1]);
  Value x;
  while (seqiter_next(&it, &x)) {
    Value r = NIL_VAL;
    if (is_anymap(x)) anymap_get(x, argv[0], &r);
    list_add(vm, &lb, r);
  }
  return lb.head;
}

/* ---- 8.7 aggregation ---- */

/* Checks every element is a number; returns the count, sets *all_int. */
static size_t check_nums(VM *vm, Value s, const char *fname, bool *all_int) {
  arg_seq(vm, s, fname);
  SeqIter it;
  seqiter_init(&it, s);
  Value x;
  size_t n = 0;
  *all_int = true;
  while (seqiter_next(&it, &x)) {
    if (!is_number(x)) err_type(vm, "number", x);
    if (!is_int(x)) *all_int = false;
    n++;
  }
  return n;
}

static double sum_double(Value s) {
  SeqIter it;
  seqiter_init(&it, s);
  Value x;
  double d = 0;
  while (seqiter_next(&it, &x)) d += num_to_double(x);
  return d;
}

static Value n_sum(VM *vm, int argc, Value *argv) {
  bool all_int;
  check_nums(vm, argv[0], "list/sum", &all_int);
  if (!all_int) return double_val(sum_double(argv[0]));
  uint64_t t = 0; /* wrapping */
  SeqIter it;
  seqiter_init(&it, argv[0]);
  Value x;
  while (seqiter_next(&it, &x)) t += (uint64_t)int_of(x);
  return num_int(vm, (int64_t)t);
}

/* Numeric a < b (false with NaN), ints compared exactly. */
static bool num_lt(Value a, Value b) {
  if (is_int(a) && is_int(b)) return int_of(a) < int_of(b);
  return num_to_double(a) < num_to_double(b);
}

static Value extreme(VM *vm, Value s, bool want_max, const char *fname) {
  bool all_int;
  if (check_nums(vm, s, fname, &all_int) == 0) err_eval(vm, "%s: empty list", fname);
  SeqIter it;
  seqiter_init(&it, s);
  Value best = NIL_VAL, x;
  seqiter_next(&it, &best);
  while (seqiter_next(&it, &x))
    if (want_max ? num_lt(best, x) : num_lt(x, best)) best = x;
  return best;
}
static Value n_list_min(VM *vm, int argc, Value *argv) { return extreme(vm, argv[0], false, "list/min"); }
static Value n_list_max(VM *vm, int argc, Value *argv) { return extreme(vm, argv[0], true, "list/max"); }

static Value n_avg(VM *vm, int argc, Value *argv) {
  bool all_int;
  size_t n = check_nums(vm, argv[0], "list/avg", &all_int);
  if (n == 0) err_eval(vm, "list/avg: empty list");
  return double_val(sum_double(argv[0]) / (double)n);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static Value n_median(VM *vm, int argc, Value *argv) {
  bool all_int;
  size_t n = check_nums(vm, argv[0], "list/median", &all_int);
  if (n == 0) err_eval(vm, "list/median: empty list");
  double *d = malloc(n * sizeof *d); /* nothing below can raise */
  if (!d) err_eval(vm, "out of memory");
  SeqIter it;
  seqiter_init(&it, argv[0]);
  Value x;
  for (size_t i = 0; seqiter_next(&it, &x); i++) d[i] = num_to_double(x);
  qsort(d, n, sizeof *d, cmp_double);
  double m = n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2.0;
  free(d);
  return val_canon_double(m);
}

static Value n_mode(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "list/mode");
  size_t n;
  Value *el, *idx = sorted_elems(vm, argv[0], &el, &n);
  if (n == 0) err_eval(vm, "list/mode: empty list");
  size_t best = 0, ties = 0;
  for (size_t i = 0, j; i < n; i = j) {
    j = run_end(el, idx, n, i);
    if (j - i > best) best = j - i, ties = 0;
    if (j - i == best) ties++;
  }
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = 0, j; i < n; i = j) {
    j = run_end(el, idx, n, i);
    if (j - i != best) continue;
    if (ties == 1) return el[small_int_of(idx[i])];
    list_add(vm, &lb, el[small_int_of(idx[i])]);
  }
  return lb.head;
}

static Value n_pick(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "list/pick");
  size_t n = seq_len(argv[0]);
  if (n == 0) err_eval(vm, "list/pick: empty list");
  Value s = argv[0];
  size_t i = (size_t)math_random_below(n);
  if (is_vector(s)) return vec_items(s)[i];
  while (i-- > 0) s = cdr(s);
  return car(s);
}

static Value n_join(VM *vm, int argc, Value *argv) {
  Value s = argv[0];
  arg_seq(vm, s, "list/join");
  Value sep = arg_string(vm, argv[1]);
  Value last_sep = argc > 2 ? arg_string(vm, argv[2]) : sep;
  size_t n = seq_len(s);
  StrBuf b;
  sb_init_vm(&b, vm);
  SeqIter it;
  seqiter_init(&it, s);
  Value x;
  for (size_t i = 0; seqiter_next(&it, &x); i++) {
    if (i > 0) {
      Value sp = i + 1 == n ? last_sep : sep;
      sb_add(&b, str_data(sp), str_len(sp));
    }
    print_value(vm, &b, x, true);
  }
  return sb_to_string(vm, &b);
}

/* ---- 9. vectors ---- */

static Value n_list_to_vector(VM *vm, int argc, Value *argv) {
  if (!is_list(argv[0])) err_type(vm, "list", argv[0]);
  Value v = vec_new(vm, seq_len(argv[0]));
  Value *it = vec_items(v);
  for (Value l = argv[0]; is_cons(l); l = cdr(l)) *it++ = car(l);
  return v;
}

static Value n_vector_to_list(VM *vm, int argc, Value *argv) {
  if (!is_vector(argv[0])) err_type(vm, "vector", argv[0]);
  return list_from(vm, vec_items(argv[0]), vec_len(argv[0]));
}

static const NativeDef list_defs[] = {
    {"caar", n_caar, 1, 1,
     "(caar seq)\nReturns (car (car seq)), with car's rules at each step (nil for an empty list or vector)."},
    {"cdar", n_cdar, 1, 1,
     "(cdar seq)\nReturns (cdr (car seq)), with the car and cdr rules at each step."},
    {"cddr", n_cddr, 1, 1,
     "(cddr seq)\nReturns (cdr (cdr seq)): all but the first two elements."},
    {"caddr", n_caddr, 1, 1,
     "(caddr seq)\nReturns the third element, (car (cdr (cdr seq))), nil when there is none."},
    {"cdddr", n_cdddr, 1, 1,
     "(cdddr seq)\nReturns all but the first three elements, (cdr (cdr (cdr seq)))."},
    {"caaar", n_caaar, 1, 1,
     "(caaar seq)\nReturns (car (car (car seq)))."},
    {"caadr", n_caadr, 1, 1,
     "(caadr seq)\nReturns (car (car (cdr seq)))."},
    {"cadar", n_cadar, 1, 1,
     "(cadar seq)\nReturns (car (cdr (car seq)))."},
    {"cdaar", n_cdaar, 1, 1,
     "(cdaar seq)\nReturns (cdr (car (car seq)))."},
    {"cdadr", n_cdadr, 1, 1,
     "(cdadr seq)\nReturns (cdr (car (cdr seq)))."},
    {"cddar", n_cddar, 1, 1,
     "(cddar seq)\nReturns (cdr (cdr (car seq)))."},
    {"last", n_last, 1, 1,
     "(last seq)\nReturns the last element of a list or vector, or nil when it is empty."},
    {"range", n_range, 1, 3,
     "(range end) or (range start end [step])\nReturns the list of integers from start (default 0) by step (default "
     "1) up to but not including end, counting down when step is negative: (range 0 10 3) is (0 3 6 9). A step of 0 "
     "is an error."},
    {"iota", n_iota, 1, 3,
     "(iota count [start [step]])\nReturns a list of count integers starting at start (default 0) spaced by step "
     "(default 1): (iota 4 0 2) is (0 2 4 6)."},
    {"list/repeat", n_list_repeat, 2, 2,
     "(list/repeat n x)\nReturns a list of n copies of x: (make-list 3 0) is (0 0 0)."},
    {"list/times", n_list_times, 2, 2,
     "(list/times n fn)\nReturns the list of (fn 0) ... (fn n-1), called in order."},
    {"reverse", n_reverse, 1, 1,
     "(reverse seq)\nReturns the elements in reverse order: a list for a list, a vector for a vector (strings: use "
     "string/reverse)."},
    {"sort", n_sort, 1, 2,
     "(sort seq [cmp])\nReturns a stably sorted list. Without cmp, the elements must all be numbers (compared "
     "numerically) or all of one type (the total order); (cmp a b) returning #t or a negative integer puts a first, "
     "#f or a positive integer b first."},
    {"sort-by", n_sort_by, 2, 2,
     "(sort-by keyfn seq)\nReturns a list stably sorted by (keyfn x), computed once per element; keys are compared "
     "with the total order of values (all integers before all floats, then by type)."},
    {"zip", n_zip, 2, VARIADIC,
     "(zip seq1 seq2 seq...)\nReturns a list of lists taking one element from each sequence in turn, stopping at the "
     "shortest: (zip '(1 2 3) '(a b)) is ((1 a) (2 b))."},
    {"list/interleave", n_interleave, 2, VARIADIC,
     "(list/interleave seq1 seq2 seq...)\nReturns the elements of the sequences taken round-robin, stopping at the "
     "shortest: (list/interleave '(1 3 5) '(2 4)) is (1 2 3 4)."},
    {"interpose", n_interpose, 2, 2,
     "(interpose sep seq)\nReturns a list of the elements of seq with sep between consecutive ones."},
    {"flatten", n_flatten, 1, 1,
     "(flatten seq)\nReturns a list where each element that is a list or vector is spliced in, one level only: "
     "(flatten '(1 (2 (3)) [4])) is (1 2 (3) 4)."},
    {"flatten-deep", n_flatten_deep, 1, 1,
     "(flatten-deep x)\nReturns a list of all the non-sequence values in x, splicing nested lists and vectors at any "
     "depth; a non-sequence gives a one-element list."},
    {"list/shuffle", n_shuffle, 1, 1,
     "(list/shuffle seq)\nReturns a uniformly random permutation of the elements, as a list."},
    {"list/cross-join", n_cross_join, 2, 2,
     "(list/cross-join a b)\nReturns every pair (x y) of x from a and y from b, a major: (list/cross-join '(1 2) '(3 "
     "4)) is ((1 3) (1 4) (2 3) (2 4))."},
    {"take", n_take, 2, 2,
     "(take n seq)\nReturns a list of the first n elements of seq (all of them when there are fewer); n must be a "
     "non-negative integer."},
    {"drop", n_drop, 2, 2,
     "(drop n seq)\nReturns a list of the elements after the first n (empty when there are fewer)."},
    {"list/take-last", n_take_last, 2, 2,
     "(list/take-last n seq)\nReturns a list of the last n elements (all of them when there are fewer)."},
    {"list/drop-last", n_drop_last, 2, 2,
     "(list/drop-last n seq)\nReturns a list of all but the last n elements (empty when there are fewer)."},
    {"take-while", n_take_while, 2, 2,
     "(take-while pred seq)\nReturns the leading elements for which pred is true, stopping at the first false one."},
    {"list/take-while", n_list_take_while, 2, 2,
     "(list/take-while pred seq)\nThe same as take-while: the leading elements for which pred is true."},
    {"drop-while", n_drop_while, 2, 2,
     "(drop-while pred seq)\nReturns the elements from the first one for which pred is false on."},
    {"list/drop-while", n_list_drop_while, 2, 2,
     "(list/drop-while pred seq)\nThe same as drop-while: the elements from the first one for which pred is false on."},
    {"list/split-at", n_split_at, 2, 2,
     "(list/split-at seq n)\nReturns the list (prefix suffix) of seq split at index n (clamped to the length)."},
    {"list/chunk", n_chunk, 2, 2,
     "(list/chunk n seq)\nReturns the consecutive chunks of n elements (the last may be shorter): (list/chunk 2 '(1 2"
     " 3 4 5)) is ((1 2) (3 4) (5)). n must be positive."},
    {"list/sliding", n_sliding, 2, 3,
     "(list/sliding seq size [step])\nReturns the full windows of size elements, advancing by step (default 1); "
     "windows that would run past the end are left out."},
    {"list/page", n_page, 3, 3,
     "(list/page seq page per-page)\nReturns page number page (counting from 1) of seq cut into pages of per-page "
     "elements, () past the end."},
    {"list/pad", n_pad, 3, 3,
     "(list/pad seq len fill)\nReturns the elements of seq followed by copies of fill up to length len; a longer seq "
     "is returned whole."},
    {"map", n_map, 2, VARIADIC,
     "(map fn seq...)\nReturns the list of (fn x) for each element of seq, in order; with several sequences, (fn x1 "
     "x2 ...) in lockstep, stopping at the shortest. Any callable works, keywords included: (map :a rows)."},
    {"for-each", n_for_each, 2, 2,
     "(for-each fn seq)\nCalls (fn x) on each element of the single sequence seq, in order, for effect; returns nil."},
    {"filter", n_filter, 2, 2,
     "(filter pred seq)\nReturns a list of the elements for which pred returns a true value."},
    {"list/reject", n_reject, 2, 2,
     "(list/reject pred seq)\nReturns a list of the elements for which pred returns a false value."},
    {"foldl", n_foldl, 3, 3,
     "(foldl fn init seq)\nLeft fold: calls (fn acc x) for each element with the accumulator first, starting with "
     "init, and returns the last result: (foldl - 0 '(1 2 3)) is -6."},
    {"foldr", n_foldr, 3, 3,
     "(foldr fn init seq)\nRight fold: calls (fn x acc) from the last element to the first, starting with init: "
     "(foldr cons '() '(1 2 3)) is (1 2 3)."},
    {"reduce", n_reduce, 2, 2,
     "(reduce fn seq)\nFolds left with (fn acc x) starting from the first element; one element is returned as is, an "
     "empty sequence is an error."},
    {"flat-map", n_flat_map, 2, 2,
     "(flat-map fn seq)\nMaps fn over seq and splices the results that are lists or vectors (other results are kept "
     "as single elements)."},
    {"partition", n_partition, 2, 2,
     "(partition pred seq)\nReturns a list of two lists: the elements for which pred is true and those for which it "
     "is false, each in order."},
    {"any", n_any, 2, 2,
     "(any pred seq)\nReturns #t when pred is true for some element (stopping at the first), else #f."},
    {"every", n_every, 2, 2,
     "(every pred seq)\nReturns #t when pred is true for every element (stopping at the first failure); #t for an "
     "empty sequence."},
    {"tap", n_tap, 2, 2,
     "(tap x fn)\nCalls (fn x) for effect and returns x."},
    {"member", n_member, 2, 2,
     "(member x seq)\nReturns the tail of seq, as a list, from the first element equal? to x, or #f when there is "
     "none."},
    {"list/contains?", n_contains, 2, 2,
     "(list/contains? seq x)\nReturns #t when an element of seq is equal? to x."},
    {"list/index-of", n_index_of, 2, 2,
     "(list/index-of seq x)\nReturns the index of the first element equal? to x, or nil."},
    {"list/nth-or", n_nth_or, 3, 3,
     "(list/nth-or seq i default)\nLike nth, but returns default when i is past the end."},
    {"list/find", n_find, 2, 2,
     "(list/find pred seq)\nReturns the first element for which pred is true, or nil."},
    {"list/sole", n_sole, 2, 2,
     "(list/sole pred seq)\nReturns the only element for which pred is true; none, or more than one, is an error."},
    {"assq", n_assq, 2, 2,
     "(assq key alist)\nReturns the first element of alist (a list or vector of lists) whose head is equal? to key, "
     "or #f."},
    {"assv", n_assv, 2, 2,
     "(assv key alist)\nReturns the first element of alist (a list or vector of lists) whose head is equal? to key, "
     "or #f."},
    {"list/unique", n_unique, 1, 1,
     "(list/unique seq)\nReturns the first occurrence of each distinct element, in order (1 and 1.0 are distinct)."},
    {"list/dedupe", n_dedupe, 1, 1,
     "(list/dedupe seq)\nReturns seq without consecutive equal? duplicates: (list/dedupe '(1 1 2 1 1)) is (1 2 1)."},
    {"list/duplicates", n_duplicates, 1, 1,
     "(list/duplicates seq)\nReturns each value that occurs more than once, once, in sorted order."},
    {"list/diff", n_diff, 2, 2,
     "(list/diff a b)\nReturns the elements of a (in order, duplicates kept) that are not in b."},
    {"list/intersect", n_intersect, 2, 2,
     "(list/intersect a b)\nReturns the elements of a (in order, duplicates kept) that are also in b."},
    {"frequencies", n_frequencies, 1, 1,
     "(frequencies seq)\nReturns a sorted map from each distinct element to the number of times it occurs."},
    {"list/group-by", n_group_by, 2, 2,
     "(list/group-by fn seq)\nReturns a sorted map from each key (fn x) to the list of the elements with that key, in"
     " order."},
    {"list/key-by", n_key_by, 2, 2,
     "(list/key-by fn seq)\nReturns a sorted map from (fn x) to x; a later element replaces an earlier one with the "
     "same key."},
    {"list/pluck", n_pluck, 2, 2,
     "(list/pluck key seq)\nReturns, for each element, its value under key when it is a map (nil when missing), nil "
     "for other elements."},
    {"list/sum", n_sum, 1, 1,
     "(list/sum seq)\nReturns the sum of the numbers: an integer when all are integers, else a float; 0 for an empty "
     "sequence."},
    {"list/min", n_list_min, 1, 1,
     "(list/min seq)\nReturns the smallest element by numeric comparison (the first among equals); an empty sequence "
     "is an error."},
    {"list/max", n_list_max, 1, 1,
     "(list/max seq)\nReturns the largest element by numeric comparison (the first among equals); an empty sequence "
     "is an error."},
    {"list/avg", n_avg, 1, 1,
     "(list/avg seq)\nReturns the mean of the numbers as a float; an empty sequence is an error."},
    {"list/median", n_median, 1, 1,
     "(list/median seq)\nReturns the median of the numbers as a float (the mean of the two middle ones for an even "
     "count); an empty sequence is an error."},
    {"list/mode", n_mode, 1, 1,
     "(list/mode seq)\nReturns the most frequent value, or a sorted list of the values that tie; an empty sequence is"
     " an error."},
    {"list/pick", n_pick, 1, 1,
     "(list/pick seq)\nReturns a random element; an empty sequence is an error."},
    {"list/join", n_join, 2, 3,
     "(list/join seq sep [last-sep])\nReturns a string of the printed forms of the elements (strings keep their "
     "quotes) separated by sep, with last-sep before the final one: (list/join '(1 2 3) \", \" \" and \") is \"1, 2 "
     "and 3\". To join strings use string/join."},
    {"list->vector", n_list_to_vector, 1, 1,
     "(list->vector lst)\nReturns a vector of the elements of the list lst."},
    {"vector->list", n_vector_to_list, 1, 1,
     "(vector->list v)\nReturns a list of the elements of the vector v."},
    {NULL, NULL, 0, 0},
};

void lib_listlib_init(VM *vm) {
  env_register(vm, list_defs);
  env_alias(vm, "make-list", "list/repeat");
  env_alias(vm, "mapcar", "map");
  env_alias(vm, "fold", "foldl");
  env_alias(vm, "any?", "any");
  env_alias(vm, "some?", "any");
  env_alias(vm, "every?", "every");
}
