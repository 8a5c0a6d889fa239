/* datetime.c - UTC timestamps, formatting and parsing (stdlib.md §22).
 *
 * Timestamps are float seconds since the Unix epoch, UTC.  The calendar
 * arithmetic is the proleptic Gregorian calendar done by hand (days from
 * civil and back), independent of the C library and its locale.  The
 * directives follow chrono's strftime syntax, including its parser's rules
 * (field widths, consistency checks, error kinds).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib.h"

#define YEAR_MIN (-262143)
#define YEAR_MAX 262143

static const char *const month_names[12] = {"January", "February", "March",     "April",   "May",      "June",
                                            "July",    "August",   "September", "October", "November", "December"};
/* index: days from Monday (0 = Monday) */
static const char *const weekday_names[7] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

/* ---- calendar arithmetic ---- */

static int64_t floordiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
static int64_t floormod(int64_t a, int64_t b) { return a - floordiv(a, b) * b; }

static bool is_leap(int64_t y) { return floormod(y, 4) == 0 && (floormod(y, 100) != 0 || floormod(y, 400) == 0); }
static int days_in_month(int64_t y, int m) {
  static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}
static int days_in_year(int64_t y) { return is_leap(y) ? 366 : 365; }

/* days since 1970-01-01 of a civil date */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = floordiv(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = floordiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday) */
static int weekday_of_days(int64_t days) { return (int)floormod(days + 3, 7); }

/* A broken-down UTC time. */
typedef struct {
  int64_t secs; /* Unix seconds (floored) */
  int64_t days; /* days since the epoch */
  int64_t year;
  int month, day, ordinal, wd; /* wd: days from Monday */
  int hour, minute, second;
  uint32_t nano;
} DT;

static void dt_from_secs(DT *t, int64_t secs, uint32_t nano) {
  t->secs = secs;
  t->nano = nano;
  t->days = floordiv(secs, 86400);
  int64_t sod = secs - t->days * 86400;
  t->hour = (int)(sod / 3600);
  t->minute = (int)(sod / 60 % 60);
  t->second = (int)(sod % 60);
  civil_from_days(t->days, &t->year, &t->month, &t->day);
  t->ordinal = (int)(t->days - days_from_civil(t->year, 1, 1)) + 1;
  t->wd = weekday_of_days(t->days);
}

/* number of ISO weeks in ISO year y */
static int iso_weeks_in_year(int64_t y) {
  int jan1 = weekday_of_days(days_from_civil(y, 1, 1));
  return (jan1 == 3 || (jan1 == 2 && is_leap(y))) ? 53 : 52;
}

static void iso_week(int64_t year, int ordinal, int wd, int64_t *iy, int *iw) {
  int w = (ordinal - (wd + 1) + 10) / 7;
  if (w < 1) {
    *iy = year - 1;
    *iw = iso_weeks_in_year(year - 1);
  } else if (w > iso_weeks_in_year(year)) {
    *iy = year + 1;
    *iw = 1;
  } else {
    *iy = year;
    *iw = w;
  }
}

/* weeks_from(start): start 0 = Monday, 6 = Sunday */
static int weeks_from(int ordinal, int wd, int start) {
  int ndays_from = (wd - start + 7) % 7;
  return (ordinal - ndays_from + 6) / 7;
}

static int64_t secs_min(void) { return days_from_civil(YEAR_MIN, 1, 1) * 86400; }
static int64_t secs_max(void) { return days_from_civil(YEAR_MAX, 12, 31) * 86400 + 86399; }

/* timestamp argument -> broken-down time */
static void arg_dt(VM *vm, Value v, DT *t) {
  if (!is_number(v)) err_type(vm, "number", v);
  int64_t secs;
  uint32_t nano = 0;
  if (is_int(v)) {
    secs = int_of(v);
  } else {
    double d = as_double(v);
    if (!isfinite(d)) err_eval(vm, "time: invalid timestamp");
    double f = floor(d);
    if (f < (double)secs_min() || f > (double)secs_max()) err_eval(vm, "time: invalid timestamp");
    secs = (int64_t)f;
    double frac = (d - f) * 1e9;
    nano = frac >= 999999999.0 ? 999999999u : (uint32_t)frac;
  }
  if (secs < secs_min() || secs > secs_max()) err_eval(vm, "time: invalid timestamp");
  dt_from_secs(t, secs, nano);
}

/* ---- the directive tokenizer (shared by formatting and parsing) ---- */

typedef enum { PAD_NONE, PAD_ZERO, PAD_SPACE } Pad;

typedef enum {
  N_YEAR, N_YEAR_DIV100, N_YEAR_MOD100, N_ISOYEAR, N_ISOYEAR_DIV100, N_ISOYEAR_MOD100,
  N_MONTH, N_DAY, N_WEEK_SUN, N_WEEK_MON, N_ISOWEEK, N_WD_SUN0, N_WD_MON1, N_ORDINAL,
  N_HOUR, N_HOUR12, N_MINUTE, N_SECOND, N_NANO, N_TIMESTAMP
} NumSpec;

typedef enum {
  F_SHORT_MONTH, F_LONG_MONTH, F_SHORT_WD, F_LONG_WD, F_LOWER_AMPM, F_UPPER_AMPM,
  F_NANO, F_NANO3, F_NANO6, F_NANO9, F_NANO3_NODOT, F_NANO6_NODOT, F_NANO9_NODOT,
  F_TZ_NAME, F_TZ_OFF, F_TZ_OFF_COLON, F_TZ_OFF_2COLON, F_TZ_OFF_3COLON, F_TZ_OFF_PERMISSIVE, F_RFC3339
} FixSpec;

typedef enum { IT_END, IT_LIT, IT_SPACE, IT_NUM, IT_FIX, IT_SUB, IT_ERROR } ItemKind;

typedef struct {
  ItemKind kind;
  const char *s; /* literal / space text, or the sub-format of a composite */
  size_t len;
  int spec;
  Pad pad;
} Item;

