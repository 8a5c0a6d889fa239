/* httpc.c - the C-level HTTP client (see httpc.h) on libcurl, loaded with
 * dlopen on first use.
 *
 * Why dlopen: linking libcurl pulls in OpenSSL, nghttp2, libssh2, LDAP, ...:
 * about 30 shared objects whose loading and relocation cost every `sema`
 * start several milliseconds and megabytes, used or not (docs/design.md,
 * "HTTP").  Only the functions below are resolved, once, under pthread_once
 * (curl_global_init is not thread-safe in every version, so it runs there
 * too).
 *
 * Each thread keeps one multi handle with one easy handle.  The multi handle
 * owns the connection and DNS caches, so a thread's consecutive requests to a
 * host reuse the connection; driving the transfer through curl_multi_poll
 * with a 100 ms timeout is what lets `cancelled` stop a request promptly even
 * while no byte moves (the easy interface's progress callback can go a second
 * between calls).  Redirects are followed here rather than by curl, because
 * curl keeps a custom method across a 302 where browsers (and the reference)
 * switch to GET.
 */
#include "httpc.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

/* ---- the libcurl functions we use, resolved by name ---- */
static struct {
  CURLcode (*global_init)(long);
  CURL *(*easy_init)(void);
  CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
  void (*easy_cleanup)(CURL *);
  void (*easy_reset)(CURL *);
  const char *(*easy_strerror)(CURLcode);
  CURLM *(*multi_init)(void);
  CURLMcode (*multi_add_handle)(CURLM *, CURL *);
  CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
  CURLMcode (*multi_perform)(CURLM *, int *);
  CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned, int, int *);
  CURLMsg *(*multi_info_read)(CURLM *, int *);
  CURLMcode (*multi_cleanup)(CURLM *);
  struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
  void (*slist_free_all)(struct curl_slist *);
  CURLU *(*url)(void);
  CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
  CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
  void (*url_cleanup)(CURLU *);
  void (*free)(void *);
} C;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool loaded;
static pthread_key_t tls_key;

static void thread_state_free(void *p);

static void load_curl(void) {
  void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (!h) return;
#define SYM(field, name)                                   \
  do {                                                     \
    *(void **)&C.field = dlsym(h, name);                   \
    if (!C.field) return;                                  \
  } while (0)
  SYM(global_init, "curl_global_init");
  SYM(easy_init, "curl_easy_init");
  SYM(easy_setopt, "curl_easy_setopt");
  SYM(easy_getinfo, "curl_easy_getinfo");
  SYM(easy_cleanup, "curl_easy_cleanup");
  SYM(easy_reset, "curl_easy_reset");
  SYM(easy_strerror, "curl_easy_strerror");
  SYM(multi_init, "curl_multi_init");
  SYM(multi_add_handle, "curl_multi_add_handle");
  SYM(multi_remove_handle, "curl_multi_remove_handle");
  SYM(multi_perform, "curl_multi_perform");
  SYM(multi_poll, "curl_multi_poll");
  SYM(multi_info_read, "curl_multi_info_read");
  SYM(multi_cleanup, "curl_multi_cleanup");
  SYM(slist_append, "curl_slist_append");
  SYM(slist_free_all, "curl_slist_free_all");
  SYM(url, "curl_url");
  SYM(url_set, "curl_url_set");
  SYM(url_get, "curl_url_get");
  SYM(url_cleanup, "curl_url_cleanup");
  SYM(free, "curl_free");
#undef SYM
  if (C.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return;
  if (pthread_key_create(&tls_key, thread_state_free) != 0) return;
  loaded = true;
}

bool httpc_available(void) {
  pthread_once(&load_once, load_curl);
  return loaded;
}

/* ---- per-thread handles ---- */
typedef struct {
  CURLM *multi;
  CURL *easy;
} ThreadState;

static void thread_state_free(void *p) {
  ThreadState *ts = p;
  if (!ts) return;
  if (ts->easy) C.easy_cleanup(ts->easy);
  if (ts->multi) C.multi_cleanup(ts->multi);
  free(ts);
}

static ThreadState *thread_state(void) {
  ThreadState *ts = pthread_getspecific(tls_key);
  if (ts) return ts;
  ts = calloc(1, sizeof *ts);
  if (!ts) return NULL;
  ts->multi = C.multi_init();
  ts->easy = C.easy_init();
  if (!ts->multi || !ts->easy) {
    thread_state_free(ts);
    return NULL;
  }
  pthread_setspecific(tls_key, ts);
  return ts;
}

void httpc_thread_cleanup(void) {
  if (!loaded) return;
  ThreadState *ts = pthread_getspecific(tls_key);
  if (ts) {
    pthread_setspecific(tls_key, NULL);
    thread_state_free(ts);
  }
}

/* ---- validation ---- */
bool httpc_valid_header_name(const char *name) {
  if (!*name) return false;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    unsigned char c = *p;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
    if (!strchr("!#$%&'*+-.^_`|~", c)) return false;
  }
  return true;
}

