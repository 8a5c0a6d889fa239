/* http_serve.c - http/serve (net.md §3.6-§3.9): the serve loop on the
 * interpreter thread over the C server of httpd.c.
 *
 * The loop takes one request at a time from the server's queue and runs
 * serve_request on it: build the request map, call the handler, turn the
 * result into the answer (plain response, file, SSE stream, WebSocket).
 * Every place where a handler has to wait for the network (the next request,
 * a WebSocket message, room in a send queue) goes through serve_block, the
 * one blocking call point; with the async runtime it becomes "park this task
 * until the server's event fd fires", and serve_request becomes the body of
 * a task spawned per request (docs/design.md, "HTTP server").
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "httpd.h"
#include "json.h"

typedef struct {
  HttpdServer *srv;
  Value handler;
  Value json_decode;
} Serve;

/* ---- the blocking call point ---- */

/* Wait until the server reports an event newer than TOKEN (a request, a
 * message, room in a queue, a closed connection), at most 200 ms so that an
 * interrupt (Ctrl-C in the REPL) is seen.  The caller re-checks its
 * condition after it returns. */
static void serve_block(VM *vm, HttpdServer *srv, uint64_t token) {
  httpd_wait(srv, token, 200);
  if (vm_interrupt_requested) vm_interrupted(vm);
}

/* ---- stream and WebSocket handles (foreign objects the natives carry) ---- */

typedef struct {
  HttpdServer *srv;
  void *h; /* HttpdStream* or HttpdWs*; NULL once the handler returned */
} Handle;

static void stream_finalize(Foreign *f) {
  Handle *h = f->ptr;
  if (!h) return;
  if (h->h) httpd_stream_end(h->h);
  free(h);
}

static void ws_finalize(Foreign *f) {
  Handle *h = f->ptr;
  if (!h) return;
  if (h->h) httpd_ws_release(h->h);
  free(h);
}

static const ForeignClass stream_class = {.name = "sse-stream", .finalize = stream_finalize};
static const ForeignClass ws_class = {.name = "websocket", .finalize = ws_finalize};

static Handle *self_handle(Value *argv) { return ((Foreign *)as_obj(as_native(argv[-1])->data))->ptr; }

static Value bound_native(VM *vm, const char *name, NativeFn fn, int min, int max, Value data) {
  Value n = obj_native(vm, name, fn, min, max);
  as_native(n)->data = data;
  return n;
}

/* (send s): one SSE event; every \n and \r is followed by a new "data: " */
static Value n_sse_send(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  Handle *h = self_handle(argv);
  if (!h->h) err_eval(vm, "SSE stream closed");
  StrBuf b;
  sb_init(&b);
  const char *s = str_data(argv[0]);
  size_t n = str_len(argv[0]);
  if (n == 0) {
    sb_addc(&b, '\n');
  } else {
    sb_adds(&b, "data: ");
    for (size_t i = 0; i < n; i++) {
      sb_addc(&b, s[i]);
      if (s[i] == '\n' || s[i] == '\r') sb_adds(&b, "data: ");
    }
    sb_add(&b, "\n\n", 2);
  }
  int r;
  for (;;) {
    uint64_t t = httpd_wait_begin(h->srv);
    r = httpd_stream_send(h->h, b.data, b.len);
    if (r != HTTPD_AGAIN) break;
    serve_block(vm, h->srv, t); /* a raise here frees nothing of ours but b */
  }
  sb_free(&b);
  if (r == HTTPD_CLOSED) err_eval(vm, "SSE stream closed");
  return NIL_VAL;
}

static Value n_ws_send(VM *vm, int argc, Value *argv) {
  arg_string(vm, argv[0]);
  Handle *h = self_handle(argv);
  if (!h->h) err_eval(vm, "WebSocket closed");
  int r;
  for (;;) {
    uint64_t t = httpd_wait_begin(h->srv);
    r = httpd_ws_send(h->h, str_data(argv[0]), str_len(argv[0]));
    if (r != HTTPD_AGAIN) break;
    serve_block(vm, h->srv, t);
  }
  if (r == HTTPD_CLOSED) err_eval(vm, "WebSocket closed");
  return NIL_VAL;
}

