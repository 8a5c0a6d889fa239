/* httpc.h - a C-level HTTP client on libcurl, for the http/ module and the
 * LLM providers.
 *
 * Nothing here touches the Sema heap or raises: httpc_perform may run on any
 * thread (an offload worker, a test), concurrently with other calls.  libcurl
 * is loaded with dlopen on the first request (libcurl.so.4), so a program that
 * never makes a request pays nothing for it; when it cannot be loaded the
 * request fails with HTTPC_ERR_UNAVAILABLE.
 *
 * Behaviour (net.md §2.4):
 *   - redirects: up to max_redirects (0 = the default 10) are followed by
 *     httpc itself, the way a browser does: 301/302/303 become a body-less GET
 *     (HEAD stays HEAD), 307/308 repeat method and body; Authorization and
 *     Cookie headers are dropped when the host changes.
 *   - headers sent: exactly the caller's plus curl's default Accept (any
 *     type), no User-Agent, no
 *     Accept-Encoding: bodies arrive as sent).  curl's own Content-Type for a
 *     body and `Expect: 100-continue` are suppressed.
 *   - proxies from HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY; https
 *     verifies certificates against the system store.
 *   - connections are kept alive in a per-thread cache of curl handles, so
 *     repeated requests to one host from a thread reuse the connection.
 */
#ifndef SEMA_HTTPC_H
#define SEMA_HTTPC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *name;
  const char *value;
} HttpcHeader;

typedef enum {
  HTTPC_OK = 0,
  HTTPC_ERR_BAD_URL,     /* unparsable, not http/https, no host: nothing was sent */
  HTTPC_ERR_BAD_HEADER,  /* a name that is not an HTTP token, a value with control characters */
  HTTPC_ERR_REFUSED,     /* the connection could not be made */
  HTTPC_ERR_DNS,         /* the host name did not resolve */
  HTTPC_ERR_TLS,         /* handshake or certificate failure */
  HTTPC_ERR_TIMEOUT,     /* timeout_ms elapsed */
  HTTPC_ERR_REDIRECTS,   /* more than max_redirects redirects */
  HTTPC_ERR_ABORTED,     /* on_data returned nonzero or *cancelled became nonzero */
  HTTPC_ERR_UNAVAILABLE, /* libcurl could not be loaded */
  HTTPC_ERR_OTHER        /* anything else (connection reset, protocol error, ...) */
} HttpcError;

typedef struct {
  const char *method;         /* "GET", "POST", ... as sent (the caller uppercases) */
  const char *url;            /* NUL-terminated */
  const HttpcHeader *headers; /* sent in order; a name given twice is sent twice */
  size_t nheaders;
  const char *body;           /* sent when has_body (even for GET) */
  size_t body_len;
  bool has_body;
  int64_t timeout_ms;         /* total deadline; < 0: none; 0: fails at once with TIMEOUT */
  int max_redirects;          /* 0: 10; < 0: do not follow */
  /* Streaming: when set, the final response's body bytes are passed here as
   * they arrive (in order, in chunks of any size) instead of being collected
   * in resp->body; the bodies of redirects that are followed are skipped.
   * Called on the thread running httpc_perform, after resp's status and
   * headers are known (httpc_perform fills them before the first call).
   * Return nonzero to abort the transfer (HTTPC_ERR_ABORTED). */
  int (*on_data)(void *ud, const char *p, size_t n);
  void *ud;
  /* Polled about every 100 ms and on every chunk; nonzero aborts
   * (HTTPC_ERR_ABORTED).  May be NULL. */
  atomic_int *cancelled;
} HttpcRequest;

typedef struct {
  long status;            /* final status; 0 when no response headers arrived */
  HttpcHeader *headers;   /* final response's headers in arrival order (names as sent) */
  size_t nheaders;
  char *body;             /* NUL-terminated; NULL when streaming */
  size_t body_len;
  char *final_url;        /* after redirects, normalized; NULL if never parsed */
  HttpcError error;
  bool in_body;           /* the failure happened after the response headers */
  char message[256];      /* curl's description of the failure, "" on success */
} HttpcResponse;

/* Perform REQ and fill RESP (always initialized, also on failure, and freed
 * with httpc_response_free).  Returns resp->error. */
HttpcError httpc_perform(const HttpcRequest *req, HttpcResponse *resp);
void httpc_response_free(HttpcResponse *resp);

/* The normalized form of URL (scheme and host lowercased, default port
 * dropped, an empty path made "/", spaces and non-ASCII percent-encoded), or
 * NULL when it is not an http/https URL with a host.  malloc'd.  Loads
 * libcurl; NULL as well when it cannot be loaded. */
char *httpc_normalize_url(const char *url);

/* Is NAME an HTTP token / VALUE free of control characters but tab? */
bool httpc_valid_header_name(const char *name);
bool httpc_valid_header_value(const char *value);

/* Can libcurl be loaded?  (Loads it.) */
bool httpc_available(void);

/* Release the calling thread's cached curl handle (a worker thread that
 * exits calls nothing: a thread-exit destructor does it). */
void httpc_thread_cleanup(void);

#endif
