/* main.c - the `sema` command (language.md §11). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../boot.h"
#include "../interp.h"
#include "../compiler.h"
#include "../map.h"
#include "../reader.h"
#include "../runtime.h"
#include "../lib/lib.h"
#include "cli.h"


static void usage(FILE *f) {
  fprintf(f,
          "usage: sema [OPTIONS] [FILE] [-- SCRIPT-ARGS ...]\n"
          "  -e, --eval EXPR     evaluate EXPR, print the result unless nil\n"
          "  -p, --print EXPR    evaluate EXPR, always print the result\n"
          "  -l, --load FILE     load FILE first (repeatable)\n"
          "  -i, --interactive   start the REPL after FILE/-e/-p\n"
          "  -q, --quiet         no REPL banner\n"
          "  --max-heap SIZE     heap limit (e.g. 512M, 2G; default: SEMA_MAX_HEAP or half the RAM);\n"
          "                      exceeding it raises a catchable out-of-memory error\n"
          "  --interp            run on the reference tree-walking evaluator instead of the VM\n"
          "  -V, --version       print the version\n"
          "  -h, --help          this help\n");
}

/* ---- error reports (§10.4) ---- */

static void print_frame_line(VM *vm, Value frame) {
  Value name = NIL_VAL, line = NIL_VAL, col = NIL_VAL, file = NIL_VAL;
  map_get(frame, KW(vm, "name"), &name);
  map_get(frame, KW(vm, "line"), &line);
  map_get(frame, KW(vm, "col"), &col);
  map_get(frame, KW(vm, "file"), &file);
  fprintf(stderr, "  at %s", is_string(name) ? str_data(name) : "<lambda>");
  if (is_int(line))
    fprintf(stderr, " (%s:%lld:%lld)", is_string(file) ? str_data(file) : "<input>", (long long)int_of(line),
            (long long)(is_int(col) ? int_of(col) : 0));
  fputc('\n', stderr);
}

/* The source line at LINE with a caret under COL. */
static void print_excerpt(const char *src, size_t len, long line, long col) {
  const char *p = src, *end = src + len;
  for (long l = 1; l < line && p < end; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return;
    p = nl + 1;
  }
  const char *e = memchr(p, '\n', (size_t)(end - p));
  if (!e) e = end;
  if (e > p && e[-1] == '\r') e--;
  /* long lines: show a window of about 100 bytes around the column */
  long c = 1;
  const char *from = p;
  while (from < e && c < col - 60) {
    from++;
    if (((unsigned char)*from & 0xC0) != 0x80) c++;
  }
  p = from;
  if (e - p > 120) {
    e = p + 120;
    while (e > p && ((unsigned char)*e & 0xC0) == 0x80) e--;
  }
  fprintf(stderr, "%5ld | %s%.*s\n      | %s", line, from > src && c > 1 ? "..." : "", (int)(e - p), p,
          c > 1 ? "   " : "");
  for (const char *q = p; q < e && c < col; q++) {
    if (((unsigned char)*q & 0xC0) == 0x80) continue;
    fputc(*q == '\t' ? '\t' : ' ', stderr);
    c++;
  }
  fputs("^\n", stderr);
}

/* Position of the error: the reader's, else the innermost frame's in this source. */
static bool error_position(VM *vm, Value err, const char *file, long *line, long *col) {
  Value l = NIL_VAL, c = NIL_VAL, trace = NIL_VAL;
  if (map_get(err, KW(vm, "line"), &l) && map_get(err, KW(vm, "col"), &c) && is_int(l) && is_int(c)) {
    *line = (long)int_of(l), *col = (long)int_of(c);
    return true;
  }
  if (!map_get(err, KW(vm, "stack-trace"), &trace)) return false;
  for (Value t = trace; is_cons(t); t = cdr(t)) {
    Value fr = car(t), f = NIL_VAL;
    if (!is_map(fr) || !map_get(fr, KW(vm, "line"), &l) || !map_get(fr, KW(vm, "col"), &c)) continue;
    map_get(fr, KW(vm, "file"), &f);
    bool same = file ? (is_string(f) && strcmp(str_data(f), file) == 0) : !is_string(f);
    if (!same) continue;
    *line = (long)int_of(l), *col = (long)int_of(c);
    return true;
  }
  return false;
}

