/* http.c - the HTTP client (net.md §2), the response helpers and markers
 * (§3.2, §3.3), http/router and route/prefix (§3.4, §3.5).  The server
 * itself is http_serve.c.
 *
 * A client call is an offloaded job (offload.h): the request is copied into
 * C memory on the interpreter thread, httpc_perform runs it (inline today, on
 * a worker thread once tasks park), and the response map is built back on
 * the interpreter thread.  So the blocking half never sees a Value.
 */
#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "httpc.h"
#include "json.h"
#include "offload.h"
#include "../compiler.h"

/* ================================================================ shared helpers */

void http_add_printed(VM *vm, StrBuf *b, Value v) { print_value(vm, b, v, true); }

void http_add_header_text(VM *vm, StrBuf *b, Value v, bool by_name) {
  if (is_string(v)) {
    sb_add(b, str_data(v), str_len(v));
  } else if (by_name && (is_kw(v) || is_sym(v))) {
    String *s = sym_name(vm, sym_id(v));
    sb_add(b, s->data, s->len);
  } else {
    print_value(vm, b, v, true);
  }
}

Value http_json_lossy(VM *vm, Value v) {
  StrBuf b;
  sb_init(&b);
  json_encode_lossy(vm, &b, v, false);
  return sb_to_string(vm, &b);
}

static Value headers1(VM *vm, const char *name, Value v) { return map_assoc(vm, map_empty(vm), str_from_c(vm, name), v); }

static Value response3(VM *vm, Value body, Value headers, int64_t status) {
  Value m = map_empty(vm);
  m = map_assoc(vm, m, KW(vm, "body"), body);
  m = map_assoc(vm, m, KW(vm, "headers"), headers);
  return map_assoc(vm, m, KW(vm, "status"), num_int(vm, status));
}

Value http_json_response(VM *vm, int64_t status, Value x) {
  Value body = http_json_lossy(vm, x);
  return response3(vm, body, headers1(vm, "content-type", str_from_c(vm, "application/json")), status);
}

Value http_plain_response(VM *vm, int64_t status, const char *ct, const char *body) {
  return response3(vm, str_from_c(vm, body), headers1(vm, "content-type", str_from_c(vm, ct)), status);
}

