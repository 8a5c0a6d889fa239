/* fmt.h - the source formatter behind `sema fmt` (docs/fmt.md).
 *
 * fmt_format turns Sema source text into its formatted form.  It keeps every
 * comment and blank-line group, never evaluates anything, and checks its own
 * result: the output is read back with the project's reader and must give the
 * same data as the input, otherwise the call fails with FMT_EINTERNAL and no
 * text is produced. */
#ifndef SEMA_CLI_FMT_H
#define SEMA_CLI_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../runtime.h"
#include "../vm.h"

typedef struct FmtOptions {
  size_t width;  /* target line width in UTF-8 bytes (80) */
  size_t indent; /* spaces per nesting level (2) */
  bool align;    /* decorative column alignment (false) */
} FmtOptions;

#define FMT_MAX_WIDTH 100000
#define FMT_MAX_INDENT 100

typedef enum {
  FMT_OK = 0,
  FMT_ESYNTAX,   /* the input is not Sema source the reader accepts; see FmtError */
  FMT_EINTERNAL, /* the formatter's own result did not read back equal (a bug) */
} FmtStatus;

typedef struct FmtError {
  uint32_t line, col; /* 1-based, columns in code points like the reader's; 0 when unknown */
  char msg[600];
} FmtError;

void fmt_default_options(FmtOptions *o);

/* Format src[0..len).  On FMT_OK, out (initialised by the caller) holds the
 * text; otherwise err says why and out is unchanged.  Uses vm's reader and
 * heap (call with no Sema code running; it may collect). */
FmtStatus fmt_format(VM *vm, const char *src, size_t len, const FmtOptions *opt, StrBuf *out, FmtError *err);

/* Do a and b read to the same data?  -1 if either does not read. */
int fmt_same_data(VM *vm, const char *a, size_t alen, const char *b, size_t blen);

/* `sema fmt ...` (argv[1] is "fmt"); returns the exit status. */
int cli_fmt_command(int argc, char **argv);

#endif
