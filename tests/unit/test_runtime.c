/* test_runtime.c - unit tests for the value layout, strings, equality and
 * ordering, the reader/printer pair and the collector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "boot.h"
#include "compiler.h"
#include "state.h"
#include "map.h"
#include "reader.h"
#include "runtime.h"

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

static void test_nanbox_immediates(void **state) {
  (void)state;
  assert_true(is_double(double_val(3.5)));
  assert_true(is_double(double_val(-INFINITY)));
  assert_true(is_double(double_val(NAN)));
  assert_true(is_double(double_val(-NAN)));
  assert_false(is_double(NIL_VAL));
  assert_true(is_small_int(small_int_val(-5)));
  assert_int_equal(small_int_of(small_int_val(SMALL_INT_MIN)), SMALL_INT_MIN);
  assert_int_equal(small_int_of(small_int_val(SMALL_INT_MAX)), SMALL_INT_MAX);
  assert_true(is_falsy(NIL_VAL));
  assert_true(is_falsy(FALSE_VAL));
  assert_true(is_truthy(TRUE_VAL));
  assert_true(is_truthy(EMPTY_VAL));
  assert_true(is_truthy(small_int_val(0)));
  assert_int_equal(char_of(char_val(0x10FFFF)), 0x10FFFF);
}

static void test_big_ints_box(void **state) {
  (void)state;
  Value big = obj_int(vm, INT64_MAX);
  assert_true(is_bigint(big));
  assert_true(is_int(big));
  assert_int_equal(int_of(big), INT64_MAX);
  assert_true(is_small_int(num_int(vm, 42)));
  assert_true(val_equal(obj_int(vm, INT64_MIN), obj_int(vm, INT64_MIN)));
}

static void test_strings_utf8(void **state) {
  (void)state;
  Value s = str_from_c(vm, "h\xc3\xa9llo");
  assert_int_equal(as_string(s)->nchars, 5);
  assert_int_equal(str_len(s), 6);
  assert_false(as_string(s)->h.flags & STR_ASCII);
  assert_int_equal(str_byte_offset(s, 2), 3);
  assert_true(as_string(str_from_c(vm, "abc"))->h.flags & STR_ASCII);
  size_t bad;
  assert_false(utf8_valid("a\xff", 2, &bad));
  assert_int_equal(bad, 1);
  assert_false(utf8_valid("\xed\xa0\x80", 3, &bad)); /* surrogate */
  assert_true(str_eq(str_from_c(vm, "x"), str_from_c(vm, "x")));
  assert_int_equal(str_hash(str_from_c(vm, "key")), str_hash(str_from_c(vm, "key")));
}

static void test_equality_and_order(void **state) {
  (void)state;
  assert_false(val_equal(small_int_val(1), double_val(1.0)));
  assert_true(val_num_eq(small_int_val(1), double_val(1.0)));
  assert_true(val_equal(double_val(0.0), double_val(-0.0)));
  assert_false(val_equal(double_val(NAN), double_val(NAN)));
  assert_false(val_equal(NIL_VAL, EMPTY_VAL));
  /* total order: ints before floats, -0.0 before 0.0, NaN last */
  assert_true(val_compare(small_int_val(100), double_val(1.5)) < 0);
  assert_true(val_compare(double_val(-0.0), double_val(0.0)) < 0);
  assert_true(val_compare(double_val(INFINITY), double_val(NAN)) < 0);
  assert_true(val_compare(KW(vm, "B"), KW(vm, "a")) < 0);
  assert_true(val_compare(str_from_c(vm, "a"), SYM(vm, "a")) < 0);
  Value l1 = list_2(vm, small_int_val(1), small_int_val(2));
  Value l2 = list_2(vm, small_int_val(1), small_int_val(2));
  assert_true(val_equal(l1, l2));
  assert_int_equal(val_hash(l1), val_hash(l2));
  assert_false(val_equal(l1, vec_from(vm, (Value[]){small_int_val(1), small_int_val(2)}, 2)));
  assert_int_equal(val_hash(double_val(0.0)), val_hash(double_val(-0.0)));
}

static Value read1(const char *src) {
  Value forms = reader_read_all(vm, src, strlen(src));
  return car(forms);
}

static char *printed(Value v) {
  StrBuf b;
  sb_init(&b);
  print_value(vm, &b, v, true);
  return b.data;
}

static void test_reader_printer_roundtrip(void **state) {
  (void)state;
  const char *cases[] = {"(1 2.5 \"a\\nb\" #\\a :k sym nil #t ())", "[1 [2] {:a 1 :b \"x\"}]", "(a . b)",
                         "(quote x)", "-9223372036854775808", "0.30000000000000004", "1000000.0"};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *p = printed(read1(cases[i]));
    assert_string_equal(p, cases[i]);
    free(p);
  }
  char *p = printed(read1("{:b 2 :a 1}"));
  assert_string_equal(p, "{:a 1 :b 2}");
  free(p);
}

