/* llm_vector.c - embeddings as bytevectors of little-endian binary64,
 * similarity and vector math, and the named in-memory vector stores with
 * their JSON file format (llm.md §16, §17). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "llm.h"

/* ---------------------------------------------------------------- embeddings */

static double get_f64(const uint8_t *p) {
  uint64_t u = 0;
  for (int i = 7; i >= 0; i--) u = u << 8 | p[i];
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

static void put_f64(uint8_t *p, double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  for (int i = 0; i < 8; i++, u >>= 8) p[i] = (uint8_t)u;
}

static Bytevec *bv_arg(VM *vm, Value v) {
  if (!is_objtype(v, OBJ_BYTEVEC)) err_type(vm, "bytevector", v);
  return (Bytevec *)as_obj(v);
}

static size_t dims_checked(VM *vm, Bytevec *bv, const char *who) {
  if (bv->len % 8) err_eval(vm, "%s: bytevector length %u is not divisible by 8", who, bv->len);
  return bv->len / 8;
}

static Value n_emb_length(VM *vm, int argc, Value *argv) {
  return num_int(vm, (int64_t)dims_checked(vm, bv_arg(vm, argv[0]), "embedding/length"));
}

static Value n_emb_ref(VM *vm, int argc, Value *argv) {
  Bytevec *bv = bv_arg(vm, argv[0]);
  if (!is_int(argv[1])) err_type(vm, "integer", argv[1]);
  size_t n = dims_checked(vm, bv, "embedding/ref");
  int64_t i = int_of(argv[1]);
  if (i < 0 || (uint64_t)i >= n) err_eval(vm, "embedding/ref: index %lld out of bounds (length %zu)", (long long)i, n);
  return val_canon_double(get_f64(bv->data + 8 * i));
}

Value llm_emb_to_list(VM *vm, Value emb) {
  Bytevec *bv = (Bytevec *)as_obj(emb);
  ListBuilder lb;
  list_start(&lb);
  for (uint32_t i = 0; i + 8 <= bv->len; i += 8) list_add(vm, &lb, val_canon_double(get_f64(bv->data + i)));
  return lb.head;
}

static Value n_emb_to_list(VM *vm, int argc, Value *argv) {
  dims_checked(vm, bv_arg(vm, argv[0]), "embedding/->list");
  return llm_emb_to_list(vm, argv[0]);
}

/* An embedding from doubles. */
Value llm_emb_new(VM *vm, const double *xs, size_t n) {
  Value v = obj_bytevec(vm, NULL, n * 8);
  Bytevec *bv = (Bytevec *)as_obj(v);
  for (size_t i = 0; i < n; i++) put_f64(bv->data + 8 * i, xs[i]);
  return v;
}

static Value n_list_to_emb(VM *vm, int argc, Value *argv) {
  Value seq = argv[0];
  if (!is_list(seq) && !is_vector(seq)) err_type(vm, "list or vector", seq);
  size_t n = is_vector(seq) ? vec_len(seq) : (size_t)(list_length(seq) < 0 ? 0 : list_length(seq));
  Value out = obj_bytevec(vm, NULL, n * 8);
  Bytevec *bv = (Bytevec *)as_obj(out);
  SeqIter it;
  seqiter_init(&it, seq);
  Value x;
  size_t i = 0;
  while (seqiter_next(&it, &x) && i < n) {
    if (!is_number(x)) err_eval(vm, "embedding/list->embedding: element %zu is %s, expected number", i, val_type_name(x));
    put_f64(bv->data + 8 * i++, num_to_double(x));
  }
  return out;
}

static double cosine(const double *a, const double *b, size_t n) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < n; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na == 0 || nb == 0) return 0.0;
  return dot / (sqrt(na) * sqrt(nb));
}

static double *bv_doubles(Bytevec *bv) {
  size_t n = bv->len / 8;
  double *d = malloc((n ? n : 1) * sizeof *d);
  if (!d) abort();
  for (size_t i = 0; i < n; i++) d[i] = get_f64(bv->data + 8 * i);
  return d;
}

