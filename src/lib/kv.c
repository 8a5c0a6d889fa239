/* kv.c - the JSON-file key-value store (net.md §4): kv/open, kv/get, kv/set,
 * kv/delete, kv/keys, kv/close.
 *
 * A store is a Foreign object (class "kv-store") whose extra is the contents,
 * a sorted map from string keys to already-converted JSON values, and whose
 * ptr holds the file path.  The open stores live in a per-VM sorted map from
 * name to store, kept in the global cell " kv" (a name source cannot write),
 * so the collector reaches them through the globals; forgetting a name makes
 * its store garbage, and the finalizer frees the path.
 *
 * Values are stored in the form they come back in: kv/set renders the value
 * with the lossy JSON encoding (json.h, net.md §1.3) and decodes that text,
 * so what kv/get returns now is exactly what it returns after a reopen.
 *
 * Every change rewrites the whole file, crash-safely (the reference truncates
 * and writes in place): the text goes to a fresh file next to the target, is
 * fsync'd, renamed over the target, and the directory is fsync'd.  Invariant:
 * at every instant the path holds the complete text of some flush (or the
 * file as it was before the first one), and once kv/set returns its flush is
 * durable.  A process killed mid-flush leaves at most one stray
 * "PATH.tmp-PID-N" file beside the store; kv/open removes those whose
 * process is gone.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "json.h"

#define KV_CELL " kv"

typedef struct {
  char *path; /* as given to kv/open: relative paths follow the current directory */
} KvStore;

static void kv_finalize(Foreign *f) {
  KvStore *s = f->ptr;
  if (s) free(s->path);
  free(s);
}

static void kv_print(VM *vm, StrBuf *b, Foreign *f) {
  KvStore *s = f->ptr;
  sb_addf(b, "<kv-store %s>", s ? s->path : "closed");
}

static const ForeignClass kv_class = {.name = "kv-store", .finalize = kv_finalize, .print = kv_print};

static Value kv_table(VM *vm) {
  Value t = env_get(vm, KV_CELL);
  if (!is_map(t)) {
    t = map_empty(vm);
    env_define(vm, KV_CELL, t);
  }
  return t;
}

static Foreign *kv_lookup(VM *vm, Value name) {
  Value st;
  if (!map_get(kv_table(vm), name, &st)) err_eval(vm, "kv store '%s' not open", str_data(name));
  return (Foreign *)as_obj(st);
}

/* A path argument as a C string (Sema strings may hold NUL bytes; paths may not). */
static const char *kv_path_arg(VM *vm, Value p, const char *fname) {
  if (memchr(str_data(p), 0, str_len(p))) err_io(vm, "%s: path contains a NUL byte", fname);
  return str_data(p);
}

/* ---- the crash-safe write ---- */

/* Write all of data to fd; false with errno set on failure. */
static bool kv_write_all(int fd, const char *data, size_t len) {
  while (len) {
    ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= (size_t)n;
  }
  return true;
}

/* Replace the file at path by data, atomically and durably.  On failure
 * returns false with a description in err; the old file is then untouched. */
