/* http.h - what the http modules (http.c: client, helpers, router;
 * http_serve.c: the server) share. */
#ifndef SEMA_LIB_HTTP_H
#define SEMA_LIB_HTTP_H

#include "lib.h"

/* bytes as UTF-8, each maximal invalid subpart replaced by U+FFFD (system.c) */

/* the content type guessed from PATH's extension (net.md §3.7) */
const char *http_guess_type(const char *path);

/* J(v) as a string value */
Value http_json_lossy(VM *vm, Value v);

/* {:body J(x) :headers {"content-type" "application/json"} :status STATUS} */
Value http_json_response(VM *vm, int64_t status, Value x);

/* {:body BODY :headers {"content-type" CT} :status STATUS} */
Value http_plain_response(VM *vm, int64_t status, const char *ct, const char *body);

/* P(v) appended */
void http_add_printed(VM *vm, StrBuf *b, Value v);

/* a key/value of a header map: a string as is, a keyword or symbol by its
 * name (if BY_NAME), else P(v) */
void http_add_header_text(VM *vm, StrBuf *b, Value v, bool by_name);

struct HttpdRequest;
/* The request map of net.md §3.1 for R (http_serve.c); *want_json: a
 * content-type mentions json and there is a body, so :json should be tried. */
Value http_serve_request_value(VM *vm, const struct HttpdRequest *r, bool *want_json);

void lib_http_serve_init(VM *vm);

#endif
