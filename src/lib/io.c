/* io.c - printing and formatting, console input, the reader as a function,
 * files, streaming lines and paths (stdlib.md §11.7, §13, §20, §26 read).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../compiler.h"
#include "../reader.h"
#include "lib.h"

static void flush_out(VM *vm) {
  vm_flush(vm);
}

/* ---- format and printing (§11.7, §13) ---- */

static Value n_format(VM *vm, int argc, Value *argv) {
  if (!is_string(argv[0])) err_type(vm, "string", argv[0]);
  const char *f = str_data(argv[0]);
  size_t n = str_len(argv[0]);
  int next = 1;
  StrBuf b;
  sb_init_vm(&b, vm);
  for (size_t i = 0; i < n; i++) {
    if (f[i] != '~' || i + 1 == n) {
      sb_addc(&b, f[i]);
      continue;
    }
    char d = f[++i];
    switch (d) {
    case 'a': case 'A': case 's': case 'S':
      if (next < argc) print_value(vm, &b, argv[next++], d == 's' || d == 'S');
      break;
    case '%': sb_addc(&b, '\n'); break;
    case '~': sb_addc(&b, '~'); break;
    default: sb_addc(&b, '~'); sb_addc(&b, d); break;
    }
  }
  return sb_to_string(vm, &b);
}

static void write_joined(VM *vm, int argc, Value *argv, bool newline, bool to_err) {
  StrBuf b;
  sb_init_vm(&b, vm);
  for (int i = 0; i < argc; i++) {
    if (i) sb_addc(&b, ' ');
    print_value(vm, &b, argv[i], false);
  }
  if (newline) sb_addc(&b, '\n');
  if (to_err) vm_write_err(vm, b.data ? b.data : "", b.len);
  else vm_write(vm, b.data ? b.data : "", b.len);
  sb_free(&b);
}

static Value n_print_error(VM *vm, int argc, Value *argv) {
  write_joined(vm, argc, argv, false, true);
  return NIL_VAL;
}

static Value n_println_error(VM *vm, int argc, Value *argv) {
  write_joined(vm, argc, argv, true, true);
  return NIL_VAL;
}

static Value n_pprint(VM *vm, int argc, Value *argv) {
  StrBuf b;
  sb_init_vm(&b, vm);
  print_pretty(vm, &b, argv[0], 80);
  sb_addc(&b, '\n');
  vm_write(vm, b.data, b.len);
  sb_free(&b);
  return NIL_VAL;
}

/* ---- console input ---- */

static bool stdin_eof;

/* A line of stdin into a counted buffer: an endless line stops at the heap
 * limit (or on an interrupt) instead of growing without bound. */
static Value n_read_line(VM *vm, int argc, Value *argv) {
  flush_out(vm);
  StrBuf b;
  sb_init_vm(&b, vm);
  int c = EOF;
  size_t k = 0;
  while ((c = getc_unlocked(stdin)) != EOF && c != '\n') {
    sb_addc(&b, (char)c);
    if (UNLIKELY(++k % 65536 == 0 && vm_interrupt_requested)) vm_interrupted(vm);
  }
  if (c == EOF && b.len == 0) {
    sb_free(&b);
    stdin_eof = true;
    return NIL_VAL;
  }
  if (b.len && b.data[b.len - 1] == '\r') b.len--;
  if (!utf8_valid(b.data ? b.data : "", b.len, NULL)) {
    sb_free(&b);
    err_io(vm, "read-line: stream did not contain valid UTF-8");
  }
  return sb_to_string(vm, &b);
}

static Value n_read_stdin(VM *vm, int argc, Value *argv) {
  flush_out(vm);
  StrBuf b;
  sb_init_vm(&b, vm);
  reader_read_stream(vm, stdin, &b);
  stdin_eof = true;
  if (!utf8_valid(b.data ? b.data : "", b.len, NULL)) {
    sb_free(&b);
    err_io(vm, "read-stdin: stream did not contain valid UTF-8");
  }
  return sb_to_string(vm, &b);
}

static Value n_eofp(VM *vm, int argc, Value *argv) {
  return bool_val(stdin_eof);
}

static Value n_flush(VM *vm, int argc, Value *argv) {
  flush_out(vm);
  return NIL_VAL;
}

/* ---- the reader as a function (§26) ---- */

static Value n_read(VM *vm, int argc, Value *argv) {
  Value s = arg_string(vm, argv[0]);
  Reader r;
  reader_init(&r, vm, str_data(s), str_len(s));
  r.pos_flags = POS_EVAL_BIT; /* positions name the string, not the script */
  Value v;
  return reader_next(&r, &v) ? v : NIL_VAL;
}

static Value n_read_many(VM *vm, int argc, Value *argv) {
  Value s = arg_string(vm, argv[0]);
  return reader_read_all_tagged(vm, str_data(s), str_len(s), POS_EVAL_BIT);
}

/* ---- whole files (§20.1) ---- */

/* A path argument; a NUL byte would cut it short in every system call, so
 * it is refused with the whole path shown (the NUL escaped). */
