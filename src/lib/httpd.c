/* httpd.c - the C-level HTTP server (see httpd.h) on libmicrohttpd (MHD)
 * and wslay, both loaded with dlopen on the first http/serve.
 *
 * Why dlopen: libmicrohttpd is linked against GnuTLS, which brings a dozen
 * shared objects (p11-kit, gmp, idn2, unistring, tasn1, ...) whose loading
 * every `sema` start would pay (docs/design.md, "HTTP").
 *
 * A request's life, on MHD's threads:
 *   uri_log         (first sight of a request) allocates the Priv and keeps
 *                   the raw request target: MHD's own `url` is decoded and
 *                   loses the query, which net.md §3.1 wants raw.
 *   on_access #1    headers are in: copy method and headers; a declared
 *                   body over the limit is answered 413 at once.
 *   on_access #2..  body chunks (413 when they pass the limit).
 *   on_access last  suspend the connection, then queue the request: the
 *                   interpreter owns it from here.
 *   httpd_respond*  (interpreter thread) builds the MHD response, stores it
 *                   and resumes the connection.
 *   on_access       (resumed) queues the stored response.
 *   on_completed    frees the Priv.
 * Suspending before queueing matters: a resume that came before the suspend
 * would be lost.
 *
 * SSE: the response is a content-reader callback over the stream's event
 * queue; when the queue is empty the reader suspends the connection and
 * returns 0, and the next send resumes it (both under the stream's mutex, so
 * a send can never slip between the reader's check and its suspend).
 *
 * WebSocket: after the 101, MHD hands over the socket; one thread per
 * connection runs wslay on it, polling the socket and an eventfd by which
 * the interpreter signals queued frames or a close.
 */
#include "digest.h"
#include "encoding.h"
#include "httpd.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <wslay/wslay.h>

/* ================================================================ loading */

static struct {
  struct MHD_Daemon *(*start_daemon)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
                                     MHD_AccessHandlerCallback, void *, ...);
  int (*get_connection_values)(struct MHD_Connection *, enum MHD_ValueKind, MHD_KeyValueIterator, void *);
  enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
  void (*suspend_connection)(struct MHD_Connection *);
  void (*resume_connection)(struct MHD_Connection *);
  struct MHD_Response *(*create_from_buffer)(size_t, void *, enum MHD_ResponseMemoryMode);
  struct MHD_Response *(*create_from_callback)(uint64_t, size_t, MHD_ContentReaderCallback, void *,
                                               MHD_ContentReaderFreeCallback);
  struct MHD_Response *(*create_from_fd64)(uint64_t, int);
  struct MHD_Response *(*create_for_upgrade)(MHD_UpgradeHandler, void *);
  void (*destroy_response)(struct MHD_Response *);
  enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
  enum MHD_Result (*upgrade_action)(struct MHD_UpgradeResponseHandle *, enum MHD_UpgradeAction, ...);
} M;

static struct {
  int (*server_init)(wslay_event_context_ptr *, const struct wslay_event_callbacks *, void *);
  void (*context_free)(wslay_event_context_ptr);
  void (*set_max_recv)(wslay_event_context_ptr, uint64_t);
  int (*recv)(wslay_event_context_ptr);
  int (*send)(wslay_event_context_ptr);
  int (*want_read)(wslay_event_context_ptr);
  int (*want_write)(wslay_event_context_ptr);
  int (*queue_msg)(wslay_event_context_ptr, const struct wslay_event_msg *);
  int (*queue_close)(wslay_event_context_ptr, uint16_t, const uint8_t *, size_t);
  void (*set_error)(wslay_event_context_ptr, int);
  size_t (*queued_count)(wslay_event_context_ptr);
  int (*get_close_sent)(wslay_event_context_ptr);
} W;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const char *load_error; /* NULL once both libraries are in */

static void load_libs(void) {
  void *h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    load_error = "libmicrohttpd (libmicrohttpd.so.12) could not be loaded";
    return;
  }
