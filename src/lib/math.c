/* math.c - numbers beyond the core operators (stdlib.md §4), the remaining
 * comparison predicates (§5), type predicates (§6), conversions (§7) and
 * bitwise operations (§23). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include "../ops.h"
#include "lib.h"
#include "numfmt.h"
#include "../symbol.h"

/* ---- shared helpers ---- */

/* "NAME: cannot convert X to an integer ..." for a float that was already
 * rounded as the caller wants; X is printed like the reference (no ".0"). */
static int64_t float_to_i64(VM *vm, const char *name, double r) {
  if (isnan(r) || r >= 9223372036854775808.0 || r < -9223372036854775808.0) {
    char buf[NUMFMT_BUFSIZE];
    numfmt_double(buf, sizeof buf, r, false);
    err_eval(vm, "%s: cannot convert %s to an integer (not finite or out of i64 range)", name, buf);
  }
  return (int64_t)r;
}

static bool parse_float(Value str, double *out) {
  int64_t iv;
  NumKind k = numfmt_parse_lenient(str_data(str), str_len(str), &iv, out);
  if (k == NUMFMT_INT) *out = (iv == 0 && str_data(str)[0] == '-') ? -0.0 : (double)iv;
  return k != NUMFMT_NONE;
}

static Value float_val(double d) { return val_canon_double(d); }

/* ---- §4.2 magnitude and rounding ---- */

static Value n_abs(VM *vm, int argc, Value *argv) {
  Value x = argv[0];
  if (is_double(x)) return float_val(fabs(as_double(x)));
  if (!is_int(x)) err_type(vm, "number", x);
  int64_t i = int_of(x);
  if (i == INT64_MIN) err_eval(vm, "abs: |i64::MIN| overflows i64");
  return num_int(vm, i < 0 ? -i : i);
}

static Value round_with(VM *vm, Value x, const char *name, double (*f)(double)) {
  if (is_int(x)) return x;
  if (!is_double(x)) err_type(vm, "number", x);
  return num_int(vm, float_to_i64(vm, name, f(as_double(x))));
}
static Value n_floor(VM *vm, int argc, Value *argv) { return round_with(vm, argv[0], "floor", floor); }
static Value n_ceil(VM *vm, int argc, Value *argv) { return round_with(vm, argv[0], "ceil", ceil); }
static Value n_round(VM *vm, int argc, Value *argv) { return round_with(vm, argv[0], "round", round); }
static Value n_truncate(VM *vm, int argc, Value *argv) { return round_with(vm, argv[0], "truncate", trunc); }

static int64_t arg_integer(VM *vm, Value v) {
  if (!is_int(v)) err_type(vm, "integer", v);
  return int_of(v);
}

static Value n_round_to(VM *vm, int argc, Value *argv) {
  double x = arg_num(vm, argv[0]);
  int64_t places = arg_integer(vm, argv[1]);
  double f = pow(10.0, (double)places);
  return float_val(round(x * f) / f);
}

static Value n_format_fixed(VM *vm, int argc, Value *argv) {
  double x = arg_num(vm, argv[0]);
  int64_t places = arg_integer(vm, argv[1]);
  if (!isfinite(x)) return str_from_c(vm, isnan(x) ? "NaN" : x > 0 ? "inf" : "-inf");
  /* digits past ~1100 are all zeros for a double; cap to keep the buffer sane */
  int p = places < 0 ? 0 : places > 100000 ? 100000 : (int)places;
  int n = snprintf(NULL, 0, "%.*f", p, x);
  Value s = str_new_uninit(vm, (size_t)n);
  snprintf(as_string(s)->data, (size_t)n + 1, "%.*f", p, x);
  str_finish(s);
  return s;
}

static Value n_sign(VM *vm, int argc, Value *argv) {
  Value x = argv[0];
  if (is_int(x)) {
    int64_t i = int_of(x);
    return small_int_val((i > 0) - (i < 0));
  }
  double d = arg_num(vm, x);
  return small_int_val((d > 0) - (d < 0));
}

static Value n_clamp(VM *vm, int argc, Value *argv) {
  for (int i = 0; i < 3; i++) (void)arg_num(vm, argv[i]);
  if (is_int(argv[0]) && is_int(argv[1]) && is_int(argv[2])) {
    int64_t x = int_of(argv[0]), lo = int_of(argv[1]), hi = int_of(argv[2]);
    if (x < lo) x = lo;
    if (x > hi) x = hi;
    return num_int(vm, x);
  }
  double x = num_to_double(argv[0]);
  if (isnan(x)) return float_val(x);
  return float_val(fmin(fmax(x, num_to_double(argv[1])), num_to_double(argv[2])));
}