bool httpc_valid_header_value(const char *value) {
  for (const unsigned char *p = (const unsigned char *)value; *p; p++)
    if ((*p < 0x20 && *p != '\t') || *p == 0x7f) return false;
  return true;
}

/* URL normalization through curl's own parser, so what we report is what
 * curl requests.  Spaces are allowed on input and percent-encoded on output,
 * like a WHATWG parser does. */
static char *normalize(const char *url) {
  CURLU *u = C.url();
  if (!u) return NULL;
  char *out = NULL, *scheme = NULL, *host = NULL;
  if (C.url_set(u, CURLUPART_URL, url, CURLU_ALLOW_SPACE | CURLU_URLENCODE) != CURLUE_OK) goto done;
  if (C.url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) goto done;
  if (strcmp(scheme, "http") && strcmp(scheme, "https")) goto done;
  if (C.url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) goto done;
  char *tmp = NULL;
  if (C.url_get(u, CURLUPART_URL, &tmp, CURLU_NO_DEFAULT_PORT | CURLU_URLENCODE) != CURLUE_OK) goto done;
  out = strdup(tmp);
  C.free(tmp);
done:
  if (scheme) C.free(scheme);
  if (host) C.free(host);
  C.url_cleanup(u);
  return out;
}

char *httpc_normalize_url(const char *url) {
  if (!httpc_available()) return NULL;
  return normalize(url);
}

static char *url_host(const char *url) {
  CURLU *u = C.url();
  char *host = NULL, *out = NULL;
  if (u && C.url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK && C.url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
    out = strdup(host);
    C.free(host);
  }
  if (u) C.url_cleanup(u);
  return out;
}

/* ---- one transfer ---- */
typedef struct {
  const HttpcRequest *req;
  HttpcResponse *resp;
  CURL *easy;
  size_t cap;             /* of resp->body */
  bool headers_done;      /* the final (non-1xx) response's header block ended */
  bool discard;           /* this response is a redirect we follow: drop its body */
  bool follow_redirects;
  bool aborted;           /* by on_data or cancelled */
  bool oom;
} Xfer;

static void clear_headers(HttpcResponse *r) {
  for (size_t i = 0; i < r->nheaders; i++) free((void *)r->headers[i].name);
  free(r->headers);
  r->headers = NULL;
  r->nheaders = 0;
}

static bool is_redirect(long st) { return st == 301 || st == 302 || st == 303 || st == 307 || st == 308; }

static const char *find_header(const HttpcResponse *r, const char *name) {
  const char *v = NULL;
  for (size_t i = 0; i < r->nheaders; i++)
    if (!strcasecmp(r->headers[i].name, name)) v = r->headers[i].value;
  return v;
}

/* One header line per call, the status line included; a new status line
 * (a 100 Continue, then the real response) starts a new header block. */
