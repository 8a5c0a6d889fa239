/* test_api.c - the C embedding API (include/sema.h), used as an outside
 * program would: only sema.h, no internal headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "sema.h"

/* ---- helpers ---- */

/* Helpers in Sema that depend on the core language only. */
static const char *const helpers =
    "(define (iota n) (let loop ((i (- n 1)) (acc '())) (if (< i 0) acc (loop (- i 1) (cons i acc)))))"
    "(define junk nil)"
    "(define (churn n) (let loop ((k 0)) (if (< k n)"
    "  (begin (set! junk (list (string-append \"j\" (number->string k)) (vector k k))) (loop (+ k 1))) n)))";

static sema_State *open_state(bool stress) {
  if (stress)
    setenv("SEMA_GC_STRESS", "1", 1);
  else
    unsetenv("SEMA_GC_STRESS");
  sema_State *S = sema_open();
  unsetenv("SEMA_GC_STRESS");
  assert_non_null(S);
  if (sema_eval(S, helpers, strlen(helpers), "helpers", NULL) != SEMA_OK) fail_msg("%s", sema_error_message(S));
  return S;
}

static sema_Value *eval_ok(sema_State *S, const char *src) {
  sema_Value *r = NULL;
  int rc = sema_eval(S, src, strlen(src), "test", &r);
  if (rc != SEMA_OK) fail_msg("eval %s: %s", src, sema_error_message(S));
  assert_non_null(r);
  return r;
}

static int64_t eval_int(sema_State *S, const char *src) {
  sema_Value *r = eval_ok(S, src);
  int ok = 0;
  int64_t i = sema_to_int(S, r, &ok);
  assert_true(ok);
  sema_release(S, r);
  return i;
}

/* the printed form, compared and freed */
static void assert_repr(sema_State *S, sema_Value *v, const char *want) {
  char *s = sema_repr(S, v);
  assert_non_null(s);
  assert_string_equal(s, want);
  free(s);
}

static void assert_eval_repr(sema_State *S, const char *src, const char *want) {
  sema_Value *r = eval_ok(S, src);
  assert_repr(S, r, want);
  sema_release(S, r);
}

/* ---- states ---- */

static void test_two_states(void **st) {
  (void)st;
  sema_State *A = open_state(false), *B = open_state(false);
  sema_release(A, eval_ok(A, "(define x 1)"));
  sema_release(B, eval_ok(B, "(define x 2)"));
  assert_int_equal(eval_int(A, "x"), 1);
  assert_int_equal(eval_int(B, "x"), 2);
  /* sorted maps compare symbols by name through the current state's symbol
   * table: symbols only A knows, used after B was opened */
  assert_eval_repr(A, "{'only-in-a-3 1 'only-in-a-1 2 'only-in-a-2 3}", "{only-in-a-1 2 only-in-a-2 3 only-in-a-3 1}");
  assert_eval_repr(B, "{'zz 1 'xx 2}", "{xx 2 zz 1}");
  sema_Value *a = eval_ok(A, "'(1 2 3)");
  sema_close(B);
  assert_repr(A, a, "(1 2 3)");
  sema_close(A);
  assert_non_null(sema_version());
}

/* ---- evaluation ---- */

static void test_eval_string(void **st) {
  (void)st;
  sema_State *S = open_state(false);
  assert_int_equal(eval_int(S, "(+ 1 2)"), 3);
  assert_int_equal(eval_int(S, "(define y 20) (* y 2)"), 40);
  assert_int_equal(sema_eval(S, "(define z 5)", 12, NULL, NULL), SEMA_OK);
  assert_int_equal(eval_int(S, "z"), 5);
  assert_eval_repr(S, "\"hi\"", "\"hi\"");
  sema_Value *n = eval_ok(S, "nil");
  assert_int_equal(sema_type(S, n), SEMA_TNIL);
  sema_release(S, n);
  /* LEN is honoured: the text after it is not read */
  sema_Value *r = NULL;
  assert_int_equal(sema_eval(S, "(+ 1 1) garbage(", 7, NULL, &r), SEMA_OK);
  assert_int_equal(sema_to_int(S, r, NULL), 2);
  sema_release(S, r);
  sema_close(S);
}

