/* api.c - the C embedding API (include/sema.h).
 *
 * A sema_State * is the VM itself; the API's own data hangs off vm->api.
 * Handles are slots in chunks that never move, threaded on a free list, and
 * marked through a root marker (vm_add_marker).  Every entry that can reach the evaluator or
 * raise runs under vm_protect, so no longjmp ever crosses user C code.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include "boot.h"
#include "compiler.h"
#include "sema.h"
#include "map.h"
#include "env.h"
#include "runtime.h"

/* Comparisons of symbols and the deep-recursion guard read this global
 * (runtime.c); with several states it must name the one being entered. */

#define CHUNK_SLOTS 256
#define FREE_SLOT UNDEF_VAL /* never a user-visible value, and not an object */
#define SMALL_ARGS 8

struct sema_Value {
  Value v;
  struct sema_Value *next; /* free list */
};

typedef struct Chunk {
  struct Chunk *prev;
  struct sema_Value slots[CHUNK_SLOTS];
} Chunk;

typedef struct CFunc {
  struct CFunc *next;
  sema_CFunction fn;
  void *ud;
} CFunc;

typedef struct {
  Chunk *chunks;
  struct sema_Value *free;
  CFunc *cfuncs; /* records referenced by Native.ud; freed with the state */
  Value err;     /* last error map (or thrown value) */
  char *errmsg;  /* its display form */
  int errline, errcol;
  unsigned nfailures; /* lets the trampoline see that a nested call failed */
  bool raised;
  char raise_msg[1024];
  /* host control: the user's hook, or a budget (sema_set_budget) */
  sema_Hook hook;
  void *hook_ud;
  uint64_t budget_steps, budget_ms, steps_left, every;
  struct timespec started;
  char stop_msg[96];
  sema_Writer writer;
  void *writer_ud;
} Api;

static const ForeignClass userdata_class;

static inline VM *VMOF(sema_State *S) { return (VM *)S; }
static inline Api *API(VM *vm) { return vm->api; }
static inline Value VAL(const sema_Value *h) { return h ? h->v : NIL_VAL; }

/* ---- handles ---- */

static sema_Value *handle(VM *vm, Value v) {
  Api *a = API(vm);
  if (UNLIKELY(!a->free)) {
    Chunk *c = malloc(sizeof(Chunk));
    if (!c) abort(); /* like every allocation failure outside the heap */
    c->prev = a->chunks;
    a->chunks = c;
    for (size_t i = CHUNK_SLOTS; i-- > 0;) {
      c->slots[i].v = FREE_SLOT;
      c->slots[i].next = a->free;
      a->free = &c->slots[i];
    }
  }
  sema_Value *h = a->free;
  a->free = h->next;
  h->v = v;
  return h;
}

static void release(Api *a, sema_Value *h) {
  if (!h || h->v == FREE_SLOT) return; /* tolerate double release of the same slot */
  h->v = FREE_SLOT;
  h->next = a->free;
  a->free = h;
}

static void mark_handles(VM *vm) {
  Api *a = API(vm);
  for (Chunk *c = a->chunks; c; c = c->prev)
    for (size_t i = 0; i < CHUNK_SLOTS; i++) gc_mark_value(vm, c->slots[i].v);
  gc_mark_value(vm, a->err);
}

void sema_release(sema_State *S, sema_Value *v) { release(API(VMOF(S)), v); }

sema_Value *sema_dup(sema_State *S, sema_Value *v) { return handle(VMOF(S), VAL(v)); }

/* ---- protected execution ---- */

static void set_errmsg(Api *a, const char *msg, size_t len) {
  free(a->errmsg);
  a->errmsg = malloc(len + 1);
  if (!a->errmsg) abort();
  memcpy(a->errmsg, msg, len);
  a->errmsg[len] = 0;
}