#define SYM(tab, field, name)                                              \
  do {                                                                     \
    *(void **)&tab.field = dlsym(h, name);                                 \
    if (!tab.field) {                                                      \
      load_error = "a function is missing from libmicrohttpd or libwslay"; \
      return;                                                              \
    }                                                                      \
  } while (0)
  SYM(M, start_daemon, "MHD_start_daemon");
  SYM(M, get_connection_values, "MHD_get_connection_values");
  SYM(M, queue_response, "MHD_queue_response");
  SYM(M, suspend_connection, "MHD_suspend_connection");
  SYM(M, resume_connection, "MHD_resume_connection");
  SYM(M, create_from_buffer, "MHD_create_response_from_buffer");
  SYM(M, create_from_callback, "MHD_create_response_from_callback");
  SYM(M, create_from_fd64, "MHD_create_response_from_fd64");
  SYM(M, create_for_upgrade, "MHD_create_response_for_upgrade");
  SYM(M, destroy_response, "MHD_destroy_response");
  SYM(M, add_response_header, "MHD_add_response_header");
  SYM(M, upgrade_action, "MHD_upgrade_action");
  h = dlopen("libwslay.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    load_error = "libwslay (libwslay.so.1) could not be loaded";
    return;
  }
  SYM(W, server_init, "wslay_event_context_server_init");
  SYM(W, context_free, "wslay_event_context_free");
  SYM(W, set_max_recv, "wslay_event_config_set_max_recv_msg_length");
  SYM(W, recv, "wslay_event_recv");
  SYM(W, send, "wslay_event_send");
  SYM(W, want_read, "wslay_event_want_read");
  SYM(W, want_write, "wslay_event_want_write");
  SYM(W, queue_msg, "wslay_event_queue_msg");
  SYM(W, queue_close, "wslay_event_queue_close");
  SYM(W, set_error, "wslay_event_set_error");
  SYM(W, queued_count, "wslay_event_get_queued_msg_count");
  SYM(W, get_close_sent, "wslay_event_get_close_sent");
#undef SYM
}

/* ================================================================ server, events */

typedef struct HttpdPriv Priv;

struct HttpdServer {
  struct MHD_Daemon *daemon;
  int efd;
  atomic_uint_fast64_t gen; /* bumped by every event */
  atomic_int waiters;
  pthread_mutex_t mu; /* the request queue */
  Priv *head, *tail;
};

enum { ST_NEW, ST_BODY, ST_QUEUED, ST_DONE };

struct HttpdPriv {
  HttpdRequest pub;
  HttpdServer *srv;
  struct MHD_Connection *conn;
  int state;
  bool too_large, orphaned;
  uint64_t discarded; /* body bytes dropped after the limit was passed */
  char *body;
  size_t cap;
  struct MHD_Response *resp;
  unsigned status;
  HttpdWs *ws; /* an upgrade answered, until the upgrade handler runs */
  Priv *next;
};

/* Dekker-style: an event bumps gen, then writes the eventfd only if someone
 * waits; a waiter counts itself, then re-reads gen.  With sequentially
 * consistent atomics one of the two always sees the other. */
static void srv_signal(HttpdServer *s) {
  atomic_fetch_add(&s->gen, 1);
  if (atomic_load(&s->waiters) > 0) {
    uint64_t one = 1;
    ssize_t w = write(s->efd, &one, sizeof one);
    (void)w;
  }
}

int httpd_event_fd(HttpdServer *s) { return s->efd; }

uint64_t httpd_wait_begin(HttpdServer *s) { return atomic_load(&s->gen); }

void httpd_wait(HttpdServer *s, uint64_t token, int timeout_ms) {
  atomic_fetch_add(&s->waiters, 1);
  if (atomic_load(&s->gen) == token) {
    struct pollfd pfd = {.fd = s->efd, .events = POLLIN};
    poll(&pfd, 1, timeout_ms);
    uint64_t v;
    ssize_t r = read(s->efd, &v, sizeof v); /* non-blocking: drains */
    (void)r;
  }
  atomic_fetch_sub(&s->waiters, 1);
}

HttpdRequest *httpd_next(HttpdServer *s) {
  pthread_mutex_lock(&s->mu);
  Priv *p = s->head;
  if (p) {
    s->head = p->next;
    if (!s->head) s->tail = NULL;
    p->next = NULL;
  }
  pthread_mutex_unlock(&s->mu);
  return p ? &p->pub : NULL;
}

static void enqueue(HttpdServer *s, Priv *p) {
  pthread_mutex_lock(&s->mu);
  if (s->tail)
    s->tail->next = p;
  else
    s->head = p;
  s->tail = p;
  pthread_mutex_unlock(&s->mu);
  srv_signal(s);
}