static void test_eval_file(void **st) {
  (void)st;
  sema_State *S = open_state(false);
  char path[] = "/tmp/sema-api-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *src = "(defun twice (x) (* 2 x))\n(twice 21)\n";
  assert_int_equal(write(fd, src, strlen(src)), (ssize_t)strlen(src));
  close(fd);
  sema_Value *r = NULL;
  assert_int_equal(sema_eval_file(S, path, &r), SEMA_OK);
  assert_int_equal(sema_to_int(S, r, NULL), 42);
  sema_release(S, r);
  assert_int_equal(eval_int(S, "(twice 4)"), 8);
  /* an error in the file reports the file's position */
  FILE *f = fopen(path, "w");
  fputs("(define a 1)\n\n   (car 5)\n", f);
  fclose(f);
  assert_int_equal(sema_eval_file(S, path, &r), SEMA_ERROR);
  assert_null(r);
  assert_int_equal(sema_error_line(S), 3);
  assert_int_equal(sema_error_col(S), 4);
  unlink(path);
  assert_int_equal(sema_eval_file(S, path, NULL), SEMA_ERROR);
  assert_non_null(strstr(sema_error_message(S), "IO error"));
  sema_close(S);
}

/* ---- errors ---- */

static void test_errors(void **st) {
  (void)st;
  sema_State *S = open_state(false);
  assert_string_equal(sema_error_message(S), "");
  assert_null(sema_error_value(S));
  sema_Value *r = (sema_Value *)&r; /* must be overwritten with NULL */
  const char *src = "(define q 1)\n(+ q\n   (/ 1 0))";
  assert_int_equal(sema_eval(S, src, strlen(src), "calc", &r), SEMA_ERROR);
  assert_null(r);
  assert_string_equal(sema_error_message(S), "Eval error: division by zero");
  assert_int_equal(sema_error_line(S), 3);
  assert_int_equal(sema_error_col(S), 4);
  sema_Value *e = sema_error_value(S);
  assert_int_equal(sema_type(S, e), SEMA_TMAP);
  sema_Value *k = sema_keyword(S, "type");
  sema_Value *t = sema_map_get(S, e, k);
  assert_repr(S, t, ":eval");
  sema_release(S, t);
  sema_release(S, k);
  sema_release(S, e);

  /* reader errors carry the reader position */
  assert_int_equal(sema_eval(S, "\n  (+ 1", 7, NULL, NULL), SEMA_ERROR);
  assert_non_null(strstr(sema_error_message(S), "Reader error at 2:3"));
  assert_int_equal(sema_error_line(S), 2);
  assert_int_equal(sema_error_col(S), 3);

  /* a user throw keeps the thrown value */
  assert_int_equal(sema_eval(S, "(throw {:code 404})", 19, NULL, NULL), SEMA_ERROR);
  assert_string_equal(sema_error_message(S), "User exception: {:code 404}");
  assert_int_equal(sema_eval(S, "(undefined-thing)", 17, NULL, NULL), SEMA_ERROR);
  assert_non_null(strstr(sema_error_message(S), "Unbound variable: undefined-thing"));

  /* the state is usable after errors, and the error survives collections */
  sema_release(S, eval_ok(S, "(churn 10000)"));
  assert_int_equal(eval_int(S, "(+ q 1)"), 2);
  assert_non_null(strstr(sema_error_message(S), "undefined-thing"));

  /* calling a non-function */
  sema_Value *five = sema_int(S, 5);
  assert_int_equal(sema_call(S, five, 0, NULL, &r), SEMA_ERROR);
  assert_null(r);
  assert_true(strlen(sema_error_message(S)) > 0);
  sema_release(S, five);
  sema_close(S);
}

/* ---- calling Sema from C ---- */

static void call_loop(sema_State *S, int n) {
  sema_release(S, eval_ok(S, "(defun add3 (a b c) (+ a b (* c 2)))"));
  sema_Value *fn = sema_get_global(S, "add3");
  assert_non_null(fn);
  assert_int_equal(sema_type(S, fn), SEMA_TFUNCTION);
  sema_Value *two = sema_int(S, 2);
  int64_t sum = 0;
  for (int i = 0; i < n; i++) {
    sema_Value *args[3] = {sema_int(S, i), two, sema_int(S, 1)};
    sema_Value *r = NULL;
    assert_int_equal(sema_call(S, fn, 3, args, &r), SEMA_OK);
    sum += sema_to_int(S, r, NULL);
    sema_release(S, r);
    sema_release(S, args[0]);
    sema_release(S, args[2]);
  }
  assert_int_equal(sum, (int64_t)n * (n - 1) / 2 + 4 * (int64_t)n);
  sema_release(S, two);
  sema_release(S, fn);
}

