/* llm_util.c - helpers shared by the LLM files: option maps (llm.md §1.3),
 * llm errors (§1.2), JSON text, hashing, base64, time.
 *
 * JSON decoding, base64 and text/chunk reuse the library's own builtins,
 * called through the C functions captured when the subsystem registers, so
 * a program that rebinds json/decode cannot change what a provider response
 * means. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include "digest.h"
#include "llm.h"

/* ---- options ---- */

bool llm_opt(VM *vm, Value opts, const char *key, Value *out) {
  return is_map(opts) && map_get(opts, KW(vm, key), out);
}

Value llm_opt_str(VM *vm, Value opts, const char *key) {
  Value v;
  return llm_opt(vm, opts, key, &v) && is_string(v) ? v : NIL_VAL;
}

bool llm_opt_int(VM *vm, Value opts, const char *key, int64_t *out) {
  Value v;
  if (!llm_opt(vm, opts, key, &v) || !is_int(v)) return false;
  *out = int_of(v);
  return true;
}

bool llm_opt_num(VM *vm, Value opts, const char *key, double *out) {
  Value v;
  if (!llm_opt(vm, opts, key, &v) || !is_number(v)) return false;
  *out = num_to_double(v);
  return true;
}

bool llm_opt_truthy(VM *vm, Value opts, const char *key, bool dflt) {
  Value v;
  if (!llm_opt(vm, opts, key, &v)) return dflt;
  return is_truthy(v);
}

Value llm_opt_name(VM *vm, Value opts, const char *key) {
  Value v;
  if (!llm_opt(vm, opts, key, &v)) return NIL_VAL;
  if (is_string(v)) return v;
  if (is_kw(v)) return str_from_c(vm, sym_cstr(vm, v));
  return NIL_VAL;
}

/* ---- errors ---- */

void llm_err_str(VM *vm, Value msg) { err_throw(vm, err_make(vm, "llm", msg)); }

void llm_err(VM *vm, const char *fmt, ...) {
  StrBuf b;
  sb_init(&b);
  va_list ap;
  va_start(ap, fmt);
  char tmp[512];
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n >= (int)sizeof tmp) {
    char *big = malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_add(&b, big, (size_t)n);
    free(big);
  } else if (n > 0) {
    sb_add(&b, tmp, (size_t)n);
  }
  llm_err_str(vm, sb_to_string(vm, &b));
}

bool llm_is_callable(Value v) { return is_procedure(v); }

void llm_check_fn(VM *vm, Value v) {
  if (!llm_is_callable(v)) err_type(vm, "function", v);
}

/* ---- captured builtins ---- */

static NativeFn fn_json_decode, fn_json_encode, fn_json_pretty, fn_text_chunk, fn_b64_enc, fn_b64_dec;

static NativeFn capture(VM *vm, const char *name) {
  Value v = env_get(vm, name);
  if (!is_native(v)) {
    fprintf(stderr, "sema: the LLM library needs %s\n", name);
    abort();
  }
  return as_native(v)->fn;
}

void llm_util_init(VM *vm) {
  fn_json_decode = capture(vm, "json/decode");
  fn_json_encode = capture(vm, "json/encode");
  fn_json_pretty = capture(vm, "json/encode-pretty");
  fn_text_chunk = capture(vm, "text/chunk");
  fn_b64_enc = capture(vm, "base64/encode-bytes");
  fn_b64_dec = capture(vm, "base64/decode-bytes");
}

Value llm_json_decode(VM *vm, const char *s, size_t n) {
  Value str = str_new(vm, s, n);
  return fn_json_decode(vm, 1, &str);
}

Value llm_json_pretty(VM *vm, Value v) { return fn_json_pretty(vm, 1, &v); }

typedef struct {
  const char *s;
  size_t n;
  Value out;
} DecodeCall;

static void decode_protected(VM *vm, void *ud) {
  DecodeCall *d = ud;
  d->out = llm_json_decode(vm, d->s, d->n);
}

bool llm_json_try_decode(VM *vm, const char *s, size_t n, Value *out, Value *err_msg) {
  if (!utf8_valid(s, n, NULL)) {
    if (err_msg) *err_msg = str_from_c(vm, "invalid UTF-8 in response body");
    return false;
  }
  DecodeCall d = {s, n, NIL_VAL};
  if (vm_protect(vm, decode_protected, &d)) {
    if (err_msg) {
      Value m = NIL_VAL;
      if (is_map(vm_error(vm))) map_get(vm_error(vm), KW(vm, "message"), &m);
      const char *t = is_string(m) ? str_data(m) : "invalid JSON";
      if (strncmp(t, "json/decode: ", 13) == 0) t += 13;
      *err_msg = str_from_c(vm, t);
    }
    return false;
  }
  *out = d.out;
  return true;
}

void llm_json_str(StrBuf *b, const char *s, size_t n) {
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

void llm_json_num(VM *vm, StrBuf *b, double d) {
  if (d != d || d - d != 0) {
    sb_adds(b, "null");
    return;
  }
  Value v = double_val(d);
  Value s = fn_json_encode(vm, 1, &v);
  sb_add(b, str_data(s), str_len(s));
}

typedef struct {
  const char *p;
  size_t len;
  Value val;
} JsonKey;

static int jsonkey_cmp(const void *a, const void *b) {
  const JsonKey *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->p, y->p, n);
  if (c) return c;
  return (x->len > y->len) - (x->len < y->len);
}

/* J(v) of net.md §1.3 / llm.md §7.4: json/encode's text, never failing
 * (NaN/inf -> null, unencodable values -> the JSON string of their printed
 * form).  Map keys: keyword and symbol names, strings, else printed forms,
 * sorted by their text. */
