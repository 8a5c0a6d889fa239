/* context.c - the ambient context store (stdlib.md §27) and the logging
 * functions log/info, log/warn, log/error, log/debug that append it (§13).
 *
 * The state is per VM and lives in a global cell whose name (" context")
 * cannot be written in source, so the collector marks it with the other
 * globals.  The cell holds a 3-slot vector:
 *   [0] frames: list of sorted maps, innermost first, never empty
 *   [1] hidden: sorted map (context/set-hidden ...)
 *   [2] stacks: sorted map key -> list, top of stack first
 * Every map is persistent, so updates replace slot values.
 */
#include "lib.h"

#define STATE_NAME " context"
enum { S_FRAMES, S_HIDDEN, S_STACKS, S_COUNT };

static Value *state(VM *vm) {
  Value v = env_get(vm, STATE_NAME);
  if (!is_vector(v) || vec_len(v) != S_COUNT) {
    v = vec_new(vm, S_COUNT);
    Value *s = vec_items(v);
    s[S_FRAMES] = list_1(vm, map_empty(vm));
    s[S_HIDDEN] = map_empty(vm);
    s[S_STACKS] = map_empty(vm);
    env_define(vm, STATE_NAME, v);
  }
  /* every caller stores into the slots before it next calls Sema code (n_with
   * fetches the state again after its thunk), so one barrier here covers
   * them (gc.c, GENERATIONS) */
  gc_barrier(vm, as_obj(v));
  return vec_items(v);
}

static void check_map(VM *vm, Value m) {
  if (!is_map(m)) err_type(vm, "map", m);
}

/* Set k in the top frame. */
static void frame_set(VM *vm, Value *s, Value k, Value v) {
  Value frames = s[S_FRAMES];
  s[S_FRAMES] = list_cons(vm, map_assoc(vm, car(frames), k, v), cdr(frames));
}

/* The innermost binding of k. */
static bool frames_get(Value *s, Value k, Value *out) {
  for (Value f = s[S_FRAMES]; is_cons(f); f = cdr(f))
    if (map_get(car(f), k, out)) return true;
  return false;
}

/* All frames merged, inner frames winning. */
static Value frames_all(VM *vm, Value *s) {
  Value frames = s[S_FRAMES];
  if (!is_cons(cdr(frames))) return car(frames);
  Value rev = list_reverse(vm, frames), acc = map_empty(vm);
  for (; is_cons(rev); rev = cdr(rev)) {
    MapIter it;
    Value k, v;
    map_iter_init(&it, car(rev));
    while (map_iter_next(&it, &k, &v)) acc = map_assoc(vm, acc, k, v);
  }
  return acc;
}

static Value n_set(VM *vm, int argc, Value *argv) {
  frame_set(vm, state(vm), argv[0], argv[1]);
  return NIL_VAL;
}

static Value n_get(VM *vm, int argc, Value *argv) {
  Value v;
  return frames_get(state(vm), argv[0], &v) ? v : NIL_VAL;
}

static Value n_has(VM *vm, int argc, Value *argv) {
  Value v;
  return bool_val(frames_get(state(vm), argv[0], &v));
}

static Value n_pull(VM *vm, int argc, Value *argv) {
  Value *s = state(vm), k = argv[0], result = NIL_VAL;
  bool found = false;
  ListBuilder lb;
  list_start(&lb);
  for (Value f = s[S_FRAMES]; is_cons(f); f = cdr(f)) {
    Value m = car(f), v;
    if (map_get(m, k, &v)) {
      if (!found) result = v, found = true;
      m = map_dissoc(vm, m, k);
    }
    list_add(vm, &lb, m);
  }
  if (found) s[S_FRAMES] = lb.head;
  return result;
}

static Value n_all(VM *vm, int argc, Value *argv) {
  return frames_all(vm, state(vm));
}

static Value n_merge(VM *vm, int argc, Value *argv) {
  check_map(vm, argv[0]);
  Value *s = state(vm), top = car(s[S_FRAMES]), k, v;
  MapIter it;
  map_iter_init(&it, argv[0]);
  while (map_iter_next(&it, &k, &v)) top = map_assoc(vm, top, k, v);
  s[S_FRAMES] = list_cons(vm, top, cdr(s[S_FRAMES]));
  return NIL_VAL;
}

static Value n_clear(VM *vm, int argc, Value *argv) {
  state(vm)[S_FRAMES] = list_1(vm, map_empty(vm));
  return NIL_VAL;
}

static Value n_with(VM *vm, int argc, Value *argv) {
  check_map(vm, argv[0]);
  if (!is_procedure(argv[1])) err_type(vm, "function", argv[1]);
  Value *s = state(vm);
  s[S_FRAMES] = list_cons(vm, argv[0], s[S_FRAMES]);
  Value r;
  int rc = vm_pcall(vm, argv[1], 0, NULL, &r);
  /* pop the pushed frame; the thunk may have cleared the stack meanwhile */
  s = state(vm);
  Value frames = s[S_FRAMES];
  s[S_FRAMES] = is_cons(cdr(frames)) ? cdr(frames) : list_1(vm, map_empty(vm));
  if (rc) err_rethrow(vm);
  return r;
}

static Value n_push(VM *vm, int argc, Value *argv) {
  Value *s = state(vm), old;
  if (!map_get(s[S_STACKS], argv[0], &old)) old = EMPTY_VAL;
  s[S_STACKS] = map_assoc(vm, s[S_STACKS], argv[0], list_cons(vm, argv[1], old));
  return NIL_VAL;
}

static Value n_pop(VM *vm, int argc, Value *argv) {
  Value *s = state(vm), st;
  if (!map_get(s[S_STACKS], argv[0], &st) || !is_cons(st)) return NIL_VAL;
  s[S_STACKS] = map_assoc(vm, s[S_STACKS], argv[0], cdr(st));
  return car(st);
}