/* :line/:col of the error map, else of the innermost stack frame with one. */
static void error_pos(VM *vm, Value err, int *line, int *col) {
  Value l, c, trace = NIL_VAL;
  *line = *col = 0;
  if (!is_map(err)) return;
  if (map_get(err, KW(vm, "line"), &l) && map_get(err, KW(vm, "col"), &c) && is_int(l) && is_int(c)) {
    *line = (int)int_of(l), *col = (int)int_of(c);
    return;
  }
  map_get(err, KW(vm, "stack-trace"), &trace);
  for (; is_cons(trace); trace = cdr(trace)) {
    Value fr = car(trace);
    if (is_map(fr) && map_get(fr, KW(vm, "line"), &l) && map_get(fr, KW(vm, "col"), &c) && is_int(l) &&
        is_int(c)) {
      *line = (int)int_of(l), *col = (int)int_of(c);
      return;
    }
  }
}

static void describe_error(VM *vm, void *ud) {
  Api *a = ud;
  Value d = err_display(vm, a->err);
  set_errmsg(a, str_data(d), str_len(d));
  error_pos(vm, a->err, &a->errline, &a->errcol);
}

/* Called right after a protected run failed: keep our own copy of the error,
 * since vm->error is overwritten by any later (even caught) error. */
static void record_error(VM *vm) {
  Api *a = API(vm);
  a->err = vm->error;
  a->nfailures++;
  a->errline = a->errcol = 0;
  if (vm_protect(vm, describe_error, a)) set_errmsg(a, "error (could not describe it)", 29);
}

static void record_api_error(VM *vm, const char *msg) {
  Api *a = API(vm);
  a->err = NIL_VAL;
  a->nfailures++;
  a->errline = a->errcol = 0;
  set_errmsg(a, msg, strlen(msg));
}

static void budget_start(VM *vm) {
  Api *a = API(vm);
  if (vm->nhandlers) return; /* a nested evaluation shares the outer one's budget */
  a->steps_left = a->budget_steps;
  clock_gettime(CLOCK_MONOTONIC, &a->started);
}

/* Run fn under protection with val_current_vm naming this state. */
static int run(VM *vm, void (*fn)(VM *, void *), void *ud) {
  VM *saved = val_current_vm;
  val_current_vm = vm;
  budget_start(vm);
  int failed = vm_protect(vm, fn, ud);
  bool exited = failed && vm_exited(vm, NULL); /* before record_error's own protected call */
  if (failed) record_error(vm);
  val_current_vm = saved;
  return !failed ? SEMA_OK : exited ? SEMA_EXIT : SEMA_ERROR;
}

/* ---- states ---- */

const char *sema_version(void) { return SEMA_VERSION_STRING; }

sema_State *sema_open(void) {
  VM *saved = val_current_vm;
  Api *a = calloc(1, sizeof(Api));
  if (!a) return NULL;
  VM *vm = boot_vm_new();
  val_current_vm = saved; /* vm_new claims it; a caller inside another state keeps its own */
  a->err = NIL_VAL;
  vm->api = a;
  vm_add_marker(vm, mark_handles);
  vm_set_exit_unwinds(vm, true); /* (exit n) returns to the host: SEMA_EXIT */
  return (sema_State *)vm;
}

void sema_close(sema_State *S) {
  if (!S) return;
  VM *vm = VMOF(S);
  Api *a = API(vm);
  VM *saved = val_current_vm == vm ? NULL : val_current_vm;
  vm_remove_marker(vm, mark_handles);
  vm->api = NULL;
  vm_free(vm);
  val_current_vm = saved;
  for (Chunk *c = a->chunks, *p; c; c = p) {
    p = c->prev;
    free(c);
  }
  for (CFunc *f = a->cfuncs, *n; f; f = n) {
    n = f->next;
    free(f);
  }
  free(a->errmsg);
  free(a);
}

/* ---- evaluation ---- */

typedef struct {
  const char *src, *name;
  size_t len;
  Value result;
} EvalJob;

static void do_eval(VM *vm, void *ud) {
  EvalJob *j = ud;
  j->result = compile_eval_string(vm, j->src, j->len, j->name);
}

static void do_eval_file(VM *vm, void *ud) {
  EvalJob *j = ud;
  j->result = compile_load_file(vm, j->name, false); /* one unit, like `sema FILE` */
}

static int finish(VM *vm, int rc, Value v, sema_Value **result) {
  if (result) *result = rc == SEMA_OK ? handle(vm, v) : NULL;
  return rc;
}

