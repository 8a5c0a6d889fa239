/* runtime.h - constructors and the core operations on values: equality, the
 * total order, hashing, type names, string building.
 */
#ifndef SEMA_RUNTIME_H
#define SEMA_RUNTIME_H

#include "vm.h"

/* ---- numbers ---- */
Value int_val(VM *vm, int64_t i); /* small immediate or boxed */
static inline Value num_int(VM *vm, int64_t i) { return fits_small_int(i) ? small_int_val(i) : int_val(vm, i); }
static inline double num_to_double(Value v) { return is_double(v) ? as_double(v) : (double)int_of(v); }

/* ---- strings ---- */
Value str_new(VM *vm, const char *s, size_t len); /* s must be valid UTF-8 */
Value str_from_c(VM *vm, const char *s);
/* ascii: the caller knows every byte is below 0x80 (skips the scan; the
 * string/split hot path) */
Value str_new_flagged(VM *vm, const char *s, size_t len, bool ascii);
Value str_new_uninit(VM *vm, size_t len);          /* fill data, then str_finish */
void str_finish(Value s);                          /* computes nchars and the ASCII flag */
uint32_t str_hash(Value s);
bool str_eq(Value a, Value b);
/* UTF-8 helpers */
size_t utf8_encode(uint32_t cp, char *out); /* returns 1-4 */
uint32_t utf8_decode(const char *s, size_t *adv); /* s valid UTF-8 */
bool utf8_valid(const char *s, size_t len, size_t *bad_at);
size_t utf8_count(const char *s, size_t len);
/* byte offset of character index i in string v (i <= nchars) */
size_t str_byte_offset(Value v, size_t i);

/* ---- growable byte buffer ---- */
typedef struct StrBuf {
  char *data;
  size_t len, cap;
} StrBuf;
void sb_init(StrBuf *b);
void sb_free(StrBuf *b);
void sb_add(StrBuf *b, const char *s, size_t n);
void sb_addc(StrBuf *b, char c);
void sb_adds(StrBuf *b, const char *s);
void sb_addf(StrBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_add_utf8(StrBuf *b, uint32_t cp);
Value sb_to_string(VM *vm, StrBuf *b); /* frees the buffer */

/* ---- lists and vectors ---- */
Value cons(VM *vm, Value a, Value d);
Value cons_pos(VM *vm, Value a, Value d, uint32_t pos);
Value list_from(VM *vm, const Value *items, size_t n);
Value list1(VM *vm, Value a);
Value list2(VM *vm, Value a, Value b);
Value list3(VM *vm, Value a, Value b, Value c);
Value list(VM *vm, int n, ...); /* n values */
int64_t list_length(Value l); /* -1 if not a proper list */
Value list_reverse(VM *vm, Value l);
Value vec_new(VM *vm, size_t n); /* filled with nil */
Value vec_from(VM *vm, const Value *items, size_t n);
/* Build a list front to back: keep head/tail in a struct (head must be rooted if callbacks run). */
typedef struct {
  Value head;
  Cons *tail;
} ListBuilder;
static inline void lb_init(ListBuilder *lb) {
  lb->head = EMPTY_VAL;
  lb->tail = NULL;
}
void lb_add(VM *vm, ListBuilder *lb, Value v);

/* ---- equality, order, hashing (language.md §5) ---- */
bool val_equal(Value a, Value b);      /* equal? / eq? */
bool val_num_eq(Value a, Value b);     /* = on one pair: numeric across int/float, else equal? */
int val_compare(Value a, Value b);     /* total order of §5.3: <0, 0, >0 */
uint64_t val_hash(Value v);            /* consistent with val_equal */

/* ---- types ---- */
const char *type_name(Value v);        /* for error messages: int, float, list, native-fn, ... */
Value type_keyword(VM *vm, Value v);   /* (type v) */

/* ---- boxes / misc objects ---- */
Value box_new(VM *vm, Value v);
/* a bytevector of LEN bytes copied from DATA (zero-filled when DATA is NULL) */
Value bytevec_new(VM *vm, const uint8_t *data, size_t len);
/* an opaque object of class CLS (type name, printer <NAME>, finalizer, marker) */
Value foreign_new(VM *vm, const ForeignClass *cls, void *ptr, Value extra);
bool is_foreign_of(Value v, const ForeignClass *cls);
Value native_new(VM *vm, const char *name, NativeFn fn, int min_args, int max_args);

/* ---- printing (printer.c) ---- */
void print_value(VM *vm, StrBuf *b, Value v, bool write);
Value value_to_string(VM *vm, Value v, bool write);
void format_double(StrBuf *b, double d, bool force_point);
void pretty_print(VM *vm, StrBuf *b, Value v, int width);

#endif
