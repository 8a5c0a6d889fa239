/* numfmt.c - number token parsing and float printing (language.md §2.5,
 * §4.1.1; PRINTING.md §2.1).
 *
 * Parsing: validate the token against the reader grammar, then take the
 * Clinger fast path (an exact integer mantissa times/divided by an exact
 * power of ten is one correctly rounded IEEE operation) and otherwise hand
 * strtod a rebuilt "DIGITSe[-]EXP" string.  That string has no decimal
 * point, so no LC_NUMERIC setting can change its meaning.
 *
 * Printing: the shortest round-tripping digits come from a cheap exact
 * search for short decimals, else from correctly rounded snprintf("%.*e")
 * trials (15, then 16, then 17 significant digits) checked by reading them
 * back; the digits are then laid out positionally by hand. */
#include "numfmt.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fast paths assume each double operation rounds once, to double.
 * With x87 extended evaluation (FLT_EVAL_METHOD 2) they could double-round,
 * so there everything goes through snprintf/strtod instead. */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define NUMFMT_FAST 1
#else
#define NUMFMT_FAST 0
#endif

/* 10^0 .. 10^22 are all exactly representable as doubles. */
static const double pow10_tab[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define TWO53 9007199254740992.0
#define TWO50 1125899906842624.0

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* ---------------------------------------------------------------- scan */

size_t numfmt_scan(const char *s, size_t len) {
  size_t i = 0;
  if (i < len && s[i] == '-') i++;
  if (i >= len || !is_digit(s[i])) return 0;
  while (i < len && is_digit(s[i])) i++;
  /* '.' only when a digit follows: "1." is 1 then a dot token. */
  if (i + 1 < len && s[i] == '.' && is_digit(s[i + 1])) {
    i += 2;
    while (i < len && is_digit(s[i])) i++;
  }
  /* e/E only with [sign] digit after it: "1e" and "1e+" stop before the e. */
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < len && (s[j] == '+' || s[j] == '-')) j++;
    if (j < len && is_digit(s[j])) {
      i = j + 1;
      while (i < len && is_digit(s[i])) i++;
    }
  }
  return i;
}

/* ------------------------------------------------- decimal -> double */

/* m * 10^e10 in one correctly rounded operation, when m and the power of
 * ten are both exact doubles (Clinger's fast path).  m != 0. */
static bool fast_dec(uint64_t m, long long e10, double *out) {
#if NUMFMT_FAST
  if (m > ((uint64_t)1 << 53)) return false;
  double x = (double)m;
  if (e10 < 0) {
    if (e10 < -22) return false;
    *out = x / pow10_tab[-e10];
    return true;
  }
  if (e10 <= 22) {
    *out = x * pow10_tab[e10];
    return true;
  }
  /* "12e30": move the excess power into m while m stays an exact integer. */
  if (e10 <= 22 + 15) {
    x *= pow10_tab[e10 - 22];
    if (x >= TWO53) return false;
    *out = x * 1e22;
    return true;
  }
#else
  (void)m, (void)e10, (void)out;
#endif
  return false;
}

/* Correctly rounded value of the digit runs a and b concatenated, times
 * 10^e10, negated if neg.  Rebuilds "DIGITSe-EXP" (no decimal point, so the
 * locale's radix character is irrelevant) for strtod. */