static const char *path_arg_in(VM *vm, Value v, const char *fname) {
  if (!is_string(v)) err_type_in(vm, "string", v, fname);
  if (memchr(str_data(v), 0, str_len(v))) {
    Value shown = err_escaped(vm, str_data(v), str_len(v));
    err_io(vm, "%s: invalid path (contains a NUL byte): %s", fname, str_data(shown));
  }
  return str_data(v);
}
/* The builtin's own name: every call path puts the callee below its arguments. */
static const char *self_name(VM *vm, Value *argv) {
  return is_native(argv[-1]) ? sym_cstr(vm, as_native(argv[-1])->name) : "file";
}
#define path_arg(vm, v) path_arg_in(vm, v, self_name(vm, argv))

static NORETURN void io_fail(VM *vm, const char *fname, const char *path, int err) {
  err_io(vm, "%s %s: %s", fname, path, strerror(err));
}

/* Read a whole file into a new string, validating UTF-8 (reader.c reads it
 * under the heap limit). */
static Value slurp_string(VM *vm, const char *fname, const char *path) {
  StrBuf b;
  sb_init_vm(&b, vm);
  int err;
  if (!reader_read_file_vm(vm, path, &b, &err)) {
    sb_free(&b);
    io_fail(vm, fname, path, err);
  }
  if (!utf8_valid(b.data ? b.data : "", b.len, NULL)) {
    sb_free(&b);
    err_io(vm, "%s %s: stream did not contain valid UTF-8", fname, path);
  }
  return sb_to_string(vm, &b);
}

static Value n_file_read(VM *vm, int argc, Value *argv) {
  return slurp_string(vm, "file/read", path_arg(vm, argv[0]));
}

static void write_file(VM *vm, const char *fname, const char *path, const char *mode, const void *data, size_t len) {
  FILE *f = fopen(path, mode);
  if (!f) io_fail(vm, fname, path, errno);
  size_t w = len ? fwrite(data, 1, len, f) : 0;
  int err = w < len ? errno : 0;
  if (fclose(f) != 0 && !err) err = errno;
  if (err) io_fail(vm, fname, path, err);
}

static Value n_file_write(VM *vm, int argc, Value *argv) {
  const char *p = path_arg(vm, argv[0]);
  Value s = arg_string(vm, argv[1]);
  write_file(vm, "file/write", p, "wb", str_data(s), str_len(s));
  return NIL_VAL;
}

static Value n_file_append(VM *vm, int argc, Value *argv) {
  const char *p = path_arg(vm, argv[0]);
  Value s = arg_string(vm, argv[1]);
  write_file(vm, "file/append", p, "ab", str_data(s), str_len(s));
  return NIL_VAL;
}

/* Lines of s: "\n" or "\r\n" terminated, no empty last line for a final newline. */
static Value split_lines(VM *vm, const char *s, size_t n) {
  ListBuilder lb;
  list_start(&lb);
  size_t i = 0;
  while (i < n) {
    const char *nl = memchr(s + i, '\n', n - i);
    size_t end = nl ? (size_t)(nl - s) : n, stop = end;
    if (nl && stop > i && s[stop - 1] == '\r') stop--;
    list_add(vm, &lb, str_new(vm, s + i, stop - i));
    i = end + 1;
  }
  return lb.head;
}

static Value n_file_read_lines(VM *vm, int argc, Value *argv) {
  Value s = slurp_string(vm, "file/read-lines", path_arg(vm, argv[0]));
  vm_push_root(vm, s);
  Value r = split_lines(vm, str_data(s), str_len(s));
  vm_pop_roots(vm, 1);
  return r;
}

static Value n_file_write_lines(VM *vm, int argc, Value *argv) {
  const char *p = path_arg(vm, argv[0]);
  arg_seq(vm, argv[1], "file/write-lines");
  StrBuf b;
  sb_init_vm(&b, vm);
  SeqIter it;
  seqiter_init(&it, argv[1]);
  Value x;
  bool first = true;
  while (seqiter_next(&it, &x)) {
    if (!first) sb_addc(&b, '\n');
    first = false;
    print_value(vm, &b, x, false);
  }
  FILE *f = fopen(p, "wb");
  int err = f ? 0 : errno;
  if (f) {
    if (b.len && fwrite(b.data, 1, b.len, f) < b.len) err = errno;
    if (fclose(f) != 0 && !err) err = errno;
  }
  sb_free(&b);
  if (err) io_fail(vm, "file/write-lines", p, err);
  return NIL_VAL;
}

static Value n_file_read_bytes(VM *vm, int argc, Value *argv) {
  const char *p = path_arg(vm, argv[0]);
  /* a counted buffer: input of unknown size (/dev/zero) stops at the heap limit */
  StrBuf b;
  sb_init_vm(&b, vm);
  int err = 0;
  if (!reader_read_file_vm(vm, p, &b, &err)) {
    sb_free(&b);
    io_fail(vm, "file/read-bytes", p, err);
  }
  if (b.len > UINT32_MAX) {
    sb_free(&b);
    err_io(vm, "file/read-bytes %s: file too large for a bytevector", p);
  }
  Value bv = obj_bytevec(vm, (const uint8_t *)(b.data ? b.data : ""), b.len);
  sb_free(&b);
  return bv;
}