static double cosine_bv(Bytevec *a, Bytevec *b) {
  double *x = bv_doubles(a), *y = bv_doubles(b);
  double r = cosine(x, y, a->len / 8);
  free(x);
  free(y);
  return r;
}

static Value n_similarity(VM *vm, int argc, Value *argv) {
  Value a = argv[0], b = argv[1];
  bool ba = is_objtype(a, OBJ_BYTEVEC), bb = is_objtype(b, OBJ_BYTEVEC);
  bool sa = is_list(a) || is_vector(a), sb = is_list(b) || is_vector(b);
  if (ba && bb) {
    Bytevec *x = (Bytevec *)as_obj(a), *y = (Bytevec *)as_obj(b);
    if (x->len != y->len) err_eval(vm, "llm/similarity: bytevectors must have same length (%u vs %u)", x->len, y->len);
    if (x->len == 0) err_eval(vm, "llm/similarity: empty vectors");
    if (x->len % 8) err_eval(vm, "llm/similarity: bytevector length must be a multiple of 8 (got %u)", x->len);
    return double_val(cosine_bv(x, y));
  }
  if (sa && sb) {
    size_t na = 0, nb = 0;
    SeqIter it;
    Value e;
    seqiter_init(&it, a);
    while (seqiter_next(&it, &e)) {
      if (!is_number(e)) err_type(vm, "number", e);
      na++;
    }
    seqiter_init(&it, b);
    while (seqiter_next(&it, &e)) {
      if (!is_number(e)) err_type(vm, "number", e);
      nb++;
    }
    if (na != nb) err_eval(vm, "llm/similarity: vectors must have same length (%zu vs %zu)", na, nb);
    if (na == 0) err_eval(vm, "llm/similarity: empty vectors");
    double *x = malloc(na * sizeof *x), *y = malloc(nb * sizeof *y);
    size_t i = 0;
    seqiter_init(&it, a);
    while (seqiter_next(&it, &e)) x[i++] = num_to_double(e);
    i = 0;
    seqiter_init(&it, b);
    while (seqiter_next(&it, &e)) y[i++] = num_to_double(e);
    double r = cosine(x, y, na);
    free(x);
    free(y);
    return double_val(r);
  }
  err_eval(vm, "llm/similarity: both arguments must be the same type (both bytevectors or both lists). Use "
               "embedding/->list or embedding/list->embedding to convert between formats.");
}

/* Two embeddings of the same, valid, non-zero length for vector/NAME. */
static void vec_pair(VM *vm, Value *argv, const char *who, Bytevec **a, Bytevec **b) {
  *a = bv_arg(vm, argv[0]);
  *b = bv_arg(vm, argv[1]);
  if ((*a)->len == 0 || (*a)->len % 8) err_eval(vm, "%s: invalid bytevector length %u", who, (*a)->len);
  if ((*b)->len == 0 || (*b)->len % 8) err_eval(vm, "%s: invalid bytevector length %u", who, (*b)->len);
  if ((*a)->len != (*b)->len) err_eval(vm, "%s: length mismatch (%u vs %u)", who, (*a)->len / 8, (*b)->len / 8);
}

static Value n_vec_cosine(VM *vm, int argc, Value *argv) {
  Bytevec *a, *b;
  vec_pair(vm, argv, "vector/cosine-similarity", &a, &b);
  return double_val(cosine_bv(a, b));
}

static Value n_vec_dot(VM *vm, int argc, Value *argv) {
  Bytevec *a, *b;
  vec_pair(vm, argv, "vector/dot-product", &a, &b);
  double s = 0;
  for (uint32_t i = 0; i < a->len; i += 8) s += get_f64(a->data + i) * get_f64(b->data + i);
  return val_canon_double(s);
}

static Value n_vec_distance(VM *vm, int argc, Value *argv) {
  Bytevec *a, *b;
  vec_pair(vm, argv, "vector/distance", &a, &b);
  double s = 0;
  for (uint32_t i = 0; i < a->len; i += 8) {
    double d = get_f64(a->data + i) - get_f64(b->data + i);
    s += d * d;
  }
  return val_canon_double(sqrt(s));
}