static void test_call_loop(void **st) {
  (void)st;
  sema_State *S = open_state(false);
  call_loop(S, 100000);
  /* a closure that allocates, passed a string made in C */
  sema_release(S, eval_ok(S, "(define (greet name) (string-append \"hello, \" name \"!\"))"));
  sema_Value *greet = sema_get_global(S, "greet");
  sema_Value *name = sema_string(S, "wörld", strlen("wörld"));
  sema_Value *r = NULL;
  assert_int_equal(sema_call(S, greet, 1, &name, &r), SEMA_OK);
  size_t len;
  assert_string_equal(sema_to_string(S, r, &len), "hello, wörld!");
  assert_int_equal(len, strlen("hello, wörld!"));
  sema_release(S, r);
  /* arity errors come back as errors */
  assert_int_equal(sema_call(S, greet, 0, NULL, NULL), SEMA_ERROR);
  assert_non_null(strstr(sema_error_message(S), "Arity error"));
  /* more arguments than fit the small on-stack buffer */
  sema_Value *list = sema_get_global(S, "list");
  sema_Value *many[20];
  for (int i = 0; i < 20; i++) many[i] = sema_int(S, i);
  assert_int_equal(sema_call(S, list, 20, many, &r), SEMA_OK);
  assert_int_equal(sema_len(S, r), 20);
  for (int i = 0; i < 20; i++) sema_release(S, many[i]);
  sema_release(S, r);
  sema_release(S, list);
  sema_release(S, name);
  sema_release(S, greet);
  sema_close(S);
}

static void test_call_loop_gc_stress(void **st) {
  (void)st;
  sema_State *S = open_state(true);
  call_loop(S, 2000);
  sema_close(S);
}

/* ---- C functions ---- */

typedef struct {
  int calls;
  double scale;
} Counter;

static int c_scale(sema_State *S, int argc, sema_Value *const *argv, sema_Value **result, void *ud) {
  Counter *c = ud;
  c->calls++;
  int ok;
  double x = sema_to_float(S, argv[0], &ok);
  if (!ok) return sema_raise(S, "c/scale: expected a number, got %s", sema_type_name(sema_type(S, argv[0])));
  *result = sema_float(S, x * c->scale);
  (void)argc;
  return SEMA_OK;
}

static int c_sum(sema_State *S, int argc, sema_Value *const *argv, sema_Value **result, void *ud) {
  (void)ud;
  int64_t s = 0;
  for (int i = 0; i < argc; i++) s += sema_to_int(S, argv[i], NULL);
  *result = sema_int(S, s);
  return SEMA_OK;
}

/* calls back into Sema and passes on its failure without sema_raise */
static int c_apply_twice(sema_State *S, int argc, sema_Value *const *argv, sema_Value **result, void *ud) {
  (void)argc, (void)ud;
  sema_Value *once = NULL;
  if (sema_call(S, argv[0], 1, &argv[1], &once) != SEMA_OK) return SEMA_ERROR;
  int rc = sema_call(S, argv[0], 1, &once, result);
  sema_release(S, once);
  return rc;
}

static int c_identity(sema_State *S, int argc, sema_Value *const *argv, sema_Value **result, void *ud) {
  (void)S, (void)argc, (void)ud;
  *result = argv[0]; /* returning a borrowed argument is tolerated */
  return SEMA_OK;
}

static int c_nothing(sema_State *S, int argc, sema_Value *const *argv, sema_Value **result, void *ud) {
  (void)S, (void)argc, (void)argv, (void)result, (void)ud;
  return SEMA_OK; /* *result left NULL: nil */
}

static int c_fail_silently(sema_State *S, int argc, sema_Value *const *argv, sema_Value **result, void *ud) {
  (void)S, (void)argc, (void)argv, (void)result, (void)ud;
  return SEMA_ERROR;
}