void cli_report_error(VM *vm, const char *prefix, const char *src, size_t len, const char *file) {
  Value err = vm->error;
  Value disp = err_display(vm, err);
  fprintf(stderr, "%sError: %s\n", prefix, str_data(disp));
  if (!is_map(err)) return;
  long line, col;
  bool reader = false;
  Value type = NIL_VAL;
  if (map_get(err, KW(vm, "type"), &type) && is_kw(type)) reader = strcmp(sym_cstr(vm, type), "reader") == 0;
  if (src && error_position(vm, err, file, &line, &col)) {
    if (reader) fprintf(stderr, "  --> %s:%ld:%ld\n", file ? file : "<input>", line, col);
    print_excerpt(src, len, line, col);
  }
  Value trace = NIL_VAL;
  int shown = 0;
  if (map_get(err, KW(vm, "stack-trace"), &trace))
    for (Value l = trace; is_cons(l); l = cdr(l), shown++) {
      if (shown == 10) {
        fprintf(stderr, "  ... (%lld more frames)\n", (long long)list_length(l));
        break;
      }
      if (is_map(car(l))) print_frame_line(vm, car(l));
    }
  if (is_string(vm->error_hint)) fprintf(stderr, "  hint: %s\n", str_data(vm->error_hint));
  fflush(stderr);
}

/* ---- running units under protection ---- */

typedef enum { PRINT_NONE, PRINT_WRITE, PRINT_PRETTY } PrintMode;

typedef struct {
  const char *src;
  size_t len;
  const char *file;
  Value result;
  PrintMode print;
} EvalJob;

/* Printing happens under the same protection: printing a deeply nested value
 * can raise "stack overflow" like any other operation. */
static void do_eval(VM *vm, void *ud) {
  EvalJob *j = ud;
  j->result = compile_eval_string(vm, j->src, j->len, j->file);
  if (j->print == PRINT_NONE || (j->print == PRINT_PRETTY && j->result == NIL_VAL)) return;
  vm_push_root(vm, j->result);
  StrBuf b;
  sb_init(&b);
  if (j->print == PRINT_WRITE)
    print_value(vm, &b, j->result, true);
  else
    print_pretty(vm, &b, j->result, 80);
  sb_addc(&b, '\n');
  vm_write(vm, b.data, b.len);
  sb_free(&b);
  vm_pop_roots(vm, 1);
}

static int run_file(VM *vm, const char *path, const char *error_prefix) {
  size_t len;
  int err = 0;
  char *src = reader_read_file(path, &len, &err);
  if (!src) {
    if (err == ENOENT)
      fprintf(stderr, "error: file not found: %s\n", path);
    else if (err == EACCES)
      fprintf(stderr, "error: permission denied: %s\n", path);
    else
      fprintf(stderr, "error: reading %s: %s\n", path, strerror(err));
    return 1;
  }
  EvalJob j = {src, len, path, NIL_VAL, PRINT_NONE};
  int rc = vm_protect(vm, do_eval, &j);
  if (rc) {
    fflush(stdout);
    cli_report_error(vm, error_prefix, src, len, path);
  }
  free(src);
  return rc ? 1 : 0;
}

static int run_expr(VM *vm, const char *src, bool always_print) {
  EvalJob j = {src, strlen(src), NULL, NIL_VAL, always_print ? PRINT_WRITE : PRINT_PRETTY};
  if (vm_protect(vm, do_eval, &j)) {
    fflush(stdout);
    cli_report_error(vm, "", src, strlen(src), NULL);
    return 1;
  }
  return 0;
}

/* --interp nests C calls for every Sema call: it runs on a thread with a big stack */
#define INTERP_STACK ((size_t)1 << 30)