static void priv_free(Priv *p) {
  free((void *)p->pub.method);
  free((void *)p->pub.target);
  for (size_t i = 0; i < p->pub.nheaders; i++) {
    free(p->pub.headers[i].name);
    free(p->pub.headers[i].value);
  }
  free(p->pub.headers);
  free(p->body);
  if (p->resp) M.destroy_response(p->resp);
  free(p);
}

/* ================================================================ MHD callbacks */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  Priv *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->srv = cls;
  p->conn = conn;
  p->pub.priv = p;
  p->pub.target = strdup(uri ? uri : "/");
  if (!p->pub.target) {
    free(p);
    return NULL;
  }
  return p;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  Priv *p = cls;
  HttpdHeader *nh = realloc(p->pub.headers, (p->pub.nheaders + 1) * sizeof *nh);
  if (!nh) return MHD_NO;
  p->pub.headers = nh;
  char *n = strdup(key), *v = strdup(value ? value : "");
  if (!n || !v) {
    free(n);
    free(v);
    return MHD_NO;
  }
  for (char *c = n; *c; c++)
    if (*c >= 'A' && *c <= 'Z') *c += 32;
  nh[p->pub.nheaders].name = n;
  nh[p->pub.nheaders].value = v;
  p->pub.nheaders++;
  return MHD_YES;
}

static const char *req_header(const HttpdRequest *r, const char *name) {
  const char *v = NULL;
  for (size_t i = 0; i < r->nheaders; i++)
    if (!strcmp(r->headers[i].name, name)) v = r->headers[i].value;
  return v;
}

/* does the comma-separated list V contain TOKEN (case-insensitively)? */
static bool has_token(const char *v, const char *token) {
  size_t tl = strlen(token);
  while (v && *v) {
    while (*v == ' ' || *v == '\t' || *v == ',') v++;
    const char *e = v;
    while (*e && *e != ',') e++;
    const char *te = e;
    while (te > v && (te[-1] == ' ' || te[-1] == '\t')) te--;
    if ((size_t)(te - v) == tl && !strncasecmp(v, token, tl)) return true;
    v = e;
  }
  return false;
}

bool httpd_is_ws_upgrade(const HttpdRequest *r) {
  const char *key = req_header(r, "sec-websocket-key");
  const char *ver = req_header(r, "sec-websocket-version");
  return r->method && !strcmp(r->method, "GET") && has_token(req_header(r, "connection"), "upgrade") &&
         has_token(req_header(r, "upgrade"), "websocket") && ver && !strcmp(ver, "13") && key && *key;
}

static struct MHD_Response *text_response(const char *body) {
  struct MHD_Response *r = M.create_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
  if (r) M.add_response_header(r, "content-type", "text/plain");
  return r;
}

static enum MHD_Result answer_static(struct MHD_Connection *c, unsigned status, const char *body) {
  struct MHD_Response *r = text_response(body);
  if (!r) return MHD_NO;
  enum MHD_Result ret = M.queue_response(c, status, r);
  M.destroy_response(r);
  return ret;
}

static const char TOO_LARGE[] = "Request body too large or unreadable (max 16777216 bytes)";

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size, void **con_cls) {
  (void)url, (void)version;
  HttpdServer *s = cls;
  Priv *p = *con_cls;
  if (!p) return MHD_NO; /* out of memory in on_uri */
  switch (p->state) {
  case ST_NEW: {
    p->conn = conn;
    p->pub.method = strdup(method);
    if (!p->pub.method) return MHD_NO;
    M.get_connection_values(conn, MHD_HEADER_KIND, collect_header, p);
    const char *cl = req_header(&p->pub, "content-length");
    if (cl && strtoull(cl, NULL, 10) > HTTPD_MAX_BODY) {
      p->state = ST_DONE;
      return answer_static(conn, 413, TOO_LARGE);
    }
    p->pub.ws_upgrade = httpd_is_ws_upgrade(&p->pub);
    p->state = ST_BODY;
    return MHD_YES;
  }
  case ST_BODY:
    if (*upload_size) {
      size_t n = *upload_size;
      *upload_size = 0;
      /* MHD can only answer once the body is in: an oversized body is read
       * and dropped up to 4 times the limit, then the connection is cut */
      if (p->too_large || p->pub.body_len + n > HTTPD_MAX_BODY) {
        p->too_large = true;
        p->discarded += n;
        return p->discarded > 4 * (uint64_t)HTTPD_MAX_BODY ? MHD_NO : MHD_YES;
      }
      if (p->pub.body_len + n + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 1024;
        while (cap < p->pub.body_len + n + 1) cap *= 2;
        char *nb = realloc(p->body, cap);
        if (!nb) return MHD_NO;
        p->body = nb;
        p->cap = cap;
      }
      memcpy(p->body + p->pub.body_len, upload, n);
      p->pub.body_len += n;
      return MHD_YES;
    }
    if (p->too_large) {
      p->state = ST_DONE;
      return answer_static(conn, 413, TOO_LARGE);
    }
    if (!p->body && !(p->body = calloc(1, 1))) return MHD_NO;
    p->body[p->pub.body_len] = 0;
    p->pub.body = p->body;
    p->state = ST_QUEUED;
    M.suspend_connection(conn);
    enqueue(s, p);
    return MHD_YES;
  case ST_QUEUED:
    if (p->resp) {
      enum MHD_Result ret = M.queue_response(conn, p->status, p->resp);
      M.destroy_response(p->resp);
      p->resp = NULL;
      p->state = ST_DONE;
      return ret;
    }
    M.suspend_connection(conn); /* a wakeup without an answer: wait again */
    return MHD_YES;
  default: return MHD_NO;
  }
}

