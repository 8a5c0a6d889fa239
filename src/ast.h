/* ast.h - the core language the analyzer produces and codegen consumes.
 *
 * Nodes live in an arena owned by one compilation unit.  Values stored in
 * nodes (constants) are kept alive by the unit's root list while it exists.
 */
#ifndef SEMA_AST_H
#define SEMA_AST_H

#include "arena.h"
#include "opcodes.h"
#include "state.h"
#include "vm.h"

typedef struct FnInfo FnInfo;
typedef struct Node Node;

typedef struct Var {
  Value name;
  FnInfo *fn;       /* function whose frame holds the variable */
  int reg;          /* register, assigned by codegen; -1 for a spilled variable */
  int spill;        /* spilled: its slot in the frame's spill vector (codegen), else -1 */
  bool captured;    /* referenced from another function (computed after analysis) */
  bool assigned;    /* target of set! (or of a later internal define) */
  bool letrec;      /* bound before its value exists (letrec, internal define) */
  bool boxed;       /* lives in a Box: captured && (assigned || letrec) */
  Node *self_fn;    /* letrec var bound to this lambda: references inside it may use SELF */
  Node *loop;       /* named-let loop variable: its N_NAMEDLET */
  struct Var *next_in_unit;
  Value itag;       /* --interp: tag of the environment frame holding the variable (reg = its slot) */
} Var;

typedef enum {
  N_CONST,    /* value */
  N_LOCAL,    /* var */
  N_GLOBAL,   /* cell */
  N_SETLOCAL, /* var = a */
  N_SETGLOBAL,/* cell = a (set!) */
  N_DEFGLOBAL,/* cell = a (define) */
  N_DEFLOCAL, /* internal define: var = a, value nil */
  N_IF,       /* a ? b : c */
  N_SEQ,      /* kids[0..n) */
  N_LAMBDA,   /* fn */
  N_CALL,     /* a(kids) */
  N_PRIM,     /* intrinsic op on kids */
  N_LET,      /* vars = kids (evaluated in the outer scope), then body a */
  N_LETREC,   /* vars bound first, kids assigned in order, then body a */
  N_NAMEDLET, /* loop var + lambda: either a loop or letrec+call */
  N_DO,       /* do loop */
  N_AND,
  N_OR,
  N_TRY,      /* a = body, var = error var, b = handler */
  N_THROW,
  N_MKVEC,
  N_MKLIST,
  N_MKMAP,
  N_BODY,     /* vars (internal defines) bound to nil, then a */
} NodeKind;

struct Node {
  NodeKind kind;
  uint32_t pos;
  bool tail;
  Value value;      /* N_CONST */
  Var *var;         /* N_LOCAL, N_SETLOCAL, N_DEFLOCAL, N_TRY, N_NAMEDLET (loop var) */
  int32_t cell;     /* N_GLOBAL, N_SETGLOBAL, N_DEFGLOBAL, N_PRIM (deopt) */
  OpCode op;        /* N_PRIM */
  Node *a, *b, *c;
  Node **kids;
  uint32_t nkids;
  Var **vars;       /* N_LET, N_LETREC, N_DO, N_NAMEDLET (params) */
  uint32_t nvars;
  FnInfo *fn;       /* N_LAMBDA; N_NAMEDLET: the loop lambda's function */
  Node **steps;     /* N_DO: per var, NULL when no step */
  bool is_recur;    /* N_CALL: a tail call of a named-let loop variable */
  Node *loop;       /* N_CALL with is_recur: the N_NAMEDLET */
  bool loop_ok;     /* N_NAMEDLET: every use of the loop var is a recur call */
  int32_t loop_pc;  /* N_NAMEDLET compiled as a loop: pc of the loop head */
  int32_t owner;    /* N_PRIM assoc proven to consume a dead map: token register, 255 = the frame's; else 0 */
};

struct FnInfo {
  FnInfo *parent;
  FnInfo *merged_into; /* a named-let body inlined into its parent */
  Var **params;
  uint32_t nparams;
  bool has_rest;
  Value name; /* symbol or nil */
  Node *body;
  uint32_t pos;
  Node *self_node; /* the N_LAMBDA */
  Value file;      /* the unit's file (string or nil), for --interp stack traces */
  Value doc;       /* docstring (string) or nil: a string body form followed by more forms */
  Value params_src;/* the parameter list as written, or nil (shown by `,doc`) */
  uint32_t nvars;  /* variables of the frame (this function and the loops merged into it), counted by
                    * compute_captures: codegen gives a frame of more than SPILL_WINDOW a spill vector */
};

static inline FnInfo *fn_eff(FnInfo *f) {
  while (f && f->merged_into) f = f->merged_into;
  return f;
}

/* One reference to a local, recorded so capture can be computed after analysis. */
typedef struct Ref {
  Var *var;
  FnInfo *from;
  struct Ref *next;
} Ref;

/* analyzer: one top-level form (already read) to a node, in the unit */
typedef struct Unit {
  VM *vm;
  ArenaSlot *arena;   /* this unit's slot on the VM's arena stack */
  unsigned arena_slot;
  uint32_t roots_base; /* vm root stack height at unit start */
  Ref *refs;
  Var *vars;
  Value file; /* string or nil */
  uint32_t last_pos;
  int depth;
} Unit;

void analyze_unit_begin(Unit *u, VM *vm, Value file);
void analyze_unit_end(Unit *u);
void analyze_unit_free_arena(Unit *u); /* the AST is no longer needed; roots stay */
Node *analyze_toplevel(Unit *u, Value form);
/* Generate a prototype for a top-level node (a zero-argument function). */
Proto *codegen_toplevel(Unit *u, Node *n);

/* compiler.c: the whole pipeline for one unit */
Value compile_run_forms(VM *vm, Value forms, Value file, bool form_by_form);
Value analyze_macroexpand_1(VM *vm, Value form, bool *expanded);

#endif