static Value n_vec_normalize(VM *vm, int argc, Value *argv) {
  Bytevec *a = bv_arg(vm, argv[0]);
  if (a->len == 0 || a->len % 8) err_eval(vm, "vector/normalize: invalid bytevector");
  double s = 0;
  for (uint32_t i = 0; i < a->len; i += 8) s += get_f64(a->data + i) * get_f64(a->data + i);
  double norm = sqrt(s);
  Value out = obj_bytevec(vm, NULL, a->len);
  Bytevec *o = (Bytevec *)as_obj(out);
  for (uint32_t i = 0; i < a->len; i += 8) put_f64(o->data + i, norm == 0 ? 0.0 : get_f64(a->data + i) / norm);
  return out;
}

/* ---------------------------------------------------------------- the store */

LlmStore *llm_store_find(LlmState *st, const char *name) {
  for (size_t i = 0; i < st->nstores; i++)
    if (strcmp(st->stores[i].name, name) == 0) return &st->stores[i];
  return NULL;
}

LlmStore *llm_store_create(LlmState *st, const char *name) {
  LlmStore *s = llm_store_find(st, name);
  if (s) {
    free(s->path);
    s->path = NULL;
    s->n = 0;
    return s;
  }
  if (st->nstores == st->capstores) {
    st->capstores = st->capstores ? st->capstores * 2 : 4;
    st->stores = realloc(st->stores, st->capstores * sizeof *st->stores);
    if (!st->stores) abort();
  }
  s = &st->stores[st->nstores++];
  memset(s, 0, sizeof *s);
  s->name = llm_strdup(name);
  return s;
}

void llm_stores_free(LlmState *st) {
  for (size_t i = 0; i < st->nstores; i++) {
    free(st->stores[i].name);
    free(st->stores[i].path);
    free(st->stores[i].docs);
  }
  free(st->stores);
}

void llm_stores_mark(VM *vm, LlmState *st) {
  for (size_t i = 0; i < st->nstores; i++)
    for (size_t j = 0; j < st->stores[i].n; j++) {
      LlmDoc *d = &st->stores[i].docs[j];
      gc_mark_value(vm, d->id);
      gc_mark_value(vm, d->emb);
      gc_mark_value(vm, d->meta);
    }
}

static void store_push(LlmStore *s, Value id, Value emb, Value meta) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 16;
    s->docs = realloc(s->docs, s->cap * sizeof *s->docs);
    if (!s->docs) abort();
  }
  s->docs[s->n++] = (LlmDoc){id, emb, meta};
}

static bool store_remove(LlmStore *s, Value id) {
  for (size_t i = 0; i < s->n; i++)
    if (str_eq(s->docs[i].id, id)) {
      memmove(&s->docs[i], &s->docs[i + 1], (s->n - i - 1) * sizeof *s->docs);
      s->n--;
      return true;
    }
  return false;
}

static LlmStore *store_arg(VM *vm, Value name) {
  arg_string(vm, name);
  LlmStore *s = llm_store_find(llm_state(vm), str_data(name));
  if (!s) err_eval(vm, "vector store '%s' not found", str_data(name));
  return s;
}

static Value n_vs_create(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  llm_store_create(llm_state(vm), str_data(argv[0]));
  return argv[0];
}

static Value n_vs_add(VM *vm, int argc, Value *argv) {
  LlmStore *s = store_arg(vm, argv[0]);
  arg_string(vm, argv[1]);
  Bytevec *e = bv_arg(vm, argv[2]);
  if (e->len % 8) err_eval(vm, "vector-store/add: embedding length %u not multiple of 8", e->len);
  store_remove(s, argv[1]);
  store_push(s, argv[1], argv[2], argv[3]);
  return argv[1];
}

typedef struct {
  size_t idx;
  double score;
} Scored;

static int scored_cmp(const void *a, const void *b) {
  const Scored *x = a, *y = b;
  if (x->score > y->score) return -1;
  if (x->score < y->score) return 1;
  return (x->idx > y->idx) - (x->idx < y->idx); /* stable: store order */
}

