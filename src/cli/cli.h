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
/* All of stdin in a malloc'd, NUL-terminated buffer (eval_cmd.c). */
char *cli_read_stdin(size_t *len);
int cli_doc_command(int argc, char **argv); /* `sema doc` (doc.c) */
/* Print what `,doc NAME` shows to OUT (an unbound name: to stderr); false
 * when NAME is not bound. */
bool cli_doc_print(VM *vm, const char *name, FILE *out);

#endif
