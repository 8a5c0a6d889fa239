/* env.c - environments and global cells.
 *
 * Every global variable is a cell in one array (vm->globals); compiled code
 * names a cell by its index, so a global read is one load and an unbound
 * check.  An environment maps symbol ids to cells: the global environment,
 * and one per module, whose cells fall back to the global cell of the same
 * name while unbound.  Storing into a cell whose builtin was compiled to
 * instructions deoptimizes them (vm.c, "DEOPT").
 *
 * Lazy globals.  The prelude's macros are Sema source; reading and compiling
 * all of them was 62% of the instructions of `sema -e 1` (docs/design.md,
 * "Lazy prelude").  So a cell can wait with CELL_LAZY: unbound, its doc
 * already set, the definition compiled by hooks.define_lazy the first time
 * anything reads the cell.  Every read of an unbound cell already leaves the
 * fast path (GETGLOBAL's UNBOUND test, env_global_unbound, env_global_bound,
 * env_global_peek, env_get, env_global_at), so the test costs nothing on
 * bound cells.  Invariant: a cell with CELL_LAZY holds UNBOUND_VAL; any
 * store clears the flag (a user's definition wins over the waiting one).
 */
#include <stdlib.h>
#include <string.h>
#include "opcodes.h"
#include "env.h"
#include "runtime.h"
#include "state.h"
#include "vm.h"

void env_init(Env *e, Env *parent) {
  memset(e, 0, sizeof *e);
  e->parent = parent;
  e->exports = NIL_VAL;
}

void env_free(Env *e) {
  free(e->keys);
  free(e->cells);
}


static int32_t new_cell(VM *vm, Value sym) {
  if (vm->nglobals == vm->capglobals) {
    vm->capglobals = vm->capglobals ? vm->capglobals * 2 : 1024;
    vm->globals = realloc(vm->globals, vm->capglobals * sizeof(GlobalCell));
    if (!vm->globals) abort();
  }
  GlobalCell *g = &vm->globals[vm->nglobals];
  g->value = UNBOUND_VAL;
  g->name = sym;
  g->fallback = -1;
  g->flags = 0;
  g->doc = NULL;
  return (int32_t)vm->nglobals++;
}

static void env_rehash(Env *e) {
  uint32_t cap = e->cap ? e->cap * 2 : 256;
  uint32_t *keys = calloc(cap, sizeof *keys);
  int32_t *cells = calloc(cap, sizeof *cells);
  if (!keys || !cells) abort();
  for (uint32_t i = 0; i < e->cap; i++) {
    if (!e->keys[i]) continue;
    uint32_t j = (e->keys[i] * 2654435761u) & (cap - 1);
    while (keys[j]) j = (j + 1) & (cap - 1);
    keys[j] = e->keys[i];
    cells[j] = e->cells[i];
  }
  free(e->keys);
  free(e->cells);
  e->keys = keys;
  e->cells = cells;
  e->cap = cap;
}

static int32_t env_find(Env *e, uint32_t id) {
  if (!e->cap) return -1;
  uint32_t key = id + 1;
  uint32_t j = (key * 2654435761u) & (e->cap - 1);
  while (e->keys[j]) {
    if (e->keys[j] == key) return e->cells[j];
    j = (j + 1) & (e->cap - 1);
  }
  return -1;
}

static void env_insert(Env *e, uint32_t id, int32_t cell) {
  if ((e->count + 1) * 2 > e->cap) env_rehash(e);
  uint32_t key = id + 1;
  uint32_t j = (key * 2654435761u) & (e->cap - 1);
  while (e->keys[j] && e->keys[j] != key) j = (j + 1) & (e->cap - 1);
  if (!e->keys[j]) e->count++;
  e->keys[j] = key;
  e->cells[j] = cell;
}

/* Find the cell for sym in env; module envs get their own cell that falls
 * back to the global one while unbound. */
int32_t env_lookup(VM *vm, Env *env, Value sym, bool create) {
  int32_t c = env_find(env, sym_id(sym));
  if (c >= 0 || !create) {
    if (c < 0 && env->parent) return env_lookup(vm, env->parent, sym, false);
    return c;
  }
  c = new_cell(vm, sym);
  if (env->parent) vm->globals[c].fallback = env_lookup(vm, env->parent, sym, true);
  env_insert(env, sym_id(sym), c);
  return c;
}

int32_t env_global_cell(VM *vm, Value sym) { return env_lookup(vm, &vm->genv, sym, true); }

void env_define_lazy(VM *vm, const char *name) {
  int32_t c = env_global_cell(vm, SYM(vm, name));
  if (vm->globals[c].value == UNBOUND_VAL) vm->globals[c].flags |= CELL_LAZY;
}

