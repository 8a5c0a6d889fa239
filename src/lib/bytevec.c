/* bytevec.c - bytevectors (stdlib.md §24).
 *
 * Bytevectors are immutable: bytevector-u8-set! returns a new bytevector.
 * (The bitwise operations of §23 live in math.c.)
 */
#include "lib.h"

#define BV_MAX_LEN 0x7fffffffu

static Bytevec *arg_bv(VM *vm, Value v) {
  if (!is_objtype(v, OBJ_BYTEVEC)) err_type(vm, "bytevector", v);
  return (Bytevec *)as_obj(v);
}


static Value n_bytevector(VM *vm, int argc, Value *argv) {
  for (int i = 0; i < argc; i++) {
    int64_t b = arg_int(vm, argv[i]);
    if (b < 0 || b > 255) err_eval(vm, "bytevector: byte value %lld at index %d out of range 0..255", (long long)b, i);
  }
  Value r = obj_bytevec(vm, NULL, (size_t)argc);
  Bytevec *bv = (Bytevec *)as_obj(r);
  for (int i = 0; i < argc; i++) bv->data[i] = (uint8_t)int_of(argv[i]);
  return r;
}

static Value n_make_bytevector(VM *vm, int argc, Value *argv) {
  int64_t n = arg_int(vm, argv[0]);
  if (n < 0) err_eval(vm, "make-bytevector: size must be non-negative, got %lld", (long long)n);
  int64_t fill = 0;
  if (argc > 1) {
    fill = arg_int(vm, argv[1]);
    if (fill < 0 || fill > 255) err_eval(vm, "make-bytevector: fill value %lld out of range 0..255", (long long)fill);
  }
  if ((uint64_t)n > BV_MAX_LEN) err_eval(vm, "make-bytevector: size %lld is too large", (long long)n);
  Value r = obj_bytevec(vm, NULL, (size_t)n);
  if (fill) memset(((Bytevec *)as_obj(r))->data, (int)fill, (size_t)n);
  return r;
}

static Value n_bytevector_length(VM *vm, int argc, Value *argv) {
  return small_int_val(arg_bv(vm, argv[0])->len);
}

static Value n_bytevector_u8_ref(VM *vm, int argc, Value *argv) {
  Bytevec *bv = arg_bv(vm, argv[0]);
  int64_t i = arg_int(vm, argv[1]);
  if (i < 0 || i >= (int64_t)bv->len)
    err_eval(vm, "bytevector-u8-ref: index %lld out of range for bytevector of length %u", (long long)i, bv->len);
  return small_int_val(bv->data[i]);
}

static Value n_bytevector_u8_set(VM *vm, int argc, Value *argv) {
  Bytevec *bv = arg_bv(vm, argv[0]);
  int64_t i = arg_int(vm, argv[1]);
  int64_t b = arg_int(vm, argv[2]);
  if (i < 0 || i >= (int64_t)bv->len)
    err_eval(vm, "bytevector-u8-set!: index %lld out of range for bytevector of length %u", (long long)i, bv->len);
  if (b < 0 || b > 255) err_eval(vm, "bytevector-u8-set!: byte value %lld out of range 0..255", (long long)b);
  Value r = obj_bytevec(vm, bv->data, bv->len);
  ((Bytevec *)as_obj(r))->data[i] = (uint8_t)b;
  return r;
}

static Value n_bytevector_copy(VM *vm, int argc, Value *argv) {
  Bytevec *bv = arg_bv(vm, argv[0]);
  int64_t start = argc > 1 ? arg_int(vm, argv[1]) : 0;
  int64_t end = argc > 2 ? arg_int(vm, argv[2]) : (int64_t)bv->len;
  if (start < 0 || end < 0 || start > end || end > (int64_t)bv->len)
    err_eval(vm, "bytevector-copy: range %lld..%lld out of bounds for bytevector of length %u", (long long)start,
             (long long)end, bv->len);
  return obj_bytevec(vm, bv->data + start, (size_t)(end - start));
}

static Value n_bytevector_append(VM *vm, int argc, Value *argv) {
  size_t total = 0;
  for (int i = 0; i < argc; i++) total += arg_bv(vm, argv[i])->len;
  if (total > BV_MAX_LEN) err_eval(vm, "bytevector-append: result is too large");
  Value r = obj_bytevec(vm, NULL, total);
  uint8_t *p = ((Bytevec *)as_obj(r))->data;
  for (int i = 0; i < argc; i++) {
    Bytevec *bv = (Bytevec *)as_obj(argv[i]);
    if (bv->len) memcpy(p, bv->data, bv->len);
    p += bv->len;
  }
  return r;
}

static Value n_bytevector_to_list(VM *vm, int argc, Value *argv) {
  Bytevec *bv = arg_bv(vm, argv[0]);
  Value l = EMPTY_VAL;
  /* allocation never collects, so bv stays valid */
  for (uint32_t i = bv->len; i > 0; i--) l = list_cons(vm, small_int_val(bv->data[i - 1]), l);
  return l;
}

