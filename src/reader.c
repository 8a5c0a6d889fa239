/* reader.c - the reader (language.md §2).
 *
 * Lists are read into cons cells whose header carries a source position:
 * the first cell of a list holds the position of its opening bracket and
 * every other cell the position of its element.  The compiler uses these for
 * error positions.  Reading never collects (allocation only records debt).
 */
#include <errno.h>
#include <sys/stat.h>
#include <math.h>
#include <stdlib.h>
#include <utf8proc.h>
#include "map.h"
#include "arena.h"
#include "numfmt.h"
#include "reader.h"
#include "state.h"
#include "runtime.h"

typedef struct {
  uint32_t line, col;
} Pos;

/* Temporary buffers come from the VM arena that reader_next registers, so a
 * reader error (a longjmp) cannot leak them. */
typedef struct {
  char *data;
  size_t len, cap;
} RBuf;

static void rb_reserve(Reader *r, RBuf *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap * 2 : 64;
  while (cap < b->len + extra) cap *= 2;
  char *d = arena_alloc(r->arena, cap);
  if (b->len) memcpy(d, b->data, b->len);
  b->data = d;
  b->cap = cap;
}
static void rb_add(Reader *r, RBuf *b, const char *p, size_t n) {
  rb_reserve(r, b, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
}
static void rb_addc(Reader *r, RBuf *b, char c) { rb_add(r, b, &c, 1); }
static void rb_add_utf8(Reader *r, RBuf *b, uint32_t cp) {
  char tmp[4];
  rb_add(r, b, tmp, utf8_encode(cp, tmp));
}
static Value rb_string(Reader *r, RBuf *b) { return str_new(r->vm, b->data ? b->data : "", b->len); }

static NORETURN void rerr(Reader *r, Pos p, bool eof, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static NORETURN void rerr(Reader *r, Pos p, bool eof, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  r->at_eof_error = eof;
  err_reader_in(r->vm, p.line, p.col, r->pos_flags != 0, msg);
}

void reader_init(Reader *r, VM *vm, const char *src, size_t len) {
  r->vm = vm;
  r->src = src;
  r->len = len;
  r->i = 0;
  r->line = 1;
  r->col = 1;
  r->depth = 0;
  r->pos_flags = 0;
  r->at_eof_error = false;
  r->arena = NULL;
  /* a UTF-8 byte-order mark (some editors write one) starts no token */
  if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) r->i = 3;
}

/* a position of this reader's text, tagged with its origin */
#define RPOS(r, line, col) (POS_PACK(line, col) | (r)->pos_flags)

static Pos here(Reader *r) { return (Pos){r->line, r->col}; }
static bool at_end(Reader *r) { return r->i >= r->len; }
static int peekb(Reader *r) { return r->i < r->len ? (unsigned char)r->src[r->i] : -1; }
static int peekb_at(Reader *r, size_t k) { return r->i + k < r->len ? (unsigned char)r->src[r->i + k] : -1; }

static uint32_t peek_cp(Reader *r, size_t *adv) {
  if (at_end(r)) {
    *adv = 0;
    return 0;
  }
  return utf8_decode(r->src + r->i, adv);
}

static void advance(Reader *r) {
  size_t adv;
  uint32_t c = peek_cp(r, &adv);
  r->i += adv;
  if (c == '\n') {
    r->line++;
    r->col = 1;
  } else
    r->col++;
}

static bool is_ws(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static bool is_alpha_cp(uint32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT ||
         cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_LO || cat == UTF8PROC_CATEGORY_NL;
}

static bool is_sym_start(uint32_t c) { return is_alpha_cp(c) || (c < 0x80 && strchr("+-*/!?<>=_&%^~.", (int)c) && c); }
static bool is_sym_cont(uint32_t c) { return is_sym_start(c) || (c >= '0' && c <= '9') || c == '#'; }

static void skip_ws(Reader *r) {
  for (;;) {
    int c = peekb(r);
    if (c < 0) return;
    if (is_ws(c)) {
      advance(r);
    } else if (c == ';') {
      while (!at_end(r) && peekb(r) != '\n') advance(r);
    } else
      return;
  }
}


/* ---- atoms ---- */

/* scan a run of symbol continuation characters starting at r->i */
static size_t scan_sym(Reader *r) {
  size_t j = r->i;
  while (j < r->len) {
    size_t adv;
    uint32_t c = utf8_decode(r->src + j, &adv);
    if (!is_sym_cont(c)) break;
    j += adv;
  }
  return j - r->i;
}

static void skip_bytes(Reader *r, size_t n) {
  size_t end = r->i + n;
  while (r->i < end) advance(r);
}

typedef enum { TK_DATUM, TK_DOT, TK_CLOSE, TK_EOF } TokKind;

static Value read_symbol_token(Reader *r, bool *is_dot) {
  size_t n = scan_sym(r);
  const char *s = r->src + r->i;
  skip_bytes(r, n);
  *is_dot = false;
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(s, lit, n) == 0)
  if (IS("true")) return TRUE_VAL;
  if (IS("false")) return FALSE_VAL;
  if (IS("nil")) return NIL_VAL;
  if (IS(".")) {
    *is_dot = true;
    return NIL_VAL;
  }
  if (IS("inf") || IS("+inf") || IS("Inf") || IS("Infinity") || IS("+Infinity")) return double_val(INFINITY);
  if (IS("-inf") || IS("-Infinity")) return double_val(-INFINITY);
  if (IS("nan") || IS("NaN") || IS("NAN") || IS("+nan") || IS("-nan")) return double_val(NAN);
#undef IS
  return sym_val(sym_intern(r->vm, s, n));
}

static Value read_number(Reader *r, Pos p) {
  size_t n = numfmt_scan(r->src + r->i, r->len - r->i);
  int64_t iv;
  double dv;
  NumKind k = numfmt_parse(r->src + r->i, n, &iv, &dv);
  if (k == NUMFMT_RANGE) rerr(r, p, false, "invalid integer: %.*s", (int)n, r->src + r->i);
  skip_bytes(r, n);
  if (k == NUMFMT_INT) return obj_int(r->vm, iv);
  return double_val(dv);
}

static uint32_t hexval(int c) {
  if (c >= '0' && c <= '9') return (uint32_t)(c - '0');
  if (c >= 'a' && c <= 'f') return (uint32_t)(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return (uint32_t)(c - 'A' + 10);
  return 99;
}

static void check_scalar(Reader *r, Pos p, uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) rerr(r, p, false, "invalid unicode scalar value U+%X", cp);
}

/* One escape after a backslash (already consumed) into b.  dollar_ok: \$ yields "$" */
static void read_escape(Reader *r, RBuf *b, Pos start) {
  Pos p = here(r);
  int c = peekb(r);
  if (c < 0) rerr(r, start, true, "unterminated string");
  switch (c) {
  case 'n': rb_addc(r, b, '\n'); advance(r); return;
  case 't': rb_addc(r, b, '\t'); advance(r); return;
  case 'r': rb_addc(r, b, '\r'); advance(r); return;
  case '\\': rb_addc(r, b, '\\'); advance(r); return;
  case '"': rb_addc(r, b, '"'); advance(r); return;
  case '0': rb_addc(r, b, '\0'); advance(r); return;
  case '$': rb_addc(r, b, '$'); advance(r); return;
  case 'x': {
    advance(r);
    uint32_t cp = 0;
    int nd = 0;
    while (hexval(peekb(r)) < 16) {
      cp = cp * 16 + hexval(peekb(r));
      if (cp > 0x10FFFF) cp = 0x110000;
      nd++;
      advance(r);
    }
    if (peekb(r) != ';') {
      if (nd == 0 && peekb(r) != ';') rerr(r, p, false, "hex escape \\x missing terminating semicolon");
      rerr(r, p, false, "hex escape \\x missing terminating semicolon");
    }
    if (nd == 0) rerr(r, p, false, "empty hex escape \\x;");
    advance(r);
    check_scalar(r, p, cp);
    rb_add_utf8(r, b, cp);
    return;
  }
  case 'u':
  case 'U': {
    int want = c == 'u' ? 4 : 8;
    advance(r);
    uint32_t cp = 0;
    for (int k = 0; k < want; k++) {
      if (hexval(peekb(r)) >= 16) rerr(r, p, false, "\\%c escape requires exactly %d hex digits", c, want);
      cp = cp * 16 + hexval(peekb(r));
      advance(r);
    }
    check_scalar(r, p, cp);
    rb_add_utf8(r, b, cp);
    return;
  }
  default:
    /* unknown escapes are kept literally */
    rb_addc(r, b, '\\');
    return;
  }
}

static Value read_string(Reader *r) {
  Pos start = here(r);
  advance(r); /* opening quote */
  RBuf b = {0};
  for (;;) {
    int c = peekb(r);
    if (c < 0) {
      rerr(r, start, true, "unterminated string");
    }
    if (c == '"') {
      advance(r);
      break;
    }
    if (c == '\\') {
      advance(r);
      read_escape(r, &b, start);
      continue;
    }
    size_t s = r->i;
    advance(r);
    rb_add(r, &b, r->src + s, r->i - s);
  }
  return rb_string(r, &b);
}

static Value read_regex(Reader *r, Pos start) {
  /* r->i is at the opening quote; only \" is an escape */
  advance(r);
  RBuf b = {0};
  for (;;) {
    int c = peekb(r);
    if (c < 0) {
      rerr(r, start, true, "unterminated regex literal");
    }
    if (c == '"') {
      advance(r);
      break;
    }
    if (c == '\\' && peekb_at(r, 1) == '"') {
      advance(r);
      advance(r);
      rb_addc(r, &b, '"');
      continue;
    }
    size_t s = r->i;
    advance(r);
    rb_add(r, &b, r->src + s, r->i - s);
  }
  return rb_string(r, &b);
}

static Value read_char(Reader *r, Pos start) {
  /* r->i is just after "#\" */
  if (at_end(r)) rerr(r, start, true, "unexpected end of input after #\\");
  size_t adv;
  uint32_t c = peek_cp(r, &adv);
  if (!is_alpha_cp(c)) {
    advance(r);
    return char_val(c);
  }
  size_t n = scan_sym(r);
  const char *s = r->src + r->i;
  if (utf8_count(s, n) == 1) {
    skip_bytes(r, n);
    return char_val(c);
  }
  static const struct {
    const char *name;
    uint32_t cp;
  } names[] = {{"space", ' '}, {"newline", '\n'}, {"tab", '\t'}, {"return", '\r'}, {"nul", 0}};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
    if (strlen(names[k].name) == n && memcmp(names[k].name, s, n) == 0) {
      skip_bytes(r, n);
      return char_val(names[k].cp);
    }
  rerr(r, start, false, "unknown character name: %.*s", (int)n, s);
}

/* ---- compound data ---- */

static TokKind read_token(Reader *r, Value *out, Pos *pos);

static const char *close_for(int open) { return open == '(' ? ")" : open == '[' ? "]" : "}"; }
static const char *kind_for(int open) { return open == '(' ? "list" : open == '[' ? "vector" : "map"; }

typedef struct {
  Value *items;
  uint32_t *pos;
  size_t n, cap;
} Items;

static void items_add(Reader *r, Items *it, Value v, uint32_t pos) {
  if (it->n == it->cap) {
    size_t cap = it->cap ? it->cap * 2 : 8;
    Value *items = arena_alloc(r->arena, cap * sizeof(Value));
    uint32_t *p = arena_alloc(r->arena, cap * sizeof(uint32_t));
    if (it->n) {
      memcpy(items, it->items, it->n * sizeof(Value));
      memcpy(p, it->pos, it->n * sizeof(uint32_t));
    }
    it->items = items;
    it->pos = p;
    it->cap = cap;
  }
  it->items[it->n] = v;
  it->pos[it->n++] = pos;
}

static const char *token_class(Value v) {
  if (is_sym(v)) return "symbol";
  if (is_kw(v)) return "keyword";
  if (is_string(v)) return "string";
  if (is_number(v)) return "number";
  if (is_cons(v)) return "list";
  if (is_vector(v)) return "vector";
  if (is_anymap(v)) return "map";
  return val_type_name(v);
}

/* Items are collected in malloc'd arrays; they must not leak on error, so
 * the reader keeps the arrays in a list it frees on longjmp via rerr's caller. */
static Value read_seq(Reader *r, int open, Pos start) {
  if (++r->depth > READER_MAX_DEPTH) rerr(r, start, false, "input nested too deeply (limit %d)", READER_MAX_DEPTH);
  advance(r);
  Items it = {0};
  bool dotted = false;
  char close = close_for(open)[0];
  for (;;) {
    Value v;
    Pos p;
    TokKind k = read_token(r, &v, &p);
    if (k == TK_EOF) {
      rerr(r, start, true, "unterminated %s", kind_for(open));
    }
    if (k == TK_CLOSE) {
      int c = (unsigned char)r->src[r->i];
      if (c != close) {
        rerr(r, p, false, "mismatched bracket: expected `%c` to close `%c`, found `%c`", close, open, c);
      }
      advance(r);
      break;
    }
    if (k == TK_DOT) {
      if (open != '(' || dotted) {
        rerr(r, p, false, "unexpected `.`");
      }
      dotted = true;
      items_add(r, &it, SYM(r->vm, "."), RPOS(r, p.line, p.col));
      Value tail;
      Pos tp;
      TokKind tk = read_token(r, &tail, &tp);
      if (tk == TK_EOF) {
        rerr(r, start, true, "unterminated list");
      }
      if (tk != TK_DATUM) {
        rerr(r, tp, false, "unexpected `.`");
      }
      items_add(r, &it, tail, RPOS(r, tp.line, tp.col));
      Value extra;
      Pos ep;
      TokKind ek = read_token(r, &extra, &ep);
      if (ek == TK_EOF) {
        rerr(r, start, true, "unterminated list");
      }
      if (ek != TK_CLOSE) {
        rerr(r, ep, false, "expected `)`, got `%s`", ek == TK_DOT ? "." : token_class(extra));
      }
      continue; /* the close is handled above */
    }
    items_add(r, &it, v, RPOS(r, p.line, p.col));
  }
  r->depth--;
  Value result;
  VM *vm = r->vm;
  if (open == '(') {
    result = EMPTY_VAL;
    for (size_t k = it.n; k-- > 0;)
      result = list_cons_at(vm, it.items[k], result, k == 0 ? RPOS(r, start.line, start.col) : it.pos[k]);
  } else if (open == '[') {
    result = vec_from(vm, it.items, it.n);
  } else {
    if (it.n % 2) {
      rerr(r, start, false, "map literal must have even number of forms");
    }
    result = map_empty(vm);
    for (size_t k = 0; k < it.n; k += 2) result = map_assoc(vm, result, it.items[k], it.items[k + 1]);
  }
  return result;
}

static Value read_bytevector(Reader *r, Pos start) {
  /* at "#u8(" */
  for (int k = 0; k < 4; k++) advance(r);
  RBuf b = {0};
  for (;;) {
    skip_ws(r);
    int c = peekb(r);
    if (c < 0) {
      rerr(r, start, true, "unterminated bytevector");
    }
    if (c == ')') {
      advance(r);
      break;
    }
    Pos p = here(r);
    size_t n = numfmt_scan(r->src + r->i, r->len - r->i);
    int64_t iv;
    double dv;
    if (n == 0 || numfmt_parse(r->src + r->i, n, &iv, &dv) != NUMFMT_INT) {
      rerr(r, p, false, "#u8(...): expected integer byte value");
    }
    if (iv < 0 || iv > 255) {
      rerr(r, p, false, "#u8(...): byte value %lld out of range 0..255", (long long)iv);
    }
    skip_bytes(r, n);
    rb_addc(r, &b, (char)iv);
  }
  Bytevec *bv = gc_alloc(r->vm, OBJ_BYTEVEC, sizeof(Bytevec) + b.len);
  bv->len = (uint32_t)b.len;
  if (b.len) memcpy(bv->data, b.data, b.len);
  return obj_val(bv);
}

/* ---- short lambdas #( ... ) ---- */

static bool is_head(VM *vm, Value form, const char *name) {
  return is_cons(form) && is_sym(car(form)) && strcmp(sym_cstr(vm, car(form)), name) == 0;
}

/* Rename % to %1 and find the largest %k, not entering maps or nested lambdas. */
static Value shorthand_scan(VM *vm, Value v, int *maxk) {
  if (is_sym(v)) {
    const char *s = sym_cstr(vm, v);
    if (s[0] != '%') return v;
    if (s[1] == 0) {
      if (*maxk < 1) *maxk = 1;
      return SYM(vm, "%1");
    }
    char *end;
    long k = strtol(s + 1, &end, 10);
    if (*end == 0 && k > 0 && s[1] != '+' && s[1] != '-' && k < 1000) {
      if (k > *maxk) *maxk = (int)k;
    }
    return v;
  }
  if (is_cons(v)) {
    if (is_head(vm, v, "lambda") || is_head(vm, v, "fn")) return v;
    Value head = shorthand_scan(vm, car(v), maxk);
    Value tail = shorthand_scan(vm, cdr(v), maxk);
    if (head == car(v) && tail == cdr(v)) return v;
    return list_cons_at(vm, head, tail, as_obj(v)->aux);
  }
  if (is_vector(v)) {
    uint32_t n = vec_len(v);
    Value out = UNDEF_VAL;
    for (uint32_t i = 0; i < n; i++) {
      Value x = shorthand_scan(vm, vec_items(v)[i], maxk);
      if (x != vec_items(v)[i] && out == UNDEF_VAL) out = vec_from(vm, vec_items(v), n);
      if (out != UNDEF_VAL) vec_items(out)[i] = x;
    }
    return out == UNDEF_VAL ? v : out;
  }
  return v;
}

static Value read_short_lambda(Reader *r, Pos start) {
  advance(r); /* '#', now at '(' */
  Value body = read_seq(r, '(', here(r));
  VM *vm = r->vm;
  int maxk = 0;
  body = shorthand_scan(vm, body, &maxk);
  Value params = EMPTY_VAL;
  for (int k = maxk; k >= 1; k--) {
    char name[16];
    snprintf(name, sizeof name, "%%%d", k);
    params = list_cons(vm, SYM(vm, name), params);
  }
  uint32_t pos = RPOS(r, start.line, start.col);
  return list_cons_at(vm, SYM(vm, "lambda"), list_cons_at(vm, params, list_cons_at(vm, body, EMPTY_VAL, pos), pos), pos);
}

/* ---- f-strings ---- */

static Value read_fstring(Reader *r, Pos start) {
  advance(r); /* 'f', now at the quote */
  advance(r);
  VM *vm = r->vm;
  Items parts = {0};
  RBuf lit = {0};
#define FAIL(eof, ...) rerr(r, start, eof, __VA_ARGS__)
  for (;;) {
    int c = peekb(r);
    if (c < 0) FAIL(true, "unterminated f-string");
    if (c == '"') {
      advance(r);
      break;
    }
    if (c == '\\') {
      advance(r);
      if (peekb(r) < 0) FAIL(true, "unterminated f-string");
      read_escape(r, &lit, start);
      continue;
    }
    if (c == '$' && peekb_at(r, 1) == '{') {
      if (lit.len) items_add(r, &parts, str_new(vm, lit.data, lit.len), 0);
      lit.len = 0;
      advance(r);
      advance(r);
      size_t s = r->i;
      Pos ip = here(r);
      int depth = 1;
      while (!at_end(r)) {
        int d = peekb(r);
        if (d == '{') depth++;
        if (d == '}' && --depth == 0) break;
        advance(r);
      }
      if (at_end(r)) FAIL(true, "unterminated interpolation in f-string");
      size_t e = r->i;
      advance(r); /* '}' */
      Reader sub;
      reader_init(&sub, vm, r->src, e);
      sub.i = s;
      sub.line = ip.line;
      sub.col = ip.col;
      sub.depth = r->depth;
      Value expr, extra;
      if (!reader_next(&sub, &expr)) FAIL(false, "empty interpolation in f-string");
      if (reader_next(&sub, &extra)) FAIL(false, "f-string interpolation must contain exactly one expression");
      items_add(r, &parts, expr, RPOS(r, ip.line, ip.col));
      continue;
    }
    size_t s = r->i;
    advance(r);
    rb_add(r, &lit, r->src + s, r->i - s);
  }
#undef FAIL
  if (lit.len) items_add(r, &parts, str_new(vm, lit.data, lit.len), 0);
  Value l = EMPTY_VAL;
  uint32_t pos = RPOS(r, start.line, start.col);
  for (size_t k = parts.n; k-- > 0;) l = list_cons_at(vm, parts.items[k], l, parts.pos[k] ? parts.pos[k] : pos);
  return list_cons_at(vm, SYM(vm, "str"), l, pos);
}

/* ---- dispatch ---- */

static Value read_quote_like(Reader *r, const char *name, const char *shown, Pos start) {
  Value v;
  Pos p;
  TokKind k = read_token(r, &v, &p);
  if (k != TK_DATUM) {
    rerr(r, start, k == TK_EOF, "%s (%s) requires an expression after it", name, shown);
  }
  VM *vm = r->vm;
  uint32_t pos = RPOS(r, start.line, start.col);
  return list_cons_at(vm, SYM(vm, name), list_cons_at(vm, v, EMPTY_VAL, RPOS(r, p.line, p.col)), pos);
}

static TokKind read_token(Reader *r, Value *out, Pos *pos) {
  skip_ws(r);
  *pos = here(r);
  Pos start = *pos;
  int c = peekb(r);
  if (c < 0) return TK_EOF;
  switch (c) {
  case '(':
  case '[':
  case '{': *out = read_seq(r, c, start); return TK_DATUM;
  case ')':
  case ']':
  case '}':
    if (r->depth == 0) rerr(r, start, false, "unexpected closing `%c`", c);
    return TK_CLOSE;
  case '\'': advance(r); *out = read_quote_like(r, "quote", "'", start); return TK_DATUM;
  case '`': advance(r); *out = read_quote_like(r, "quasiquote", "`", start); return TK_DATUM;
  case ',':
    advance(r);
    if (peekb(r) == '@') {
      advance(r);
      *out = read_quote_like(r, "unquote-splicing", ",@", start);
    } else
      *out = read_quote_like(r, "unquote", ",", start);
    return TK_DATUM;
  case '"': *out = read_string(r); return TK_DATUM;
  case ':': {
    advance(r);
    size_t n = scan_sym(r);
    if (n == 0 || peekb(r) == ':') rerr(r, start, false, "expected keyword name after ':'");
    *out = kw_val(sym_intern(r->vm, r->src + r->i, n));
    skip_bytes(r, n);
    return TK_DATUM;
  }
  case '#': {
    int d = peekb_at(r, 1);
    if (d < 0) rerr(r, start, true, "unexpected end of input after `#`");
    if (d == 't' || d == 'f') {
      advance(r);
      advance(r);
      *out = d == 't' ? TRUE_VAL : FALSE_VAL;
      return TK_DATUM;
    }
    if (d == '\\') {
      advance(r);
      advance(r);
      *out = read_char(r, start);
      return TK_DATUM;
    }
    if (d == '(') {
      *out = read_short_lambda(r, start);
      return TK_DATUM;
    }
    if (d == '"') {
      advance(r);
      *out = read_regex(r, start);
      return TK_DATUM;
    }
    if (d == 'u' && peekb_at(r, 2) == '8' && peekb_at(r, 3) == '(') {
      *out = read_bytevector(r, start);
      return TK_DATUM;
    }
    if (d == '!' && r->i == 0) {
      while (!at_end(r) && peekb(r) != '\n') advance(r);
      return read_token(r, out, pos);
    }
    advance(r);
    size_t adv;
    char buf[16];
    err_describe_char(peek_cp(r, &adv), buf, sizeof buf);
    rerr(r, start, false, "unexpected character after #: %s", buf);
  }
  default: break;
  }
  if (c == 'f' && peekb_at(r, 1) == '"') {
    *out = read_fstring(r, start);
    return TK_DATUM;
  }
  if ((c >= '0' && c <= '9') || (c == '-' && peekb_at(r, 1) >= '0' && peekb_at(r, 1) <= '9')) {
    *out = read_number(r, start);
    return TK_DATUM;
  }
  size_t adv;
  uint32_t cp = peek_cp(r, &adv);
  if (is_sym_start(cp)) {
    bool is_dot;
    *out = read_symbol_token(r, &is_dot);
    if (is_dot) {
      if (r->depth == 0) rerr(r, start, false, "unexpected `.`");
      return TK_DOT;
    }
    return TK_DATUM;
  }
  char buf[16];
  err_describe_char(cp, buf, sizeof buf);
  rerr(r, start, false, "unexpected character: %s", buf);
}

bool reader_next(Reader *r, Value *out) {
  Pos p;
  ArenaSlot *saved = r->arena;
  unsigned slot = arena_push(r->vm);
  r->arena = arena_at(r->vm, slot);
  TokKind k = read_token(r, out, &p);
  arena_release(r->vm, slot);
  r->arena = saved;
  if (k == TK_EOF) return false;
  if (k == TK_DOT) rerr(r, p, false, "unexpected `.`");
  return true;
}

static void check_utf8(VM *vm, const char *src, size_t len) {
  size_t bad;
  if (utf8_valid(src, len, &bad)) return;
  uint32_t line = 1, col = 1;
  for (size_t i = 0; i < bad; i++) {
    if (src[i] == '\n') {
      line++;
      col = 1;
    } else if (((unsigned char)src[i] & 0xC0) != 0x80)
      col++;
  }
  err_reader(vm, line, col, "invalid UTF-8 in source");
}

Value reader_read_all(VM *vm, const char *src, size_t len) { return reader_read_all_tagged(vm, src, len, 0); }

Value reader_read_all_tagged(VM *vm, const char *src, size_t len, uint32_t pos_flags) {
  check_utf8(vm, src, len);
  Reader r;
  reader_init(&r, vm, src, len);
  r.pos_flags = pos_flags;
  ListBuilder lb;
  list_start(&lb);
  Value v;
  while (reader_next(&r, &v)) list_add(vm, &lb, v);
  return lb.head;
}

typedef struct {
  const char *src;
  size_t len;
} Source;

static void read_everything(VM *vm, void *ud) {
  Source *c = ud;
  Reader r;
  reader_init(&r, vm, c->src, c->len);
  Value v;
  while (reader_next(&r, &v)) {
  }
}

bool reader_is_incomplete(VM *vm, const char *src, size_t len) {
  /* re-read under protection; the reader marks errors caused by end of input */
  Source c = {src, len};
  uint32_t roots = vm->nroots;
  if (vm_protect(vm, read_everything, &c) == 0) return false;
  vm->nroots = roots;
  Value msg = NIL_VAL;
  if (is_map(vm->error)) map_get(vm->error, KW(vm, "message"), &msg);
  if (!is_string(msg)) return false;
  const char *m = str_data(msg);
  return strncmp(m, "unterminated", 12) == 0 || strncmp(m, "unexpected end of input", 23) == 0 ||
         strstr(m, "requires an expression after it") != NULL;
}

/* ---- whole files ---- */

static void close_file(void *f) { fclose(f); }

/* The allocation discipline for input of unknown size (a pipe, /dev/zero, a
 * file that grows): the bytes go to a counted buffer, so reading stops with
 * "out of memory" at the heap limit; a regular file whose size alone would
 * pass it fails before reading.  The FILE is registered for unwinding (the
 * error closes it) and every block checks for an interrupt. */
bool reader_read_stream(VM *vm, FILE *f, StrBuf *b) {
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    size_t size = (size_t)st.st_size;
    gc_check_room(vm, size + sizeof(String)); /* the string it becomes is as big again */
    sb_reserve(b, size);
  }
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    if (UNLIKELY(vm_interrupt_requested)) vm_interrupted(vm);
    sb_add(b, buf, n);
  }
  return !ferror(f);
}

bool reader_read_file_vm(VM *vm, const char *path, StrBuf *b, int *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    *err = errno;
    return false;
  }
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    fclose(f);
    *err = EISDIR;
    return false;
  }
  uint32_t slot = gc_defer(vm, close_file, f);
  bool ok = reader_read_stream(vm, f, b);
  *err = ok ? 0 : errno;
  gc_defer_cancel(vm, slot);
  fclose(f);
  return ok;
}

char *reader_read_file(const char *path, size_t *len, int *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    *err = errno;
    return NULL;
  }
  StrBuf b;
  sb_init(&b);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_add(&b, buf, n);
  if (ferror(f)) {
    *err = errno;
    fclose(f);
    sb_free(&b);
    return NULL;
  }
  fclose(f);
  *len = b.len;
  if (!b.data) {
    b.data = malloc(1);
    b.data[0] = 0;
  }
  return b.data;
}
