/* llm_http.c - the HTTP providers' transport (llm.md §8.3, §8.4, §19):
 * complete calls with retries and the temperature self-heal, streams parsed
 * as they arrive, batches, embeddings and reranking, over httpc (libcurl).
 *
 * Threads.  A non-streaming call is an offloaded job (offload.h): the
 * request is turned into C memory on the interpreter thread (URL, headers,
 * body), the blocking half -- every attempt, the backoff sleeps between
 * them, the re-send without temperature -- runs without touching the heap
 * (inline today, on a worker once async tasks park), and the finish half
 * hands back the final status and body bytes; the caller decodes them on
 * the interpreter thread.  So a call inside an async task overlaps others
 * (§20), and the random backoff waits are drawn before the job starts.
 *
 * Streams run on the interpreter thread: the callback is Sema code.  httpc
 * passes the body as it arrives; complete lines are parsed and their text
 * deltas delivered at once, so nothing buffers the whole response.  The
 * payload handling and the callback run under vm_protect inside httpc's
 * data callback (never unwinding through libcurl): an error aborts the
 * transfer and is re-raised after httpc_perform returns.
 *
 * Secrets.  The API key travels only in headers.  Every error message built
 * here from something a server or libcurl said has the key's text replaced
 * by "[redacted]" (keys shorter than 4 bytes are not secrets worth the
 * mangling), and nothing here logs. */
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include "httpc.h"
#include "llm.h"
#include "offload.h"

#define DEFAULT_TIMEOUT_MS 120000
#define MAX_STREAM_LINE (64u << 20) /* one SSE / NDJSON line */
#define MAX_ERROR_BODY (1u << 20)   /* what is kept of a failed stream's body */
#define BATCH_THREADS 8

/* ---------------------------------------------------------------- settings */

static int64_t env_ms(const char *name) {
  const char *s = getenv(name);
  if (!s || !*s) return -1;
  char *end;
  long long v = strtoll(s, &end, 10);
  return *end || v <= 0 ? -1 : (int64_t)v;
}

/* §8.3: SEMA_LLM_TIMEOUT_MS, else 120 s; a per-call :timeout where honoured. */
static int64_t timeout_for(LlmKind kind, Value req) {
  if (req != NIL_VAL && kind != LK_OLLAMA && RQ(req)[RQ_TIMEOUT] != NIL_VAL) return int_of(RQ(req)[RQ_TIMEOUT]);
  int64_t t = env_ms("SEMA_LLM_TIMEOUT_MS");
  return t > 0 ? t : DEFAULT_TIMEOUT_MS;
}

/* ---------------------------------------------------------------- redaction */

static Value redact(VM *vm, Value msg, const char *key) {
  size_t kn = key ? strlen(key) : 0;
  if (kn < 4 || !memmem(str_data(msg), str_len(msg), key, kn)) return msg;
  StrBuf b;
  sb_init(&b);
  const char *p = str_data(msg), *e = p + str_len(msg);
  for (;;) {
    const char *hit = memmem(p, (size_t)(e - p), key, kn);
    if (!hit) break;
    sb_add(&b, p, (size_t)(hit - p));
    sb_adds(&b, "[redacted]");
    p = hit + kn;
  }
  sb_add(&b, p, (size_t)(e - p));
  return sb_to_string(vm, &b);
}

static NORETURN void fail(VM *vm, const char *key, Value msg) { llm_err_str(vm, redact(vm, msg, key)); }

static Value transport_message(VM *vm, const HttpcResponse *r) {
  StrBuf b;
  sb_init(&b);
  sb_adds(&b, "HTTP error: ");
  switch (r->error) {
  case HTTPC_ERR_BAD_URL: sb_adds(&b, "invalid URL"); break;
  case HTTPC_ERR_BAD_HEADER: sb_adds(&b, "invalid header (a control character in the API key?)"); break;
  case HTTPC_ERR_ABORTED: sb_adds(&b, "the request was cancelled"); break;
  default: sb_adds(&b, r->message[0] ? r->message : "the request failed"); break;
  }
  if (r->error == HTTPC_ERR_TIMEOUT && !strstr(r->message, "imed out")) sb_adds(&b, " (timed out)");
  return sb_to_string(vm, &b);
}

/* ---------------------------------------------------------------- one request in C memory */