static bool kv_replace_file(const char *path, const char *data, size_t len, char *err, size_t errsz) {
  static _Atomic unsigned long counter; /* VMs on several threads may flush at once */
  /* A symlinked store stays a symlink: write next to its target. */
  char *target = NULL;
  struct stat lst;
  if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) target = realpath(path, NULL);
  if (!target) target = strdup(path);
  if (!target) {
    snprintf(err, errsz, "%s: out of memory", path);
    return false;
  }
  struct stat old;
  bool have_old = stat(target, &old) == 0;
  /* renaming over a device or a FIFO would replace it: only regular files are stores */
  if (have_old && !S_ISREG(old.st_mode)) {
    if (S_ISDIR(old.st_mode))
      snprintf(err, errsz, "%s: Is a directory (os error %d)", path, EISDIR);
    else
      snprintf(err, errsz, "%s: not a regular file", path);
    free(target);
    return false;
  }
  size_t tlen = strlen(target);
  char *tmp = malloc(tlen + 64);
  if (!tmp) {
    snprintf(err, errsz, "%s: out of memory", path);
    free(target);
    return false;
  }
  int fd;
  do { /* O_EXCL: a leftover of a killed process (same pid reused) is never written into */
    snprintf(tmp, tlen + 64, "%s.tmp-%ld-%lu", target, (long)getpid(), atomic_fetch_add(&counter, 1) + 1);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  } while (fd < 0 && errno == EEXIST);
  const char *step = NULL;
  int saved = 0;
  if (fd < 0) {
    saved = errno;
    step = "cannot create a temporary file beside it";
  } else {
    if (have_old) (void)fchmod(fd, old.st_mode & 07777); /* keep the user's permissions */
    if (!kv_write_all(fd, data, len)) {
      saved = errno;
      step = "write";
    } else if (fsync(fd) != 0) {
      saved = errno;
      step = "fsync";
    }
    if (close(fd) != 0 && !step) {
      saved = errno;
      step = "close";
    }
    if (!step && rename(tmp, target) != 0) {
      saved = errno;
      step = "rename";
    }
    if (step) unlink(tmp);
  }
  if (!step) {
    /* the rename itself is durable only once the directory is */
    char *slash = strrchr(target, '/');
    const char *dir = ".";
    if (slash == target)
      dir = "/";
    else if (slash) {
      *slash = 0;
      dir = target;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      if (fsync(dfd) != 0 && errno != EINVAL) { /* EINVAL: the file system cannot sync directories */
        saved = errno;
        step = "fsync of the directory";
      }
      close(dfd);
    }
  }
  if (step) snprintf(err, errsz, "%s: %s: %s (os error %d)", path, step, strerror(saved), saved);
  free(tmp);
  free(target);
  return !step;
}

/* Flush = write JP(store) (net.md §4).  Returns false with the reason in err. */
static bool kv_flush_to(VM *vm, Foreign *f, char *err, size_t errsz) {
  KvStore *s = f->ptr;
  StrBuf b;
  sb_init_vm(&b, vm);
  bool ok = json_write(vm, &b, f->extra, JSON_PRETTY | JSON_LOSSY, "kv/flush", err, errsz) &&
            kv_replace_file(s->path, b.data ? b.data : "", b.len, err, errsz);
  sb_free(&b);
  return ok;
}

static void kv_flush(VM *vm, Foreign *f) {
  char err[PATH_MAX + 256];
  if (!kv_flush_to(vm, f, err, sizeof err)) err_io(vm, "kv/flush: %s", err);
}

/* Remove the temporary files that killed processes left beside target:
 * "BASE.tmp-PID-N" whose PID no longer runs (a live PID, even a reused one,
 * keeps its file: it may be another process flushing the same store). */
static void kv_remove_strays(const char *target) {
  char *copy = strdup(target);
  if (!copy) return;
  char *slash = strrchr(copy, '/');
  const char *dir = ".", *base = copy;
  if (slash) {
    *slash = 0;
    dir = slash == copy ? "/" : copy;
    base = slash + 1;
  }
  size_t blen = strlen(base);
  DIR *d = blen ? opendir(dir) : NULL;
  struct dirent *e;
  while (d && (e = readdir(d))) {
    const char *n = e->d_name;
    if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp-", 5) != 0) continue;
    char *end;
    long pid = strtol(n + blen + 5, &end, 10);
    if (pid <= 0 || *end != '-' || !end[1] || strspn(end + 1, "0123456789") != strlen(end + 1)) continue;
    if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    size_t dl = strlen(dir), nl = strlen(n);
    char *full = malloc(dl + nl + 2);
    if (!full) break;
    memcpy(full, dir, dl);
    full[dl] = '/';
    memcpy(full + dl + 1, n, nl + 1);
    unlink(full);
    free(full);
  }
  if (d) closedir(d);
  free(copy);
}