static double digits_strtod(bool neg, const char *a, size_t na, const char *b,
                            size_t nb, long long e10) {
  /* Trim zeros so the copy stays small: leading ones cost nothing,
   * trailing ones move into the exponent. */
  while (na > 0 && *a == '0') a++, na--;
  if (na == 0)
    while (nb > 0 && *b == '0') b++, nb--;
  while (nb > 0 && b[nb - 1] == '0') nb--, e10++;
  if (nb == 0)
    while (na > 0 && a[na - 1] == '0') na--, e10++;
  if (na + nb == 0) return neg ? -0.0 : 0.0;

  char stack[512];
  size_t need = 1 + na + nb + 32;
  char *buf = need <= sizeof stack ? stack : malloc(need);
  if (!buf) return neg ? -HUGE_VAL : HUGE_VAL; /* unreachable in practice */
  char *p = buf;
  if (neg) *p++ = '-';
  memcpy(p, a, na), p += na;
  if (nb) memcpy(p, b, nb), p += nb;
  snprintf(p, 32, "e%lld", e10);

  int saved = errno; /* ERANGE on overflow/underflow is expected, not news */
  double d = strtod(buf, NULL);
  errno = saved;
  if (buf != stack) free(buf);
  return d;
}

/* Range-checked int64 value of the digit run s[b..e) (the slow case of
 * 19+ significant digits). */
static NumKind parse_int_slow(const char *s, size_t b, size_t e, bool neg, int64_t *ival) {
  uint64_t lim = neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
  uint64_t m = 0;
  for (size_t k = b; k < e; k++) {
    unsigned dg = (unsigned)(s[k] - '0');
    if (m > (lim - dg) / 10) return NUMFMT_RANGE;
    m = m * 10 + dg;
  }
  /* -2^63 has no positive counterpart in int64 */
  *ival = !neg ? (int64_t)m : m == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)m;
  return NUMFMT_INT;
}

/* One validating pass: the mantissa's first 19 significant digits are
 * accumulated on the way (more would overflow uint64 and need strtod
 * anyway). */
NumKind numfmt_parse(const char *s, size_t len, int64_t *ival, double *dval) {
  size_t i = 0;
  bool neg = len > 0 && s[0] == '-';
  if (neg) i++;
  if (i >= len || !is_digit(s[i])) return NUMFMT_NONE;

  uint64_t m = 0;
  int nsig = 0; /* significant digits in m (leading zeros excluded), 20 = more */
  size_t ib = i; /* integer digits s[ib..ie) */
  for (; i < len && is_digit(s[i]); i++) {
    unsigned dg = (unsigned)(s[i] - '0');
    if (nsig < 19) {
      m = m * 10 + dg;
      nsig += m != 0;
    } else {
      nsig = 20; /* digits dropped: saturate, the count only feeds "> 19" */
    }
  }
  size_t ie = i;

  if (i == len) { /* integer; below 10^18 it cannot leave int64 */
    if (nsig > 18) return parse_int_slow(s, ib, ie, neg, ival);
    *ival = neg ? -(int64_t)m : (int64_t)m;
    return NUMFMT_INT;
  }

  size_t fb = i, fe = i; /* fraction digits s[fb..fe) */
  if (s[i] == '.') {
    fb = ++i;
    if (i >= len || !is_digit(s[i])) return NUMFMT_NONE; /* "1." */
    for (; i < len && is_digit(s[i]); i++) {
      unsigned dg = (unsigned)(s[i] - '0');
      if (nsig < 19) {
        m = m * 10 + dg;
        nsig += m != 0;
      } else {
        nsig = 20;
      }
    }
    fe = i;
  }
  long long ex = 0;
  if (i < len) {
    if (s[i] != 'e' && s[i] != 'E') return NUMFMT_NONE;
    i++;
    bool eneg = i < len && s[i] == '-';
    if (i < len && (s[i] == '+' || s[i] == '-')) i++;
    if (i >= len || !is_digit(s[i])) return NUMFMT_NONE; /* "1e", "1e+" */
    for (; i < len && is_digit(s[i]); i++) /* saturate: this far out is 0 or inf */
      if (ex < 1000000000LL) ex = ex * 10 + (s[i] - '0');
    if (i < len) return NUMFMT_NONE;
    if (eneg) ex = -ex;
  }

  double d;
  if (m == 0) {
    d = 0.0; /* "0.0", "0e999": zero whatever the exponent */
  } else if (nsig > 19 || !fast_dec(m, ex - (long long)(fe - fb), &d)) {
    *dval = digits_strtod(neg, s + ib, ie - ib, s + fb, fe - fb, ex - (long long)(fe - fb));
    return NUMFMT_FLOAT;
  }
  *dval = neg ? -d : d;
  return NUMFMT_FLOAT;
}

