/* interp.h - the reference evaluator: a tree walker over the analyzer's AST
 * (`sema --interp`).  It shares the reader, macro expander, analyzer and the
 * whole library with the VM; only the evaluation of the core forms differs,
 * so the differential test (tests/diff) can compare the two. */
#ifndef SEMA_INTERP_H
#define SEMA_INTERP_H

#include "vm.h"

/* Analyze and evaluate a unit (the VM's compile_and_run_forms when vm->interp). */
Value interp_run_forms(VM *vm, Value forms, Value file, bool form_by_form);
/* Free the ASTs kept for interpreted closures (called by vm_free). */
void interp_free(VM *vm);
/* Frame i (0 = outermost) of the evaluator's call stack, for error traces. */
void interp_frame(VM *vm, uint32_t i, const char **name, uint32_t *pos, Value *file);

#endif