static void test_reader_positions(void **state) {
  (void)state;
  Value form = read1("\n  (foo\n   bar)");
  assert_true(is_cons(form));
  uint32_t pos = as_obj(form)->aux;
  assert_int_equal(POS_LINE(pos), 2);
  assert_int_equal(POS_COL(pos), 3);
  uint32_t second = as_obj(cdr(form))->aux;
  assert_int_equal(POS_LINE(second), 3);
  assert_int_equal(POS_COL(second), 4);
}

static void test_gc_keeps_roots_frees_garbage(void **state) {
  (void)state;
  gc_collect(vm);
  size_t live0 = vm->heap.live;
  Value keep = EMPTY_VAL;
  for (int i = 0; i < 1000; i++) keep = list_cons(vm, small_int_val(i), keep);
  vm_push_root(vm, keep);
  for (int i = 0; i < 100000; i++) (void)list_cons(vm, small_int_val(i), EMPTY_VAL); /* garbage */
  gc_collect(vm);
  assert_int_equal(list_length(keep), 1000);
  assert_int_equal(small_int_of(car(keep)), 999);
  assert_true(vm->heap.live < live0 + 1000 * 64 + 4096);
  vm_pop_roots(vm, 1);
  gc_collect(vm);
  assert_true(vm->heap.live <= live0 + 4096);
}

/* Past 8 MiB the collector takes pages from huge-page arenas (gc.c,
 * page_new): live data spread over several arenas must survive collections,
 * and the pages of dead data go back to the pool and are reused before a new
 * arena is mapped. */
static size_t count_arenas(void) {
  size_t n = 0;
  for (Arena *a = vm->heap.arenas; a; a = *(Arena **)a) n++;
  return n;
}

/* A list of 0..n-1 (reversed) built in the last root slot, collecting every
 * 100,000 cells so that the heap grows through many cycles. */
static Value grow_rooted_list(int n) {
  Value keep = EMPTY_VAL;
  for (int i = 0; i < n; i++) {
    keep = list_cons(vm, small_int_val(i), keep);
    if (i % 100000 == 0) {
      vm->roots[vm->nroots - 1] = keep;
      gc_collect(vm);
    }
  }
  vm->roots[vm->nroots - 1] = keep;
  gc_collect(vm);
  return keep;
}

static void test_gc_arena_pages(void **state) {
  (void)state;
  vm_push_root(vm, EMPTY_VAL);
  Value keep = grow_rooted_list(1000000); /* 24 MB of cons cells */
  size_t arenas = count_arenas();
  assert_true(arenas >= 4);
  int64_t sum = 0, n = 0;
  for (Value l = keep; is_cons(l); l = cdr(l)) sum += small_int_of(car(l)), n++;
  assert_int_equal(n, 1000000);
  assert_int_equal(sum, (int64_t)999999 * 1000000 / 2);
  /* drop it: the empty arena pages return to the pool... */
  vm->roots[vm->nroots - 1] = EMPTY_VAL;
  gc_collect(vm);
  assert_non_null(vm->heap.page_pool);
  /* ...and the same amount allocated again fits in the arenas already mapped */
  keep = grow_rooted_list(1000000);
  assert_true(count_arenas() <= arenas + 1);
  assert_int_equal(list_length(keep), 1000000);
  vm_pop_roots(vm, 1);
  gc_collect(vm);
  /* a hash-map table past 1 MiB is its own mapping (gc_big_alloc) */
  const char *src = "(let ((m (foldl (fn (m i) (assoc m i (* i 2))) (hashmap/new) (range 300000))))"
                    "  (+ (count m) (get m 299999) (get m 7)))";
  Value v = compile_eval_string(vm, src, strlen(src), NULL);
  assert_int_equal(small_int_of(v), 300000 + 599998 + 14);
}

static void test_eval_string(void **state) {
  (void)state;
  Value v = compile_eval_string(vm, "(define (sq x) (* x x)) (sq 12)", 31, NULL);
  assert_int_equal(small_int_of(v), 144);
  Value err;
  int rc = vm_pcall(vm, env_get(vm, "car"), 1, (Value[]){small_int_val(5)}, &err);
  assert_int_equal(rc, 1);
  Value msg;
  assert_true(map_get(vm->error, KW(vm, "message"), &msg));
  assert_string_equal(str_data(msg), "expected list or vector, got int");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nanbox_immediates),
      cmocka_unit_test(test_big_ints_box),
      cmocka_unit_test(test_strings_utf8),
      cmocka_unit_test(test_equality_and_order),
      cmocka_unit_test(test_reader_printer_roundtrip),
      cmocka_unit_test(test_reader_positions),
      cmocka_unit_test(test_gc_keeps_roots_frees_garbage),
      cmocka_unit_test(test_gc_arena_pages),
      cmocka_unit_test(test_eval_string),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