typedef struct {
  char *url;
  char *body, *alt; /* alt: the body without temperature (self-heal), or NULL */
  size_t body_len, alt_len;
  char *hdr_text;
  HttpcHeader *hdrs;
  size_t nhdrs;
} Wire;

static void wire_free(Wire *w) {
  free(w->url);
  free(w->body);
  free(w->alt);
  free(w->hdr_text);
  free(w->hdrs);
  memset(w, 0, sizeof *w);
}

static char *take(StrBuf *b, size_t *len) {
  if (!b->data) sb_addc(b, 0), b->len = 0;
  if (len) *len = b->len;
  char *p = b->data;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

/* Headers from "name\0value\0..." text (owned by the wire afterwards). */
static void wire_headers(Wire *w, StrBuf *ht, size_t n) {
  w->hdr_text = take(ht, NULL);
  w->hdrs = calloc(n ? n : 1, sizeof *w->hdrs);
  if (!w->hdrs) abort();
  const char *p = w->hdr_text;
  for (size_t i = 0; i < n; i++) {
    w->hdrs[i].name = p;
    p += strlen(p) + 1;
    w->hdrs[i].value = p;
    p += strlen(p) + 1;
  }
  w->nhdrs = n;
}

static void wire_url(Wire *w, StrBuf *u) {
  sb_addc(u, 0);
  w->url = take(u, NULL);
}

/* A chat request for provider p (model resolved in req). */
static void wire_chat(VM *vm, const LlmProvider *p, Value req, bool stream, bool heal, Wire *w) {
  StrBuf u, ht, body;
  sb_init(&u);
  llm_wire_url(vm, p, req, stream, &u);
  wire_url(w, &u);
  sb_init(&ht);
  size_t n = llm_wire_headers(p, &ht);
  wire_headers(w, &ht, n);
  sb_init(&body);
  llm_wire_body(vm, p, req, stream, true, &body);
  w->body = take(&body, &w->body_len);
  if (heal) {
    sb_init(&body);
    llm_wire_body(vm, p, req, stream, false, &body);
    w->alt = take(&body, &w->alt_len);
  }
}

/* A POST with the Bearer key to base + path (embeddings, rerank). */
static void wire_bearer(const char *base, const char *path, const char *key, StrBuf *body, Wire *w) {
  StrBuf u, ht;
  sb_init(&u);
  sb_adds(&u, base);
  sb_adds(&u, path);
  wire_url(w, &u);
  sb_init(&ht);
  sb_adds(&ht, "Authorization");
  sb_addc(&ht, 0);
  sb_adds(&ht, "Bearer ");
  sb_adds(&ht, key);
  sb_addc(&ht, 0);
  sb_add(&ht, "Content-Type\0application/json\0", 30);
  wire_headers(w, &ht, 2);
  w->body = take(body, &w->body_len);
}

static void request_of(const Wire *w, bool alt, int64_t timeout_ms, atomic_int *cancelled, HttpcRequest *r) {
  memset(r, 0, sizeof *r);
  r->method = "POST";
  r->url = w->url;
  r->headers = w->hdrs;
  r->nheaders = w->nhdrs;
  r->body = alt ? w->alt : w->body;
  r->body_len = alt ? w->alt_len : w->body_len;
  r->has_body = true;
  r->timeout_ms = timeout_ms;
  r->cancelled = cancelled;
}

/* ---------------------------------------------------------------- the offloaded call with retries (§8.4) */

typedef struct {
  OffloadJob base;
  Wire w;
  int64_t timeout_ms;
  int retries;         /* further attempts after the first */
  int64_t waits[8];    /* the computed backoff before retry a+1 */
  int64_t fixed_wait;  /* SEMA_LLM_RETRY_DELAY_MS, or -1 */
  bool rate_kind;      /* a 429 is "Rate limited" and waits the hint */
  bool heal;           /* a 400 about the temperature re-sends w.alt once */
  char *key;           /* for redaction */
  HttpcResponse resp;
  bool healed;
} CallJob;

static void sleep_cancellable(int64_t ms, atomic_int *cancelled) {
  int64_t end = llm_mono_ms() + ms;
  for (int64_t now = llm_mono_ms(); now < end && !atomic_load(cancelled); now = llm_mono_ms())
    llm_sleep_ms(end - now < 50 ? end - now : 50);
}

/* Retry-After in seconds (a date is not honoured), as ms capped at 30 s; else 5000 (§8.4). */
static int64_t rate_wait(const HttpcResponse *r) {
  for (size_t i = 0; i < r->nheaders; i++)
    if (!strcasecmp(r->headers[i].name, "retry-after")) {
      char *end;
      long s = strtol(r->headers[i].value, &end, 10);
      if (end != r->headers[i].value && s >= 0) return s * 1000 > 30000 ? 30000 : s * 1000;
    }
  return 5000;
}

static bool transport_retryable(HttpcError e) {
  return e != HTTPC_OK && e != HTTPC_ERR_BAD_URL && e != HTTPC_ERR_BAD_HEADER && e != HTTPC_ERR_UNAVAILABLE &&
         e != HTTPC_ERR_ABORTED;
}

static void call_run(OffloadJob *j) {
  CallJob *c = (CallJob *)j;
  HttpcRequest r;
  for (int attempt = 0;; attempt++) {
    request_of(&c->w, c->healed, c->timeout_ms, &j->cancelled, &r);
    httpc_perform(&r, &c->resp);
    if (c->resp.error == HTTPC_OK && c->resp.status == 400 && c->heal && !c->healed &&
        llm_wire_temperature_refused(c->resp.body, c->resp.body_len)) {
      c->healed = true; /* re-sent at once, without temperature; not a retry */
      httpc_response_free(&c->resp);
      attempt--;
      continue;
    }
    if (attempt >= c->retries || atomic_load(&j->cancelled)) return;
    int64_t wait;
    if (c->resp.error != HTTPC_OK) {
      if (!transport_retryable(c->resp.error)) return;
      wait = c->waits[attempt];
    } else if (c->resp.status >= 500) {
      wait = c->waits[attempt];
    } else if (c->resp.status == 429 && c->rate_kind) {
      wait = rate_wait(&c->resp);
    } else {
      return; /* 200, or a 4xx that is not retried */
    }
    if (c->fixed_wait >= 0) wait = c->fixed_wait;
    httpc_response_free(&c->resp);
    sleep_cancellable(wait, &j->cancelled);
    if (atomic_load(&j->cancelled)) {
      c->resp.error = HTTPC_ERR_ABORTED;
      return;
    }
  }
}

/* [status body-bytes healed?]; a transport failure raises "HTTP error: ..." */
static Value call_finish(VM *vm, OffloadJob *j) {
  CallJob *c = (CallJob *)j;
  if (c->resp.error != HTTPC_OK) fail(vm, c->key, transport_message(vm, &c->resp));
  Value body = obj_bytevec(vm, (const uint8_t *)(c->resp.body ? c->resp.body : ""), c->resp.body_len);
  vm_push_root(vm, body);
  Value out = vec_new(vm, 3);
  vec_items(out)[0] = num_int(vm, c->resp.status);
  vec_items(out)[1] = body;
  vec_items(out)[2] = bool_val(c->healed);
  vm_pop_roots(vm, 1);
  return out;
}

static void call_destroy(OffloadJob *j) {
  CallJob *c = (CallJob *)j;
  wire_free(&c->w);
  httpc_response_free(&c->resp);
  free(c->key);
  free(c);
}

static CallJob *call_job(const char *key, int64_t timeout_ms) {
  CallJob *c = calloc(1, sizeof *c);
  if (!c) abort();
  c->base.run = call_run;
  c->base.finish = call_finish;
  c->base.destroy = call_destroy;
  c->key = llm_strdup(key);
  c->timeout_ms = timeout_ms;
  c->fixed_wait = -1;
  return c;
}

/* The full-jitter waits of §8.4, drawn on the interpreter thread. */
static void set_retries(VM *vm, CallJob *c) {
  LlmState *st = llm_state(vm);
  c->retries = st->retries < 0 ? 0 : st->retries > 8 ? 8 : st->retries;
  for (int a = 0; a < c->retries; a++) {
    int64_t cap = st->retry_base_ms << a;
    if (cap > 30000 || cap < 0) cap = 30000;
    c->waits[a] = (int64_t)math_random_below((uint64_t)cap + 1);
  }
  c->fixed_wait = env_ms("SEMA_LLM_RETRY_DELAY_MS");
  if (c->fixed_wait < 0 && getenv("SEMA_LLM_RETRY_DELAY_MS") && !strcmp(getenv("SEMA_LLM_RETRY_DELAY_MS"), "0")) c->fixed_wait = 0;
}

/* The API key for redaction, as a rooted string (popped with the caller's
 * roots): an error raised by the offloaded call must not leak a copy. */
static const char *key_rooted(VM *vm, Value *keyv, const char *api_key) {
  *keyv = api_key ? str_from_c(vm, api_key) : NIL_VAL;
  vm_push_root(vm, *keyv);
  return api_key ? str_data(*keyv) : NULL;
}

static Value body_of(Value raw, const char **p, size_t *n) {
  Value b = vec_items(raw)[1];
  Bytevec *bv = (Bytevec *)as_obj(b);
  *p = (const char *)bv->data;
  *n = bv->len;
  return b;
}

Value llm_http_complete(VM *vm, LlmProvider *p, Value req) {
  llm_wire_check(vm, p, req); /* raises before anything is allocated */
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, req);
  bool heal = llm_wire_can_heal(vm, p, req);
  LlmKind kind = p->kind;
  CallJob *c = call_job(p->api_key, timeout_for(kind, req));
  c->rate_kind = llm_wire_rate_limited_kind(kind);
  c->heal = heal;
  set_retries(vm, c);
  wire_chat(vm, p, req, false, heal, &c->w);
  Value keyv;
  const char *key = key_rooted(vm, &keyv, p->api_key);
  Value raw = offload_run(vm, &c->base); /* p may be gone after this: a Lisp callback can reconfigure */
  vm_push_root(vm, raw);
  long status = (long)int_of(vec_items(raw)[0]);
  if (vec_items(raw)[2] == TRUE_VAL) llm_wire_remember_notemp(vm, RQ(req)[RQ_MODEL]);
  const char *b;
  size_t n;
  body_of(raw, &b, &n);
  if (status != 200) {
    Value msg = redact(vm, llm_wire_status_error(vm, kind, true, status, b, n), key);
    vm_roots_reset(vm, base);
    llm_err_str(vm, msg);
  }
  Value resp = llm_wire_decode(vm, kind, RQ(req)[RQ_MODEL], b, n);
  vm_roots_reset(vm, base);
  return resp;
}