static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  Xfer *x = ud;
  size_t len = size * n;
  HttpcResponse *r = x->resp;
  size_t l = len;
  while (l && (p[l - 1] == '\n' || p[l - 1] == '\r')) l--;
  if (len >= 5 && !memcmp(p, "HTTP/", 5)) {
    clear_headers(r);
    x->headers_done = false;
    const char *sp = memchr(p, ' ', l);
    r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    return len;
  }
  if (l == 0) { /* end of a header block */
    if (r->status >= 200 || r->status == 101) {
      x->headers_done = true;
      x->discard = x->follow_redirects && is_redirect(r->status) && find_header(r, "location");
    }
    return len;
  }
  const char *colon = memchr(p, ':', l);
  if (!colon) return len; /* obsolete line folding or garbage: ignored */
  size_t nl = (size_t)(colon - p);
  const char *v = colon + 1;
  const char *end = p + l;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
  size_t vl = (size_t)(end - v);
  /* one allocation: "name\0value\0" */
  char *mem = malloc(nl + vl + 2);
  HttpcHeader *nh = realloc(r->headers, (r->nheaders + 1) * sizeof *nh);
  if (!mem || !nh) {
    free(mem);
    if (nh) r->headers = nh;
    x->oom = true;
    return 0;
  }
  r->headers = nh;
  memcpy(mem, p, nl);
  mem[nl] = 0;
  memcpy(mem + nl + 1, v, vl);
  mem[nl + 1 + vl] = 0;
  nh[r->nheaders].name = mem;
  nh[r->nheaders].value = mem + nl + 1;
  r->nheaders++;
  return len;
}