int sema_eval(sema_State *S, const char *src, size_t len, const char *chunkname, sema_Value **result) {
  VM *vm = VMOF(S);
  EvalJob j = {src ? src : "", chunkname, src ? len : 0, NIL_VAL};
  int rc = run(vm, do_eval, &j);
  return finish(vm, rc, j.result, result);
}

int sema_eval_file(sema_State *S, const char *path, sema_Value **result) {
  VM *vm = VMOF(S);
  if (!path) {
    record_api_error(vm, "sema_eval_file: no path");
    return finish(vm, SEMA_ERROR, NIL_VAL, result);
  }
  EvalJob j = {NULL, path, 0, NIL_VAL};
  int rc = run(vm, do_eval_file, &j);
  return finish(vm, rc, j.result, result);
}

int sema_call(sema_State *S, sema_Value *fn, int argc, sema_Value *const *argv, sema_Value **result) {
  VM *vm = VMOF(S);
  if (argc < 0 || (argc > 0 && !argv)) {
    record_api_error(vm, "sema_call: bad argument vector");
    return finish(vm, SEMA_ERROR, NIL_VAL, result);
  }
  Value small[SMALL_ARGS], *args = small;
  if (argc > SMALL_ARGS && !(args = malloc((size_t)argc * sizeof(Value)))) abort();
  for (int i = 0; i < argc; i++) args[i] = VAL(argv[i]);
  VM *saved = val_current_vm;
  val_current_vm = vm;
  Value out = NIL_VAL;
  budget_start(vm);
  int failed = vm_pcall(vm, VAL(fn), argc, args, &out);
  bool exited = failed && vm_exited(vm, NULL);
  if (failed) record_error(vm);
  val_current_vm = saved;
  if (args != small) free(args);
  /* out is unrooted, but nothing collects before handle() stores it */
  return finish(vm, !failed ? SEMA_OK : exited ? SEMA_EXIT : SEMA_ERROR, out, result);
}

/* ---- errors ---- */

const char *sema_error_message(sema_State *S) {
  Api *a = API(VMOF(S));
  return a->errmsg ? a->errmsg : "";
}

int sema_error_line(sema_State *S) { return API(VMOF(S))->errline; }
int sema_error_col(sema_State *S) { return API(VMOF(S))->errcol; }

sema_Value *sema_error_value(sema_State *S) {
  Api *a = API(VMOF(S));
  return a->nfailures && a->err != NIL_VAL ? handle(VMOF(S), a->err) : NULL;
}

/* ---- globals ---- */

static bool name_ok(const char *name) { return name && *name && utf8_valid(name, strlen(name), NULL); }

sema_Value *sema_get_global(sema_State *S, const char *name) {
  VM *vm = VMOF(S);
  if (!name_ok(name)) return NULL;
  Value v = env_get(vm, name);
  return v == UNBOUND_VAL ? NULL : handle(vm, v);
}

void sema_set_global(sema_State *S, const char *name, sema_Value *v) {
  VM *vm = VMOF(S);
  if (!name_ok(name)) return;
  /* vm_set_global, not a plain store: code compiled against a builtin's
   * intrinsic opcode must see the new binding */
  env_set_global(vm, env_global_cell(vm, SYM(vm, name)), VAL(v));
}

/* ---- making values ---- */

sema_Value *sema_nil(sema_State *S) { return handle(VMOF(S), NIL_VAL); }
sema_Value *sema_bool(sema_State *S, bool b) { return handle(VMOF(S), bool_val(b)); }
sema_Value *sema_int(sema_State *S, int64_t i) { return handle(VMOF(S), num_int(VMOF(S), i)); }
sema_Value *sema_float(sema_State *S, double d) { return handle(VMOF(S), val_canon_double(d)); }

/* Constructors that allocate large objects can raise "out of memory". */
typedef struct {
  const char *s;
  size_t n;
  sema_Value *const *items;
  bool vector;
  Value out;
} MakeJob;

static void make_string(VM *vm, void *ud) {
  MakeJob *j = ud;
  j->out = str_new(vm, j->s, j->n);
}

static void make_seq(VM *vm, void *ud) {
  MakeJob *j = ud;
  if (j->vector) {
    j->out = vec_new(vm, j->n);
    for (size_t i = 0; i < j->n; i++) vec_items(j->out)[i] = VAL(j->items[i]);
    return;
  }
  j->out = EMPTY_VAL;
  for (size_t i = j->n; i-- > 0;) j->out = list_cons(vm, VAL(j->items[i]), j->out);
}

