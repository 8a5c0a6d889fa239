/* fuzz_http.c - the request handling that is ours rather than
 * libmicrohttpd's: the request map of net.md §3.1 (query splitting, header
 * maps, lossy UTF-8, the :json decision), the WebSocket upgrade check and
 * http/router's dispatch (path segments, captures, wildcards, :static file
 * resolution).  Input: "METHOD TARGET\n" then "name: value\n" lines, an empty
 * line, the body.  Invariant checked beyond "no crash": a :static route never
 * yields a file outside its directory. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz_common.h"
#include "../../src/lib/http.h"
#include "../../src/lib/httpd.h"

#define FUZZ_DIR "/tmp/sema-fuzz-http"

static const char ROUTES[] =
    "(define app (http/router [[:get \"/users/:id/posts/:pid\" (fn (r) (:params r))]"
    " [:static \"/s\" \"" FUZZ_DIR "/www\"] [:any \"/files/*\" (fn (r) (:params r))]"
    " [:ws \"/ws/:room\" (fn (c) nil)] [:post \"/j\" (fn (r) (:json r))] [:get \"/\" (fn (r) (:query r))]]))";

static char canon_root[PATH_MAX];

static void setup(void) {
  static int done;
  if (done) return;
  done = 1;
  mkdir(FUZZ_DIR, 0755);
  mkdir(FUZZ_DIR "/www", 0755);
  mkdir(FUZZ_DIR "/www/sub", 0755);
  FILE *f = fopen(FUZZ_DIR "/www/index.html", "w");
  if (f) fputs("<h1>i</h1>", f), fclose(f);
  f = fopen(FUZZ_DIR "/www/sub/a.txt", "w");
  if (f) fputs("a", f), fclose(f);
  f = fopen(FUZZ_DIR "/secret.txt", "w");
  if (f) fputs("s", f), fclose(f);
  if (symlink("/", FUZZ_DIR "/www/up")) {}
  if (symlink(FUZZ_DIR "/secret.txt", FUZZ_DIR "/www/sneaky.txt")) {}
  if (!realpath(FUZZ_DIR "/www", canon_root)) abort();
}

typedef struct {
  const uint8_t *data;
  size_t size;
} Input;

static void run(VM *vm, void *ud) {
  Input *in = ud;
  compile_eval_string(vm, ROUTES, sizeof ROUTES - 1, NULL);
  /* split the input */
  char *buf = malloc(in->size + 1);
  memcpy(buf, in->data, in->size);
  buf[in->size] = 0;
  char *end = buf + in->size;
  char *line_end = memchr(buf, '\n', in->size);
  if (!line_end) line_end = end;
  *line_end = 0;
  char *sp = strchr(buf, ' ');
  const char *method = buf, *target = "/";
  if (sp) {
    *sp = 0;
    target = sp + 1;
  }
  HttpdHeader hs[64];
  size_t nh = 0;
  char *p = line_end < end ? line_end + 1 : end;
  while (p < end && *p != '\n' && nh < 64) {
    char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e) e = end;
    *e = 0;
    char *colon = strchr(p, ':');
    if (colon) {
      *colon = 0;
      for (char *c = p; *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c += 32;
      hs[nh].name = p;
      hs[nh].value = colon + 1 + (colon[1] == ' ');
      nh++;
    }
    p = e < end ? e + 1 : end;
  }
  if (p < end && *p == '\n') p++;
  HttpdRequest r = {0};
  r.method = method;
  r.target = target;
  r.headers = hs;
  r.nheaders = nh;
  r.body = p < end ? p : "";
  r.body_len = p < end ? (size_t)(end - p) : 0;
  r.ws_upgrade = httpd_is_ws_upgrade(&r);
  bool want_json;
  Value req = http_serve_request_value(vm, &r, &want_json);
  free(buf);
  vm_push_root(vm, req);
  if (want_json) {
    Value body, out;
    map_get(req, KW(vm, "body"), &body);
    if (!vm_pcall(vm, env_get(vm, "json/decode"), 1, &body, &out)) ROOT(vm, vm->nroots - 1) = map_assoc(vm, req, KW(vm, "json"), out);
  }
  Value res;
  if (vm_pcall(vm, env_get(vm, "app"), 1, &ROOT(vm, vm->nroots - 1), &res) == 0 && is_map(res)) {
    Value fp;
    if (map_get(res, KW(vm, "__file_path"), &fp) && is_string(fp)) {
      char c[PATH_MAX];
      /* the served file must resolve inside the static directory */
      if (realpath(str_data(fp), c) && (strncmp(c, canon_root, strlen(canon_root)) || (c[strlen(canon_root)] != '/' && c[strlen(canon_root)] != 0)))
        abort();
    }
  }
  vm_pop_roots(vm, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  VM *vm = fuzz_vm_new();
  Input in = {data, size};
  fuzz_budget(300);
  vm_protect(vm, run, &in);
  fuzz_budget(0);
  vm_free(vm);
  return 0;
}