/* Run CELL's waiting definition.  The flag goes first, so a definition that
 * reads its own name (or fails) does not come back here; the doc set at
 * start-up describes the value the definition binds, so it is put back after
 * the store that dropped it.  An error propagates (vm->env is restored by the
 * handler that catches it) and leaves the cell unbound. */
static void force_cell(VM *vm, uint32_t cell) {
  GlobalCell *g = &vm->globals[cell];
  g->flags &= (uint16_t)~CELL_LAZY;
  if (!vm->hooks.define_lazy) return;
  bool had_doc = g->flags & CELL_DOC;
  const char *doc = g->doc;
  Value name = g->name;
  vm->hooks.define_lazy(vm, name);
  g = &vm->globals[cell]; /* the definition may have grown the array */
  if (had_doc && g->value != UNBOUND_VAL) {
    g->doc = doc;
    g->flags |= CELL_DOC;
  }
}

static inline void force_if_lazy(VM *vm, int32_t cell) {
  if (cell >= 0 && UNLIKELY(vm->globals[cell].flags & CELL_LAZY)) force_cell(vm, (uint32_t)cell);
}

void env_force_all(VM *vm) {
  for (uint32_t i = 0; i < vm->nglobals; i++) force_if_lazy(vm, (int32_t)i);
}

Value env_global_peek(VM *vm, uint32_t cell) {
  force_if_lazy(vm, (int32_t)cell);
  GlobalCell *g = &vm->globals[cell];
  if (g->value != UNBOUND_VAL || g->fallback < 0) return g->value;
  force_if_lazy(vm, g->fallback);
  return vm->globals[g->fallback].value;
}

void env_define(VM *vm, const char *name, Value v) {
  Value sym = SYM(vm, name);
  int32_t c = env_global_cell(vm, sym);
  if (vm->globals[c].value != v) vm->globals[c].flags &= (uint16_t)~(CELL_DOC | CELL_LAZY);
  vm->globals[c].value = v;
  if (is_native(v) && sym_is_intrinsic(&vm->syms, sym_id(sym))) vm->globals[c].flags |= CELL_INTRINSIC;
}

void env_define_current(VM *vm, Value sym, Value v) {
  env_set_global(vm, env_lookup(vm, vm->env, sym, true), v);
}

void env_define_doc(VM *vm, const char *name, Value v, const char *doc) {
  env_define(vm, name, v);
  env_set_doc(vm, name, doc);
}

bool env_set_doc(VM *vm, const char *name, const char *doc) {
  int32_t c = env_lookup(vm, &vm->genv, SYM(vm, name), false);
  if (c < 0 || (vm->globals[c].value == UNBOUND_VAL && !(vm->globals[c].flags & CELL_LAZY))) return false;
  vm->globals[c].doc = doc;
  vm->globals[c].flags |= CELL_DOC;
  return true;
}

const char *env_doc(VM *vm, Value sym) {
  int32_t c = env_lookup(vm, &vm->genv, sym, false);
  return c >= 0 && (vm->globals[c].flags & CELL_DOC) ? vm->globals[c].doc : NULL;
}

Value env_get(VM *vm, const char *name) {
  int32_t c = env_find(&vm->genv, sym_intern_c(vm, name));
  force_if_lazy(vm, c);
  return c < 0 ? UNBOUND_VAL : vm->globals[c].value;
}

/* Rewrite every intrinsic instruction compiled from this cell into DEOPT. */
/* Deoptimize one prototype for a replaced builtin: its instructions become
 * DEOPT; and every in-place assoc becomes the persistent one, because an
 * owned update was proven safe assuming the reading builtins (get,
 * contains?, length, ...) do not keep the map, which the replacement might. */
static void deopt_proto(VM *vm, Obj *o, void *ud) {
  int32_t cell = *(int32_t *)ud;
  Proto *p = (Proto *)o;
  if (!is_vector(p->deopt)) return;
  Value *d = vec_items(p->deopt);
  for (uint32_t i = 0; i + 2 < vec_len(p->deopt); i += 3) {
    uint32_t pc = (uint32_t)small_int_of(d[i]);
    if (small_int_of(d[i + 1]) == cell)
      p->code[pc] = SET_OP(p->code[pc], OP_DEOPT);
    else if (GET_OP(p->code[pc]) == OP_ASSOC_OWNED)
      p->code[pc] = SET_OP(p->code[pc], OP_ASSOC);
    else if (GET_OP(p->code[pc]) == OP_DISSOC_OWNED)
      p->code[pc] = SET_OP(p->code[pc], OP_DISSOC);
    else if (GET_OP(p->code[pc]) == OP_MAPUPDATE_OWNED)
      p->code[pc] = SET_OP(p->code[pc], OP_MAPUPDATE);
  }
}