static const struct {
  const char *ext, *type;
} mime_types[] = {
    {"html", "text/html"}, {"htm", "text/html"}, {"css", "text/css"}, {"js", "text/javascript"},
    {"mjs", "application/javascript"}, {"json", "application/json"}, {"txt", "text/plain"},
    {"csv", "text/csv"}, {"xml", "text/xml"}, {"md", "text/markdown"}, {"toml", "text/x-toml"},
    {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
    {"webp", "image/webp"}, {"svg", "image/svg+xml"}, {"ico", "image/x-icon"}, {"woff2", "font/woff2"},
    {"woff", "font/woff"}, {"ttf", "font/ttf"}, {"otf", "font/otf"}, {"wasm", "application/wasm"},
    {"pdf", "application/pdf"}, {"mp4", "video/mp4"}, {"webm", "video/webm"}, {"mp3", "audio/mpeg"},
    {"wav", "audio/wav"}, {"ogg", "audio/ogg"}, {"zip", "application/zip"}, {"gz", "application/gzip"},
    {"tar", "application/x-tar"}, {"yaml", "text/x-yaml"}, {"yml", "text/x-yaml"},
    {"map", "application/json"}, {"avif", "image/avif"}, {"bmp", "image/bmp"},
};

const char *http_guess_type(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  const char *dot = strrchr(base, '.');
  if (dot && dot[1])
    for (size_t i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++)
      if (!strcasecmp(dot + 1, mime_types[i].ext)) return mime_types[i].type;
  return "application/octet-stream";
}

/* A type error whose "got" is a fixed word (the router's "got other"). */
static NORETURN void type_error_word(VM *vm, const char *expected, const char *got) {
  char buf[160];
  snprintf(buf, sizeof buf, "expected %s, got %s", expected, got);
  Value m = err_make(vm, "type-error", str_from_c(vm, buf));
  m = map_assoc(vm, m, KW(vm, "expected"), str_from_c(vm, expected));
  m = map_assoc(vm, m, KW(vm, "got"), str_from_c(vm, got));
  err_throw(vm, m);
}

/* ================================================================ client */

typedef struct {
  OffloadJob base;
  HttpcRequest req;
  HttpcResponse resp;
  char *method, *url, *body;
  HttpcHeader *hdrs;
  size_t nhdrs;
  char *hdr_text; /* "name\0value\0..." */
} HttpJob;

static void job_run(OffloadJob *j) {
  HttpJob *h = (HttpJob *)j;
  h->req.cancelled = &j->cancelled;
  httpc_perform(&h->req, &h->resp);
}

static void job_destroy(OffloadJob *j) {
  HttpJob *h = (HttpJob *)j;
  httpc_response_free(&h->resp);
  free(h->method);
  free(h->url);
  free(h->body);
  free(h->hdrs);
  free(h->hdr_text);
  free(h);
}

/* the charset parameter of a Content-Type value, lowercased, or "" */
static void charset_of(const char *ct, char *out, size_t cap) {
  out[0] = 0;
  if (!ct) return;
  const char *p = ct;
  while ((p = strchr(p, ';'))) {
    p++;
    while (*p == ' ' || *p == '\t') p++;
    if (!strncasecmp(p, "charset=", 8)) {
      p += 8;
      if (*p == '"') p++;
      size_t i = 0;
      while (*p && *p != ';' && *p != '"' && *p != ' ' && i + 1 < cap) {
        char c = *p++;
        out[i++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
      }
      out[i] = 0;
      return;
    }
  }
}

/* The body as text (net.md §2.4): by the charset parameter (UTF-8 when
 * absent or unknown to iconv), a byte-order mark removed, invalid sequences
 * replaced by U+FFFD. */
static Value decode_body(VM *vm, const char *body, size_t len, const char *ct) {
  char cs[48];
  charset_of(ct, cs, sizeof cs);
  StrBuf b;
  sb_init(&b);
  bool utf8 = !cs[0] || !strcmp(cs, "utf-8") || !strcmp(cs, "utf8") || !strcmp(cs, "us-ascii");
  iconv_t cd = (iconv_t)-1;
  if (!utf8) {
    cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1) utf8 = true;
  }
  if (utf8) {
    if (len >= 3 && !memcmp(body, "\xEF\xBB\xBF", 3)) body += 3, len -= 3;
    sb_add_lossy(&b, (const unsigned char *)body, len);
    return sb_to_string(vm, &b);
  }
  char *in = (char *)body;
  size_t inleft = len;
  char out[4096];
  while (inleft) {
    char *op = out;
    size_t outleft = sizeof out;
    size_t r = iconv(cd, &in, &inleft, &op, &outleft);
    sb_add(&b, out, (size_t)(op - out));
    if (r == (size_t)-1 && errno != E2BIG) { /* invalid or incomplete: one replacement, skip a byte */
      sb_add_utf8(&b, 0xFFFD);
      in++;
      inleft--;
    }
  }
  iconv_close(cd);
  /* iconv's output is valid UTF-8; a BOM it carried over is dropped */
  if (b.len >= 3 && !memcmp(b.data, "\xEF\xBB\xBF", 3)) {
    memmove(b.data, b.data + 3, b.len - 3);
    b.len -= 3;
  }
  StrBuf v;
  sb_init(&v);
  sb_add_lossy(&v, (const unsigned char *)(b.data ? b.data : ""), b.len);
  sb_free(&b);
  return sb_to_string(vm, &v);
}

static bool printable_ascii(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if ((*p < 0x20 && *p != '\t') || *p >= 0x7f) return false;
  return true;
}

static Value job_finish(VM *vm, OffloadJob *j) {
  HttpJob *h = (HttpJob *)j;
  HttpcResponse *r = &h->resp;
  if (r->error != HTTPC_OK) {
    if (r->message[0]) err_hint(vm, "%s", r->message);
    char *norm = r->final_url;
    switch (r->error) {
    case HTTPC_ERR_BAD_URL:
    case HTTPC_ERR_BAD_HEADER:
      if (norm) err_io(vm, "http %s %s: builder error for url (%s)", h->method, h->url, norm);
      err_io(vm, "http %s %s: builder error", h->method, h->url);
    case HTTPC_ERR_UNAVAILABLE: err_io(vm, "http %s %s: %s", h->method, h->url, r->message);
    default:
      if (r->in_body) err_io(vm, "http %s %s: read body: %s", h->method, h->url, r->message);
      if (r->error == HTTPC_ERR_REDIRECTS)
        err_io(vm, "http %s %s: error following redirect for url (%s)", h->method, h->url, norm ? norm : h->url);
      err_io(vm, "http %s %s: error sending request for url (%s)", h->method, h->url, norm ? norm : h->url);
    }
  }
  Value headers = map_empty(vm);
  const char *ct = NULL;
  StrBuf nb;
  sb_init(&nb);
  for (size_t i = 0; i < r->nheaders; i++) {
    const char *n = r->headers[i].name, *v = r->headers[i].value;
    if (!strcasecmp(n, "content-type")) ct = v;
    if (!printable_ascii(v)) continue;
    nb.len = 0;
    for (const char *p = n; *p; p++) sb_addc(&nb, (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p));
    size_t bad;
    if (!utf8_valid(nb.data, nb.len, &bad)) continue;
    Value k = kw_val(sym_intern(vm, nb.data, nb.len));
    headers = map_assoc(vm, headers, k, str_from_c(vm, v));
  }
  sb_free(&nb);
  Value body = decode_body(vm, r->body ? r->body : "", r->body_len, ct);
  return response3(vm, body, headers, r->status);
}

static char *c_string(Value s) {
  char *p = malloc(str_len(s) + 1);
  if (!p) return NULL;
  memcpy(p, str_data(s), str_len(s));
  p[str_len(s)] = 0;
  return p;
}

/* The request, copied into C memory.  opts: consulted only if a sorted map
 * (net.md §1.2); body: UNBOUND_VAL when none. */
static Value client_call(VM *vm, const char *method, Value url, Value opts, Value body) {
  HttpJob *h = calloc(1, sizeof *h);
  if (!h) err_eval(vm, "out of memory");
  h->base.run = job_run;
  h->base.finish = job_finish;
  h->base.destroy = job_destroy;
  h->method = strdup(method);
  h->url = c_string(url);
  h->req.method = h->method;
  h->req.url = h->url;
  h->req.timeout_ms = -1;
  StrBuf ht; /* header names and values, NUL-separated */
  sb_init(&ht);
  size_t n = 0;
  bool json_body = body != UNBOUND_VAL && is_map(body);
  if (is_map(opts)) {
    Value v;
    if (map_get(opts, KW(vm, "timeout"), &v) && is_int(v)) {
      int64_t t = int_of(v);
      h->req.timeout_ms = t < 0 ? -1 : t; /* a negative count is an unsigned 64-bit one: no deadline */
    }
    if (map_get(opts, KW(vm, "headers"), &v) && is_map(v)) {
      MapIter it;
      map_iter_init(&it, v);
      Value k, val;
      while (map_iter_next(&it, &k, &val)) {
        http_add_header_text(vm, &ht, k, true);
        sb_addc(&ht, 0);
        http_add_header_text(vm, &ht, val, false);
        sb_addc(&ht, 0);
        n++;
      }
    }
  }
  if (json_body) {
    sb_add(&ht, "Content-Type\0application/json\0", 30);
    n++;
  }
  h->hdr_text = ht.data; /* owned by the job now */
  h->hdrs = calloc(n ? n : 1, sizeof(HttpcHeader));
  const char *p = ht.data;
  for (size_t i = 0; i < n; i++) {
    h->hdrs[i].name = p;
    p += strlen(p) + 1;
    h->hdrs[i].value = p;
    p += strlen(p) + 1;
  }
  h->req.headers = h->hdrs;
  h->req.nheaders = n;
  if (body != UNBOUND_VAL) {
    StrBuf bb;
    sb_init(&bb);
    if (is_string(body))
      sb_add(&bb, str_data(body), str_len(body));
    else if (json_body)
      json_encode_lossy(vm, &bb, body, false);
    else
      print_value(vm, &bb, body, true);
    h->body = bb.data;
    h->req.body = bb.data;
    h->req.body_len = bb.len;
    h->req.has_body = true;
  }
  return offload_run(vm, &h->base);
}

static Value n_get(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  return client_call(vm, "GET", argv[0], argc > 1 ? argv[1] : NIL_VAL, UNBOUND_VAL);
}

static Value n_post(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  return client_call(vm, "POST", argv[0], argc > 2 ? argv[2] : NIL_VAL, argv[1]);
}

static Value n_put(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  return client_call(vm, "PUT", argv[0], argc > 2 ? argv[2] : NIL_VAL, argv[1]);
}

static Value n_delete(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  return client_call(vm, "DELETE", argv[0], argc > 1 ? argv[1] : NIL_VAL, UNBOUND_VAL);
}

static Value n_request(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  char m[16];
  size_t len = str_len(argv[0]);
  const char *s = str_data(argv[0]);
  static const char *const known[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"};
  bool ok = false;
  if (len < sizeof m) {
    for (size_t i = 0; i < len; i++) m[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    m[len] = 0;
    for (size_t i = 0; i < 6 && !ok; i++) ok = !strcmp(m, known[i]);
  }
  if (!ok) {
    StrBuf b;
    sb_init(&b);
    for (size_t i = 0; i < len; i++) sb_addc(&b, (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]));
    Value up = sb_to_string(vm, &b);
    err_eval(vm, "http: unknown method %s", str_data(up));
  }
  arg_string(vm, argv[1]);
  return client_call(vm, m, argv[1], argc > 2 ? argv[2] : NIL_VAL, argc > 3 ? argv[3] : UNBOUND_VAL);
}

/* ================================================================ response helpers */

static Value n_ok(VM *vm, int argc, Value *argv) { return http_json_response(vm, 200, argv[0]); }
static Value n_created(VM *vm, int argc, Value *argv) { return http_json_response(vm, 201, argv[0]); }
static Value n_not_found(VM *vm, int argc, Value *argv) { return http_json_response(vm, 404, argv[0]); }

static Value n_error(VM *vm, int argc, Value *argv) {
  if (!is_int(argv[0])) err_type(vm, "integer", argv[0]);
  return http_json_response(vm, int_of(argv[0]), argv[1]);
}

static Value n_no_content(VM *vm, int argc, Value *argv) {
  return response3(vm, str_from_c(vm, ""), map_empty(vm), 204);
}

static Value n_redirect(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  return response3(vm, str_from_c(vm, ""), headers1(vm, "location", argv[0]), 302);
}

static Value n_html(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  return response3(vm, argv[0], headers1(vm, "content-type", str_from_c(vm, "text/html")), 200);
}

static Value n_text(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  return response3(vm, argv[0], headers1(vm, "content-type", str_from_c(vm, "text/plain")), 200);
}

/* ================================================================ markers */

/* PATH made absolute against the current directory (not canonicalized) */
static char *absolute(const char *path) {
  if (path[0] == '/') return strdup(path);
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) return strdup(path);
  size_t n = strlen(cwd) + strlen(path) + 2;
  char *out = malloc(n);
  if (out) snprintf(out, n, "%s/%s", cwd, path);
  return out;
}

static Value file_marker(VM *vm, const char *path, Value ct) {
  Value m = map_empty(vm);
  m = map_assoc(vm, m, KW(vm, "__file"), TRUE_VAL);
  m = map_assoc(vm, m, KW(vm, "__file_content_type"), ct);
  return map_assoc(vm, m, KW(vm, "__file_path"), str_from_c(vm, path));
}

static Value n_file(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  if (argc > 1) arg_string(vm, argv[1]);
  char *abs = absolute(str_data(argv[0]));
  if (!abs) err_eval(vm, "out of memory");
  char canon[PATH_MAX];
  if (!realpath(abs, canon)) {
    int e = errno;
    char msg[PATH_MAX + 128];
    snprintf(msg, sizeof msg, "http/file: %s: %s (os error %d)", abs, strerror(e), e);
    free(abs);
    err_eval(vm, "%s", msg);
  }
  free(abs);
  Value ct = argc > 1 ? argv[1] : str_from_c(vm, http_guess_type(canon));
  return file_marker(vm, canon, ct);
}

static void check_procedure(VM *vm, Value f) {
  if (!is_procedure(f)) err_type(vm, "function", f);
}

static Value n_stream(VM *vm, int argc, Value *argv) {
  check_procedure(vm, argv[0]);
  Value m = map_assoc(vm, map_empty(vm), KW(vm, "__stream"), TRUE_VAL);
  return map_assoc(vm, m, KW(vm, "__stream_handler"), argv[0]);
}

static Value n_websocket(VM *vm, int argc, Value *argv) {
  check_procedure(vm, argv[0]);
  Value m = map_assoc(vm, map_empty(vm), KW(vm, "__websocket"), TRUE_VAL);
  return map_assoc(vm, m, KW(vm, "__ws_handler"), argv[0]);
}

/* ================================================================ router */

/* A compiled route is a vector [method pattern handler dir], dir being the
 * canonical directory of a :static route and nil otherwise; the router is a
 * native whose data is the vector of compiled routes. */
enum { R_METHOD, R_PATTERN, R_HANDLER, R_DIR, R_SIZE };

typedef struct {
  const char *p;
  size_t n;
} Seg;

typedef struct {
  Seg *v;
  size_t n, cap;
  Seg inl[24];
} Segs;

/* net.md §3.4: drop all trailing '/'; nothing left => [""]; else split on
 * every '/' */
static void split_segments(const char *s, size_t len, Segs *out) {
  out->v = out->inl;
  out->cap = sizeof out->inl / sizeof out->inl[0];
  out->n = 0;
  while (len && s[len - 1] == '/') len--;
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || s[i] == '/') {
      if (out->n == out->cap) {
        size_t ncap = out->cap * 2;
        Seg *nv = malloc(ncap * sizeof(Seg));
        if (!nv) return; /* truncated: at worst a non-match */
        memcpy(nv, out->v, out->n * sizeof(Seg));
        if (out->v != out->inl) free(out->v);
        out->v = nv;
        out->cap = ncap;
      }
      out->v[out->n].p = s + start;
      out->v[out->n].n = i - start;
      out->n++;
      start = i + 1;
    }
  }
}