/* UTF-8 length of a whitespace character at p (Rust's char::is_whitespace), or 0 */
static size_t ws_len(const char *p, const char *end) {
  unsigned char c = (unsigned char)*p;
  if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return 1;
  if (c < 0x80) return 0;
  size_t adv = 0;
  if (end - p < 2) return 0;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0)
    cp = ((uint32_t)(c & 0x1F) << 6) | ((unsigned char)p[1] & 0x3F), adv = 2;
  else if ((c & 0xF0) == 0xE0 && end - p >= 3)
    cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)((unsigned char)p[1] & 0x3F) << 6) | ((unsigned char)p[2] & 0x3F), adv = 3;
  else
    return 0;
  if (cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
      cp == 0x202F || cp == 0x205F || cp == 0x3000)
    return adv;
  return 0;
}

static size_t utf8_char_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

/* Next item of the format [*p, end). */
static Item next_item(const char **pp, const char *end) {
  Item it = {IT_END, NULL, 0, 0, PAD_NONE};
  const char *p = *pp;
  if (p >= end) return it;
  if (*p != '%') {
    if (ws_len(p, end)) {
      const char *q = p;
      size_t w;
      while (q < end && (w = ws_len(q, end))) q += w;
      it.kind = IT_SPACE, it.s = p, it.len = (size_t)(q - p);
      *pp = q;
      return it;
    }
    const char *q = p;
    while (q < end && *q != '%' && !ws_len(q, end)) q += utf8_char_len((unsigned char)*q);
    if (q > end) q = end;
    it.kind = IT_LIT, it.s = p, it.len = (size_t)(q - p);
    *pp = q;
    return it;
  }
  p++;
  it.kind = IT_ERROR;
  if (p >= end) {
    *pp = p;
    return it;
  }
  int have_pad = 0;
  Pad pad = PAD_NONE;
  char c = *p++;
  if (c == '-' || c == '0' || c == '_') {
    have_pad = 1;
    pad = c == '-' ? PAD_NONE : c == '0' ? PAD_ZERO : PAD_SPACE;
    if (p >= end) {
      *pp = p;
      return it;
    }
    c = *p++;
  } else if (c == '#') {
    if (p < end && *p == 'z') {
      p++;
      it.kind = IT_FIX, it.spec = F_TZ_OFF_PERMISSIVE;
    } else if (p < end)
      p += utf8_char_len((unsigned char)*p);
    *pp = p > end ? end : p;
    return it;
  }
#define NUM(sp, pd) (it.kind = IT_NUM, it.spec = (sp), it.pad = (pd))
#define FIX(sp) (it.kind = IT_FIX, it.spec = (sp))
#define SUB(str) (it.kind = IT_SUB, it.s = (str), it.len = strlen(str))
  switch (c) {
  case 'A': FIX(F_LONG_WD); break;
  case 'B': FIX(F_LONG_MONTH); break;
  case 'C': NUM(N_YEAR_DIV100, PAD_ZERO); break;
  case 'D': SUB("%m/%d/%y"); break;
  case 'F': SUB("%Y-%m-%d"); break;
  case 'G': NUM(N_ISOYEAR, PAD_ZERO); break;
  case 'H': NUM(N_HOUR, PAD_ZERO); break;
  case 'I': NUM(N_HOUR12, PAD_ZERO); break;
  case 'M': NUM(N_MINUTE, PAD_ZERO); break;
  case 'P': FIX(F_LOWER_AMPM); break;
  case 'R': SUB("%H:%M"); break;
  case 'S': NUM(N_SECOND, PAD_ZERO); break;
  case 'T': SUB("%H:%M:%S"); break;
  case 'U': NUM(N_WEEK_SUN, PAD_ZERO); break;
  case 'V': NUM(N_ISOWEEK, PAD_ZERO); break;
  case 'W': NUM(N_WEEK_MON, PAD_ZERO); break;
  case 'X': SUB("%H:%M:%S"); break;
  case 'Y': NUM(N_YEAR, PAD_ZERO); break;
  case 'Z': FIX(F_TZ_NAME); break;
  case 'a': FIX(F_SHORT_WD); break;
  case 'b': FIX(F_SHORT_MONTH); break;
  case 'c': SUB("%a %b %e %H:%M:%S %Y"); break;
  case 'd': NUM(N_DAY, PAD_ZERO); break;
  case 'e': NUM(N_DAY, PAD_SPACE); break;
  case 'f': NUM(N_NANO, PAD_ZERO); break;
  case 'g': NUM(N_ISOYEAR_MOD100, PAD_ZERO); break;
  case 'h': FIX(F_SHORT_MONTH); break;
  case 'j': NUM(N_ORDINAL, PAD_ZERO); break;
  case 'k': NUM(N_HOUR, PAD_SPACE); break;
  case 'l': NUM(N_HOUR12, PAD_SPACE); break;
  case 'm': NUM(N_MONTH, PAD_ZERO); break;
  case 'n': it.kind = IT_SPACE, it.s = "\n", it.len = 1; break;
  case 'p': FIX(F_UPPER_AMPM); break;
  case 'r': SUB("%I:%M:%S %p"); break;
  case 's': NUM(N_TIMESTAMP, PAD_NONE); break;
  case 't': it.kind = IT_SPACE, it.s = "\t", it.len = 1; break;
  case 'u': NUM(N_WD_MON1, PAD_NONE); break;
  case 'v': SUB("%e-%b-%Y"); break;
  case 'w': NUM(N_WD_SUN0, PAD_NONE); break;
  case 'x': SUB("%m/%d/%y"); break;
  case 'y': NUM(N_YEAR_MOD100, PAD_ZERO); break;
  case 'z': FIX(F_TZ_OFF); break;
  case '+': FIX(F_RFC3339); break;
  case '%': it.kind = IT_LIT, it.s = "%", it.len = 1; break;
  case '.':
    if (p < end && *p == 'f')
      p++, FIX(F_NANO);
    else if (p + 1 < end && p[1] == 'f' && (*p == '3' || *p == '6' || *p == '9')) {
      FIX(*p == '3' ? F_NANO3 : *p == '6' ? F_NANO6 : F_NANO9);
      p += 2;
    } else if (p < end)
      p += utf8_char_len((unsigned char)*p);
    break;
  case '3':
  case '6':
  case '9':
    if (p < end && *p == 'f') {
      FIX(c == '3' ? F_NANO3_NODOT : c == '6' ? F_NANO6_NODOT : F_NANO9_NODOT);
      p++;
    } else if (p < end)
      p += utf8_char_len((unsigned char)*p);
    break;
  case ':': {
    int colons = 1;
    while (colons < 3 && p < end && *p == ':') colons++, p++;
    if (p < end && *p == 'z') {
      p++;
      FIX(colons == 1 ? F_TZ_OFF_COLON : colons == 2 ? F_TZ_OFF_2COLON : F_TZ_OFF_3COLON);
    } else if (p < end)
      p += utf8_char_len((unsigned char)*p);
    break;
  }
  default:
    /* unknown directive: skip the whole character */
    if ((unsigned char)c >= 0x80) p += utf8_char_len((unsigned char)c) - 1;
    break;
  }
#undef NUM
#undef FIX
#undef SUB
  if (p > end) p = end;
  *pp = p;
  if (have_pad) {
    if (it.kind == IT_NUM)
      it.pad = pad;
    else
      it.kind = IT_ERROR;
  }
  return it;
}