static Value n_ws_recv(VM *vm, int argc, Value *argv) {
  Handle *h = self_handle(argv);
  if (!h->h) return NIL_VAL;
  char *msg = NULL;
  size_t len = 0;
  int r;
  for (;;) {
    uint64_t t = httpd_wait_begin(h->srv);
    r = httpd_ws_recv(h->h, &msg, &len);
    if (r != HTTPD_AGAIN) break;
    serve_block(vm, h->srv, t);
  }
  if (r != HTTPD_OK) return NIL_VAL;
  StrBuf b;
  sb_init(&b);
  sb_add_lossy(&b, (const unsigned char *)msg, len);
  free(msg);
  return sb_to_string(vm, &b);
}

static Value n_ws_close(VM *vm, int argc, Value *argv) {
  Handle *h = self_handle(argv);
  if (h->h) httpd_ws_close(h->h);
  return NIL_VAL;
}

/* ---- the request map (net.md §3.1) ---- */

static bool printable(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p >= 0x7f) return false;
  return true;
}

static Value lossy_string(VM *vm, const char *s, size_t n) {
  size_t bad;
  if (utf8_valid(s, n, &bad)) return str_new(vm, s, n);
  StrBuf b;
  sb_init(&b);
  sb_add_lossy(&b, (const unsigned char *)s, n);
  return sb_to_string(vm, &b);
}

Value http_serve_request_value(VM *vm, const HttpdRequest *r, bool *want_json) {
  Value m = map_empty(vm);
  StrBuf b;
  sb_init(&b);
  for (const char *p = r->method; *p; p++) sb_addc(&b, (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p));
  m = map_assoc(vm, m, KW(vm, "method"), kw_val(sym_intern(vm, b.data ? b.data : "", b.len)));
  sb_free(&b);
  const char *t = r->target;
  const char *q = strchr(t, '?');
  size_t plen = q ? (size_t)(q - t) : strlen(t);
  m = map_assoc(vm, m, KW(vm, "path"), lossy_string(vm, t, plen));
  Value query = map_empty(vm);
  if (q) {
    const char *p = q + 1;
    while (*p) {
      const char *e = strchr(p, '&');
      size_t n = e ? (size_t)(e - p) : strlen(p);
      if (n) {
        const char *eq = memchr(p, '=', n);
        size_t kl = eq ? (size_t)(eq - p) : n;
        Value ks = lossy_string(vm, p, kl);
        Value k = kw_val(sym_intern(vm, str_data(ks), str_len(ks)));
        Value v = eq ? lossy_string(vm, eq + 1, n - kl - 1) : str_from_c(vm, "");
        query = map_assoc(vm, query, k, v);
      }
      p += n;
      if (*p == '&') p++;
    }
  }
  m = map_assoc(vm, m, KW(vm, "query"), query);
  Value headers = map_empty(vm);
  *want_json = false;
  for (size_t i = 0; i < r->nheaders; i++) {
    const char *n = r->headers[i].name, *v = r->headers[i].value;
    if (!strcmp(n, "content-type") && strstr(v, "json")) *want_json = true;
    Value hv = printable(v) ? str_from_c(vm, v) : str_from_c(vm, "");
    headers = map_assoc(vm, headers, lossy_string(vm, n, strlen(n)), hv);
  }
  m = map_assoc(vm, m, KW(vm, "headers"), headers);
  m = map_assoc(vm, m, KW(vm, "params"), map_empty(vm));
  m = map_assoc(vm, m, KW(vm, "body"), lossy_string(vm, r->body, r->body_len));
  if (!r->body_len) *want_json = false;
  return m;
}

/* ---- answering ---- */

static void print_handler_error(VM *vm, const char *what, Value err) {
  Value msg = err_display(vm, err);
  StrBuf b;
  sb_init(&b);
  sb_adds(&b, what);
  sb_add(&b, str_data(msg), str_len(msg));
  sb_addc(&b, '\n');
  vm_write_err(vm, b.data, b.len);
  sb_free(&b);
}

static void respond_text(HttpdRequest *r, unsigned status, const char *ct, const char *body, size_t len) {
  HttpdHeader h = {(char *)"content-type", (char *)ct};
  httpd_respond(r, status, &h, 1, body, len);
}

static bool marker(VM *vm, Value m, const char *key) {
  Value v;
  return map_get(m, KW(vm, key), &v) && v == TRUE_VAL;
}

