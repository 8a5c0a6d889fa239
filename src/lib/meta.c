/* meta.c - assertions, timing and debugging helpers (stdlib.md §26). */
#include <time.h>
#include "lib.h"

static Value n_assert(VM *vm, int argc, Value *argv) {
  if (is_truthy(argv[0])) return TRUE_VAL;
  if (argc > 1) err_throw(vm, err_make(vm, "eval", print_to_string(vm, argv[1], false)));
  err_eval(vm, "assertion failed");
}

static Value n_assert_eq(VM *vm, int argc, Value *argv) {
  if (val_equal(argv[0], argv[1])) return TRUE_VAL;
  StrBuf b;
  sb_init_vm(&b, vm);
  sb_adds(&b, "assertion failed: expected ");
  print_value(vm, &b, argv[0], true);
  sb_adds(&b, ", got ");
  print_value(vm, &b, argv[1], true);
  err_throw(vm, err_make(vm, "eval", sb_to_string(vm, &b)));
}

static Value n_spy(VM *vm, int argc, Value *argv) {
  if (!is_string(argv[0])) err_type(vm, "string", argv[0]);
  StrBuf b;
  sb_init_vm(&b, vm);
  sb_addc(&b, '[');
  sb_add(&b, str_data(argv[0]), str_len(argv[0]));
  sb_adds(&b, "] ");
  print_value(vm, &b, argv[1], true);
  sb_addc(&b, '\n');
  vm_write_err(vm, b.data, b.len);
  sb_free(&b);
  return argv[1];
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static Value n_time(VM *vm, int argc, Value *argv) {
  double t0 = now_ms();
  Value r = vm_call(vm, argv[0], 0, NULL);
  char buf[64];
  int n = snprintf(buf, sizeof buf, "Elapsed: %.3fms\n", now_ms() - t0);
  vm_write_err(vm, buf, (size_t)n);
  return r;
}

static Value n_time_ms(VM *vm, int argc, Value *argv) {
  double t0 = now_ms();
  vm_call(vm, argv[0], 0, NULL);
  return double_val(now_ms() - t0);
}

static double opt_num(VM *vm, Value opts, const char *key, double dflt) {
  Value v;
  if (is_anymap(opts) && anymap_get(opts, KW(vm, key), &v) && is_number(v)) return num_to_double(v);
  return dflt;
}

static Value n_retry(VM *vm, int argc, Value *argv) {
  if (!is_procedure(argv[0])) err_type(vm, "function", argv[0]);
  Value opts = argc > 1 ? argv[1] : NIL_VAL;
  int attempts = (int)opt_num(vm, opts, "max-attempts", 3);
  if (attempts < 1) attempts = 1;
  double delay = opt_num(vm, opts, "base-delay-ms", 100), backoff = opt_num(vm, opts, "backoff", 2.0);
  for (int k = 0;; k++) {
    Value r;
    if (vm_pcall(vm, argv[0], 0, NULL, &r) == 0) return r;
    if (k + 1 >= attempts) err_rethrow(vm);
    struct timespec ts = {(time_t)(delay / 1000), (long)((delay - (double)(time_t)(delay / 1000) * 1000) * 1e6)};
    nanosleep(&ts, NULL);
    delay *= backoff;
  }
}

static const NativeDef meta_defs[] = {
    {"assert", n_assert, 1, 2,
     "(assert test [msg])\nReturns #t when test is true, else raises an :eval error with the display form of msg as "
     "its message (\"assertion failed\" without msg)."},
    {"assert=", n_assert_eq, 2, 2,
     "(assert= expected actual)\nReturns #t when expected and actual are equal?, else raises \"assertion failed: "
     "expected E, got A\" with their printed forms."},
    {"spy", n_spy, 2, 2,
     "(spy label x)\nWrites [label] and the printed form of x to stderr, with a newline, and returns x; label must be"
     " a string."},
    {"time", n_time, 1, 1,
     "(time thunk)\nCalls the zero-argument function thunk, writes \"Elapsed: 1.234ms\" to stderr and returns the "
     "thunk's value."},
    {"time/ms", n_time_ms, 1, 1,
     "(time/ms thunk)\nCalls thunk and returns the time it took in milliseconds, as a float (its value is discarded)."},
    {"retry", n_retry, 1, 2,
     "(retry thunk [opts])\nCalls thunk until it returns without raising, at most :max-attempts times (default 3), "
     "sleeping :base-delay-ms (default 100) times :backoff (default 2.0) to the power of the attempt between tries; "
     "returns the first value or raises the last error."},
    {NULL, NULL, 0, 0},
};

void lib_meta_init(VM *vm) { env_register(vm, meta_defs); }