static int cli_main(int argc, char **argv, bool interp) {
  if (argc > 1 && strcmp(argv[1], "eval") == 0) return cli_eval_command(argc, argv);
  const char *expr = NULL, *file = NULL;
  bool print_mode = false, interactive = false, quiet = false;
  const char *loads[64];
  int nloads = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) break;
    if ((strcmp(a, "-e") == 0 || strcmp(a, "--eval") == 0 || strcmp(a, "-p") == 0 || strcmp(a, "--print") == 0)) {
      if (i + 1 >= argc || expr || file) {
        usage(stderr);
        return 2;
      }
      print_mode = a[1] == 'p' || strcmp(a, "--print") == 0;
      expr = argv[++i];
    } else if (strcmp(a, "-l") == 0 || strcmp(a, "--load") == 0) {
      if (i + 1 >= argc || nloads == 64) {
        usage(stderr);
        return 2;
      }
      loads[nloads++] = argv[++i];
    } else if (strcmp(a, "-i") == 0 || strcmp(a, "--interactive") == 0) {
      interactive = true;
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
      quiet = true;
    } else if (strcmp(a, "--no-llm") == 0 || strcmp(a, "--interp") == 0) {
    } else if (strcmp(a, "--max-heap") == 0) {
      if (i + 1 >= argc || !gc_parse_size(argv[i + 1])) {
        fprintf(stderr, "sema: --max-heap needs a size such as 512M or 2G\n");
        return 2;
      }
      setenv("SEMA_MAX_HEAP", argv[++i], 1); /* read by the heap of every VM, REPL and eval included */
    } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
      printf("sema %s\n", SEMA_VERSION);
      return 0;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "sema: unknown option %s\n", a);
      usage(stderr);
      return 2;
    } else {
      if (file || expr) {
        usage(stderr);
        return 2;
      }
      file = a;
    }
  }
  VM *vm = boot_vm_new();
  if (interp) {
    interp_enable(vm);
    vm_set_c_stack_size(vm, INTERP_STACK);
  }
  vm->args = EMPTY_VAL;
  for (int i = argc; i-- > 0;) vm->args = list_cons(vm, str_from_c(vm, argv[i]), vm->args);
  /* The memory-failure test mode (tests/reliability/oom_sweep.sh): armed
   * here, so the N-th allocation of the program (loads, file, expression,
   * all under protection) fails; start-up itself is not swept. */
  const char *fail_at = getenv("SEMA_FAIL_ALLOC");
  if (fail_at && *fail_at) gc_fail_arm(vm, strtoull(fail_at, NULL, 10));
  int rc = 0;
  for (int i = 0; i < nloads && rc == 0; i++) {
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "Error loading %s: ", loads[i]);
    rc = run_file(vm, loads[i], prefix);
  }
  if (rc == 0) {
    if (expr)
      rc = run_expr(vm, expr, print_mode);
    else if (file)
      rc = run_file(vm, file, "");
    if (rc == 0 && (interactive || (!expr && !file))) rc = cli_repl(vm, quiet);
  }
  fflush(stdout);
  vm_free(vm);
  return rc;
}

typedef struct {
  int argc;
  char **argv;
  int rc;
} MainJob;

static void *interp_thread(void *ud) {
  MainJob *j = ud;
  j->rc = cli_main(j->argc, j->argv, true);
  regex_thread_cleanup();
  return NULL;
}

int main(int argc, char **argv) {
  bool interp = false;
  for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (strcmp(argv[i], "--interp") == 0) interp = true;
  if (!interp) return cli_main(argc, argv, false);
  MainJob j = {argc, argv, 0};
  pthread_attr_t attr;
  pthread_t t;
  pthread_attr_init(&attr);
  if (pthread_attr_setstacksize(&attr, INTERP_STACK) != 0 || pthread_create(&t, &attr, interp_thread, &j) != 0) {
    fprintf(stderr, "sema: cannot start the --interp thread\n");
    return 70;
  }
  pthread_join(t, NULL);
  return j.rc;
}
