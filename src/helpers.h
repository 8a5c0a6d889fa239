/* helpers.h - the runtime helpers that lowered code calls, in one table.
 *
 * The analyzer and forms.c lower some forms to calls of natives that user
 * code cannot name directly (their names start with %, or they are the
 * library's async/spawn and async/await).  Code refers to a helper by its id
 * here, never by a name looked up while compiling: the natives are
 * registered by their modules under the name of their row, and
 * compile_bind_helpers (boot.c, once per VM) stores each one in
 * vm->helpers[id], aborting at start-up if a row has no native.  Lowered
 * code therefore keeps the original helper even if a program rebinds the
 * global name.
 *
 * X(ID, "global name", defining module)
 */
#ifndef SEMA_HELPERS_H
#define SEMA_HELPERS_H

#define SEMA_HELPERS(X)                                      \
  X(EVAL, "%eval", compiler)                                 \
  X(MACROEXPAND, "%macroexpand", compiler)                   \
  X(DEFMACRO, "%defmacro", compiler)                         \
  X(DESTRUCTURE, "%destructure", compiler)                   \
  X(QQ_SPLICE, "%qq-splice", compiler)                       \
  X(QQ_CONCAT, "%qq-concat", compiler)                       \
  X(QQ_VECTOR, "%qq-vector", compiler)                       \
  X(APPLY, "%apply", compiler)                               \
  X(GENSYM, "%gensym", compiler)                             \
  X(MAKE_PROMISE, "%make-promise", compiler)                 \
  X(FORCE, "%force", compiler)                               \
  X(LOAD, "%load", compiler)                                 \
  X(MATCH, "%match", forms)                                  \
  X(MATCH_FAIL, "%match-fail", forms)                        \
  X(VEC_REF, "%vec-ref", forms)                              \
  X(MAKE_RECORD, "%make-record", forms)                      \
  X(RECORD_GET, "%record-get", forms)                        \
  X(RECORD_IS, "%record-is?", forms)                         \
  X(MAKE_MULTI, "%make-multi", forms)                        \
  X(ADD_METHOD, "%add-method", forms)                        \
  X(MODULE_EXPORTS, "%module-exports", forms)                \
  X(IMPORT, "%import", forms)                                \
  X(LOAD_MODULE_FILE, "%load-module-file", forms)            \
  X(ASYNC_SPAWN, "async/spawn", lib/async)                   \
  X(ASYNC_AWAIT, "async/await", lib/async)

typedef enum {
#define X(id, name, module) HELPER_##id,
  SEMA_HELPERS(X)
#undef X
      HELPER__COUNT
} HelperId;

#endif