static Value n_file_write_bytes(VM *vm, int argc, Value *argv) {
  const char *p = path_arg(vm, argv[0]);
  if (!is_objtype(argv[1], OBJ_BYTEVEC)) err_type(vm, "bytevector", argv[1]);
  Bytevec *bv = (Bytevec *)as_obj(argv[1]);
  write_file(vm, "file/write-bytes", p, "wb", bv->data, bv->len);
  return NIL_VAL;
}

/* ---- streaming lines (§20.2): large blocks, one string per line ---- */

typedef struct {
  const char *fname, *path;
  FILE *f;
  char *buf;
  size_t cap;
  Value fn;
  uint32_t acc_slot; /* rooted accumulator (fold) */
  bool fold;
  uint32_t token;
} LineWalk;

static void deliver(VM *vm, LineWalk *w, const char *s, size_t n, bool checked) {
  if (n && s[n - 1] == '\r') n--;
  size_t bad;
  if (!checked && !utf8_valid(s, n, &bad)) err_io(vm, "%s %s: stream did not contain valid UTF-8", w->fname, w->path);
  Value line = str_new(vm, s, n);
  if (w->fold) {
    Value args[2] = {ROOT(vm, w->acc_slot), line};
    ROOT(vm, w->acc_slot) = vm_call_owned(vm, w->fn, 2, args, w->token);
  } else {
    vm_call(vm, w->fn, 1, &line);
  }
}

static void walk_lines(VM *vm, void *ud) {
  LineWalk *w = ud;
  size_t have = 0; /* bytes of an unfinished line at the start of buf */
  for (;;) {
    /* one check per block read: a callback-free stretch (one endless line
     * of /dev/zero) must still stop on Ctrl-C */
    if (UNLIKELY(vm_interrupt_requested)) vm_interrupted(vm);
    if (have == w->cap) { /* a line longer than the buffer: counted, so an
                           * endless line stops with "out of memory" at the limit */
      w->buf = gc_tmp_realloc(vm, w->buf, w->cap * 2);
      w->cap *= 2;
    }
    size_t got = fread(w->buf + have, 1, w->cap - have, w->f);
    if (got == 0) {
      if (ferror(w->f)) io_fail(vm, w->fname, w->path, errno);
      if (have) deliver(vm, w, w->buf, have, false);
      return;
    }
    size_t end = have + got, start = 0;
    /* validate the block's complete lines at once ('\n' never occurs inside a
     * UTF-8 sequence); if it is bad, lines are checked one by one so those
     * before the bad one are still delivered first */
    const char *last = memrchr(w->buf, '\n', end);
    size_t bad;
    bool checked = last && utf8_valid(w->buf, (size_t)(last - w->buf), &bad);
    const char *nl;
    while ((nl = memchr(w->buf + start, '\n', end - start))) {
      size_t stop = (size_t)(nl - w->buf);
      deliver(vm, w, w->buf + start, stop - start, checked);
      start = stop + 1;
    }
    have = end - start;
    if (start && have) memmove(w->buf, w->buf + start, have);
  }
}

static Value run_lines(VM *vm, LineWalk *w, Value path, Value fn, Value init) {
  w->path = path_arg_in(vm, path, w->fname);
  if (!is_procedure(fn)) err_type(vm, "function", fn);
  w->fn = fn;
  /* the line buffer is a counted block, allocated before the file is opened
   * (it may raise) and freed here whatever the walk did */
  w->cap = 256 * 1024;
  w->buf = gc_tmp_alloc(vm, w->cap);
  gc_tmp_keep(vm, w->buf);
  w->f = fopen(w->path, "rb");
  if (!w->f) {
    int e = errno;
    gc_tmp_free(vm, w->buf);
    io_fail(vm, w->fname, w->path, e);
  }
  uint32_t roots = vm_roots_mark(vm);
  vm_push_root(vm, path);
  vm_push_root(vm, fn);
  w->acc_slot = vm_root_slot(vm, init);
  w->token = w->fold ? vm_new_token(vm) : 0;
  int failed = vm_protect(vm, walk_lines, w);
  Value acc = ROOT(vm, w->acc_slot);
  vm_roots_reset(vm, roots);
  fclose(w->f);
  gc_tmp_free(vm, w->buf);
  if (failed) err_rethrow(vm);
  return acc;
}

static Value n_file_fold_lines(VM *vm, int argc, Value *argv) {
  LineWalk w = {.fname = "file/fold-lines", .fold = true};
  return run_lines(vm, &w, argv[0], argv[1], argv[2]);
}

static Value n_file_for_each_line(VM *vm, int argc, Value *argv) {
  LineWalk w = {.fname = "file/for-each-line", .fold = false};
  run_lines(vm, &w, argv[0], argv[1], NIL_VAL);
  return NIL_VAL;
}

