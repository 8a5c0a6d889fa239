/* strbuf.c - growable byte buffers for building strings in C. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime.h"

/* Two kinds of buffer.  Bound to a VM (sb_init_vm): the bytes are a counted
 * C block (gc.c), so growing past the heap limit raises the catchable "out
 * of memory" error, and an error that aborts the operation building the
 * buffer frees it (the block is registered for unwinding).  Plain
 * (sb_init): malloc'd, for threads that have no VM (the HTTP client's
 * workers); there a failed malloc is fatal, as in any C program. */
void sb_init(StrBuf *b) {
  b->data = NULL;
  b->len = b->cap = 0;
  b->vm = NULL;
  b->depth = 0;
}
void sb_init_vm(StrBuf *b, VM *vm) {
  b->data = NULL;
  b->len = b->cap = 0;
  b->vm = vm;
  b->depth = 0;
}
void sb_free(StrBuf *b) {
  VM *vm = b->vm;
  if (vm)
    gc_tmp_free(vm, b->data);
  else
    free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
static void sb_grow(StrBuf *b, size_t extra) {
  if (extra > SIZE_MAX / 2 - b->len) {
    if (b->vm) gc_oom(b->vm, SIZE_MAX);
    abort();
  }
  size_t need = b->len + extra + 1;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap *= 2;
  if (b->vm) {
    /* near the limit, doubling would fail where the data still fits: take
     * what is needed plus half of the room beyond it instead, so growth
     * stays geometric (each step halves the room left) rather than one
     * realloc, and one copy of the whole buffer, per append: appending
     * 1 MB pieces under a 64 MB limit copied 1.5 GB that way (22 s under
     * ASan, whose realloc always moves) */
    if (cap > need && !gc_has_room(b->vm, cap - b->cap)) {
      size_t room = gc_room(b->vm), more = need - b->cap;
      cap = need + (room > more ? (room - more) / 2 : 0);
    }
    b->data = gc_tmp_realloc(b->vm, b->data, cap);
  } else {
    b->data = realloc(b->data, cap);
    if (!b->data) abort();
  }
  b->cap = cap;
}
void sb_reserve(StrBuf *b, size_t extra) {
  if (b->len + extra + 1 > b->cap) sb_grow(b, extra);
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
  /* a bound buffer is freed by the unwinding if str_new raises; a plain one first */
  if (!b->vm && !gc_can_alloc(vm, b->len + sizeof(String))) {
    size_t n = b->len;
    sb_free(b);
    gc_oom(vm, n + sizeof(String));
  }
  Value v = str_new(vm, b->data ? b->data : "", b->len);
  sb_free(b);
  return v;
}

/* Append bytes decoded as UTF-8, each maximal invalid subpart replaced by U+FFFD. */
void sb_add_lossy(StrBuf *b, const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      size_t j = i + 1;
      while (j < n && s[j] < 0x80) j++;
      sb_add(b, (const char *)s + i, j - i);
      i = j;
      continue;
    }
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
      need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      sb_add_utf8(b, 0xFFFD);
      i++;
      continue;
    }
    size_t k = 1;
    while (k <= need && i + k < n) {
      unsigned char d = s[i + k];
      unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (d < l || d > h) break;
      k++;
    }
    if (k == need + 1) {
      sb_add(b, (const char *)s + i, k);
    } else {
      sb_add_utf8(b, 0xFFFD);
    }
    i += k;
  }
}