/* ---- formatting ---- */

/* Rust-style integer formatting: {:0w}, {:w}, {}, and with a forced sign. */
static void fmt_int(StrBuf *b, int64_t v, int width, Pad pad, bool force_sign) {
  char digits[32];
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)u);
  const char *sign = v < 0 ? "-" : force_sign ? "+" : "";
  int len = n + (int)strlen(sign);
  int fill = pad == PAD_NONE ? 0 : width - len;
  if (pad == PAD_SPACE)
    for (int i = 0; i < fill; i++) sb_addc(b, ' ');
  sb_adds(b, sign);
  if (pad == PAD_ZERO)
    for (int i = 0; i < fill; i++) sb_addc(b, '0');
  sb_add(b, digits, (size_t)n);
}

static void fmt_frac(StrBuf *b, uint32_t nano, int digits, bool dot) {
  if (dot) sb_addc(b, '.');
  if (digits == 3)
    sb_addf(b, "%03u", nano / 1000000);
  else if (digits == 6)
    sb_addf(b, "%06u", nano / 1000);
  else
    sb_addf(b, "%09u", nano);
}

static void fmt_auto_frac(StrBuf *b, uint32_t nano) {
  if (nano == 0) return;
  fmt_frac(b, nano, nano % 1000000 == 0 ? 3 : nano % 1000 == 0 ? 6 : 9, true);
}

/* false on an invalid directive */
static bool format_dt(StrBuf *b, const DT *t, const char *fmt, size_t flen) {
  const char *p = fmt, *end = fmt + flen;
  for (;;) {
    Item it = next_item(&p, end);
    switch (it.kind) {
    case IT_END: return true;
    case IT_ERROR: return false;
    case IT_LIT:
    case IT_SPACE: sb_add(b, it.s, it.len); break;
    case IT_SUB:
      if (!format_dt(b, t, it.s, it.len)) return false;
      break;
    case IT_NUM: {
      int64_t v = 0;
      int width = 2;
      int64_t iy;
      int iw;
      switch ((NumSpec)it.spec) {
      case N_YEAR: v = t->year, width = 4; break;
      case N_YEAR_DIV100: v = floordiv(t->year, 100); break;
      case N_YEAR_MOD100: v = floormod(t->year, 100); break;
      case N_ISOYEAR:
        iso_week(t->year, t->ordinal, t->wd, &iy, &iw);
        v = iy, width = 4;
        break;
      case N_ISOYEAR_DIV100:
        iso_week(t->year, t->ordinal, t->wd, &iy, &iw);
        v = floordiv(iy, 100);
        break;
      case N_ISOYEAR_MOD100:
        iso_week(t->year, t->ordinal, t->wd, &iy, &iw);
        v = floormod(iy, 100);
        break;
      case N_MONTH: v = t->month; break;
      case N_DAY: v = t->day; break;
      case N_WEEK_SUN: v = weeks_from(t->ordinal, t->wd, 6); break;
      case N_WEEK_MON: v = weeks_from(t->ordinal, t->wd, 0); break;
      case N_ISOWEEK:
        iso_week(t->year, t->ordinal, t->wd, &iy, &iw);
        v = iw;
        break;
      case N_WD_SUN0: v = (t->wd + 1) % 7, width = 1; break;
      case N_WD_MON1: v = t->wd + 1, width = 1; break;
      case N_ORDINAL: v = t->ordinal, width = 3; break;
      case N_HOUR: v = t->hour; break;
      case N_HOUR12: v = t->hour % 12 == 0 ? 12 : t->hour % 12; break;
      case N_MINUTE: v = t->minute; break;
      case N_SECOND: v = t->second; break;
      case N_NANO: v = t->nano, width = 9; break;
      case N_TIMESTAMP: v = t->secs, width = 1; break;
      }
      bool year = it.spec == N_YEAR || it.spec == N_ISOYEAR;
      if (year && (v < 0 || v > 9999))
        fmt_int(b, v, width + 1, it.pad, true);
      else
        fmt_int(b, v, width, it.pad, false);
      break;
    }
    case IT_FIX:
      switch ((FixSpec)it.spec) {
      case F_SHORT_MONTH: sb_add(b, month_names[t->month - 1], 3); break;
      case F_LONG_MONTH: sb_adds(b, month_names[t->month - 1]); break;
      case F_SHORT_WD: sb_add(b, weekday_names[t->wd], 3); break;
      case F_LONG_WD: sb_adds(b, weekday_names[t->wd]); break;
      case F_LOWER_AMPM: sb_adds(b, t->hour < 12 ? "am" : "pm"); break;
      case F_UPPER_AMPM: sb_adds(b, t->hour < 12 ? "AM" : "PM"); break;
      case F_NANO: fmt_auto_frac(b, t->nano); break;
      case F_NANO3: fmt_frac(b, t->nano, 3, true); break;
      case F_NANO6: fmt_frac(b, t->nano, 6, true); break;
      case F_NANO9: fmt_frac(b, t->nano, 9, true); break;
      case F_NANO3_NODOT: fmt_frac(b, t->nano, 3, false); break;
      case F_NANO6_NODOT: fmt_frac(b, t->nano, 6, false); break;
      case F_NANO9_NODOT: fmt_frac(b, t->nano, 9, false); break;
      case F_TZ_NAME: sb_adds(b, "UTC"); break;
      case F_TZ_OFF: sb_adds(b, "+0000"); break;
      case F_TZ_OFF_COLON: sb_adds(b, "+00:00"); break;
      case F_TZ_OFF_2COLON: sb_adds(b, "+00:00:00"); break;
      case F_TZ_OFF_3COLON: sb_adds(b, "+00"); break;
      case F_TZ_OFF_PERMISSIVE: return false;
      case F_RFC3339:
        if (t->year >= 0 && t->year <= 9999)
          fmt_int(b, t->year, 4, PAD_ZERO, false);
        else
          fmt_int(b, t->year, 5, PAD_ZERO, true);
        sb_addf(b, "-%02d-%02dT%02d:%02d:%02d", t->month, t->day, t->hour, t->minute, t->second);
        fmt_auto_frac(b, t->nano);
        sb_adds(b, "+00:00");
        break;
      }
      break;
    }
  }
}

