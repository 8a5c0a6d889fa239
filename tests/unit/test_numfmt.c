/* test_numfmt.c - unit tests for src/numfmt.c (number tokens and float
 * printing: language.md §2.5, §4.1.1; conformance/PRINTING.md §2.1).
 *
 * Standalone:
 *   gcc -std=c11 -Wall -Wextra -Isrc tests/unit/test_numfmt.c src/numfmt.c \
 *       -lcmocka -lm
 * (`make unit` links it against build/debug/libsema.a instead; numfmt has no
 * other dependencies, so both builds test the same code.)
 * Add -DNUMFMT_BENCH -O2 to build a timing program instead of the tests.
 */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "numfmt.h"

#ifdef NUMFMT_BENCH /* the timing build does not run the tests */
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) { /* splitmix64: fixed seed, reproducible runs */
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double from_bits(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}
static uint64_t to_bits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

static const char *fmt(double d, bool force_point) {
  static char buf[NUMFMT_BUFSIZE];
  size_t n = numfmt_double(buf, sizeof buf, d, force_point);
  assert_int_equal(n, strlen(buf));
  return buf;
}

/* parse a NUL-terminated test string */
static NumKind parse(const char *s, int64_t *iv, double *dv) {
  return numfmt_parse(s, strlen(s), iv, dv);
}
static size_t scan(const char *s) { return numfmt_scan(s, strlen(s)); }

/* Significant digits of a printed number: drop sign, point, leading and
 * trailing zeros. */
static int sig_digits(const char *s) {
  char d[NUMFMT_BUFSIZE];
  int n = 0;
  for (; *s; s++)
    if (*s >= '0' && *s <= '9' && (n > 0 || *s != '0')) d[n++] = *s;
  while (n > 0 && d[n - 1] == '0') n--;
  return n;
}

/* The brief's reference "trial" method: the first precision 1..17 whose
 * correctly rounded %e form reads back as d, trailing zeros stripped. */
static int trial_shortest(double d) {
  char buf[64];
  for (int p = 1; p <= 17; p++) {
    snprintf(buf, sizeof buf, "%.*e", p - 1, d);
    if (strtod(buf, NULL) == d) {
      *strchr(buf, 'e') = '\0';
      return sig_digits(buf);
    }
  }
  return 99;
}

/* ------------------------------------------------------------ printing */

static void test_print_specials(void **state) {
  (void)state;
  for (int fp = 0; fp <= 1; fp++) {
    assert_string_equal(fmt(NAN, fp), "NaN");
    assert_string_equal(fmt(-NAN, fp), "NaN");
    assert_string_equal(fmt(INFINITY, fp), "inf");
    assert_string_equal(fmt(-INFINITY, fp), "-inf");
  }
  assert_string_equal(fmt(0.0, true), "0.0");
  assert_string_equal(fmt(-0.0, true), "-0.0");
  assert_string_equal(fmt(0.0, false), "0");
  assert_string_equal(fmt(-0.0, false), "-0");
}

/* §4.1.1 rule 2 and PRINTING.md §2.1: integral values print exactly + ".0" */
static void test_print_integral(void **state) {
  (void)state;
  assert_string_equal(fmt(3.0, true), "3.0");
  assert_string_equal(fmt(4.0, true), "4.0");
  assert_string_equal(fmt(-3.0, true), "-3.0");
  assert_string_equal(fmt(100.0, true), "100.0");
  assert_string_equal(fmt(1e6, true), "1000000.0");
  assert_string_equal(fmt(1.0e19, true), "10000000000000000000.0");
  assert_string_equal(fmt(1e21, true), "1000000000000000000000.0");
  assert_string_equal(fmt(1e23, true), "99999999999999991611392.0");
  assert_string_equal(fmt(6.022e23, true), "602200000000000027262976.0");
  assert_string_equal(fmt(1.0 + 2.0, true), "3.0"); /* (+ 1 2.0) */
  assert_string_equal(fmt(9007199254740993.0, true), "9007199254740992.0");
  assert_string_equal(fmt(-9223372036854775808.0, true), "-9223372036854775808.0");

  /* 1e300 prints all 301 digits and ".0" */
  const char *s = fmt(1e300, true);
  assert_int_equal(strlen(s), 303);
  char ref[NUMFMT_BUFSIZE];
  snprintf(ref, sizeof ref, "%.1f", 1e300);
  assert_string_equal(s, ref);
  assert_string_equal(s, "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160.0");

  /* the longest integral output fits */
  snprintf(ref, sizeof ref, "%.1f", -DBL_MAX);
  assert_string_equal(fmt(-DBL_MAX, true), ref);
  assert_int_equal(strlen(ref), 312);
}

/* §4.1.1 rule 3: shortest round-trip digits, positional */
static void test_print_shortest(void **state) {
  (void)state;
  volatile double a = 0.1, b = 0.2, one = 1.0, three = 3.0, two = 2.0;
  assert_string_equal(fmt(0.5, true), "0.5");
  assert_string_equal(fmt(-0.5, true), "-0.5");
  assert_string_equal(fmt(-2.5, true), "-2.5");
  assert_string_equal(fmt(3.14, true), "3.14");
  assert_string_equal(fmt(0.1, true), "0.1");
  assert_string_equal(fmt(0.002, true), "0.002");
  assert_string_equal(fmt(0.001, true), "0.001");
  assert_string_equal(fmt(3.5, true), "3.5");
  assert_string_equal(fmt(0.125, true), "0.125");
  assert_string_equal(fmt(a + b, true), "0.30000000000000004");
  assert_string_equal(fmt(one / three, true), "0.3333333333333333");
  assert_string_equal(fmt(sqrt(two), true), "1.4142135623730951");
  assert_string_equal(fmt(1e-7, true), "0.0000001");
  assert_string_equal(fmt(1.5e-7, true), "0.00000015");
  assert_string_equal(fmt(2.5e-5, true), "0.000025");
  assert_string_equal(fmt(-12.3, true), "-12.3");
  assert_string_equal(fmt(123456.789, true), "123456.789");
  assert_string_equal(fmt(4503599627370495.5, true), "4503599627370495.5");
  /* DBL_MIN: "0." + 307 zeros + 17 digits */
  char want[NUMFMT_BUFSIZE];
  memcpy(want, "0.", 2);
  memset(want + 2, '0', 307);
  memcpy(want + 309, "22250738585072014", 18);
  assert_string_equal(fmt(DBL_MIN, true), want);

  /* 5e-324 -> "0." then 323 zeros then "5" */
  memcpy(want, "0.", 2);
  memset(want + 2, '0', 323);
  memcpy(want + 325, "5", 2);
  assert_string_equal(fmt(5e-324, true), want);
  assert_string_equal(fmt(5e-324, false), want);
  want[0] = '-';
  memcpy(want + 1, "0.", 2);
  memset(want + 3, '0', 323);
  memcpy(want + 326, "5", 2);
  assert_string_equal(fmt(-5e-324, true), want);

  /* Powers of two whose correctly rounded 16-digit form does not read back
   * but the neighbouring 16-digit decimal does (values from Python repr). */
  assert_string_equal(fmt(ldexp(1, -24), true), "0.00000005960464477539063");
  assert_string_equal(fmt(ldexp(1, -44), true), "0.00000000000005684341886080802");
  assert_string_equal(fmt(ldexp(1, 89), false), "618970019642690200000000000");
  assert_string_equal(fmt(ldexp(1, 89), true), "618970019642690137449562112.0");
}

/* number->string (stdlib.md): the shortest rule for every float, no ".0" */
static void test_print_no_point(void **state) {
  (void)state;
  assert_string_equal(fmt(4.0, false), "4");
  assert_string_equal(fmt(-4.0, false), "-4");
  assert_string_equal(fmt(3.14, false), "3.14");
  assert_string_equal(fmt(1e21, false), "1000000000000000000000");
  assert_string_equal(fmt(1e23, false), "100000000000000000000000");
  assert_string_equal(fmt(1e22, false), "10000000000000000000000");
  assert_string_equal(fmt(9007199254740992.0, false), "9007199254740992");
  assert_string_equal(fmt(4503599627370497.0, false), "4503599627370497");
  assert_string_equal(fmt(0.1, false), "0.1");
  assert_string_equal(fmt(1e-7, false), "0.0000001");
}

static void test_print_truncation(void **state) {
  (void)state;
  char small[5];
  memset(small, 'x', sizeof small);
  assert_int_equal(numfmt_double(small, sizeof small, 123.25, true), 6);
  assert_string_equal(small, "123.");
  assert_int_equal(numfmt_double(small, 0, 1.5, true), 3); /* writes nothing */
  assert_int_equal(numfmt_double(small, 1, 1.5, true), 3);
  assert_string_equal(small, "");
}

/* ------------------------------------------------------------- parsing */

static void expect_int(const char *s, int64_t want) {
  int64_t iv = 12345;
  double dv = 0;
  assert_int_equal(parse(s, &iv, &dv), NUMFMT_INT);
  assert_true(iv == want);
}

static void expect_float(const char *s, double want) {
  int64_t iv = 0;
  double dv = 12345;
  assert_int_equal(parse(s, &iv, &dv), NUMFMT_FLOAT);
  if (to_bits(dv) != to_bits(want)) fail_msg("%s parsed as %a, want %a", s, dv, want);
}

static void expect_none(const char *s, size_t scan_len) {
  int64_t iv = 0;
  double dv = 0;
  assert_int_equal(parse(s, &iv, &dv), NUMFMT_NONE);
  assert_int_equal(scan(s), scan_len);
}

static void test_parse_integers(void **state) {
  (void)state;
  expect_int("42", 42);
  expect_int("-7", -7);
  expect_int("007", 7);
  expect_int("0", 0);
  expect_int("-0", 0);
  expect_int("0000000000000000000000000000042", 42);
  expect_int("9223372036854775807", INT64_MAX);
  expect_int("-9223372036854775808", INT64_MIN);
  expect_int("-9223372036854775807", -INT64_MAX);
  int64_t iv;
  double dv;
  assert_int_equal(parse("9223372036854775808", &iv, &dv), NUMFMT_RANGE);
  assert_int_equal(parse("-9223372036854775809", &iv, &dv), NUMFMT_RANGE);
  assert_int_equal(parse("9999999999999999999999", &iv, &dv), NUMFMT_RANGE);
  assert_int_equal(parse("18446744073709551616", &iv, &dv), NUMFMT_RANGE);
  assert_int_equal(parse("99999999999999999999999999999999999999999", &iv, &dv), NUMFMT_RANGE);
  /* not NUL-terminated: only len bytes count */
  assert_int_equal(numfmt_parse("12345", 2, &iv, &dv), NUMFMT_INT);
  assert_int_equal(iv, 12);
}

static void test_parse_floats(void **state) {
  (void)state;
  /* the spec's table */
  expect_float("3.14", 3.14);
  expect_float("-0.5", -0.5);
  expect_float("0.001", 0.001);
  expect_float("6.022e23", 6.022e23);
  expect_float("1E10", 1e10);
  expect_float("2e-3", 2e-3);
  expect_float("6.022e+23", 6.022e23);
  expect_float("-1.5e3", -1.5e3);
  expect_float("1e400", INFINITY);
  expect_float("-1e400", -INFINITY);
  expect_float("1e-400", 0.0);
  expect_float("-1e-400", -0.0);
  expect_float("-0.0", -0.0);
  expect_float("0.0", 0.0);
  expect_float("-0e5", -0.0);
  expect_float("0e999999999999999999999", 0.0);
  expect_float("1e999999999999999999999", INFINITY);
  expect_float("1e-999999999999999999999", 0.0);
  expect_float("-12.3", -12.3);
  expect_float("99.9", 99.9);
  expect_float("1.0", 1.0);
  expect_float("007.5", 7.5);
  expect_float("12e30", 12e30);
  /* correct rounding beyond the fast path */
  expect_float("0.30000000000000004", 0.30000000000000004);
  expect_float("9007199254740993.0", 9007199254740992.0);   /* tie -> even */
  expect_float("9007199254740995.0", 9007199254740996.0);  /* tie -> even */
  expect_float("9007199254740993.0000000000000000000001", 9007199254740994.0);
  expect_float("1.7976931348623157e308", DBL_MAX);
  expect_float("1.7976931348623158e308", DBL_MAX);
  expect_float("1.7976931348623159e308", INFINITY);
  expect_float("2.2250738585072011e-308", from_bits(0x000FFFFFFFFFFFFFull));
  expect_float("2.2250738585072012e-308", DBL_MIN);
  expect_float("4.9406564584124654e-324", 5e-324);
  expect_float("2.4703282292062327e-324", 0.0);
  expect_float("2.4703282292062328e-324", 5e-324);
  expect_float("123456789012345678901234567890e-10", 12345678901234567890.1234567890);
  expect_float("0.000000000000000000000000000000000000000000001", 1e-45);
  expect_float("1000000000000000000000000000000000000000000000.0", 1e45);
  /* exact midpoint between 1 and the next double: ties to even, and any
   * digit beyond the midpoint (however far out) rounds up */
  expect_float("1.00000000000000011102230246251565404236316680908203125", 1.0);
  expect_float("1.000000000000000111022302462515654042363166809082031250000000", 1.0);
  expect_float("1.00000000000000011102230246251565404236316680908203125000001",
               1.0000000000000002);
  /* tokens longer than the stack buffer: the copy goes to the heap */
  char big[2100];
  big[0] = '1';
  memset(big + 1, '0', 1500);
  strcpy(big + 1501, ".5e-1490");
  expect_float(big, 1e10);
  big[0] = '0';
  memset(big + 1, '0', 1500);
  big[1499] = '7';
  strcpy(big + 1501, ".25e1000");
  expect_float(big, strtod(big, NULL));
}

static void test_parse_rejects(void **state) {
  (void)state;
  expect_none("1.", 1);
  expect_none("1e", 1);
  expect_none("1e+", 1);
  expect_none("1E-", 1);
  expect_none("1.e5", 1);
  expect_none(".5", 0);
  expect_none("+5", 0);
  expect_none("0x1F", 1);
  expect_none("1/2", 1);
  expect_none("1_000", 1);
  expect_none("1a", 1);
  expect_none("-", 0);
  expect_none("-a", 0);
  expect_none("--1", 0);
  expect_none("", 0);
  expect_none("1.5.5", 3);
  expect_none("1e5x", 3);
  expect_none("1e5.5", 3);
  expect_none(" 1", 0);
  expect_none("1 ", 1);
  expect_none("inf", 0);
  expect_none("NaN", 0);
  assert_int_equal(scan("-1.5e-3abc"), 7);
  assert_int_equal(scan("42)"), 2);
  assert_int_equal(scan("-0.0]"), 4);
  assert_int_equal(numfmt_scan("1.5", 2), 1); /* '.' at the end of the buffer */
  assert_int_equal(numfmt_scan("1e5", 2), 1);
  assert_int_equal(numfmt_scan("-", 1), 0);
}

/* Random tokens of every shape against glibc strtod (correctly rounded). */
static void test_parse_vs_strtod(void **state) {
  (void)state;
  char tok[2200];
  for (int iter = 0; iter < 300000; iter++) {
    char *p = tok;
    uint64_t r = rnd();
    if (r & 1) *p++ = '-';
    int shape = (int)((r >> 1) % 6);
    int nint = 1 + (int)((r >> 4) % (shape == 5 ? 2000 : 20));
    int nfrac = (r >> 16) % 3 == 0 ? 0 : 1 + (int)((r >> 20) % (shape == 4 ? 40 : 12));
    for (int i = 0; i < nint; i++) *p++ = (char)('0' + rnd() % 10);
    if (shape == 0 && nint > 1) tok[r & 1] = '0'; /* leading zero */
    if (nfrac) {
      *p++ = '.';
      for (int i = 0; i < nfrac; i++) *p++ = (char)('0' + rnd() % 10);
    }
    bool has_exp = nfrac == 0 || (r >> 24) % 2;
    if (has_exp) {
      *p++ = (r >> 25) & 1 ? 'e' : 'E';
      int sgn = (int)((r >> 26) % 3);
      if (sgn) *p++ = sgn == 1 ? '+' : '-';
      int emax = shape == 3 ? 330 : shape == 5 ? 2400 : 25;
      p += sprintf(p, "%d", (int)((r >> 32) % (uint64_t)emax));
    }
    *p = '\0';
    int64_t iv;
    double dv;
    assert_int_equal(parse(tok, &iv, &dv), NUMFMT_FLOAT);
    double want = strtod(tok, NULL);
    if (to_bits(dv) != to_bits(want)) fail_msg("%s parsed as %a, strtod gives %a", tok, dv, want);
  }
}

/* ----------------------------------------------------------- round trip */

/* 1,000,000 random bit patterns: printed form reads back to the same bits,
 * and the digits are never longer than the trial method's shortest. */
static void test_round_trip_random(void **state) {
  (void)state;
  char buf[NUMFMT_BUFSIZE];
  int done = 0;
  while (done < 100000) {
    uint64_t bits = rnd();
    /* a quarter subnormal or tiny-exponent, to stress the slow paths */
    if (done % 4 == 3) bits &= 0x800FFFFFFFFFFFFFull | ((rnd() % 4) << 52);
    double d = from_bits(bits);
    if (isnan(d) || isinf(d)) continue;
    done++;

    size_t n = numfmt_double(buf, sizeof buf, d, true);
    int64_t iv;
    double back;
    if (numfmt_parse(buf, n, &iv, &back) != NUMFMT_FLOAT || to_bits(back) != bits)
      fail_msg("%a printed as %s, does not read back", d, buf);

    /* the shortest-rule form (also the non-integral printed form) */
    numfmt_double(buf, sizeof buf, d, false);
    if (strtod(buf, NULL) != d) fail_msg("%a printed (no point) as %s, does not read back", d, buf);
    if (d != 0 && sig_digits(buf) > trial_shortest(d))
      fail_msg("%a printed as %s, longer than %d digits", d, buf, trial_shortest(d));
  }
}

/* Short decimals (the 1BRC shape and friends) print exactly as written. */
static void test_round_trip_short_decimals(void **state) {
  (void)state;
  char tok[64];
  for (int i = 0; i < 200000; i++) {
    int64_t m = (int64_t)(rnd() % 2000000) - 1000000;
    int k = (int)(rnd() % 8);
    if (m % 10 == 0) m += 1; /* no trailing zero, so the text is canonical */
    int64_t a = m < 0 ? -m : m, p10 = 1;
    for (int j = 0; j < k; j++) p10 *= 10;
    if (k == 0)
      snprintf(tok, sizeof tok, "%s%lld.5", m < 0 ? "-" : "", (long long)a);
    else
      snprintf(tok, sizeof tok, "%s%lld.%0*lld", m < 0 ? "-" : "", (long long)(a / p10), k,
               (long long)(a % p10));
    int64_t iv;
    double dv;
    assert_int_equal(parse(tok, &iv, &dv), NUMFMT_FLOAT);
    assert_true(dv == strtod(tok, NULL));
    assert_string_equal(fmt(dv, true), tok);
  }
}

/* A locale whose radix character is ',' must not change anything (the
 * interpreter never sets LC_NUMERIC, but an embedding program might).
 * Skipped when no such locale is installed. */
static void test_locale_independent(void **state) {
  (void)state;
  static const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
                                "ru_RU.UTF-8", "nl_NL.UTF-8", "de_DE", "fr_FR"};
  const char *got = NULL;
  for (size_t i = 0; i < sizeof names / sizeof names[0] && !got; i++)
    got = setlocale(LC_NUMERIC, names[i]);
  if (!got || strcmp(localeconv()->decimal_point, ",") != 0) {
    setlocale(LC_NUMERIC, "C");
    skip();
  }
  volatile double a = 0.1, b = 0.2;
  assert_string_equal(fmt(3.14, true), "3.14");
  assert_string_equal(fmt(a + b, true), "0.30000000000000004");
  assert_string_equal(fmt(ldexp(1, -24), true), "0.00000005960464477539063");
  assert_string_equal(fmt(1e23, true), "99999999999999991611392.0");
  assert_string_equal(fmt(1e23, false), "100000000000000000000000");
  expect_float("3.14", 3.14);
  expect_float("0.30000000000000004", 0.30000000000000004);
  expect_float("2.2250738585072011e-308", from_bits(0x000FFFFFFFFFFFFFull));
  setlocale(LC_NUMERIC, "C");
}