static sema_Value *make(VM *vm, void (*fn)(VM *, void *), MakeJob *j) {
  return run(vm, fn, j) == SEMA_OK ? handle(vm, j->out) : NULL;
}

sema_Value *sema_string(sema_State *S, const char *s, size_t len) {
  VM *vm = VMOF(S);
  if (!s && len) return NULL;
  if (len > UINT32_MAX || !utf8_valid(s ? s : "", len, NULL)) {
    record_api_error(vm, "sema_string: invalid UTF-8 or too long");
    return NULL;
  }
  MakeJob j = {s ? s : "", len, NULL, false, NIL_VAL};
  return make(vm, make_string, &j);
}

static sema_Value *named(sema_State *S, const char *name, bool keyword) {
  VM *vm = VMOF(S);
  if (!name_ok(name)) return NULL;
  uint32_t id = sym_intern_c(vm, name);
  return handle(vm, keyword ? kw_val(id) : sym_val(id));
}

sema_Value *sema_keyword(sema_State *S, const char *name) { return named(S, name, true); }
sema_Value *sema_symbol(sema_State *S, const char *name) { return named(S, name, false); }

sema_Value *sema_list(sema_State *S, size_t n, sema_Value *const *items) {
  if (n && !items) return NULL;
  MakeJob j = {NULL, n, items, false, NIL_VAL};
  return make(VMOF(S), make_seq, &j);
}

sema_Value *sema_vector(sema_State *S, size_t n, sema_Value *const *items) {
  if ((n && !items) || n > UINT32_MAX) return NULL;
  MakeJob j = {NULL, n, items, true, NIL_VAL};
  return make(VMOF(S), make_seq, &j);
}

/* ---- reading values ---- */

sema_Type sema_type(sema_State *S, sema_Value *h) {
  Value v = VAL(h);
  if (is_double(v)) return SEMA_TFLOAT;
  if (is_small_int(v)) return SEMA_TINT;
  if (is_nil(v)) return SEMA_TNIL;
  if (is_bool(v)) return SEMA_TBOOL;
  if (v == EMPTY_VAL) return SEMA_TLIST;
  if (is_char(v)) return SEMA_TCHAR;
  if (is_sym(v)) return SEMA_TSYMBOL;
  if (is_kw(v)) return SEMA_TKEYWORD;
  if (!is_obj(v)) return SEMA_TOTHER;
  switch (OBJ_TYPE(v)) {
  case OBJ_BIGINT: return SEMA_TINT;
  case OBJ_STRING: return SEMA_TSTRING;
  case OBJ_CONS: return SEMA_TLIST;
  case OBJ_VECTOR: return SEMA_TVECTOR;
  case OBJ_MAP: return SEMA_TMAP;
  case OBJ_HASHMAP: return SEMA_THASHMAP;
  case OBJ_CLOSURE:
  case OBJ_NATIVE:
  case OBJ_MULTI: return SEMA_TFUNCTION;
  case OBJ_FOREIGN: return obj_is_foreign(v, &userdata_class) ? SEMA_TUSERDATA : SEMA_TOTHER;
  default: return SEMA_TOTHER;
  }
}

const char *sema_type_name(sema_Type t) {
  static const char *const names[] = {"nil",    "bool",    "int",  "float",  "string",  "char",     "symbol",
                                      "keyword", "list",   "vector", "map", "hashmap", "function", "other", "userdata"};
  return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "other";
}

bool sema_to_bool(sema_State *S, sema_Value *v) {
  return is_truthy(VAL(v));
}

int64_t sema_to_int(sema_State *S, sema_Value *h, int *ok) {
  Value v = VAL(h);
  if (ok) *ok = is_int(v);
  return is_int(v) ? int_of(v) : 0;
}

double sema_to_float(sema_State *S, sema_Value *h, int *ok) {
  Value v = VAL(h);
  if (ok) *ok = is_number(v);
  return is_number(v) ? num_to_double(v) : 0.0;
}