/* ---------------------------------------------------------------- streams */

typedef struct {
  VM *vm;
  const HttpcResponse *resp;
  LlmKind kind;
  LlmStreamAcc acc;
  LlmLines lines;
  LlmChunkFn fn;
  void *ud;
  int state; /* 0: before the first byte, 1: streaming, 2: collecting a whole body */
  bool json_body; /* state 2 with a 200: a complete response instead of a stream */
  StrBuf collected;
  bool done;       /* [DONE] seen */
  bool raised;     /* the error is in ROOT(err_slot) */
  bool overflow;   /* a line over MAX_STREAM_LINE */
  uint32_t err_slot;
} StreamCtx;

typedef struct {
  StreamCtx *s;
  const char *p;
  size_t n;
} Payload;

static void payload_protected(VM *vm, void *ud) {
  Payload *pl = ud;
  llm_stream_payload(vm, &pl->s->acc, pl->p, pl->n, pl->s->fn, pl->s->ud);
}

/* Between payloads nothing but rooted Values is live, so a long stream
 * collects its parsed payloads as it goes (allocation alone never does). */
static int handle(StreamCtx *s, const char *p, size_t n) {
  Payload pl = {s, p, n};
  if (vm_protect(s->vm, payload_protected, &pl)) {
    ROOT(s->vm, s->err_slot) = vm_error(s->vm);
    s->raised = true;
    return 1;
  }
  vm_safepoint(s->vm);
  return 0;
}