static void register_all(sema_State *S, Counter *c) {
  assert_int_equal(sema_register(S, "c/scale", c_scale, 1, 1, c), SEMA_OK);
  assert_int_equal(sema_register(S, "c/sum", c_sum, 0, -1, NULL), SEMA_OK);
  assert_int_equal(sema_register(S, "c/apply-twice", c_apply_twice, 2, 2, NULL), SEMA_OK);
  assert_int_equal(sema_register(S, "c/identity", c_identity, 1, 1, NULL), SEMA_OK);
  assert_int_equal(sema_register(S, "c/nothing", c_nothing, 0, 0, NULL), SEMA_OK);
  assert_int_equal(sema_register(S, "c/fail", c_fail_silently, 0, 0, NULL), SEMA_OK);
}

static void cfunction_checks(sema_State *S, Counter *c) {
  assert_eval_repr(S, "(c/scale 4)", "10.0");
  assert_int_equal(c->calls, 1);
  assert_int_equal(eval_int(S, "(c/sum)"), 0);
  assert_int_equal(eval_int(S, "(apply c/sum (iota 101))"), 5050);
  assert_int_equal(eval_int(S, "(let loop ((i 0) (s 0)) (if (= i 1000) s (loop (+ i 1) (+ s (c/sum i i 1)))))"), 1000 * 999 + 1000);
  assert_int_equal(eval_int(S, "(c/apply-twice (lambda (x) (* x 3)) 5)"), 45);
  assert_eval_repr(S, "(c/identity \"same\")", "\"same\"");
  assert_eval_repr(S, "(list (c/nothing))", "(nil)");

  /* arity is checked before the C function runs */
  int before = c->calls;
  assert_int_equal(sema_eval(S, "(c/scale 1 2)", 13, NULL, NULL), SEMA_ERROR);
  assert_non_null(strstr(sema_error_message(S), "Arity error"));
  assert_int_equal(c->calls, before);

  /* sema_raise becomes an :eval error that try catches */
  assert_eval_repr(S, "(try (c/scale \"x\") (catch e (list (:type e) (:message e))))",
                   "(:eval \"c/scale: expected a number, got string\")");
  assert_int_equal(sema_eval(S, "(c/scale 'sym)", 14, NULL, NULL), SEMA_ERROR);
  assert_string_equal(sema_error_message(S), "Eval error: c/scale: expected a number, got symbol");
  /* a nested failure passes through unchanged */
  assert_eval_repr(S, "(try (c/apply-twice (lambda (x) (throw x)) 7) (catch e (:value e)))", "7");
  assert_eval_repr(S, "(try (c/fail) (catch e (:message e)))", "\"c/fail: C function failed\"");
}

static void test_cfunctions(void **st) {
  (void)st;
  Counter c = {0, 2.5};
  sema_State *S = open_state(false);
  register_all(S, &c);
  cfunction_checks(S, &c);
  /* callable from C too, like any function */
  sema_Value *f = sema_get_global(S, "c/sum"), *r = NULL;
  sema_Value *args[2] = {sema_int(S, 40), sema_int(S, 2)};
  assert_int_equal(sema_call(S, f, 2, args, &r), SEMA_OK);
  assert_int_equal(sema_to_int(S, r, NULL), 42);
  sema_release(S, r);
  sema_release(S, args[0]);
  sema_release(S, args[1]);
  sema_release(S, f);
  /* bad registrations */
  assert_int_equal(sema_register(S, "c/bad", c_sum, 3, 1, NULL), SEMA_ERROR);
  assert_int_equal(sema_register(S, "", c_sum, 0, 0, NULL), SEMA_ERROR);
  assert_int_equal(sema_register(S, "c/bad", NULL, 0, 0, NULL), SEMA_ERROR);
  /* redefining a builtin that has an intrinsic opcode takes effect */
  assert_int_equal(sema_register(S, "+", c_sum, 0, -1, NULL), SEMA_OK);
  assert_int_equal(eval_int(S, "(+ 1 2 3)"), 6);
  sema_close(S);
}

static void test_cfunctions_gc_stress(void **st) {
  (void)st;
  Counter c = {0, 2.5};
  sema_State *S = open_state(true);
  register_all(S, &c);
  cfunction_checks(S, &c);
  sema_close(S);
}

/* ---- conversions ---- */