/* ---- the file system (§20.3) ---- */

static Value n_file_exists(VM *vm, int argc, Value *argv) {
  struct stat st;
  return bool_val(stat(path_arg(vm, argv[0]), &st) == 0);
}

static Value n_file_is_file(VM *vm, int argc, Value *argv) {
  struct stat st;
  return bool_val(stat(path_arg(vm, argv[0]), &st) == 0 && S_ISREG(st.st_mode));
}

static Value n_file_is_dir(VM *vm, int argc, Value *argv) {
  struct stat st;
  return bool_val(stat(path_arg(vm, argv[0]), &st) == 0 && S_ISDIR(st.st_mode));
}

static Value n_file_is_symlink(VM *vm, int argc, Value *argv) {
  struct stat st;
  return bool_val(lstat(path_arg(vm, argv[0]), &st) == 0 && S_ISLNK(st.st_mode));
}

static Value n_file_delete(VM *vm, int argc, Value *argv) {
  const char *p = path_arg(vm, argv[0]);
  struct stat st;
  if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) io_fail(vm, "file/delete", p, EISDIR);
  if (unlink(p) != 0) io_fail(vm, "file/delete", p, errno);
  return NIL_VAL;
}

static Value n_file_rename(VM *vm, int argc, Value *argv) {
  const char *from = path_arg(vm, argv[0]), *to = path_arg(vm, argv[1]);
  if (rename(from, to) != 0) err_io(vm, "file/rename %s -> %s: %s", from, to, strerror(errno));
  return NIL_VAL;
}

static Value n_file_copy(VM *vm, int argc, Value *argv) {
  const char *from = path_arg(vm, argv[0]), *to = path_arg(vm, argv[1]);
  FILE *in = fopen(from, "rb");
  if (!in) err_io(vm, "file/copy %s -> %s: %s", from, to, strerror(errno));
  FILE *out = fopen(to, "wb");
  if (!out) {
    int e = errno;
    fclose(in);
    err_io(vm, "file/copy %s -> %s: %s", from, to, strerror(e));
  }
  char buf[65536];
  size_t n;
  int err = 0;
  while (!err && (n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) < n) err = errno;
  if (!err && ferror(in)) err = errno;
  fclose(in);
  if (fclose(out) != 0 && !err) err = errno;
  if (err) err_io(vm, "file/copy %s -> %s: %s", from, to, strerror(err));
  return NIL_VAL;
}

static Value n_file_mkdir(VM *vm, int argc, Value *argv) {
  const char *p = path_arg(vm, argv[0]);
  size_t n = strlen(p);
  char *tmp = malloc(n + 1);
  memcpy(tmp, p, n + 1);
  int err = 0;
  for (size_t i = 1; i <= n && !err; i++) {
    if (tmp[i] != '/' && tmp[i] != 0) continue;
    char c = tmp[i];
    tmp[i] = 0;
    struct stat st;
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST) err = errno;
    else if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode)) err = ENOTDIR;
    tmp[i] = c;
  }
  free(tmp);
  if (err) io_fail(vm, "file/mkdir", p, err);
  return NIL_VAL;
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted entry names of a directory (without . and ..); NULL with errno on failure. */
static char **dir_names(const char *dir, size_t *count) {
  DIR *d = opendir(*dir ? dir : ".");
  if (!d) return NULL;
  size_t n = 0, cap = 16;
  char **names = malloc(cap * sizeof *names);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (n == cap) names = realloc(names, (cap *= 2) * sizeof *names);
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_cstr);
  *count = n;
  return names;
}

static void free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

static Value n_file_list(VM *vm, int argc, Value *argv) {
  const char *p = path_arg(vm, argv[0]);
  size_t n;
  char **names = dir_names(p, &n);
  if (!names) io_fail(vm, "file/list", p, errno);
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = 0; i < n; i++) list_add(vm, &lb, str_from_c(vm, names[i]));
  free_names(names, n);
  return lb.head;
}

static Value n_file_info(VM *vm, int argc, Value *argv) {
  const char *p = path_arg(vm, argv[0]);
  struct stat st;
  if (stat(p, &st) != 0) io_fail(vm, "file/info", p, errno);
  int64_t ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
  Value kv[8] = {KW(vm, "is-dir"), bool_val(S_ISDIR(st.st_mode)), KW(vm, "is-file"), bool_val(S_ISREG(st.st_mode)),
                 KW(vm, "modified"), num_int(vm, ms), KW(vm, "size"), num_int(vm, (int64_t)st.st_size)};
  Value m = map_empty(vm);
  for (int i = 0; i < 8; i += 2) m = map_assoc(vm, m, kv[i], kv[i + 1]);
  return m;
}

/* ---- glob: `?`, `*`, `**`, character classes; sorted, directory by directory ---- */

