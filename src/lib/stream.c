/* stream.c - byte streams (stdlib.md §29) and the with-stream macro.
 *
 * A stream is a Foreign object (identity semantics) whose ptr is a Stream.
 * In-memory kinds keep their bytes in a malloc'd buffer with a read cursor;
 * file kinds wrap a FILE.  *stdin* reads the C stdin FILE, so it shares its
 * buffer with the line readers of io.c; *stdout* and *stderr* write through
 * vm_write / vm_write_err, keeping their order with display and println.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib.h"
#include "../compiler.h"

enum { K_BUF, K_STRING, K_FILE_IN, K_FILE_OUT, K_STDIN, K_STDOUT, K_STDERR };
static const char *const kind_names[] = {"byte-buffer", "string", "file-input", "file-output", "stdin", "stdout", "stderr"};

typedef struct {
  int kind;
  bool closed;
  uint8_t *data; /* K_BUF, K_STRING */
  size_t len, cap, pos;
  FILE *fp;   /* K_FILE_IN, K_FILE_OUT, K_STDIN */
  char *path; /* file kinds, for error messages */
} Stream;

#define BV_MAX ((size_t)0x7fffffff)

static bool readable(const Stream *s) { return s->kind == K_BUF || s->kind == K_STRING || s->kind == K_FILE_IN || s->kind == K_STDIN; }
static bool writable(const Stream *s) { return s->kind == K_BUF || s->kind == K_FILE_OUT || s->kind == K_STDOUT || s->kind == K_STDERR; }
static bool in_memory(const Stream *s) { return s->kind == K_BUF || s->kind == K_STRING; }

static void stream_finalize(Foreign *f) {
  Stream *s = f->ptr;
  if (s->fp && s->kind != K_STDIN) fclose(s->fp);
  free(s->data);
  free(s->path);
  free(s);
}

static void stream_print(VM *vm, StrBuf *b, Foreign *f) {
  sb_addf(b, "<stream:%s>", kind_names[((Stream *)f->ptr)->kind]);
}

static const ForeignClass stream_class = {
    .name = "stream",
    .finalize = stream_finalize,
    .print = stream_print,
    .order = 16,
};

static Value stream_new(VM *vm, int kind, const void *data, size_t len) {
  Stream *s = calloc(1, sizeof *s);
  if (!s) err_eval(vm, "stream: out of memory");
  s->kind = kind;
  if (len) {
    s->data = malloc(len);
    if (!s->data) {
      free(s);
      err_eval(vm, "stream: out of memory");
    }
    memcpy(s->data, data, len);
    s->len = s->cap = len;
  }
  return obj_foreign(vm, &stream_class, s, NIL_VAL);
}

static Stream *arg_stream(VM *vm, Value v) {
  if (!obj_is_foreign(v, &stream_class)) err_type(vm, "stream", v);
  return ((Foreign *)as_obj(v))->ptr;
}

/* the stream of argument V, open (and readable / writable when asked) */
static Stream *open_stream(VM *vm, Value v, const char *fname) {
  Stream *s = arg_stream(vm, v);
  if (s->closed) err_eval(vm, "%s: stream is closed", fname);
  return s;
}
static Stream *reader(VM *vm, Value v, const char *fname) {
  Stream *s = open_stream(vm, v, fname);
  if (!readable(s)) err_eval(vm, "%s: stream is write-only (%s stream)", fname, kind_names[s->kind]);
  return s;
}
static Stream *writer(VM *vm, Value v, const char *fname) {
  Stream *s = open_stream(vm, v, fname);
  if (!writable(s)) err_eval(vm, "%s: stream is read-only (%s stream)", fname, kind_names[s->kind]);
  return s;
}

static Bytevec *arg_bv(VM *vm, Value v) {
  if (!is_objtype(v, OBJ_BYTEVEC)) err_type(vm, "bytevector", v);
  return (Bytevec *)as_obj(v);
}

static NORETURN void file_error(VM *vm, Stream *s, const char *fname, int err) {
  err_io(vm, "%s: %s: %s", fname, s->path ? s->path : kind_names[s->kind], strerror(err));
}

/* ---- primitive reads and writes ---- */

/* next byte, or -1 at end of input */
static int get_byte(VM *vm, Stream *s, const char *fname) {
  if (in_memory(s)) return s->pos < s->len ? s->data[s->pos++] : -1;
  int c = getc(s->fp);
  if (c == EOF && ferror(s->fp)) {
    clearerr(s->fp);
    file_error(vm, s, fname, errno);
  }
  return c == EOF ? -1 : c;
}

