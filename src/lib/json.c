/* json.c - JSON (stdlib.md §16): json/encode, json/encode-pretty, json/decode.
 *
 * Hand-written, single pass over the bytes.  The decoder follows the
 * reference (serde_json) closely, including where its errors point: a parse
 * failure reports "line L column C" computed the way serde_json does (C is
 * the count of bytes on the line up to the error; 0 at the start of a line).
 * Strings without escapes are copied once, straight from the input into the
 * result; object keys without escapes are interned straight from the input.
 * Nesting is limited like serde_json's (128 levels), so the recursive
 * descent never threatens the C stack.  Allocation never collects inside a
 * native, so partially built values need no rooting; errors unwind through
 * a local jmp_buf so the scratch buffer is freed before the Sema error is
 * raised.
 *
 * The encoder writes into one StrBuf; floats use the shortest round-trip
 * digits of numfmt laid out like Ryu's (serde_json's) format.  Errors are
 * reported by return value so the buffer can be freed before raising.
 * json.h exports both directions to other modules, with the lossy encoding
 * of net.md §1.3 (JSON_LOSSY) that the kv store and the HTTP helpers use. */
#include <math.h>
#include <setjmp.h>
#include <stdlib.h>
#include "json.h"
#include "../numfmt.h"

/* ================================================================ decoder */

#define JSON_MAX_DEPTH 128 /* serde_json's recursion limit: 127 levels parse, 128 fail */

typedef struct {
  VM *vm;
  const char *s, *p, *end;
  StrBuf scratch;
  int depth;
  const char *msg;
  size_t err_index; /* byte index for the position (serde_json's position_of_index) */
  jmp_buf jb;
} JP;

/* error(): position after the consumed bytes; peek_error(): includes the peeked byte */
static _Noreturn void jp_fail_at(JP *jp, const char *msg, size_t index) {
  jp->msg = msg;
  jp->err_index = index;
  longjmp(jp->jb, 1);
}
static _Noreturn void jp_error(JP *jp, const char *msg) { jp_fail_at(jp, msg, (size_t)(jp->p - jp->s)); }
static _Noreturn void jp_peek_error(JP *jp, const char *msg) {
  size_t i = (size_t)(jp->p - jp->s) + 1, n = (size_t)(jp->end - jp->s);
  jp_fail_at(jp, msg, i < n ? i : n);
}

static inline int jp_skip_ws(JP *jp) { /* returns the next byte or -1 at the end */
  const char *p = jp->p, *e = jp->end;
  while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  jp->p = p;
  return p < e ? (unsigned char)*p : -1;
}

static Value jp_value(JP *jp);

static void jp_ident(JP *jp, const char *rest) {
  for (; *rest; rest++) {
    if (jp->p >= jp->end) jp_error(jp, "EOF while parsing a value");
    char c = *jp->p++;
    if (c != *rest) jp_error(jp, "expected ident");
  }
}

static inline bool is_dig(int c) { return c >= '0' && c <= '9'; }
static inline int jp_peek_or_null(JP *jp) { return jp->p < jp->end ? (unsigned char)*jp->p : 0; }