static void segs_free(Segs *s) {
  if (s->v != s->inl) free(s->v);
}

/* Match PATTERN against PATH; on success *captures gets the captured
 * entries assoc'ed onto it. */
static bool match_path(VM *vm, Value pattern, const Segs *ps, Value *captures) {
  Segs pat;
  split_segments(str_data(pattern), str_len(pattern), &pat);
  Value caps = *captures;
  bool ok = true;
  size_t i = 0;
  for (; i < pat.n; i++) {
    Seg s = pat.v[i];
    if (s.n == 1 && s.p[0] == '*') {
      StrBuf b;
      sb_init(&b);
      for (size_t j = i; j < ps->n; j++) {
        if (j > i) sb_addc(&b, '/');
        sb_add(&b, ps->v[j].p, ps->v[j].n);
      }
      size_t off = 0;
      while (off < b.len && b.data[off] == '/') off++;
      Value v = str_new(vm, b.data ? b.data + off : "", b.len - off);
      sb_free(&b);
      caps = map_assoc(vm, caps, KW(vm, "*"), v);
      segs_free(&pat);
      *captures = caps;
      return true;
    }
    if (i >= ps->n) {
      ok = false;
      break;
    }
    if (s.n > 1 && s.p[0] == ':') {
      Value k = kw_val(sym_intern(vm, s.p + 1, s.n - 1));
      caps = map_assoc(vm, caps, k, str_new(vm, ps->v[i].p, ps->v[i].n));
    } else if (s.n != ps->v[i].n || memcmp(s.p, ps->v[i].p, s.n)) {
      ok = false;
      break;
    }
  }
  if (ok && i != ps->n) ok = false;
  segs_free(&pat);
  if (ok) *captures = caps;
  return ok;
}

