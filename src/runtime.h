/* runtime.h - the value core's API: constructors of every object, UTF-8,
 * string buffers, equality, the total order, hashing, type names and the
 * printer.  One header for the layer; each group names the file that
 * implements it.  Nothing here calls back into Sema code.
 */
#ifndef SEMA_RUNTIME_H
#define SEMA_RUNTIME_H

#include "object.h"
#include "error.h"
#include "gc.h"
#include "symbol.h"

typedef struct VM VM;
/* The VM whose code runs on this thread: the pure helpers below (the total
 * order compares symbols by name; equality guards its depth) need its symbol
 * table.  Set by vm_new and on every protected entry (value.c). */
extern _Thread_local VM *val_current_vm;

/* ---- numbers (object.c) ---- */
Value obj_int(VM *vm, int64_t i); /* small immediate or boxed */
static inline Value num_int(VM *vm, int64_t i) { return fits_small_int(i) ? small_int_val(i) : obj_int(vm, i); }
static inline double num_to_double(Value v) { return is_double(v) ? as_double(v) : (double)int_of(v); }

/* ---- UTF-8 (utf8.c) ---- */
size_t utf8_encode(uint32_t cp, char *out); /* returns 1-4 */
uint32_t utf8_decode(const char *s, size_t *adv); /* s valid UTF-8 */
bool utf8_valid(const char *s, size_t len, size_t *bad_at);
size_t utf8_count(const char *s, size_t len);
size_t utf8_ascii_prefix(const char *s, size_t len); /* bytes before the first one >= 0x80 */

/* ---- strings (string.c) ---- */
Value str_new(VM *vm, const char *s, size_t len); /* s must be valid UTF-8 */
Value str_from_c(VM *vm, const char *s);
/* ascii: the caller knows every byte is below 0x80 (skips the scan; the
 * string/split hot path) */
Value str_new_flagged(VM *vm, const char *s, size_t len, bool ascii);
Value str_new_uninit(VM *vm, size_t len);          /* fill data, then str_finish */
void str_finish(Value s);                          /* computes nchars and the ASCII flag */
uint32_t str_hash(Value s);
bool str_eq(Value a, Value b);
/* byte offset of character index i in string v (i <= nchars) */
size_t str_byte_offset(Value v, size_t i);

/* ---- growable byte buffers (strbuf.c) ---- */
/* sb_init_vm: counted against the heap limit and freed if an error aborts
 * the operation (strbuf.c); sb_init: plain malloc, for threads without a VM. */
typedef struct StrBuf {
  char *data;
  size_t len, cap;
  VM *vm; /* NULL: a plain buffer */
  int depth; /* printer: aggregates open in write mode (printer.c) */
} StrBuf;
void sb_init(StrBuf *b);
void sb_init_vm(StrBuf *b, VM *vm);
void sb_free(StrBuf *b);
void sb_reserve(StrBuf *b, size_t extra); /* room for extra more bytes */
void sb_add(StrBuf *b, const char *s, size_t n);
void sb_addc(StrBuf *b, char c);
void sb_adds(StrBuf *b, const char *s);
void sb_addf(StrBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_add_utf8(StrBuf *b, uint32_t cp);
/* bytes that may not be UTF-8: invalid sequences become U+FFFD */
void sb_add_lossy(StrBuf *b, const unsigned char *s, size_t n);
Value sb_to_string(VM *vm, StrBuf *b); /* frees the buffer */

/* ---- lists (list.c) ---- */
Value list_cons(VM *vm, Value a, Value d);
Value list_cons_at(VM *vm, Value a, Value d, uint32_t pos); /* with a source position (POS_PACK) */
Value list_from(VM *vm, const Value *items, size_t n);
Value list_1(VM *vm, Value a);
Value list_2(VM *vm, Value a, Value b);
Value list_3(VM *vm, Value a, Value b, Value c);
Value list_n(VM *vm, int n, ...); /* n values */
int64_t list_length(Value l); /* -1 if not a proper list */
Value list_reverse(VM *vm, Value l);
/* Build a list front to back: keep head/tail in a struct (head must be
 * rooted if callbacks run). */
typedef struct {
  Value head;
  Cons *tail;
} ListBuilder;
static inline void list_start(ListBuilder *lb) {
  lb->head = EMPTY_VAL;
  lb->tail = NULL;
}
void list_add(VM *vm, ListBuilder *lb, Value v);

/* ---- vectors (vector.c) ---- */
Value vec_new(VM *vm, size_t n); /* filled with nil */
Value vec_from(VM *vm, const Value *items, size_t n);

/* ---- other objects (object.c) ---- */
Value obj_box(VM *vm, Value v);
/* a bytevector of LEN bytes copied from DATA (zero-filled when DATA is NULL) */
Value obj_bytevec(VM *vm, const uint8_t *data, size_t len);
/* an opaque object of class CLS (type name, printer <NAME>, finalizer, marker) */
Value obj_foreign(VM *vm, const ForeignClass *cls, void *ptr, Value extra);
bool obj_is_foreign(Value v, const ForeignClass *cls);
Value obj_native(VM *vm, const char *name, NativeFn fn, int min_args, int max_args);

/* ---- equality, order, hashing, types (value.c; language.md §5) ---- */
bool val_equal(Value a, Value b);      /* equal? / eq? */
bool val_num_eq(Value a, Value b);     /* = on one pair: numeric across int/float, else equal? */
int val_compare(Value a, Value b);     /* total order of §5.3: <0, 0, >0 */
uint64_t val_hash(Value v);            /* consistent with val_equal */
const char *val_type_name(Value v);    /* for error messages: int, float, list, native-fn, ... */
Value val_type_keyword(VM *vm, Value v); /* (type v) */

/* ---- printing (printer.c) ---- */
void print_value(VM *vm, StrBuf *b, Value v, bool write);
Value print_to_string(VM *vm, Value v, bool write);
void print_double(StrBuf *b, double d, bool force_point);
void print_pretty(VM *vm, StrBuf *b, Value v, int width);

#endif