/* append up to n bytes to b; returns the count (short only at end of input) */
static size_t get_bytes(VM *vm, Stream *s, size_t n, StrBuf *b, const char *fname) {
  if (in_memory(s)) {
    size_t k = s->len - s->pos < n ? s->len - s->pos : n;
    if (k) sb_add(b, (const char *)s->data + s->pos, k);
    s->pos += k;
    return k;
  }
  size_t total = 0;
  char chunk[8192];
  while (total < n) {
    size_t want = n - total < sizeof chunk ? n - total : sizeof chunk;
    size_t got = fread(chunk, 1, want, s->fp);
    if (got) sb_add(b, chunk, got);
    total += got;
    if (got < want) {
      if (ferror(s->fp)) {
        int e = errno;
        clearerr(s->fp);
        sb_free(b);
        file_error(vm, s, fname, e);
      }
      break;
    }
  }
  return total;
}

static void put_bytes(VM *vm, Stream *s, const void *p, size_t n, const char *fname) {
  if (!n) return;
  switch (s->kind) {
  case K_BUF:
    if (s->len + n > s->cap) {
      size_t cap = s->cap ? s->cap : 64;
      while (cap < s->len + n) cap *= 2;
      uint8_t *d = realloc(s->data, cap);
      if (!d) err_eval(vm, "%s: out of memory", fname);
      s->data = d;
      s->cap = cap;
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
    return;
  case K_FILE_OUT:
    if (fwrite(p, 1, n, s->fp) != n) file_error(vm, s, fname, errno);
    return;
  case K_STDOUT: vm_write(vm, p, n); return;
  case K_STDERR: vm_write_err(vm, p, n); return;
  default: return;
  }
}

/* Is there unread data in the buffer (without blocking)? */
static bool has_buffered(const Stream *s) {
  if (in_memory(s)) return s->pos < s->len;
#ifdef __GLIBC__
  if (s->fp) return s->fp->_IO_read_ptr < s->fp->_IO_read_end;
#endif
  return false;
}

static Value bytes_value(VM *vm, StrBuf *b, const char *fname) {
  if (b->len > BV_MAX) {
    sb_free(b);
    err_eval(vm, "%s: too many bytes for a bytevector", fname);
  }
  Value r = obj_bytevec(vm, (const uint8_t *)b->data, b->len);
  sb_free(b);
  return r;
}

/* ---- natives ---- */

static Value n_streamp(VM *vm, int argc, Value *argv) { return bool_val(obj_is_foreign(argv[0], &stream_class)); }

static Value n_byte_buffer(VM *vm, int argc, Value *argv) { return stream_new(vm, K_BUF, NULL, 0); }

static Value n_from_string(VM *vm, int argc, Value *argv) {
  Value str = arg_string(vm, argv[0]);
  return stream_new(vm, K_STRING, str_data(str), str_len(str));
}

static Value n_from_bytes(VM *vm, int argc, Value *argv) {
  Bytevec *bv = arg_bv(vm, argv[0]);
  return stream_new(vm, K_BUF, bv->data, bv->len);
}

static Value open_file(VM *vm, Value path, int kind, const char *fname) {
  arg_string(vm, path);
  const char *p = str_data(path);
  if (memchr(p, 0, str_len(path))) err_eval(vm, "%s: %s: path contains a NUL byte", fname, p);
  FILE *fp = fopen(p, kind == K_FILE_IN ? "rb" : "wb");
  if (!fp) err_eval(vm, "%s: %s: %s", fname, p, strerror(errno));
  Value v = stream_new(vm, kind, NULL, 0);
  Stream *s = ((Foreign *)as_obj(v))->ptr;
  s->fp = fp;
  s->path = strdup(p);
  return v;
}

static Value n_open_input(VM *vm, int argc, Value *argv) { return open_file(vm, argv[0], K_FILE_IN, "stream/open-input"); }
static Value n_open_output(VM *vm, int argc, Value *argv) { return open_file(vm, argv[0], K_FILE_OUT, "stream/open-output"); }

static Value n_read(VM *vm, int argc, Value *argv) {
  Stream *s = reader(vm, argv[0], "stream/read");
  if (!is_int(argv[1])) err_type(vm, "int", argv[1]);
  int64_t n = int_of(argv[1]);
  if (n < 0) err_nonneg(vm, "stream/read", argv[1]);
  if ((uint64_t)n > BV_MAX) n = (int64_t)BV_MAX;
  StrBuf b;
  sb_init_vm(&b, vm);
  get_bytes(vm, s, (size_t)n, &b, "stream/read");
  return bytes_value(vm, &b, "stream/read");
}

static Value n_read_byte(VM *vm, int argc, Value *argv) {
  Stream *s = reader(vm, argv[0], "stream/read-byte");
  int c = get_byte(vm, s, "stream/read-byte");
  return c < 0 ? NIL_VAL : small_int_val(c);
}

static Value n_read_line(VM *vm, int argc, Value *argv) {
  Stream *s = reader(vm, argv[0], "stream/read-line");
  StrBuf b;
  sb_init_vm(&b, vm);
  int c;
  bool any = false;
  if (in_memory(s)) {
    if (s->pos >= s->len) return NIL_VAL;
    const uint8_t *start = s->data + s->pos, *nl = memchr(start, '\n', s->len - s->pos);
    size_t k = nl ? (size_t)(nl - start) : s->len - s->pos;
    sb_add(&b, (const char *)start, k);
    s->pos += k + (nl != NULL);
    any = true;
  } else {
    while ((c = get_byte(vm, s, "stream/read-line")) >= 0) {
      any = true;
      if (c == '\n') break;
      sb_addc(&b, (char)c);
    }
  }
  if (!any) {
    sb_free(&b);
    return NIL_VAL;
  }
  if (b.len && b.data[b.len - 1] == '\r') b.len--;
  if (!utf8_valid(b.data ? b.data : "", b.len, NULL)) {
    sb_free(&b);
    err_io(vm, "stream/read-line: stream did not contain valid UTF-8");
  }
  return sb_to_string(vm, &b);
}

static Value n_read_all(VM *vm, int argc, Value *argv) {
  Stream *s = reader(vm, argv[0], "stream/read-all");
  StrBuf b;
  sb_init_vm(&b, vm);
  get_bytes(vm, s, SIZE_MAX, &b, "stream/read-all");
  return bytes_value(vm, &b, "stream/read-all");
}

static Value n_write(VM *vm, int argc, Value *argv) {
  Stream *s = writer(vm, argv[0], "stream/write");
  Bytevec *bv = arg_bv(vm, argv[1]);
  put_bytes(vm, s, bv->data, bv->len, "stream/write");
  return small_int_val(bv->len);
}

static Value n_write_byte(VM *vm, int argc, Value *argv) {
  Stream *s = writer(vm, argv[0], "stream/write-byte");
  if (!is_int(argv[1])) err_type(vm, "int", argv[1]);
  int64_t b = int_of(argv[1]);
  if (b < 0 || b > 255) err_eval(vm, "stream/write-byte: byte value %lld out of range 0..255", (long long)b);
  uint8_t c = (uint8_t)b;
  put_bytes(vm, s, &c, 1, "stream/write-byte");
  return NIL_VAL;
}

static Value n_write_string(VM *vm, int argc, Value *argv) {
  Stream *s = writer(vm, argv[0], "stream/write-string");
  Value str = arg_string(vm, argv[1]);
  put_bytes(vm, s, str_data(str), str_len(str), "stream/write-string");
  return num_int(vm, (int64_t)str_len(str));
}

static Value n_available(VM *vm, int argc, Value *argv) {
  Stream *s = open_stream(vm, argv[0], "stream/available?");
  return bool_val(readable(s) && has_buffered(s));
}

static Value n_readable(VM *vm, int argc, Value *argv) { return bool_val(readable(arg_stream(vm, argv[0]))); }
static Value n_writable(VM *vm, int argc, Value *argv) { return bool_val(writable(arg_stream(vm, argv[0]))); }
static Value n_type(VM *vm, int argc, Value *argv) { return str_from_c(vm, kind_names[arg_stream(vm, argv[0])->kind]); }

static void flush_stream(VM *vm, Stream *s, const char *fname) {
  if (s->kind == K_FILE_OUT) {
    if (fflush(s->fp) != 0) file_error(vm, s, fname, errno);
  } else if (s->kind == K_STDOUT || s->kind == K_STDERR) {
    vm_flush(vm);
  }
}

static Value n_flush(VM *vm, int argc, Value *argv) {
  flush_stream(vm, open_stream(vm, argv[0], "stream/flush"), "stream/flush");
  return NIL_VAL;
}

static Value n_close(VM *vm, int argc, Value *argv) {
  Stream *s = arg_stream(vm, argv[0]);
  if (s->closed) return NIL_VAL;
  s->closed = true;
  if (s->kind == K_STDOUT || s->kind == K_STDERR) flush_stream(vm, s, "stream/close");
  if (s->fp && s->kind != K_STDIN) {
    FILE *fp = s->fp;
    s->fp = NULL;
    if (fclose(fp) != 0) file_error(vm, s, "stream/close", errno);
  }
  return NIL_VAL;
}

static Value n_copy(VM *vm, int argc, Value *argv) {
  Stream *src = reader(vm, argv[0], "stream/copy");
  Stream *dst = writer(vm, argv[1], "stream/copy");
  int64_t total = 0;
  if (in_memory(src)) { /* what is there now (the source may be the destination) */
    size_t n = src->len - src->pos;
    StrBuf b;
    sb_init_vm(&b, vm);
    get_bytes(vm, src, n, &b, "stream/copy");
    put_bytes(vm, dst, b.data, b.len, "stream/copy");
    sb_free(&b);
    return num_int(vm, (int64_t)n);
  }
  for (;;) {
    StrBuf b;
    sb_init_vm(&b, vm);
    size_t got = get_bytes(vm, src, 65536, &b, "stream/copy");
    put_bytes(vm, dst, b.data, b.len, "stream/copy");
    sb_free(&b);
    total += (int64_t)got;
    if (got < 65536) break;
  }
  return num_int(vm, total);
}

static Stream *byte_buffer(VM *vm, Value v, const char *fname) {
  Stream *s = arg_stream(vm, v);
  if (s->kind != K_BUF) err_eval(vm, "%s: expected byte-buffer stream, got %s stream", fname, kind_names[s->kind]);
  if (s->closed) err_eval(vm, "%s: stream is closed", fname);
  return s;
}

static Value n_to_bytes(VM *vm, int argc, Value *argv) {
  Stream *s = byte_buffer(vm, argv[0], "stream/to-bytes");
  if (s->len > BV_MAX) err_eval(vm, "stream/to-bytes: too many bytes for a bytevector");
  return obj_bytevec(vm, s->data, s->len);
}

static Value n_to_string(VM *vm, int argc, Value *argv) {
  Stream *s = byte_buffer(vm, argv[0], "stream/to-string");
  const char *p = s->data ? (const char *)s->data : "";
  if (!utf8_valid(p, s->len, NULL)) err_io(vm, "stream/to-string: stream did not contain valid UTF-8");
  return str_new(vm, p, s->len);
}

/* (with-stream (var expr) body ...) =>
 *   (let ((var expr))
 *     (let ((R (try (begin body ...) (catch E (stream/close var) (throw E)))))
 *       (stream/close var)
 *       R))
 * R and E have names no program can write. */
static Value n_with_stream(VM *vm, int argc, Value *argv) {
  Value spec = argv[0];
  Value var, expr;
  if (is_vector(spec) && vec_len(spec) == 2) {
    var = vec_items(spec)[0];
    expr = vec_items(spec)[1];
  } else if (is_cons(spec) && list_length(spec) == 2) {
    var = car(spec);
    expr = car(cdr(spec));
  } else
    err_eval(vm, "with-stream: expected a binding (var expr)");
  if (!is_sym(var)) err_type_in(vm, "symbol", var, "with-stream");
  Value r = SYM(vm, " with-stream-result"), e = SYM(vm, " with-stream-error");
  Value close = SYM(vm, "stream/close");
  Value body = list_from(vm, argv + 1, (size_t)(argc - 1));
  Value handler = list_n(vm, 4, SYM(vm, "catch"), e, list_2(vm, close, var), list_2(vm, SYM(vm, "throw"), e));
  Value tryf = list_3(vm, SYM(vm, "try"), list_cons(vm, SYM(vm, "begin"), body), handler);
  Value inner = list_n(vm, 4, SYM(vm, "let"), list_1(vm, list_2(vm, r, tryf)), list_2(vm, close, var), r);
  return list_3(vm, SYM(vm, "let"), list_1(vm, list_2(vm, var, expr)), inner);
}

static const NativeDef defs[] = {
    {"stream?", n_streamp, 1, 1,
     "(stream? x)\nReturns #t when x is a stream."},
    {"stream/byte-buffer", n_byte_buffer, 0, 0,
     "(stream/byte-buffer)\nReturns a new empty in-memory stream that can be written and read back."},
    {"stream/from-string", n_from_string, 1, 1,
     "(stream/from-string s)\nReturns a read-only stream of the UTF-8 bytes of the string s."},
    {"stream/from-bytes", n_from_bytes, 1, 1,
     "(stream/from-bytes bv)\nReturns a byte-buffer stream holding the bytes of bv, positioned at the start."},
    {"stream/open-input", n_open_input, 1, 1,
     "(stream/open-input path)\nOpens the file at path for reading and returns its stream; failure is an error naming"
     " the path."},
    {"stream/open-output", n_open_output, 1, 1,
     "(stream/open-output path)\nCreates or truncates the file at path and returns a stream writing to it."},
    {"stream/read", n_read, 2, 2,
     "(stream/read s n)\nReads up to n bytes from the stream s and returns them as a bytevector (shorter at the end, "
     "#u8() at end of input)."},
    {"stream/read-byte", n_read_byte, 1, 1,
     "(stream/read-byte s)\nReturns the next byte of the stream s as an integer, or nil at end of input."},
    {"stream/read-line", n_read_line, 1, 1,
     "(stream/read-line s)\nReads up to the next \\n (not included, a \\r before it dropped) and returns the bytes "
     "decoded as UTF-8; nil at end of input."},
    {"stream/read-all", n_read_all, 1, 1,
     "(stream/read-all s)\nReturns all the remaining bytes of the stream s as a bytevector."},
    {"stream/write", n_write, 2, 2,
     "(stream/write s bv)\nWrites the bytevector bv to the stream s and returns the number of bytes written; a "
     "read-only stream is an error."},
    {"stream/write-byte", n_write_byte, 2, 2,
     "(stream/write-byte s b)\nWrites the byte b to the stream s; returns nil."},
    {"stream/write-string", n_write_string, 2, 2,
     "(stream/write-string s str)\nWrites the UTF-8 bytes of str to the stream s and returns their number."},
    {"stream/available?", n_available, 1, 1,
     "(stream/available? s)\nReturns #t when the stream s holds unread buffered data."},
    {"stream/readable?", n_readable, 1, 1,
     "(stream/readable? s)\nReturns #t when the stream s can be read (string, byte-buffer, file-input and stdin "
     "streams)."},
    {"stream/writable?", n_writable, 1, 1,
     "(stream/writable? s)\nReturns #t when the stream s can be written (byte-buffer, file-output, stdout and stderr "
     "streams)."},
    {"stream/type", n_type, 1, 1,
     "(stream/type s)\nReturns the kind of the stream s as a string (\"string\", \"byte-buffer\", \"file-input\", "
     "...)."},
    {"stream/flush", n_flush, 1, 1,
     "(stream/flush s)\nFlushes what was written to the stream s; returns nil."},
    {"stream/close", n_close, 1, 1,
     "(stream/close s)\nCloses the stream s, flushing a file-output stream; returns nil."},
    {"stream/copy", n_copy, 2, 2,
     "(stream/copy src dst)\nCopies the stream src into the stream dst until the end of src; returns the number of "
     "bytes copied."},
    {"stream/to-bytes", n_to_bytes, 1, 1,
     "(stream/to-bytes s)\nReturns the whole contents of the byte-buffer stream s as a bytevector, whatever was read "
     "already."},
    {"stream/to-string", n_to_string, 1, 1,
     "(stream/to-string s)\nReturns the whole contents of the byte-buffer stream s decoded as UTF-8."},
    {NULL, NULL, 0, 0},
};

static Value std_stream(VM *vm, int kind, FILE *fp) {
  Value v = stream_new(vm, kind, NULL, 0);
  ((Stream *)((Foreign *)as_obj(v))->ptr)->fp = fp;
  return v;
}

void lib_stream_init(VM *vm) {
  env_register(vm, defs);
  env_define_doc(vm, "*stdin*", std_stream(vm, K_STDIN, stdin),
                 "*stdin*\nThe stream of the standard input (readable).");
  env_define_doc(vm, "*stdout*", std_stream(vm, K_STDOUT, NULL),
                 "*stdout*\nThe stream of the standard output (writable), where print and println write.");
  env_define_doc(vm, "*stderr*", std_stream(vm, K_STDERR, NULL),
                 "*stderr*\nThe stream of the standard error (writable).");
  Value with_stream = obj_native(vm, "with-stream", n_with_stream, 1, VARIADIC);
  as_native(with_stream)->doc =
      "(with-stream (var expr) body...)\nBinds var to the stream expr returns, evaluates the body and returns its "
      "value, closing the stream afterwards, also when the body raises (the error is raised again).";
  compile_define_macro(vm, SYM(vm, "with-stream"), with_stream);
}
