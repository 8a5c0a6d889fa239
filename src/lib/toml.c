/* toml.c - TOML 1.0 (stdlib.md §19): toml/decode, toml/encode.
 *
 * Decoding builds a small mutable tree (tables, arrays, leaf values) in an
 * arena, applying the TOML rules for redefinition the way the reference's
 * parser (toml_edit) does: a [header] may not name a table that was already
 * defined by a header or by dotted keys, dotted keys may only extend tables
 * they created themselves (or tables created implicitly as parents), inline
 * tables and static arrays are closed values, [[header]] appends to an array
 * of tables.  The finished tree becomes sorted maps with keyword keys, lists
 * and leaf values; date-times become their RFC 3339 text the way the
 * reference prints them.  Errors unwind through a local jmp_buf so the arena
 * and the scratch buffer are freed before the Sema error is raised.
 * Allocation never collects inside a native, so the leaf values made while
 * parsing need no rooting.
 *
 * Encoding writes plain `key = value` lines first, then one [section] per
 * nested map (a map holding only maps gets no header of its own), and
 * [[section]] blocks for non-empty lists whose elements are all maps.  Keys
 * are written in byte order of their text, like JSON. */
#include <math.h>
#include <stdlib.h>
#include <setjmp.h>
#include "json.h"
#include "lib.h"
#include "../numfmt.h"

/* ================================================================ decoder */

enum { TN_VAL, TN_TAB, TN_ARR };
#define TF_IMPLICIT 1u /* created as a parent by a header or by dotted keys */
#define TF_DOTTED 2u   /* created by dotted keys */
#define TF_INLINE 4u   /* an inline table: a closed value */
#define TF_AOT 8u      /* an array of tables (else a static array) */

#define TOML_MAX_NEST 128   /* arrays / inline tables inside one value */
#define TOML_MAX_DEPTH 1000 /* total depth of the finished tree */

typedef struct TNode TNode;
typedef struct {
  const char *p;
  size_t len;
} TKey;
struct TNode {
  uint8_t kind, flags;
  uint32_t n, cap;
  Value v;     /* TN_VAL */
  TKey *keys;  /* TN_TAB */
  TNode **kids;
};

typedef struct ABlock {
  struct ABlock *next;
  size_t used, cap;
  max_align_t data[];
} ABlock;

typedef struct {
  VM *vm;
  const char *s, *p, *end;
  ABlock *arena;
  StrBuf sb;
  int nest;
  size_t err_at;
  char msg[200];
  jmp_buf jb;
} TP;

static _Noreturn void tp_fail_at(TP *tp, const char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static _Noreturn void tp_fail_at(TP *tp, const char *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tp->msg, sizeof tp->msg, fmt, ap);
  va_end(ap);
  tp->err_at = (size_t)(at - tp->s);
  longjmp(tp->jb, 1);
}
#define tp_fail(tp, ...) tp_fail_at(tp, (tp)->p, __VA_ARGS__)

static void *ar_alloc(TP *tp, size_t n) {
  n = (n + 15) & ~(size_t)15;
  ABlock *b = tp->arena;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > 32768 ? n : 32768;
    ABlock *nb = gc_tmp_alloc(tp->vm, sizeof(ABlock) + cap); /* counted; freed on unwind */
    nb->used = 0;
    nb->cap = cap;
    if (b && n > 32768) { /* big one-off: keep the current block in front */
      nb->next = b->next;
      b->next = nb;
      nb->used = n;
      return nb->data;
    }
    nb->next = b;
    tp->arena = b = nb;
  }
  void *r = (char *)b->data + b->used;
  b->used += n;
  return r;
}

static void ar_free(TP *tp) {
  for (ABlock *b = tp->arena, *nx; b; b = nx) {
    nx = b->next;
    gc_tmp_free(tp->vm, b);
  }
  tp->arena = NULL;
}

static TNode *tn_new(TP *tp, int kind, unsigned flags) {
  TNode *t = ar_alloc(tp, sizeof(TNode));
  memset(t, 0, sizeof *t);
  t->kind = (uint8_t)kind;
  t->flags = (uint8_t)flags;
  t->v = NIL_VAL;
  return t;
}

static void tn_push(TP *tp, TNode *t, const TKey *k, TNode *kid) {
  if (t->n == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 4;
    TNode **kids = ar_alloc(tp, cap * sizeof(TNode *));
    if (t->n) memcpy(kids, t->kids, t->n * sizeof(TNode *));
    t->kids = kids;
    if (t->kind == TN_TAB) {
      TKey *keys = ar_alloc(tp, cap * sizeof(TKey));
      if (t->n) memcpy(keys, t->keys, t->n * sizeof(TKey));
      t->keys = keys;
    }
    t->cap = cap;
  }
  if (t->kind == TN_TAB) t->keys[t->n] = *k;
  t->kids[t->n++] = kid;
}

static TNode *tn_find(TNode *t, const TKey *k) {
  for (uint32_t i = 0; i < t->n; i++)
    if (t->keys[i].len == k->len && memcmp(t->keys[i].p, k->p, k->len) == 0) return t->kids[i];
  return NULL;
}

/* ---- lexical helpers ---- */

static inline bool tp_eof(TP *tp) { return tp->p >= tp->end; }
static inline int tp_peek(TP *tp) { return tp->p < tp->end ? (unsigned char)*tp->p : -1; }
static inline int tp_peek_at(TP *tp, size_t i) { return tp->p + i < tp->end ? (unsigned char)tp->p[i] : -1; }