static int on_line(void *ud, const char *line, size_t n) {
  StreamCtx *s = ud;
  if (s->kind == LK_OLLAMA) {
    while (n && (*line == ' ' || *line == '\t')) line++, n--;
    while (n && (line[n - 1] == ' ' || line[n - 1] == '\t')) n--;
    return n ? handle(s, line, n) : 0; /* a malformed line is skipped */
  }
  const char *pl;
  size_t pn;
  switch (llm_sse_line(line, n, &pl, &pn)) {
  case 1: return handle(s, pl, pn);
  case 2: s->done = true; return 1; /* [DONE]: what follows is ignored, the transfer stops */
  default: return 0;
  }
}

static const char *header(const HttpcResponse *r, const char *name) {
  for (size_t i = 0; i < r->nheaders; i++)
    if (!strcasecmp(r->headers[i].name, name)) return r->headers[i].value;
  return NULL;
}

static int on_data(void *ud, const char *p, size_t n) {
  StreamCtx *s = ud;
  if (s->state == 0) {
    const char *ct = header(s->resp, "content-type");
    s->state = 1;
    if (s->resp->status != 200) {
      s->state = 2;
    } else if (ct && s->kind != LK_OLLAMA && !strcasestr(ct, "event-stream")) {
      s->state = 2; /* a JSON answer to a stream request is decoded whole; anything else is an error */
      s->json_body = strcasestr(ct, "json") != NULL;
    } else if (ct && s->kind == LK_OLLAMA && strcasestr(ct, "html")) {
      s->state = 2;
    }
  }
  if (s->state == 2) {
    size_t room = MAX_ERROR_BODY > s->collected.len ? MAX_ERROR_BODY - s->collected.len : 0;
    sb_add(&s->collected, p, n < room ? n : room);
    return 0;
  }
  int rc = llm_lines_feed(&s->lines, p, n, on_line, s);
  if (rc < 0) s->overflow = true;
  return rc;
}