/* ---- parsing (chrono's Parsed, simplified to UTC) ---- */

typedef enum { PE_OK, PE_OUT_OF_RANGE, PE_IMPOSSIBLE, PE_NOT_ENOUGH, PE_INVALID, PE_TOO_SHORT, PE_TOO_LONG, PE_BAD_FORMAT } PErr;

static const char *perr_msg(PErr e) {
  switch (e) {
  case PE_OUT_OF_RANGE: return "input is out of range";
  case PE_IMPOSSIBLE: return "no possible date and time matching input";
  case PE_NOT_ENOUGH: return "input is not enough for unique date and time";
  case PE_INVALID: return "input contains invalid characters";
  case PE_TOO_SHORT: return "premature end of input";
  case PE_TOO_LONG: return "trailing input";
  case PE_BAD_FORMAT: return "bad or unsupported format string";
  default: return "";
  }
}

enum {
  P_YEAR, P_YEAR_DIV100, P_YEAR_MOD100, P_ISOYEAR, P_ISOYEAR_DIV100, P_ISOYEAR_MOD100, P_MONTH,
  P_WEEK_SUN, P_WEEK_MON, P_ISOWEEK, P_WEEKDAY, P_ORDINAL, P_DAY, P_HOUR_DIV12, P_HOUR_MOD12,
  P_MINUTE, P_SECOND, P_NANO, P_TIMESTAMP, P_OFFSET, P_NFIELDS
};

typedef struct {
  int64_t v[P_NFIELDS];
  bool has[P_NFIELDS];
} Parsed;

static PErr pset(Parsed *ps, int f, int64_t v) {
  if (ps->has[f] && ps->v[f] != v) return PE_IMPOSSIBLE;
  ps->has[f] = true;
  ps->v[f] = v;
  return PE_OK;
}

static PErr pset_range(Parsed *ps, int f, int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi) return PE_OUT_OF_RANGE;
  return pset(ps, f, v);
}

static PErr set_num(Parsed *ps, NumSpec spec, int64_t v) {
  PErr e;
  switch (spec) {
  case N_YEAR: return pset_range(ps, P_YEAR, v, INT32_MIN, INT32_MAX);
  case N_YEAR_DIV100: return pset_range(ps, P_YEAR_DIV100, v, 0, INT32_MAX);
  case N_YEAR_MOD100: return pset_range(ps, P_YEAR_MOD100, v, 0, 99);
  case N_ISOYEAR: return pset_range(ps, P_ISOYEAR, v, INT32_MIN, INT32_MAX);
  case N_ISOYEAR_DIV100: return pset_range(ps, P_ISOYEAR_DIV100, v, 0, INT32_MAX);
  case N_ISOYEAR_MOD100: return pset_range(ps, P_ISOYEAR_MOD100, v, 0, 99);
  case N_MONTH: return pset_range(ps, P_MONTH, v, 1, 12);
  case N_DAY: return pset_range(ps, P_DAY, v, 1, 31);
  case N_WEEK_SUN: return pset_range(ps, P_WEEK_SUN, v, 0, 53);
  case N_WEEK_MON: return pset_range(ps, P_WEEK_MON, v, 0, 53);
  case N_ISOWEEK: return pset_range(ps, P_ISOWEEK, v, 1, 53);
  case N_WD_SUN0:
    if (v < 0 || v > 6) return PE_OUT_OF_RANGE;
    return pset(ps, P_WEEKDAY, (v + 6) % 7);
  case N_WD_MON1:
    if (v < 1 || v > 7) return PE_OUT_OF_RANGE;
    return pset(ps, P_WEEKDAY, v - 1);
  case N_ORDINAL: return pset_range(ps, P_ORDINAL, v, 1, 366);
  case N_HOUR:
    if (v < 0 || v > 23) return PE_OUT_OF_RANGE;
    if ((e = pset(ps, P_HOUR_DIV12, v / 12))) return e;
    return pset(ps, P_HOUR_MOD12, v % 12);
  case N_HOUR12:
    if (v < 1 || v > 12) return PE_OUT_OF_RANGE;
    return pset(ps, P_HOUR_MOD12, v % 12);
  case N_MINUTE: return pset_range(ps, P_MINUTE, v, 0, 59);
  case N_SECOND: return pset_range(ps, P_SECOND, v, 0, 60);
  case N_NANO: return pset_range(ps, P_NANO, v, 0, 999999999);
  case N_TIMESTAMP: return pset(ps, P_TIMESTAMP, v);
  }
  return PE_OK;
}

