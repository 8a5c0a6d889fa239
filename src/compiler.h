/* compiler.h - the compilation pipeline as seen from the rest of the runtime. */
#ifndef SEMA_COMPILER_H
#define SEMA_COMPILER_H

#include "vm.h"

/* Mark the special-form names in the symbol table (boot.c, once per VM). */
void analyze_intern_specials(VM *vm);
bool analyze_is_special(VM *vm, Value sym);
/* The special forms by row (SPECIAL_FORMS in analyze.c): name and docstring;
 * the row of SYM, or -1 when it names no special form. */
size_t analyze_special_count(void);
const char *analyze_special_name(size_t i);
const char *analyze_special_doc(size_t i);
int analyze_special_index(VM *vm, Value sym);

/* A function written in Sema (closure, or --interp closure): its name, the
 * parameter list as written and its docstring or nil; false for others. */
bool compile_fn_doc(Value f, Value *name, Value *params, Value *doc);

/* Compile (lambda params body...) and run it to get the transformer closure. */
Value compile_transformer(VM *vm, Value lambda_form, Value name, Value file);
void compile_define_macro(VM *vm, Value name, Value closure);
/* The variables a destructuring pattern binds, in order (a list of symbols). */
Value compile_pattern_names(VM *vm, Value pattern);
/* Strictly destructure: returns a vector of values in pattern_names order. */
Value compile_destructure(VM *vm, Value pattern, Value value);

/* Evaluate a list of forms as one unit (or form by form for load/import). */
Value compile_run_forms(VM *vm, Value forms, Value file, bool form_by_form);
/* Analyze and compile forms without running them (macro transformers do run). */
void compile_forms_only(VM *vm, Value forms, Value file);
/* Register the internal helpers (%eval, %defmacro, ...). */
void compile_register_helpers(VM *vm);
/* Fill vm->helpers from the registered natives (helpers.h); after every module. */
void compile_bind_helpers(VM *vm);

/* ---- evaluation entry points ---- */
/* Read, expand, compile and run a unit of source.  file may be NULL.  At the
 * top level (no frame running) the hook unit_done runs after it (pending
 * async tasks). */
Value compile_eval_string(VM *vm, const char *src, size_t len, const char *file);
/* Read and run built-in source (the prelude's definitions, compiled on first
 * use) in the global environment, whatever module is loading: no file, and
 * no pending tasks run after it, since it may run in the middle of
 * compiling the code that forced it. */
Value compile_eval_builtin(VM *vm, const char *src, size_t len);
/* Evaluate one datum in the global environment (eval). */
Value compile_eval_datum(VM *vm, Value form);
/* Run a file, as one unit or form by form (load, import). */
Value compile_load_file(VM *vm, const char *path, bool form_by_form);
/* PATH relative to the directory of the file being run (or the cwd). */
Value compile_resolve_path(VM *vm, Value path);
/* A fresh symbol PREFIX__N (gensym). */
Value compile_gensym(VM *vm, const char *prefix);

#endif