static bool method_matches(VM *vm, Value route_m, Value req_m) {
  if (route_m == req_m) return true;
  if (route_m == KW(vm, "any")) return true;
  if (route_m == KW(vm, "ws") || route_m == KW(vm, "static")) return req_m == KW(vm, "get") || req_m == KW(vm, "head");
  return false;
}

static bool is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A :static route on a GET/HEAD with wildcard capture REL: a response, or
 * UNBOUND_VAL when the file does not exist (the route does not match). */
static Value serve_static(VM *vm, Value dir, Value rel) {
  if (strstr(str_data(rel), "..")) return http_plain_response(vm, 400, "text/plain", "Bad Request");
  StrBuf f;
  sb_init(&f);
  sb_add(&f, str_data(dir), str_len(dir));
  if (str_len(rel)) {
    sb_addc(&f, '/');
    sb_add(&f, str_data(rel), str_len(rel));
  }
  sb_addc(&f, 0);
  if (is_dir(f.data)) {
    f.len--;
    sb_adds(&f, "/index.html");
    sb_addc(&f, 0);
  }
  struct stat st;
  if (stat(f.data, &st) != 0) {
    sb_free(&f);
    return UNBOUND_VAL;
  }
  char canon[PATH_MAX];
  bool inside = false;
  if (realpath(f.data, canon)) {
    size_t dl = str_len(dir);
    inside = !strncmp(canon, str_data(dir), dl) && (canon[dl] == '/' || canon[dl] == 0);
    if (dl == 1) inside = true; /* the directory is "/", which holds everything */
  }
  if (!inside) {
    sb_free(&f);
    return http_plain_response(vm, 403, "text/plain", "Forbidden");
  }
  Value m = file_marker(vm, f.data, str_from_c(vm, http_guess_type(f.data)));
  sb_free(&f);
  return m;
}

