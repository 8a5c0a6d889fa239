/* env.h - environments and global cells, as the VM and the front end see
 * them (env.c).  Library modules use the subset in vm.h. */
#ifndef SEMA_ENV_H
#define SEMA_ENV_H

#include "state.h"
#include "vm.h"

void env_init(Env *e, Env *parent);
void env_free(Env *e);
/* The cell of SYM in ENV, created when create is set (a module's new cell
 * falls back to the global cell of the same name while unbound); -1 if
 * absent and not created. */
int32_t env_lookup(VM *vm, Env *env, Value sym, bool create);
int32_t env_global_cell(VM *vm, Value sym); /* find or create in the global env */
/* Read a cell as compiled code does: raises "Unbound variable" when unbound. */
Value env_global_value(VM *vm, uint32_t cell);
/* The slow path of a read: the module fallback, else the unbound error. */
Value env_global_unbound(VM *vm, uint32_t cell);
/* CELL has a value (directly, or a module cell's fallback). */
bool env_global_bound(VM *vm, uint32_t cell);
/* The analyzer compiled a reference to NAME (a global unbound at that time)
 * at line LINE with the locals LOCALS[0..N) in scope: kept (the last few
 * hundred such references) so that an unbound-variable error can suggest a
 * close local ("Did you mean"). */
void env_note_unbound(VM *vm, Value name, uint32_t line, const Value *locals, uint32_t n);
/* The value a macro lookup or a reference sees in CELL: its own, else a
 * module cell's fallback, else UNBOUND_VAL; a lazy definition is run first. */
Value env_global_peek(VM *vm, uint32_t cell);
/* Store into a cell; storing another value into a cell whose builtin was
 * compiled to instructions deoptimizes every one of them first. */
void env_set_global(VM *vm, int32_t cell, Value v);

#endif
