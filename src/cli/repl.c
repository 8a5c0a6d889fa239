/* repl.c - the interactive loop (language.md §11.7).
 *
 * On a terminal: line editing, persistent history and tab completion of
 * global names through libedit (BSD licence), a continuation prompt while the
 * input is incomplete, meta-commands.  On a pipe: the same loop without
 * prompts or editing.
 */
#include <editline/readline.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../map.h"
#include "../reader.h"
#include "../runtime.h"
#include "cli.h"

static VM *repl_vm;
static sigjmp_buf repl_interrupt;
static volatile sig_atomic_t reading;

static void on_sigint(int sig) {
  if (reading) siglongjmp(repl_interrupt, 1);
  vm_interrupt_requested = 1; /* running code stops with the error "interrupted" */
}

/* ---- completion: global names ---- */

static char *complete_global(const char *text, int state) {
  static uint32_t next;
  static size_t len;
  VM *vm = repl_vm;
  if (state == 0) {
    next = 0;
    len = strlen(text);
    env_force_all(vm); /* the prelude's macros are names to complete too */
  }
  while (next < vm->nglobals) {
    GlobalCell *g = &vm->globals[next++];
    if (g->value == UNBOUND_VAL) continue;
    const char *name = sym_cstr(vm, g->name);
    if (name[0] != '%' && strncmp(name, text, len) == 0) return strdup(name);
  }
  return NULL;
}

static char **complete(const char *text, int start, int end) {
  rl_attempted_completion_over = 1;
  return rl_completion_matches(text, complete_global);
}

/* ---- history ---- */

static char history_path[4096];

static void history_setup(void) {
  const char *home = getenv("HOME");
  const char *file = getenv("SEMA_HISTORY");
  if (file)
    snprintf(history_path, sizeof history_path, "%s", file);
  else if (home)
    snprintf(history_path, sizeof history_path, "%s/.sema_history", home);
  using_history();
  stifle_history(1000);
  if (history_path[0]) read_history(history_path);
}

/* ---- evaluation of one entry ---- */

typedef struct {
  const char *src;
  size_t len;
  const char *name; /* "<repl:N>", the entry's file name in positions; NULL for meta-commands */
  Value result;
} Entry;

static void eval_entry(VM *vm, void *ud) {
  Entry *e = ud;
  e->result = compile_eval_string(vm, e->src, e->len, e->name);
}

static void set_global(VM *vm, const char *name, Value v) { env_set_global(vm, env_global_cell(vm, SYM(vm, name)), v); }

static void remember(VM *vm, Value v) {
  set_global(vm, "*3", env_get(vm, "*2") == UNBOUND_VAL ? NIL_VAL : env_get(vm, "*2"));
  set_global(vm, "*2", env_get(vm, "*1") == UNBOUND_VAL ? NIL_VAL : env_get(vm, "*1"));
  set_global(vm, "*1", v);
}

static void print_result(VM *vm, Value v) {
  StrBuf b;
  sb_init(&b);
  print_pretty(vm, &b, v, 80);
  sb_addc(&b, '\n');
  vm_write(vm, b.data, b.len);
  sb_free(&b);
}

/* "(define NAME" / "(defun NAME" / "(defmacro NAME": the defined name, else NULL */
static bool defined_name(const char *src, char *out, size_t cap) {
  while (*src == ' ' || *src == '\t' || *src == '\n' || *src == '\r') src++;
  static const char *const heads[] = {"(define ", "(defun ", "(defmacro ", "(defn ", "(def "};
  for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
    size_t n = strlen(heads[i]);
    if (strncmp(src, heads[i], n) != 0) continue;
    const char *p = src + n;
    while (*p == ' ' || *p == '(') p++;
    size_t k = 0;
    while (p[k] && !strchr(" \t\n\r()[]{}", p[k]) && k + 1 < cap) k++;
    memcpy(out, p, k);
    out[k] = 0;
    return k > 0;
  }
  return false;
}

static void run_entry(VM *vm, const char *src, size_t len) {
  static unsigned entries;
  char name[32];
  snprintf(name, sizeof name, "<repl:%u>", ++entries);
  cli_keep_source(name, src, len);
  Entry e = {src, len, name, NIL_VAL};
  reading = 0;
  if (vm_protect(vm, eval_entry, &e)) {
    fflush(stdout);
    cli_report_error(vm, "", src, len, name);
    set_global(vm, "*e", err_display(vm, vm->error));
    return;
  }
  if (e.result != NIL_VAL) {
    remember(vm, e.result);
    print_result(vm, e.result);
  } else {
    char name[256];
    if (defined_name(src, name, sizeof name)) printf("; defined %s\n", name);
  }
  fflush(stdout);
}

/* ---- meta-commands ---- */

static void meta_help(void) {
  printf(",help          this help\n"
         ",quit ,exit ,q leave (Ctrl-D works too)\n"
         ",env           user definitions\n"
         ",builtins      builtin procedures\n"
         ",type EXPR     the type of EXPR's value\n"
         ",time EXPR     evaluate EXPR and report the elapsed time\n"
         ",doc NAME      signature and description of NAME (also: sema doc NAME)\n");
}