static void test_conversions(void **st) {
  (void)st;
  sema_State *S = open_state(false);
  int ok;
  sema_Value *v;

  v = sema_int(S, INT64_MIN);
  assert_int_equal(sema_type(S, v), SEMA_TINT);
  assert_true(sema_to_int(S, v, &ok) == INT64_MIN && ok);
  sema_release(S, v);
  v = sema_int(S, (int64_t)1 << 60); /* beyond the immediate range */
  assert_true(sema_to_int(S, v, &ok) == (int64_t)1 << 60 && ok);
  sema_set_global(S, "big", v);
  assert_eval_repr(S, "(+ big 1)", "1152921504606846977");
  sema_release(S, v);

  v = sema_float(S, 1.5);
  assert_int_equal(sema_type(S, v), SEMA_TFLOAT);
  assert_true(sema_to_float(S, v, &ok) == 1.5 && ok);
  sema_to_int(S, v, &ok);
  assert_false(ok);
  assert_repr(S, v, "1.5");
  sema_release(S, v);

  v = sema_bool(S, false);
  assert_int_equal(sema_type(S, v), SEMA_TBOOL);
  assert_false(sema_to_bool(S, v));
  sema_release(S, v);
  v = sema_nil(S);
  assert_false(sema_to_bool(S, v));
  assert_false(sema_to_bool(S, NULL));
  sema_release(S, v);
  v = sema_int(S, 0);
  assert_true(sema_to_bool(S, v)); /* 0 is true in Sema */
  sema_release(S, v);

  /* strings: UTF-8 in, UTF-8 out; embedded length, not NUL-terminated input */
  v = sema_string(S, "héllo, wörld!!", strlen("héllo, wörld"));
  size_t len;
  assert_string_equal(sema_to_string(S, v, &len), "héllo, wörld");
  assert_int_equal(len, 14);
  assert_int_equal(sema_len(S, v), 12);
  assert_int_equal(sema_type(S, v), SEMA_TSTRING);
  sema_set_global(S, "s", v);
  assert_int_equal(eval_int(S, "(string-length s)"), 12);
  sema_release(S, v);
  assert_null(sema_string(S, "bad \xff byte", 10));
  assert_null(sema_string(S, "\xc3", 1));          /* truncated sequence */
  assert_null(sema_string(S, "\xed\xa0\x80", 3));  /* surrogate */
  assert_null(sema_string(S, "\xc0\xaf", 2));      /* overlong */
  v = sema_string(S, "", 0);
  assert_string_equal(sema_to_string(S, v, NULL), "");
  sema_release(S, v);

  v = sema_keyword(S, "name");
  assert_int_equal(sema_type(S, v), SEMA_TKEYWORD);
  assert_string_equal(sema_to_string(S, v, NULL), "name");
  assert_repr(S, v, ":name");
  sema_release(S, v);
  v = sema_symbol(S, "foo");
  assert_int_equal(sema_type(S, v), SEMA_TSYMBOL);
  assert_repr(S, v, "foo");
  sema_release(S, v);
  assert_null(sema_symbol(S, "\xff"));

  /* lists and vectors both ways */
  sema_Value *items[3] = {sema_int(S, 1), sema_string(S, "two", 3), NULL};
  sema_Value *l = sema_list(S, 3, items), *vec = sema_vector(S, 3, items);
  assert_repr(S, l, "(1 \"two\" nil)");
  assert_repr(S, vec, "[1 \"two\" nil]");
  assert_int_equal(sema_type(S, l), SEMA_TLIST);
  assert_int_equal(sema_type(S, vec), SEMA_TVECTOR);
  assert_int_equal(sema_len(S, l), 3);
  assert_int_equal(sema_len(S, vec), 3);
  sema_Value *e = sema_index(S, l, 1);
  assert_string_equal(sema_to_string(S, e, NULL), "two");
  sema_release(S, e);
  e = sema_index(S, vec, 0);
  assert_int_equal(sema_to_int(S, e, NULL), 1);
  sema_release(S, e);
  assert_null(sema_index(S, l, 3));
  assert_null(sema_index(S, vec, 3));
  sema_Value *empty = sema_list(S, 0, NULL);
  assert_int_equal(sema_type(S, empty), SEMA_TLIST);
  assert_repr(S, empty, "()");
  assert_int_equal(sema_len(S, empty), 0);
  sema_release(S, empty);
  for (int i = 0; i < 3; i++) sema_release(S, items[i]);
  sema_release(S, l);
  sema_release(S, vec);

  /* values from Sema */
  sema_Value *m = eval_ok(S, "{:a 1 \"b\" [2 3] 'c #\\x}");
  assert_int_equal(sema_type(S, m), SEMA_TMAP);
  assert_int_equal(sema_len(S, m), 3);
  sema_Value *key = sema_keyword(S, "a");
  v = sema_map_get(S, m, key);
  assert_int_equal(sema_to_int(S, v, NULL), 1);
  sema_release(S, v);
  sema_release(S, key);
  key = sema_string(S, "b", 1);
  v = sema_map_get(S, m, key);
  assert_repr(S, v, "[2 3]");
  sema_release(S, v);
  sema_release(S, key);
  key = sema_symbol(S, "c");
  v = sema_map_get(S, m, key);
  assert_int_equal(sema_type(S, v), SEMA_TCHAR);
  sema_release(S, v);
  sema_release(S, key);
  key = sema_keyword(S, "missing");
  assert_null(sema_map_get(S, m, key));
  assert_null(sema_map_get(S, key, key)); /* not a map */
  sema_release(S, key);
  sema_release(S, m);

  m = eval_ok(S, "(hashmap/assoc (hashmap/new) \"k\" 9)");
  assert_int_equal(sema_type(S, m), SEMA_THASHMAP);
  key = sema_string(S, "k", 1);
  v = sema_map_get(S, m, key);
  assert_int_equal(sema_to_int(S, v, NULL), 9);
  sema_release(S, v);
  sema_release(S, key);
  sema_release(S, m);

  /* globals */
  assert_null(sema_get_global(S, "no-such-global"));
  sema_set_global(S, "from-c", NULL);
  v = sema_get_global(S, "from-c");
  assert_non_null(v);
  assert_int_equal(sema_type(S, v), SEMA_TNIL);
  sema_release(S, v);
  assert_string_equal(sema_type_name(SEMA_THASHMAP), "hashmap");
  sema_close(S);
}