static Value n_dispatch(VM *vm, int argc, Value *argv) {
  Value routes = as_native(argv[-1])->data;
  Value req = argv[0];
  if (!is_map(req)) err_type(vm, "map", req);
  Value method, path;
  if (!map_get(req, KW(vm, "method"), &method)) err_eval(vm, "http/router: request missing :method");
  if (!is_kw(method)) type_error_word(vm, "keyword", "other");
  if (!map_get(req, KW(vm, "path"), &path)) err_eval(vm, "http/router: request missing :path");
  if (!is_string(path)) type_error_word(vm, "string", "other");
  Value params;
  if (!map_get(req, KW(vm, "params"), &params) || !is_map(params)) params = map_empty(vm);
  Segs ps;
  split_segments(str_data(path), str_len(path), &ps);
  uint32_t n = vec_len(routes);
  for (uint32_t i = 0; i < n; i++) {
    Value *r = vec_items(vec_items(routes)[i]);
    if (!method_matches(vm, r[R_METHOD], method)) continue;
    Value caps = params;
    if (!match_path(vm, r[R_PATTERN], &ps, &caps)) continue;
    if (r[R_METHOD] == KW(vm, "static")) {
      Value rel;
      if (!map_get(caps, KW(vm, "*"), &rel)) rel = str_from_c(vm, "");
      Value res = serve_static(vm, r[R_DIR], rel);
      if (res == UNBOUND_VAL) continue;
      segs_free(&ps);
      return res;
    }
    segs_free(&ps);
    Value req2 = map_assoc(vm, req, KW(vm, "params"), caps);
    if (r[R_METHOD] == KW(vm, "ws")) {
      Value m = map_assoc(vm, map_empty(vm), KW(vm, "__websocket"), TRUE_VAL);
      m = map_assoc(vm, m, KW(vm, "__ws_handler"), r[R_HANDLER]);
      return map_assoc(vm, m, KW(vm, "__ws_request"), req2);
    }
    /* the router's closure makes the call (ROUTER_SRC), so a handler that
     * waits parks the request's task instead of nesting a scheduler run */
    Value call = vec_new(vm, 3);
    vec_items(call)[0] = KW(vm, "http/route-call");
    vec_items(call)[1] = r[R_HANDLER];
    vec_items(call)[2] = req2;
    return call;
  }
  segs_free(&ps);
  return http_json_response(vm, 404, str_from_c(vm, "Not Found"));
}

