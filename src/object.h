/* object.h - heap object layouts.
 *
 * Every heap object starts with an 8-byte Obj header.  Objects never move
 * (the collector is a non-moving mark-sweep over size-class pages), so a
 * pointer held in C stays valid as long as the object is reachable.
 */
#ifndef SEMA_OBJECT_H
#define SEMA_OBJECT_H

#include <stddef.h>
#include "value.h"

typedef enum {
  OBJ_FREE = 0,
  OBJ_STRING,
  OBJ_BIGINT, /* 64-bit integer outside the 48-bit immediate range */
  OBJ_CONS,
  OBJ_VECTOR,
  OBJ_MAP,      /* sorted map; layout private to map.c */
  OBJ_HASHMAP,  /* hash map; layout private to hashmap.c */
  OBJ_MAPNODE,  /* interior node of either map; private */
  OBJ_CLOSURE,
  OBJ_NATIVE,
  OBJ_PROTO,
  OBJ_BOX,      /* a captured-and-mutated variable */
  OBJ_MACRO,
  OBJ_MULTI,    /* multimethod */
  OBJ_RECORD,
  OBJ_PROMISE,
  OBJ_BYTEVEC,
  OBJ_ENV,      /* module environment */
  OBJ_FOREIGN,  /* opaque C data with a finalizer (streams, regex, ...) */
  OBJ_NTYPES
} ObjType;

typedef struct Obj {
  uint8_t type;
  uint8_t mark;
  uint16_t flags;
  uint32_t aux; /* per-type: source position of a cons, length of a vector, hash of a string */
} Obj;

#define OBJ_TYPE(v) (as_obj(v)->type)
static inline bool is_objtype(Value v, ObjType t) { return is_obj(v) && as_obj(v)->type == t; }

/* ---- strings: immutable UTF-8, NUL-terminated for C convenience ---- */
#define STR_ASCII 1u   /* flags: every byte < 0x80, so char index == byte index */
#define STR_HASHED 2u  /* flags: aux holds the hash */
typedef struct {
  Obj h;
  uint32_t len;    /* bytes */
  uint32_t nchars; /* scalar values */
  char data[];
} String;

typedef struct {
  Obj h;
  int64_t i;
} BigInt;

/* ---- lists: immutable cons cells ending in EMPTY_VAL ---- */
typedef struct {
  Obj h; /* aux: packed source position (line << 12 | col), 0 if unknown */
  Value car;
  Value cdr;
} Cons;

/* ---- vectors: flat immutable arrays (aux = length) ---- */
typedef struct {
  Obj h;
  Value items[];
} Vector;

/* ---- functions ---- */
typedef uint32_t Instr;
struct VM;
typedef Value (*NativeFn)(struct VM *vm, int argc, Value *argv);

typedef struct Proto {
  Obj h;
  Instr *code;
  uint32_t *pos; /* packed line:col per instruction */
  Value *consts;
  uint8_t *upval_src; /* per upvalue: bit 7 set = parent register, else parent upvalue; low 7 bits... see codegen */
  uint16_t *upval_idx;
  uint32_t ncode, nconsts;
  uint16_t nupvals;
  uint8_t nparams; /* required parameters */
  uint8_t has_rest;
  uint8_t maxregs;
  /* Spill area (codegen.c, "Spilled variables"): a function with more
   * parameters or live locals than the register window keeps the rest in a
   * vector of nspill slots in register spillreg.  spill_arity is 0 for
   * every other function; for one with more than SPILL_PARAMS parameters it
   * is the true number of required parameters (nparams is then the
   * register window and has_rest is set, so the VM gathers the spilled
   * arguments into a list that SPILLARGS turns into the spill vector), and
   * spill_rest says whether the source function also has a rest parameter. */
  uint8_t spillreg;
  uint8_t spill_rest;
  uint8_t pad;
  uint32_t nspill;
  uint32_t spill_arity;
  Value name;  /* symbol, or nil for anonymous */
  Value file;  /* string or nil */
  Value deopt; /* vector of (pc cell op) triples for intrinsic instructions, or nil */
  Value doc;    /* the docstring (string) of a lambda whose body starts with one, or nil */
  Value params; /* the parameter list as written (list or vector; nil for top-level code), for `,doc` */
  uint8_t *quick_miss; /* per instruction: failed guards of quickened variants (vm.c); NULL until one fails */
} Proto;
#define PROTO_CHARGED 1u /* h.flags: its C arrays are counted in the heap (gc_proto_bytes) */

typedef struct {
  Obj h; /* aux = number of upvalues */
  Proto *proto;
  Value upvals[];
} Closure;

typedef struct {
  Obj h;
  NativeFn fn;
  Value name; /* symbol */
  int16_t min_args, max_args; /* max_args < 0: variadic */
  void *ud;           /* user data of natives registered through the embedding API */
  Value data;         /* marked by the GC: the environment of an --interp closure */
  const char *doc;    /* docstring: "(name args...)\ndescription", or NULL */
} Native;
#define NATIVE_INTERP 1u /* h.flags: a closure of the reference evaluator (ud = its FnInfo) */
/* Every call path places the callee just below its arguments, so a native
 * can find its own object at argv[-1] (the embedding API's trampoline does). */