/* ---- handles and the collector ---- */

static void handles_survive(sema_State *S) {
  enum { N = 1000 }; /* several chunks of handles */
  sema_Value *hs[N];
  for (int i = 0; i < N; i++) {
    char buf[64];
    int n = snprintf(buf, sizeof buf, "string number %d", i);
    hs[i] = i % 2 ? sema_string(S, buf, (size_t)n) : eval_ok(S, "(list (vector 1 2) \"x\" (iota 3))");
  }
  /* garbage: the only references to these objects are our handles */
  sema_release(S, eval_ok(S, "(churn 20000)"));
  for (int i = 0; i < N; i++) {
    if (i % 2) {
      char buf[64];
      snprintf(buf, sizeof buf, "string number %d", i);
      assert_string_equal(sema_to_string(S, hs[i], NULL), buf);
    } else if (i % 97 == 0) {
      assert_repr(S, hs[i], "([1 2] \"x\" (0 1 2))");
    }
  }
  for (int i = 0; i < N; i++) sema_release(S, hs[i]);
}

static void test_handles_gc(void **st) {
  (void)st;
  sema_State *S = open_state(false);
  handles_survive(S);
  sema_close(S);
  S = open_state(true);
  handles_survive(S);
  sema_close(S);
}

static void test_release(void **st) {
  (void)st;
  sema_State *S = open_state(false);
  sema_Value *a = sema_int(S, 1);
  sema_release(S, a);
  sema_release(S, a); /* double release of a slot not yet reused is harmless */
  sema_release(S, NULL);
  sema_Value *b = sema_int(S, 2);
  assert_ptr_equal(a, b); /* the free list reuses the slot */
  sema_Value *c = sema_dup(S, b);
  assert_ptr_not_equal(b, c);
  sema_release(S, b);
  assert_int_equal(sema_to_int(S, c, NULL), 2);
  sema_release(S, c);
  /* a state closed with handles still out frees them */
  for (int i = 0; i < 600; i++) (void)sema_string(S, "leak", 4);
  sema_close(S);
  sema_close(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_two_states),   cmocka_unit_test(test_eval_string),
      cmocka_unit_test(test_eval_file),    cmocka_unit_test(test_errors),
      cmocka_unit_test(test_call_loop),    cmocka_unit_test(test_call_loop_gc_stress),
      cmocka_unit_test(test_cfunctions),   cmocka_unit_test(test_cfunctions_gc_stress),
      cmocka_unit_test(test_conversions),  cmocka_unit_test(test_handles_gc),
      cmocka_unit_test(test_release),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