static void json_encode_rec(VM *vm, StrBuf *b, Value v, int depth) {
  if (depth > 512) {
    sb_adds(b, "null");
    return;
  }
  if (is_double(v)) {
    llm_json_num(vm, b, as_double(v));
  } else if (is_int(v)) {
    sb_addf(b, "%lld", (long long)int_of(v));
  } else if (v == NIL_VAL) {
    sb_adds(b, "null");
  } else if (v == TRUE_VAL || v == FALSE_VAL) {
    sb_adds(b, v == TRUE_VAL ? "true" : "false");
  } else if (is_string(v)) {
    llm_json_sval(b, v);
  } else if (is_kw(v) || is_sym(v)) {
    String *s = sym_name(vm, sym_id(v));
    llm_json_str(b, s->data, s->len);
  } else if (is_list(v) || is_vector(v)) {
    SeqIter it;
    seqiter_init(&it, v);
    Value x;
    bool first = true;
    sb_addc(b, '[');
    while (seqiter_next(&it, &x)) {
      if (!first) sb_addc(b, ',');
      first = false;
      json_encode_rec(vm, b, x, depth + 1);
    }
    sb_addc(b, ']');
  } else if (is_anymap(v)) {
    size_t n;
    Value *ents = map_sorted_entries(NULL, v, &n);
    JsonKey *keys = malloc((n ? n : 1) * sizeof *keys);
    StrBuf kb;
    sb_init(&kb);
    size_t *offs = malloc((n ? n : 1) * sizeof *offs);
    for (size_t i = 0; i < n; i++) {
      Value k = ents[2 * i];
      keys[i].val = ents[2 * i + 1];
      if (is_string(k)) {
        keys[i].p = str_data(k);
        keys[i].len = str_len(k);
        offs[i] = SIZE_MAX;
      } else if (is_kw(k) || is_sym(k)) {
        String *s = sym_name(vm, sym_id(k));
        keys[i].p = s->data;
        keys[i].len = s->len;
        offs[i] = SIZE_MAX;
      } else {
        offs[i] = kb.len;
        print_value(vm, &kb, k, true);
        keys[i].len = kb.len - offs[i];
      }
    }
    for (size_t i = 0; i < n; i++)
      if (offs[i] != SIZE_MAX) keys[i].p = kb.data + offs[i];
    qsort(keys, n, sizeof *keys, jsonkey_cmp);
    sb_addc(b, '{');
    for (size_t i = 0; i < n; i++) {
      if (i) sb_addc(b, ',');
      llm_json_str(b, keys[i].p, keys[i].len);
      sb_addc(b, ':');
      json_encode_rec(vm, b, keys[i].val, depth + 1);
    }
    sb_addc(b, '}');
    sb_free(&kb);
    free(offs);
    free(keys);
    free(ents);
  } else {
    StrBuf pb;
    sb_init(&pb);
    print_value(vm, &pb, v, true);
    llm_json_str(b, pb.data ? pb.data : "", pb.len);
    sb_free(&pb);
  }
}

void llm_json_encode(VM *vm, StrBuf *b, Value v) { json_encode_rec(vm, b, v, 0); }

Value llm_text_chunk(VM *vm, Value text, Value opts) {
  Value args[2] = {text, opts};
  return fn_text_chunk(vm, 2, args);
}

/* ---- hashing, base64 ---- */

void llm_sha256_hex(VM *vm, const uint8_t *data, size_t n, char out[65]) {
  static const char hex[] = "0123456789abcdef";
  uint8_t d[DIGEST_SHA256_SIZE];
  if (!digest_sha256(data, n, d)) err_eval(vm, "llm: request hashing needs libnettle: %s", digest_error());
  for (int i = 0; i < DIGEST_SHA256_SIZE; i++) {
    out[2 * i] = hex[d[i] >> 4];
    out[2 * i + 1] = hex[d[i] & 15];
  }
  out[64] = 0;
}

Value llm_base64_value(VM *vm, Value bytevec) { return fn_b64_enc(vm, 1, &bytevec); }

typedef struct {
  Value in, out;
} B64Call;

static void b64dec_protected(VM *vm, void *ud) {
  B64Call *c = ud;
  c->out = fn_b64_dec(vm, 1, &c->in);
}

bool llm_base64_decode_value(VM *vm, Value s, Value *out, Value *err_msg) {
  B64Call c = {s, NIL_VAL};
  if (vm_protect(vm, b64dec_protected, &c)) {
    Value m = NIL_VAL;
    if (is_map(vm_error(vm))) map_get(vm_error(vm), KW(vm, "message"), &m);
    const char *t = is_string(m) ? str_data(m) : "invalid base64";
    const char *colon = strstr(t, ": ");
    if (colon && strncmp(t, "base64/", 7) == 0) t = colon + 2;
    *err_msg = str_from_c(vm, t);
    return false;
  }
  *out = c.out;
  return true;
}

const char *llm_media_type(const uint8_t *p, size_t n) {
  if (n >= 4 && p[0] == 0x89 && p[1] == 0x50 && p[2] == 0x4E && p[3] == 0x47) return "image/png";
  if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return "image/jpeg";
  if (n >= 4 && memcmp(p, "GIF8", 4) == 0) return "image/gif";
  if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) return "image/webp";
  if (n >= 4 && memcmp(p, "%PDF", 4) == 0) return "application/pdf";
  return "application/octet-stream";
}

/* ---- time ---- */

int64_t llm_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int64_t llm_mono_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void llm_sleep_ms(int64_t ms) {
  if (ms <= 0) return;
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

char *llm_strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s);
  char *d = malloc(n + 1);
  if (!d) abort();
  memcpy(d, s, n + 1);
  return d;
}