/* The router is a closure over the dispatch native: dispatch matches and
 * returns either the answer or [:http/route-call handler request], which
 * the closure calls from VM code.  A handler called from a native would run
 * as an inline task under a nested scheduler run (async.md §3.11), and a
 * request that waits there would hold back every request whose run sits
 * below it on the C stack; called from the closure, it parks its own task. */
static const char ROUTER_SRC[] =
    "(fn (dispatch call? handler request)\n"
    "  (fn (req) (let ((m (dispatch req))) (if (call? m) ((handler m) (request m)) m))))\n";

#define ROUTER_CELL " http router factory"

static Value router_factory(VM *vm) {
  Value c = env_get(vm, ROUTER_CELL);
  if (c != UNBOUND_VAL) return c;
  c = compile_eval_string(vm, ROUTER_SRC, sizeof ROUTER_SRC - 1, NULL);
  vm_push_root(vm, c);
  env_define(vm, ROUTER_CELL, c);
  vm_pop_roots(vm, 1);
  return c;
}

static Value n_route_callp(VM *vm, int argc, Value *argv) {
  Value v = argv[0];
  return bool_val(is_vector(v) && vec_len(v) == 3 && vec_items(v)[0] == KW(vm, "http/route-call"));
}
static Value n_route_handler(VM *vm, int argc, Value *argv) { return vec_items(argv[0])[1]; }
static Value n_route_request(VM *vm, int argc, Value *argv) { return vec_items(argv[0])[2]; }

