/* system.c - environment, processes and host information (stdlib.md §21).
 *
 * sys/args and exit live in core.c.  Tier C names (sys/on-signal,
 * sys/check-signals, sys/interner-stats) are not provided.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lib.h"
#include "offload.h"

extern char **environ;

static struct timespec start_time; /* for sys/elapsed */
static bool start_set;

/* ---- helpers ---- */

/* A C string from a Sema string argument; NULL when it holds a NUL byte. */
static const char *cstr_arg(VM *vm, Value v) {
  arg_string(vm, v);
  const char *s = str_data(v);
  return strlen(s) == str_len(v) ? s : NULL;
}

/* A string value from bytes, or nil when they are not valid UTF-8. */
static Value str_or_nil(VM *vm, const char *s) {
  if (!s) return NIL_VAL;
  size_t n = strlen(s), bad;
  if (!utf8_valid(s, n, &bad)) return NIL_VAL;
  return str_new(vm, s, n);
}


/* ---- environment ---- */

static Value n_env(VM *vm, int argc, Value *argv) {
  const char *name = cstr_arg(vm, argv[0]);
  if (!name || !*name) return NIL_VAL;
  return str_or_nil(vm, getenv(name));
}

static Value n_env_all(VM *vm, int argc, Value *argv) {
  Value m = map_empty(vm);
  for (char **e = environ; e && *e; e++) {
    const char *eq = strchr(*e, '=');
    if (!eq || eq == *e) continue;
    size_t klen = (size_t)(eq - *e), bad;
    if (!utf8_valid(*e, klen, &bad)) continue;
    Value val = str_or_nil(vm, eq + 1);
    if (is_nil(val)) continue;
    Value k = kw_val(sym_intern(vm, *e, klen));
    m = map_assoc(vm, m, k, val);
  }
  return m;
}

static Value n_set_env(VM *vm, int argc, Value *argv) {
  const char *name = cstr_arg(vm, argv[0]);
  const char *val = cstr_arg(vm, argv[1]);
  if (!name || !*name || strchr(name, '='))
    err_eval(vm, "sys/set-env: invalid variable name: %s", str_data(argv[0]));
  if (!val) err_eval(vm, "sys/set-env: value contains a NUL byte");
  if (setenv(name, val, 1) != 0) err_io(vm, "sys/set-env: %s", strerror(errno));
  return NIL_VAL;
}

/* ---- time ---- */

static Value n_time_ms(VM *vm, int argc, Value *argv) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return num_int(vm, (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000);
}

static Value n_sleep(VM *vm, int argc, Value *argv) {
  int64_t ms = arg_int(vm, argv[0]);
  if (ms <= 0) return NIL_VAL;
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  return NIL_VAL;
}

static Value n_elapsed(VM *vm, int argc, Value *argv) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  int64_t ns = (int64_t)(t.tv_sec - start_time.tv_sec) * 1000000000 + (t.tv_nsec - start_time.tv_nsec);
  return num_int(vm, ns < 0 ? 0 : ns);
}

/* ---- shell ----
 * An offloaded job (offload.h): the run half spawns the command and reads
 * its output on whatever thread runs it, so in a task ten shells overlap
 * (async.md §3.13).  The run half owns only C memory (plain malloc buffers:
 * StrBuf growth may be accounted to the heap, which a worker must not touch)
 * and reports failures as an errno; finish builds the result map or raises
 * on the interpreter thread.
 *
 * Offloaded, the child leads its own process group, so a cancelled task's
 * command dies with everything it started (§3.8: "shell process group
 * killed"); the reader polls in 100 ms slices to notice `cancelled`.
 * Synchronous, the child stays in our process group, so Ctrl-C at the
 * terminal reaches it as it does for any foreground command.
 *
 * The heap limit (gc.c, "THE HEAP LIMIT") covers the output too, without the
 * worker touching the heap: n_shell copies the room left (max_heap minus
 * live + allocated) into the job, and the reader never lets the two buffers
 * together pass it.  Output that would is cut off: the worker stops reading,
 * kills the child (its process group when it has one; else the child, and
 * closing our pipe ends gives whatever it started SIGPIPE), reaps it and sets
 * over_limit; finish then raises the catchable "out of memory" as any
 * counted allocation would.  So `(shell "yes")` holds at most the room in C
 * memory, and finish's copy into strings is itself counted. */