/* ---- §4.3 powers, roots, logarithms, trigonometry ---- */

#define FLOAT_FN1(cname, expr)                         \
  static Value cname(VM *vm, int argc, Value *argv) {  \
    double x = arg_num(vm, argv[0]);                   \
    return float_val(expr);                            \
  }
FLOAT_FN1(n_sqrt, sqrt(x))
FLOAT_FN1(n_log, log(x))
FLOAT_FN1(n_sin, sin(x))
FLOAT_FN1(n_cos, cos(x))
FLOAT_FN1(n_tan, tan(x))
FLOAT_FN1(n_asin, asin(x))
FLOAT_FN1(n_acos, acos(x))
FLOAT_FN1(n_atan, atan(x))
FLOAT_FN1(n_sinh, sinh(x))
FLOAT_FN1(n_cosh, cosh(x))
FLOAT_FN1(n_tanh, tanh(x))
FLOAT_FN1(n_exp, exp(x))
FLOAT_FN1(n_log10, log10(x))
FLOAT_FN1(n_log2, log2(x))
FLOAT_FN1(n_deg2rad, x * (M_PI / 180.0))
FLOAT_FN1(n_rad2deg, x * (180.0 / M_PI))

static Value n_atan2(VM *vm, int argc, Value *argv) {
  double y = arg_num(vm, argv[0]), x = arg_num(vm, argv[1]);
  return float_val(atan2(y, x));
}

static Value n_pow(VM *vm, int argc, Value *argv) {
  Value b = argv[0], e = argv[1];
  double fb = arg_num(vm, b), fe = arg_num(vm, e);
  if (is_int(b) && is_int(e) && int_of(e) >= 0) {
    /* wrapping power; the reference truncates the exponent to 32 bits */
    uint64_t base = (uint64_t)int_of(b), r = 1;
    for (uint32_t n = (uint32_t)int_of(e); n; n >>= 1) {
      if (n & 1) r *= base;
      base *= base;
    }
    return num_int(vm, (int64_t)r);
  }
  return float_val(pow(fb, fe));
}

static Value n_lerp(VM *vm, int argc, Value *argv) {
  double a = arg_num(vm, argv[0]), b = arg_num(vm, argv[1]), t = arg_num(vm, argv[2]);
  return float_val(a + (b - a) * t);
}

static Value n_map_range(VM *vm, int argc, Value *argv) {
  double v[5];
  for (int i = 0; i < 5; i++) v[i] = arg_num(vm, argv[i]);
  return float_val(v[3] + (v[0] - v[1]) / (v[2] - v[1]) * (v[4] - v[3]));
}

/* ---- §4.4 integer division helpers ---- */

static Value n_quotient(VM *vm, int argc, Value *argv) {
  int64_t a = arg_int(vm, argv[0]), b = arg_int(vm, argv[1]);
  if (b == 0) err_eval(vm, "math/quotient: division by zero");
  if (b == -1) return num_int(vm, (int64_t)(0 - (uint64_t)a)); /* INT64_MIN / -1 wraps */
  return num_int(vm, a / b);
}

static Value n_remainder(VM *vm, int argc, Value *argv) {
  int64_t a = arg_int(vm, argv[0]), b = arg_int(vm, argv[1]);
  if (b == 0) err_eval(vm, "math/remainder: division by zero");
  if (b == -1) return small_int_val(0); /* INT64_MIN % -1 traps in C */
  return num_int(vm, a % b);
}

static uint64_t uabs64(int64_t a) { return a < 0 ? 0 - (uint64_t)a : (uint64_t)a; }