typedef struct {
  Obj h;
  Value v;
} Box;

typedef struct {
  Obj h;
  Value fn;   /* transformer closure */
  Value name; /* symbol */
} Macro;

typedef struct {
  Obj h;
  Value name;     /* symbol */
  Value dispatch; /* function */
  Value methods;  /* sorted map dispatch-value -> fn */
  Value deflt;    /* fn or UNBOUND */
} Multi;

typedef struct {
  Obj h; /* aux = number of fields */
  Value tag; /* symbol: the record type name */
  Value fields[];
} Record;

#define PROMISE_FORCED 1u
typedef struct {
  Obj h;
  Value thunk; /* closure, or the value once forced */
} Promise;

typedef struct {
  Obj h;
  uint32_t len;
  uint8_t data[];
} Bytevec;

typedef struct Foreign Foreign;
struct StrBuf;
typedef struct {
  const char *name;                 /* type name; printed as <NAME> */
  void (*finalize)(Foreign *f);     /* may be NULL */
  void (*mark)(struct VM *vm, Foreign *f); /* may be NULL */
  /* Optional hooks for library value types (typed arrays, streams); NULL or 0
   * gives the default: <NAME>, identity equality, order after every built-in type. */
  void (*print)(struct VM *vm, struct StrBuf *b, Foreign *f);
  int (*compare)(Foreign *a, Foreign *b); /* same class; 0 also means equal? */
  uint64_t (*hash)(Foreign *f);           /* consistent with compare == 0 */
  int64_t (*length)(Foreign *f);          /* accepted by length when set */
  int order;                              /* rank in the total order (runtime.c type_rank), 0 = last */
} ForeignClass;
struct Foreign {
  Obj h;
  const ForeignClass *cls;
  void *ptr;
  Value extra;
  size_t ext; /* C bytes of ptr counted against the heap limit (gc_ext_charge), released when it is collected */
};

/* ---- accessors ---- */
static inline String *as_string(Value v) { return (String *)as_obj(v); }
static inline Cons *as_cons(Value v) { return (Cons *)as_obj(v); }
static inline Vector *as_vector(Value v) { return (Vector *)as_obj(v); }
static inline Closure *as_closure(Value v) { return (Closure *)as_obj(v); }
static inline Native *as_native(Value v) { return (Native *)as_obj(v); }
static inline Proto *as_proto(Value v) { return (Proto *)as_obj(v); }

static inline bool is_string(Value v) { return is_objtype(v, OBJ_STRING); }
static inline bool is_cons(Value v) { return is_objtype(v, OBJ_CONS); }
static inline bool is_list(Value v) { return v == EMPTY_VAL || is_cons(v); }
static inline bool is_vector(Value v) { return is_objtype(v, OBJ_VECTOR); }
static inline bool is_map(Value v) { return is_objtype(v, OBJ_MAP); }
static inline bool is_hashmap(Value v) { return is_objtype(v, OBJ_HASHMAP); }
static inline bool is_anymap(Value v) { return is_obj(v) && (OBJ_TYPE(v) == OBJ_MAP || OBJ_TYPE(v) == OBJ_HASHMAP); }
static inline bool is_closure(Value v) { return is_objtype(v, OBJ_CLOSURE); }
static inline bool is_native(Value v) { return is_objtype(v, OBJ_NATIVE); }
static inline bool is_procedure(Value v) { return is_closure(v) || is_native(v); }
static inline bool is_bigint(Value v) { return is_objtype(v, OBJ_BIGINT); }
static inline bool is_int(Value v) { return is_small_int(v) || is_bigint(v); }
static inline bool is_number(Value v) { return is_double(v) || is_int(v); }
static inline int64_t int_of(Value v) { return is_small_int(v) ? small_int_of(v) : ((BigInt *)as_obj(v))->i; }

static inline Value car(Value v) { return as_cons(v)->car; }
static inline Value cdr(Value v) { return as_cons(v)->cdr; }
static inline uint32_t vec_len(Value v) { return as_obj(v)->aux; }
static inline Value *vec_items(Value v) { return as_vector(v)->items; }
static inline const char *str_data(Value v) { return as_string(v)->data; }
static inline uint32_t str_len(Value v) { return as_string(v)->len; }

/* packed source positions: bit 31 marks data read from a string at run time
 * (`read`, `read-many`), whose positions are in that string, not in the file
 * being run (they are shown as <eval>:LINE:COL); 19 bits of line (lines past
 * 524,287 show that number), 12 of column (past 4,095 show 4,095).  0 means
 * no position. */
#define POS_EVAL_BIT 0x80000000u
#define POS_PACK(line, col) (((line) > 0x7FFFF ? 0x7FFFFu : (uint32_t)(line)) << 12 | ((col) > 0xFFF ? 0xFFFu : (uint32_t)(col)))
#define POS_LINE(p) (((p) >> 12) & 0x7FFFF)
#define POS_COL(p) ((p) & 0xFFF)
#define POS_IS_EVAL(p) (((p) & POS_EVAL_BIT) != 0)

#endif
