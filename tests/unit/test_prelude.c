/* test_prelude.c - the prelude's macros are lazy globals (env.c, "Lazy
 * globals"; prelude.c): at start-up each has a cell with CELL_LAZY and its
 * doc, no value; the first read compiles exactly that definition, into the
 * global environment; a store first drops the waiting definition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "boot.h"
#include "compiler.h"
#include "env.h"
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

static GlobalCell *cell_of(const char *name) {
  int32_t c = env_lookup(vm, &vm->genv, SYM(vm, name), false);
  assert_true(c >= 0);
  return &vm->globals[c];
}

/* Every waiting cell defines a macro of its own name with its doc kept: a
 * table row whose source defined another name would leave its cell unbound. */
static void test_every_lazy_cell_defines_its_macro(void **state) {
  (void)state;
  VM *v = boot_vm_new();
  uint32_t lazy[64], n = 0;
  for (uint32_t i = 0; i < v->nglobals; i++)
    if (v->globals[i].flags & CELL_LAZY) {
      assert_true(v->globals[i].value == UNBOUND_VAL);
      assert_true(v->globals[i].flags & CELL_DOC);
      assert_true(n < 64);
      lazy[n++] = i;
    }
  assert_int_equal(n, 22); /* language.md §8 and the async/term macros */
  env_force_all(v);
  for (uint32_t k = 0; k < n; k++) {
    GlobalCell *g = &v->globals[lazy[k]];
    assert_false(g->flags & CELL_LAZY);
    assert_true(is_objtype(g->value, OBJ_MACRO));
    assert_true((g->flags & CELL_DOC) && g->doc && strstr(g->doc, sym_cstr(v, g->name)) != NULL);
  }
  vm_free(v);
}

/* A use compiles only what it needs: -> is defined by some->'s expansion,
 * as-> stays waiting. */
static void test_first_use_defines_only_what_it_needs(void **state) {
  (void)state;
  assert_true(cell_of("some->")->flags & CELL_LAZY);
  assert_true(cell_of("->")->flags & CELL_LAZY);
  assert_int_equal(small_int_of(eval("(some-> 4 (+ 1))")), 5);
  assert_false(cell_of("some->")->flags & CELL_LAZY);
  assert_false(cell_of("->")->flags & CELL_LAZY);
  assert_true(is_objtype(cell_of("->")->value, OBJ_MACRO));
  assert_true(cell_of("as->")->flags & CELL_LAZY);
  assert_true(cell_of("as->")->value == UNBOUND_VAL);
}

/* A definition stored before the first read wins and the waiting one is
 * dropped, with the doc that described it. */
static void test_store_drops_waiting_definition(void **state) {
  (void)state;
  assert_true(cell_of("if-let")->flags & CELL_LAZY);
  eval("(define (if-let a b c) (list a b c))");
  GlobalCell *g = cell_of("if-let");
  assert_false(g->flags & (CELL_LAZY | CELL_DOC));
  assert_true(is_closure(g->value));
  Value r = eval("(if-let 1 2 3)");
  assert_int_equal(small_int_of(car(cdr(cdr(r)))), 3);
}

/* Forced from inside a module, the macro is defined globally, not in the
 * module, and the module keeps loading in its own environment. */
static void test_forced_in_module_defines_globally(void **state) {
  (void)state;
  assert_true(cell_of("dotimes")->flags & CELL_LAZY);
  char path[] = "/tmp/sema-lazy-XXXXXX.sema";
  int fd = mkstemps(path, 5);
  assert_true(fd >= 0);
  const char *mod = "(module lazy-m (export f)\n"
                    "  (define (f) (let ((n 0)) (dotimes (i 4) (set! n (+ n i))) n)))\n";
  assert_int_equal(write(fd, mod, strlen(mod)), (ssize_t)strlen(mod));
  close(fd);
  char src[256];
  snprintf(src, sizeof src, "(import \"%s\") (f)", path);
  Value r = eval(src);
  unlink(path);
  assert_int_equal(small_int_of(r), 6);
  assert_true(is_objtype(cell_of("dotimes")->value, OBJ_MACRO));
  assert_true(vm->env == &vm->genv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_lazy_cell_defines_its_macro),
      cmocka_unit_test(test_first_use_defines_only_what_it_needs),
      cmocka_unit_test(test_store_drops_waiting_definition),
      cmocka_unit_test(test_forced_in_module_defines_globally),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
