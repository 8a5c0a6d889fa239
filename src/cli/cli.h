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
int cli_repl(VM *vm, bool quiet);
int cli_eval_command(int argc, char **argv);

#endif