static bool glob_valid(const char *pat, const char **why) {
  for (const char *p = pat; *p; p++) {
    if (*p == '[') {
      const char *q = p + 1;
      if (*q == '!' || *q == '^') q++;
      if (*q == ']') q++;
      while (*q && *q != ']') q++;
      if (!*q) {
        *why = "unclosed character class";
        return false;
      }
      p = q;
    } else if (*p == '*' && p[1] == '*' && p[2] == '*') {
      *why = "wildcards are either regular `*` or recursive `**`";
      return false;
    } else if (*p == '*' && p[1] == '*' && ((p > pat && p[-1] != '/') || (p[2] && p[2] != '/'))) {
      *why = "recursive wildcards must form a single path component";
      return false;
    }
  }
  return true;
}

static bool has_magic(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] == '*' || s[i] == '?' || s[i] == '[') return true;
  return false;
}

typedef struct {
  VM *vm;
  ListBuilder lb;
} GlobOut;

static void glob_join(StrBuf *b, const char *base, const char *name) {
  b->len = 0;
  sb_adds(b, base);
  if (b->len && b->data[b->len - 1] != '/') sb_addc(b, '/');
  sb_adds(b, name);
}

/* Match the components pat[0..] below directory `base` ("" = current directory). */
static void glob_walk(GlobOut *g, const char *base, char **comp, size_t ncomp) {
  struct stat st;
  if (ncomp == 0) {
    if (*base && stat(base, &st) == 0) list_add(g->vm, &g->lb, str_from_c(g->vm, base));
    return;
  }
  StrBuf b;
  sb_init(&b);
  if (!strcmp(comp[0], "**")) {
    glob_walk(g, base, comp + 1, ncomp - 1); /* zero directories */
    size_t n;
    char **names = dir_names(base, &n);
    for (size_t i = 0; names && i < n; i++) {
      glob_join(&b, base, names[i]);
      if (lstat(b.data, &st) == 0 && S_ISDIR(st.st_mode)) {
        char *sub = strdup(b.data);
        glob_walk(g, sub, comp, ncomp);
        free(sub);
      }
    }
    if (names) free_names(names, n);
  } else if (!has_magic(comp[0], strlen(comp[0]))) {
    glob_join(&b, base, comp[0]);
    if (ncomp == 1 || (stat(b.data, &st) == 0 && S_ISDIR(st.st_mode))) {
      char *sub = strdup(b.data);
      glob_walk(g, sub, comp + 1, ncomp - 1);
      free(sub);
    }
  } else {
    size_t n;
    char **names = dir_names(base, &n);
    for (size_t i = 0; names && i < n; i++) {
      if (fnmatch(comp[0], names[i], 0) != 0) continue;
      glob_join(&b, base, names[i]);
      if (ncomp > 1 && !(stat(b.data, &st) == 0 && S_ISDIR(st.st_mode))) continue;
      char *sub = strdup(b.data);
      glob_walk(g, sub, comp + 1, ncomp - 1);
      free(sub);
    }
    if (names) free_names(names, n);
  }
  sb_free(&b);
}

static Value n_file_glob(VM *vm, int argc, Value *argv) {
  const char *pat = path_arg(vm, argv[0]), *why;
  if (!glob_valid(pat, &why)) err_eval(vm, "file/glob: invalid pattern: %s", why);
  char *copy = strdup(pat);
  size_t ncomp = 0;
  char *comp[256];
  for (char *s = strtok(copy, "/"); s && ncomp < 256; s = strtok(NULL, "/")) comp[ncomp++] = s;
  GlobOut g = {vm, {NIL_VAL, NULL}};
  list_start(&g.lb);
  glob_walk(&g, pat[0] == '/' ? "/" : "", comp, ncomp);
  free(copy);
  return g.lb.head;
}

/* ---- paths (§20.4): POSIX components, pure string operations ---- */

typedef struct {
  const char *s;
  size_t n;
} Slice;

/* Split p into its components ("." dropped, ".." kept); returns the count. */
static size_t path_components(const char *p, size_t len, Slice *out, size_t max) {
  size_t n = 0, i = 0;
  while (i < len) {
    while (i < len && p[i] == '/') i++;
    size_t s = i;
    while (i < len && p[i] != '/') i++;
    if (i == s || (i - s == 1 && p[s] == '.')) continue;
    if (n < max) out[n] = (Slice){p + s, i - s};
    n++;
  }
  return n;
}

static Value path_string_arg(VM *vm, Value v) { return arg_string(vm, v); }

static Value n_path_join(VM *vm, int argc, Value *argv) {
  StrBuf b;
  sb_init_vm(&b, vm);
  for (int i = 0; i < argc; i++) {
    if (!is_string(argv[i])) {
      sb_free(&b);
      err_type(vm, "string", argv[i]);
    }
    const char *s = str_data(argv[i]);
    size_t n = str_len(argv[i]);
    if (n && s[0] == '/') b.len = 0;
    else if (b.len && b.data[b.len - 1] != '/') sb_addc(&b, '/');
    sb_add(&b, s, n);
  }
  return sb_to_string(vm, &b);
}