static void tp_ws(TP *tp) {
  while (tp->p < tp->end && (*tp->p == ' ' || *tp->p == '\t')) tp->p++;
}

static bool is_ctrl_bad(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

static void tp_comment(TP *tp) { /* at '#' */
  tp->p++;
  while (tp->p < tp->end && *tp->p != '\n') {
    if (*tp->p == '\r' && tp_peek_at(tp, 1) == '\n') break;
    if (is_ctrl_bad((unsigned char)*tp->p)) tp_fail(tp, "invalid comment: control characters are not allowed");
    tp->p++;
  }
}

/* a newline or the end of input; false if neither */
static bool tp_newline(TP *tp) {
  if (tp_eof(tp)) return true;
  if (*tp->p == '\n') {
    tp->p++;
    return true;
  }
  if (*tp->p == '\r' && tp_peek_at(tp, 1) == '\n') {
    tp->p += 2;
    return true;
  }
  return false;
}

/* after a key/value or a header: whitespace, an optional comment, end of line */
static void tp_line_end(TP *tp) {
  tp_ws(tp);
  if (tp_peek(tp) == '#') tp_comment(tp);
  if (!tp_newline(tp)) tp_fail(tp, "expected newline, `#`");
}

/* whitespace, newlines and comments (inside arrays) */
static void tp_ws_nl(TP *tp) {
  for (;;) {
    tp_ws(tp);
    int c = tp_peek(tp);
    if (c == '#') {
      tp_comment(tp);
    } else if (c == '\n' || c == '\r') {
      if (!tp_newline(tp)) tp_fail(tp, "invalid newline: carriage return must be followed by a line feed");
    } else {
      return;
    }
  }
}

static int hexv(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void tp_escape(TP *tp, StrBuf *b) { /* tp->p just after the backslash */
  const char *at = tp->p - 1;
  int c = tp_peek(tp);
  tp->p++;
  switch (c) {
  case 'b': sb_addc(b, '\b'); return;
  case 't': sb_addc(b, '\t'); return;
  case 'n': sb_addc(b, '\n'); return;
  case 'f': sb_addc(b, '\f'); return;
  case 'r': sb_addc(b, '\r'); return;
  case '"': sb_addc(b, '"'); return;
  case '\\': sb_addc(b, '\\'); return;
  case 'u':
  case 'U': {
    int n = c == 'u' ? 4 : 8;
    uint32_t cp = 0;
    for (int i = 0; i < n; i++) {
      int h = hexv(tp_peek(tp));
      if (h < 0) tp_fail_at(tp, at, "invalid unicode escape: expected %d hex digits", n);
      cp = cp * 16 + (uint32_t)h;
      tp->p++;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) tp_fail_at(tp, at, "invalid unicode escape: not a scalar value");
    sb_add_utf8(b, cp);
    return;
  }
  default: tp_fail_at(tp, at, "invalid escape sequence: expected one of b, f, n, r, t, \", \\, u, U");
  }
}

/* Strings.  Results are (pointer, length): a slice of the input when no
 * escape was seen, else the scratch buffer (valid until the next string). */
static void tp_basic(TP *tp, const char **out, size_t *len) { /* at '"' */
  tp->p++;
  const char *run = tp->p;
  bool esc = false;
  for (;;) {
    const char *p = tp->p;
    while (p < tp->end && *p != '"' && *p != '\\' && !is_ctrl_bad((unsigned char)*p)) p++;
    tp->p = p;
    if (p >= tp->end || *p == '\n' || *p == '\r') tp_fail(tp, "invalid basic string: missing closing quote");
    if (*p == '"') {
      if (esc) {
        sb_add(&tp->sb, run, (size_t)(p - run));
        *out = tp->sb.data;
        *len = tp->sb.len;
      } else {
        *out = run;
        *len = (size_t)(p - run);
      }
      tp->p++;
      return;
    }
    if (*p == '\\') {
      if (!esc) tp->sb.len = 0;
      esc = true;
      sb_add(&tp->sb, run, (size_t)(p - run));
      tp->p++;
      tp_escape(tp, &tp->sb);
      run = tp->p;
      continue;
    }
    tp_fail(tp, "invalid basic string: control characters are not allowed");
  }
}

static void tp_literal(TP *tp, const char **out, size_t *len) { /* at '\'' */
  tp->p++;
  const char *start = tp->p;
  while (tp->p < tp->end && *tp->p != '\'' && !is_ctrl_bad((unsigned char)*tp->p)) tp->p++;
  if (tp_eof(tp) || *tp->p != '\'') {
    if (!tp_eof(tp) && *tp->p != '\n' && *tp->p != '\r')
      tp_fail(tp, "invalid literal string: control characters are not allowed");
    tp_fail(tp, "invalid literal string: missing closing quote");
  }
  *out = start;
  *len = (size_t)(tp->p - start);
  tp->p++;
}

static void tp_ml_basic(TP *tp) { /* at '"""'; result in tp->sb */
  tp->p += 3;
  tp->sb.len = 0;
  if (!tp_eof(tp) && (*tp->p == '\n' || (*tp->p == '\r' && tp_peek_at(tp, 1) == '\n'))) tp_newline(tp);
  for (;;) {
    if (tp_eof(tp)) tp_fail(tp, "invalid multiline basic string: missing closing `\"\"\"`");
    unsigned char c = (unsigned char)*tp->p;
    if (c == '"') {
      int q = 0;
      while (tp_peek_at(tp, (size_t)q) == '"') q++;
      if (q < 3) {
        sb_add(&tp->sb, tp->p, (size_t)q);
        tp->p += q;
        continue;
      }
      if (q > 5) tp_fail_at(tp, tp->p + 5, "invalid multiline basic string: too many quotes");
      sb_add(&tp->sb, tp->p, (size_t)(q - 3));
      tp->p += q;
      return;
    }
    if (c == '\\') {
      /* line-ending backslash: \ ws* newline => skip all whitespace and newlines */
      const char *q = tp->p + 1;
      while (q < tp->end && (*q == ' ' || *q == '\t')) q++;
      if (q < tp->end && (*q == '\n' || (*q == '\r' && q + 1 < tp->end && q[1] == '\n'))) {
        tp->p = q;
        while (tp->p < tp->end) {
          char d = *tp->p;
          if (d == ' ' || d == '\t' || d == '\n') {
            tp->p++;
          } else if (d == '\r' && tp_peek_at(tp, 1) == '\n') {
            tp->p += 2;
          } else {
            break;
          }
        }
        continue;
      }
      tp->p++;
      tp_escape(tp, &tp->sb);
      continue;
    }
    if (c == '\r' && tp_peek_at(tp, 1) == '\n') {
      sb_add(&tp->sb, "\r\n", 2);
      tp->p += 2;
      continue;
    }
    if (c != '\n' && is_ctrl_bad(c)) tp_fail(tp, "invalid multiline basic string: control characters are not allowed");
    sb_addc(&tp->sb, (char)c);
    tp->p++;
  }
}

static void tp_ml_literal(TP *tp, const char **out, size_t *len) { /* at "'''" */
  tp->p += 3;
  if (!tp_eof(tp) && (*tp->p == '\n' || (*tp->p == '\r' && tp_peek_at(tp, 1) == '\n'))) tp_newline(tp);
  const char *start = tp->p;
  for (;;) {
    if (tp_eof(tp)) tp_fail(tp, "invalid multiline literal string: missing closing `'''`");
    unsigned char c = (unsigned char)*tp->p;
    if (c == '\'') {
      int q = 0;
      while (tp_peek_at(tp, (size_t)q) == '\'') q++;
      if (q < 3) {
        tp->p += q;
        continue;
      }
      if (q > 5) tp_fail_at(tp, tp->p + 5, "invalid multiline literal string: too many quotes");
      *out = start;
      *len = (size_t)(tp->p + (q - 3) - start);
      tp->p += q;
      return;
    }
    if (c == '\r' && tp_peek_at(tp, 1) == '\n') {
      tp->p += 2;
      continue;
    }
    if (c != '\n' && is_ctrl_bad(c)) tp_fail(tp, "invalid multiline literal string: control characters are not allowed");
    tp->p++;
  }
}

/* ---- keys ---- */

static bool is_bare(int c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* One key segment; escaped quoted keys are copied into the arena. */
static TKey tp_simple_key(TP *tp) {
  TKey k;
  int c = tp_peek(tp);
  if (c == '"') {
    if (tp_peek_at(tp, 1) == '"' && tp_peek_at(tp, 2) == '"') tp_fail(tp, "invalid key: multiline strings are not allowed");
    const char *p;
    tp_basic(tp, &p, &k.len);
    if (p == tp->sb.data) {
      char *copy = ar_alloc(tp, k.len + 1);
      memcpy(copy, p, k.len);
      p = copy;
    }
    k.p = p;
    return k;
  }
  if (c == '\'') {
    if (tp_peek_at(tp, 1) == '\'' && tp_peek_at(tp, 2) == '\'') tp_fail(tp, "invalid key: multiline strings are not allowed");
    tp_literal(tp, &k.p, &k.len);
    return k;
  }
  const char *start = tp->p;
  while (tp->p < tp->end && is_bare((unsigned char)*tp->p)) tp->p++;
  if (tp->p == start) tp_fail(tp, "invalid key");
  k.p = start;
  k.len = (size_t)(tp->p - start);
  return k;
}

#define TOML_MAX_SEGS 128

/* A dotted key; returns the number of segments. */
static int tp_key(TP *tp, TKey *segs) {
  int n = 0;
  for (;;) {
    tp_ws(tp);
    if (n == TOML_MAX_SEGS) tp_fail(tp, "invalid key: too many dotted parts");
    segs[n++] = tp_simple_key(tp);
    tp_ws(tp);
    if (tp_peek(tp) != '.') return n;
    tp->p++;
  }
}

static void key_text(char *buf, size_t cap, const TKey *k) {
  size_t n = k->len < cap - 1 ? k->len : cap - 1;
  memcpy(buf, k->p, n);
  buf[n] = '\0';
}

static _Noreturn void tp_dup(TP *tp, const char *at, const TKey *k) {
  char kb[64];
  key_text(kb, sizeof kb, k);
  tp_fail_at(tp, at, "duplicate key `%s`", kb);
}

/* ---- values ---- */

static TNode *tp_value(TP *tp);

static Value tp_str(TP *tp, const char *p, size_t n) { return str_new(tp->vm, p, n); }

static bool dig(int c) { return c >= '0' && c <= '9'; }

static int num2(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

static bool digits_at(TP *tp, size_t off, int n) {
  for (int i = 0; i < n; i++)
    if (!dig(tp_peek_at(tp, off + (size_t)i))) return false;
  return true;
}

/* HH:MM:SS[.frac] at tp->p; appends the canonical text */
static void tp_time(TP *tp, StrBuf *b) {
  const char *at = tp->p;
  if (!(digits_at(tp, 0, 2) && tp_peek_at(tp, 2) == ':' && digits_at(tp, 3, 2) && tp_peek_at(tp, 5) == ':' &&
        digits_at(tp, 6, 2)))
    tp_fail(tp, "invalid time: expected HH:MM:SS");
  int h = num2(tp->p), m = num2(tp->p + 3), s = num2(tp->p + 6);
  if (h > 23 || m > 59 || s > 60) tp_fail_at(tp, at, "invalid time: value out of range");
  tp->p += 8;
  sb_addf(b, "%02d:%02d:%02d", h, m, s);
  if (tp_peek(tp) == '.') {
    tp->p++;
    if (!dig(tp_peek(tp))) tp_fail(tp, "invalid time: expected fractional digits");
    char frac[10];
    int n = 0;
    while (dig(tp_peek(tp))) {
      if (n < 9) frac[n++] = *tp->p;
      tp->p++;
    }
    while (n < 9) frac[n++] = '0';
    while (n > 0 && frac[n - 1] == '0') n--;
    if (n > 0) {
      sb_addc(b, '.');
      sb_add(b, frac, (size_t)n);
    }
  }
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static Value tp_datetime(TP *tp) {
  StrBuf *b = &tp->sb;
  b->len = 0;
  const char *at = tp->p;
  bool has_date = digits_at(tp, 0, 4) && tp_peek_at(tp, 4) == '-';
  if (has_date) {
    if (!(digits_at(tp, 5, 2) && tp_peek_at(tp, 7) == '-' && digits_at(tp, 8, 2)))
      tp_fail(tp, "invalid date: expected YYYY-MM-DD");
    int y = num2(tp->p) * 100 + num2(tp->p + 2), mo = num2(tp->p + 5), d = num2(tp->p + 8);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
      tp_fail_at(tp, at, "invalid date: value out of range");
    sb_addf(b, "%04d-%02d-%02d", y, mo, d);
    tp->p += 10;
    int c = tp_peek(tp);
    bool time = (c == 'T' || c == 't') || (c == ' ' && digits_at(tp, 1, 2) && tp_peek_at(tp, 3) == ':');
    if (!time) return str_new(tp->vm, b->data, b->len);
    tp->p++;
    sb_addc(b, 'T');
  }
  tp_time(tp, b);
  if (has_date) {
    int c = tp_peek(tp);
    if (c == 'Z' || c == 'z') {
      tp->p++;
      sb_addc(b, 'Z');
    } else if (c == '+' || c == '-') {
      if (!(digits_at(tp, 1, 2) && tp_peek_at(tp, 3) == ':' && digits_at(tp, 4, 2)))
        tp_fail(tp, "invalid offset: expected +HH:MM");
      int oh = num2(tp->p + 1), om = num2(tp->p + 4);
      if (oh > 23 || om > 59) tp_fail(tp, "invalid offset: value out of range");
      if (oh == 0 && om == 0) c = '+';
      sb_addf(b, "%c%02d:%02d", c, oh, om);
      tp->p += 6;
    }
  }
  return str_new(tp->vm, b->data, b->len);
}

/* digits with single underscores between them, in base `base`; returns the
 * end or NULL if the shape is wrong */
static const char *scan_digits(const char *p, const char *e, int base) {
  const char *start = p;
  bool prev_us = true; /* no leading underscore */
  for (; p < e; p++) {
    int h = hexv((unsigned char)*p);
    if (h >= 0 && h < base) {
      prev_us = false;
    } else if (*p == '_') {
      if (prev_us) return NULL;
      prev_us = true;
    } else {
      break;
    }
  }
  if (p == start || prev_us) return NULL;
  return p;
}

static Value tp_number(TP *tp) {
  const char *start = tp->p, *e = tp->end, *p = tp->p;
  bool neg = false, sign = false;
  if (*p == '+' || *p == '-') {
    neg = *p == '-';
    sign = true;
    p++;
  }
  if (e - p >= 3 && (memcmp(p, "inf", 3) == 0 || memcmp(p, "nan", 3) == 0)) {
    bool inf = p[0] == 'i';
    tp->p = p + 3;
    if (inf) return double_val(neg ? -INFINITY : INFINITY);
    return double_val(NAN);
  }
  if (!sign && e - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'o' || p[1] == 'b')) {
    int base = p[1] == 'x' ? 16 : p[1] == 'o' ? 8 : 2;
    const char *q = scan_digits(p + 2, e, base);
    if (!q) tp_fail_at(tp, p, "invalid integer");
    uint64_t v = 0;
    for (const char *r = p + 2; r < q; r++) {
      if (*r == '_') continue;
      uint64_t d = (uint64_t)hexv((unsigned char)*r);
      if (v > ((uint64_t)INT64_MAX - d) / (uint64_t)base) tp_fail_at(tp, start, "invalid integer: number too large to fit in target type");
      v = v * (uint64_t)base + d;
    }
    tp->p = q;
    return num_int(tp->vm, (int64_t)v);
  }
  /* decimal integer or float */
  const char *ip = p, *q = scan_digits(p, e, 10);
  if (!q) tp_fail_at(tp, start, "invalid number");
  if (*ip == '0' && q - ip > 1) tp_fail_at(tp, start, "invalid number: leading zeros are not allowed");
  bool is_float = false;
  if (q < e && *q == '.') {
    is_float = true;
    q = scan_digits(q + 1, e, 10);
    if (!q) tp_fail_at(tp, start, "invalid float: expected digits after `.`");
  }
  if (q < e && (*q == 'e' || *q == 'E')) {
    is_float = true;
    q++;
    if (q < e && (*q == '+' || *q == '-')) q++;
    q = scan_digits(q, e, 10);
    if (!q) tp_fail_at(tp, start, "invalid float: expected exponent digits");
  }
  tp->p = q;
  /* copy without underscores (and without a leading '+') */
  StrBuf *b = &tp->sb;
  b->len = 0;
  for (const char *r = start; r < q; r++)
    if (*r != '_' && !(r == start && *r == '+')) sb_addc(b, *r);
  int64_t iv = 0;
  double dv = 0;
  NumKind kind = numfmt_parse(b->data, b->len, &iv, &dv);
  if (is_float && kind == NUMFMT_FLOAT) return double_val(dv);
  if (!is_float && kind == NUMFMT_INT) return num_int(tp->vm, iv);
  if (!is_float && kind == NUMFMT_RANGE)
    tp_fail_at(tp, start, "invalid integer: number too large to fit in target type");
  tp_fail_at(tp, start, "invalid number");
}

static TNode *leaf(TP *tp, Value v) {
  TNode *t = tn_new(tp, TN_VAL, 0);
  t->v = v;
  return t;
}

static void tp_keyval(TP *tp, TNode *table, bool top);

static TNode *tp_array(TP *tp) { /* at '[' */
  if (++tp->nest > TOML_MAX_NEST) tp_fail(tp, "nesting too deep");
  tp->p++;
  TNode *a = tn_new(tp, TN_ARR, 0);
  for (;;) {
    tp_ws_nl(tp);
    if (tp_peek(tp) == ']') break;
    tn_push(tp, a, NULL, tp_value(tp));
    tp_ws_nl(tp);
    int c = tp_peek(tp);
    if (c == ',') {
      tp->p++;
      continue;
    }
    if (c == ']') break;
    tp_fail(tp, "invalid array: expected `,` or `]`");
  }
  tp->p++;
  tp->nest--;
  return a;
}

static TNode *tp_inline_table(TP *tp) { /* at '{' */
  if (++tp->nest > TOML_MAX_NEST) tp_fail(tp, "nesting too deep");
  tp->p++;
  TNode *t = tn_new(tp, TN_TAB, TF_INLINE);
  tp_ws(tp);
  if (tp_peek(tp) == '}') {
    tp->p++;
    tp->nest--;
    return t;
  }
  for (;;) {
    tp_keyval(tp, t, false);
    tp_ws(tp);
    int c = tp_peek(tp);
    if (c == ',') {
      tp->p++;
      tp_ws(tp);
      if (tp_peek(tp) == '}') tp_fail(tp, "invalid inline table: trailing comma");
      continue;
    }
    if (c == '}') break;
    tp_fail(tp, "invalid inline table: expected `,` or `}`");
  }
  tp->p++;
  tp->nest--;
  return t;
}

static TNode *tp_value(TP *tp) {
  int c = tp_peek(tp);
  const char *p;
  size_t n;
  switch (c) {
  case '"':
    if (tp_peek_at(tp, 1) == '"' && tp_peek_at(tp, 2) == '"') {
      tp_ml_basic(tp);
      return leaf(tp, tp_str(tp, tp->sb.data ? tp->sb.data : "", tp->sb.len));
    }
    tp_basic(tp, &p, &n);
    return leaf(tp, tp_str(tp, p, n));
  case '\'':
    if (tp_peek_at(tp, 1) == '\'' && tp_peek_at(tp, 2) == '\'')
      tp_ml_literal(tp, &p, &n);
    else
      tp_literal(tp, &p, &n);
    return leaf(tp, tp_str(tp, p, n));
  case 't':
    if (tp->end - tp->p >= 4 && memcmp(tp->p, "true", 4) == 0 && !is_bare(tp_peek_at(tp, 4))) {
      tp->p += 4;
      return leaf(tp, TRUE_VAL);
    }
    break;
  case 'f':
    if (tp->end - tp->p >= 5 && memcmp(tp->p, "false", 5) == 0 && !is_bare(tp_peek_at(tp, 5))) {
      tp->p += 5;
      return leaf(tp, FALSE_VAL);
    }
    break;
  case '[': return tp_array(tp);
  case '{': return tp_inline_table(tp);
  case '+':
  case '-':
  case 'i':
  case 'n': return leaf(tp, tp_number(tp));
  default:
    if (dig(c)) {
      if ((digits_at(tp, 0, 4) && tp_peek_at(tp, 4) == '-') || (digits_at(tp, 0, 2) && tp_peek_at(tp, 2) == ':'))
        return leaf(tp, tp_datetime(tp));
      return leaf(tp, tp_number(tp));
    }
  }
  if (c < 0 || c == '\n' || c == '\r' || c == '#') tp_fail(tp, "invalid value: expected a value");
  tp_fail(tp, "invalid value: expected string, number, boolean, date-time, array or inline table");
}

/* Descend along segs[0..n) from t, creating implicit tables.  dotted: the
 * path of a dotted key (may only enter implicit tables). */
static TNode *tp_descend(TP *tp, TNode *t, const TKey *segs, int n, bool dotted, const char *at) {
  for (int i = 0; i < n; i++) {
    TNode *c = tn_find(t, &segs[i]);
    if (!c) {
      c = tn_new(tp, TN_TAB, TF_IMPLICIT | (dotted ? TF_DOTTED : 0));
      tn_push(tp, t, &segs[i], c);
    } else if (c->kind == TN_ARR && (c->flags & TF_AOT)) {
      c = c->kids[c->n - 1];
    } else if (c->kind == TN_TAB && !(c->flags & TF_INLINE) && (!dotted || (c->flags & TF_IMPLICIT))) {
      /* enter */
    } else {
      tp_dup(tp, at, &segs[i]);
    }
    t = c;
  }
  return t;
}

/* key = value into table (top: a table of the document, else an inline table) */
static void tp_keyval(TP *tp, TNode *table, bool top) {
  TKey segs[TOML_MAX_SEGS];
  tp_ws(tp);
  const char *at = tp->p;
  int n = tp_key(tp, segs);
  if (tp_peek(tp) != '=') tp_fail(tp, "expected `.`, `=`");
  tp->p++;
  tp_ws(tp);
  TNode *v = tp_value(tp);
  TNode *t = table;
  if (n > 1) {
    /* inside an inline table being built, its dotted sub-tables are implicit;
     * nested inline-table values are closed */
    for (int i = 0; i < n - 1; i++) {
      TNode *c = tn_find(t, &segs[i]);
      if (!c) {
        c = tn_new(tp, TN_TAB, TF_IMPLICIT | TF_DOTTED);
        tn_push(tp, t, &segs[i], c);
      } else if (top && c->kind == TN_ARR && (c->flags & TF_AOT)) {
        c = c->kids[c->n - 1];
      } else if (!(c->kind == TN_TAB && (c->flags & TF_IMPLICIT))) {
        tp_dup(tp, at, &segs[i]);
      }
      t = c;
    }
    if (!(t->flags & TF_DOTTED)) tp_dup(tp, at, &segs[n - 2]);
  }
  if (tn_find(t, &segs[n - 1])) tp_dup(tp, at, &segs[n - 1]);
  tn_push(tp, t, &segs[n - 1], v);
}

static TNode *tp_header(TP *tp, TNode *root) { /* at '[' */
  TKey segs[TOML_MAX_SEGS];
  const char *at = tp->p;
  bool aot = tp_peek_at(tp, 1) == '[';
  tp->p += aot ? 2 : 1;
  int n = tp_key(tp, segs);
  if (tp_peek(tp) != ']' || (aot && tp_peek_at(tp, 1) != ']'))
    tp_fail(tp, aot ? "invalid array table header: expected `.`, `]]`" : "invalid table header: expected `.`, `]`");
  tp->p += aot ? 2 : 1;
  tp_line_end(tp);
  TNode *parent = tp_descend(tp, root, segs, n - 1, false, at);
  TNode *c = tn_find(parent, &segs[n - 1]);
  if (aot) {
    if (!c) {
      c = tn_new(tp, TN_ARR, TF_AOT);
      tn_push(tp, parent, &segs[n - 1], c);
    } else if (!(c->kind == TN_ARR && (c->flags & TF_AOT))) {
      tp_dup(tp, at, &segs[n - 1]);
    }
    TNode *t = tn_new(tp, TN_TAB, 0);
    tn_push(tp, c, NULL, t);
    return t;
  }
  if (!c) {
    c = tn_new(tp, TN_TAB, 0);
    tn_push(tp, parent, &segs[n - 1], c);
    return c;
  }
  if (c->kind == TN_TAB && (c->flags & TF_IMPLICIT) && !(c->flags & (TF_DOTTED | TF_INLINE))) {
    c->flags &= (uint8_t)~TF_IMPLICIT;
    return c;
  }
  tp_dup(tp, at, &segs[n - 1]);
}

static Value tn_to_value(TP *tp, TNode *t, int depth) {
  if (depth > TOML_MAX_DEPTH) tp_fail_at(tp, tp->end, "nesting too deep");
  VM *vm = tp->vm;
  switch (t->kind) {
  case TN_VAL: return t->v;
  case TN_ARR: {
    ListBuilder lb;
    list_start(&lb);
    for (uint32_t i = 0; i < t->n; i++) list_add(vm, &lb, tn_to_value(tp, t->kids[i], depth + 1));
    return lb.head;
  }
  default: {
    Value m = map_empty(vm);
    for (uint32_t i = 0; i < t->n; i++)
      m = map_assoc(vm, m, kw_val(sym_intern(vm, t->keys[i].p, t->keys[i].len)), tn_to_value(tp, t->kids[i], depth + 1));
    return m;
  }
  }
}

static Value n_toml_decode(VM *vm, int argc, Value *argv) {
  if (!is_string(argv[0])) err_type(vm, "string", argv[0]);
  TP *volatile tpv = gc_tmp_alloc(vm, sizeof(TP));
  TP *tp = tpv;
  tp->vm = vm;
  tp->s = tp->p = str_data(argv[0]);
  tp->end = tp->s + str_len(argv[0]);
  tp->arena = NULL;
  tp->nest = 0;
  sb_init_vm(&tp->sb, vm);
  if (setjmp(tp->jb)) {
    tp = tpv;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < tp->err_at; i++) {
      unsigned char c = (unsigned char)tp->s[i];
      if (c == '\n') {
        line++;
        col = 1;
      } else if ((c & 0xC0) != 0x80) {
        col++;
      }
    }
    char msg[sizeof tp->msg];
    memcpy(msg, tp->msg, sizeof msg);
    ar_free(tp);
    sb_free(&tp->sb);
    gc_tmp_free(vm, tp);
    err_eval(vm, "toml/decode: parse error: TOML parse error at line %zu, column %zu: %s", line, col, msg);
  }
  TNode *root = tn_new(tp, TN_TAB, 0), *cur = root;
  for (;;) {
    tp_ws(tp);
    if (tp_eof(tp)) break;
    int c = tp_peek(tp);
    if (c == '#') {
      tp_comment(tp);
      if (!tp_newline(tp)) tp_fail(tp, "expected newline");
    } else if (c == '\n' || c == '\r') {
      if (!tp_newline(tp)) tp_fail(tp, "invalid newline: carriage return must be followed by a line feed");
    } else if (c == '[') {
      cur = tp_header(tp, root);
    } else {
      tp_keyval(tp, cur, true);
      tp_line_end(tp);
    }
  }
  Value r = tn_to_value(tp, root, 0);
  ar_free(tp);
  sb_free(&tp->sb);
  gc_tmp_free(vm, tp);
  return r;
}

/* ================================================================ encoder */

#define TOML_MAX_ENC_DEPTH 1024

typedef struct {
  VM *vm;
  StrBuf b;
  int depth;
  char err[128];
} TE;

static bool te_fail_type(TE *e, Value v) {
  snprintf(e->err, sizeof e->err, "toml/encode: cannot encode %s", v == NIL_VAL ? "nil" : val_type_name(v));
  return false;
}

static void te_string(StrBuf *b, const char *s, size_t n) {
  sb_addc(b, '"');
  const char *run = s, *e = s + n;
  for (const char *p = s; p < e; p++) {
    unsigned char c = (unsigned char)*p;
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue;
    sb_add(b, run, (size_t)(p - run));
    run = p + 1;
    switch (c) {
    case '"': sb_add(b, "\\\"", 2); break;
    case '\\': sb_add(b, "\\\\", 2); break;
    case '\b': sb_add(b, "\\b", 2); break;
    case '\t': sb_add(b, "\\t", 2); break;
    case '\n': sb_add(b, "\\n", 2); break;
    case '\f': sb_add(b, "\\f", 2); break;
    case '\r': sb_add(b, "\\r", 2); break;
    default: sb_addf(b, "\\u%04X", c);
    }
  }
  sb_add(b, run, (size_t)(e - run));
  sb_addc(b, '"');
}

static void te_key(StrBuf *b, const char *s, size_t n) {
  bool bare = n > 0;
  for (size_t i = 0; i < n && bare; i++)
    if (!is_bare((unsigned char)s[i])) bare = false;
  if (bare)
    sb_add(b, s, n);
  else
    te_string(b, s, n);
}

/* Entries of a map with their key texts, sorted by text, later duplicates
 * winning (the earlier ones are dropped).  Caller frees *out and *kb. */
typedef JsonKey TEnt;

static size_t te_entries(VM *vm, Value m, TEnt **out, StrBuf *kb) {
  TEnt *ents;
  size_t n = json_key_entries(vm, m, &ents, kb);
  size_t w = 0;
  for (size_t i = 0; i < n; i++) {
    if (i + 1 < n && ents[i + 1].len == ents[i].len && memcmp(ents[i + 1].p, ents[i].p, ents[i].len) == 0) continue;
    ents[w++] = ents[i];
  }
  *out = ents;
  return w;
}

static bool is_aot(Value v) {
  if (!(is_list(v) || is_vector(v)) || v == EMPTY_VAL || (is_vector(v) && vec_len(v) == 0)) return false;
  SeqIter it;
  seqiter_init(&it, v);
  Value x;
  while (seqiter_next(&it, &x))
    if (!is_anymap(x)) return false;
  return true;
}

static bool te_inline(TE *e, Value v) {
  StrBuf *b = &e->b;
  if (is_double(v)) {
    double d = as_double(v);
    if (isnan(d))
      sb_adds(b, "nan");
    else if (isinf(d))
      sb_adds(b, d > 0 ? "inf" : "-inf");
    else { /* Rust's Display: shortest digits, positional; integral values get ".0" */
      char buf[NUMFMT_BUFSIZE];
      size_t n = numfmt_double(buf, sizeof buf, d, false);
      sb_add(b, buf, n);
      if (!memchr(buf, '.', n)) sb_add(b, ".0", 2);
    }
    return true;
  }
  if (is_int(v)) {
    sb_addf(b, "%lld", (long long)int_of(v));
    return true;
  }
  if (v == TRUE_VAL || v == FALSE_VAL) {
    sb_adds(b, v == TRUE_VAL ? "true" : "false");
    return true;
  }
  if (is_string(v)) {
    te_string(b, str_data(v), str_len(v));
    return true;
  }
  if (is_kw(v) || is_sym(v)) {
    String *s = sym_name(e->vm, sym_id(v));
    te_string(b, s->data, s->len);
    return true;
  }
  if (is_list(v) || is_vector(v) || is_anymap(v)) {
    if (++e->depth > TOML_MAX_ENC_DEPTH) {
      snprintf(e->err, sizeof e->err, "toml/encode: nesting too deep");
      return false;
    }
    bool ok = true;
    if (is_anymap(v)) {
      StrBuf kb;
      TEnt *ents;
      size_t n = te_entries(e->vm, v, &ents, &kb);
      if (n == 0) {
        sb_add(b, "{}", 2);
      } else {
        sb_add(b, "{ ", 2);
        for (size_t i = 0; i < n && ok; i++) {
          if (i) sb_add(b, ", ", 2);
          te_key(b, ents[i].p, ents[i].len);
          sb_add(b, " = ", 3);
          ok = te_inline(e, ents[i].v);
        }
        sb_add(b, " }", 2);
      }
      gc_tmp_free(e->vm, ents);
      sb_free(&kb);
    } else {
      SeqIter it;
      seqiter_init(&it, v);
      Value x;
      bool first = true;
      sb_addc(b, '[');
      while (ok && seqiter_next(&it, &x)) {
        if (!first) sb_add(b, ", ", 2);
        first = false;
        ok = te_inline(e, x);
      }
      sb_addc(b, ']');
    }
    e->depth--;
    return ok;
  }
  return te_fail_type(e, v);
}

/* does the map have entries that are written as `key = value` (or is it empty)? */
static bool needs_header(Value m) {
  if (anymap_count(m) == 0) return true;
  MapIter it;
  map_iter_init(&it, m);
  Value k, v;
  while (map_iter_next(&it, &k, &v))
    if (!is_anymap(v) && !is_aot(v)) return true;
  return false;
}

static bool te_table(TE *e, Value m, const char *path, size_t plen) {
  if (++e->depth > TOML_MAX_ENC_DEPTH) {
    snprintf(e->err, sizeof e->err, "toml/encode: nesting too deep");
    return false;
  }
  StrBuf kb;
  TEnt *ents;
  size_t n = te_entries(e->vm, m, &ents, &kb);
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++) {
    Value v = ents[i].v;
    if (v == NIL_VAL) ok = te_fail_type(e, v);
  }
  for (size_t i = 0; i < n && ok; i++) {
    Value v = ents[i].v;
    if (is_anymap(v) || is_aot(v)) continue;
    te_key(&e->b, ents[i].p, ents[i].len);
    sb_add(&e->b, " = ", 3);
    ok = te_inline(e, v);
    sb_addc(&e->b, '\n');
  }
  StrBuf sub;
  sb_init(&sub);
  for (size_t i = 0; i < n && ok; i++) {
    Value v = ents[i].v;
    if (!is_anymap(v) && !is_aot(v)) continue;
    sub.len = 0;
    sb_add(&sub, path, plen);
    if (plen) sb_addc(&sub, '.');
    te_key(&sub, ents[i].p, ents[i].len);
    if (is_anymap(v)) {
      if (needs_header(v)) {
        if (e->b.len) sb_addc(&e->b, '\n');
        sb_addc(&e->b, '[');
        sb_add(&e->b, sub.data, sub.len);
        sb_add(&e->b, "]\n", 2);
      }
      ok = te_table(e, v, sub.data, sub.len);
    } else {
      SeqIter it;
      seqiter_init(&it, v);
      Value x;
      while (ok && seqiter_next(&it, &x)) {
        if (e->b.len) sb_addc(&e->b, '\n');
        sb_add(&e->b, "[[", 2);
        sb_add(&e->b, sub.data, sub.len);
        sb_add(&e->b, "]]\n", 3);
        ok = te_table(e, x, sub.data, sub.len);
      }
    }
  }
  sb_free(&sub);
  gc_tmp_free(e->vm, ents);
  sb_free(&kb);
  e->depth--;
  return ok;
}

static Value n_toml_encode(VM *vm, int argc, Value *argv) {
  if (!is_anymap(argv[0])) err_eval(vm, "toml/encode: top-level value must be a map");
  TE e;
  e.vm = vm;
  e.depth = 0;
  sb_init_vm(&e.b, vm);
  if (!te_table(&e, argv[0], "", 0)) {
    sb_free(&e.b);
    err_eval(vm, "%s", e.err);
  }
  return sb_to_string(vm, &e.b);
}

static const NativeDef defs[] = {
    {"toml/decode", n_toml_decode, 1, 1,
     "(toml/decode s)\nParses the TOML text s into a sorted map with keyword keys (tables nest, arrays are lists, "
     "date-times their RFC 3339 text); a parse failure is an error."},
    {"toml/encode", n_toml_encode, 1, 1,
     "(toml/encode m)\nReturns the TOML text of the map m: plain keys first, then nested maps as [table] sections; "
     "lists become arrays. nil, and a top level that is not a map, are errors."},
    {NULL, NULL, 0, 0},
};

void lib_toml_init(VM *vm) { env_register(vm, defs); }
