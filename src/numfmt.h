/* numfmt.h - number text <-> value conversions for the reader and printer
 * (language.md §2.5 number syntax, §4.1.1 float printing; PRINTING.md §2.1).
 * Plain C11, no dependency on the rest of the interpreter. */
#ifndef SEMA_NUMFMT_H
#define SEMA_NUMFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Enough for every double: the longest outputs are about 345 bytes
 * ("-0." + 322 zeros + 17 digits for the largest 17-digit subnormals) and
 * 313 bytes ("-" + 309 digits + ".0" for -DBL_MAX), plus the NUL. */
#define NUMFMT_BUFSIZE 512

/* Write the printed form of d to buf (NUL-terminated) and return its length.
 *   force_point=true  (the printed form P(v), §4.1.1): NaN -> "NaN", inf,
 *     -inf; integral finite values print their exact decimal value + ".0"
 *     (1e21 -> "1000000000000000000000.0", -0.0 -> "-0.0"); other values the
 *     shortest digit string that reads back as d, positional, never an
 *     exponent (1e-7 -> "0.0000001").
 *   force_point=false (number->string, stdlib.md): the shortest-digits rule
 *     for every float, no ".0" (4.0 -> "4", 1e21 -> "1000000000000000000000",
 *     1e23 -> "100000000000000000000000", -0.0 -> "-0").
 * If cap is too small the output is truncated like snprintf (and the full
 * length still returned); with cap >= NUMFMT_BUFSIZE it never is. */
size_t numfmt_double(char *buf, size_t cap, double d, bool force_point);

typedef enum { NUMFMT_NONE, NUMFMT_INT, NUMFMT_FLOAT, NUMFMT_RANGE } NumKind;

/* Parse s[0..len) (need not be NUL-terminated) as one whole number token:
 *   integer ::= '-'? digit+
 *   float   ::= '-'? digit+ ('.' digit+)? (('e'|'E') ('+'|'-')? digit+)?
 *               (fraction or exponent required)
 * NUMFMT_INT: *ival set.  NUMFMT_FLOAT: *dval set, correctly rounded
 * (overflow -> +-inf, underflow -> +-0.0, "-0.0" -> negative zero).
 * NUMFMT_RANGE: an integer literal outside int64.  NUMFMT_NONE: the text is
 * not exactly one number.  Locale-independent. */
NumKind numfmt_parse(const char *s, size_t len, int64_t *ival, double *dval);

/* Length of the longest prefix of s[0..len) the reader takes as a number:
 * '-'? digits, then '.' only if a digit follows, then e/E only if an
 * optional sign and a digit follow.  0 unless s starts with a digit or '-'
 * and a digit. */
size_t numfmt_scan(const char *s, size_t len);

/* Decimal integer with an optional sign ('+' too): 1 = ok (*out set), 0 = not
 * that shape, -1 = the shape but outside int64. */
int numfmt_parse_i64(const char *s, size_t len, int64_t *out);

/* string->number's grammar (stdlib.md §7), wider than the reader's: a '+'
 * sign, inf/infinity/nan in any case, "1." and ".5".  Integers that do not
 * fit int64 become floats.  s must be NUL-terminated after len. */
NumKind numfmt_parse_lenient(const char *s, size_t len, int64_t *ival, double *dval);

#endif