/* End of p without trailing "/" and "." components (a root "/" is kept). */
static size_t trim_tail(const char *p, size_t end) {
  for (;;) {
    while (end > 1 && p[end - 1] == '/') end--;
    if (end >= 1 && p[end - 1] == '.' && (end == 1 || p[end - 2] == '/')) {
      end--;
      continue;
    }
    return end;
  }
}

/* The last component of p: sets *name and the length of the path before it. */
static bool last_component(const char *p, size_t len, Slice *name, size_t *before) {
  size_t end = trim_tail(p, len);
  if (end == 0 || (end == 1 && p[0] == '/')) return false;
  size_t s = end;
  while (s > 0 && p[s - 1] != '/') s--;
  *name = (Slice){p + s, end - s};
  *before = s;
  return true;
}

static Value n_path_dir(VM *vm, int argc, Value *argv) {
  Value v = path_string_arg(vm, argv[0]);
  const char *p = str_data(v);
  Slice name;
  size_t before;
  if (!last_component(p, str_len(v), &name, &before)) return str_new(vm, "", 0);
  return str_new(vm, p, trim_tail(p, before));
}

static Value n_path_filename(VM *vm, int argc, Value *argv) {
  Value v = path_string_arg(vm, argv[0]);
  Slice name;
  size_t before;
  if (!last_component(str_data(v), str_len(v), &name, &before) || (name.n == 2 && !memcmp(name.s, "..", 2)))
    return str_new(vm, "", 0);
  return str_new(vm, name.s, name.n);
}

/* Split a file name at its extension dot; false if it has no extension. */
static bool split_ext(Slice name, size_t *dot) {
  if (name.n == 2 && !memcmp(name.s, "..", 2)) return false;
  for (size_t i = name.n; i-- > 0;)
    if (name.s[i] == '.') {
      if (i == 0) return false;
      *dot = i;
      return true;
    }
  return false;
}

static Value n_path_extension(VM *vm, int argc, Value *argv) {
  Value v = path_string_arg(vm, argv[0]);
  Slice name;
  size_t before, dot;
  if (!last_component(str_data(v), str_len(v), &name, &before) || !split_ext(name, &dot)) return str_new(vm, "", 0);
  return str_new(vm, name.s + dot + 1, name.n - dot - 1);
}

static Value n_path_stem(VM *vm, int argc, Value *argv) {
  Value v = path_string_arg(vm, argv[0]);
  Slice name;
  size_t before, dot;
  if (!last_component(str_data(v), str_len(v), &name, &before)) return str_new(vm, "", 0);
  if (name.n == 2 && !memcmp(name.s, "..", 2)) return str_new(vm, "", 0);
  return str_new(vm, name.s, split_ext(name, &dot) ? dot : name.n);
}

static Value n_path_absolutep(VM *vm, int argc, Value *argv) {
  Value v = path_string_arg(vm, argv[0]);
  return bool_val(str_len(v) > 0 && str_data(v)[0] == '/');
}

static Value canonical(VM *vm, const char *fname, Value v) {
  const char *p = path_arg_in(vm, v, fname);
  char *r = realpath(*p ? p : ".", NULL);
  if (!r || !*p) {
    int e = *p ? errno : ENOENT;
    free(r);
    io_fail(vm, fname, p, e);
  }
  Value s = str_from_c(vm, r);
  free(r);
  return s;
}

static Value n_path_absolute(VM *vm, int argc, Value *argv) {
  return canonical(vm, "path/absolute", argv[0]);
}

static Value n_path_canonicalize(VM *vm, int argc, Value *argv) {
  return canonical(vm, "path/canonicalize", argv[0]);
}

/* Absolute, lexically normalized components of p (against the current directory). */
#define MAX_COMPS 512
typedef struct {
  char *store; /* owns the bytes the slices point into */
  Slice c[MAX_COMPS];
  size_t n;
} CompList;

static void lexical_abs(const char *p, CompList *out) {
  StrBuf b;
  sb_init(&b);
  if (p[0] != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd)) sb_adds(&b, cwd);
    sb_addc(&b, '/');
  }
  sb_adds(&b, p);
  out->store = b.data;
  Slice raw[MAX_COMPS];
  size_t n = path_components(b.data, b.len, raw, MAX_COMPS);
  if (n > MAX_COMPS) n = MAX_COMPS;
  out->n = 0;
  for (size_t i = 0; i < n; i++) {
    if (raw[i].n == 2 && !memcmp(raw[i].s, "..", 2)) {
      if (out->n) out->n--;
    } else {
      out->c[out->n++] = raw[i];
    }
  }
}

static bool slice_eq(Slice a, Slice b) { return a.n == b.n && !memcmp(a.s, b.s, a.n); }

