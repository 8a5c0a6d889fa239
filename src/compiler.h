/* compiler.h - the compilation pipeline as seen from the rest of the runtime. */
#ifndef SEMA_COMPILER_H
#define SEMA_COMPILER_H

#include "vm.h"

/* Intern the special-form names; must run first on a new VM. */
void compiler_intern_specials(VM *vm);
bool is_special_form(Value sym);

/* Compile (lambda params body...) and run it to get the transformer closure. */
Value compile_transformer(VM *vm, Value lambda_form, Value name, Value file);
void define_macro(VM *vm, Value name, Value closure);
/* The variables a destructuring pattern binds, in order (a list of symbols). */
Value pattern_names(VM *vm, Value pattern);
/* Strictly destructure: returns a vector of values in pattern_names order. */
Value destructure(VM *vm, Value pattern, Value value);

/* Read a whole file into a malloc'd NUL-terminated buffer; NULL with errno in *err. */
char *read_file(const char *path, size_t *len, int *err);

/* Evaluate a list of forms as one unit (or form by form for load/import). */
Value compile_and_run_forms(VM *vm, Value forms, Value file, bool form_by_form);
/* Analyze and compile forms without running them (macro transformers do run). */
void compile_forms_only(VM *vm, Value forms, Value file);
/* Register the internal helpers (%eval, %defmacro, ...). */
void compiler_register_helpers(VM *vm);

#endif
