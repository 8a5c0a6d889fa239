/* httpd.h - the C-level HTTP server under http/serve: libmicrohttpd for
 * HTTP/1.x, wslay for WebSocket framing, both loaded with dlopen on first
 * use.  Nothing here touches the Sema heap.
 *
 * Threads.  libmicrohttpd's threads accept connections and parse requests
 * (headers, body up to the limit).  A complete request is put on the
 * server's queue and its connection suspended; the interpreter thread takes
 * it (httpd_next), runs the handler and answers with one of the
 * httpd_respond* calls, which builds the response and resumes the
 * connection.  Until it answers, the interpreter owns the HttpdRequest;
 * afterwards it must not touch it again.
 *
 * Waiting.  Every event the interpreter may wait for (a request queued, a
 * WebSocket message, room in an SSE or WebSocket send queue, a connection
 * closed) bumps one eventfd per server.  A waiter checks its condition and,
 * when it does not hold, calls httpd_wait, which returns once the eventfd was
 * bumped after the matching httpd_wait_begin (or on timeout): so a wakeup
 * between the check and the wait is never lost.  A scheduler can instead
 * poll httpd_event_fd() with its other fds and re-check the parked waiters
 * when it becomes readable.
 *
 * Non-blocking calls.  httpd_stream_send, httpd_ws_send and httpd_ws_recv
 * never block: they return HTTPD_AGAIN when they would, and the caller waits
 * as above and retries.  That keeps every blocking point of a handler in the
 * caller, where a task runtime can park the task instead.
 */
#ifndef SEMA_HTTPD_H
#define SEMA_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPD_MAX_BODY (16u * 1024 * 1024) /* net.md §3.6: larger bodies get 413 */
#define HTTPD_QUEUE_MAX 256                /* SSE events / WebSocket frames queued per connection */

typedef struct HttpdServer HttpdServer;
typedef struct HttpdStream HttpdStream;
typedef struct HttpdWs HttpdWs;

typedef struct {
  char *name; /* lower case */
  char *value;
} HttpdHeader;

typedef struct HttpdRequest {
  const char *method;  /* as sent: "GET", "POST", ... */
  const char *target;  /* the raw request target: path and query, not decoded */
  HttpdHeader *headers; /* in arrival order */
  size_t nheaders;
  const char *body;    /* NUL-terminated, body_len bytes (may contain NULs) */
  size_t body_len;
  bool ws_upgrade;     /* a valid WebSocket upgrade request (GET, Upgrade: websocket, version 13, key) */
  /* private */
  struct HttpdPriv *priv;
} HttpdRequest;

/* Is R a valid WebSocket upgrade (net.md §3.9)?  R's header names lower case. */
bool httpd_is_ws_upgrade(const HttpdRequest *r);

enum { HTTPD_OK = 0, HTTPD_AGAIN = 1, HTTPD_CLOSED = -1 };

typedef struct {
  int idle_timeout_s;   /* a connection silent this long is closed (default 30) */
  size_t header_limit;  /* bytes of request line + headers; more gets 431 (default 64 KiB) */
  int threads;          /* I/O threads (default 2) */
} HttpdConfig;

/* Bind HOST:PORT and start serving.  On failure returns NULL with a
 * message in ERR ("bind 127.0.0.1:80: Permission denied (os error 13)", or
 * why the libraries could not be loaded). */
HttpdServer *httpd_start(const char *host, int port, const HttpdConfig *cfg, char *err, size_t errlen);

/* The eventfd bumped on every event (see above). */
int httpd_event_fd(HttpdServer *s);
/* From now on every event writes the eventfd (not only while someone is in
 * httpd_wait), so a scheduler can poll it; httpd_drain empties it. */
void httpd_watch(HttpdServer *s);
void httpd_drain(HttpdServer *s);
/* Returns a token for httpd_wait; call before checking the condition. */
uint64_t httpd_wait_begin(HttpdServer *s);
/* Block until an event newer than TOKEN, or TIMEOUT_MS (-1: none).  */
void httpd_wait(HttpdServer *s, uint64_t token, int timeout_ms);

/* Would the call return something other than HTTPD_AGAIN now (the
 * conditions a scheduler's waiter re-checks; any thread, never block)? */
bool httpd_has_request(HttpdServer *s);
bool httpd_stream_send_ready(HttpdStream *st);
bool httpd_ws_recv_ready(HttpdWs *ws);
bool httpd_ws_send_ready(HttpdWs *ws);
/* The next queued request, or NULL when none is queued (does not block). */
HttpdRequest *httpd_next(HttpdServer *s);

/* Answer a request.  headers: names as given (sent lower case), an entry with
 * an invalid name or value is dropped.  body is copied. */
void httpd_respond(HttpdRequest *r, unsigned status, const HttpdHeader *headers, size_t nheaders, const char *body,
                   size_t body_len);
/* Serve the file at PATH (200, content-type CT, cache-control public,
 * max-age=3600); 404 text/plain "Not Found" when it cannot be opened. */
void httpd_respond_file(HttpdRequest *r, const char *path, const char *ct);
/* Start a server-sent events response (200, text/event-stream, no-cache). */
HttpdStream *httpd_respond_stream(HttpdRequest *r);
/* Accept a WebSocket upgrade (101) when r->ws_upgrade, else answer 400
 * "WebSocket upgrade required" and return a connection that is already
 * closed. */
HttpdWs *httpd_respond_ws(HttpdRequest *r);

/* SSE: queue bytes of one event (HTTPD_OK, HTTPD_AGAIN when HTTPD_QUEUE_MAX
 * events are queued, HTTPD_CLOSED after the client went away).  end: no more
 * events; the interpreter's reference is dropped. */
int httpd_stream_send(HttpdStream *st, const char *data, size_t len);
void httpd_stream_end(HttpdStream *st);

/* WebSocket: send one text frame (OK / AGAIN / CLOSED); receive the next
 * text message (OK with a malloc'd *msg, AGAIN, or CLOSED once the peer has
 * closed or the connection is gone); close: queued frames, then a Close
 * frame; release: the interpreter is done with it (closes it too). */
int httpd_ws_send(HttpdWs *ws, const char *data, size_t len);
int httpd_ws_recv(HttpdWs *ws, char **msg, size_t *len);
void httpd_ws_close(HttpdWs *ws);
void httpd_ws_release(HttpdWs *ws);

#endif