void env_set_global(VM *vm, int32_t cell, Value v) {
  GlobalCell *g = &vm->globals[cell];
  if (UNLIKELY((g->flags & (CELL_INTRINSIC | CELL_INTRINSIC_OFF)) == CELL_INTRINSIC) && g->value != v) {
    g->flags |= CELL_INTRINSIC_OFF;
    gc_each_object(vm, OBJ_PROTO, deopt_proto, &cell);
  }
  if (UNLIKELY(g->flags & (CELL_DOC | CELL_LAZY)) && g->value != v) g->flags &= (uint16_t)~(CELL_DOC | CELL_LAZY);
  g->value = v;
}

Value env_global_unbound(VM *vm, uint32_t cell) {
  Value v = env_global_peek(vm, cell);
  if (v != UNBOUND_VAL) return v;
  err_unbound(vm, vm->globals[cell].name);
}

Value env_global_value(VM *vm, uint32_t cell) {
  Value v = vm->globals[cell].value;
  return v != UNBOUND_VAL ? v : env_global_unbound(vm, cell);
}


bool env_global_at(VM *vm, uint32_t i, Value *name, Value *value) {
  if (i >= vm->nglobals) return false;
  force_if_lazy(vm, (int32_t)i);
  *name = vm->globals[i].name;
  *value = vm->globals[i].value;
  return true;
}

/* ---- registering natives ---- */

void env_register(VM *vm, const NativeDef *defs) {
  for (; defs->name; defs++) {
    Value n = obj_native(vm, defs->name, defs->fn, defs->min_args, defs->max_args);
    as_native(n)->doc = defs->doc;
    env_define(vm, defs->name, n);
  }
}

void env_alias(VM *vm, const char *new_name, const char *old_name) {
  Value v = env_get(vm, old_name);
  if (v == UNBOUND_VAL) {
    fprintf(stderr, "sema: alias %s of missing %s\n", new_name, old_name);
    return;
  }
  env_define(vm, new_name, v);
}


/* ---- unbound references, for "Did you mean" ----
 * A global read that fails at run time names only the global; the locals
 * that were in scope there exist only in the analyzer.  So the analyzer
 * notes, for each reference it resolves to a global that is unbound at that
 * moment (a typo, or a function defined further down), the locals in scope.
 * The notes are a fixed ring: code compiled over and over (eval in a loop,
 * the REPL) overwrites the oldest, so memory stays bounded. */

#define UNBOUND_REFS 256
#define UNBOUND_LOCALS 32

typedef struct UnboundRef {
  Value name;
  uint32_t line, n;
  Value locals[UNBOUND_LOCALS];
} UnboundRef;

void env_note_unbound(VM *vm, Value name, uint32_t line, const Value *locals, uint32_t n) {
  if (!vm->unbound_refs) {
    vm->unbound_refs = calloc(UNBOUND_REFS, sizeof(UnboundRef));
    if (!vm->unbound_refs) return; /* only a hint is lost */
  }
  UnboundRef *r = &vm->unbound_refs[vm->nunbound_refs++ % UNBOUND_REFS];
  r->name = name;
  r->line = line;
  r->n = n < UNBOUND_LOCALS ? n : UNBOUND_LOCALS;
  memcpy(r->locals, locals, r->n * sizeof(Value));
}

static size_t add_locals(const UnboundRef *r, Value *out, size_t k, size_t max) {
  for (uint32_t i = 0; i < r->n && k < max; i++) {
    size_t j = 0;
    while (j < k && out[j] != r->locals[i]) j++;
    if (j == k) out[k++] = r->locals[i];
  }
  return k;
}

size_t env_unbound_locals(VM *vm, Value name, long line, Value *out, size_t max) {
  if (!vm->unbound_refs) return 0;
  uint32_t used = vm->nunbound_refs < UNBOUND_REFS ? vm->nunbound_refs : UNBOUND_REFS;
  size_t k = 0;
  for (uint32_t i = 0; i < used; i++) {
    UnboundRef *r = &vm->unbound_refs[i];
    if (r->name == name && (long)r->line == line) k = add_locals(r, out, k, max);
  }
  if (k) return k;
  for (uint32_t i = 0; i < used; i++)
    if (vm->unbound_refs[i].name == name) k = add_locals(&vm->unbound_refs[i], out, k, max);
  return k;
}

bool env_global_bound(VM *vm, uint32_t cell) { return env_global_peek(vm, cell) != UNBOUND_VAL; }
