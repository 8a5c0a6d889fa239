/* error.h - raising errors (language.md §10).
 *
 * An error is a sorted map {:type :message :stack-trace ...}, built when it
 * is raised (the trace comes from the frames at that moment).  Every err_
 * function below longjmps to the innermost handler: a `try`, a run level of
 * the VM or a protected call (vm_pcall, vm_protect).  Code between the raise
 * and the handler is abandoned: C code that owns memory outside the heap
 * must release it on that path too (arenas do; see arena.h).
 */
#ifndef SEMA_ERROR_H
#define SEMA_ERROR_H

#include <stdarg.h>
#include <stdint.h>
#include "value.h"

struct VM;
NORETURN void err_throw(struct VM *vm, Value errmap);
NORETURN void err_rethrow(struct VM *vm); /* raise the current error again */
NORETURN void err_eval(struct VM *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
NORETURN void err_type(struct VM *vm, const char *expected, Value got);
NORETURN void err_type_in(struct VM *vm, const char *expected, Value got, const char *fname);
NORETURN void err_type2(struct VM *vm, const char *expected, Value a, Value b);
NORETURN void err_arity(struct VM *vm, const char *name, const char *expects, int got);
NORETURN void err_unbound(struct VM *vm, Value sym);
NORETURN void err_io(struct VM *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
NORETURN void err_user(struct VM *vm, Value thrown);
NORETURN void err_reader(struct VM *vm, uint32_t line, uint32_t col, const char *msg);
/* in_string: the text came from `read` at run time (shown as <eval>) */
NORETURN void err_reader_in(struct VM *vm, uint32_t line, uint32_t col, bool in_string, const char *msg);
NORETURN void err_nonneg(struct VM *vm, const char *fname, Value got);
/* A hint for the error about to be raised: shown by the CLI, not part of the map. */
void err_hint(struct VM *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Build the error map of kind KW with message (no raise). */
Value err_make(struct VM *vm, const char *kind, Value message);
/* "Eval error: ...", "Reader error at L:C: ..." (without the "Error: " prefix) */
Value err_display(struct VM *vm, Value err);
/* Invisible characters in messages: err_is_invisible says which (controls,
 * format characters such as U+FEFF, separators, spaces but U+0020);
 * err_describe_char writes 'x' or U+XXXX; err_escaped copies s (valid
 * UTF-8) with each invisible character as <U+XXXX>. */
bool err_is_invisible(uint32_t c);
void err_describe_char(uint32_t c, char *buf, size_t size);
Value err_escaped(struct VM *vm, const char *s, size_t n);
/* Raise "stack overflow" if the C stack is close to exhaustion (natives that
 * recurse in C call this). */
void err_check_c_stack(struct VM *vm);

#endif