static Value n_vs_search(VM *vm, int argc, Value *argv) {
  LlmStore *s = store_arg(vm, argv[0]);
  Bytevec *q = bv_arg(vm, argv[1]);
  if (!is_int(argv[2])) err_type(vm, "integer", argv[2]);
  int64_t k = int_of(argv[2]);
  Scored *sc = malloc((s->n ? s->n : 1) * sizeof *sc);
  double *qd = bv_doubles(q);
  for (size_t i = 0; i < s->n; i++) {
    Bytevec *d = (Bytevec *)as_obj(s->docs[i].emb);
    const char *id = str_data(s->docs[i].id);
    if (d->len != q->len) {
      free(sc);
      free(qd);
      if (d->len == 0 || d->len % 8)
        err_eval(vm, "vector-store/search: invalid embedding for document '%s': length %u is not a positive multiple of 8", id, d->len);
      err_eval(vm,
               "vector-store/search: embedding dimension mismatch for document '%s': query has %u bytes (%u dims) but "
               "stored embedding has %u bytes (%u dims) — the query and stored embeddings must come from the same model",
               id, q->len, q->len / 8, d->len, d->len / 8);
    }
    if (d->len == 0 || d->len % 8) {
      free(sc);
      free(qd);
      err_eval(vm, "vector-store/search: invalid embedding for document '%s': length %u is not a positive multiple of 8", id, d->len);
    }
    double *dd = bv_doubles(d);
    sc[i] = (Scored){i, cosine(qd, dd, d->len / 8)};
    free(dd);
  }
  free(qd);
  qsort(sc, s->n, sizeof *sc, scored_cmp);
  size_t keep = k < 0 || (uint64_t)k > s->n ? s->n : (size_t)k;
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = 0; i < keep; i++) {
    LlmDoc *d = &s->docs[sc[i].idx];
    Value m = map_assoc(vm, map_empty(vm), KW(vm, "id"), d->id);
    m = map_assoc(vm, m, KW(vm, "metadata"), d->meta);
    m = map_assoc(vm, m, KW(vm, "score"), val_canon_double(sc[i].score));
    list_add(vm, &lb, m);
  }
  free(sc);
  return lb.head;
}

static Value n_vs_delete(VM *vm, int argc, Value *argv) {
  LlmStore *s = store_arg(vm, argv[0]);
  arg_string(vm, argv[1]);
  return bool_val(store_remove(s, argv[1]));
}

static Value n_vs_count(VM *vm, int argc, Value *argv) { return num_int(vm, (int64_t)store_arg(vm, argv[0])->n); }

/* ---- the file format ---- */

/* Metadata on save (§17): lists -> arrays, sorted maps -> objects with
 * string keys, keywords -> ":name", NaN/inf -> null, anything else
 * (vectors, hash maps, bytevectors...) -> its printed form. */
static Value meta_to_json(VM *vm, Value v, int depth) {
  if (v == NIL_VAL || is_bool(v) || is_int(v) || is_string(v)) return v;
  if (is_double(v)) return isfinite(as_double(v)) ? v : NIL_VAL;
  if (is_kw(v)) {
    StrBuf b;
    sb_init(&b);
    sb_addc(&b, ':');
    sb_adds(&b, sym_cstr(vm, v));
    return sb_to_string(vm, &b);
  }
  if (depth < 200 && is_list(v)) {
    ListBuilder lb;
    list_start(&lb);
    for (; is_cons(v); v = cdr(v)) list_add(vm, &lb, meta_to_json(vm, car(v), depth + 1));
    return lb.head;
  }
  if (depth < 200 && is_map(v)) {
    Value m = map_empty(vm);
    MapIter it;
    map_iter_init(&it, v);
    Value k, x;
    while (map_iter_next(&it, &k, &x)) {
      Value ks = is_string(k) ? k : (is_kw(k) || is_sym(k)) ? str_from_c(vm, sym_cstr(vm, k)) : print_to_string(vm, k, true);
      m = map_assoc(vm, m, ks, meta_to_json(vm, x, depth + 1));
    }
    return m;
  }
  return print_to_string(vm, v, true);
}