const char *sema_to_string(sema_State *S, sema_Value *h, size_t *len) {
  Value v = VAL(h);
  if (is_string(v)) {
    if (len) *len = str_len(v);
    return str_data(v);
  }
  if (is_sym(v) || is_kw(v)) { /* names live as long as the state */
    String *n = sym_name(VMOF(S), sym_id(v));
    if (len) *len = n->len;
    return n->data;
  }
  if (len) *len = 0;
  return NULL;
}

typedef struct {
  Value v, key, out;
  StrBuf text;
  bool found;
} ReadJob;

static void do_repr(VM *vm, void *ud) {
  ReadJob *j = ud;
  print_value(vm, &j->text, j->v, true); /* deep data may raise "stack overflow" */
  sb_addc(&j->text, 0);
}

char *sema_repr(sema_State *S, sema_Value *v) {
  ReadJob j = {VAL(v), NIL_VAL, NIL_VAL, {NULL, 0, 0}, false};
  if (run(VMOF(S), do_repr, &j) == SEMA_OK) return j.text.data;
  sb_free(&j.text);
  return NULL;
}

size_t sema_len(sema_State *S, sema_Value *h) {
  Value v = VAL(h);
  if (is_list(v)) {
    size_t n = 0;
    for (; is_cons(v); v = cdr(v)) n++; /* an improper tail is not counted */
    return n;
  }
  if (is_vector(v)) return vec_len(v);
  if (is_anymap(v)) return anymap_count(v);
  if (is_string(v)) return as_string(v)->nchars;
  return 0;
}

sema_Value *sema_index(sema_State *S, sema_Value *h, size_t i) {
  Value v = VAL(h);
  if (is_vector(v)) return i < vec_len(v) ? handle(VMOF(S), vec_items(v)[i]) : NULL;
  for (; is_cons(v); v = cdr(v), i--)
    if (i == 0) return handle(VMOF(S), car(v));
  return NULL;
}

static void do_map_get(VM *vm, void *ud) {
  ReadJob *j = ud;
  j->found = anymap_get(j->v, j->key, &j->out); /* comparing deep keys may raise */
}

sema_Value *sema_map_get(sema_State *S, sema_Value *map, sema_Value *key) {
  VM *vm = VMOF(S);
  ReadJob j = {VAL(map), VAL(key), NIL_VAL, {NULL, 0, 0}, false};
  if (!is_anymap(j.v) || run(vm, do_map_get, &j) != SEMA_OK || !j.found) return NULL;
  return handle(vm, j.out);
}

/* ---- C functions ---- */

int sema_raise(sema_State *S, const char *fmt, ...) {
  Api *a = API(VMOF(S));
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(a->raise_msg, sizeof a->raise_msg, fmt, ap);
  va_end(ap);
  a->raised = true;
  return SEMA_ERROR;
}

/* The one NativeFn behind every registered C function. */
static Value trampoline(VM *vm, int argc, Value *argv) {
  Native *self = as_native(argv[-1]);
  CFunc *cf = self->ud;
  Api *a = API(vm);
  sema_Value *small[SMALL_ARGS], **hs = small;
  if (argc > SMALL_ARGS && !(hs = malloc((size_t)argc * sizeof *hs))) abort();
  for (int i = 0; i < argc; i++) hs[i] = handle(vm, argv[i]);
  sema_Value *res = NULL;
  unsigned failures = a->nfailures;
  a->raised = false;
  int rc = cf->fn((sema_State *)vm, argc, hs, &res, cf->ud);
  val_current_vm = vm;
  Value out = VAL(res);
  for (int i = 0; i < argc; i++) release(a, hs[i]);
  release(a, res); /* no-op if the function returned one of its arguments */
  if (hs != small) free(hs);
  if (rc == SEMA_OK) return out;
  if (a->raised) {
    a->raised = false;
    err_eval(vm, "%s", a->raise_msg); /* vfmt trims invalid UTF-8 */
  }
  /* the function passed on the failure of a nested API call */
  if (a->nfailures != failures) {
    if (a->err != NIL_VAL) err_throw(vm, a->err);
    err_eval(vm, "%s", a->errmsg);
  }
  err_eval(vm, "%s: C function failed", sym_cstr(vm, self->name));
}

typedef struct {
  const char *name;
  CFunc *cf;
  int min, max;
} RegJob;