Value llm_http_stream(VM *vm, LlmProvider *p, Value req, LlmChunkFn fn, void *ud, bool *delivered) {
  llm_wire_check(vm, p, req);
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, req);
  Wire w = {0};
  wire_chat(vm, p, req, true, false, &w);
  Value keyv;
  const char *key = key_rooted(vm, &keyv, p->api_key);
  LlmKind kind = p->kind;
  StreamCtx s = {0};
  s.vm = vm;
  s.kind = kind;
  s.fn = fn;
  s.ud = ud;
  s.lines.max = MAX_STREAM_LINE;
  s.err_slot = vm_root_slot(vm, NIL_VAL);
  sb_init(&s.collected);
  llm_stream_acc_init(&s.acc, kind);
  HttpcRequest r;
  HttpcResponse resp;
  atomic_int never = 0;
  request_of(&w, false, timeout_for(kind, NIL_VAL), &never, &r);
  r.on_data = on_data;
  r.ud = &s;
  s.resp = &resp;
  httpc_perform(&r, &resp);
  wire_free(&w);
  Value msg = NIL_VAL, out = NIL_VAL;
  if (!s.raised && resp.error == HTTPC_OK && s.state != 2) llm_lines_end(&s.lines, on_line, &s);
  *delivered = s.acc.delivered;
  if (s.raised) {
    out = UNBOUND_VAL;
  } else if (s.overflow) {
    msg = str_from_c(vm, "Parse error: a stream line longer than 64 MB");
  } else if (resp.error != HTTPC_OK && !(resp.error == HTTPC_ERR_ABORTED && s.done)) {
    msg = transport_message(vm, &resp);
  } else if (resp.status != 200) {
    msg = llm_wire_status_error(vm, kind, true, resp.status, s.collected.data ? s.collected.data : "", s.collected.len);
  } else if (s.state == 2 && !s.json_body) {
    const char *ct = header(&resp, "content-type");
    StrBuf b;
    sb_init(&b);
    sb_addf(&b, "Parse error: expected a streamed response, got Content-Type %s (response body: ", ct ? ct : "none");
    sb_add_lossy(&b, (const unsigned char *)(s.collected.data ? s.collected.data : ""), s.collected.len > 200 ? 200 : s.collected.len);
    sb_adds(&b, s.collected.len > 200 ? "...)" : ")");
    msg = sb_to_string(vm, &b);
  }
  if (msg != NIL_VAL || out == UNBOUND_VAL) {
    Value err = ROOT(vm, s.err_slot);
    httpc_response_free(&resp);
    llm_stream_acc_free(&s.acc);
    llm_lines_free(&s.lines);
    sb_free(&s.collected);
    vm_roots_reset(vm, base);
    if (out == UNBOUND_VAL) {
        err_throw(vm, err);
    }
    vm_push_root(vm, keyv); /* the strings do not move: key stays valid */
    vm_push_root(vm, msg);
    msg = redact(vm, msg, key);
    llm_err_str(vm, msg);
  }
  httpc_response_free(&resp);
  llm_lines_free(&s.lines);
  Value result;
  if (s.state == 2) { /* a complete response: its content is the one chunk */
    StrBuf c = s.collected;
    s.collected = (StrBuf){0};
    llm_stream_acc_free(&s.acc);
    /* decoding may raise: the bytes move into the heap first */
    Value bytes = obj_bytevec(vm, (const uint8_t *)(c.data ? c.data : ""), c.len);
    sb_free(&c);
    vm_push_root(vm, bytes);
    Bytevec *bv = (Bytevec *)as_obj(bytes);
    result = llm_wire_decode(vm, kind, RQ(req)[RQ_MODEL], (const char *)bv->data, bv->len);
    vm_push_root(vm, result);
    if (str_len(RQ(result)[RS_CONTENT])) {
      *delivered = true;
      fn(vm, ud, RQ(result)[RS_CONTENT]);
    }
  } else {
    sb_free(&s.collected);
    result = llm_stream_result(vm, &s.acc, RQ(req)[RQ_MODEL]);
    llm_stream_acc_free(&s.acc);
  }
  vm_roots_reset(vm, base);
  return result;
}

