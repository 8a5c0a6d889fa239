/* test_gc_gen.c - the generational collector (gc.c, GENERATIONS): objects
 * that survive a collection are old; a minor collection keeps a young object
 * that only an old, remembered object reaches, keeps old garbage until the
 * next major collection, and SEMA_GC_VERIFY aborts on a store that skipped
 * the barrier. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "boot.h"
#include "compiler.h"
#include "runtime.h"
#include "state.h"

static VM *vm;

static int setup(void **state) {
  (void)state;
  unsetenv("SEMA_GC_VERIFY");
  setenv("SEMA_GC_GENERATIONAL", "1", 1);
  vm = boot_vm_new();
  unsetenv("SEMA_GC_GENERATIONAL");
  return vm ? 0 : -1;
}
static int teardown(void **state) {
  (void)state;
  vm_free(vm);
  return 0;
}

/* A minor collection (no major one due) with the C root stack holding v. */
static void minor(void) {
  vm->heap.next_major = false;
  uint64_t majors = vm->heap.majors;
  gc_collect(vm);
  assert_int_equal(vm->heap.majors, majors);
}

static void test_survivors_are_old(void **state) {
  (void)state;
  Value v = vec_new(vm, 4);
  vm_push_root(vm, v);
  assert_int_equal(as_obj(v)->mark, 0);
  minor();
  assert_int_equal(as_obj(v)->mark, GC_OLD);
  vm_pop_roots(vm, 1);
}

/* The only reference to a young string is in an old vector: with the barrier
 * the minor collection finds it through the remembered list. */
static void test_barrier_keeps_young_child(void **state) {
  (void)state;
  Value v = vec_new(vm, 4);
  vm_push_root(vm, v);
  minor();
  Value s = str_from_c(vm, "young and only held by an old vector");
  vec_items(v)[0] = s;
  gc_barrier(vm, as_obj(v));
  assert_int_equal(as_obj(v)->mark, GC_OLD | GC_REM);
  minor();
  assert_int_equal(as_obj(v)->mark, GC_OLD); /* off the list again */
  assert_int_equal(as_obj(s)->type, OBJ_STRING);
  assert_int_equal(as_obj(s)->mark, GC_OLD);
  assert_string_equal(str_data(vec_items(v)[0]), "young and only held by an old vector");
  vm_pop_roots(vm, 1);
}

/* Old garbage stays until a major collection frees it. */
static void test_old_garbage_waits_for_major(void **state) {
  (void)state;
  Value v = vec_new(vm, 3);
  vm_push_root(vm, v);
  minor();
  vm_pop_roots(vm, 1);
  minor(); /* unreachable now, but old: a minor collection does not look */
  assert_int_equal(as_obj(v)->type, OBJ_VECTOR);
  vm->heap.next_major = true;
  gc_collect(vm);
  assert_int_equal(as_obj(v)->type, OBJ_FREE);
}

/* Young garbage goes at the next minor collection. */
static void test_young_garbage_goes(void **state) {
  (void)state;
  Value v = vec_new(vm, 3);
  minor();
  assert_int_equal(as_obj(v)->type, OBJ_FREE);
}

/* SEMA_GC_VERIFY finds an old -> young edge no barrier recorded (in a child
 * process: the check aborts), and lets the same edge pass with the barrier. */
static int verify_child(bool barrier) {
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", 1);
    if (devnull >= 0) dup2(devnull, 2);
    vm->heap.verify = true;
    Value v = vec_new(vm, 2);
    vm_push_root(vm, v);
    minor();
    vec_items(v)[1] = list_cons(vm, small_int_val(1), EMPTY_VAL);
    if (barrier) gc_barrier(vm, as_obj(v));
    minor();
    _exit(0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return st;
}

static void test_verify_catches_a_missing_barrier(void **state) {
  (void)state;
  int st = verify_child(false);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
  st = verify_child(true);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The default: every collection is major, and marks are cleared by the
 * sweep, so nothing looks old between collections and the barrier is idle. */
static void test_generational_off(void **state) {
  (void)state;
  unsetenv("SEMA_GC_GENERATIONAL");
  unsetenv("SEMA_GC_VERIFY");
  VM *v2 = boot_vm_new();
  uint64_t before = v2->heap.majors;
  Value v = vec_new(v2, 2);
  vm_push_root(v2, v);
  gc_collect(v2);
  gc_collect(v2);
  assert_int_equal(v2->heap.majors, before + 2);
  assert_int_equal(as_obj(v)->mark, 0);
  gc_barrier(v2, as_obj(v));
  assert_int_equal(v2->heap.nrem, 0);
  vm_pop_roots(v2, 1);
  vm_free(v2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_survivors_are_old, setup, teardown),
      cmocka_unit_test_setup_teardown(test_barrier_keeps_young_child, setup, teardown),
      cmocka_unit_test_setup_teardown(test_old_garbage_waits_for_major, setup, teardown),
      cmocka_unit_test_setup_teardown(test_young_garbage_goes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verify_catches_a_missing_barrier, setup, teardown),
      cmocka_unit_test(test_generational_off),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