/* ------------------------------------------------- double -> digits */

/* A positive decimal 0.dig[0..n) * 10^pt: the point sits after pt digits. */
typedef struct {
  char dig[24];
  int n;
  int pt;
} Digits;

static double digits_value(const Digits *g) {
  uint64_t m = 0;
  for (int i = 0; i < g->n; i++) m = m * 10 + (unsigned)(g->dig[i] - '0');
  double d;
  if (m == 0) return 0.0;
  if (fast_dec(m, (long long)g->pt - g->n, &d)) return d;
  return digits_strtod(false, g->dig, (size_t)g->n, NULL, 0, (long long)g->pt - g->n);
}

static void strip_zeros(Digits *g) {
  while (g->n > 1 && g->dig[g->n - 1] == '0') g->n--;
}

/* g = v (> 0) correctly rounded to p significant digits, via snprintf. */
static void round_digits(double v, int p, Digits *g) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
  /* "d.ddde+XX"; skip whatever radix character the locale put in. */
  const char *s = tmp;
  g->n = 0;
  for (; *s && *s != 'e' && *s != 'E'; s++)
    if (is_digit(*s) && g->n < (int)sizeof g->dig) g->dig[g->n++] = *s;
  int e = 0;
  bool eneg = false;
  if (*s) s++;
  if (*s == '-' || *s == '+') eneg = *s++ == '-';
  for (; is_digit(*s); s++) e = e * 10 + (*s - '0');
  g->pt = (eneg ? -e : e) + 1;
}

/* Next / previous decimal with the same number of significant digits. */
static void digits_next(Digits *g) {
  int i = g->n - 1;
  while (i >= 0 && g->dig[i] == '9') g->dig[i--] = '0';
  if (i >= 0) {
    g->dig[i]++;
  } else { /* 999 -> 1000: one digit longer, so renormalize to 100 x 10 */
    g->dig[0] = '1';
    g->pt++;
  }
}

static void digits_prev(Digits *g) {
  int i = g->n - 1;
  while (i >= 0 && g->dig[i] == '0') g->dig[i--] = '9';
  g->dig[i]--; /* the leading digit is nonzero, so i >= 0 here */
  if (g->dig[0] == '0') { /* 100 -> 099: the predecessor is 999 x 0.1 */
    memset(g->dig, '9', (size_t)g->n);
    g->pt--;
  }
}

/* Try p significant digits: the correctly rounded decimal, or failing that
 * its neighbour on the other side of v.  The neighbour matters only where
 * the rounding interval is lopsided (v a power of two) or wide compared to
 * the decimal spacing (subnormals): if any p-digit decimal reads back as v,
 * the nearest one or the adjacent one towards v does, since the interval is
 * convex and contains v.  On success g holds the digits, trailing zeros
 * stripped. */
static bool try_prec(double v, int p, bool neighbours, Digits *g) {
  round_digits(v, p, g);
  double r = digits_value(g);
  if (r == v) {
    strip_zeros(g);
    return true;
  }
  if (neighbours) {
    Digits h = *g;
    if (r > v)
      digits_prev(&h);
    else
      digits_next(&h);
    if (digits_value(&h) == v) {
      *g = h;
      strip_zeros(g);
      return true;
    }
  }
  return false;
}

/* Shortest decimals with few fraction digits, found exactly without libc:
 * for k = 1, 2, ... the candidate is m = round(v * 10^k), and m / 10^k is
 * one correctly rounded division of exact operands, i.e. exactly what
 * strtod would return for it.  While v * 10^k < 2^50 the computed product is
 * within 1/4 of the true one, so m is the nearest k-fraction-digit decimal
 * whenever any k-digit one reads back as v (powers of two, whose rounding
 * interval is lopsided, are left to the general path).  The first k that
 * works therefore gives the shortest, nearest digits.  This covers the
 * common "-12.3" style values with two or three double operations. */