static void serve_stream(VM *vm, Serve *sv, HttpdRequest *r, Value f) {
  HttpdStream *st = httpd_respond_stream(r);
  if (!st) return;
  Handle *h = malloc(sizeof *h);
  if (!h) {
    httpd_stream_end(st);
    return;
  }
  h->srv = sv->srv;
  h->h = st;
  Value fo = obj_foreign(vm, &stream_class, h, NIL_VAL);
  vm_push_root(vm, fo);
  Value send = bound_native(vm, "http/stream/send", n_sse_send, 1, 1, fo);
  Value out;
  if (vm_pcall(vm, f, 1, &send, &out)) print_handler_error(vm, "http/stream handler error: ", vm_error(vm));
  h->h = NULL;
  httpd_stream_end(st);
  vm_pop_roots(vm, 1);
}

static void serve_ws(VM *vm, Serve *sv, HttpdRequest *r, Value f) {
  HttpdWs *ws = httpd_respond_ws(r);
  if (!ws) return;
  Handle *h = malloc(sizeof *h);
  if (!h) {
    httpd_ws_release(ws);
    return;
  }
  h->srv = sv->srv;
  h->h = ws;
  Value fo = obj_foreign(vm, &ws_class, h, NIL_VAL);
  vm_push_root(vm, fo);
  Value conn = map_empty(vm);
  conn = map_assoc(vm, conn, KW(vm, "close"), bound_native(vm, "ws/close", n_ws_close, 0, 0, fo));
  conn = map_assoc(vm, conn, KW(vm, "recv"), bound_native(vm, "ws/recv", n_ws_recv, 0, 0, fo));
  conn = map_assoc(vm, conn, KW(vm, "send"), bound_native(vm, "ws/send", n_ws_send, 1, 1, fo));
  Value out;
  if (vm_pcall(vm, f, 1, &conn, &out)) print_handler_error(vm, "ws handler error: ", vm_error(vm));
  h->h = NULL;
  httpd_ws_release(ws);
  vm_pop_roots(vm, 1);
}

/* The handler's result on the wire (net.md §3.1). */
static void respond_value(VM *vm, Serve *sv, HttpdRequest *r, Value res) {
  if (!is_map(res)) {
    StrBuf b;
    sb_init(&b);
    print_value(vm, &b, res, true);
    respond_text(r, 200, "text/plain", b.data ? b.data : "", b.len);
    sb_free(&b);
    return;
  }
  Value v;
  if (marker(vm, res, "__stream")) {
    if (map_get(res, KW(vm, "__stream_handler"), &v) && is_procedure(v)) return serve_stream(vm, sv, r, v);
    return respond_text(r, 500, "text/plain", "Internal Server Error", 21);
  }
  if (marker(vm, res, "__websocket")) {
    if (map_get(res, KW(vm, "__ws_handler"), &v) && is_procedure(v)) return serve_ws(vm, sv, r, v);
    return respond_text(r, 500, "text/plain", "Internal Server Error", 21);
  }
  if (marker(vm, res, "__file")) {
    Value ct;
    if (!map_get(res, KW(vm, "__file_path"), &v) || !is_string(v))
      return respond_text(r, 500, "text/plain", "Internal Server Error", 21);
    bool has_ct = map_get(res, KW(vm, "__file_content_type"), &ct) && is_string(ct);
    return httpd_respond_file(r, str_data(v), has_ct ? str_data(ct) : "application/octet-stream");
  }
  unsigned status = 200;
  if (map_get(res, KW(vm, "status"), &v) && is_int(v)) {
    status = (uint16_t)(uint64_t)int_of(v);
    if (status < 100 || status > 999) status = 500;
  }
  const char *body = "";
  size_t blen = 0;
  if (map_get(res, KW(vm, "body"), &v) && is_string(v)) {
    body = str_data(v);
    blen = str_len(v);
  }
  HttpdHeader hs[32], *hv = hs;
  size_t nh = 0;
  StrBuf text; /* "name\0value\0" ... */
  sb_init(&text);
  if (map_get(res, KW(vm, "headers"), &v) && is_map(v)) {
    size_t cnt = map_count(v);
    if (cnt > 32 && !(hv = malloc(cnt * sizeof *hv))) hv = hs, cnt = 32;
    size_t *offs = malloc((cnt ? cnt : 1) * 2 * sizeof(size_t));
    MapIter it;
    map_iter_init(&it, v);
    Value k, val;
    while (offs && nh < cnt && map_iter_next(&it, &k, &val)) {
      offs[2 * nh] = text.len;
      http_add_header_text(vm, &text, k, false);
      sb_addc(&text, 0);
      offs[2 * nh + 1] = text.len;
      http_add_header_text(vm, &text, val, false);
      sb_addc(&text, 0);
      nh++;
    }
    for (size_t i = 0; i < nh; i++) {
      hv[i].name = text.data + offs[2 * i];
      hv[i].value = text.data + offs[2 * i + 1];
    }
    free(offs);
  }
  httpd_respond(r, status, hv, nh, body, blen);
  sb_free(&text);
  if (hv != hs) free(hv);
}