static Value n_stack(VM *vm, int argc, Value *argv) {
  Value st;
  if (!map_get(state(vm)[S_STACKS], argv[0], &st)) return EMPTY_VAL;
  return list_reverse(vm, st);
}

static Value n_set_hidden(VM *vm, int argc, Value *argv) {
  Value *s = state(vm);
  s[S_HIDDEN] = map_assoc(vm, s[S_HIDDEN], argv[0], argv[1]);
  return NIL_VAL;
}

static Value n_get_hidden(VM *vm, int argc, Value *argv) {
  Value v;
  return map_get(state(vm)[S_HIDDEN], argv[0], &v) ? v : NIL_VAL;
}

static Value n_has_hidden(VM *vm, int argc, Value *argv) {
  Value v;
  return bool_val(map_get(state(vm)[S_HIDDEN], argv[0], &v));
}

/* ---- log/info, log/warn, ... (§13): one line to stderr, the ambient context appended ---- */

static Value log_line(VM *vm, const char *level, int argc, Value *argv) {
  StrBuf b;
  sb_init_vm(&b, vm);
  sb_addc(&b, '[');
  sb_adds(&b, level);
  sb_addc(&b, ']');
  for (int i = 0; i < argc; i++) {
    sb_addc(&b, ' ');
    print_value(vm, &b, argv[i], false);
  }
  Value all = frames_all(vm, state(vm));
  if (map_count(all) > 0) {
    sb_addc(&b, ' ');
    print_value(vm, &b, all, true);
  }
  sb_addc(&b, '\n');
  /* keep program order with what was already written to stdout */
  vm_flush(vm);
  vm_write_err(vm, b.data, b.len);
  sb_free(&b);
  return NIL_VAL;
}

static Value n_log_info(VM *vm, int argc, Value *argv) { return log_line(vm, "INFO", argc, argv); }
static Value n_log_warn(VM *vm, int argc, Value *argv) { return log_line(vm, "WARN", argc, argv); }
static Value n_log_error(VM *vm, int argc, Value *argv) { return log_line(vm, "ERROR", argc, argv); }
static Value n_log_debug(VM *vm, int argc, Value *argv) { return log_line(vm, "DEBUG", argc, argv); }

static const NativeDef defs[] = {
    {"context/set", n_set, 2, 2,
     "(context/set k v)\nSets the key k of the ambient context to v in the innermost frame; returns nil."},
    {"context/get", n_get, 1, 1,
     "(context/get k)\nReturns the value of k in the innermost context frame that has it, else nil."},
    {"context/has?", n_has, 1, 1,
     "(context/has? k)\nReturns #t when some context frame has the key k."},
    {"context/remove", n_pull, 1, 1,
     "(context/remove k)\nRemoves k from every context frame and returns its innermost value (or nil); the same as "
     "context/pull."},
    {"context/pull", n_pull, 1, 1,
     "(context/pull k)\nRemoves k from every context frame and returns its innermost value (or nil)."},
    {"context/all", n_all, 0, 0,
     "(context/all)\nReturns a sorted map of all the context frames merged, inner frames winning."},
    {"context/merge", n_merge, 1, 1,
     "(context/merge m)\nSets every entry of the sorted map m in the ambient context; returns nil."},
    {"context/clear", n_clear, 0, 0,
     "(context/clear)\nDrops all the context frames, leaving one empty frame (the hidden store and the stacks stay)."},
    {"context/with", n_with, 2, 2,
     "(context/with m thunk)\nCalls thunk with a new context frame holding the sorted map m and returns its result; "
     "the frame (and what context/set wrote to it) is dropped afterwards, also when thunk raises."},
    {"context/push", n_push, 2, 2,
     "(context/push k v)\nPushes v on the named context stack k; returns nil."},
    {"context/pop", n_pop, 1, 1,
     "(context/pop k)\nPops and returns the top of the named context stack k, or nil when it is empty."},
    {"context/stack", n_stack, 1, 1,
     "(context/stack k)\nReturns the named context stack k as a list, bottom first (() when there is none)."},
    {"context/set-hidden", n_set_hidden, 2, 2,
     "(context/set-hidden k v)\nSets k to v in the hidden store, which context/get, context/all and logging do not "
     "see; returns nil."},
    {"context/get-hidden", n_get_hidden, 1, 1,
     "(context/get-hidden k)\nReturns the value of k in the hidden store, or nil."},
    {"context/has-hidden?", n_has_hidden, 1, 1,
     "(context/has-hidden? k)\nReturns #t when the hidden store has the key k."},
    {"log/info", n_log_info, 1, VARIADIC,
     "(log/info x...)\nWrites \"[INFO] \" and the display forms of the arguments joined by spaces to stderr, followed"
     " by the ambient context map when it is not empty; returns nil."},
    {"log/warn", n_log_warn, 1, VARIADIC,
     "(log/warn x...)\nWrites a \"[WARN] \" line of the arguments (and the ambient context, when not empty) to "
     "stderr; returns nil."},
    {"log/error", n_log_error, 1, VARIADIC,
     "(log/error x...)\nWrites an \"[ERROR] \" line of the arguments (and the ambient context, when not empty) to "
     "stderr; returns nil."},
    {"log/debug", n_log_debug, 1, VARIADIC,
     "(log/debug x...)\nWrites a \"[DEBUG] \" line of the arguments (and the ambient context, when not empty) to "
     "stderr; returns nil."},
    {NULL, NULL, 0, 0},
};

void lib_context_init(VM *vm) {
  env_register(vm, defs);
  state(vm);
}