static Value n_list_to_bytevector(VM *vm, int argc, Value *argv) {
  Value l = argv[0];
  if (!is_list(l)) err_type(vm, "list", l);
  size_t n = 0;
  for (Value p = l; is_cons(p); p = cdr(p)) {
    int64_t b = arg_int(vm, car(p));
    if (b < 0 || b > 255) err_eval(vm, "list->bytevector: byte value %lld out of range 0..255", (long long)b);
    n++;
  }
  if (n > BV_MAX_LEN) err_eval(vm, "list->bytevector: list is too long");
  Value r = obj_bytevec(vm, NULL, n);
  uint8_t *d = ((Bytevec *)as_obj(r))->data;
  for (Value p = l; is_cons(p); p = cdr(p)) *d++ = (uint8_t)int_of(car(p));
  return r;
}

static Value n_string_to_utf8(VM *vm, int argc, Value *argv) {
  Value s = arg_string(vm, argv[0]);
  return obj_bytevec(vm, (const uint8_t *)str_data(s), str_len(s));
}

static Value n_utf8_to_string(VM *vm, int argc, Value *argv) {
  Bytevec *bv = arg_bv(vm, argv[0]);
  if (!utf8_valid((const char *)bv->data, bv->len, NULL)) err_eval(vm, "utf8->string: invalid UTF-8");
  return str_new(vm, (const char *)bv->data, bv->len);
}

static const NativeDef defs[] = {
    {"bytevector", n_bytevector, 0, VARIADIC,
     "(bytevector b...)\nReturns a bytevector of the byte arguments (integers 0 to 255): (bytevector 1 2) is #u8(1 "
     "2)."},
    {"make-bytevector", n_make_bytevector, 1, 2,
     "(make-bytevector n [fill])\nReturns a bytevector of n bytes, each fill (default 0)."},
    {"bytevector-length", n_bytevector_length, 1, 1,
     "(bytevector-length bv)\nReturns the number of bytes of bv."},
    {"bytevector-u8-ref", n_bytevector_u8_ref, 2, 2,
     "(bytevector-u8-ref bv i)\nReturns the byte at index i of bv as an integer; an index out of range is an error."},
    {"bytevector-u8-set!", n_bytevector_u8_set, 3, 3,
     "(bytevector-u8-set! bv i b)\nReturns a new bytevector with the byte at index i replaced by b; bv itself is "
     "unchanged, despite the !."},
    {"bytevector-copy", n_bytevector_copy, 1, 3,
     "(bytevector-copy bv [start [end]])\nReturns a new bytevector of the bytes of bv from start (default 0) up to "
     "end (default the length)."},
    {"bytevector-append", n_bytevector_append, 0, VARIADIC,
     "(bytevector-append bv...)\nReturns the concatenation of the bytevectors."},
    {"bytevector->list", n_bytevector_to_list, 1, 1,
     "(bytevector->list bv)\nReturns the list of the bytes of bv as integers."},
    {"list->bytevector", n_list_to_bytevector, 1, 1,
     "(list->bytevector lst)\nReturns a bytevector of the byte integers in the list lst."},
    {"string->utf8", n_string_to_utf8, 1, 1,
     "(string->utf8 s)\nReturns the UTF-8 encoding of s as a bytevector."},
    {"utf8->string", n_utf8_to_string, 1, 1,
     "(utf8->string bv)\nDecodes the bytevector bv as UTF-8; invalid UTF-8 is an error."},
    {NULL, NULL, 0, 0},
};

void lib_bytevec_init(VM *vm) {
  env_register(vm, defs);
  env_alias(vm, "bytevector/new", "make-bytevector");
  env_alias(vm, "bytevector/make", "make-bytevector");
  env_alias(vm, "bytevector/length", "bytevector-length");
  env_alias(vm, "bytevector/ref", "bytevector-u8-ref");
  env_alias(vm, "bytevector/u8-ref", "bytevector-u8-ref");
  env_alias(vm, "bytevector/set!", "bytevector-u8-set!");
  env_alias(vm, "bytevector/u8-set!", "bytevector-u8-set!");
  env_alias(vm, "bytevector/copy", "bytevector-copy");
  env_alias(vm, "bytevector/append", "bytevector-append");
  env_alias(vm, "bytevector/to-list", "bytevector->list");
  env_alias(vm, "list/to-bytevector", "list->bytevector");
  env_alias(vm, "bytevector/from-list", "list->bytevector");
  env_alias(vm, "string/to-utf8", "string->utf8");
  env_alias(vm, "string->bytevector", "string->utf8");
  env_alias(vm, "utf8/to-string", "utf8->string");
  env_alias(vm, "bytevector->string", "utf8->string");
}
