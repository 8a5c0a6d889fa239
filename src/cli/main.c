/* main.c - the `sema` command (language.md §11). */
#include <ctype.h>
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
#include "../lib/doc.h"
#include "../lib/llm_cli.h"
#include "cli.h"
#include "fmt.h"


static void usage(FILE *f) {
  fprintf(f,
          "usage: sema [OPTIONS] [FILE] [-- SCRIPT-ARGS ...]\n"
          "       sema doc NAME | --search WORD   documentation of the builtins (sema doc --help)\n"
          "       sema fmt [--check|--diff|--stdout] [FILES...]   format source (sema fmt --help)\n"
          "  -e, --eval EXPR     evaluate EXPR, print the result unless nil\n"
          "  -p, --print EXPR    evaluate EXPR, always print the result\n"
          "  -l, --load FILE     load FILE first (repeatable)\n"
          "  -i, --interactive   start the REPL after FILE/-e/-p\n"
          "  -q, --quiet         no REPL banner\n"
          "  -                   run the program on stdin (also when stdin is not a terminal)\n"
          "  --check FILE        read and compile FILE without running it; report its errors\n"
          "  --max-heap SIZE     heap limit (e.g. 512M, 2G; default: SEMA_MAX_HEAP or half the RAM);\n"
          "                      exceeding it raises a catchable out-of-memory error\n"
          "  --interp            run on the reference tree-walking evaluator instead of the VM\n"
          "  --no-llm            do not configure LLM providers from the environment\n"
          "  --chat-model M, --chat-provider P, --embedding-model M, --embedding-provider P\n"
          "                      choose the default models and providers (SEMA_CHAT_MODEL ...)\n"
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

/* Sources the CLI ran that are not files on disk (REPL entries): an error in
 * a function defined by an earlier entry shows that entry's line. */
typedef struct {
  char *name, *src;
  size_t len;
} KeptSource;
static KeptSource *kept;
static size_t nkept, capkept;

void cli_keep_source(const char *name, const char *src, size_t len) {
  if (nkept == capkept) {
    capkept = capkept ? capkept * 2 : 16;
    kept = realloc(kept, capkept * sizeof *kept);
    if (!kept) abort();
  }
  kept[nkept].name = strdup(name);
  kept[nkept].src = malloc(len + 1);
  if (!kept[nkept].name || !kept[nkept].src) abort();
  memcpy(kept[nkept].src, src, len);
  kept[nkept].src[len] = 0;
  kept[nkept++].len = len;
}

void cli_free_sources(void) {
  for (size_t i = 0; i < nkept; i++) free(kept[i].name), free(kept[i].src);
  free(kept);
  kept = NULL;
  nkept = capkept = 0;
}

/* Position of the error: the reader's (with the file being read), else the
 * innermost frame that has one, in whatever file that frame's code came from. */
static bool error_position(VM *vm, Value err, Value *file, long *line, long *col) {
  Value l = NIL_VAL, c = NIL_VAL, trace = NIL_VAL;
  *file = NIL_VAL;
  if (map_get(err, KW(vm, "line"), &l) && map_get(err, KW(vm, "col"), &c) && is_int(l) && is_int(c)) {
    map_get(err, KW(vm, "file"), file);
    *line = (long)int_of(l), *col = (long)int_of(c);
    return true;
  }
  if (!map_get(err, KW(vm, "stack-trace"), &trace)) return false;
  for (Value t = trace; is_cons(t); t = cdr(t)) {
    Value fr = car(t);
    if (!is_map(fr) || !map_get(fr, KW(vm, "line"), &l) || !map_get(fr, KW(vm, "col"), &c) || !is_int(l)) continue;
    map_get(fr, KW(vm, "file"), file);
    *line = (long)int_of(l), *col = (long)int_of(c);
    return true;
  }
  return false;
}

/* Names from other Lisps that new users type (language.md §10.1: hints). */
static const char *const dialect_hints[][2] = {
    {"setq", "Sema uses (set! name value) to assign a variable"},
    {"setf", "Sema uses (set! name value) to assign a variable"},
    {"defvar", "Sema uses (define name value) for a global"},
    {"defparameter", "Sema uses (define name value) for a global"},
    {"defconst", "Sema uses (define name value) for a global"},
    {"funcall", "call the function directly: (f arg ...), or (apply f args)"},
    {"null", "Sema's predicate is null? (and nil? for nil)"},
    {"eq", "Sema's predicates are eq? and equal? (or =)"},
    {"equal", "Sema's predicate is equal? (or =)"},
    {"elt", "use (nth sequence index)"},
    {"nthcdr", "use (drop n list)"},
    {"concat", "use (str a b ...) to build a string, (append l1 l2) for lists"},
    {"strcat", "use (str a b ...) to build a string"},
    {"len", "use (length x)"},
    {"puts", "use (println x)"},
    {"echo", "use (println x)"},
    {"dolist", "use (for-each (fn (x) ...) list)"},
    {"incf", "use (set! x (+ x 1))"},
    {"decf", "use (set! x (- x 1))"},
    {"loop", "Sema loops with a named let, (let loop ((i 0)) ... (loop (+ i 1))), or do"},
    {"while", "Sema loops with a named let or do"},
    {"progn", "use (begin ...)"},
    {"t", "Sema's true is #t (and false is #f)"},
    {"true", "Sema's true is #t (and false is #f)"},
    {"false", "Sema's false is #f"},
    {"None", "Sema's nothing is nil"},
    {"null?", "use (null? x) as a call, or nil for the empty value"},
};

/* The hint of an error as the CLI shows it (and sema eval --json): the one
 * raised with it, else for an unbound name the dialect hint or the closest
 * bound names, locals in scope there and special forms ("Did you mean
 * 'println'?"). */
Value cli_error_hint(VM *vm, Value err) {
  if (is_string(vm->error_hint)) return vm->error_hint;
  Value type = NIL_VAL, name = NIL_VAL;
  if (!is_map(err) || !map_get(err, KW(vm, "type"), &type) || !is_kw(type) || strcmp(sym_cstr(vm, type), "unbound") != 0 ||
      !map_get(err, KW(vm, "name"), &name) || !is_string(name))
    return NIL_VAL;
  for (size_t i = 0; i < sizeof dialect_hints / sizeof dialect_hints[0]; i++)
    if (strcmp(str_data(name), dialect_hints[i][0]) == 0) return str_from_c(vm, dialect_hints[i][1]);
  Value file;
  long line, col;
  if (!error_position(vm, err, &file, &line, &col)) line = 0;
  Value close = doc_suggest_at(vm, str_data(name), line);
  if (!is_cons(close)) return NIL_VAL;
  vm_push_root(vm, close);
  StrBuf b;
  sb_init(&b);
  sb_addf(&b, "Did you mean '%s'", sym_cstr(vm, car(close)));
  if (is_cons(cdr(close))) sb_addf(&b, " or '%s'", sym_cstr(vm, car(cdr(close))));
  sb_addc(&b, '?');
  Value h = sb_to_string(vm, &b);
  vm_pop_roots(vm, 1);
  return h;
}

void cli_report_error(VM *vm, const char *prefix, const char *src, size_t len, const char *file) {
  Value err = vm->error;
  Value disp = err_display(vm, err);
  fprintf(stderr, "%sError: %s\n", prefix, str_data(disp));
  if (!is_map(err)) return;
  long line, col;
  bool reader = false;
  Value type = NIL_VAL, pfile;
  if (map_get(err, KW(vm, "type"), &type) && is_kw(type)) reader = strcmp(sym_cstr(vm, type), "reader") == 0;
  if (error_position(vm, err, &pfile, &line, &col)) {
    /* the excerpt comes from the file the position is in: the unit being
     * run, an earlier REPL entry, or a loaded/imported file read again */
    const char *pname = is_string(pfile) ? str_data(pfile) : NULL;
    bool here = pname ? file && strcmp(pname, file) == 0 : !file;
    const char *text = here ? src : NULL;
    size_t tlen = here ? len : 0;
    char *owned = NULL;
    for (size_t i = 0; !text && pname && i < nkept; i++)
      if (strcmp(kept[i].name, pname) == 0) text = kept[i].src, tlen = kept[i].len;
    if (!text && pname && pname[0] != '<') {
      int e = 0;
      text = owned = reader_read_file(pname, &tlen, &e);
    }
    if (reader || !here) fprintf(stderr, "  --> %s:%ld:%ld\n", pname ? pname : "<input>", line, col);
    if (text) cli_print_excerpt(text, tlen, line, col);
    free(owned);
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
  Value hint = cli_error_hint(vm, err);
  if (is_string(hint)) fprintf(stderr, "  hint: %s\n", str_data(hint));
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


/* `sema -` and a piped stdin: the program is a script named <stdin>. */
static int run_stdin(VM *vm) {
  size_t len;
  char *src = cli_read_stdin(&len);
  EvalJob j = {src, len, "<stdin>", NIL_VAL, PRINT_NONE};
  int rc = vm_protect(vm, do_eval, &j);
  if (rc) {
    fflush(stdout);
    cli_report_error(vm, "", src, len, "<stdin>");
  }
  free(src);
  return rc ? 1 : 0;
}

/* ---- sema --check FILE: read and compile without running ---- */

typedef struct {
  const char *src;
  size_t len;
  Value file, forms;
} CheckJob;

static void check_read(VM *vm, void *ud) {
  CheckJob *j = ud;
  vm->cur_file = j->file; /* reader errors name the file; vm_protect restores cur_file */
  j->forms = reader_read_all(vm, j->src, j->len);
}

static void check_form(VM *vm, void *ud) {
  CheckJob *j = ud;
  vm->cur_file = j->file;
  compile_forms_only(vm, j->forms, j->file);
}

/* The first syntax error, else every form that does not compile (each
 * top-level form is compiled on its own, so one error does not hide the
 * next).  Nothing runs: macros defined in the file are not expanded. */
static int check_file(VM *vm, const char *path) {
  size_t len;
  int err = 0;
  char *src = path[0] == '-' && !path[1] ? cli_read_stdin(&len) : reader_read_file(path, &len, &err);
  if (!src) {
    fprintf(stderr, "error: %s: %s\n", err == ENOENT ? "file not found" : "reading", path);
    return 1;
  }
  const char *name = path[0] == '-' && !path[1] ? "<stdin>" : path;
  CheckJob j = {src, len, str_from_c(vm, name), NIL_VAL};
  vm_push_root(vm, j.file);
  int errors = 0;
  if (vm_protect(vm, check_read, &j)) {
    cli_report_error(vm, "", src, len, name);
    errors = 1;
  } else {
    Value forms = j.forms;
    vm_push_root(vm, forms);
    for (Value l = forms; is_cons(l); l = cdr(l)) {
      CheckJob one = {src, len, j.file, list_1(vm, car(l))};
      vm_push_root(vm, one.forms);
      if (vm_protect(vm, check_form, &one)) {
        cli_report_error(vm, "", src, len, name);
        errors++;
      }
      vm_pop_roots(vm, 1);
    }
    vm_pop_roots(vm, 1);
  }
  vm_pop_roots(vm, 1);
  free(src);
  if (errors > 1) fprintf(stderr, "%s: %d errors\n", name, errors);
  return errors ? 1 : 0;
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
  if (argc > 1 && strcmp(argv[1], "doc") == 0) return cli_doc_command(argc, argv);
  if (argc > 1 && strcmp(argv[1], "fmt") == 0) return cli_fmt_command(argc, argv);
  const char *expr = NULL, *file = NULL, *check = NULL;
  bool print_mode = false, interactive = false, quiet = false, no_llm = false, llm_report = false;
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
    } else if (strcmp(a, "--check") == 0) {
      if (i + 1 >= argc || check) {
        usage(stderr);
        return 2;
      }
      check = argv[++i];
    } else if (strcmp(a, "-") == 0) {
      if (file || expr) {
        usage(stderr);
        return 2;
      }
      file = a;
    } else if (strcmp(a, "-i") == 0 || strcmp(a, "--interactive") == 0) {
      interactive = true;
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
      quiet = true;
    } else if (strcmp(a, "--no-llm") == 0) {
      no_llm = true;
    } else if (strcmp(a, "--interp") == 0) {
    } else if (strcmp(a, "--chat-model") == 0 || strcmp(a, "--chat-provider") == 0 || strcmp(a, "--embedding-model") == 0 ||
               strcmp(a, "--embedding-provider") == 0) {
      if (i + 1 >= argc) {
        usage(stderr);
        return 2;
      }
      /* --chat-model M sets SEMA_CHAT_MODEL, ... (llm.md §7.6) */
      char var[40];
      snprintf(var, sizeof var, "SEMA_%s", a + 2);
      for (char *p = var + 5; *p; p++) *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
      if (strncmp(a, "--chat", 6) == 0) llm_report = true;
      setenv(var, argv[++i], 1);
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
  int rc = no_llm ? 0 : llm_cli_auto_configure(vm, llm_report);
  /* The memory-failure test mode (tests/reliability/oom_sweep.sh): armed
   * here, so the N-th allocation of the program (loads, file, expression,
   * all under protection) fails; start-up itself is not swept. */
  const char *fail_at = getenv("SEMA_FAIL_ALLOC");
  if (fail_at && *fail_at) gc_fail_arm(vm, strtoull(fail_at, NULL, 10));
  for (int i = 0; i < nloads && rc == 0; i++) {
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "Error loading %s: ", loads[i]);
    rc = run_file(vm, loads[i], prefix);
  }
  /* stdin that is not a terminal is a script (language.md §11.7 as amended), unless -i */
  bool piped = !expr && !file && !interactive && !isatty(0);
  if (check) {
    if (expr || file) {
      usage(stderr);
      rc = 2;
    } else
      rc = check_file(vm, check);
  } else if (rc == 0) {
    if (expr)
      rc = run_expr(vm, expr, print_mode);
    else if ((file && strcmp(file, "-") == 0) || piped)
      rc = run_stdin(vm);
    else if (file)
      rc = run_file(vm, file, "");
    if (rc == 0 && (interactive || (!expr && !file && !piped))) rc = cli_repl(vm, quiet);
  }
  fflush(stdout);
  vm_free(vm);
  cli_free_sources();
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
