/* eval_cmd.c - `sema eval`, the machine interface (language.md §11.8).
 *
 *   sema eval (--expr CODE | --stdin) [--json] [--path FILE] [--no-llm] [--timeout MS]
 *
 * With --json, exactly one line of JSON goes to stdout and the status is 0:
 *   {"ok":..,"value":..,"stdout":..,"stderr":..,"error":..,"exitCode":..,"elapsedMs":..}
 * --timeout MS (default 5000, 0: none) is enforced: a watchdog thread asks
 * the VM for an interrupt at the deadline and the VM's interrupt hook ends
 * the evaluation past every `try`.  (exit N) returns here (exitCode N).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../boot.h"
#include "../map.h"
#include "../runtime.h"
#include "../lib/llm_cli.h"
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

/* ---- the timeout ---- */

typedef struct {
  VM *vm;
  long ms;
  bool done, fired;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char msg[80];
} Watchdog;

static void *watchdog_main(void *ud) {
  Watchdog *w = ud;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += w->ms / 1000;
  until.tv_nsec += (w->ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
  pthread_mutex_lock(&w->mu);
  while (!w->done)
    if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT) break;
  if (!w->done) {
    w->fired = true;
    vm_request_interrupt(w->vm);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

/* Runs on the VM's thread at the first safe point after the request. */
static const char *watchdog_hook(VM *vm, void *ud) {
  Watchdog *w = ud;
  pthread_mutex_lock(&w->mu);
  bool fired = w->fired;
  pthread_mutex_unlock(&w->mu);
  return fired ? w->msg : NULL;
}

static void run(VM *vm, void *ud) {
  Job *j = ud;
  j->result = compile_eval_string(vm, j->src, j->len, j->path);
}

char *cli_read_stdin(size_t *len) {
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

static void json_envelope(VM *vm, Capture *cap, bool ok, Value value, const char *errmsg, int exit_code, long ms) {
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
    Value hint = cli_error_hint(vm, vm->error);
    if (is_string(hint)) {
      sb_adds(&b, ",\"hint\":");
      json_string(&b, str_data(hint), str_len(hint));
    }
    int64_t line, col;
    if (is_map(vm->error) && error_pos(vm, vm->error, &line, &col))
      sb_addf(&b, ",\"line\":%lld,\"col\":%lld", (long long)line, (long long)col);
    sb_addc(&b, '}');
  }
  sb_addf(&b, ",\"exitCode\":%d,\"elapsedMs\":%ld}\n", exit_code, ms);
  fwrite(b.data, 1, b.len, stdout);
  sb_free(&b);
}

int cli_eval_command(int argc, char **argv) {
  const char *expr = NULL, *path = NULL;
  bool use_stdin = false, json = false, no_llm = false;
  long timeout_ms = 5000;
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
    else if (!strcmp(a, "--timeout") && i + 1 < argc) {
      char *end;
      errno = 0;
      timeout_ms = strtol(argv[++i], &end, 10);
      if (errno || end == argv[i] || *end || timeout_ms < 0) {
        fprintf(stderr, "sema eval: --timeout needs a number of milliseconds, got %s\n", argv[i]);
        return 2;
      }
    } else if (!strcmp(a, "--sandbox") && i + 1 < argc)
      i++; /* accepted, Tier C */
    else if (!strcmp(a, "--no-llm"))
      no_llm = true;
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
  if (!no_llm) llm_cli_auto_configure(vm, false);
  int rc = 0;
  if (!expr && !use_stdin) {
    if (json)
      json_envelope(vm, &cap, false, NIL_VAL, "Either --stdin or --expr is required", 0, 0);
    else
      fprintf(stderr, "sema eval: Either --stdin or --expr is required\n");
    vm_free(vm);
    return json ? 0 : 1;
  }
  size_t len = 0;
  char *owned = NULL;
  if (use_stdin)
    expr = owned = cli_read_stdin(&len);
  else
    len = strlen(expr);
  vm->args = list_1(vm, str_from_c(vm, argv[0]));
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  Job j = {expr, len, path, NIL_VAL};
  vm_set_exit_unwinds(vm, true);
  Watchdog w = {.vm = vm, .ms = timeout_ms};
  pthread_t wt;
  bool watching = false;
  if (timeout_ms > 0) {
    snprintf(w.msg, sizeof w.msg, "timeout: evaluation exceeded %ld ms", timeout_ms);
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    vm_set_interrupt_hook(vm, watchdog_hook, &w, 0);
    watching = pthread_create(&wt, NULL, watchdog_main, &w) == 0;
  }
  int failed = vm_protect(vm, run, &j);
  if (watching) {
    pthread_mutex_lock(&w.mu);
    w.done = true;
    pthread_cond_signal(&w.cv);
    pthread_mutex_unlock(&w.mu);
    pthread_join(wt, NULL);
  }
  vm_set_interrupt_hook(vm, NULL, NULL, 0);
  int exit_code = 0;
  if (failed && vm_exited(vm, &exit_code)) failed = 0, j.result = NIL_VAL;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long ms = (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
  if (json) {
    const char *msg = failed ? str_data(err_display(vm, vm->error)) : "";
    json_envelope(vm, &cap, !failed, j.result, msg, exit_code, ms);
  } else if (exit_code) {
    rc = exit_code; /* without --json, (exit N) is the status as for a script */
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