static void ws_unref(HttpdWs *ws);
static void ws_upgrade_failed(HttpdWs *ws);

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
  (void)conn, (void)toe;
  HttpdServer *s = cls;
  Priv *p = *con_cls;
  if (!p) return;
  *con_cls = NULL;
  if (p->ws) { /* answered with a 101 that was never carried out */
    ws_upgrade_failed(p->ws);
    p->ws = NULL;
  }
  pthread_mutex_lock(&s->mu);
  bool owned_by_interp = p->state == ST_QUEUED && !p->resp;
  if (owned_by_interp) p->orphaned = true;
  pthread_mutex_unlock(&s->mu);
  if (!owned_by_interp) priv_free(p);
}

/* ================================================================ start */

HttpdServer *httpd_start(const char *host, int port, const HttpdConfig *cfg, char *err, size_t errlen) {
  pthread_once(&load_once, load_libs);
  if (load_error) {
    snprintf(err, errlen, "%s", load_error);
    return NULL;
  }
  char ports[16];
  snprintf(ports, sizeof ports, "%d", port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
  int g = getaddrinfo(host, ports, &hints, &ai);
  if (g) {
    snprintf(err, errlen, "bind %s:%d: %s", host, port, gai_strerror(g));
    return NULL;
  }
  int fd = -1, e = 0;
  for (struct addrinfo *a = ai; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      e = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 1024) == 0) break;
    e = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(ai);
  if (fd < 0) {
    snprintf(err, errlen, "bind %s:%d: %s (os error %d)", host, port, strerror(e), e);
    return NULL;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  HttpdServer *s = calloc(1, sizeof *s);
  s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  pthread_mutex_init(&s->mu, NULL);
  unsigned threads = cfg && cfg->threads > 0 ? (unsigned)cfg->threads : 2;
  unsigned timeout = cfg && cfg->idle_timeout_s > 0 ? (unsigned)cfg->idle_timeout_s : 30;
  size_t mem = cfg && cfg->header_limit ? cfg->header_limit : 64 * 1024;
  s->daemon = M.start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE, 0, NULL,
                             NULL, on_access, s, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
                             MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
                             MHD_OPTION_CONNECTION_LIMIT, 10000u, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
  if (!s->daemon) {
    snprintf(err, errlen, "bind %s:%d: the HTTP server could not start", host, port);
    close(fd);
    close(s->efd);
    free(s);
    return NULL;
  }
  return s;
}

/* ================================================================ answers */

/* Store the response and wake the connection; the request is MHD's again. */
static void hand_back(Priv *p, unsigned status, struct MHD_Response *resp) {
  HttpdServer *s = p->srv;
  pthread_mutex_lock(&s->mu);
  bool orphaned = p->orphaned;
  if (!orphaned) {
    p->status = status;
    p->resp = resp;
  }
  pthread_mutex_unlock(&s->mu);
  if (orphaned) {
    if (resp) M.destroy_response(resp);
    priv_free(p);
    return;
  }
  if (!resp) { /* out of memory: MHD closes the connection */
    p->resp = NULL;
    p->state = ST_DONE;
  }
  M.resume_connection(p->conn);
}

static void add_headers(struct MHD_Response *r, const HttpdHeader *h, size_t n) {
  char lower[256];
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(h[i].name);
    if (!l || l >= sizeof lower) continue;
    bool ok = true;
    for (size_t j = 0; j < l; j++) {
      unsigned char c = (unsigned char)h[i].name[j];
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c))) {
        ok = false;
        break;
      }
      lower[j] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    lower[l] = 0;
    for (const unsigned char *v = (const unsigned char *)h[i].value; ok && *v; v++)
      if ((*v < 0x20 && *v != '\t') || *v == 0x7f) ok = false;
    if (ok) M.add_response_header(r, lower, h[i].value); /* MHD refuses what it manages itself (content-length) */
  }
}