static Value n_path_relative_to(VM *vm, int argc, Value *argv) {
  const char *base = path_arg(vm, argv[0]), *p = path_arg(vm, argv[1]);
  CompList *a = malloc(sizeof *a), *t = malloc(sizeof *t);
  lexical_abs(base, a);
  lexical_abs(p, t);
  size_t k = 0;
  while (k < a->n && k < t->n && slice_eq(a->c[k], t->c[k])) k++;
  StrBuf b;
  sb_init_vm(&b, vm);
  for (size_t i = k; i < a->n; i++) sb_adds(&b, b.len ? "/.." : "..");
  for (size_t i = k; i < t->n; i++) {
    if (b.len) sb_addc(&b, '/');
    sb_add(&b, t->c[i].s, t->c[i].n);
  }
  if (!b.len) sb_addc(&b, '.');
  free(a->store), free(t->store), free(a), free(t);
  return sb_to_string(vm, &b);
}

/* Resolve p: its longest existing prefix canonicalized, the rest appended lexically. */
static void resolve_within(const char *p, CompList *out) {
  CompList *lex = malloc(sizeof *lex);
  lexical_abs(p, lex);
  StrBuf b;
  sb_init(&b);
  size_t k = lex->n;
  char *real = NULL;
  for (;; k--) {
    b.len = 0;
    sb_addc(&b, '/');
    for (size_t i = 0; i < k; i++) {
      if (i) sb_addc(&b, '/');
      sb_add(&b, lex->c[i].s, lex->c[i].n);
    }
    if ((real = realpath(b.data, NULL)) || k == 0) break;
  }
  b.len = 0;
  sb_adds(&b, real ? real : "/");
  free(real);
  for (size_t i = k; i < lex->n; i++) {
    sb_addc(&b, '/');
    sb_add(&b, lex->c[i].s, lex->c[i].n);
  }
  free(lex->store);
  free(lex);
  lexical_abs(b.data, out);
  sb_free(&b);
}

static Value n_path_within(VM *vm, int argc, Value *argv) {
  const char *base = path_arg(vm, argv[0]), *p = path_arg(vm, argv[1]);
  CompList *a = malloc(sizeof *a), *t = malloc(sizeof *t);
  resolve_within(base, a);
  resolve_within(p, t);
  bool in = a->n <= t->n;
  for (size_t i = 0; in && i < a->n; i++) in = slice_eq(a->c[i], t->c[i]);
  free(a->store), free(t->store), free(a), free(t);
  return bool_val(in);
}

