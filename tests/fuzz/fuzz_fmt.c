/* fuzz_fmt.c - the formatter (src/cli/fmt.c) on arbitrary bytes.  Checks,
 * besides no crash and no leak:
 *   - accepted input: the output reads back to the same data (fmt_format
 *     checks this itself and says FMT_EINTERNAL otherwise) and formatting the
 *     output again gives it back unchanged (a fixed point);
 *   - input the reader accepts is accepted by the formatter (except for the
 *     formatter's own stricter checks: NUL bytes, long quote-prefix chains).
 * The options come from the input's bytes, so the corpus covers narrow
 * widths, other indents and --align too. */
#include <stdio.h>
#include <stdlib.h>
#include "fuzz_common.h"
#include "../../src/cli/fmt.h"

static VM *vm;

static void read_job(VM *v, void *ud) {
  const StrBuf *s = ud;
  reader_read_all(v, s->data ? s->data : "", s->len);
}

static bool reads(const char *data, size_t size) {
  StrBuf s = {(char *)data, size, size};
  uint32_t roots = vm_roots_mark(vm);
  int rc = vm_protect(vm, read_job, &s);
  vm_roots_reset(vm, roots);
  return rc == 0;
}

static void fail(const char *what, const char *a, size_t alen, const char *b, size_t blen) {
  fprintf(stderr, "fuzz_fmt: %s\n--- input (%zu bytes)\n%.*s\n--- output (%zu bytes)\n%.*s\n", what, alen, (int)alen,
          a, blen, (int)blen, b);
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_vm_begin(&vm);
  unsigned h = 0;
  for (size_t i = 0; i < size; i++) h = h * 31 + data[i];
  static const size_t widths[] = {80, 40, 12, 0};
  static const size_t indents[] = {2, 4, 1, 0};
  FmtOptions o = {widths[h & 3], indents[(h >> 2) & 3], (h >> 4) & 1};
  const char *src = (const char *)data;
  StrBuf out;
  sb_init(&out);
  FmtError err;
  FmtStatus st = fmt_format(vm, src, size, &o, &out, &err);
  if (st == FMT_EINTERNAL) fail("the output does not read back to the input's data", src, size, out.data, out.len);
  if (st == FMT_OK) {
    StrBuf again;
    sb_init(&again);
    FmtStatus st2 = fmt_format(vm, out.data ? out.data : "", out.len, &o, &again, &err);
    if (st2 != FMT_OK) fail(err.msg, out.data, out.len, "", 0);
    if (again.len != out.len || (out.len && memcmp(again.data, out.data, out.len) != 0))
      fail("not a fixed point: formatting the output again changes it", out.data, out.len, again.data, again.len);
    sb_free(&again);
  } else if (!memchr(src, 0, size) && strstr(err.msg, "quote prefixes nested") == NULL && reads(src, size)) {
    fail(err.msg, src, size, "(the reader accepts this input)", 32);
  }
  sb_free(&out);
  fuzz_vm_end(&vm);
  return 0;
}