static void list_globals(VM *vm, bool builtins) {
  int n = 0;
  env_force_all(vm);
  for (uint32_t i = 0; i < vm->nglobals; i++) {
    GlobalCell *g = &vm->globals[i];
    if (g->value == UNBOUND_VAL) continue;
    const char *name = sym_cstr(vm, g->name);
    if (name[0] == '%' || name[0] == '*') continue;
    bool builtin = is_native(g->value) || (is_objtype(g->value, OBJ_MACRO) && i < vm->first_user_global);
    if (builtin != builtins || (builtins && i >= vm->first_user_global)) continue;
    printf("%s%s", n++ % 6 ? "  " : (n > 1 ? "\n" : ""), name);
  }
  if (n) printf("\n");
}

static void meta_eval(VM *vm, const char *expr, bool type_only) {
  size_t len = strlen(expr);
  Entry e = {expr, len, NULL, NIL_VAL};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (vm_protect(vm, eval_entry, &e)) {
    cli_report_error(vm, "", expr, len, NULL);
    return;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (type_only) {
    print_result(vm, val_type_keyword(vm, e.result));
    return;
  }
  print_result(vm, e.result);
  fprintf(stderr, "; elapsed %.3f ms\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
}

/* Returns 1 to quit, 0 when the line was a meta-command, -1 otherwise. */
static int meta_command(VM *vm, const char *line) {
  while (*line == ' ' || *line == '\t') line++;
  char cmd[32] = {0};
  size_t k = 0;
  while (line[k] && line[k] != ' ' && line[k] != '\n' && k + 1 < sizeof cmd) {
    cmd[k] = line[k];
    k++;
  }
  const char *arg = line + k;
  while (*arg == ' ') arg++;
  if (!strcmp(cmd, ",quit") || !strcmp(cmd, ",exit") || !strcmp(cmd, ",q") || !strcmp(cmd, "quit") ||
      !strcmp(cmd, "exit") || !strcmp(cmd, ":q"))
    return *arg && *arg != '\n' ? -1 : 1;
  if (cmd[0] != ',') return -1;
  if (!strcmp(cmd, ",help"))
    meta_help();
  else if (!strcmp(cmd, ",env"))
    list_globals(vm, false);
  else if (!strcmp(cmd, ",builtins"))
    list_globals(vm, true);
  else if (!strcmp(cmd, ",type"))
    meta_eval(vm, arg, true);
  else if (!strcmp(cmd, ",time"))
    meta_eval(vm, arg, false);
  else if (!strcmp(cmd, ",doc")) {
    char name[256];
    snprintf(name, sizeof name, "%s", arg);
    name[strcspn(name, " \n")] = 0;
    if (name[0])
      cli_doc_print(vm, name, stdout);
    else
      printf("usage: ,doc NAME\n");
  } else
    printf("unknown command %s (try ,help)\n", cmd);
  fflush(stdout);
  return 0;
}

/* ---- the loop ---- */

static char *next_line(bool tty, bool continuation) {
  if (tty) return readline(continuation ? "  ... " : "sema> ");
  static char *buf;
  static size_t cap;
  ssize_t n = getline(&buf, &cap, stdin);
  if (n < 0) return NULL;
  if (n > 0 && buf[n - 1] == '\n') buf[n - 1] = 0;
  return strdup(buf);
}

int cli_repl(VM *vm, bool quiet) {
  const volatile bool tty = isatty(0) && isatty(1); /* read after sigsetjmp returns */
  repl_vm = vm;
  if (tty) {
    history_setup();
    rl_attempted_completion_function = complete;
    signal(SIGINT, on_sigint);
  }
  if (!quiet && tty) printf("Sema v%s\nType ,help for help, ,quit to exit\n\n", SEMA_VERSION);
  StrBuf pending;
  sb_init(&pending);
  int rc = 0;
  for (;;) {
    if (tty && sigsetjmp(repl_interrupt, 1)) {
      printf("\n");
      pending.len = 0;
    }
    reading = 1;
    char *line = next_line(tty, pending.len > 0);
    reading = 0;
    if (!line) break;
    if (pending.len == 0) {
      int m = meta_command(vm, line);
      if (m == 1) {
        free(line);
        break;
      }
      if (m == 0) {
        if (tty) add_history(line);
        free(line);
        continue;
      }
      if (!line[strspn(line, " \t\r")]) {
        free(line);
        continue;
      }
    }
    sb_adds(&pending, line);
    sb_addc(&pending, '\n');
    free(line);
    if (reader_is_incomplete(vm, pending.data, pending.len)) continue;
    if (tty) {
      /* one history item per entry, multi-line entries included */
      char *item = strdup(pending.data);
      item[strlen(item) - 1] = 0;
      add_history(item);
      free(item);
    }
    run_entry(vm, pending.data, pending.len);
    pending.len = 0;
  }
  if (pending.len) {
    pending.data[pending.len - 1] = 0;
    fprintf(stderr, "error: unterminated input at EOF: %s\n", pending.data);
    rc = 1;
  }
  sb_free(&pending);
  if (tty && history_path[0]) write_history(history_path);
  printf("Goodbye!\n");
  fflush(stdout);
  return rc;
}