static void do_register(VM *vm, void *ud) {
  RegJob *j = ud;
  Value f = obj_native(vm, j->name, trampoline, j->min, j->max);
  as_native(f)->ud = j->cf;
  env_set_global(vm, env_global_cell(vm, SYM(vm, j->name)), f);
}

int sema_register(sema_State *S, const char *name, sema_CFunction fn, int min_args, int max_args, void *ud) {
  VM *vm = VMOF(S);
  if (!name_ok(name) || !fn || min_args < 0 || min_args > INT16_MAX || max_args > INT16_MAX ||
      (max_args >= 0 && max_args < min_args)) {
    record_api_error(vm, "sema_register: bad name, function or arity");
    return SEMA_ERROR;
  }
  CFunc *cf = malloc(sizeof *cf);
  if (!cf) abort();
  *cf = (CFunc){API(vm)->cfuncs, fn, ud};
  API(vm)->cfuncs = cf;
  RegJob j = {name, cf, min_args, max_args < 0 ? -1 : max_args};
  return run(vm, do_register, &j);
}

/* ---- maps and lists ---- */

sema_Value *sema_map(sema_State *S) { return handle(VMOF(S), map_empty(VMOF(S))); }

typedef struct {
  Value m, k, v, out;
} AssocJob;

static void do_assoc(VM *vm, void *ud) {
  AssocJob *j = ud;
  j->out = anymap_assoc(vm, j->m, j->k, j->v);
}

sema_Value *sema_map_set(sema_State *S, sema_Value *map, sema_Value *key, sema_Value *val) {
  VM *vm = VMOF(S);
  Value m = VAL(map);
  if (!is_anymap(m)) {
    record_api_error(vm, "sema_map_set: not a map");
    return NULL;
  }
  AssocJob j = {m, VAL(key), VAL(val), NIL_VAL};
  if (run(vm, do_assoc, &j) != SEMA_OK) return NULL;
  return handle(vm, j.out);
}

bool sema_map_entry(sema_State *S, sema_Value *map, size_t i, sema_Value **key, sema_Value **val) {
  VM *vm = VMOF(S);
  Value m = VAL(map);
  if (!is_anymap(m)) return false;
  size_t n;
  Value *e = map_sorted_entries(NULL, m, &n);
  bool ok = i < n;
  if (ok) {
    Value k = e[2 * i], v = e[2 * i + 1];
    free(e);
    if (key) *key = handle(vm, k);
    if (val) *val = handle(vm, v);
  } else
    free(e);
  return ok;
}

typedef struct {
  Value m, out;
} EntriesJob;

static void do_entries(VM *vm, void *ud) {
  EntriesJob *j = ud;
  size_t n;
  Value *e = map_sorted_entries(vm, j->m, &n); /* counted: freed if a cons raises */
  /* the pairs are built from the end; the map keeps the entries alive */
  Value l = EMPTY_VAL;
  vm_push_root(vm, j->m);
  for (size_t i = n; i-- > 0;) {
    vm_push_root(vm, l);
    Value pair = list_cons(vm, e[2 * i], e[2 * i + 1]);
    vm_pop_roots(vm, 1);
    vm_push_root(vm, pair);
    l = list_cons(vm, pair, l);
    vm_pop_roots(vm, 1);
  }
  vm_pop_roots(vm, 1);
  map_entries_free(vm, e);
  j->out = l;
}

sema_Value *sema_map_entries(sema_State *S, sema_Value *map) {
  VM *vm = VMOF(S);
  if (!is_anymap(VAL(map))) return NULL;
  EntriesJob j = {VAL(map), NIL_VAL};
  if (run(vm, do_entries, &j) != SEMA_OK) return NULL;
  return handle(vm, j.out);
}

sema_Value *sema_car(sema_State *S, sema_Value *list) {
  return is_cons(VAL(list)) ? handle(VMOF(S), car(VAL(list))) : NULL;
}

sema_Value *sema_cdr(sema_State *S, sema_Value *list) {
  return is_cons(VAL(list)) ? handle(VMOF(S), cdr(VAL(list))) : NULL;
}

/* ---- userdata ---- */

typedef struct {
  const char *tag;
  void *ptr;
  sema_Finalizer fin;
} Userdata;

