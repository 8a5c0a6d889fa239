/* string.c - immutable UTF-8 strings: byte length, character count, an
 * ASCII flag (O(1) indexing when set) and a lazily computed hash. */
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>
#include "runtime.h"

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
  size_t n = utf8_ascii_prefix(s->data, s->len);
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