static uint64_t gcd_u64(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

static Value n_gcd(VM *vm, int argc, Value *argv) {
  int64_t a = arg_int(vm, argv[0]), b = arg_int(vm, argv[1]);
  return num_int(vm, (int64_t)gcd_u64(uabs64(a), uabs64(b)));
}

static Value n_lcm(VM *vm, int argc, Value *argv) {
  int64_t a = arg_int(vm, argv[0]), b = arg_int(vm, argv[1]);
  if (a == 0 || b == 0) return small_int_val(0);
  uint64_t ua = uabs64(a), ub = uabs64(b);
  return num_int(vm, (int64_t)(ua / gcd_u64(ua, ub) * ub));
}

/* ---- §4.5 random numbers: xoshiro256** seeded from the OS ---- */

static uint64_t rng_state[4];
static bool rng_seeded;

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void rng_seed(void) {
  uint64_t seed;
  if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    seed = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&seed;
  }
  for (int i = 0; i < 4; i++) rng_state[i] = splitmix64(&seed);
  rng_seeded = true;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* Shared with other modules (list/shuffle, list/pick, uuid/v4). */
uint64_t math_random_u64(void) {
  if (!rng_seeded) rng_seed();
  uint64_t *s = rng_state;
  uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return r;
}

/* Uniform in [0, n) without modulo bias; n == 0 means the full 64-bit range. */
uint64_t math_random_below(uint64_t n) {
  if (n == 0) return math_random_u64();
  uint64_t limit = (0 - n) % n; /* 2^64 mod n: values below it would be over-represented */
  for (;;) {
    uint64_t r = math_random_u64();
    if (r >= limit) return r % n;
  }
}

static Value n_random(VM *vm, int argc, Value *argv) {
  return float_val((double)(math_random_u64() >> 11) * 0x1.0p-53);
}

static Value n_random_int(VM *vm, int argc, Value *argv) {
  int64_t lo = arg_int(vm, argv[0]), hi = arg_int(vm, argv[1]);
  if (lo > hi) err_eval(vm, "math/random-int: lo (%lld) must be <= hi (%lld)", (long long)lo, (long long)hi);
  uint64_t span = (uint64_t)hi - (uint64_t)lo + 1; /* 0 when the range is all of i64 */
  return num_int(vm, (int64_t)((uint64_t)lo + math_random_below(span)));
}

/* ---- §4.6 float predicates ---- */

#define PRED(cname, expr)                                \
  static Value cname(VM *vm, int argc, Value *argv) {    \
    Value x = argv[0];                                   \
    return bool_val(expr);                               \
  }
PRED(n_nanp, is_double(x) && isnan(as_double(x)))
PRED(n_infinitep, is_double(x) && isinf(as_double(x)))

/* ---- §5 numeric predicates ---- */

static int num_sign(VM *vm, Value x) {
  if (is_int(x)) return (int_of(x) > 0) - (int_of(x) < 0);
  double d = arg_num(vm, x);
  return (d > 0) - (d < 0); /* NaN: 0, so neither positive nor negative */
}
static Value n_positivep(VM *vm, int argc, Value *argv) { return bool_val(num_sign(vm, argv[0]) > 0); }
static Value n_negativep(VM *vm, int argc, Value *argv) { return bool_val(num_sign(vm, argv[0]) < 0); }
static Value n_evenp(VM *vm, int argc, Value *argv) { return bool_val((arg_int(vm, argv[0]) & 1) == 0); }
static Value n_oddp(VM *vm, int argc, Value *argv) { return bool_val((arg_int(vm, argv[0]) & 1) != 0); }

/* ---- §6 type predicates ---- */

PRED(n_vectorp, is_vector(x))
PRED(n_mapp, is_map(x))
PRED(n_integerp, is_int(x))
PRED(n_floatp, is_double(x))
PRED(n_keywordp, is_kw(x))
PRED(n_charp, is_char(x))
PRED(n_boolp, is_bool(x))
PRED(n_fnp, is_procedure(x))
PRED(n_recordp, is_objtype(x, OBJ_RECORD))
PRED(n_bytevectorp, is_objtype(x, OBJ_BYTEVEC))
PRED(n_promisep, is_objtype(x, OBJ_PROMISE))

static Value n_promise_forcedp(VM *vm, int argc, Value *argv) {
  Value x = argv[0];
  if (!is_objtype(x, OBJ_PROMISE)) err_type(vm, "promise", x);
  return bool_val(as_obj(x)->flags & PROMISE_FORCED);
}

static Value n_emptyp(VM *vm, int argc, Value *argv) {
  Value x = argv[0];
  if (x == NIL_VAL || x == EMPTY_VAL) return TRUE_VAL;
  if (is_cons(x)) return FALSE_VAL;
  if (is_vector(x)) return bool_val(vec_len(x) == 0);
  if (is_string(x)) return bool_val(str_len(x) == 0);
  if (is_anymap(x)) return bool_val(anymap_count(x) == 0);
  err_type(vm, "collection", x);
}

/* ---- §7 conversions ---- */

static NORETURN void parse_fail(VM *vm, const char *fmt, Value s) {
  err_eval(vm, fmt, (int)str_len(s), str_data(s));
}

static Value n_string_to_number(VM *vm, int argc, Value *argv) { return op_string_to_number(vm, argv[0]); }

static Value n_string_to_float(VM *vm, int argc, Value *argv) {
  Value x = argv[0];
  if (is_double(x)) return x;
  if (is_int(x)) return float_val((double)int_of(x));
  if (!is_string(x)) err_type(vm, "string or number", x);
  double d;
  if (!parse_float(x, &d)) parse_fail(vm, "cannot parse '%.*s' as float", x);
  return float_val(d);
}

static Value n_number_to_string(VM *vm, int argc, Value *argv) {
  Value x = argv[0];
  char buf[NUMFMT_BUFSIZE];
  size_t n;
  if (is_int(x))
    n = (size_t)snprintf(buf, sizeof buf, "%lld", (long long)int_of(x));
  else if (is_double(x))
    n = numfmt_double(buf, sizeof buf, as_double(x), false);
  else
    err_type(vm, "number", x);
  return str_new(vm, buf, n);
}

static Value n_int(VM *vm, int argc, Value *argv) {
  Value x = argv[0];
  if (is_int(x)) return x;
  if (is_double(x)) return num_int(vm, float_to_i64(vm, "int", trunc(as_double(x))));
  if (!is_string(x)) err_type(vm, "number or string", x);
  int64_t iv;
  if (numfmt_parse_i64(str_data(x), str_len(x), &iv) != 1) parse_fail(vm, "cannot convert '%.*s' to int", x);
  return num_int(vm, iv);
}

static Value n_float(VM *vm, int argc, Value *argv) {
  Value x = argv[0];
  if (is_double(x)) return x;
  if (is_int(x)) return float_val((double)int_of(x));
  if (!is_string(x)) err_type(vm, "number or string", x);
  double d;
  if (!parse_float(x, &d)) parse_fail(vm, "cannot convert '%.*s' to float", x);
  return float_val(d);
}

static Value n_string_to_symbol(VM *vm, int argc, Value *argv) {
  Value s = arg_string(vm, argv[0]);
  return sym_val(sym_intern(vm, str_data(s), str_len(s)));
}

static Value n_string_to_keyword(VM *vm, int argc, Value *argv) {
  Value s = arg_string(vm, argv[0]);
  return kw_val(sym_intern(vm, str_data(s), str_len(s)));
}

static Value name_string(VM *vm, Value x) {
  String *n = sym_name(vm, sym_id(x));
  return str_new(vm, n->data, n->len);
}

static Value n_symbol_to_string(VM *vm, int argc, Value *argv) {
  if (!is_sym(argv[0])) err_type(vm, "symbol", argv[0]);
  return name_string(vm, argv[0]);
}

static Value n_keyword_to_string(VM *vm, int argc, Value *argv) {
  if (!is_kw(argv[0])) err_type(vm, "keyword", argv[0]);
  return name_string(vm, argv[0]);
}

/* ---- §23 bitwise operations ---- */

/* and, or, xor and the shifts compile to instructions (intrinsics.h):
 * the natives call the same functions (ops.c) as their slow paths */
static Value n_bit_and(VM *vm, int argc, Value *argv) { return op_bit_and(vm, argv[0], argv[1]); }
static Value n_bit_or(VM *vm, int argc, Value *argv) { return op_bit_or(vm, argv[0], argv[1]); }
static Value n_bit_xor(VM *vm, int argc, Value *argv) { return op_bit_xor(vm, argv[0], argv[1]); }

static Value n_bit_not(VM *vm, int argc, Value *argv) {
  return num_int(vm, ~arg_int(vm, argv[0]));
}

static Value n_shift_left(VM *vm, int argc, Value *argv) { return op_shift_left(vm, argv[0], argv[1]); }
static Value n_shift_right(VM *vm, int argc, Value *argv) { return op_shift_right(vm, argv[0], argv[1]); }

static const NativeDef math_defs[] = {
    /* §4 */
    {"abs", n_abs, 1, 1,
     "(abs x)\nReturns the absolute value of x, of the same type; the absolute value of the smallest 64-bit integer "
     "overflows and is an error."},
    {"floor", n_floor, 1, 1,
     "(floor x)\nReturns the largest integer not above x, as an integer (an integer is returned as is). A NaN, "
     "infinite or out-of-range float is an error."},
    {"ceil", n_ceil, 1, 1,
     "(ceil x)\nReturns the smallest integer not below x, as an integer. A NaN, infinite or out-of-range float is an "
     "error."},
    {"round", n_round, 1, 1,
     "(round x)\nReturns x rounded to the nearest integer, ties away from zero ((round 2.5) is 3, (round -2.5) is "
     "-3), as an integer."},
    {"truncate", n_truncate, 1, 1,
     "(truncate x)\nReturns x rounded toward zero, as an integer: (truncate -3.7) is -3."},
    {"math/round-to", n_round_to, 2, 2,
     "(math/round-to x places)\nReturns x rounded to places decimal places (ties away from zero) as a float; places "
     "may be negative: (math/round-to 1234 -2) is 1200.0."},
    {"math/format-fixed", n_format_fixed, 2, 2,
     "(math/format-fixed x places)\nReturns the string of x with exactly places digits after the point (as C's %.*f, "
     "rounding half to even): (math/format-fixed 1.2 3) is \"1.200\". NaN and infinities give \"NaN\", \"inf\", "
     "\"-inf\"."},
    {"math/sign", n_sign, 1, 1,
     "(math/sign x)\nReturns the integer -1, 0 or 1 for the sign of the number x (-0.0 and NaN give 0)."},
    {"math/clamp", n_clamp, 3, 3,
     "(math/clamp x lo hi)\nReturns x limited to the range lo..hi: min(max(x, lo), hi). Three integers give an "
     "integer, otherwise a float."},
    {"sqrt", n_sqrt, 1, 1,
     "(sqrt x)\nReturns the square root of x as a float; (sqrt -1) is NaN."},
    {"pow", n_pow, 2, 2,
     "(pow base exp)\nReturns base raised to exp: two integers with exp >= 0 give an integer (wrapping on overflow), "
     "otherwise a float ((pow 2 -1) is 0.5)."},
    {"log", n_log, 1, 1,
     "(log x)\nReturns the natural logarithm of x as a float; (log 0) is -inf, (log -1) is NaN."},
    {"sin", n_sin, 1, 1,
     "(sin x)\nReturns the sine of x (in radians) as a float."},
    {"cos", n_cos, 1, 1,
     "(cos x)\nReturns the cosine of x (in radians) as a float."},
    {"math/tan", n_tan, 1, 1,
     "(math/tan x)\nReturns the tangent of x (in radians) as a float."},
    {"math/asin", n_asin, 1, 1,
     "(math/asin x)\nReturns the arc sine of x in radians; NaN outside -1..1."},
    {"math/acos", n_acos, 1, 1,
     "(math/acos x)\nReturns the arc cosine of x in radians; NaN outside -1..1."},
    {"math/atan", n_atan, 1, 1,
     "(math/atan x)\nReturns the arc tangent of x in radians."},
    {"math/atan2", n_atan2, 2, 2,
     "(math/atan2 y x)\nReturns the angle in radians of the point (x, y), in -pi..pi: (math/atan2 0 -1) is pi."},
    {"math/sinh", n_sinh, 1, 1,
     "(math/sinh x)\nReturns the hyperbolic sine of x."},
    {"math/cosh", n_cosh, 1, 1,
     "(math/cosh x)\nReturns the hyperbolic cosine of x."},
    {"math/tanh", n_tanh, 1, 1,
     "(math/tanh x)\nReturns the hyperbolic tangent of x."},
    {"math/exp", n_exp, 1, 1,
     "(math/exp x)\nReturns e raised to x as a float."},
    {"math/log10", n_log10, 1, 1,
     "(math/log10 x)\nReturns the base-10 logarithm of x as a float."},
    {"math/log2", n_log2, 1, 1,
     "(math/log2 x)\nReturns the base-2 logarithm of x as a float: (math/log2 8) is 3.0."},
    {"math/degrees->radians", n_deg2rad, 1, 1,
     "(math/degrees->radians x)\nConverts the angle x from degrees to radians."},
    {"math/radians->degrees", n_rad2deg, 1, 1,
     "(math/radians->degrees x)\nConverts the angle x from radians to degrees: (math/radians->degrees pi) is 180.0."},
    {"math/lerp", n_lerp, 3, 3,
     "(math/lerp a b t)\nReturns the linear interpolation a + (b - a) * t as a float: (math/lerp 0 100 0.25) is 25.0."},
    {"math/map-range", n_map_range, 5, 5,
     "(math/map-range v in-min in-max out-min out-max)\nMaps v from the range in-min..in-max onto out-min..out-max "
     "linearly, as a float: (math/map-range 5 0 10 0 100) is 50.0. Equal input bounds give inf or NaN."},
    {"math/quotient", n_quotient, 2, 2,
     "(math/quotient a b)\nReturns the integer quotient of a by b truncated toward zero: (math/quotient -7 2) is -3. "
     "Integers only; b = 0 is an error."},
    {"math/remainder", n_remainder, 2, 2,
     "(math/remainder a b)\nReturns the remainder of the truncated division of a by b, with the sign of a: "
     "(math/remainder -7 2) is -1. Integers only; b = 0 is an error."},
    {"math/gcd", n_gcd, 2, 2,
     "(math/gcd a b)\nReturns the greatest common divisor of the integers a and b (non-negative; (math/gcd 0 0) is "
     "0)."},
    {"math/lcm", n_lcm, 2, 2,
     "(math/lcm a b)\nReturns the least common multiple of the integers a and b (0 when either is 0)."},
    {"math/random", n_random, 0, 0,
     "(math/random)\nReturns a uniformly distributed float in [0, 1)."},
    {"math/random-int", n_random_int, 2, 2,
     "(math/random-int lo hi)\nReturns a uniformly distributed integer in lo..hi, both included; lo > hi is an error."},
    {"math/nan?", n_nanp, 1, 1,
     "(math/nan? x)\nReturns #t only when x is a NaN float; any other value gives #f."},
    {"math/infinite?", n_infinitep, 1, 1,
     "(math/infinite? x)\nReturns #t only when x is a positive or negative infinite float."},
    /* §5 */
    {"positive?", n_positivep, 1, 1,
     "(positive? x)\nReturns #t when the number x is greater than zero (NaN gives #f); a non-number is a type error."},
    {"negative?", n_negativep, 1, 1,
     "(negative? x)\nReturns #t when the number x is less than zero (NaN gives #f); a non-number is a type error."},
    {"even?", n_evenp, 1, 1,
     "(even? n)\nReturns #t when the integer n is even; a float is a type error."},
    {"odd?", n_oddp, 1, 1,
     "(odd? n)\nReturns #t when the integer n is odd; a float is a type error."},
    /* §6 */
    {"vector?", n_vectorp, 1, 1,
     "(vector? x)\nReturns #t when x is a vector."},
    {"map?", n_mapp, 1, 1,
     "(map? x)\nReturns #t when x is a sorted map (a hash map gives #f: test (type x) for :hashmap)."},
    {"integer?", n_integerp, 1, 1,
     "(integer? x)\nReturns #t when x is an integer ((integer? 2.0) is #f)."},
    {"float?", n_floatp, 1, 1,
     "(float? x)\nReturns #t when x is a float."},
    {"keyword?", n_keywordp, 1, 1,
     "(keyword? x)\nReturns #t when x is a keyword."},
    {"char?", n_charp, 1, 1,
     "(char? x)\nReturns #t when x is a character."},
    {"bool?", n_boolp, 1, 1,
     "(bool? x)\nReturns #t when x is #t or #f."},
    {"fn?", n_fnp, 1, 1,
     "(fn? x)\nReturns #t when x can be called as a procedure: a closure or a builtin (record constructors and "
     "accessors included); #f for keywords, multimethods and macros."},
    {"record?", n_recordp, 1, 1,
     "(record? x)\nReturns #t when x is a record instance (define-record-type)."},
    {"bytevector?", n_bytevectorp, 1, 1,
     "(bytevector? x)\nReturns #t when x is a bytevector."},
    {"promise?", n_promisep, 1, 1,
     "(promise? x)\nReturns #t when x is a promise made by delay (not an async promise)."},
    {"promise-forced?", n_promise_forcedp, 1, 1,
     "(promise-forced? p)\nReturns #t when the delay promise p has been forced; a non-promise is a type error."},
    {"empty?", n_emptyp, 1, 1,
     "(empty? x)\nReturns #t for nil, (), [], \"\", {} and an empty hash map, #f for a non-empty one; other types are"
     " a type error."},
    /* §7 */
    {"string->number", n_string_to_number, 1, 1,
     "(string->number s)\nParses s as an integer, or else as a float (an integer too large for 64 bits becomes a "
     "float); anything else raises \"cannot parse 's' as number\" (not #f)."},
    {"string->float", n_string_to_float, 1, 1,
     "(string->float x)\nParses the string x as a float (\"42\" gives 42.0), converts an integer, returns a float as "
     "is; a string that is not a number is an error."},
    {"number->string", n_number_to_string, 1, 1,
     "(number->string x)\nReturns the decimal text of x. Floats use the shortest digits that read back, without a .0 "
     "suffix and never with an exponent: (number->string 4.0) is \"4\"."},
    {"int", n_int, 1, 1,
     "(int x)\nConverts x to an integer: a float is truncated toward zero, a string is parsed as an integer (\"3.5\" "
     "is an error), an integer is returned as is."},
    {"float", n_float, 1, 1,
     "(float x)\nConverts x to a float: an integer is converted, a string parsed as a float, a float returned as is."},
    {"string->symbol", n_string_to_symbol, 1, 1,
     "(string->symbol s)\nReturns the interned symbol named s, whatever characters it holds."},
    {"symbol->string", n_symbol_to_string, 1, 1,
     "(symbol->string sym)\nReturns the name of the symbol sym as a string."},
    {"string->keyword", n_string_to_keyword, 1, 1,
     "(string->keyword s)\nReturns the keyword named s (a leading colon is kept as part of the name)."},
    {"keyword->string", n_keyword_to_string, 1, 1,
     "(keyword->string k)\nReturns the name of the keyword k without the colon: (keyword->string :foo) is \"foo\"."},
    /* §23 */
    {"bit/and", n_bit_and, 2, 2,
     "(bit/and a b)\nReturns the bitwise AND of the integers a and b."},
    {"bit/or", n_bit_or, 2, 2,
     "(bit/or a b)\nReturns the bitwise OR of the integers a and b."},
    {"bit/xor", n_bit_xor, 2, 2,
     "(bit/xor a b)\nReturns the bitwise exclusive OR of the integers a and b."},
    {"bit/not", n_bit_not, 1, 1,
     "(bit/not a)\nReturns the bitwise complement of the integer a: (bit/not 0) is -1."},
    {"bit/shift-left", n_shift_left, 2, 2,
     "(bit/shift-left a n)\nReturns a shifted left by n bits (0 to 63; bits shifted out are lost)."},
    {"bit/shift-right", n_shift_right, 2, 2,
     "(bit/shift-right a n)\nReturns a shifted right by n bits (0 to 63), extending the sign: (bit/shift-right -16 2)"
     " is -4."},
    {NULL, NULL, 0, 0},
};

void lib_math_init(VM *vm) {
  env_register(vm, math_defs);
  static const char *const aliases[][2] = {
      {"ceiling", "ceil"},
      {"expt", "pow"},
      {"math/pow", "pow"},
      {"hash-map?", "map?"},
      {"boolean?", "bool?"},
      {"procedure?", "fn?"},
      {"async/forced?", "promise-forced?"},
      {"string/to-number", "string->number"},
      {"string/to-float", "string->float"},
      {"number/to-string", "number->string"},
      {"string/to-symbol", "string->symbol"},
      {"symbol/to-string", "symbol->string"},
      {"string/to-keyword", "string->keyword"},
      {"keyword/to-string", "keyword->string"},
  };
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) env_alias(vm, aliases[i][0], aliases[i][1]);
  env_define_doc(vm, "pi", double_val(M_PI),
                 "pi\nThe float 3.141592653589793, the ratio of a circle's circumference to its diameter.");
  env_define_doc(vm, "e", double_val(M_E), "e\nThe float 2.718281828459045, the base of the natural logarithm.");
  env_define_doc(vm, "math/infinity", double_val(INFINITY),
                 "math/infinity\nThe float positive infinity (prints as inf).");
  env_define_doc(vm, "math/nan", val_canon_double(NAN),
                 "math/nan\nA float NaN (not a number); test for it with math/nan?.");
}
