/* lib.h - what a library module may use to define its builtins: the value
 * core (runtime.h, map.h), the error API (error.h), the VM's services
 * (vm.h: calls, roots, output, registration) and the argument helpers
 * below.  Not the VM's state: a module never touches the VM struct.
 *
 * Each module (src/lib/NAME.c) has one table of NativeDef and one
 * registration function lib_NAME_init, listed in boot.c in dependency order.
 * Arity is checked by the VM before a native runs: a native may assume
 * min_args <= argc <= max_args (max_args < 0: no upper bound).
 */
#ifndef SEMA_LIB_H
#define SEMA_LIB_H

#include "../runtime.h"
#include "../map.h"
#include "../vm.h"

/* random numbers (math.c): uniform 64 bits; below n (0 = full range) */
uint64_t math_random_u64(void);
uint64_t math_random_below(uint64_t n);


void regex_thread_cleanup(void); /* a thread that ran Sema code, before it exits */

/* argument helpers (args.c): raise a type error naming the expected type */
int64_t arg_int(VM *vm, Value v);
double arg_num(VM *vm, Value v);
Value arg_string(VM *vm, Value v);
void arg_seq(VM *vm, Value v, const char *fname); /* list or vector, else "expected list or vector, got T in fname" */

/* Iterate a list or vector uniformly. */
typedef struct {
  Value seq;
  Value *vitems;
  uint32_t i, n;
  bool is_vec;
} SeqIter;
static inline void seqiter_init(SeqIter *it, Value seq) {
  it->seq = seq;
  it->i = 0;
  it->is_vec = is_vector(seq);
  if (it->is_vec) {
    it->vitems = vec_items(seq);
    it->n = vec_len(seq);
  } else {
    it->vitems = NULL;
    it->n = 0;
  }
}
static inline bool seqiter_next(SeqIter *it, Value *out) {
  if (it->is_vec) {
    if (it->i >= it->n) return false;
    *out = it->vitems[it->i++];
    return true;
  }
  if (!is_cons(it->seq)) return false;
  *out = car(it->seq);
  it->seq = cdr(it->seq);
  return true;
}

#endif
