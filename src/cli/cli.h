/* cli.h - pieces of the `sema` command shared between its files. */
#ifndef SEMA_CLI_H
#define SEMA_CLI_H

#include "../env.h"
#include "../state.h"
#include "../vm.h"
#include "../compiler.h"

#define SEMA_VERSION "0.1.0"

/* "Error: ..." on stderr, the source line with a caret, the stack trace and the hint. */
void cli_report_error(VM *vm, const char *prefix, const char *src, size_t len, const char *file);
/* Keep SRC under NAME (a REPL entry's "<repl:N>") for the excerpts of later errors. */
void cli_keep_source(const char *name, const char *src, size_t len);
void cli_free_sources(void);
/* The hint shown with ERR: raised with it, or for an unbound name a dialect
 * hint or "Did you mean 'NAME'?"; nil when none. */
Value cli_error_hint(VM *vm, Value err);
int cli_repl(VM *vm, bool quiet);
int cli_eval_command(int argc, char **argv);
/* Append S[0..N) to B as a JSON string literal (common.c). */
void cli_json_string(StrBuf *b, const char *s, size_t n);
/* All of stdin in a malloc'd, NUL-terminated buffer (common.c); a read
 * error leaves ferror(stdin) set. */
char *cli_read_stdin(size_t *len);
/* The source line LINE of SRC[0..LEN) on stderr with a caret under column
 * COL (a window of it when the line is long); nothing when SRC has no such
 * line (common.c). */
void cli_print_excerpt(const char *src, size_t len, long line, long col);
int cli_doc_command(int argc, char **argv); /* `sema doc` (doc.c) */
/* Print what `,doc NAME` shows to OUT (an unbound name: to stderr); false
 * when NAME is not bound. */
bool cli_doc_print(VM *vm, const char *name, FILE *out);

#endif
