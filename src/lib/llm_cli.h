/* llm_cli.h - what the command line needs from the LLM subsystem (llm.md §7.6). */
#ifndef SEMA_LLM_CLI_H
#define SEMA_LLM_CLI_H

#include <stdbool.h>
struct VM;

/* Run (llm/auto-configure) for a new interpreter (reads the environment
 * only).  Returns 1 after printing the error when it fails and report is
 * set (--chat-provider / --chat-model given), else 0. */
int llm_cli_auto_configure(struct VM *vm, bool report);

#endif