static const NativeDef io_defs[] = {
    {"format", n_format, 1, VARIADIC,
     "(format fmt arg...)\nReturns fmt with each directive replaced: ~a the display form of the next argument, ~s its"
     " printed form (strings quoted), ~% a newline, ~~ a tilde. Other ~x are copied; missing arguments give nothing."},
    {"print-error", n_print_error, 0, VARIADIC,
     "(print-error x...)\nWrites the arguments to stderr as display does (separated by spaces, no newline); returns "
     "nil."},
    {"println-error", n_println_error, 0, VARIADIC,
     "(println-error x...)\nWrites the arguments to stderr as println does, then a newline; returns nil."},
    {"pprint", n_pprint, 1, 1,
     "(pprint x)\nWrites the pretty-printed form of x (80 columns wide) and a newline; returns nil."},
    {"read-line", n_read_line, 0, 0,
     "(read-line)\nReads a line from stdin and returns it without its \\n or \\r\\n, or nil at the end of input."},
    {"read-stdin", n_read_stdin, 0, 0,
     "(read-stdin)\nReads all the remaining standard input and returns it as one string."},
    {"io/eof?", n_eofp, 0, 0,
     "(io/eof?)\nReturns #t once a read from stdin has reached the end of input."},
    {"io/flush", n_flush, 0, 0,
     "(io/flush)\nFlushes the standard output; returns nil."},
    {"read", n_read, 1, 1,
     "(read s)\nReturns the first datum of the string s as data (nil for empty input); text after it is ignored. "
     "Reader errors are catchable :reader errors."},
    {"read-many", n_read_many, 1, 1,
     "(read-many s)\nReturns the list of all the data in the string s."},
    {"file/read", n_file_read, 1, 1,
     "(file/read path)\nReturns the whole file at path as a string; a missing or unreadable file is an :io error."},
    {"file/write", n_file_write, 2, 2,
     "(file/write path s)\nCreates or truncates the file at path and writes the string s to it; returns nil."},
    {"file/append", n_file_append, 2, 2,
     "(file/append path s)\nAppends the string s to the file at path, creating it when needed; returns nil."},
    {"file/read-lines", n_file_read_lines, 1, 1,
     "(file/read-lines path)\nReturns the lines of the file as a list of strings, without their \\n or \\r\\n (a "
     "final newline gives no empty last line)."},
    {"file/write-lines", n_file_write_lines, 2, 2,
     "(file/write-lines path seq)\nWrites the display forms of the elements of seq to the file, joined with \\n and "
     "without a trailing newline; returns nil."},
    {"file/read-bytes", n_file_read_bytes, 1, 1,
     "(file/read-bytes path)\nReturns the contents of the file as a bytevector."},
    {"file/write-bytes", n_file_write_bytes, 2, 2,
     "(file/write-bytes path bv)\nCreates or truncates the file and writes the bytevector bv to it; returns nil."},
    {"file/fold-lines", n_file_fold_lines, 3, 3,
     "(file/fold-lines path fn init)\nReads the file line by line without loading it whole and returns the "
     "accumulator threaded through (fn acc line), starting with init; lines come without their line terminator."},
    {"file/for-each-line", n_file_for_each_line, 2, 2,
     "(file/for-each-line path fn)\nCalls (fn line) for each line of the file, read sequentially; returns nil."},
    {"file/exists?", n_file_exists, 1, 1,
     "(file/exists? path)\nReturns #t when something exists at path (a dangling symlink counts as absent)."},
    {"file/is-file?", n_file_is_file, 1, 1,
     "(file/is-file? path)\nReturns #t when path is a regular file (following symlinks)."},
    {"file/is-directory?", n_file_is_dir, 1, 1,
     "(file/is-directory? path)\nReturns #t when path is a directory (following symlinks)."},
    {"file/is-symlink?", n_file_is_symlink, 1, 1,
     "(file/is-symlink? path)\nReturns #t when path itself is a symbolic link."},
    {"file/delete", n_file_delete, 1, 1,
     "(file/delete path)\nRemoves the file at path (not a directory); returns nil."},
    {"file/rename", n_file_rename, 2, 2,
     "(file/rename from to)\nRenames or moves from to to, replacing a file at to; returns nil."},
    {"file/copy", n_file_copy, 2, 2,
     "(file/copy from to)\nCopies the contents of the file from to to, overwriting it; returns nil."},
    {"file/mkdir", n_file_mkdir, 1, 1,
     "(file/mkdir path)\nCreates the directory path and any missing parents; an existing directory is not an error."},
    {"file/list", n_file_list, 1, 1,
     "(file/list dir)\nReturns the names of the entries of the directory dir, without . and .., sorted."},
    {"file/glob", n_file_glob, 1, 1,
     "(file/glob pattern)\nReturns the sorted paths matching the shell pattern: ? one character, * any run without /,"
     " ** any number of directories, [abc], [!abc], [a-z]."},
    {"file/info", n_file_info, 1, 1,
     "(file/info path)\nReturns {:is-dir :is-file :modified :size}: the size in bytes and the modification time in "
     "milliseconds since the Unix epoch. A missing path is an :io error."},
    {"path/join", n_path_join, 1, VARIADIC,
     "(path/join p...)\nJoins the path parts with /, without doubling a trailing one; an absolute part replaces what "
     "comes before it."},
    {"path/dir", n_path_dir, 1, 1,
     "(path/dir p)\nReturns everything before the last component of p: (path/dir \"/a/b/c.txt\") is \"/a/b\", \"\" "
     "when there is none."},
    {"path/filename", n_path_filename, 1, 1,
     "(path/filename p)\nReturns the last component of p: (path/filename \"/a/b/\") is \"b\"."},
    {"path/extension", n_path_extension, 1, 1,
     "(path/extension p)\nReturns the text after the last . of the file name, \"\" when there is none (\".hidden\" "
     "has none): (path/extension \"file.tar.gz\") is \"gz\"."},
    {"path/stem", n_path_stem, 1, 1,
     "(path/stem p)\nReturns the file name without its extension: (path/stem \"archive.tar.gz\") is \"archive.tar\"."},
    {"path/absolute?", n_path_absolutep, 1, 1,
     "(path/absolute? p)\nReturns #t when p starts with /."},
    {"path/absolute", n_path_absolute, 1, 1,
     "(path/absolute p)\nReturns the canonical absolute path of p, symlinks and . and .. resolved; the path must "
     "exist."},
    {"path/canonicalize", n_path_canonicalize, 1, 1,
     "(path/canonicalize p)\nReturns the canonical absolute path of p, symlinks and . and .. resolved; the path must "
     "exist."},
    {"path/relative-to", n_path_relative_to, 2, 2,
     "(path/relative-to base p)\nReturns the relative path from base to p, resolving both lexically against the "
     "current directory: (path/relative-to \"/a/b/c\" \"/a/x\") is \"../../x\"."},
    {"path/within?", n_path_within, 2, 2,
     "(path/within? base p)\nReturns #t when p is base or lies inside it once both are resolved (symlinks of the "
     "existing part followed)."},
    {NULL, NULL, 0, 0},
};

void lib_io_init(VM *vm) {
  env_register(vm, io_defs);
  env_alias(vm, "io/print-error", "print-error");
  env_alias(vm, "io/println-error", "println-error");
  env_alias(vm, "io/read-line", "read-line");
  env_alias(vm, "io/read-stdin", "read-stdin");
  env_alias(vm, "io/read-many", "read-many");
  env_alias(vm, "read/string", "read");
  env_alias(vm, "read/all", "read-many");
  env_alias(vm, "path/dirname", "path/dir");
  env_alias(vm, "path/basename", "path/filename");
  env_alias(vm, "path/ext", "path/extension");
}
