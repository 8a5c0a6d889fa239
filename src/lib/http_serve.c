/* http_serve.c - http/serve (net.md §3.6-§3.9): every request is a task
 * on the async scheduler (async.c), over the C server of httpd.c.
 *
 * THREADING.  libmicrohttpd's threads parse requests and queue them; the
 * server's eventfd is an event source of the scheduler (async.h), which
 * polls it with every other source and the worker pool's eventfd when no
 * task is READY.  http/serve spawns an accept task and drives the scheduler
 * until it ends (never, short of an interrupt).  The accept task takes
 * every queued request, spawns a task for each and parks on the source.  A
 * request's task builds the request map, calls the handler, answers; a
 * handler that waits (async/sleep, an http call on the worker pool, a
 * channel, a WebSocket or SSE queue) parks its task and the others go on.
 *
 * WHY SEMA CODE.  A parked native call resumes as a returned value (its C
 * frame is gone), so a handler call, the catch that turns its error into a
 * 500 and every "try, else wait for the source and try again" loop are
 * small closures compiled once per VM (PROCS_SRC below) over natives that
 * never wait themselves: the task's own frames are VM frames and may park.
 *
 * INVARIANTS.  A request is answered exactly once: by its task's answer or
 * fail, or, when its task was cancelled or lost, by the request object's
 * finalizer (500).  The non-blocking httpd calls return HTTPD_AGAIN and the
 * Sema loop parks on the source after the check, never between (async.h:
 * no lost wake-up).  Outside a parkable task (the reference evaluator, a
 * nested eval) a wait blocks in httpd_wait for at most 200 ms instead and
 * the loop re-checks, as before the scheduler. */
#include <stdlib.h>
#include <string.h>

#include "async.h"
#include "http.h"
#include "httpd.h"
#include "json.h"
#include "../compiler.h"

/* The server: C state that lives as long as its httpd server (which is
 * never stopped, so neither is freed).  Its foreign object's extra is the
 * vector [handler json/decode request-proc]. */
typedef struct {
  HttpdServer *srv;
  AsyncSource *src;
} Serve;

static const ForeignClass serve_class = {.name = "http-server"};
enum { SV_HANDLER, SV_JSON_DECODE, SV_REQUEST_PROC, SV_N };

/* ---- waiting ---- */

static void srv_drain(void *ud) { httpd_drain(ud); }

/* Park the calling task until the server has an event after which
 * READY(ARG) holds; outside a task, block at most 200 ms for an event newer
 * than TOKEN (interrupts seen). */
static void serve_block(VM *vm, Serve *sv, uint64_t token, bool (*ready)(void *), void *arg) {
  if (async_source_wait(vm, sv->src, ready, arg)) return; /* not reached: parked */
  httpd_wait(sv->srv, token, 200);
  if (vm_interrupt_requested) vm_interrupted(vm);
}

/* ---- stream and WebSocket handles (foreign objects the natives carry) ---- */

enum { WANT_SSE, WANT_WS_RECV, WANT_WS_SEND };

typedef struct {
  Serve *sv;
  void *h;        /* HttpdStream* or HttpdWs*; NULL once the handler returned */
  uint64_t token; /* httpd_wait_begin before the last attempt */
  int want;       /* what the last attempt that returned AGAIN was */
} Handle;

/* The condition a parked (wait h) needs: checked by the scheduler after
 * each event of the server.  The handle is alive: the waiting task's frames
 * hold its foreign object. */
static bool handle_ready(void *arg) {
  Handle *h = arg;
  if (!h->h) return true;
  switch (h->want) {
  case WANT_SSE: return httpd_stream_send_ready(h->h);
  case WANT_WS_RECV: return httpd_ws_recv_ready(h->h);
  default: return httpd_ws_send_ready(h->h);
  }
}

static bool has_request(void *srv) { return httpd_has_request(srv); }

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

/* extra: the handler's function (http/stream's or the :ws route's) */
static const ForeignClass stream_class = {.name = "sse-stream", .finalize = stream_finalize};
static const ForeignClass ws_class = {.name = "websocket", .finalize = ws_finalize};

static Handle *handle_arg(VM *vm, Value v) {
  if (!obj_is_foreign(v, &stream_class) && !obj_is_foreign(v, &ws_class)) err_type(vm, "websocket", v);
  return ((Foreign *)as_obj(v))->ptr;
}

#define AGAIN_KW(vm) KW(vm, "http/again")