void httpd_respond(HttpdRequest *req, unsigned status, const HttpdHeader *headers, size_t nheaders, const char *body,
                   size_t body_len) {
  Priv *p = req->priv;
  if (status == 204 || status == 304 || (status >= 100 && status < 200)) body_len = 0;
  struct MHD_Response *r = M.create_from_buffer(body_len, (void *)(body_len ? body : ""), MHD_RESPMEM_MUST_COPY);
  if (r) add_headers(r, headers, nheaders);
  hand_back(p, status, r);
}

void httpd_respond_file(HttpdRequest *req, const char *path, const char *ct) {
  Priv *p = req->priv;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) close(fd);
    hand_back(p, 404, text_response("Not Found"));
    return;
  }
  struct MHD_Response *r = M.create_from_fd64((uint64_t)st.st_size, fd); /* MHD closes fd */
  if (!r) {
    close(fd);
  } else {
    M.add_response_header(r, "content-type", ct && *ct ? ct : "application/octet-stream");
    M.add_response_header(r, "cache-control", "public, max-age=3600");
  }
  hand_back(p, 200, r);
}

/* ================================================================ SSE */

typedef struct Chunk {
  struct Chunk *next;
  size_t len, off;
  char data[];
} Chunk;

struct HttpdStream {
  pthread_mutex_t mu;
  HttpdServer *srv;
  struct MHD_Connection *conn;
  Chunk *head, *tail;
  int count;
  bool suspended, ended, closed;
  int refs;
};

static void stream_unref_locked(HttpdStream *st) { /* unlocks */
  bool last = --st->refs == 0;
  pthread_mutex_unlock(&st->mu);
  if (last) {
    for (Chunk *c = st->head, *n; c; c = n) {
      n = c->next;
      free(c);
    }
    pthread_mutex_destroy(&st->mu);
    free(st);
  }
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  HttpdStream *st = cls;
  pthread_mutex_lock(&st->mu);
  size_t n = 0;
  bool freed = false;
  while (st->head && n < max) {
    Chunk *c = st->head;
    size_t k = c->len - c->off;
    if (k > max - n) k = max - n;
    memcpy(buf + n, c->data + c->off, k);
    c->off += k;
    n += k;
    if (c->off == c->len) {
      st->head = c->next;
      if (!st->head) st->tail = NULL;
      free(c);
      st->count--;
      freed = true;
    }
  }
  ssize_t ret;
  if (n)
    ret = (ssize_t)n;
  else if (st->ended)
    ret = MHD_CONTENT_READER_END_OF_STREAM;
  else {
    st->suspended = true;
    M.suspend_connection(st->conn);
    ret = 0;
  }
  pthread_mutex_unlock(&st->mu);
  if (freed) srv_signal(st->srv); /* a sender may wait for room */
  return ret;
}

static void stream_free(void *cls) { /* MHD is done with the response: the client is gone or the stream ended */
  HttpdStream *st = cls;
  pthread_mutex_lock(&st->mu);
  st->closed = true;
  HttpdServer *s = st->srv;
  stream_unref_locked(st);
  srv_signal(s);
}

HttpdStream *httpd_respond_stream(HttpdRequest *req) {
  Priv *p = req->priv;
  HttpdStream *st = calloc(1, sizeof *st);
  if (!st) {
    hand_back(p, 500, NULL);
    return NULL;
  }
  pthread_mutex_init(&st->mu, NULL);
  st->srv = p->srv;
  st->conn = p->conn;
  st->refs = 2;
  struct MHD_Response *r = M.create_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, st, stream_free);
  if (!r) {
    st->refs = 1;
    st->closed = true;
  } else {
    M.add_response_header(r, "content-type", "text/event-stream");
    M.add_response_header(r, "cache-control", "no-cache");
  }
  hand_back(p, 200, r);
  return st;
}