/* chrono's scan::number: between min and max ASCII digits */
static PErr scan_number(const char **sp, const char *end, size_t min, size_t max, int64_t *out) {
  const char *s = *sp;
  if ((size_t)(end - s) < min) return PE_TOO_SHORT;
  int64_t n = 0;
  size_t i = 0;
  for (; i < max && s + i < end; i++) {
    char c = s[i];
    if (c < '0' || c > '9') {
      if (i < min) return PE_INVALID;
      break;
    }
    if (n > (INT64_MAX - (c - '0')) / 10) return PE_OUT_OF_RANGE;
    n = n * 10 + (c - '0');
  }
  *sp = s + i;
  *out = n;
  return PE_OK;
}

static const char *trim_ws(const char *s, const char *end) {
  size_t w;
  while (s < end && (w = ws_len(s, end))) s += w;
  return s;
}

static bool ieq(const char *s, const char *lit, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char a = s[i], c = lit[i];
    if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (a != c) return false;
  }
  return true;
}

/* names[i] is the long name; the first three letters are the short name */
static PErr scan_name(const char **sp, const char *end, const char *const *names, int count, bool allow_long, int *out) {
  const char *s = *sp;
  if (end - s < 3) return PE_TOO_SHORT;
  for (int i = 0; i < count; i++) {
    if (!ieq(s, names[i], 3)) continue;
    s += 3;
    if (allow_long) {
      size_t sl = strlen(names[i]) - 3;
      if ((size_t)(end - s) >= sl && ieq(s, names[i] + 3, sl)) s += sl;
    }
    *sp = s;
    *out = i;
    return PE_OK;
  }
  return PE_INVALID;
}

static PErr scan_nanosecond(const char **sp, const char *end, int64_t *out) {
  static const int64_t scale[10] = {0, 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1};
  const char *s = *sp;
  int64_t v;
  PErr e = scan_number(&s, end, 1, 9, &v);
  if (e) return e;
  v *= scale[s - *sp];
  while (s < end && *s >= '0' && *s <= '9') s++;
  *sp = s;
  *out = v;
  return PE_OK;
}