/* Metadata on load: strings starting with ':' become keywords. */
static Value meta_from_json(VM *vm, Value v) {
  if (is_string(v) && str_len(v) > 0 && str_data(v)[0] == ':') return kw_val(sym_intern(vm, str_data(v) + 1, str_len(v) - 1));
  if (is_cons(v)) {
    ListBuilder lb;
    list_start(&lb);
    for (; is_cons(v); v = cdr(v)) list_add(vm, &lb, meta_from_json(vm, car(v)));
    return lb.head;
  }
  if (is_map(v)) {
    Value m = map_empty(vm);
    MapIter it;
    map_iter_init(&it, v);
    Value k, x;
    while (map_iter_next(&it, &k, &x)) m = map_assoc(vm, m, k, meta_from_json(vm, x));
    return m;
  }
  return v;
}

static Value store_json(VM *vm, LlmStore *s) {
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = 0; i < s->n; i++) {
    LlmDoc *d = &s->docs[i];
    Value m = map_assoc(vm, map_empty(vm), KW(vm, "embedding"), llm_base64_value(vm, d->emb));
    m = map_assoc(vm, m, KW(vm, "id"), d->id);
    m = map_assoc(vm, m, KW(vm, "metadata"), meta_to_json(vm, d->meta, 0));
    list_add(vm, &lb, m);
  }
  Value top = map_assoc(vm, map_empty(vm), KW(vm, "documents"), lb.head);
  top = map_assoc(vm, top, KW(vm, "version"), small_int_val(1));
  return llm_json_pretty(vm, top);
}

static Value n_vs_save(VM *vm, int argc, Value *argv) {
  LlmStore *s = store_arg(vm, argv[0]);
  Value path;
  if (argc > 1) {
    path = arg_string(vm, argv[1]);
  } else {
    if (!s->path) err_eval(vm, "vector-store/save: no path associated. Use (vector-store/save name path)");
    path = str_from_c(vm, s->path);
  }
  Value text = store_json(vm, s);
  StrBuf tmp;
  sb_init(&tmp);
  sb_add(&tmp, str_data(path), str_len(path));
  sb_adds(&tmp, ".tmp");
  sb_addc(&tmp, 0);
  FILE *f = fopen(tmp.data, "wb");
  bool ok = f && fwrite(str_data(text), 1, str_len(text), f) == str_len(text);
  if (f && fclose(f) != 0) ok = false;
  if (ok && rename(tmp.data, str_data(path)) != 0) ok = false;
  if (!ok) {
    int e = errno;
    unlink(tmp.data);
    sb_free(&tmp);
    err_io(vm, "vector-store/save: %s", strerror(e));
  }
  sb_free(&tmp);
  return path;
}

/* Read a whole file; NULL with errno set. */
static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  StrBuf b;
  sb_init(&b);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_add(&b, buf, n);
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    sb_free(&b);
    errno = EIO;
    return NULL;
  }
  sb_addc(&b, 0);
  *len = b.len - 1;
  return b.data;
}