int httpd_stream_send(HttpdStream *st, const char *data, size_t len) {
  pthread_mutex_lock(&st->mu);
  if (st->closed) {
    pthread_mutex_unlock(&st->mu);
    return HTTPD_CLOSED;
  }
  if (st->count >= HTTPD_QUEUE_MAX) {
    pthread_mutex_unlock(&st->mu);
    return HTTPD_AGAIN;
  }
  Chunk *c = malloc(sizeof *c + len);
  if (!c) {
    pthread_mutex_unlock(&st->mu);
    return HTTPD_CLOSED;
  }
  c->next = NULL;
  c->len = len;
  c->off = 0;
  memcpy(c->data, data, len);
  if (st->tail)
    st->tail->next = c;
  else
    st->head = c;
  st->tail = c;
  st->count++;
  if (st->suspended) {
    st->suspended = false;
    M.resume_connection(st->conn);
  }
  pthread_mutex_unlock(&st->mu);
  return HTTPD_OK;
}

void httpd_stream_end(HttpdStream *st) {
  if (!st) return;
  pthread_mutex_lock(&st->mu);
  st->ended = true;
  if (st->suspended && !st->closed) {
    st->suspended = false;
    M.resume_connection(st->conn);
  }
  stream_unref_locked(st);
}

/* ================================================================ WebSocket */

typedef struct Msg {
  struct Msg *next;
  size_t len;
  char data[];
} Msg;

typedef struct {
  Msg *head, *tail;
  int count;
} MsgQ;

struct HttpdWs {
  pthread_mutex_t mu;
  HttpdServer *srv;
  int refs;
  int ctl;      /* eventfd: wakes the I/O thread */
  MsgQ in, out;
  bool close_req; /* the handler asked to close (or returned) */
  bool peer_closed, closed, upgraded;
  /* I/O thread only */
  int sock;
  struct MHD_UpgradeResponseHandle *urh;
  char *extra;
  size_t extra_len, extra_off;
  wslay_event_context_ptr ctx;
};

#define WS_IN_MAX 1024 /* received messages waiting for recv; beyond it the socket is not read */

static void q_push(MsgQ *q, Msg *m) {
  m->next = NULL;
  if (q->tail)
    q->tail->next = m;
  else
    q->head = m;
  q->tail = m;
  q->count++;
}

static Msg *q_pop(MsgQ *q) {
  Msg *m = q->head;
  if (m) {
    q->head = m->next;
    if (!q->head) q->tail = NULL;
    q->count--;
  }
  return m;
}

static void q_free(MsgQ *q) {
  Msg *m;
  while ((m = q_pop(q))) free(m);
}

static void ws_poke(HttpdWs *ws) {
  uint64_t one = 1;
  ssize_t w = write(ws->ctl, &one, sizeof one);
  (void)w;
}

static void ws_unref(HttpdWs *ws) {
  pthread_mutex_lock(&ws->mu);
  bool last = --ws->refs == 0;
  pthread_mutex_unlock(&ws->mu);
  if (!last) return;
  q_free(&ws->in);
  q_free(&ws->out);
  if (ws->ctl >= 0) close(ws->ctl);
  free(ws->extra);
  pthread_mutex_destroy(&ws->mu);
  free(ws);
}

static void ws_mark_closed(HttpdWs *ws) {
  pthread_mutex_lock(&ws->mu);
  ws->closed = true;
  pthread_mutex_unlock(&ws->mu);
  srv_signal(ws->srv);
}

static void ws_upgrade_failed(HttpdWs *ws) {
  pthread_mutex_lock(&ws->mu);
  bool started = ws->upgraded;
  pthread_mutex_unlock(&ws->mu);
  if (started) return;
  ws_mark_closed(ws);
  ws_unref(ws); /* the I/O side's reference */
}

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud) {
  (void)flags;
  HttpdWs *ws = ud;
  if (ws->extra_off < ws->extra_len) {
    size_t k = ws->extra_len - ws->extra_off;
    if (k > len) k = len;
    memcpy(buf, ws->extra + ws->extra_off, k);
    ws->extra_off += k;
    return (ssize_t)k;
  }
  ssize_t r = recv(ws->sock, buf, len, 0);
  if (r > 0) return r;
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    W.set_error(ctx, WSLAY_ERR_WOULDBLOCK);
  else
    W.set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
  return -1;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *ud) {
  (void)flags;
  HttpdWs *ws = ud;
  ssize_t r = send(ws->sock, data, len, MSG_NOSIGNAL);
  if (r >= 0) return r;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
    W.set_error(ctx, WSLAY_ERR_WOULDBLOCK);
  else
    W.set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
  return -1;
}