/* ---------------------------------------------------------------- batch (§9): concurrent, no retries */

typedef struct {
  OffloadJob base;
  Wire *w;
  size_t n;
  int64_t timeout_ms;
  HttpcResponse *resp;
  atomic_size_t next;
  char *key;
} BatchJob;

static void *batch_worker(void *ud) {
  BatchJob *b = ud;
  for (;;) {
    size_t i = atomic_fetch_add(&b->next, 1);
    if (i >= b->n) break;
    HttpcRequest r;
    request_of(&b->w[i], false, b->timeout_ms, &b->base.cancelled, &r);
    httpc_perform(&r, &b->resp[i]);
  }
  httpc_thread_cleanup();
  return NULL;
}

static void batch_run(OffloadJob *j) {
  BatchJob *b = (BatchJob *)j;
  pthread_t th[BATCH_THREADS];
  size_t nt = b->n < BATCH_THREADS ? b->n : BATCH_THREADS, started = 0;
  for (size_t i = 1; i < nt; i++)
    if (pthread_create(&th[started], NULL, batch_worker, b) == 0) started++;
  batch_worker(b); /* this thread takes its share too */
  for (size_t i = 0; i < started; i++) pthread_join(th[i], NULL);
}

/* A list with, per request, [status body] or an llm error map (transport). */
static Value batch_finish(VM *vm, OffloadJob *j) {
  BatchJob *b = (BatchJob *)j;
  ListBuilder lb;
  list_start(&lb);
  uint32_t slot = vm_root_slot(vm, EMPTY_VAL);
  for (size_t i = 0; i < b->n; i++) {
    HttpcResponse *r = &b->resp[i];
    Value item;
    if (r->error != HTTPC_OK) {
      item = err_make(vm, "llm", redact(vm, transport_message(vm, r), b->key));
    } else {
      Value body = obj_bytevec(vm, (const uint8_t *)(r->body ? r->body : ""), r->body_len);
      vm_push_root(vm, body);
      item = vec_new(vm, 3);
      vec_items(item)[0] = num_int(vm, r->status);
      vec_items(item)[1] = body;
      vec_items(item)[2] = FALSE_VAL;
      vm_pop_roots(vm, 1);
    }
    list_add(vm, &lb, item);
    ROOT(vm, slot) = lb.head;
  }
  vm_pop_roots(vm, 1);
  return lb.head;
}

static void batch_destroy(OffloadJob *j) {
  BatchJob *b = (BatchJob *)j;
  for (size_t i = 0; i < b->n; i++) {
    wire_free(&b->w[i]);
    httpc_response_free(&b->resp[i]);
  }
  free(b->w);
  free(b->resp);
  free(b->key);
  free(b);
}

typedef struct {
  LlmKind kind;
  Value model, raw, out;
  const char *key;
} DecodeOne;

static void decode_one(VM *vm, void *ud) {
  DecodeOne *d = ud;
  const char *p;
  size_t n;
  body_of(d->raw, &p, &n);
  long status = (long)int_of(vec_items(d->raw)[0]);
  if (status != 200) fail(vm, d->key, llm_wire_status_error(vm, d->kind, true, status, p, n));
  d->out = llm_wire_decode(vm, d->kind, d->model, p, n);
}