static bool fast_shortest(double v, Digits *g) {
#if NUMFMT_FAST
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  if ((bits & 0xFFFFFFFFFFFFFull) == 0) return false;
  for (int k = 1; k <= 22; k++) {
    double prod = v * pow10_tab[k];
    if (prod >= TWO50) return false;
    uint64_t m = (uint64_t)(prod + 0.5);
    if (m != 0 && (double)m / pow10_tab[k] == v) {
      char rev[24];
      int n = 0;
      for (; m; m /= 10) rev[n++] = (char)('0' + m % 10);
      for (int i = 0; i < n; i++) g->dig[i] = rev[n - 1 - i];
      g->n = n;
      g->pt = n - k;
      strip_zeros(g);
      return true;
    }
  }
#else
  (void)v, (void)g;
#endif
  return false;
}

/* Shortest digits reading back as v (finite, > 0), nearest among equals. */
static void shortest(double v, Digits *g) {
  if (fast_shortest(v, g)) return;
  if (v >= DBL_MIN) {
    /* Normal doubles: any decimal of <= 15 digits that reads back as v is
     * what v rounds to at 15 digits (DBL_DIG), so if that fails no shorter
     * string can work; and 17 digits always round-trip. */
    if (try_prec(v, 15, false, g)) return;
    if (try_prec(v, 16, true, g)) return;
    if (try_prec(v, 17, true, g)) return;
  } else {
    /* Subnormals carry fewer bits, so the DBL_DIG shortcut does not hold
     * (5e-324 needs one digit): search upwards. */
    for (int p = 1; p <= 17; p++)
      if (try_prec(v, p, true, g)) return;
  }
  round_digits(v, 17, g); /* not reached: 17 digits always round-trip */
  strip_zeros(g);
}

/* ---------------------------------------------------------- printing */

static char *put_zeros(char *p, int k) {
  for (; k > 0; k--) *p++ = '0';
  return p;
}

/* Positional layout of (neg ? -g : g); never an exponent. */
static size_t layout(char *out, bool neg, const Digits *g, bool force_point) {
  char *p = out;
  if (neg) *p++ = '-';
  if (g->pt <= 0) { /* 0.000ddd */
    *p++ = '0', *p++ = '.';
    p = put_zeros(p, -g->pt);
    memcpy(p, g->dig, (size_t)g->n), p += g->n;
  } else if (g->pt < g->n) { /* ddd.ddd */
    memcpy(p, g->dig, (size_t)g->pt), p += g->pt;
    *p++ = '.';
    memcpy(p, g->dig + g->pt, (size_t)(g->n - g->pt)), p += g->n - g->pt;
  } else { /* ddd000 */
    memcpy(p, g->dig, (size_t)g->n), p += g->n;
    p = put_zeros(p, g->pt - g->n);
    if (force_point) *p++ = '.', *p++ = '0';
  }
  *p = '\0';
  return (size_t)(p - out);
}

static size_t put_str(char *out, const char *s) {
  size_t n = strlen(s);
  memcpy(out, s, n + 1);
  return n;
}

