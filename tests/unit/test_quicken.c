/* test_quicken.c - quickening (vm.c, "QUICKENING"): the observing arithmetic
 * and compare-and-branch instructions rewrite themselves to the variant
 * their operands call for, fall back on a failed guard with the generic
 * result, and after QUICK_MISSES failures stay generic.  The results are
 * checked at every step, not only the opcodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "boot.h"
#include "compiler.h"
#include "opcodes.h"
#include "runtime.h"
#include "state.h"

static VM *vm;

static int setup(void **state) {
  (void)state;
  vm = boot_vm_new();
  return vm ? 0 : -1;
}
static int teardown(void **state) {
  (void)state;
  vm_free(vm);
  return 0;
}

static Value eval(const char *src) { return compile_eval_string(vm, src, strlen(src), "<test>"); }

/* The opcode of the only instruction of f's prototype among the given family
 * (the first one whose name starts with prefix followed by '\0' or '_'). */
static OpCode family_op(const char *fname, const char *prefix) {
  Value f = env_get(vm, fname);
  assert_true(is_closure(f));
  Proto *p = as_closure(f)->proto;
  size_t n = strlen(prefix);
  for (uint32_t pc = 0; pc < p->ncode; pc++) {
    const char *name = opcode_names[GET_OP(p->code[pc])];
    if (strncmp(name, prefix, n) == 0 && (name[n] == 0 || name[n] == '_')) return GET_OP(p->code[pc]);
  }
  fail_msg("no %s instruction in %s", prefix, fname);
  return OP__COUNT;
}

static void test_add_quickens_and_falls_back(void **state) {
  (void)state;
  eval("(define (qadd x y) (+ x y))");
  assert_int_equal(family_op("qadd", "ADD"), OP_ADD); /* not yet run */
  assert_int_equal(small_int_of(eval("(qadd 2 3)")), 5);
  assert_int_equal(family_op("qadd", "ADD"), OP_ADD_II);
  /* a float pair fails the int guard: generic result, back to observing,
   * which at once re-specializes for floats */
  assert_true(as_double(eval("(qadd 1.5 2.25)")) == 3.75);
  assert_int_equal(family_op("qadd", "ADD"), OP_ADD_FF);
  /* strings: generic result (string concatenation), instruction observing */
  Value s = eval("(qadd \"ab\" \"cd\")");
  assert_true(is_string(s) && str_len(s) == 4 && memcmp(str_data(s), "abcd", 4) == 0);
  assert_int_equal(family_op("qadd", "ADD"), OP_ADD);
  /* an error from the fallback is the generic error */
  Value msg = eval("(try (qadd 1 :k) (catch e (:message e)))");
  assert_true(is_string(msg) && strstr(str_data(msg), "keyword") != NULL);
  /* keep switching: after QUICK_MISSES failed guards the site stays generic */
  for (int k = 0; k < 6; k++) {
    assert_int_equal(small_int_of(eval("(qadd 1 2)")), 3);
    assert_true(as_double(eval("(qadd 0.5 0.25)")) == 0.75);
  }
  assert_int_equal(family_op("qadd", "ADD"), OP_ADD_G);
  assert_int_equal(small_int_of(eval("(qadd 40 2)")), 42);
  assert_true(as_double(eval("(qadd 40.0 2.5)")) == 42.5);
  assert_int_equal(family_op("qadd", "ADD"), OP_ADD_G);
}

static void test_mul_overflow_is_not_a_miss(void **state) {
  (void)state;
  eval("(define (qmul x y) (* x y))");
  assert_int_equal(small_int_of(eval("(qmul 6 7)")), 42);
  assert_int_equal(family_op("qmul", "MUL"), OP_MUL_II);
  /* 2^40 * 2^40 overflows 64 bits of small-int arithmetic: op_mul decides */
  Value big = eval("(qmul 1099511627776 1099511627776)");
  Value ref = eval("(* 1099511627776 1099511627776)");
  assert_true(val_equal(big, ref));
  assert_int_equal(family_op("qmul", "MUL"), OP_MUL_II);
}

static void test_div_only_floats(void **state) {
  (void)state;
  eval("(define (qdiv x y) (/ x y))");
  Value r = eval("(qdiv 7 2)");
  assert_true(val_equal(r, eval("(/ 7 2)")));
  assert_int_equal(family_op("qdiv", "DIV"), OP_DIV);
  assert_true(as_double(eval("(qdiv 7.0 2.0)")) == 3.5);
  assert_int_equal(family_op("qdiv", "DIV"), OP_DIV_FF);
  assert_true(val_equal(eval("(qdiv 9 3)"), eval("(/ 9 3)")));
  assert_int_equal(family_op("qdiv", "DIV"), OP_DIV);
}

static void test_branch_quickens(void **state) {
  (void)state;
  eval("(define (qlt x y) (if (< x y) 1 0))");
  assert_int_equal(small_int_of(eval("(qlt 1 2)")), 1);
  assert_int_equal(family_op("qlt", "BLT"), OP_BLT_II);
  assert_int_equal(small_int_of(eval("(qlt 2.5 1.5)")), 0);
  assert_int_equal(family_op("qlt", "BLT"), OP_BLT_FF);
  assert_int_equal(small_int_of(eval("(qlt 1 2.5)")), 1); /* mixed: generic */
  assert_int_equal(family_op("qlt", "BLT"), OP_BLT);
  Value msg = eval("(try (qlt 1 \"x\") (catch e (:message e)))");
  assert_true(is_string(msg) && strstr(str_data(msg), "comparable") != NULL);
}

static void test_loop_switching_types(void **state) {
  (void)state;
  /* one loop whose accumulator goes int -> float -> string -> error */
  Value r = eval("(let loop ((i 0) (acc 0))"
                 "  (if (< i 30)"
                 "      (loop (+ i 1) (+ acc (if (< i 10) 1 (if (< i 20) 0.5 0))))"
                 "      acc))");
  assert_true(as_double(r) == 15.0);
  Value e = eval("(try (let loop ((i 0) (acc 0))"
                 "       (if (< i 5) (loop (+ i 1) (+ acc (if (= i 3) \"s\" i))) acc))"
                 "     (catch e (:message e)))");
  assert_true(is_string(e));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_quickens_and_falls_back),
      cmocka_unit_test(test_mul_overflow_is_not_a_miss),
      cmocka_unit_test(test_div_only_floats),
      cmocka_unit_test(test_branch_quickens),
      cmocka_unit_test(test_loop_switching_types),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