typedef struct {
  Serve *sv;
  HttpdRequest *r;
  Value res;
} Answer;

static void answer_protected(VM *vm, void *ud) {
  Answer *a = ud;
  respond_value(vm, a->sv, a->r, a->res);
}

/* Run the handler for one request and answer it.  Never raises: whatever
 * goes wrong becomes a 500, so the loop goes on.  With the async runtime
 * this is the body of the task spawned for the request. */
static void serve_request(VM *vm, Serve *sv, HttpdRequest *r) {
  uint32_t base = vm_roots_mark(vm);
  bool want_json;
  Value req = http_serve_request_value(vm, r, &want_json);
  if (want_json) {
    Value body, decoded;
    map_get(req, KW(vm, "body"), &body);
    vm_push_root(vm, req);
    if (!vm_pcall(vm, sv->json_decode, 1, &body, &decoded)) req = map_assoc(vm, req, KW(vm, "json"), decoded);
    vm_pop_roots(vm, 1);
  }
  Value res;
  if (vm_pcall(vm, sv->handler, 1, &req, &res)) {
    Value err = vm_error(vm);
    vm_push_root(vm, err);
    print_handler_error(vm, "http/serve handler error: ", err);
    StrBuf b;
    sb_init(&b);
    sb_adds(&b, "{\"error\":");
    json_encode_lossy(vm, &b, err_display(vm, err), false);
    sb_addc(&b, '}');
    respond_text(r, 500, "application/json", b.data, b.len);
    sb_free(&b);
    vm_roots_reset(vm, base);
    return;
  }
  Answer a = {sv, r, res};
  vm_push_root(vm, res);
  if (vm_protect(vm, answer_protected, &a)) /* only a failure inside the conversion (out of memory) */
    respond_text(r, 500, "text/plain", "Internal Server Error", 21);
  vm_roots_reset(vm, base);
}

static Value n_serve(VM *vm, int argc, Value *argv) {
  int64_t port = 3000;
  const char *host = "0.0.0.0";
  if (argc > 1 && is_map(argv[1])) {
    Value v;
    if (map_get(argv[1], KW(vm, "port"), &v) && is_int(v)) {
      port = int_of(v);
      if (port < 1 || port > 65535) err_eval(vm, "http/serve: port must be in 1..=65535, got %lld", (long long)port);
    }
    if (map_get(argv[1], KW(vm, "host"), &v) && is_string(v)) host = str_data(v);
  }
  HttpdConfig cfg = {0};
  const char *e = getenv("SEMA_HTTP_IDLE_TIMEOUT"); /* seconds; the tests shorten it */
  if (e) cfg.idle_timeout_s = atoi(e);
  char err[512];
  HttpdServer *srv = httpd_start(host, (int)port, &cfg, err, sizeof err);
  if (!srv) err_io(vm, "%s", err);
  char line[300];
  int n = snprintf(line, sizeof line, "Listening on %s:%lld\n", host, (long long)port);
  vm_write_err(vm, line, (size_t)n);
  vm_flush(vm);
  Serve sv = {srv, argv[0], env_get(vm, "json/decode")};
  vm_push_root(vm, sv.handler);
  vm_push_root(vm, sv.json_decode);
  /* Serve forever.  With the async runtime: the wait below becomes the
   * scheduler's wait (httpd_event_fd among its fds) and serve_request is
   * spawned as a task instead of called. */
  for (;;) {
    uint64_t t = httpd_wait_begin(srv);
    HttpdRequest *r = httpd_next(srv);
    if (!r) {
      serve_block(vm, srv, t);
      continue;
    }
    serve_request(vm, &sv, r);
  }
  return NIL_VAL;
}

static const NativeDef defs[] = {
    {"http/serve", n_serve, 1, 2,
     "(http/serve handler [opts])\nServe HTTP on opts :host (default \"0.0.0.0\") and :port (default 3000) "
     "forever, calling (handler request-map) for each request; the result is a response map {:status :headers "
     ":body}, a marker (http/file, http/stream, http/websocket) or any value (sent as text/plain). A handler "
     "error answers 500 and the server goes on."},
    {NULL, NULL, 0, 0, NULL},
};

void lib_http_serve_init(VM *vm) { env_register(vm, defs); }