/* A number; jp->p is at '-' or a digit. */
static Value jp_number(JP *jp) {
  const char *start = jp->p;
  bool neg = false;
  if (*jp->p == '-') {
    neg = true;
    jp->p++;
  }
  if (jp->p >= jp->end) jp_error(jp, "EOF while parsing a value");
  char c = *jp->p++;
  uint64_t sig = 0;
  bool overflow = false;
  if (c == '0') {
    if (is_dig(jp_peek_or_null(jp))) jp_peek_error(jp, "invalid number");
  } else if (c >= '1' && c <= '9') {
    sig = (uint64_t)(c - '0');
    while (is_dig(jp_peek_or_null(jp))) {
      unsigned d = (unsigned)(*jp->p - '0');
      if (!overflow && (sig > (UINT64_MAX - d) / 10)) overflow = true;
      if (!overflow) sig = sig * 10 + d;
      jp->p++;
    }
  } else {
    jp_error(jp, "invalid number");
  }
  bool is_float = false;
  int pk = jp_peek_or_null(jp);
  if (pk == '.') {
    is_float = true;
    jp->p++;
    if (!is_dig(jp_peek_or_null(jp))) {
      if (jp->p < jp->end) jp_peek_error(jp, "invalid number");
      jp_peek_error(jp, "EOF while parsing a value");
    }
    while (is_dig(jp_peek_or_null(jp))) jp->p++;
    pk = jp_peek_or_null(jp);
  }
  if (pk == 'e' || pk == 'E') {
    is_float = true;
    jp->p++;
    pk = jp_peek_or_null(jp);
    if (pk == '+' || pk == '-') jp->p++;
    if (jp->p >= jp->end) jp_error(jp, "EOF while parsing a value");
    if (!is_dig((unsigned char)*jp->p++)) jp_error(jp, "invalid number");
    while (is_dig(jp_peek_or_null(jp))) jp->p++;
  }
  if (!is_float && !overflow) {
    if (!neg) {
      if (sig <= (uint64_t)INT64_MAX) return num_int(jp->vm, (int64_t)sig);
      return double_val((double)sig);
    }
    if (sig == 0) return double_val(-0.0);
    if (sig <= (uint64_t)INT64_MAX + 1) return num_int(jp->vm, (int64_t)(0 - sig));
    return double_val(-(double)sig);
  }
  size_t len = (size_t)(jp->p - start);
  int64_t iv;
  double dv = 0;
  NumKind k;
  if (is_float) {
    k = numfmt_parse(start, len, &iv, &dv);
  } else { /* an integer beyond 64 bits: read it as a float */
    char *tmp = gc_tmp_alloc(jp->vm, len + 3);
    memcpy(tmp, start, len);
    memcpy(tmp + len, "e0", 2);
    k = numfmt_parse(tmp, len + 2, &iv, &dv);
    gc_tmp_free(jp->vm, tmp);
  }
  if (k != NUMFMT_FLOAT) jp_error(jp, "invalid number"); /* not reached: the grammar matched */
  if (isinf(dv)) jp_error(jp, "number out of range");
  return double_val(dv);
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static unsigned jp_hex4(JP *jp) {
  if (jp->end - jp->p < 4) {
    jp->p = jp->end;
    jp_error(jp, "EOF while parsing a string");
  }
  const unsigned char *q = (const unsigned char *)jp->p;
  int a = hexval(q[0]), b = hexval(q[1]), c = hexval(q[2]), d = hexval(q[3]);
  jp->p += 4;
  if ((a | b | c | d) < 0) jp_error(jp, "invalid escape");
  return (unsigned)(a << 12 | b << 8 | c << 4 | d);
}

static void jp_escape(JP *jp, StrBuf *b) {
  if (jp->p >= jp->end) jp_error(jp, "EOF while parsing a string");
  char c = *jp->p++;
  switch (c) {
  case '"': sb_addc(b, '"'); return;
  case '\\': sb_addc(b, '\\'); return;
  case '/': sb_addc(b, '/'); return;
  case 'b': sb_addc(b, '\b'); return;
  case 'f': sb_addc(b, '\f'); return;
  case 'n': sb_addc(b, '\n'); return;
  case 'r': sb_addc(b, '\r'); return;
  case 't': sb_addc(b, '\t'); return;
  case 'u': break;
  default: jp_error(jp, "invalid escape");
  }
  unsigned n = jp_hex4(jp);
  if (n >= 0xDC00 && n <= 0xDFFF) jp_error(jp, "lone leading surrogate in hex escape");
  if (n < 0xD800 || n > 0xDBFF) {
    sb_add_utf8(b, n);
    return;
  }
  if (jp->p >= jp->end) jp_error(jp, "EOF while parsing a string");
  if (*jp->p++ != '\\') jp_error(jp, "unexpected end of hex escape");
  if (jp->p >= jp->end) jp_error(jp, "EOF while parsing a string");
  if (*jp->p++ != 'u') jp_error(jp, "unexpected end of hex escape");
  unsigned n2 = jp_hex4(jp);
  if (n2 < 0xDC00 || n2 > 0xDFFF) jp_error(jp, "lone leading surrogate in hex escape");
  sb_add_utf8(b, (((n - 0xD800) << 10) | (n2 - 0xDC00)) + 0x10000);
}

/* A string body; jp->p is just after the opening quote.  Returns the bytes in
 * *out / *len: a slice of the input when there were no escapes, else the
 * scratch buffer (valid until the next string). */
static void jp_string(JP *jp, const char **out, size_t *len) {
  const char *p = jp->p, *e = jp->end, *run = p;
  bool esc = false;
  for (;;) {
    while (p < e && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\') p++;
    if (p == e) {
      jp->p = p;
      jp_error(jp, "EOF while parsing a string");
    }
    if (*p == '"') {
      jp->p = p + 1;
      if (!esc) {
        *out = run;
        *len = (size_t)(p - run);
      } else {
        sb_add(&jp->scratch, run, (size_t)(p - run));
        *out = jp->scratch.data;
        *len = jp->scratch.len;
      }
      return;
    }
    if (*p == '\\') {
      if (!esc) {
        esc = true;
        jp->scratch.len = 0;
      }
      sb_add(&jp->scratch, run, (size_t)(p - run));
      jp->p = p + 1;
      jp_escape(jp, &jp->scratch);
      p = run = jp->p;
      continue;
    }
    jp->p = p + 1; /* a raw control character */
    jp_error(jp, "control character (\\u0000-\\u001F) found while parsing a string");
  }
}

static void jp_enter(JP *jp) {
  if (++jp->depth >= JSON_MAX_DEPTH) jp_peek_error(jp, "recursion limit exceeded");
  jp->p++;
}

static Value jp_array(JP *jp) {
  jp_enter(jp);
  ListBuilder lb;
  list_start(&lb);
  bool first = true;
  for (;;) {
    int c = jp_skip_ws(jp);
    if (c == ']') break;
    if (c < 0) jp_peek_error(jp, "EOF while parsing a list");
    if (!first) {
      if (c != ',') jp_peek_error(jp, "expected `,` or `]`");
      jp->p++;
      c = jp_skip_ws(jp);
      if (c == ']') jp_peek_error(jp, "trailing comma");
      if (c < 0) jp_peek_error(jp, "EOF while parsing a value");
    }
    first = false;
    list_add(jp->vm, &lb, jp_value(jp));
  }
  jp->p++;
  jp->depth--;
  return lb.head;
}

static Value jp_object(JP *jp) {
  jp_enter(jp);
  VM *vm = jp->vm;
  Value m = map_empty(vm);
  bool first = true;
  for (;;) {
    int c = jp_skip_ws(jp);
    if (c == '}') break;
    if (c < 0) jp_peek_error(jp, "EOF while parsing an object");
    if (!first) {
      if (c != ',') jp_peek_error(jp, "expected `,` or `}`");
      jp->p++;
      c = jp_skip_ws(jp);
    }
    first = false;
    if (c != '"') {
      if (c == '}') jp_peek_error(jp, "trailing comma");
      if (c < 0) jp_peek_error(jp, "EOF while parsing a value");
      jp_peek_error(jp, "key must be a string");
    }
    jp->p++;
    const char *kp;
    size_t klen;
    jp_string(jp, &kp, &klen);
    Value key = kw_val(sym_intern(vm, kp, klen));
    c = jp_skip_ws(jp);
    if (c != ':') {
      if (c < 0) jp_peek_error(jp, "EOF while parsing an object");
      jp_peek_error(jp, "expected `:`");
    }
    jp->p++;
    Value v = jp_value(jp);
    m = map_assoc(vm, m, key, v);
  }
  jp->p++;
  jp->depth--;
  return m;
}

static Value jp_value(JP *jp) {
  int c = jp_skip_ws(jp);
  switch (c) {
  case -1: jp_peek_error(jp, "EOF while parsing a value");
  case 'n': jp->p++; jp_ident(jp, "ull"); return NIL_VAL;
  case 't': jp->p++; jp_ident(jp, "rue"); return TRUE_VAL;
  case 'f': jp->p++; jp_ident(jp, "alse"); return FALSE_VAL;
  case '"': {
    jp->p++;
    const char *sp;
    size_t slen;
    jp_string(jp, &sp, &slen);
    return str_new(jp->vm, sp, slen);
  }
  case '[': return jp_array(jp);
  case '{': return jp_object(jp);
  default:
    if (c == '-' || is_dig(c)) return jp_number(jp);
    jp_peek_error(jp, "expected value");
  }
}

/* The parse proper: jp is not assigned after setjmp, so it survives the longjmp. */
static bool jp_run(JP *jp, Value *out, JsonError *err) {
  if (setjmp(jp->jb)) {
    size_t line = 1, col = 0;
    for (size_t i = 0; i < jp->err_index; i++) {
      if (jp->s[i] == '\n') {
        line++;
        col = 0;
      } else {
        col++;
      }
    }
    *err = (JsonError){jp->msg, line, col};
    return false;
  }
  Value v = jp_value(jp);
  if (jp_skip_ws(jp) >= 0) jp_peek_error(jp, "trailing characters");
  *out = v;
  return true;
}

typedef struct {
  JP *jp;
  Value *out;
  JsonError *err;
  bool ok;
} JPRun;

static void jp_run_protected(VM *vm, void *ud) {
  JPRun *r = ud;
  r->ok = jp_run(r->jp, r->out, r->err);
}

bool json_parse(VM *vm, const char *s, size_t len, Value *out, JsonError *err) {
  JP *jp = malloc(sizeof(JP));
  if (!jp) {
    *err = (JsonError){"out of memory", 1, 0};
    return false;
  }
  jp->vm = vm;
  jp->s = jp->p = s;
  jp->end = s + len;
  jp->depth = 0;
  sb_init_vm(&jp->scratch, vm);
  /* an allocation over the heap limit raises: free the parser's buffers first */
  JPRun r = {jp, out, err, false};
  int raised = vm_protect(vm, jp_run_protected, &r);
  sb_free(&jp->scratch);
  free(jp);
  if (raised) err_rethrow(vm);
  return r.ok;
}

static Value n_json_decode(VM *vm, int argc, Value *argv) {
  if (!is_string(argv[0])) err_type(vm, "string", argv[0]);
  Value v;
  JsonError e;
  if (!json_parse(vm, str_data(argv[0]), str_len(argv[0]), &v, &e))
    err_eval(vm, "json/decode: parse error at line %zu column %zu: %s", e.line, e.col, e.msg);
  return v;
}

/* ================================================================ encoder */

#define JSON_MAX_ENC_DEPTH 1024

typedef struct {
  VM *vm;
  StrBuf *out;
  bool pretty, lossy;
  int depth;
  const char *fname;
  char *err;
  size_t errsz;
} JE;

static bool je_fail(JE *e, const char *what) {
  snprintf(e->err, e->errsz, "%s: %s", e->fname, what);
  return false;
}

static void je_string(StrBuf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  sb_addc(b, '"');
  const char *run = s, *e = s + n;
  for (const char *p = s; p < e; p++) {
    unsigned char c = (unsigned char)*p;
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    sb_add(b, run, (size_t)(p - run));
    run = p + 1;
    switch (c) {
    case '"': sb_add(b, "\\\"", 2); break;
    case '\\': sb_add(b, "\\\\", 2); break;
    case '\b': sb_add(b, "\\b", 2); break;
    case '\f': sb_add(b, "\\f", 2); break;
    case '\n': sb_add(b, "\\n", 2); break;
    case '\r': sb_add(b, "\\r", 2); break;
    case '\t': sb_add(b, "\\t", 2); break;
    default: {
      char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      sb_add(b, u, 6);
    }
    }
  }
  sb_add(b, run, (size_t)(e - run));
  sb_addc(b, '"');
}

/* Ryu's format (serde_json): shortest digits d1..dn, value 0.d1..dn x 10^kk. */
static void je_double(StrBuf *b, double d) {
  char buf[NUMFMT_BUFSIZE];
  if (d == 0) {
    sb_adds(b, signbit(d) ? "-0.0" : "0.0");
    return;
  }
  numfmt_double(buf, sizeof buf, d, false); /* shortest digits, positional */
  const char *p = buf;
  bool neg = *p == '-';
  if (neg) p++;
  char dig[32];
  int n = 0, kk = 0;
  bool seen_point = false, leading = true;
  for (; *p; p++) {
    if (*p == '.') {
      seen_point = true;
      continue;
    }
    if (leading && *p == '0') {
      if (seen_point) kk--;
      continue;
    }
    leading = false;
    if (n < (int)sizeof dig) dig[n++] = *p;
    if (!seen_point) kk++;
  }
  while (n > 1 && dig[n - 1] == '0') n--;
  if (neg) sb_addc(b, '-');
  if (kk > 0 && kk <= 16) {
    if (n <= kk) { /* integral: digits, zeros, ".0" */
      sb_add(b, dig, (size_t)n);
      for (int i = n; i < kk; i++) sb_addc(b, '0');
      sb_add(b, ".0", 2);
    } else {
      sb_add(b, dig, (size_t)kk);
      sb_addc(b, '.');
      sb_add(b, dig + kk, (size_t)(n - kk));
    }
  } else if (kk > -5 && kk <= 0) {
    sb_add(b, "0.", 2);
    for (int i = kk; i < 0; i++) sb_addc(b, '0');
    sb_add(b, dig, (size_t)n);
  } else {
    sb_addc(b, dig[0]);
    if (n > 1) {
      sb_addc(b, '.');
      sb_add(b, dig + 1, (size_t)(n - 1));
    }
    sb_addf(b, "e%d", kk - 1);
  }
}

static void je_int(StrBuf *b, int64_t i) {
  char tmp[24], *p = tmp + sizeof tmp;
  uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (i < 0) *--p = '-';
  sb_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

static void je_newline(JE *e, int level) {
  sb_addc(e->out, '\n');
  for (int i = 0; i < level; i++) sb_add(e->out, "  ", 2);
}

static int key_cmp(const void *a, const void *b) {
  const JsonKey *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->p, y->p, n);
  if (c) return c;
  if (x->len != y->len) return x->len < y->len ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

size_t json_key_entries(VM *vm, Value m, JsonKey **out, StrBuf *kb) {
  size_t n;
  Value *kv = map_sorted_entries(vm, m, &n);
  JsonKey *ents = gc_tmp_alloc(vm, (n ? n : 1) * sizeof(JsonKey));
  sb_init_vm(kb, vm);
  bool sorted = true;
  for (size_t i = 0; i < n; i++) {
    Value k = kv[2 * i];
    JsonKey *t = &ents[i];
    t->idx = (uint32_t)i;
    t->v = kv[2 * i + 1];
    if (is_string(k)) {
      t->p = str_data(k);
      t->len = str_len(k);
    } else if (is_kw(k) || is_sym(k)) {
      String *s = sym_name(vm, sym_id(k));
      t->p = s->data;
      t->len = s->len;
    } else {
      t->p = NULL;
      t->off = kb->len;
      print_value(vm, kb, k, true);
      t->len = kb->len - t->off;
    }
  }
  map_entries_free(vm, kv);
  for (size_t i = 0; i < n; i++)
    if (!ents[i].p) ents[i].p = kb->data + ents[i].off;
  for (size_t i = 1; i < n && sorted; i++)
    if (key_cmp(&ents[i - 1], &ents[i]) > 0) sorted = false;
  if (!sorted) qsort(ents, n, sizeof(JsonKey), key_cmp);
  *out = ents;
  return n;
}

static bool je_value(JE *e, Value v, int level);

static bool je_map(JE *e, Value m, int level) {
  VM *vm = e->vm;
  StrBuf kb; /* printed forms of non-string, non-name keys */
  JsonKey *keys;
  size_t n = json_key_entries(vm, m, &keys, &kb);
  if (n == 0) {
    gc_tmp_free(vm, keys);
    sb_free(&kb);
    sb_add(e->out, "{}", 2);
    return true;
  }
  bool ok = true;
  sb_addc(e->out, '{');
  bool first = true;
  for (size_t i = 0; i < n && ok; i++) {
    JsonKey *jk = &keys[i];
    Value val = jk->v;
    if (i + 1 < n && keys[i + 1].len == jk->len && !memcmp(keys[i + 1].p, jk->p, jk->len)) {
      /* shadowed by a later key with the same text: still converted (errors show), not emitted */
      size_t mark = e->out->len;
      ok = je_value(e, val, level + 1);
      e->out->len = mark;
      continue;
    }
    if (!first) sb_addc(e->out, ',');
    first = false;
    if (e->pretty) je_newline(e, level + 1);
    je_string(e->out, jk->p, jk->len);
    if (e->pretty)
      sb_add(e->out, ": ", 2);
    else
      sb_addc(e->out, ':');
    ok = je_value(e, val, level + 1);
  }
  if (ok) {
    if (e->pretty) je_newline(e, level);
    sb_addc(e->out, '}');
  }
  sb_free(&kb);
  gc_tmp_free(vm, keys);
  return ok;
}

static bool je_value(JE *e, Value v, int level) {
  StrBuf *b = e->out;
  if (is_double(v)) {
    double d = as_double(v);
    if (isnan(d) || isinf(d)) {
      if (!e->lossy) return je_fail(e, "cannot encode NaN/Infinity as JSON");
      sb_add(b, "null", 4);
      return true;
    }
    je_double(b, d);
    return true;
  }
  if (is_int(v)) {
    je_int(b, int_of(v));
    return true;
  }
  if (v == NIL_VAL) {
    sb_add(b, "null", 4);
    return true;
  }
  if (v == TRUE_VAL) {
    sb_add(b, "true", 4);
    return true;
  }
  if (v == FALSE_VAL) {
    sb_add(b, "false", 5);
    return true;
  }
  if (is_string(v)) {
    je_string(b, str_data(v), str_len(v));
    return true;
  }
  if (is_kw(v) || is_sym(v)) {
    String *s = sym_name(e->vm, sym_id(v));
    je_string(b, s->data, s->len);
    return true;
  }
  if (is_list(v) || is_vector(v) || is_anymap(v)) {
    if (++e->depth > JSON_MAX_ENC_DEPTH) return je_fail(e, "nesting too deep");
    bool ok = true;
    if (is_anymap(v)) {
      ok = je_map(e, v, level);
    } else {
      SeqIter it;
      seqiter_init(&it, v);
      Value x;
      bool first = true;
      sb_addc(b, '[');
      while (ok && seqiter_next(&it, &x)) {
        if (!first) sb_addc(b, ',');
        first = false;
        if (e->pretty) je_newline(e, level + 1);
        ok = je_value(e, x, level + 1);
      }
      if (ok) {
        if (e->pretty && !first) je_newline(e, level);
        sb_addc(b, ']');
      }
    }
    e->depth--;
    return ok;
  }
  if (e->lossy) {
    StrBuf pb;
    sb_init_vm(&pb, e->vm);
    print_value(e->vm, &pb, v, true);
    je_string(b, pb.data, pb.len);
    sb_free(&pb);
    return true;
  }
  char what[96];
  snprintf(what, sizeof what, "cannot encode %s as JSON", val_type_name(v));
  return je_fail(e, what);
}

bool json_write(VM *vm, StrBuf *out, Value v, unsigned flags, const char *fname, char *err, size_t errsz) {
  JE e = {.vm = vm, .out = out, .pretty = (flags & JSON_PRETTY) != 0, .lossy = (flags & JSON_LOSSY) != 0,
          .fname = fname, .err = err, .errsz = errsz};
  return je_value(&e, v, 0);
}

static Value json_encode(VM *vm, Value v, bool pretty, const char *fname) {
  StrBuf b;
  char err[160];
  sb_init_vm(&b, vm);
  if (!json_write(vm, &b, v, pretty ? JSON_PRETTY : 0, fname, err, sizeof err)) {
    sb_free(&b);
    err_eval(vm, "%s", err);
  }
  return sb_to_string(vm, &b);
}

static Value n_json_encode(VM *vm, int argc, Value *argv) {
  return json_encode(vm, argv[0], false, "json/encode");
}

static Value n_json_encode_pretty(VM *vm, int argc, Value *argv) {
  return json_encode(vm, argv[0], true, "json/encode-pretty");
}

static const NativeDef defs[] = {
    {"json/encode", n_json_encode, 1, 1,
     "(json/encode x)\nReturns the compact JSON text of x: nil is null, keywords and symbols are strings of their "
     "name, lists and vectors arrays, maps objects with their members sorted by key. Values JSON cannot hold (chars, "
     "procedures, ...) are an error."},
    {"json/encode-pretty", n_json_encode_pretty, 1, 1,
     "(json/encode-pretty x)\nReturns the JSON text of x as json/encode does, indented by two spaces with one member "
     "or element per line, without a trailing newline."},
    {"json/decode", n_json_decode, 1, 1,
     "(json/decode s)\nParses the string s holding exactly one JSON value: null is nil, integers that fit 64 bits "
     "integers, other numbers floats, arrays lists, objects sorted maps with keyword keys. Malformed text raises an "
     "error with its line and column."},
    {NULL, NULL, 0, 0},
};

void lib_json_init(VM *vm) { env_register(vm, defs); }

void json_encode_lossy(VM *vm, StrBuf *out, Value v, bool pretty) {
  char err[160];
  if (!json_write(vm, out, v, JSON_LOSSY | (pretty ? JSON_PRETTY : 0), "json", err, sizeof err)) err_eval(vm, "%s", err);
}