/* ---- reading a store file ---- */

/* The file's bytes (malloc'd, *len) or NULL: *missing when there is no file,
 * else errno describes the failure (0: not a regular file). */
static char *kv_read_file(const char *path, size_t *len, bool *missing) {
  *missing = false;
  /* O_NONBLOCK: opening a FIFO must not wait for a writer */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    *missing = errno == ENOENT;
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) goto fail;
  if (!S_ISREG(st.st_mode)) { /* a device could be endless */
    errno = S_ISDIR(st.st_mode) ? EISDIR : 0;
    goto fail;
  }
  size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, n = 0;
  char *buf = malloc(cap);
  if (!buf) goto fail;
  for (;;) {
    if (n == cap) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) {
        free(buf);
        errno = ENOMEM;
        goto fail;
      }
      buf = nb;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      free(buf);
      errno = e;
      goto fail;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  *len = n;
  return buf;
fail: {
  int e = errno;
  close(fd);
  errno = e;
  return NULL;
}
}

static const char *json_type_word(Value v) {
  if (is_list(v)) return "an array";
  if (is_string(v)) return "a string";
  if (is_number(v)) return "a number";
  if (is_bool(v)) return "a boolean";
  return "null";
}

/* ---- the natives ---- */

static Value n_kv_open(VM *vm, int argc, Value *argv) {
  Value name = arg_string(vm, argv[0]), pathv = arg_string(vm, argv[1]);
  const char *path = kv_path_arg(vm, pathv, "kv/open");
  Value contents = map_empty(vm);
  size_t len;
  bool missing;
  char *text = kv_read_file(path, &len, &missing);
  if (!text && !missing) {
    int e = errno;
    if (!e) err_io(vm, "kv/open: %s: not a regular file", path);
    err_io(vm, "kv/open: %s: %s (os error %d)", path, strerror(e), e);
  }
  if (text) {
    size_t bad;
    Value doc;
    JsonError je;
    if (!utf8_valid(text, len, &bad)) {
      free(text);
      err_io(vm, "kv/open: malformed JSON in %s: invalid UTF-8 at byte %zu", path, bad);
    }
    /* parse from a heap copy: an allocation over the heap limit may raise
     * anywhere below, and nothing malloc'd may be held then */
    StrBuf tb = {text, len, len};
    Value textv = sb_to_string(vm, &tb); /* frees text, also when it raises */
    bool ok = json_parse(vm, str_data(textv), str_len(textv), &doc, &je);
    if (!ok) err_io(vm, "kv/open: malformed JSON in %s: %s at line %zu column %zu", path, je.msg, je.line, je.col);
    if (!is_map(doc)) err_io(vm, "kv/open: malformed JSON in %s: expected an object, found %s", path, json_type_word(doc));
    /* json_parse gives keyword keys; the store's keys are strings */
    MapIter it;
    Value k, v;
    map_iter_init(&it, doc);
    while (map_iter_next(&it, &k, &v)) {
      String *ks = sym_name(vm, sym_id(k));
      contents = map_assoc(vm, contents, str_new(vm, ks->data, ks->len), v);
    }
  }
  /* the file is in order (or absent): clear what killed writers left */
  char *real = realpath(path, NULL);
  kv_remove_strays(real ? real : path);
  free(real);
  KvStore *s = malloc(sizeof *s);
  char *pcopy = strdup(path);
  if (!s || !pcopy) {
    free(s);
    free(pcopy);
    err_eval(vm, "kv/open: out of memory");
  }
  s->path = pcopy;
  Value store = obj_foreign(vm, &kv_class, s, contents);
  env_define(vm, KV_CELL, map_assoc(vm, kv_table(vm), name, store));
  return name;
}

static Value n_kv_get(VM *vm, int argc, Value *argv) {
  Value name = arg_string(vm, argv[0]), key = arg_string(vm, argv[1]);
  Value v;
  return map_get(kv_lookup(vm, name)->extra, key, &v) ? v : NIL_VAL;
}