/* Responses (or error maps) in request order; reqs have their models set. */
Value llm_http_batch(VM *vm, LlmProvider *p, Value reqs) {
  size_t n = 0;
  for (Value l = reqs; is_cons(l); l = cdr(l)) n++;
  if (!n) return EMPTY_VAL;
  for (Value l = reqs; is_cons(l); l = cdr(l)) llm_wire_check(vm, p, car(l));
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, reqs);
  BatchJob *b = calloc(1, sizeof *b);
  if (!b) abort();
  b->base.run = batch_run;
  b->base.finish = batch_finish;
  b->base.destroy = batch_destroy;
  b->w = calloc(n, sizeof *b->w);
  b->resp = calloc(n, sizeof *b->resp);
  if (!b->w || !b->resp) abort();
  b->key = llm_strdup(p->api_key);
  b->timeout_ms = timeout_for(p->kind, NIL_VAL);
  atomic_init(&b->next, 0);
  LlmKind kind = p->kind;
  Value keyv;
  const char *key = key_rooted(vm, &keyv, p->api_key);
  size_t i = 0;
  for (Value l = reqs; is_cons(l); l = cdr(l), i++) wire_chat(vm, p, car(l), false, false, &b->w[i]);
  b->n = n;
  Value raws = offload_run(vm, &b->base);
  vm_push_root(vm, raws);
  ListBuilder lb;
  list_start(&lb);
  uint32_t slot = vm_root_slot(vm, EMPTY_VAL);
  Value rl = reqs;
  for (Value l = raws; is_cons(l); l = cdr(l), rl = cdr(rl)) {
    Value item = car(l);
    if (is_objtype(item, OBJ_VECTOR)) {
      DecodeOne d = {kind, RQ(car(rl))[RQ_MODEL], item, NIL_VAL, key};
      item = vm_protect(vm, decode_one, &d) ? vm_error(vm) : d.out;
    }
    list_add(vm, &lb, item);
    ROOT(vm, slot) = lb.head;
  }
  Value out = lb.head;
  vm_roots_reset(vm, base);
  return out;
}

/* ---------------------------------------------------------------- embeddings and rerank (§19.6, §19.7) */

static Value post_once(VM *vm, const char *base_url, const char *path, const char *key, StrBuf *body, const char **p, size_t *n) {
  CallJob *c = call_job(key, timeout_for(LK_EMBED, NIL_VAL));
  wire_bearer(base_url, path, key, body, &c->w);
  Value raw = offload_run(vm, &c->base);
  vm_push_root(vm, raw);
  body_of(raw, p, n);
  long status = (long)int_of(vec_items(raw)[0]);
  if (status != 200) fail(vm, key, llm_wire_status_error(vm, LK_EMBED, false, status, *p, *n));
  vm_pop_roots(vm, 1);
  return raw;
}

/* The vectors as a list of lists of numbers; *resp_model and *tokens set. */
Value llm_http_embed(VM *vm, LlmProvider *p, Value texts, Value model, Value *resp_model, int64_t *tokens) {
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, texts);
  Value m = model;
  if (m == NIL_VAL) m = str_from_c(vm, p->embed_model ? p->embed_model : "text-embedding-3-small");
  vm_push_root(vm, m);
  StrBuf body;
  sb_init(&body);
  llm_wire_embed_body(vm, p->embed, texts, m, &body);
  const char *b;
  size_t n;
  const char *eb = p->embed_base ? p->embed_base : p->base_url;
  Value raw = post_once(vm, eb, p->embed == LE_COHERE ? "/embed" : "/embeddings", p->api_key, &body, &b, &n);
  vm_push_root(vm, raw);
  *resp_model = m;
  *tokens = 0;
  Value vectors = llm_wire_embed_decode(vm, p->embed, b, n, resp_model, tokens);
  vm_roots_reset(vm, base);
  return vectors;
}

Value llm_http_rerank(VM *vm, LlmProvider *p, Value query, Value docs, Value model, int64_t top_k) {
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, query);
  vm_push_root(vm, docs);
  Value m = model != NIL_VAL ? model
            : str_from_c(vm, p->rerank == LR_VOYAGE   ? "rerank-2.5"
                             : p->rerank == LR_COHERE ? "rerank-v3.5"
                                                      : "jina-reranker-v2-base-multilingual");
  vm_push_root(vm, m);
  StrBuf body;
  sb_init(&body);
  llm_wire_rerank_body(vm, p->rerank, query, docs, m, top_k, &body);
  const char *b;
  size_t n;
  Value raw = post_once(vm, p->rerank_base ? p->rerank_base : p->base_url, "/rerank", p->api_key, &body, &b, &n);
  vm_push_root(vm, raw);
  Value out = llm_wire_rerank_decode(vm, p->rerank, b, n, docs);
  vm_roots_reset(vm, base);
  return out;
}