static size_t format(char *out, double d, bool force_point) {
  if (isnan(d)) return put_str(out, "NaN");
  if (isinf(d)) return put_str(out, d > 0 ? "inf" : "-inf");
  bool neg = signbit(d) != 0;
  double v = neg ? -d : d;
  if (v == 0.0) return (size_t)sprintf(out, "%s0%s", neg ? "-" : "", force_point ? ".0" : "");
  bool integral = v >= 4503599627370496.0 /* 2^52: no fraction bits left */ ||
                  (double)(int64_t)v == v;
  if (integral && force_point) {
    /* Rule 2: the exact value.  glibc's %.0f prints every digit exactly,
     * and prints no radix character, so the locale cannot intrude. */
    int n = snprintf(out, NUMFMT_BUFSIZE - 2, "%.0f", d);
    out[n] = '.', out[n + 1] = '0', out[n + 2] = '\0';
    return (size_t)n + 2;
  }
  if (integral && v < TWO53) {
    /* Below 2^53 neighbouring doubles are <= 1 apart, so no decimal with
     * fewer significant digits than the integer itself reads back as it. */
    return (size_t)sprintf(out, "%s%llu", neg ? "-" : "", (unsigned long long)v);
  }
  Digits g;
  shortest(v, &g);
  return layout(out, neg, &g, force_point);
}

size_t numfmt_double(char *buf, size_t cap, double d, bool force_point) {
  if (cap >= NUMFMT_BUFSIZE) return format(buf, d, force_point);
  char tmp[NUMFMT_BUFSIZE];
  size_t n = format(tmp, d, force_point);
  if (cap > 0) {
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(buf, tmp, k);
    buf[k] = '\0';
  }
  return n;
}

/* ---- the grammar of string->number (stdlib.md §7) ---- */

/* Decimal integer with optional sign; 1 = ok, 0 = not that shape, -1 = overflow. */
int numfmt_parse_i64(const char *s, size_t len, int64_t *out) {
  size_t i = 0;
  bool neg = false;
  if (i < len && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i == len) return 0;
  uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, acc = 0;
  bool over = false;
  for (; i < len; i++) {
    unsigned d = (unsigned char)s[i] - '0';
    if (d > 9) return 0;
    if (acc > (lim - d) / 10) over = true; /* keep scanning: "1e" etc. must still fail the shape */
    else acc = acc * 10 + d;
  }
  if (over) return -1;
  *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
  return 1;
}

static bool ieq(const char *s, size_t len, const char *word) {
  size_t n = strlen(word);
  if (len != n) return false;
  for (size_t i = 0; i < n; i++)
    if ((s[i] | 0x20) != word[i]) return false;
  return true;
}

/* The float grammar of §7 (sign; inf/infinity/nan; or digits with optional
 * point, fraction and exponent).  s must be NUL-terminated after len. */
static bool parse_float_slow(const char *s, size_t len, double *out) {
  size_t i = 0;
  if (i < len && (s[i] == '+' || s[i] == '-')) i++;
  const char *w = s + i;
  size_t wl = len - i;
  if (ieq(w, wl, "inf") || ieq(w, wl, "infinity") || ieq(w, wl, "nan")) {
    double d = ieq(w, wl, "nan") ? NAN : INFINITY;
    *out = s[0] == '-' ? -d : d;
    return true;
  }
  size_t digits = 0;
  while (i < len && s[i] >= '0' && s[i] <= '9') i++, digits++;
  if (i < len && s[i] == '.')
    for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) digits++;
  if (digits == 0) return false;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-')) i++;
    size_t e0 = i;
    while (i < len && s[i] >= '0' && s[i] <= '9') i++;
    if (i == e0) return false;
  }
  if (i != len) return false;
  *out = strtod(s, NULL); /* s is NUL-terminated; glibc strtod is correctly rounded */
  return true;
}

/* string->number: integer if it has the integer shape and fits, else float.
 * The reader grammar (numfmt_parse, fast) covers the common cases. */
NumKind numfmt_parse_lenient(const char *s, size_t len, int64_t *iv, double *dv) {
  NumKind k = numfmt_parse(s, len, iv, dv);
  if (k == NUMFMT_INT || k == NUMFMT_FLOAT) return k;
  if (numfmt_parse_i64(s, len, iv) == 1) return NUMFMT_INT; /* "+5" */
  return parse_float_slow(s, len, dv) ? NUMFMT_FLOAT : NUMFMT_NONE;
}