static void ws_on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *ud) {
  (void)ctx;
  HttpdWs *ws = ud;
  if (arg->opcode == WSLAY_TEXT_FRAME) {
    Msg *m = malloc(sizeof *m + arg->msg_length + 1);
    if (!m) return;
    m->len = arg->msg_length;
    memcpy(m->data, arg->msg, arg->msg_length);
    m->data[m->len] = 0;
    pthread_mutex_lock(&ws->mu);
    q_push(&ws->in, m);
    pthread_mutex_unlock(&ws->mu);
    srv_signal(ws->srv);
  } else if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
    pthread_mutex_lock(&ws->mu);
    ws->peer_closed = true;
    pthread_mutex_unlock(&ws->mu);
    srv_signal(ws->srv);
  }
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *ws_thread(void *arg) {
  HttpdWs *ws = arg;
  struct wslay_event_callbacks cb = {ws_recv_cb, ws_send_cb, NULL, NULL, NULL, NULL, ws_on_msg};
  int fl = fcntl(ws->sock, F_GETFL);
  fcntl(ws->sock, F_SETFL, fl | O_NONBLOCK);
  int one = 1;
  setsockopt(ws->sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (W.server_init(&ws->ctx, &cb, ws) == 0) {
    W.set_max_recv(ws->ctx, HTTPD_MAX_BODY);
    bool close_queued = false;
    int64_t close_deadline = -1;
    if (ws->extra_len && W.recv(ws->ctx) != 0) goto done;
    for (;;) {
      pthread_mutex_lock(&ws->mu);
      while (ws->out.head && W.queued_count(ws->ctx) < 16) {
        Msg *m = q_pop(&ws->out);
        struct wslay_event_msg wm = {WSLAY_TEXT_FRAME, (const uint8_t *)m->data, m->len};
        W.queue_msg(ws->ctx, &wm); /* copies the data */
        free(m);
      }
      bool room = ws->out.count < HTTPD_QUEUE_MAX;
      /* wslay sends control frames before queued data: close only once
       * every data frame is out */
      bool want_close = ws->close_req && !ws->out.head && !close_queued && W.queued_count(ws->ctx) == 0;
      bool in_full = ws->in.count >= WS_IN_MAX;
      pthread_mutex_unlock(&ws->mu);
      if (room) srv_signal(ws->srv);
      if (want_close) {
        W.queue_close(ws->ctx, 0, NULL, 0);
        close_queued = true;
      }
      if (W.get_close_sent(ws->ctx) && close_deadline < 0) close_deadline = mono_ms() + 2000;
      bool wr = W.want_read(ws->ctx), ww = W.want_write(ws->ctx);
      if (!wr && !ww) break;
      int timeout = -1;
      if (close_deadline >= 0) {
        int64_t left = close_deadline - mono_ms();
        if (left <= 0) break; /* the peer never answered our Close */
        timeout = (int)left;
      }
      struct pollfd pf[2] = {{.fd = ws->sock, .events = (short)((wr && !in_full ? POLLIN : 0) | (ww ? POLLOUT : 0))},
                             {.fd = ws->ctl, .events = POLLIN}};
      int n = poll(pf, 2, timeout);
      if (n < 0 && errno != EINTR) break;
      if (pf[1].revents & POLLIN) {
        uint64_t v;
        ssize_t r = read(ws->ctl, &v, sizeof v);
        (void)r;
      }
      if (pf[0].revents & (POLLERR | POLLHUP | POLLNVAL) && !(pf[0].revents & POLLIN)) break;
      if ((pf[0].revents & POLLIN) && W.recv(ws->ctx) != 0) break;
      if ((pf[0].revents & POLLOUT) && W.send(ws->ctx) != 0) break;
    }
  done:
    W.context_free(ws->ctx);
  }
  ws_mark_closed(ws);
  M.upgrade_action(ws->urh, MHD_UPGRADE_ACTION_CLOSE);
  ws_unref(ws);
  return NULL;
}

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in, size_t extra_size,
                       MHD_socket sock, struct MHD_UpgradeResponseHandle *urh) {
  (void)conn;
  HttpdWs *ws = cls;
  Priv *p = con_cls;
  if (p && p->ws == ws) p->ws = NULL; /* on_completed must not count it as failed */
  ws->sock = sock;
  ws->urh = urh;
  if (extra_size) {
    ws->extra = malloc(extra_size);
    if (ws->extra) {
      memcpy(ws->extra, extra_in, extra_size);
      ws->extra_len = extra_size;
    }
  }
  pthread_mutex_lock(&ws->mu);
  ws->upgraded = true;
  pthread_mutex_unlock(&ws->mu);
  pthread_t t;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&at, 256 * 1024);
  if (pthread_create(&t, &at, ws_thread, ws) != 0) {
    ws_mark_closed(ws);
    M.upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
    ws_unref(ws);
  }
  pthread_attr_destroy(&at);
}