/* The value as it reads back from the file: J(v) decoded. */
static Value kv_convert(VM *vm, Value v) {
  StrBuf b;
  char err[160];
  sb_init_vm(&b, vm);
  if (!json_write(vm, &b, v, JSON_LOSSY, "kv/set", err, sizeof err)) {
    sb_free(&b);
    err_eval(vm, "%s", err);
  }
  Value text = sb_to_string(vm, &b), out; /* (a heap string: parsing may raise) */
  JsonError je;
  bool ok = json_parse(vm, str_data(text), str_len(text), &out, &je);
  /* the decoder's nesting limit is the only way back to fail: refuse what a
   * reopen could not read rather than write it */
  if (!ok) err_eval(vm, "kv/set: value nested too deep to store (%s)", je.msg);
  return out;
}

static Value n_kv_set(VM *vm, int argc, Value *argv) {
  Value name = arg_string(vm, argv[0]), key = arg_string(vm, argv[1]);
  Foreign *f = kv_lookup(vm, name);
  f->extra = map_assoc(vm, f->extra, key, kv_convert(vm, argv[2]));
  kv_flush(vm, f);
  return argv[2];
}

static Value n_kv_delete(VM *vm, int argc, Value *argv) {
  Value name = arg_string(vm, argv[0]), key = arg_string(vm, argv[1]);
  Foreign *f = kv_lookup(vm, name);
  Value old;
  bool had = map_get(f->extra, key, &old);
  if (had) f->extra = map_dissoc(vm, f->extra, key);
  kv_flush(vm, f);
  return bool_val(had);
}

static Value n_kv_keys(VM *vm, int argc, Value *argv) {
  Foreign *f = kv_lookup(vm, arg_string(vm, argv[0]));
  ListBuilder lb;
  list_start(&lb);
  MapIter it;
  Value k, v;
  map_iter_init(&it, f->extra);
  while (map_iter_next(&it, &k, &v)) list_add(vm, &lb, k);
  return lb.head;
}

static Value n_kv_close(VM *vm, int argc, Value *argv) {
  Value name = arg_string(vm, argv[0]), table = kv_table(vm), st;
  if (!map_get(table, name, &st)) return NIL_VAL;
  Foreign *f = (Foreign *)as_obj(st);
  char err[PATH_MAX + 256];
  (void)kv_flush_to(vm, f, err, sizeof err); /* net.md §4: a flush error on close is ignored */
  env_define(vm, KV_CELL, map_dissoc(vm, table, name));
  kv_finalize(f);
  f->ptr = NULL;
  f->extra = NIL_VAL;
  return NIL_VAL;
}

static const NativeDef defs[] = {
    {"kv/open", n_kv_open, 2, 2,
     "(kv/open name path)\nOpens the JSON-file store at path under name and returns name. An existing file must "
     "hold a JSON object; a missing file gives an empty store (created at the first write). Reopening a name "
     "replaces the old store without flushing it."},
    {"kv/get", n_kv_get, 2, 2,
     "(kv/get name key)\nReturns the value stored under the string key in the store name, or nil when absent."},
    {"kv/set", n_kv_set, 3, 3,
     "(kv/set name key value)\nStores value (in its JSON form: vectors come back as lists, keywords as strings, map "
     "keys as keywords) under key and writes the store to its file, crash-safely; returns value unchanged."},
    {"kv/delete", n_kv_delete, 2, 2,
     "(kv/delete name key)\nRemoves key from the store and rewrites its file; returns #t if the key existed, else #f."},
    {"kv/keys", n_kv_keys, 1, 1, "(kv/keys name)\nReturns the keys of the store as a list of strings in byte order."},
    {"kv/close", n_kv_close, 1, 1,
     "(kv/close name)\nWrites the store to its file and forgets it; returns nil. Closing a name that is not open "
     "does nothing."},
    {NULL, NULL, 0, 0, NULL},
};

void lib_kv_init(VM *vm) { env_register(vm, defs); }