/* (try-sse h s): one SSE event; every \n and \r is followed by a new "data: " */
static Value n_try_sse(VM *vm, int argc, Value *argv) {
  Handle *h = handle_arg(vm, argv[0]);
  arg_string(vm, argv[1]);
  if (!h->h) err_eval(vm, "SSE stream closed");
  StrBuf b;
  sb_init(&b);
  const char *s = str_data(argv[1]);
  size_t n = str_len(argv[1]);
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
  h->token = httpd_wait_begin(h->sv->srv);
  int r = httpd_stream_send(h->h, b.data, b.len);
  sb_free(&b);
  h->want = WANT_SSE;
  if (r == HTTPD_AGAIN) return AGAIN_KW(vm);
  if (r == HTTPD_CLOSED) err_eval(vm, "SSE stream closed");
  return NIL_VAL;
}

static Value n_try_ws_send(VM *vm, int argc, Value *argv) {
  Handle *h = handle_arg(vm, argv[0]);
  arg_string(vm, argv[1]);
  if (!h->h) err_eval(vm, "WebSocket closed");
  h->token = httpd_wait_begin(h->sv->srv);
  int r = httpd_ws_send(h->h, str_data(argv[1]), str_len(argv[1]));
  h->want = WANT_WS_SEND;
  if (r == HTTPD_AGAIN) return AGAIN_KW(vm);
  if (r == HTTPD_CLOSED) err_eval(vm, "WebSocket closed");
  return NIL_VAL;
}

static Value n_try_ws_recv(VM *vm, int argc, Value *argv) {
  Handle *h = handle_arg(vm, argv[0]);
  if (!h->h) return NIL_VAL;
  char *msg = NULL;
  size_t len = 0;
  h->token = httpd_wait_begin(h->sv->srv);
  int r = httpd_ws_recv(h->h, &msg, &len);
  h->want = WANT_WS_RECV;
  if (r == HTTPD_AGAIN) return AGAIN_KW(vm);
  if (r != HTTPD_OK) return NIL_VAL;
  StrBuf b;
  sb_init(&b);
  sb_add_lossy(&b, (const unsigned char *)msg, len);
  free(msg);
  return sb_to_string(vm, &b);
}

static Value n_ws_close(VM *vm, int argc, Value *argv) {
  Handle *h = handle_arg(vm, argv[0]);
  if (h->h) httpd_ws_close(h->h);
  return NIL_VAL;
}

static Value n_againp(VM *vm, int argc, Value *argv) { return bool_val(argv[0] == AGAIN_KW(vm)); }