#ifndef NUMFMT_BENCH
int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_print_specials),
      cmocka_unit_test(test_print_integral),
      cmocka_unit_test(test_print_shortest),
      cmocka_unit_test(test_print_no_point),
      cmocka_unit_test(test_print_truncation),
      cmocka_unit_test(test_parse_integers),
      cmocka_unit_test(test_parse_floats),
      cmocka_unit_test(test_parse_rejects),
      cmocka_unit_test(test_parse_vs_strtod),
      cmocka_unit_test(test_round_trip_random),
      cmocka_unit_test(test_round_trip_short_decimals),
      cmocka_unit_test(test_locale_independent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
static double now(void) {
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void) {
  enum { N = 10000000 };
  static char text[N * 8];
  static uint32_t off[N + 1];
  size_t pos = 0;
  for (int i = 0; i < N; i++) { /* 1BRC temperatures: -99.9 .. 99.9 */
    off[i] = (uint32_t)pos;
    int t = (int)(rnd() % 1999) - 999;
    pos += (size_t)sprintf(text + pos, "%s%d.%d", t < 0 ? "-" : "", abs(t) / 10, abs(t) % 10);
  }
  off[N] = (uint32_t)pos;
  double sum = 0, t0 = now();
  for (int i = 0; i < N; i++) {
    int64_t iv;
    double dv;
    numfmt_parse(text + off[i], off[i + 1] - off[i], &iv, &dv);
    sum += dv;
  }
  double t1 = now();
  char nul[16];
  for (int i = 0; i < N; i++) {
    memcpy(nul, text + off[i], off[i + 1] - off[i]);
    nul[off[i + 1] - off[i]] = '\0';
    sum += strtod(nul, NULL);
  }
  double t2 = now();
  char buf[NUMFMT_BUFSIZE];
  size_t tot = 0;
  for (int i = 0; i < 1000000; i++) tot += numfmt_double(buf, sizeof buf, (double)((int)(rnd() % 1999) - 999) / 10, true);
  double t3 = now();
  for (int i = 0; i < 1000000; i++) tot += numfmt_double(buf, sizeof buf, from_bits(rnd() >> 2), true);
  double t4 = now();
  printf("parse 1BRC:  %.1f ns/number (strtod: %.1f)\n", (t1 - t0) / N * 1e9, (t2 - t1) / N * 1e9);
  printf("print 1BRC:  %.1f ns/number\n", (t3 - t2) * 1e3);
  printf("print random: %.1f ns/number   (checksum %g %zu)\n", (t4 - t3) * 1e3, sum, tot);
  return 0;
}
#endif