static void userdata_finalize(Foreign *f) {
  Userdata *u = f->ptr;
  if (!u) return;
  if (u->fin) u->fin(u->ptr);
  free(u);
  f->ptr = NULL;
}

static void userdata_print(VM *vm, StrBuf *b, Foreign *f) {
  Userdata *u = f->ptr;
  sb_addf(b, "<%s>", u && u->tag ? u->tag : "userdata");
}

static const ForeignClass userdata_class = {.name = "userdata", .finalize = userdata_finalize, .print = userdata_print};

typedef struct {
  Userdata *u;
  Value out;
} UdJob;

static void do_userdata(VM *vm, void *ud) {
  UdJob *j = ud;
  j->out = obj_foreign(vm, &userdata_class, j->u, NIL_VAL);
}

sema_Value *sema_userdata(sema_State *S, const char *tag, void *ptr, sema_Finalizer finalizer) {
  VM *vm = VMOF(S);
  Userdata *u = malloc(sizeof *u);
  if (!u) return NULL;
  *u = (Userdata){tag, ptr, finalizer};
  UdJob j = {u, NIL_VAL};
  if (run(vm, do_userdata, &j) != SEMA_OK) {
    free(u); /* not attached to an object: the finalizer is the caller's to run */
    return NULL;
  }
  return handle(vm, j.out);
}

void *sema_to_userdata(sema_State *S, sema_Value *v, const char *tag) {
  Value x = VAL(v);
  if (!obj_is_foreign(x, &userdata_class)) return NULL;
  Userdata *u = ((Foreign *)as_obj(x))->ptr;
  return u && u->tag == tag ? u->ptr : NULL;
}

/* ---- host control ---- */

static void api_write(void *ud, int stream, const char *s, size_t n) {
  VM *vm = ud;
  Api *a = API(vm);
  a->writer(a->writer_ud, stream, s, n);
}

void sema_set_writer(sema_State *S, sema_Writer write, void *ud) {
  VM *vm = VMOF(S);
  Api *a = API(vm);
  a->writer = write;
  a->writer_ud = ud;
  vm_set_output(vm, write ? api_write : NULL, NULL, vm);
}

static const char *api_hook(VM *vm, void *ud) {
  Api *a = API(vm);
  if (a->hook) return a->hook((sema_State *)vm, a->hook_ud);
  if (a->budget_steps) {
    if (a->steps_left <= a->every) {
      snprintf(a->stop_msg, sizeof a->stop_msg, "budget exceeded: %llu steps", (unsigned long long)a->budget_steps);
      return a->stop_msg;
    }
    a->steps_left -= a->every;
  }
  if (a->budget_ms) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t ms = (uint64_t)(now.tv_sec - a->started.tv_sec) * 1000 + (uint64_t)((now.tv_nsec - a->started.tv_nsec) / 1000000);
    if (ms >= a->budget_ms) {
      snprintf(a->stop_msg, sizeof a->stop_msg, "budget exceeded: %llu ms", (unsigned long long)a->budget_ms);
      return a->stop_msg;
    }
  }
  return NULL;
}

void sema_set_hook(sema_State *S, sema_Hook hook, void *ud, uint64_t every) {
  VM *vm = VMOF(S);
  Api *a = API(vm);
  a->hook = hook;
  a->hook_ud = ud;
  a->budget_steps = a->budget_ms = 0;
  vm_set_interrupt_hook(vm, hook ? api_hook : NULL, NULL, every);
}

void sema_set_budget(sema_State *S, uint64_t steps, uint64_t millis) {
  VM *vm = VMOF(S);
  Api *a = API(vm);
  a->hook = NULL;
  a->budget_steps = steps;
  a->budget_ms = millis;
  /* the hook counts in strides: one call per stride keeps the overhead low */
  a->every = steps && steps < 1024 ? steps : 1024;
  a->steps_left = steps;
  vm_set_interrupt_hook(vm, steps || millis ? api_hook : NULL, NULL, steps || millis ? a->every : 0);
}

void sema_interrupt(sema_State *S) { vm_request_interrupt(VMOF(S)); }

int sema_exit_code(sema_State *S) {
  int code = 0;
  vm_exited(VMOF(S), &code); /* exit_code stays until the next (exit) */
  return code;
}