static Value n_wait(VM *vm, int argc, Value *argv) {
  Handle *h = handle_arg(vm, argv[0]);
  serve_block(vm, h->sv, h->token, handle_ready, h);
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

/* A stream or WebSocket handle for the task to run F on (it is `k` in
 * PROCS_SRC); nil when the connection could not be set up. */
static Value make_handle(VM *vm, Serve *sv, const ForeignClass *cls, void *conn, Value f) {
  Handle *h = malloc(sizeof *h);
  if (!h) {
    if (cls == &stream_class)
      httpd_stream_end(conn);
    else
      httpd_ws_release(conn);
    return NIL_VAL;
  }
  h->sv = sv;
  h->h = conn;
  h->token = 0;
  return obj_foreign(vm, cls, h, f);
}

/* The handler's result on the wire (net.md §3.1).  For a stream or a
 * WebSocket, *k is the handle the task then runs the function on. */
static void respond_value(VM *vm, Serve *sv, HttpdRequest *r, Value res, Value *k) {
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
    if (!map_get(res, KW(vm, "__stream_handler"), &v) || !is_procedure(v))
      return respond_text(r, 500, "text/plain", "Internal Server Error", 21);
    HttpdStream *st = httpd_respond_stream(r);
    if (st) *k = make_handle(vm, sv, &stream_class, st, v);
    return;
  }
  if (marker(vm, res, "__websocket")) {
    if (!map_get(res, KW(vm, "__ws_handler"), &v) || !is_procedure(v))
      return respond_text(r, 500, "text/plain", "Internal Server Error", 21);
    HttpdWs *ws = httpd_respond_ws(r);
    if (ws) *k = make_handle(vm, sv, &ws_class, ws, v);
    return;
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

/* ---- the request's task ---- */

/* A queued request as a value; ptr is the HttpdRequest until answered,
 * extra the server's foreign object. */
static void request_finalize(Foreign *f) {
  if (f->ptr) respond_text(f->ptr, 500, "text/plain", "Internal Server Error", 21); /* its task was lost */
}

static const ForeignClass request_class = {.name = "http-request", .finalize = request_finalize};

static Foreign *request_arg(VM *vm, Value v) {
  if (!obj_is_foreign(v, &request_class)) err_type(vm, "http-request", v);
  return (Foreign *)as_obj(v);
}

static Serve *serve_of(Value svo) { return ((Foreign *)as_obj(svo))->ptr; }
static Value *serve_state(Value svo) { return vec_items(((Foreign *)as_obj(svo))->extra); }

/* (request r): the request map (:json decoded when the body is JSON) */
static Value n_request(VM *vm, int argc, Value *argv) {
  Foreign *rf = request_arg(vm, argv[0]);
  if (!rf->ptr) err_eval(vm, "http/serve: request already answered");
  bool want_json;
  Value req = http_serve_request_value(vm, rf->ptr, &want_json);
  if (want_json) {
    Value body, decoded;
    map_get(req, KW(vm, "body"), &body);
    vm_push_root(vm, req);
    if (!vm_pcall(vm, serve_state(rf->extra)[SV_JSON_DECODE], 1, &body, &decoded))
      req = map_assoc(vm, req, KW(vm, "json"), decoded);
    vm_pop_roots(vm, 1);
  }
  return req;
}

typedef struct {
  Serve *sv;
  HttpdRequest *r;
  Value res, k;
} Answer;

static void answer_protected(VM *vm, void *ud) {
  Answer *a = ud;
  respond_value(vm, a->sv, a->r, a->res, &a->k);
}

/* (answer r res): answer with the handler's result; returns the stream or
 * WebSocket handle to run, else nil.  RES being R itself: fail answered. */
static Value n_answer(VM *vm, int argc, Value *argv) {
  Foreign *rf = request_arg(vm, argv[0]);
  if (argv[1] == argv[0] || !rf->ptr) return NIL_VAL;
  HttpdRequest *r = rf->ptr;
  rf->ptr = NULL;
  Answer a = {serve_of(rf->extra), r, argv[1], NIL_VAL};
  if (vm_protect(vm, answer_protected, &a)) { /* only a failure inside the conversion (out of memory) */
    respond_text(r, 500, "text/plain", "Internal Server Error", 21);
    return NIL_VAL;
  }
  return a.k;
}

/* An interrupt caught by the task's catch still stops the server: raise it
 * again at the scheduler's next check, outside the handlers. */
static void repost_interrupt(VM *vm, Value err) {
  Value m;
  if (is_anymap(err) && anymap_get(err, KW(vm, "message"), &m) && is_string(m) && !strcmp(str_data(m), "interrupted"))
    vm_interrupt_requested = 1;
}

/* (fail r err): the handler raised: log it, answer 500 {"error": MSG} */
static Value n_fail(VM *vm, int argc, Value *argv) {
  Foreign *rf = request_arg(vm, argv[0]);
  Value err = argv[1];
  print_handler_error(vm, "http/serve handler error: ", err);
  if (rf->ptr) {
    HttpdRequest *r = rf->ptr;
    rf->ptr = NULL;
    StrBuf b;
    sb_init(&b);
    sb_adds(&b, "{\"error\":");
    json_encode_lossy(vm, &b, err_display(vm, err), false);
    sb_addc(&b, '}');
    respond_text(r, 500, "application/json", b.data, b.len);
    sb_free(&b);
  }
  repost_interrupt(vm, err);
  return argv[0];
}

static Value n_k_fn(VM *vm, int argc, Value *argv) {
  handle_arg(vm, argv[0]);
  return ((Foreign *)as_obj(argv[0]))->extra;
}

static Value n_wsp(VM *vm, int argc, Value *argv) { return bool_val(obj_is_foreign(argv[0], &ws_class)); }

/* (k-end k v): the stream or WebSocket function returned */
static Value n_k_end(VM *vm, int argc, Value *argv) {
  Handle *h = handle_arg(vm, argv[0]);
  void *c = h->h;
  h->h = NULL;
  if (c) {
    if (obj_is_foreign(argv[0], &ws_class))
      httpd_ws_release(c);
    else
      httpd_stream_end(c);
  }
  return NIL_VAL;
}

static Value n_k_fail(VM *vm, int argc, Value *argv) {
  handle_arg(vm, argv[0]);
  print_handler_error(vm, obj_is_foreign(argv[0], &ws_class) ? "ws handler error: " : "http/stream handler error: ",
                      argv[1]);
  repost_interrupt(vm, argv[1]);
  return NIL_VAL;
}

/* (accept sv): spawn a task for every queued request, then wait for the
 * next event (the accept task loops on this). */
static Value n_accept(VM *vm, int argc, Value *argv) {
  if (!obj_is_foreign(argv[0], &serve_class)) err_type(vm, "http-server", argv[0]);
  Serve *sv = serve_of(argv[0]);
  Value *st = serve_state(argv[0]);
  uint64_t t = httpd_wait_begin(sv->srv);
  HttpdRequest *r;
  while ((r = httpd_next(sv->srv))) {
    Value rf = obj_foreign(vm, &request_class, r, argv[0]);
    vm_push_root(vm, rf);
    Value args = vec_new(vm, 2);
    vec_items(args)[0] = st[SV_HANDLER];
    vec_items(args)[1] = rf;
    vm_push_root(vm, args);
    async_spawn(vm, st[SV_REQUEST_PROC], args);
    vm_pop_roots(vm, 2);
  }
  serve_block(vm, sv, t, has_request, sv->srv);
  return NIL_VAL;
}

/* The closures of the tasks (see WHY SEMA CODE above).  The natives come in
 * as parameters, so no global binding of the user's can change them. */
static const char PROCS_SRC[] =
    "(fn (request answer fail k-fn ws? k-end k-fail try-recv try-send try-sse wait again? ws-close accept)\n"
    "  (let ((ws-conn (fn (h)\n"
    "          {:recv (fn () (let loop () (let ((m (try-recv h))) (if (again? m) (begin (wait h) (loop)) m))))\n"
    "           :send (fn (s) (let loop () (let ((m (try-send h s))) (if (again? m) (begin (wait h) (loop)) m))))\n"
    "           :close (fn () (ws-close h))}))\n"
    "        (sse-send (fn (h)\n"
    "          (fn (s) (let loop () (let ((m (try-sse h s))) (if (again? m) (begin (wait h) (loop)) m)))))))\n"
    "    [(fn (handler r)\n"
    "       (let ((k (answer r (try (handler (request r)) (catch e (fail r e))))))\n"
    "         (if k (k-end k (try ((k-fn k) (if (ws? k) (ws-conn k) (sse-send k))) (catch e (k-fail k e)))))))\n"
    "     (fn (sv) (let loop () (accept sv) (loop)))]))\n";

#define PROCS_CELL " http serve procs"

static const NativeDef proc_natives[] = {
    {"http/serve/request", n_request, 1, 1, NULL},   {"http/serve/answer", n_answer, 2, 2, NULL},
    {"http/serve/fail", n_fail, 2, 2, NULL},         {"http/serve/k-fn", n_k_fn, 1, 1, NULL},
    {"http/serve/ws?", n_wsp, 1, 1, NULL},           {"http/serve/k-end", n_k_end, 2, 2, NULL},
    {"http/serve/k-fail", n_k_fail, 2, 2, NULL},     {"ws/recv", n_try_ws_recv, 1, 1, NULL},
    {"ws/send", n_try_ws_send, 2, 2, NULL},          {"http/stream/send", n_try_sse, 2, 2, NULL},
    {"http/serve/wait", n_wait, 1, 1, NULL},         {"http/serve/again?", n_againp, 1, 1, NULL},
    {"ws/close", n_ws_close, 1, 1, NULL},            {"http/serve/accept", n_accept, 1, 1, NULL},
};

/* [request-proc accept-proc], made once per VM */
static Value serve_procs(VM *vm) {
  Value c = env_get(vm, PROCS_CELL);
  if (c != UNBOUND_VAL) return c;
  uint32_t base = vm_roots_mark(vm);
  Value factory = compile_eval_string(vm, PROCS_SRC, sizeof PROCS_SRC - 1, NULL);
  vm_push_root(vm, factory);
  enum { N = sizeof proc_natives / sizeof proc_natives[0] };
  Value args = vec_new(vm, N);
  vm_push_root(vm, args);
  for (int i = 0; i < N; i++) {
    const NativeDef *d = &proc_natives[i];
    vec_items(args)[i] = obj_native(vm, d->name, d->fn, d->min_args, d->max_args);
  }
  Value procs = vm_call(vm, factory, N, vec_items(args));
  env_define(vm, PROCS_CELL, procs);
  vm_roots_reset(vm, base);
  return procs;
}

/* Under the reference evaluator (--interp) the procs are its closures,
 * which cannot park: requests are served one at a time, as net.md §3.6's
 * reference does, each wait blocking (serve_block's fallback). */
static NORETURN void serve_sequential(VM *vm, Serve *sv, Value svo) {
  Value *st = serve_state(svo);
  for (;;) {
    uint64_t t = httpd_wait_begin(sv->srv);
    HttpdRequest *r = httpd_next(sv->srv);
    if (!r) {
      serve_block(vm, sv, t, NULL, NULL);
      continue;
    }
    uint32_t base = vm_roots_mark(vm);
    Value args[2] = {st[SV_HANDLER], obj_foreign(vm, &request_class, r, svo)};
    vm_push_root(vm, args[1]);
    Value out;
    /* the proc catches the handler's errors (fail re-posts an interrupt);
     * what escapes it (an exit, an interrupt outside the handler) ends the loop */
    if (vm_pcall(vm, st[SV_REQUEST_PROC], 2, args, &out)) err_rethrow(vm);
    vm_roots_reset(vm, base);
    if (vm_interrupt_requested) vm_interrupted(vm);
  }
}

typedef struct {
  Value accept;
} Drive;

static void drive_protected(VM *vm, void *ud) { async_run_until(vm, ((Drive *)ud)->accept); }

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
  uint32_t base = vm_roots_mark(vm);
  Value procs = serve_procs(vm);
  vm_push_root(vm, procs);
  Value state = vec_new(vm, SV_N);
  vm_push_root(vm, state);
  vec_items(state)[SV_HANDLER] = argv[0];
  vec_items(state)[SV_JSON_DECODE] = env_get(vm, "json/decode");
  vec_items(state)[SV_REQUEST_PROC] = vec_items(procs)[0];
  Serve *sv = calloc(1, sizeof *sv);
  if (!sv) err_eval(vm, "out of memory");
  Value svo = obj_foreign(vm, &serve_class, sv, state);
  vm_push_root(vm, svo);
  HttpdConfig cfg = {0};
  const char *e = getenv("SEMA_HTTP_IDLE_TIMEOUT"); /* seconds; the tests shorten it */
  if (e) cfg.idle_timeout_s = atoi(e);
  char err[512];
  sv->srv = httpd_start(host, (int)port, &cfg, err, sizeof err);
  if (!sv->srv) err_io(vm, "%s", err);
  httpd_watch(sv->srv);
  sv->src = async_source_add(vm, httpd_event_fd(sv->srv), srv_drain, sv->srv);
  char line[300];
  int n = snprintf(line, sizeof line, "Listening on %s:%lld\n", host, (long long)port);
  vm_write_err(vm, line, (size_t)n);
  vm_flush(vm);
  if (!is_closure(vec_items(procs)[1])) {
    async_source_remove(vm, sv->src);
    serve_sequential(vm, sv, svo);
  }
  Value args = vec_new(vm, 1);
  vec_items(args)[0] = svo;
  vm_push_root(vm, args);
  Drive d = {async_spawn(vm, vec_items(procs)[1], args)};
  vm_push_root(vm, d.accept);
  /* In a task (a script serving on two ports, or serving and calling
   * itself), the task just waits for the accept task, as await does. */
  async_park_until(vm, d.accept);
  /* serve forever: only an interrupt (or running out of memory) ends this */
  int failed = vm_protect(vm, drive_protected, &d);
  async_cancel(vm, d.accept);
  async_source_remove(vm, sv->src);
  vm_roots_reset(vm, base);
  if (failed) err_rethrow(vm);
  return NIL_VAL;
}

static const NativeDef defs[] = {
    {"http/serve", n_serve, 1, 2,
     "(http/serve handler [opts])\nServe HTTP on opts :host (default \"0.0.0.0\") and :port (default 3000) "
     "forever, calling (handler request-map) for each request; the result is a response map {:status :headers "
     ":body}, a marker (http/file, http/stream, http/websocket) or any value (sent as text/plain). Each request "
     "runs as its own task: a handler waiting in async/sleep, an http call, a channel or a WebSocket does not hold "
     "back the others. A handler error answers 500 and the server goes on."},
    {NULL, NULL, 0, 0, NULL},
};

void lib_http_serve_init(VM *vm) { env_register(vm, defs); }
