/* interp.h - the reference evaluator: a tree walker over the analyzer's AST
 * (`sema --interp`).  It shares the reader, macro expander, analyzer and the
 * whole library with the VM; only the evaluation of the core forms differs,
 * so the differential test (tests/diff) can compare the two. */
#ifndef SEMA_INTERP_H
#define SEMA_INTERP_H

#include "ast.h"

/* Run every unit of this VM on the evaluator from now on (sema --interp). */
void interp_enable(VM *vm);
/* An analyzed unit's AST and constants must outlive it (closures point into
 * them): take its arena off the VM's stack and keep its roots from roots_from. */
void interp_keep_unit(VM *vm, Unit *u, uint32_t roots_from);
/* Evaluate a top-level node made by analyze_toplevel. */
Value interp_run_toplevel(VM *vm, Node *lam);
/* Free the ASTs kept for interpreted closures (called by vm_free). */
void interp_free(VM *vm);
/* Frame i (0 = outermost) of the evaluator's call stack, for error traces. */
void interp_frame(VM *vm, uint32_t i, const char **name, uint32_t *pos, Value *file);

#endif