static size_t on_write(char *p, size_t size, size_t n, void *ud) {
  Xfer *x = ud;
  size_t len = size * n;
  if (x->req->cancelled && atomic_load(x->req->cancelled)) {
    x->aborted = true;
    return CURL_WRITEFUNC_ERROR;
  }
  if (x->discard) return len;
  if (x->req->on_data) {
    if (x->req->on_data(x->req->ud, p, len)) {
      x->aborted = true;
      return CURL_WRITEFUNC_ERROR;
    }
    return len;
  }
  HttpcResponse *r = x->resp;
  if (r->body_len + len + 1 > x->cap) {
    size_t cap = x->cap ? x->cap : 4096;
    while (cap < r->body_len + len + 1) cap *= 2;
    char *nb = realloc(r->body, cap);
    if (!nb) {
      x->oom = true;
      return CURL_WRITEFUNC_ERROR;
    }
    r->body = nb;
    x->cap = cap;
  }
  memcpy(r->body + r->body_len, p, len);
  r->body_len += len;
  r->body[r->body_len] = 0;
  return len;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static HttpcError classify(CURLcode c) {
  switch (c) {
  case CURLE_OK: return HTTPC_OK;
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_URL_MALFORMAT: return HTTPC_ERR_BAD_URL;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY: return HTTPC_ERR_DNS;
  case CURLE_COULDNT_CONNECT: return HTTPC_ERR_REFUSED;
  case CURLE_OPERATION_TIMEDOUT: return HTTPC_ERR_TIMEOUT;
  case CURLE_TOO_MANY_REDIRECTS: return HTTPC_ERR_REDIRECTS;
  case CURLE_ABORTED_BY_CALLBACK: return HTTPC_ERR_ABORTED;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_USE_SSL_FAILED: return HTTPC_ERR_TLS;
  default: return HTTPC_ERR_OTHER;
  }
}

static void set_error(HttpcResponse *r, HttpcError e, const char *msg) {
  r->error = e;
  snprintf(r->message, sizeof r->message, "%s", msg);
}

static int xferinfo(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
  Xfer *x = ud;
  if (x->req->cancelled && atomic_load(x->req->cancelled)) {
    x->aborted = true;
    return 1;
  }
  return 0;
}

/* The request headers of one hop.  drop_creds: the host changed on a
 * redirect; drop_body_headers: the method became GET. */
static struct curl_slist *build_headers(const HttpcRequest *req, bool has_body, bool drop_creds,
                                        bool drop_body_headers, bool *ok) {
  struct curl_slist *l = NULL, *t;
  bool user_ct = false;
  *ok = true;
  for (size_t i = 0; i < req->nheaders; i++) {
    const char *n = req->headers[i].name, *v = req->headers[i].value;
    if (drop_creds && (!strcasecmp(n, "authorization") || !strcasecmp(n, "cookie") ||
                       !strcasecmp(n, "proxy-authorization")))
      continue;
    if (drop_body_headers && (!strcasecmp(n, "content-type") || !strcasecmp(n, "content-length") ||
                              !strcasecmp(n, "content-encoding") || !strcasecmp(n, "transfer-encoding")))
      continue;
    if (!strcasecmp(n, "content-type")) user_ct = true;
    size_t nl = strlen(n), vl = strlen(v);
    char *line = malloc(nl + vl + 3);
    if (!line) goto oom;
    /* "Name;" is curl's spelling of a header with an empty value */
    if (vl)
      sprintf(line, "%s: %s", n, v);
    else
      sprintf(line, "%s;", n);
    t = C.slist_append(l, line);
    free(line);
    if (!t) goto oom;
    l = t;
  }
  /* curl adds "Content-Type: application/x-www-form-urlencoded" to a body and
   * "Expect: 100-continue" to a large one; an empty value removes them */
  if (has_body && !user_ct) {
    if (!(t = C.slist_append(l, "Content-Type:"))) goto oom;
    l = t;
  }
  if (!(t = C.slist_append(l, "Expect:"))) goto oom;
  return t;
oom:
  *ok = false;
  if (l) C.slist_free_all(l);
  return NULL;
}

HttpcError httpc_perform(const HttpcRequest *req, HttpcResponse *resp) {
  memset(resp, 0, sizeof *resp);
  if (!httpc_available()) {
    set_error(resp, HTTPC_ERR_UNAVAILABLE, "libcurl (libcurl.so.4) could not be loaded");
    return resp->error;
  }
  char *url = normalize(req->url);
  if (!url) {
    set_error(resp, HTTPC_ERR_BAD_URL, "not an http or https URL with a host");
    return resp->error;
  }
  resp->final_url = url;
  for (size_t i = 0; i < req->nheaders; i++) {
    if (!httpc_valid_header_name(req->headers[i].name)) {
      set_error(resp, HTTPC_ERR_BAD_HEADER, "invalid header name");
      return resp->error;
    }
    if (!httpc_valid_header_value(req->headers[i].value)) {
      set_error(resp, HTTPC_ERR_BAD_HEADER, "invalid header value");
      return resp->error;
    }
  }
  if (req->timeout_ms == 0) {
    set_error(resp, HTTPC_ERR_TIMEOUT, "timed out");
    return resp->error;
  }
  ThreadState *ts = thread_state();
  if (!ts) {
    set_error(resp, HTTPC_ERR_OTHER, "out of memory");
    return resp->error;
  }
  CURL *e = ts->easy;
  int64_t deadline = req->timeout_ms > 0 ? now_ms() + req->timeout_ms : -1;
  int max_redirects = req->max_redirects == 0 ? 10 : req->max_redirects;
  const char *method = req->method;
  bool has_body = req->has_body;
  bool drop_creds = false, drop_body_headers = false;
  char *first_host = url_host(url);
  char errbuf[CURL_ERROR_SIZE];

  for (int hop = 0;; hop++) {
    Xfer x = {.req = req, .resp = resp, .easy = e, .follow_redirects = max_redirects >= 0};
    C.easy_reset(e);
    errbuf[0] = 0;
    bool ok;
    struct curl_slist *hdrs = build_headers(req, has_body, drop_creds, drop_body_headers, &ok);
    if (!ok) {
      set_error(resp, HTTPC_ERR_OTHER, "out of memory");
      break;
    }
    C.easy_setopt(e, CURLOPT_URL, resp->final_url);
    C.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    C.easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    C.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    C.easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    C.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    C.easy_setopt(e, CURLOPT_HEADERDATA, &x);
    C.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    C.easy_setopt(e, CURLOPT_WRITEDATA, &x);
    C.easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    C.easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xferinfo);
    C.easy_setopt(e, CURLOPT_XFERINFODATA, &x);
    if (deadline >= 0) {
      int64_t left = deadline - now_ms();
      if (left <= 0) {
        C.slist_free_all(hdrs);
        set_error(resp, HTTPC_ERR_TIMEOUT, "timed out");
        break;
      }
      C.easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)left);
    }
    if (!strcmp(method, "HEAD")) {
      C.easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
      C.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
      C.easy_setopt(e, CURLOPT_POSTFIELDS, req->body_len ? req->body : "");
      if (strcmp(method, "POST")) C.easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET")) {
      C.easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }

    resp->status = 0;
    clear_headers(resp);
    resp->body_len = 0;
    CURLcode rc = CURLE_OK;
    if (C.multi_add_handle(ts->multi, e) != CURLM_OK) {
      C.slist_free_all(hdrs);
      set_error(resp, HTTPC_ERR_OTHER, "curl_multi_add_handle failed");
      break;
    }
    int running = 1;
    while (running) {
      if (C.multi_perform(ts->multi, &running) != CURLM_OK) break;
      if (!running) break;
      if (req->cancelled && atomic_load(req->cancelled)) {
        x.aborted = true;
        break;
      }
      C.multi_poll(ts->multi, NULL, 0, 100, NULL);
    }
    int left;
    CURLMsg *m;
    bool done = false;
    while ((m = C.multi_info_read(ts->multi, &left)))
      if (m->msg == CURLMSG_DONE && m->easy_handle == e) {
        rc = m->data.result;
        done = true;
      }
    if (!done && !x.aborted) rc = CURLE_RECV_ERROR;
    C.multi_remove_handle(ts->multi, e);
    C.slist_free_all(hdrs);

    if (x.aborted) {
      resp->in_body = x.headers_done;
      set_error(resp, HTTPC_ERR_ABORTED, "aborted");
      break;
    }
    if (x.oom) {
      resp->in_body = x.headers_done;
      set_error(resp, HTTPC_ERR_OTHER, "out of memory");
      break;
    }
    if (rc != CURLE_OK) {
      resp->in_body = x.headers_done;
      HttpcError k = classify(rc);
      char msg[CURL_ERROR_SIZE + 128];
      snprintf(msg, sizeof msg, "%s%s%s", C.easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
      size_t ml = strlen(msg);
      if (ml && msg[ml - 1] == '\n') msg[ml - 1] = 0;
      set_error(resp, k, msg);
      break;
    }
    if (!x.discard) break; /* the final response */
    if (hop >= max_redirects) {
      set_error(resp, HTTPC_ERR_REDIRECTS, "too many redirects");
      break;
    }
    char *next = NULL;
    C.easy_getinfo(e, CURLINFO_REDIRECT_URL, &next);
    char *nurl = next ? normalize(next) : NULL;
    if (!nurl) {
      set_error(resp, HTTPC_ERR_BAD_URL, "redirect to an invalid or non-http URL");
      break;
    }
    long st = resp->status;
    if ((st == 301 || st == 302 || st == 303) && strcmp(method, "HEAD")) {
      if (strcmp(method, "GET") || has_body) drop_body_headers = true;
      method = "GET";
      has_body = false;
    }
    char *host = url_host(nurl);
    if (!host || !first_host || strcasecmp(host, first_host)) drop_creds = true;
    free(host);
    free(resp->final_url);
    resp->final_url = nurl;
  }
  free(first_host);
  if (resp->error == HTTPC_OK && !resp->body && !req->on_data) {
    resp->body = malloc(1);
    if (resp->body) resp->body[0] = 0;
  }
  return resp->error;
}

void httpc_response_free(HttpcResponse *resp) {
  clear_headers(resp);
  free(resp->body);
  free(resp->final_url);
  resp->body = NULL;
  resp->final_url = NULL;
}