static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

HttpdWs *httpd_respond_ws(HttpdRequest *req) {
  Priv *p = req->priv;
  HttpdWs *ws = calloc(1, sizeof *ws);
  if (!ws) {
    hand_back(p, 500, NULL);
    return NULL;
  }
  pthread_mutex_init(&ws->mu, NULL);
  ws->srv = p->srv;
  ws->sock = -1;
  ws->refs = 1;
  ws->ctl = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (!req->ws_upgrade || ws->ctl < 0) {
    ws->closed = true;
    hand_back(p, 400, text_response("WebSocket upgrade required"));
    return ws;
  }
  const char *key = req_header(req, "sec-websocket-key");
  uint8_t dig[DIGEST_SHA1_SIZE];
  char accept[(DIGEST_SHA1_SIZE + 2) / 3 * 4 + 1];
  if (!digest_sha1(key, strlen(key), WS_GUID, sizeof WS_GUID - 1, dig)) {
    ws->closed = true;
    hand_back(p, 500, text_response("WebSocket handshake needs libnettle"));
    return ws;
  }
  accept[encoding_base64(accept, dig, DIGEST_SHA1_SIZE)] = 0;
  struct MHD_Response *r = M.create_for_upgrade(on_upgrade, ws);
  if (!r) {
    ws->closed = true;
    hand_back(p, 500, NULL);
    return ws;
  }
  M.add_response_header(r, "upgrade", "websocket");
  M.add_response_header(r, "sec-websocket-accept", accept);
  ws->refs = 2; /* the interpreter's and the I/O side's */
  p->ws = ws;
  hand_back(p, MHD_HTTP_SWITCHING_PROTOCOLS, r);
  return ws;
}

int httpd_ws_send(HttpdWs *ws, const char *data, size_t len) {
  pthread_mutex_lock(&ws->mu);
  int ret = HTTPD_OK;
  if (ws->closed || ws->close_req || ws->peer_closed)
    ret = HTTPD_CLOSED;
  else if (ws->out.count >= HTTPD_QUEUE_MAX)
    ret = HTTPD_AGAIN;
  else {
    Msg *m = malloc(sizeof *m + len);
    if (!m)
      ret = HTTPD_CLOSED;
    else {
      m->len = len;
      memcpy(m->data, data, len);
      q_push(&ws->out, m);
    }
  }
  bool poke = ret == HTTPD_OK && ws->upgraded;
  pthread_mutex_unlock(&ws->mu);
  if (poke) ws_poke(ws);
  return ret;
}

int httpd_ws_recv(HttpdWs *ws, char **msg, size_t *len) {
  pthread_mutex_lock(&ws->mu);
  bool was_full = ws->in.count >= WS_IN_MAX;
  Msg *m = ws->close_req ? NULL : q_pop(&ws->in);
  int ret;
  if (m) {
    ret = HTTPD_OK;
    *len = m->len;
    *msg = malloc(m->len + 1);
    if (*msg) memcpy(*msg, m->data, m->len + 1);
    free(m);
    if (!*msg) ret = HTTPD_CLOSED;
  } else {
    ret = ws->closed || ws->peer_closed || ws->close_req ? HTTPD_CLOSED : HTTPD_AGAIN;
  }
  bool poke = was_full && ws->upgraded && !ws->closed;
  pthread_mutex_unlock(&ws->mu);
  if (poke) ws_poke(ws);
  return ret;
}

void httpd_ws_close(HttpdWs *ws) {
  pthread_mutex_lock(&ws->mu);
  ws->close_req = true;
  bool poke = ws->upgraded && !ws->closed;
  pthread_mutex_unlock(&ws->mu);
  if (poke) ws_poke(ws);
}

void httpd_ws_release(HttpdWs *ws) {
  if (!ws) return;
  httpd_ws_close(ws);
  ws_unref(ws);
}
