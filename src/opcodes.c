/* opcodes.c - the tables derived from the instruction set (opcodes.h) and
 * the intrinsics (intrinsics.h): names, deopt layouts, and the lookup the
 * analyzer uses to compile a builtin's call to its instruction. */
#include <string.h>
#include <stdint.h>
#include <threads.h>
#include "opcodes.h"
#include "state.h"
#include "symbol.h"

const char *const opcode_names[] = {
#define X(name, ...) #name,
    SEMA_ALL_OPCODES(X)
#undef X
};

const unsigned char opcode_layouts[] = {
#define X(name, fmt, layout, doc) layout,
#define I(name, global, argc, layout, kind, impl, doc) layout,
    SEMA_OPCODES(X) SEMA_INTRINSICS(I)
#undef X
#undef I
};

typedef struct {
  const char *name;
  int argc; /* -1: any count up to INTRINSIC_MAX_ARGS */
  OpCode op;
} IntrinsicName;

static const IntrinsicName intrinsic_names[] = {
#define I(op, global, argc, layout, kind, impl, doc) {global, argc, OP_##op},
    SEMA_INTRINSICS(I)
#undef I
#define A(global, op) {global, -2, OP_##op},
    SEMA_INTRINSIC_ALIASES(A)
#undef A
};
#define N_NAMES (sizeof intrinsic_names / sizeof intrinsic_names[0])

/* The argument count of an alias is that of its instruction's row. */
static int row_argc(OpCode op) {
  for (size_t i = 0; i < N_NAMES; i++)
    if (intrinsic_names[i].op == op && intrinsic_names[i].argc != -2) return intrinsic_names[i].argc;
  return -1;
}

/* Names in a small open-addressing set of row indices (+1; 0 = empty): every
 * builtin registered at start-up asks whether it is an intrinsic, and a
 * linear strcmp scan was a quarter of `sema -e 1` (docs/design.md). Rows of
 * one name are chained through `next`. */
#define NAME_SET 256
static uint8_t name_set[NAME_SET];
static uint8_t next_same[N_NAMES];
static int argc_of[N_NAMES];
static once_flag name_once = ONCE_FLAG_INIT;

static uint32_t name_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

static void build_name_set(void) {
  for (size_t i = 0; i < N_NAMES; i++) {
    argc_of[i] = intrinsic_names[i].argc == -2 ? row_argc(intrinsic_names[i].op) : intrinsic_names[i].argc;
    uint32_t j = name_hash(intrinsic_names[i].name) % NAME_SET;
    while (name_set[j] && strcmp(intrinsic_names[name_set[j] - 1].name, intrinsic_names[i].name) != 0)
      j = (j + 1) % NAME_SET;
    if (name_set[j]) { /* another arity of a name already present: chain it */
      size_t k = name_set[j] - 1;
      while (next_same[k]) k = next_same[k] - 1;
      next_same[k] = (uint8_t)(i + 1);
    } else {
      name_set[j] = (uint8_t)(i + 1);
    }
  }
}

static int first_row(const char *name) {
  call_once(&name_once, build_name_set);
  for (uint32_t j = name_hash(name) % NAME_SET; name_set[j]; j = (j + 1) % NAME_SET)
    if (strcmp(intrinsic_names[name_set[j] - 1].name, name) == 0) return name_set[j] - 1;
  return -1;
}

void opcode_mark_intrinsic_names(VM *vm) {
  for (size_t i = 0; i < N_NAMES; i++) sym_mark_intrinsic(&vm->syms, sym_intern_c(vm, intrinsic_names[i].name));
}

bool opcode_intrinsic(const char *name, int argc, OpCode *op) {
  for (int r = first_row(name); r >= 0; r = (int)next_same[r] - 1) {
    int want = argc_of[r];
    if (want == argc || (want < 0 && argc < INTRINSIC_MAX_ARGS)) {
      *op = intrinsic_names[r].op;
      return true;
    }
  }
  return false;
}