typedef struct {
  char *data;
  size_t len, cap;
  bool failed; /* out of memory: the output is incomplete */
} OutBuf;

typedef struct {
  OffloadJob base;
  char **argv;      /* malloc'ed copies; argv[0] is the program */
  bool use_sh;      /* argv is {"sh", "-c", cmd} */
  int err;          /* errno of a failed spawn/pipe, 0 when it ran */
  bool killed;      /* cancelled or over the limit: the child was killed */
  size_t room;      /* bytes of output allowed: the heap's room at the start */
  bool over_limit;  /* the output would have passed room: cut off, child killed */
  size_t wanted;    /* over_limit: the bytes the output would have needed */
  int64_t exit_code;
  OutBuf out[2];    /* stdout, stderr */
} ShellJob;

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void outbuf_add(OutBuf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
      b->failed = true;
      return;
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
}

static void shell_run(OffloadJob *j) {
  ShellJob *sj = (ShellJob *)j;
  bool own_group = j->offloaded;
  int outp[2] = {-1, -1}, errp[2] = {-1, -1};
  if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
    sj->err = errno;
    close_fd(&outp[0]), close_fd(&outp[1]), close_fd(&errp[0]), close_fd(&errp[1]);
    return;
  }

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
  posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
  posix_spawnattr_init(&attr);
  sigset_t def, mask;
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  sigaddset(&def, SIGINT);
  sigaddset(&def, SIGQUIT);
  sigemptyset(&mask);
  posix_spawnattr_setsigdefault(&attr, &def);
  posix_spawnattr_setsigmask(&attr, &mask);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (own_group) {
    posix_spawnattr_setpgroup(&attr, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attr, flags);

  pid_t pid;
  int rc = sj->use_sh ? posix_spawn(&pid, "/bin/sh", &fa, &attr, sj->argv, environ)
                      : posix_spawnp(&pid, sj->argv[0], &fa, &attr, sj->argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close_fd(&outp[1]);
  close_fd(&errp[1]);
  if (rc != 0) {
    close_fd(&outp[0]);
    close_fd(&errp[0]);
    sj->err = rc;
    return;
  }

  /* Read both pipes until EOF without blocking on either.  A killed group
   * closes its ends, so the loop ends after a cancel too. */
  int fds[2] = {outp[0], errp[0]};
  char chunk[65536];
  while (fds[0] >= 0 || fds[1] >= 0) {
    if (own_group && !sj->killed && atomic_load(&j->cancelled)) {
      kill(-pid, SIGKILL);
      sj->killed = true;
    }
    struct pollfd pf[2];
    int np = 0, which[2];
    for (int i = 0; i < 2; i++)
      if (fds[i] >= 0) {
        pf[np].fd = fds[i];
        pf[np].events = POLLIN;
        pf[np].revents = 0;
        which[np++] = i;
      }
    int pr = poll(pf, (nfds_t)np, own_group ? 100 : -1);
    if (pr < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < np; k++) {
      if (!pf[k].revents) continue;
      int i = which[k];
      ssize_t r = read(fds[i], chunk, sizeof chunk);
      if (r > 0) {
        size_t held = sj->out[0].len + sj->out[1].len;
        if ((size_t)r > sj->room || held > sj->room - (size_t)r) {
          sj->over_limit = true;
          sj->wanted = held + (size_t)r;
          break;
        }
        outbuf_add(&sj->out[i], chunk, (size_t)r);
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN))
        close_fd(&fds[i]);
    }
    if (sj->over_limit) {
      /* the rest of the output is not wanted: the child dies now (it may
       * never end on its own, like `yes`), and what it started gets SIGPIPE
       * from the closed pipes */
      if (!sj->killed) kill(own_group ? -pid : pid, SIGKILL);
      sj->killed = true;
      break;
    }
  }
  close_fd(&fds[0]);
  close_fd(&fds[1]);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  sj->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static Value shell_finish(VM *vm, OffloadJob *j) {
  ShellJob *sj = (ShellJob *)j;
  if (sj->err) err_io(vm, "shell: %s (os error %d)", strerror(sj->err), sj->err);
  if (sj->out[0].failed || sj->out[1].failed) err_eval(vm, "out of memory: shell: the command's output");
  /* the same error as a counted allocation of the output would raise (with
   * its grace, so the handler can allocate) */
  if (sj->over_limit) gc_oom(vm, sj->wanted);
  Value strs[2];
  for (int i = 0; i < 2; i++) {
    StrBuf s;
    sb_init_vm(&s, vm); /* counted: the output may be large */
    sb_add_lossy(&s, (const unsigned char *)sj->out[i].data, sj->out[i].len);
    strs[i] = sb_to_string(vm, &s);
  }
  Value m = map_empty(vm);
  m = map_assoc(vm, m, KW(vm, "exit-code"), num_int(vm, sj->exit_code));
  m = map_assoc(vm, m, KW(vm, "stdout"), strs[0]);
  m = map_assoc(vm, m, KW(vm, "stderr"), strs[1]);
  return m;
}

static void shell_destroy(OffloadJob *j) {
  ShellJob *sj = (ShellJob *)j;
  if (sj->argv)
    for (char **a = sj->argv; *a; a++) free(*a);
  free(sj->argv);
  free(sj->out[0].data);
  free(sj->out[1].data);
  free(sj);
}

static Value n_shell(VM *vm, int argc, Value *argv) {
  for (int i = 0; i < argc; i++) arg_string(vm, argv[i]);
  for (int i = 0; i < argc; i++)
    if (strlen(str_data(argv[i])) != str_len(argv[i])) err_io(vm, "shell: nul byte found in provided data");

  ShellJob *sj = calloc(1, sizeof *sj);
  int n = argc == 1 ? 3 : argc;
  char **cargv = sj ? calloc((size_t)n + 1, sizeof(char *)) : NULL;
  if (!cargv) {
    free(sj);
    err_eval(vm, "out of memory");
  }
  sj->argv = cargv;
  sj->use_sh = argc == 1;
  const char *sh[3] = {"sh", "-c", argc == 1 ? str_data(argv[0]) : NULL};
  for (int i = 0; i < n; i++) {
    const char *a = argc == 1 ? sh[i] : str_data(argv[i]);
    if (!(cargv[i] = strdup(a))) {
      shell_destroy(&sj->base);
      err_eval(vm, "out of memory");
    }
  }
  /* the room at the start: the worker may not read the heap's counters
   * (another thread changes them), so it gets a copy */
  sj->room = gc_room(vm);
  sj->base.run = shell_run;
  sj->base.finish = shell_finish;
  sj->base.destroy = shell_destroy;

  vm_flush(vm);
  return offload_run(vm, &sj->base);
}

/* ---- host information ---- */

static Value n_cwd(VM *vm, int argc, Value *argv) {
  char *d = getcwd(NULL, 0);
  if (!d) err_io(vm, "sys/cwd: %s", strerror(errno));
  StrBuf b;
  sb_init_vm(&b, vm);
  sb_add_lossy(&b, (const unsigned char *)d, strlen(d));
  free(d);
  return sb_to_string(vm, &b);
}

/* The operating system's name; sys/platform knows only the first three
 * (the reference's platform table) and calls the rest "unknown". */
static const char *os_name(bool bsds) {
#if defined(__linux__)
  return "linux";
#elif defined(__APPLE__)
  return "macos";
#elif defined(_WIN32)
  return "windows";
#elif defined(__FreeBSD__)
  return bsds ? "freebsd" : "unknown";
#elif defined(__OpenBSD__)
  return bsds ? "openbsd" : "unknown";
#elif defined(__NetBSD__)
  return bsds ? "netbsd" : "unknown";
#else
  return "unknown";
#endif
}

static Value n_platform(VM *vm, int argc, Value *argv) { return str_from_c(vm, os_name(false)); }
static Value n_os(VM *vm, int argc, Value *argv) { return str_from_c(vm, os_name(true)); }

static Value n_arch(VM *vm, int argc, Value *argv) {
#if defined(__x86_64__)
  return str_from_c(vm, "x86_64");
#elif defined(__aarch64__)
  return str_from_c(vm, "aarch64");
#elif defined(__i386__)
  return str_from_c(vm, "x86");
#elif defined(__arm__)
  return str_from_c(vm, "arm");
#elif defined(__riscv) && __riscv_xlen == 64
  return str_from_c(vm, "riscv64");
#elif defined(__powerpc64__)
  return str_from_c(vm, "powerpc64");
#elif defined(__s390x__)
  return str_from_c(vm, "s390x");
#else
  return str_from_c(vm, "unknown");
#endif
}

static Value n_pid(VM *vm, int argc, Value *argv) {
  return num_int(vm, (int64_t)getpid());
}

static Value n_hostname(VM *vm, int argc, Value *argv) {
  char buf[256];
  if (gethostname(buf, sizeof buf) != 0) return NIL_VAL;
  buf[sizeof buf - 1] = 0;
  return str_or_nil(vm, buf);
}

static const char *env_first(const char *a, const char *b) {
  const char *v = getenv(a);
  if (!v && b) v = getenv(b);
  return v;
}

static Value n_user(VM *vm, int argc, Value *argv) {
  const char *u = env_first("USER", "USERNAME");
  if (!u) {
    /* not in the environment (e.g. a container): the account name */
    struct passwd *pw = getpwuid(getuid());
    if (pw) u = pw->pw_name;
  }
  return str_or_nil(vm, u);
}

static Value n_home_dir(VM *vm, int argc, Value *argv) {
  return str_or_nil(vm, env_first("HOME", "USERPROFILE"));
}

static Value n_temp_dir(VM *vm, int argc, Value *argv) {
  const char *t = getenv("TMPDIR");
  return t ? str_or_nil(vm, t) : str_from_c(vm, "/tmp");
}

static Value home_join(VM *vm, const char *suffix) {
  const char *h = env_first("HOME", "USERPROFILE");
  if (!h) return NIL_VAL;
  StrBuf b;
  sb_init_vm(&b, vm);
  sb_adds(&b, h);
  if (b.len == 0 || b.data[b.len - 1] != '/') sb_addc(&b, '/');
  sb_adds(&b, suffix);
  size_t bad;
  if (!utf8_valid(b.data, b.len, &bad)) {
    sb_free(&b);
    return NIL_VAL;
  }
  return sb_to_string(vm, &b);
}

static Value n_config_dir(VM *vm, int argc, Value *argv) {
  const char *x = getenv("XDG_CONFIG_HOME");
  if (x && *x) return str_or_nil(vm, x);
#if defined(__APPLE__)
  return home_join(vm, "Library/Application Support");
#else
  return home_join(vm, ".config");
#endif
}

static Value n_sema_home(VM *vm, int argc, Value *argv) {
  const char *s = getenv("SEMA_HOME");
  if (s) return str_or_nil(vm, s);
  Value h = home_join(vm, ".sema");
  return is_nil(h) ? str_from_c(vm, ".sema") : h;
}

static Value n_interactive(VM *vm, int argc, Value *argv) {
  return bool_val(isatty(0));
}

static Value n_tty(VM *vm, int argc, Value *argv) {
  if (!isatty(0)) return NIL_VAL;
  return str_or_nil(vm, ttyname(0));
}

static Value n_which(VM *vm, int argc, Value *argv) {
  const char *name = cstr_arg(vm, argv[0]);
  const char *path = getenv("PATH");
  if (!name || !*name || !path) return NIL_VAL;
  StrBuf b;
  sb_init_vm(&b, vm);
  const char *p = path;
  for (;;) {
    const char *end = strchr(p, ':');
    size_t dl = end ? (size_t)(end - p) : strlen(p);
    b.len = 0;
    if (dl) {
      sb_add(&b, p, dl);
      if (b.data[b.len - 1] != '/') sb_addc(&b, '/');
    }
    sb_adds(&b, name);
    struct stat st;
    if (stat(b.data, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
      size_t bad;
      if (utf8_valid(b.data, b.len, &bad)) return sb_to_string(vm, &b);
    }
    if (!end) break;
    p = end + 1;
  }
  sb_free(&b);
  return NIL_VAL;
}

static Value n_term_size(VM *vm, int argc, Value *argv) {
  static const int fds[3] = {1, 2, 0};
  for (int i = 0; i < 3; i++) {
    struct winsize ws;
    if (!isatty(fds[i])) continue;
    if (ioctl(fds[i], TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0) continue;
    Value m = map_empty(vm);
    m = map_assoc(vm, m, KW(vm, "cols"), num_int(vm, ws.ws_col));
    m = map_assoc(vm, m, KW(vm, "rows"), num_int(vm, ws.ws_row));
    return m;
  }
  return NIL_VAL;
}

static const NativeDef defs[] = {
    {"env", n_env, 1, 1,
     "(env name)\nReturns the value of the environment variable name, or nil when it is not set."},
    {"sys/env-all", n_env_all, 0, 0,
     "(sys/env-all)\nReturns a sorted map from each environment variable's name, as a keyword, to its value."},
    {"sys/set-env", n_set_env, 2, 2,
     "(sys/set-env name value)\nSets the environment variable name to value for this process and the ones it starts; "
     "returns nil."},
    {"time-ms", n_time_ms, 0, 0,
     "(time-ms)\nReturns the wall-clock time in milliseconds since the Unix epoch, as an integer."},
    {"sleep", n_sleep, 1, 1,
     "(sleep ms)\nBlocks for ms milliseconds (an integer; a negative value counts as 0); returns nil."},
    {"shell", n_shell, 1, VARIADIC,
     "(shell cmd) or (shell program arg...)\nRuns the string cmd with /bin/sh -c, or program with the string args "
     "directly (found on PATH), with an empty stdin; waits and returns {:exit-code N :stdout \"...\" :stderr \"...\"}"
     " (:exit-code -1 when killed by a signal). Output that would pass the heap limit kills the command and raises"
     " \"out of memory\"."},
    {"sys/cwd", n_cwd, 0, 0,
     "(sys/cwd)\nReturns the absolute path of the current directory."},
    {"sys/platform", n_platform, 0, 0,
     "(sys/platform)\nReturns \"linux\", \"macos\", \"windows\" or \"unknown\"."},
    {"sys/os", n_os, 0, 0,
     "(sys/os)\nReturns the name of the operating system (\"linux\", \"macos\", \"freebsd\", ...)."},
    {"sys/arch", n_arch, 0, 0,
     "(sys/arch)\nReturns the CPU architecture (\"x86_64\", \"aarch64\", ...)."},
    {"sys/pid", n_pid, 0, 0,
     "(sys/pid)\nReturns the process id."},
    {"sys/hostname", n_hostname, 0, 0,
     "(sys/hostname)\nReturns the host name, or nil."},
    {"sys/user", n_user, 0, 0,
     "(sys/user)\nReturns $USER (or $USERNAME), or nil."},
    {"sys/home-dir", n_home_dir, 0, 0,
     "(sys/home-dir)\nReturns $HOME (or $USERPROFILE), or nil."},
    {"sys/temp-dir", n_temp_dir, 0, 0,
     "(sys/temp-dir)\nReturns $TMPDIR when it is set, else /tmp."},
    {"sys/config-dir", n_config_dir, 0, 0,
     "(sys/config-dir)\nReturns $XDG_CONFIG_HOME, else $HOME/.config."},
    {"sys/sema-home", n_sema_home, 0, 0,
     "(sys/sema-home)\nReturns $SEMA_HOME, else $HOME/.sema, else .sema."},
    {"sys/interactive?", n_interactive, 0, 0,
     "(sys/interactive?)\nReturns #t when the standard input is a terminal."},
    {"sys/tty", n_tty, 0, 0,
     "(sys/tty)\nReturns the device path of the terminal on the standard input, or nil."},
    {"sys/which", n_which, 1, 1,
     "(sys/which name)\nReturns the path of the first executable file called name on PATH, or nil."},
    {"sys/elapsed", n_elapsed, 0, 0,
     "(sys/elapsed)\nReturns the nanoseconds since the interpreter started (monotonic clock), as an integer."},
    {"sys/term-size", n_term_size, 0, 0,
     "(sys/term-size)\nReturns {:cols C :rows R} of the first of stdout, stderr and stdin that is a terminal, or nil."},
    {NULL, NULL, 0, 0},
};

void lib_system_init(VM *vm) {
  if (!start_set) {
    clock_gettime(CLOCK_MONOTONIC, &start_time);
    start_set = true;
  }
  env_register(vm, defs);
  env_alias(vm, "time/now-ms", "time-ms");
}