static Value n_router(VM *vm, int argc, Value *argv) {
  Value routes = argv[0];
  if (!is_list(routes) && !is_vector(routes)) err_type(vm, "list or vector", routes);
  uint32_t base = vm_roots_mark(vm);
  ListBuilder lb;
  list_start(&lb);
  uint32_t slot = vm_root_slot(vm, EMPTY_VAL);
  SeqIter it;
  seqiter_init(&it, routes);
  Value route;
  size_t count = 0;
  while (seqiter_next(&it, &route)) {
    if (!is_list(route) && !is_vector(route)) err_eval(vm, "http/router: each route must be a vector [method path handler]");
    Value el[3];
    size_t k = 0;
    SeqIter ri;
    seqiter_init(&ri, route);
    Value x;
    while (seqiter_next(&ri, &x)) {
      if (k < 3) el[k] = x;
      k++;
    }
    if (k != 3) err_eval(vm, "http/router: each route must have exactly 3 elements [method path handler]");
    if (!is_kw(el[0])) err_type(vm, "keyword", el[0]);
    if (!is_string(el[1])) err_type(vm, "string", el[1]);
    Value c = vec_new(vm, R_SIZE);
    Value *ci = vec_items(c);
    ci[R_METHOD] = el[0];
    ci[R_PATTERN] = el[1];
    ci[R_HANDLER] = el[2];
    ci[R_DIR] = NIL_VAL;
    if (el[0] == KW(vm, "static")) {
      if (!is_string(el[2])) err_eval(vm, "http/router: :static route directory must be a string");
      char *abs = absolute(str_data(el[2]));
      char canon[PATH_MAX];
      if (!abs || !realpath(abs, canon)) {
        int e = errno;
        char msg[PATH_MAX + 128];
        snprintf(msg, sizeof msg, "http/router: static directory '%s': %s (os error %d)", abs ? abs : "", strerror(e), e);
        free(abs);
        err_eval(vm, "%s", msg);
      }
      free(abs);
      ci[R_DIR] = str_from_c(vm, canon);
      size_t pl = str_len(el[1]);
      if (!pl || str_data(el[1])[pl - 1] != '*') {
        StrBuf b;
        sb_init(&b);
        sb_add(&b, str_data(el[1]), pl);
        while (b.len && b.data[b.len - 1] == '/') b.len--;
        sb_adds(&b, "/*");
        ci[R_PATTERN] = sb_to_string(vm, &b);
      }
    }
    list_add(vm, &lb, c);
    ROOT(vm, slot) = lb.head;
    count++;
  }
  Value vec = vec_new(vm, count);
  Value l = lb.head;
  for (size_t i = 0; i < count; i++, l = cdr(l)) vec_items(vec)[i] = car(l);
  Value fn = obj_native(vm, "http/router/dispatch", n_dispatch, 1, 1);
  as_native(fn)->data = vec;
  vm_push_root(vm, fn);
  Value wrap = router_factory(vm);
  Value args[4] = {fn, NIL_VAL, NIL_VAL, NIL_VAL};
  vm_push_root(vm, wrap);
  args[1] = obj_native(vm, "http/router/call?", n_route_callp, 1, 1);
  vm_push_root(vm, args[1]);
  args[2] = obj_native(vm, "http/router/handler", n_route_handler, 1, 1);
  vm_push_root(vm, args[2]);
  args[3] = obj_native(vm, "http/router/request", n_route_request, 1, 1);
  Value router = vm_call(vm, wrap, 4, args);
  vm_roots_reset(vm, base);
  return router;
}

