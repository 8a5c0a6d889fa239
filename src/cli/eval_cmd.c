/* eval_cmd.c - `sema eval`, the machine interface (language.md §11.8).
 *
 *   sema eval (--expr CODE | --stdin) [--json] [--path FILE] [--no-llm] [--timeout MS]
 *
 * With --json, exactly one line of JSON goes to stdout and the status is 0:
 *   {"ok":..,"value":..,"stdout":..,"stderr":..,"error":..,"elapsedMs":..}
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../boot.h"
#include "../map.h"
#include "../runtime.h"
#include "cli.h"

static void json_string(StrBuf *b, const char *s, size_t n) {
  sb_addc(b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"': sb_adds(b, "\\\""); break;
    case '\\': sb_adds(b, "\\\\"); break;
    case '\n': sb_adds(b, "\\n"); break;
    case '\r': sb_adds(b, "\\r"); break;
    case '\t': sb_adds(b, "\\t"); break;
    default:
      if (c < 0x20)
        sb_addf(b, "\\u%04x", c);
      else
        sb_addc(b, (char)c);
    }
  }
  sb_addc(b, '"');
}

typedef struct {
  const char *src;
  size_t len;
  const char *path;
  Value result;
} Job;

/* The JSON envelope carries what the program printed: capture both streams. */
typedef struct {
  StrBuf out, err;
} Capture;

static void capture_write(void *ud, int stream, const char *s, size_t n) {
  Capture *c = ud;
  sb_add(stream == 2 ? &c->err : &c->out, s, n);
}

static void capture_flush(void *ud) {}

static void run(VM *vm, void *ud) {
  Job *j = ud;
  j->result = compile_eval_string(vm, j->src, j->len, j->path);
}

static char *read_stdin(size_t *len) {
  StrBuf b;
  sb_init(&b);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) sb_add(&b, buf, n);
  if (!b.data) sb_add(&b, "", 0);
  *len = b.len;
  return b.data;
}

/* the error's line/col: reader position, else the innermost frame with one */
static bool error_pos(VM *vm, Value err, int64_t *line, int64_t *col) {
  Value l, c, trace = NIL_VAL;
  if (map_get(err, KW(vm, "line"), &l) && map_get(err, KW(vm, "col"), &c)) {
    *line = int_of(l), *col = int_of(c);
    return true;
  }
  if (!map_get(err, KW(vm, "stack-trace"), &trace)) return false;
  for (; is_cons(trace); trace = cdr(trace))
    if (is_map(car(trace)) && map_get(car(trace), KW(vm, "line"), &l) && map_get(car(trace), KW(vm, "col"), &c)) {
      *line = int_of(l), *col = int_of(c);
      return true;
    }
  return false;
}

static void json_envelope(VM *vm, Capture *cap, bool ok, Value value, const char *errmsg, long ms) {
  StrBuf b;
  sb_init(&b);
  sb_adds(&b, ok ? "{\"ok\":true,\"value\":" : "{\"ok\":false,\"value\":");
  if (ok && value != NIL_VAL) {
    StrBuf v;
    sb_init(&v);
    print_pretty(vm, &v, value, 120);
    json_string(&b, v.data, v.len);
    sb_free(&v);
  } else
    sb_adds(&b, "null");
  sb_adds(&b, ",\"stdout\":");
  json_string(&b, cap->out.data ? cap->out.data : "", cap->out.len);
  sb_adds(&b, ",\"stderr\":");
  json_string(&b, cap->err.data ? cap->err.data : "", cap->err.len);
  sb_adds(&b, ",\"error\":");
  if (ok) {
    sb_adds(&b, "null");
  } else {
    sb_adds(&b, "{\"message\":");
    json_string(&b, errmsg, strlen(errmsg));
    if (is_string(vm->error_hint)) {
      sb_adds(&b, ",\"hint\":");
      json_string(&b, str_data(vm->error_hint), str_len(vm->error_hint));
    }
    int64_t line, col;
    if (is_map(vm->error) && error_pos(vm, vm->error, &line, &col))
      sb_addf(&b, ",\"line\":%lld,\"col\":%lld", (long long)line, (long long)col);
    sb_addc(&b, '}');
  }
  sb_addf(&b, ",\"elapsedMs\":%ld}\n", ms);
  fwrite(b.data, 1, b.len, stdout);
  sb_free(&b);
}

int cli_eval_command(int argc, char **argv) {
  const char *expr = NULL, *path = NULL;
  bool use_stdin = false, json = false;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--expr") && i + 1 < argc)
      expr = argv[++i];
    else if (!strcmp(a, "--stdin"))
      use_stdin = true;
    else if (!strcmp(a, "--json"))
      json = true;
    else if (!strcmp(a, "--path") && i + 1 < argc)
      path = argv[++i];
    else if ((!strcmp(a, "--timeout") || !strcmp(a, "--sandbox")) && i + 1 < argc)
      i++; /* accepted, not enforced (as in the reference) */
    else if (!strcmp(a, "--no-llm"))
      ;
    else {
      fprintf(stderr, "sema eval: unknown argument %s\n", a);
      return 2;
    }
  }
  VM *vm = boot_vm_new();
  Capture cap;
  sb_init(&cap.out);
  sb_init(&cap.err);
  if (json) vm_set_output(vm, capture_write, capture_flush, &cap);
  int rc = 0;
  if (!expr && !use_stdin) {
    if (json)
      json_envelope(vm, &cap, false, NIL_VAL, "Either --stdin or --expr is required", 0);
    else
      fprintf(stderr, "sema eval: Either --stdin or --expr is required\n");
    vm_free(vm);
    return json ? 0 : 1;
  }
  size_t len = 0;
  char *owned = NULL;
  if (use_stdin)
    expr = owned = read_stdin(&len);
  else
    len = strlen(expr);
  vm->args = list_1(vm, str_from_c(vm, argv[0]));
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  Job j = {expr, len, path, NIL_VAL};
  int failed = vm_protect(vm, run, &j);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long ms = (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
  if (json) {
    const char *msg = failed ? str_data(err_display(vm, vm->error)) : "";
    json_envelope(vm, &cap, !failed, j.result, msg, ms);
  } else if (failed) {
    fflush(stdout);
    cli_report_error(vm, "", expr, len, path);
    rc = 1;
  } else if (j.result != NIL_VAL) {
    StrBuf b;
    sb_init(&b);
    print_pretty(vm, &b, j.result, 120);
    sb_addc(&b, '\n');
    fwrite(b.data, 1, b.len, stdout);
    sb_free(&b);
  }
  free(owned);
  fflush(stdout);
  vm_free(vm);
  sb_free(&cap.out);
  sb_free(&cap.err);
  return rc;
}