static PErr scan_tz_offset(const char **sp, const char *end, bool allow_zulu, bool allow_missing_minutes, int64_t *out) {
  const char *s = *sp;
  if (allow_zulu && s < end && (*s == 'Z' || *s == 'z')) {
    *sp = s + 1;
    *out = 0;
    return PE_OK;
  }
  bool neg;
  if (s >= end) return PE_TOO_SHORT;
  if (*s == '+')
    neg = false, s++;
  else if (*s == '-')
    neg = true, s++;
  else if (end - s >= 3 && (unsigned char)s[0] == 0xE2 && (unsigned char)s[1] == 0x88 && (unsigned char)s[2] == 0x92)
    neg = true, s += 3; /* U+2212 MINUS SIGN */
  else
    return PE_INVALID;
  if (end - s < 2) return PE_TOO_SHORT;
  if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return PE_INVALID;
  int64_t hours = (s[0] - '0') * 10 + (s[1] - '0');
  s += 2;
  while (s < end && (*s == ':' || ws_len(s, end))) s += ws_len(s, end) ? ws_len(s, end) : 1;
  int64_t minutes = 0;
  if (end - s >= 2) {
    if (s[0] >= '0' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9')
      minutes = (s[0] - '0') * 10 + (s[1] - '0');
    else if (s[0] >= '6' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9')
      return PE_OUT_OF_RANGE;
    else
      return PE_INVALID;
    s += 2;
  } else if (!allow_missing_minutes)
    return PE_TOO_SHORT;
  else if (end - s == 1)
    return PE_TOO_SHORT;
  *sp = s;
  *out = (neg ? -1 : 1) * (hours * 3600 + minutes * 60);
  return PE_OK;
}

static PErr parse_items(Parsed *ps, const char **sp, const char *end, const char *fmt, size_t flen, bool top);

static PErr parse_numeric(Parsed *ps, const char **sp, const char *end, NumSpec spec) {
  size_t width;
  bool is_signed = false;
  switch (spec) {
  case N_YEAR:
  case N_ISOYEAR: width = 4, is_signed = true; break;
  case N_WD_SUN0:
  case N_WD_MON1: width = 1; break;
  case N_ORDINAL: width = 3; break;
  case N_NANO: width = 9; break;
  case N_TIMESTAMP: width = SIZE_MAX, is_signed = true; break;
  default: width = 2; break;
  }
  const char *s = trim_ws(*sp, end);
  int64_t v;
  PErr e;
  if (is_signed && s < end && (*s == '-' || *s == '+')) {
    bool neg = *s == '-';
    const char *q = s + 1;
    if ((e = scan_number(&q, end, 1, SIZE_MAX, &v))) return e;
    if (neg) v = -v;
    s = q;
  } else {
    if ((e = scan_number(&s, end, 1, width, &v))) return e;
  }
  if ((e = set_num(ps, spec, v))) return e;
  *sp = s;
  return PE_OK;
}

static PErr parse_fixed(Parsed *ps, const char **sp, const char *end, FixSpec spec) {
  const char *s = *sp;
  PErr e;
  int idx;
  int64_t v;
  switch (spec) {
  case F_SHORT_MONTH:
  case F_LONG_MONTH:
    if ((e = scan_name(&s, end, month_names, 12, spec == F_LONG_MONTH, &idx))) return e;
    if ((e = pset(ps, P_MONTH, idx + 1))) return e;
    break;
  case F_SHORT_WD:
  case F_LONG_WD:
    if ((e = scan_name(&s, end, weekday_names, 7, spec == F_LONG_WD, &idx))) return e;
    if ((e = pset(ps, P_WEEKDAY, idx))) return e;
    break;
  case F_LOWER_AMPM:
  case F_UPPER_AMPM: {
    if (end - s < 2) return PE_TOO_SHORT;
    char a = (char)(s[0] | 32), m = (char)(s[1] | 32);
    if (m != 'm' || (a != 'a' && a != 'p')) return PE_INVALID;
    if ((e = pset(ps, P_HOUR_DIV12, a == 'p'))) return e;
    s += 2;
    break;
  }
  case F_NANO:
  case F_NANO3:
  case F_NANO6:
  case F_NANO9:
    if (s < end && *s == '.') {
      s++;
      if ((e = scan_nanosecond(&s, end, &v))) return e;
      if ((e = pset_range(ps, P_NANO, v, 0, 999999999))) return e;
    }
    break;
  case F_NANO3_NODOT:
  case F_NANO6_NODOT:
  case F_NANO9_NODOT: {
    size_t digits = spec == F_NANO3_NODOT ? 3 : spec == F_NANO6_NODOT ? 6 : 9;
    if ((size_t)(end - s) < digits) return PE_TOO_SHORT;
    if ((e = scan_number(&s, end, digits, digits, &v))) return e;
    v *= digits == 3 ? 1000000 : digits == 6 ? 1000 : 1;
    if ((e = pset_range(ps, P_NANO, v, 0, 999999999))) return e;
    break;
  }
  case F_TZ_NAME:
    while (s < end && !ws_len(s, end)) s++;
    break;
  case F_TZ_OFF:
  case F_TZ_OFF_COLON:
  case F_TZ_OFF_2COLON:
  case F_TZ_OFF_3COLON:
  case F_TZ_OFF_PERMISSIVE:
    s = trim_ws(s, end);
    if ((e = scan_tz_offset(&s, end, spec == F_TZ_OFF_PERMISSIVE, spec == F_TZ_OFF_PERMISSIVE, &v))) return e;
    if ((e = pset(ps, P_OFFSET, v))) return e;
    break;
  case F_RFC3339: {
    static const char date_fmt[] = "%Y-%m-%d", time_fmt[] = "%H:%M:%S%.f";
    if ((e = parse_items(ps, &s, end, date_fmt, sizeof date_fmt - 1, false))) return e;
    if (s >= end) return PE_TOO_SHORT;
    if (*s != 'T' && *s != 't' && *s != ' ') return PE_INVALID;
    s++;
    if ((e = parse_items(ps, &s, end, time_fmt, sizeof time_fmt - 1, false))) return e;
    s = trim_ws(s, end);
    if (end - s >= 3 && ieq(s, "UTC", 3)) {
      s += 3;
      v = 0;
    } else if ((e = scan_tz_offset(&s, end, true, false, &v)))
      return e;
    if ((e = pset(ps, P_OFFSET, v))) return e;
    break;
  }
  }
  *sp = s;
  return PE_OK;
}

static PErr parse_items(Parsed *ps, const char **sp, const char *end, const char *fmt, size_t flen, bool top) {
  const char *p = fmt, *fend = fmt + flen;
  PErr e;
  for (;;) {
    Item it = next_item(&p, fend);
    switch (it.kind) {
    case IT_END:
      if (top && *sp < end) return PE_TOO_LONG;
      return PE_OK;
    case IT_ERROR: return PE_BAD_FORMAT;
    case IT_LIT:
      if ((size_t)(end - *sp) < it.len) return PE_TOO_SHORT;
      if (memcmp(*sp, it.s, it.len) != 0) return PE_INVALID;
      *sp += it.len;
      break;
    case IT_SPACE: *sp = trim_ws(*sp, end); break;
    case IT_SUB:
      if ((e = parse_items(ps, sp, end, it.s, it.len, false))) return e;
      break;
    case IT_NUM:
      if ((e = parse_numeric(ps, sp, end, (NumSpec)it.spec))) return e;
      break;
    case IT_FIX:
      if ((e = parse_fixed(ps, sp, end, (FixSpec)it.spec))) return e;
      break;
    }
  }
}

/* ---- resolving the parsed fields ---- */

static bool year_ok(int64_t y) { return y >= YEAR_MIN && y <= YEAR_MAX; }

static bool date_ymd(int64_t y, int64_t m, int64_t d, int64_t *days) {
  if (!year_ok(y) || m < 1 || m > 12 || d < 1 || d > days_in_month(y, (int)m)) return false;
  *days = days_from_civil(y, (int)m, (int)d);
  return true;
}

static bool date_yo(int64_t y, int64_t o, int64_t *days) {
  if (!year_ok(y) || o < 1 || o > days_in_year(y)) return false;
  *days = days_from_civil(y, 1, 1) + o - 1;
  return true;
}

static bool days_ok(int64_t days) {
  return days >= days_from_civil(YEAR_MIN, 1, 1) && days <= days_from_civil(YEAR_MAX, 12, 31);
}

/* year from the full year and/or century and year-of-century */
static PErr resolve_year(const Parsed *ps, int fy, int fq, int fr, bool *has, int64_t *out) {
  bool hy = ps->has[fy], hq = ps->has[fq], hr = ps->has[fr];
  int64_t y = ps->v[fy], q = ps->v[fq], r = ps->v[fr];
  *has = false;
  if (!hq && !hr) {
    *has = hy;
    *out = y;
    return PE_OK;
  }
  if (hy && (!hr || (r >= 0 && r <= 99))) {
    if (y < 0) return PE_IMPOSSIBLE;
    if ((hq && q != y / 100) || (hr && r != y % 100)) return PE_IMPOSSIBLE;
    *has = true;
    *out = y;
    return PE_OK;
  }
  if (!hy && hq && hr && r >= 0 && r <= 99) {
    if (q < 0) return PE_IMPOSSIBLE;
    *has = true;
    *out = q * 100 + r;
    return PE_OK;
  }
  if (!hy && !hq && hr && r >= 0 && r <= 99) {
    *has = true;
    *out = r + (r < 70 ? 2000 : 1900);
    return PE_OK;
  }
  if (!hy && hq && !hr) return PE_NOT_ENOUGH;
  return PE_OUT_OF_RANGE;
}

static bool verify_ymd(const Parsed *ps, int64_t days) {
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  bool pos = y >= 0;
  if (ps->has[P_YEAR] && ps->v[P_YEAR] != y) return false;
  if (ps->has[P_YEAR_DIV100] && (!pos || ps->v[P_YEAR_DIV100] != y / 100)) return false;
  if (ps->has[P_YEAR_MOD100] && (!pos || ps->v[P_YEAR_MOD100] != y % 100)) return false;
  if (ps->has[P_MONTH] && ps->v[P_MONTH] != m) return false;
  if (ps->has[P_DAY] && ps->v[P_DAY] != d) return false;
  return true;
}

static bool verify_isoweekdate(const Parsed *ps, int64_t days) {
  DT t;
  dt_from_secs(&t, days * 86400, 0);
  int64_t iy;
  int iw;
  iso_week(t.year, t.ordinal, t.wd, &iy, &iw);
  bool pos = iy >= 0;
  if (ps->has[P_ISOYEAR] && ps->v[P_ISOYEAR] != iy) return false;
  if (ps->has[P_ISOYEAR_DIV100] && (!pos || ps->v[P_ISOYEAR_DIV100] != iy / 100)) return false;
  if (ps->has[P_ISOYEAR_MOD100] && (!pos || ps->v[P_ISOYEAR_MOD100] != iy % 100)) return false;
  if (ps->has[P_ISOWEEK] && ps->v[P_ISOWEEK] != iw) return false;
  if (ps->has[P_WEEKDAY] && ps->v[P_WEEKDAY] != t.wd) return false;
  return true;
}

static bool verify_ordinal(const Parsed *ps, int64_t days) {
  DT t;
  dt_from_secs(&t, days * 86400, 0);
  if (ps->has[P_ORDINAL] && ps->v[P_ORDINAL] != t.ordinal) return false;
  if (ps->has[P_WEEK_SUN] && ps->v[P_WEEK_SUN] != weeks_from(t.ordinal, t.wd, 6)) return false;
  if (ps->has[P_WEEK_MON] && ps->v[P_WEEK_MON] != weeks_from(t.ordinal, t.wd, 0)) return false;
  return true;
}

static PErr resolve_week_date(int64_t year, int64_t week, int64_t wd, int start, int64_t *days) {
  if (week > 53) return PE_OUT_OF_RANGE;
  int64_t jan1;
  if (!date_yo(year, 1, &jan1)) return PE_OUT_OF_RANGE;
  int first_wd = weekday_of_days(jan1);
  int64_t first_week_start = 1 + (start - first_wd + 7) % 7;
  int64_t wdn = (wd - start + 7) % 7;
  int64_t ordinal = first_week_start + (week - 1) * 7 + wdn;
  if (ordinal <= 0) return PE_IMPOSSIBLE;
  if (!date_yo(year, ordinal, days)) return PE_IMPOSSIBLE;
  return PE_OK;
}

static PErr to_date(const Parsed *ps, int64_t *days) {
  bool hy, hiy;
  int64_t y, iy;
  PErr e;
  if ((e = resolve_year(ps, P_YEAR, P_YEAR_DIV100, P_YEAR_MOD100, &hy, &y))) return e;
  if ((e = resolve_year(ps, P_ISOYEAR, P_ISOYEAR_DIV100, P_ISOYEAR_MOD100, &hiy, &iy))) return e;
  bool ok;
  if (hy && ps->has[P_MONTH] && ps->has[P_DAY]) {
    if (!date_ymd(y, ps->v[P_MONTH], ps->v[P_DAY], days)) return PE_OUT_OF_RANGE;
    ok = verify_isoweekdate(ps, *days) && verify_ordinal(ps, *days);
  } else if (hy && ps->has[P_ORDINAL]) {
    if (!date_yo(y, ps->v[P_ORDINAL], days)) return PE_OUT_OF_RANGE;
    ok = verify_ymd(ps, *days) && verify_isoweekdate(ps, *days) && verify_ordinal(ps, *days);
  } else if (hy && ps->has[P_WEEK_SUN] && ps->has[P_WEEKDAY]) {
    if ((e = resolve_week_date(y, ps->v[P_WEEK_SUN], ps->v[P_WEEKDAY], 6, days))) return e;
    ok = verify_ymd(ps, *days) && verify_isoweekdate(ps, *days) && verify_ordinal(ps, *days);
  } else if (hy && ps->has[P_WEEK_MON] && ps->has[P_WEEKDAY]) {
    if ((e = resolve_week_date(y, ps->v[P_WEEK_MON], ps->v[P_WEEKDAY], 0, days))) return e;
    ok = verify_ymd(ps, *days) && verify_isoweekdate(ps, *days) && verify_ordinal(ps, *days);
  } else if (hiy && ps->has[P_ISOWEEK] && ps->has[P_WEEKDAY]) {
    int64_t week = ps->v[P_ISOWEEK];
    if (!year_ok(iy) || week < 1 || week > iso_weeks_in_year(iy)) return PE_OUT_OF_RANGE;
    int64_t jan4 = days_from_civil(iy, 1, 4);
    *days = jan4 - weekday_of_days(jan4) + (week - 1) * 7 + ps->v[P_WEEKDAY];
    if (!days_ok(*days)) return PE_OUT_OF_RANGE;
    ok = verify_ymd(ps, *days) && verify_ordinal(ps, *days);
  } else
    return PE_NOT_ENOUGH;
  return ok ? PE_OK : PE_IMPOSSIBLE;
}

/* seconds of the day (a leap second 60 counts as 59) */
static PErr to_time(const Parsed *ps, int64_t *sod) {
  if (!ps->has[P_HOUR_DIV12] || !ps->has[P_HOUR_MOD12]) return PE_NOT_ENOUGH;
  int64_t hd = ps->v[P_HOUR_DIV12], hm = ps->v[P_HOUR_MOD12];
  if (hd < 0 || hd > 1 || hm < 0 || hm > 11) return PE_OUT_OF_RANGE;
  if (!ps->has[P_MINUTE]) return PE_NOT_ENOUGH;
  int64_t mi = ps->v[P_MINUTE];
  if (mi < 0 || mi > 59) return PE_OUT_OF_RANGE;
  int64_t s = ps->has[P_SECOND] ? ps->v[P_SECOND] : 0;
  if (s < 0 || s > 60) return PE_OUT_OF_RANGE;
  if (s == 60) s = 59;
  if (ps->has[P_NANO]) {
    if (ps->v[P_NANO] < 0 || ps->v[P_NANO] > 999999999) return PE_OUT_OF_RANGE;
    if (!ps->has[P_SECOND]) return PE_NOT_ENOUGH;
  }
  *sod = (hd * 12 + hm) * 3600 + mi * 60 + s;
  return PE_OK;
}

static PErr to_timestamp(Parsed *ps, int64_t *out) {
  int64_t days = 0, sod = 0;
  PErr de = to_date(ps, &days), te = to_time(ps, &sod);
  if (!de && !te) {
    int64_t ts = days * 86400 + sod;
    if (ps->has[P_TIMESTAMP]) {
      bool leap = ps->has[P_SECOND] && ps->v[P_SECOND] == 60;
      if (ps->v[P_TIMESTAMP] != ts && !(leap && ps->v[P_TIMESTAMP] == ts + 1)) return PE_IMPOSSIBLE;
    }
    *out = ts;
    return PE_OK;
  }
  if (ps->has[P_TIMESTAMP]) {
    if (de == PE_OUT_OF_RANGE || te == PE_OUT_OF_RANGE) return PE_OUT_OF_RANGE;
    if (de == PE_IMPOSSIBLE || te == PE_IMPOSSIBLE) return PE_IMPOSSIBLE;
    int64_t ts = ps->v[P_TIMESTAMP];
    if (ts < secs_min() || ts > secs_max()) return PE_OUT_OF_RANGE;
    DT t;
    dt_from_secs(&t, ts, 0);
    PErr e;
    if (ps->has[P_SECOND] && ps->v[P_SECOND] == 60) {
      if (t.second == 0)
        dt_from_secs(&t, ts - 1, 0);
      else if (t.second != 59)
        return PE_IMPOSSIBLE;
    } else if ((e = set_num(ps, N_SECOND, t.second)))
      return e;
    if ((e = set_num(ps, N_YEAR, t.year)) || (e = set_num(ps, N_ORDINAL, t.ordinal)) || (e = set_num(ps, N_HOUR, t.hour)) ||
        (e = set_num(ps, N_MINUTE, t.minute)))
      return e;
    if ((e = to_date(ps, &days)) || (e = to_time(ps, &sod))) return e;
    *out = days * 86400 + sod;
    return PE_OK;
  }
  return de ? de : te;
}

/* ---- natives ---- */

static Value n_now(VM *vm, int argc, Value *argv) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  int64_t ms = (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
  return double_val((double)ms / 1000.0);
}

static Value n_format(VM *vm, int argc, Value *argv) {
  DT t;
  arg_dt(vm, argv[0], &t);
  arg_string(vm, argv[1]);
  StrBuf b;
  sb_init_vm(&b, vm);
  if (!format_dt(&b, &t, str_data(argv[1]), str_len(argv[1]))) {
    sb_free(&b);
    err_eval(vm, "time/format: invalid format string");
  }
  return sb_to_string(vm, &b);
}

static Value n_parse(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  arg_string(vm, argv[1]);
  Parsed ps;
  memset(&ps, 0, sizeof ps);
  const char *s = str_data(argv[0]), *end = s + str_len(argv[0]);
  PErr e = parse_items(&ps, &s, end, str_data(argv[1]), str_len(argv[1]), true);
  int64_t ts = 0;
  if (!e) e = to_timestamp(&ps, &ts);
  if (e) err_eval(vm, "time/parse: parse error: %s", perr_msg(e));
  return double_val((double)ts);
}

static Value n_date_parts(VM *vm, int argc, Value *argv) {
  DT t;
  arg_dt(vm, argv[0], &t);
  Value m = map_empty(vm);
  m = map_assoc(vm, m, KW(vm, "year"), num_int(vm, t.year));
  m = map_assoc(vm, m, KW(vm, "month"), small_int_val(t.month));
  m = map_assoc(vm, m, KW(vm, "day"), small_int_val(t.day));
  m = map_assoc(vm, m, KW(vm, "hour"), small_int_val(t.hour));
  m = map_assoc(vm, m, KW(vm, "minute"), small_int_val(t.minute));
  m = map_assoc(vm, m, KW(vm, "second"), small_int_val(t.second));
  m = map_assoc(vm, m, KW(vm, "weekday"), str_from_c(vm, weekday_names[t.wd]));
  return m;
}

static Value n_add(VM *vm, int argc, Value *argv) {
  double a = arg_num(vm, argv[0]), b = arg_num(vm, argv[1]);
  return val_canon_double(a + b);
}

static Value n_diff(VM *vm, int argc, Value *argv) {
  double a = arg_num(vm, argv[0]), b = arg_num(vm, argv[1]);
  return val_canon_double(a - b);
}

static const NativeDef defs[] = {
    {"time/now", n_now, 0, 0,
     "(time/now)\nReturns the current time in seconds since the Unix epoch, as a float with millisecond precision."},
    {"time/format", n_format, 2, 2,
     "(time/format ts fmt)\nFormats the UTC time ts (seconds since the epoch) with strftime-style directives: "
     "(time/format 0 \"%Y-%m-%d %H:%M:%S\") is \"1970-01-01 00:00:00\"."},
    {"time/parse", n_parse, 2, 2,
     "(time/parse s fmt)\nParses s as a UTC date-time with the strftime-style directives of fmt and returns the "
     "seconds since the epoch as a float; the format must fix the date and at least hours and minutes."},
    {"time/date-parts", n_date_parts, 1, 1,
     "(time/date-parts ts)\nReturns {:year :month :day :hour :minute :second :weekday} of the UTC time ts (integers, "
     "the weekday an English name)."},
    {"time/add", n_add, 2, 2,
     "(time/add ts seconds)\nReturns ts + seconds as a float."},
    {"time/diff", n_diff, 2, 2,
     "(time/diff t1 t2)\nReturns t1 - t2 in seconds as a float."},
    {NULL, NULL, 0, 0},
};

void lib_datetime_init(VM *vm) { env_register(vm, defs); }