static Value n_route_prefix(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  Value routes = argv[1];
  if (!is_list(routes) && !is_vector(routes)) err_type(vm, "list or vector", routes);
  size_t pl = str_len(argv[0]);
  while (pl && str_data(argv[0])[pl - 1] == '/') pl--;
  ListBuilder lb;
  list_start(&lb);
  SeqIter it;
  seqiter_init(&it, routes);
  Value r;
  while (seqiter_next(&it, &r)) {
    if (!is_vector(r)) err_eval(vm, "route/prefix: each route must be a vector [method pattern handler]");
    if (vec_len(r) < 3) err_eval(vm, "route/prefix: each route must have at least 3 elements");
    Value pat = vec_items(r)[1];
    if (!is_string(pat)) err_type(vm, "string", pat);
    StrBuf b;
    sb_init(&b);
    sb_add(&b, str_data(argv[0]), pl);
    sb_add(&b, str_data(pat), str_len(pat));
    Value np = sb_to_string(vm, &b);
    Value nr = vec_from(vm, vec_items(r), vec_len(r));
    vec_items(nr)[1] = np;
    list_add(vm, &lb, nr);
  }
  return lb.head;
}

/* ================================================================ registration */

static const NativeDef defs[] = {
    {"http/get", n_get, 1, 2,
     "(http/get url [opts])\nGET url and return {:status INT :headers {KEYWORD STRING} :body STRING}. opts: "
     ":headers (a map of request headers), :timeout (milliseconds for the whole request). Redirects are "
     "followed; any status is a success; transport failures raise :io errors \"http GET url: ...\"."},
    {"http/post", n_post, 2, 3,
     "(http/post url body [opts])\nPOST body to url. A string body is sent as is, a map as JSON (with "
     "Content-Type: application/json), anything else as its printed form. Returns the response map like http/get."},
    {"http/put", n_put, 2, 3, "(http/put url body [opts])\nPUT body to url; body and opts as for http/post."},
    {"http/delete", n_delete, 1, 2, "(http/delete url [opts])\nDELETE url (no body); opts as for http/get."},
    {"http/request", n_request, 2, 4,
     "(http/request method url [opts [body]])\nA request with any of GET POST PUT DELETE PATCH HEAD (method is a "
     "string, case-insensitive). Note the order: options before the body. A body is sent only when given."},
    {"http/ok", n_ok, 1, 1, "(http/ok x)\nA 200 response whose body is x as JSON (content-type application/json)."},
    {"http/created", n_created, 1, 1, "(http/created x)\nA 201 response whose body is x as JSON."},
    {"http/not-found", n_not_found, 1, 1, "(http/not-found x)\nA 404 response whose body is x as JSON."},
    {"http/error", n_error, 2, 2, "(http/error status x)\nA response with the integer status and x as a JSON body."},
    {"http/no-content", n_no_content, 0, 0, "(http/no-content)\nAn empty 204 response."},
    {"http/redirect", n_redirect, 1, 1, "(http/redirect url)\nA 302 response with Location: url."},
    {"http/html", n_html, 1, 1, "(http/html s)\nA 200 response with the string s as text/html."},
    {"http/text", n_text, 1, 1, "(http/text s)\nA 200 response with the string s as text/plain."},
    {"http/file", n_file, 1, 2,
     "(http/file path [content-type])\nA response marker that serves the file at path (read when sent), with "
     "the given content type or the one guessed from the extension. Raises if the file does not exist."},
    {"http/stream", n_stream, 1, 1,
     "(http/stream f)\nA server-sent events response: f is called with a procedure (send s) that sends one event "
     "(data: s) to the client; the stream ends when f returns."},
    {"http/websocket", n_websocket, 1, 1,
     "(http/websocket f)\nA WebSocket response: on an upgrade request f is called with the connection map "
     "{:recv :send :close}; (recv) returns the next text message or nil once closed, (send s) sends one."},
    {"http/router", n_router, 1, 1,
     "(http/router routes)\nA handler that dispatches a request map to the first of routes ([method pattern "
     "handler] vectors) that matches: :get :post ... :any, :ws, and [:static prefix dir]. Patterns have :name "
     "captures (into :params) and a final * wildcard. No match: a 404 JSON \"Not Found\"."},
    {"route/prefix", n_route_prefix, 2, 2,
     "(route/prefix prefix routes)\nThe routes (vectors) with prefix (trailing / removed) put before each pattern."},
    {NULL, NULL, 0, 0, NULL},
};

void lib_http_init(VM *vm) {
  env_register(vm, defs);
  lib_http_serve_init(vm);
}