static Value n_vs_open(VM *vm, int argc, Value *argv) {
  Value name = arg_string(vm, argv[0]), path = arg_string(vm, argv[1]);
  LlmState *st = llm_state(vm);
  if (access(str_data(path), F_OK) != 0) {
    LlmStore *s = llm_store_create(st, str_data(name));
    s->path = llm_strdup(str_data(path));
    return name;
  }
  size_t len = 0;
  char *text = slurp(str_data(path), &len);
  if (!text) err_io(vm, "vector-store/open: %s", strerror(errno));
  Value doc, msg = NIL_VAL;
  bool ok = llm_json_try_decode(vm, text, len, &doc, &msg);
  free(text);
  if (!ok) err_io(vm, "vector-store/open: invalid JSON: %s", str_data(msg));
  Value docs;
  if (!is_map(doc) || !map_get(doc, KW(vm, "documents"), &docs) || !is_list(docs))
    err_io(vm, "vector-store/open: missing 'documents' array");
  /* validate everything before replacing the store */
  uint32_t slot = vm_root_slot(vm, doc);
  ListBuilder lb;
  list_start(&lb);
  uint32_t out = vm_root_slot(vm, EMPTY_VAL);
  for (Value l = docs; is_cons(l); l = cdr(l)) {
    Value d = car(l), id, emb, meta = NIL_VAL, bytes, err;
    if (!is_map(d) || !map_get(d, KW(vm, "id"), &id) || !is_string(id)) err_io(vm, "vector-store/open: document missing 'id'");
    if (!map_get(d, KW(vm, "embedding"), &emb) || !is_string(emb)) err_io(vm, "vector-store/open: document missing 'embedding'");
    if (!llm_base64_decode_value(vm, emb, &bytes, &err))
      err_io(vm, "vector-store/open: invalid base64 embedding for '%s': %s", str_data(id), str_data(err));
    map_get(d, KW(vm, "metadata"), &meta);
    list_add(vm, &lb, list_3(vm, id, bytes, meta_from_json(vm, meta)));
    ROOT(vm, out) = lb.head;
  }
  LlmStore *s = llm_store_create(st, str_data(name));
  for (Value l = lb.head; is_cons(l); l = cdr(l)) {
    Value e = car(l);
    Value id = car(e), bytes = car(cdr(e)), meta = car(cdr(cdr(e)));
    store_remove(s, id);
    store_push(s, id, bytes, meta);
  }
  s->path = llm_strdup(str_data(path));
  vm_pop_roots(vm, 2);
  (void)slot;
  return name;
}

static const NativeDef defs[] = {
    {"embedding/length", n_emb_length, 1, 1, "(embedding/length emb)\nThe number of dimensions of an embedding (bytes / 8)."},
    {"embedding/ref", n_emb_ref, 2, 2, "(embedding/ref emb i)\nDimension i of an embedding, as a float."},
    {"embedding/->list", n_emb_to_list, 1, 1, "(embedding/->list emb)\nThe dimensions of an embedding as a list of floats."},
    {"embedding/list->embedding", n_list_to_emb, 1, 1,
     "(embedding/list->embedding seq)\nAn embedding (bytevector of little-endian binary64) from numbers."},
    {"llm/similarity", n_similarity, 2, 2,
     "(llm/similarity a b)\nCosine similarity of two embeddings or two seqs of numbers."},
    {"vector/cosine-similarity", n_vec_cosine, 2, 2, "(vector/cosine-similarity a b)\nCosine similarity of two embeddings."},
    {"vector/dot-product", n_vec_dot, 2, 2, "(vector/dot-product a b)\nDot product of two embeddings."},
    {"vector/distance", n_vec_distance, 2, 2, "(vector/distance a b)\nEuclidean distance between two embeddings."},
    {"vector/normalize", n_vec_normalize, 1, 1, "(vector/normalize emb)\nThe embedding divided by its Euclidean norm."},
    {"vector-store/create", n_vs_create, 1, 1, "(vector-store/create name)\nA new empty vector store (replacing one of that name)."},
    {"vector-store/open", n_vs_open, 2, 2,
     "(vector-store/open name path)\nA store loaded from path (empty if the file does not exist), saved there by vector-store/save."},
    {"vector-store/add", n_vs_add, 4, 4,
     "(vector-store/add name id embedding metadata)\nAdds (or replaces, moving it last) the document id."},
    {"vector-store/search", n_vs_search, 3, 3,
     "(vector-store/search name query k)\nThe k documents most similar to query: ({:id :metadata :score} ...), best first."},
    {"vector-store/delete", n_vs_delete, 2, 2, "(vector-store/delete name id)\nRemoves a document: #t if there was one."},
    {"vector-store/count", n_vs_count, 1, 1, "(vector-store/count name)\nThe number of documents in a store."},
    {"vector-store/save", n_vs_save, 1, 2,
     "(vector-store/save name [path])\nWrites the store as JSON to path (else its associated path); returns the path."},
    {NULL, NULL, 0, 0, NULL},
};

void llm_vector_init(VM *vm) { env_register(vm, defs); }
