/* db.c - the SQLite binding (net.md §5): db/open, db/open-memory, db/close,
 * db/exec, db/exec-batch, db/query, db/query-one, db/last-insert-id,
 * db/tables, on libsqlite3.
 *
 * A connection is a Foreign object (class "db-connection") whose ptr is the
 * sqlite3 handle, NULL once closed; its finalizer closes the handle, so a
 * connection that becomes garbage, or every connection of a VM being freed,
 * is closed.  Programs name connections by strings (the spec has no handle
 * type): the open ones live in a per-VM sorted map from handle string to
 * connection, in the global cell " db" that source cannot name.  db/close
 * and reopening a handle close the connection at once and drop it from the
 * map, so a closed connection is never reachable by name.
 *
 * Statements are prepared from the program's SQL and every argument is
 * bound as a parameter (sqlite3_bind_*); no value is ever spliced into SQL
 * text.  Each call finalizes its statement before returning or raising, so
 * no statement outlives a call and an error leaves nothing half-run (an
 * explicit BEGIN stays open until the program commits or rolls back).
 *
 * Nothing here calls back into the VM, so values built while rows are read
 * need no rooting (allocation never collects inside a native).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include "lib.h"

#define DB_CELL " db"

/* ---- libsqlite3, loaded on first use ----
 * Linking SQLite into the binary, even statically, costs every program at
 * start-up (its ~1,700 relocations and data pages: +50k instructions and
 * +110 kB RSS for `sema -e 1`, docs/design.md "Storage: kv and db"), so the
 * library is dlopen'd by the first db/open.  Only sqlite3.h is used at build
 * time; each entry's prototype is checked against it below.  The table is
 * filled once per process and never changes after, so threads (one VM each)
 * read it without locks. */
#define DB_API(X)                                                                                             \
  X(int, open_v2, (const char *, sqlite3 **, int, const char *))                                              \
  X(int, close_v2, (sqlite3 *))                                                                               \
  X(int, busy_timeout, (sqlite3 *, int))                                                                      \
  X(void, progress_handler, (sqlite3 *, int, int (*)(void *), void *))                                        \
  X(int, exec, (sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **))            \
  X(const char *, errmsg, (sqlite3 *))                                                                        \
  X(const char *, errstr, (int))                                                                              \
  X(void, free, (void *))                                                                                     \
  X(int, prepare_v2, (sqlite3 *, const char *, int, sqlite3_stmt **, const char **))                          \
  X(int, finalize, (sqlite3_stmt *))                                                                          \
  X(int, step, (sqlite3_stmt *))                                                                              \
  X(int, bind_parameter_count, (sqlite3_stmt *))                                                              \
  X(int, bind_null, (sqlite3_stmt *, int))                                                                    \
  X(int, bind_int64, (sqlite3_stmt *, int, sqlite3_int64))                                                    \
  X(int, bind_double, (sqlite3_stmt *, int, double))                                                          \
  X(int, bind_text64, (sqlite3_stmt *, int, const char *, sqlite3_uint64, void (*)(void *), unsigned char))   \
  X(int, bind_blob64, (sqlite3_stmt *, int, const void *, sqlite3_uint64, void (*)(void *)))                  \
  X(int, column_count, (sqlite3_stmt *))                                                                      \
  X(int, column_type, (sqlite3_stmt *, int))                                                                  \
  X(sqlite3_int64, column_int64, (sqlite3_stmt *, int))                                                       \
  X(double, column_double, (sqlite3_stmt *, int))                                                             \
  X(const unsigned char *, column_text, (sqlite3_stmt *, int))                                                \
  X(const void *, column_blob, (sqlite3_stmt *, int))                                                         \
  X(int, column_bytes, (sqlite3_stmt *, int))                                                                 \
  X(const char *, column_name, (sqlite3_stmt *, int))                                                         \
  X(sqlite3_int64, last_insert_rowid, (sqlite3 *))                                                            \
  X(int, changes, (sqlite3 *))                                                                                \
  X(const char *, db_filename, (sqlite3 *, const char *))
/* newer than some SQLite still in use (3.37, 3.38): NULL when absent */
#define DB_API_OPTIONAL(X)                \
  X(sqlite3_int64, changes64, (sqlite3 *)) \
  X(int, error_offset, (sqlite3 *))

/* _Generic does not evaluate its operand: this checks types without
 * referring to the symbol, so nothing links against libsqlite3. */
#define DB_CHECK(ret, name, args) \
  _Static_assert(_Generic(&sqlite3_##name, ret(*) args : 1, default : 0), "prototype of sqlite3_" #name);
DB_API(DB_CHECK)
DB_API_OPTIONAL(DB_CHECK)

#define DB_FIELD(ret, name, args) ret(*name) args;
static struct {
  DB_API(DB_FIELD)
  DB_API_OPTIONAL(DB_FIELD)
} sq;
static bool db_loaded;
static char db_load_error[256];
static pthread_once_t db_once = PTHREAD_ONCE_INIT;

static void db_load(void) {
  void *h = dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(db_load_error, sizeof db_load_error, "%s", dlerror());
    return;
  }
  const char *missing = NULL;
  /* POSIX's way to store a dlsym result in a function pointer */
#define DB_SYM(ret, name, args) \
  if (!(*(void **)&sq.name = dlsym(h, "sqlite3_" #name)) && !missing) missing = "sqlite3_" #name;
  DB_API(DB_SYM)
#undef DB_SYM
#define DB_SYM_OPT(ret, name, args) *(void **)&sq.name = dlsym(h, "sqlite3_" #name);
  DB_API_OPTIONAL(DB_SYM_OPT)
  if (missing) {
    snprintf(db_load_error, sizeof db_load_error, "libsqlite3.so.0 has no %s (too old)", missing);
    dlclose(h);
    return;
  }
  db_loaded = true;
}

static void db_require(VM *vm, const char *fname) {
  pthread_once(&db_once, db_load);
  if (!db_loaded) err_eval(vm, "%s: SQLite is not available: %s", fname, db_load_error);
}

static void db_finalize(Foreign *f) {
  if (f->ptr) sq.close_v2(f->ptr);
  f->ptr = NULL;
}

static void db_print(VM *vm, StrBuf *b, Foreign *f) {
  const char *file = f->ptr ? sq.db_filename(f->ptr, "main") : NULL;
  sb_addf(b, "<db-connection %s>", !f->ptr ? "closed" : file && *file ? file : ":memory:");
}

static const ForeignClass db_class = {.name = "db-connection", .finalize = db_finalize, .print = db_print};

static Value db_table(VM *vm) {
  Value t = env_get(vm, DB_CELL);
  if (!is_map(t)) {
    t = map_empty(vm);
    env_define(vm, DB_CELL, t);
  }
  return t;
}

/* The open connection named by handle (a string), else "FN: no open database". */
static sqlite3 *db_lookup(VM *vm, Value handle, const char *fname) {
  Value c;
  if (map_get(db_table(vm), handle, &c) && ((Foreign *)as_obj(c))->ptr) return ((Foreign *)as_obj(c))->ptr;
  err_eval(vm, "%s: no open database '%s'", fname, str_data(handle));
}

/* Close and forget the connection named handle, if any. */
static void db_forget(VM *vm, Value handle) {
  Value t = db_table(vm), c;
  if (!map_get(t, handle, &c)) return;
  db_finalize((Foreign *)as_obj(c));
  env_define(vm, DB_CELL, map_dissoc(vm, t, handle));
}

/* SQLite's C strings cannot carry a NUL byte: refuse rather than cut the text short. */
static const char *db_cstr(VM *vm, Value s, const char *fname, const char *what) {
  if (memchr(str_data(s), 0, str_len(s))) err_eval(vm, "%s: %s contains a NUL byte", fname, what);
  return str_data(s);
}

/* The progress handler: a pending interrupt (Ctrl-C, a fuzzer's budget)
 * stops a long statement; the caller then raises "interrupted". */
static int db_progress(void *ud) {
  return vm_interrupt_requested != 0;
}

/* Raise "FN: MSG" for rc on db (the caller has finalized its statement). */
NORETURN static void db_fail(VM *vm, sqlite3 *db, int rc, const char *fname) {
  if (rc == SQLITE_INTERRUPT && vm_interrupt_requested) vm_interrupted(vm);
  err_eval(vm, "%s: %s", fname, sq.errmsg(db));
}

/* ---- opening ---- */

static Value db_register(VM *vm, Value handle, sqlite3 *db) {
  sq.progress_handler(db, 10000, db_progress, NULL);
  db_forget(vm, handle);
  Value conn = obj_foreign(vm, &db_class, db, NIL_VAL);
  env_define(vm, DB_CELL, map_assoc(vm, db_table(vm), handle, conn));
  return handle;
}

/* Open path and run setup; on failure closes the handle and raises "db/open: ...". */
static sqlite3 *db_open_file(VM *vm, const char *path, const char *setup, const char *fname) {
  db_require(vm, fname);
  sqlite3 *db = NULL;
  int rc = sq.open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL);
  if (rc == SQLITE_OK) {
    sq.busy_timeout(db, 5000);
    rc = sq.exec(db, setup, NULL, NULL, NULL);
  }
  if (rc != SQLITE_OK) {
    /* the message outlives the handle: copy it into the error first */
    StrBuf b;
    sb_init_vm(&b, vm);
    sb_adds(&b, db ? sq.errmsg(db) : sq.errstr(rc));
    if ((rc & 0xff) == SQLITE_CANTOPEN) sb_addf(&b, ": %s", path);
    sq.close_v2(db);
    Value msg = sb_to_string(vm, &b);
    err_eval(vm, "%s: %s", fname, str_data(msg));
  }
  return db;
}

/* arity in the spec's words ("1 or 2"), which the VM's "1-2" would not give */
static Value n_db_open(VM *vm, int argc, Value *argv) {
  if (argc < 1 || argc > 2) err_arity(vm, "db/open", "1 or 2", argc);
  Value handle = arg_string(vm, argv[0]), path = arg_string(vm, argv[argc - 1]);
  sqlite3 *db = db_open_file(vm, db_cstr(vm, path, "db/open", "path"), "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;",
                             "db/open");
  return db_register(vm, handle, db);
}

static Value n_db_open_memory(VM *vm, int argc, Value *argv) {
  if (argc > 1) err_arity(vm, "db/open-memory", "0 or 1", argc);
  Value handle = argc ? arg_string(vm, argv[0]) : str_from_c(vm, ":memory:");
  return db_register(vm, handle, db_open_file(vm, ":memory:", "PRAGMA foreign_keys=ON;", "db/open-memory"));
}

static Value n_db_close(VM *vm, int argc, Value *argv) {
  db_forget(vm, arg_string(vm, argv[0]));
  return NIL_VAL;
}

/* ---- statements ---- */

/* Prepare exactly one statement of sql with params bound; raises on any
 * failure (nothing is left to finalize then). */
static sqlite3_stmt *db_prepare(VM *vm, sqlite3 *db, Value sqlv, const Value *params, int nparams, const char *fname) {
  const char *sql = db_cstr(vm, sqlv, fname, "SQL"), *tail = NULL;
  if (str_len(sqlv) > INT32_MAX) err_eval(vm, "%s: SQL text too long", fname);
  sqlite3_stmt *st = NULL;
  int rc = sq.prepare_v2(db, sql, (int)str_len(sqlv), &st, &tail);
  if (rc != SQLITE_OK) {
    int off = sq.error_offset ? sq.error_offset(db) : -1;
    if (rc == SQLITE_INTERRUPT && vm_interrupt_requested) vm_interrupted(vm);
    if (off >= 0) { /* the reference's "MSG in SQL at offset N", a long SQL text cut short */
      int n = (int)str_len(sqlv), shown = n <= 200 ? n : 200;
      while (shown < n && ((unsigned char)sql[shown] & 0xC0) == 0x80) shown--;
      err_eval(vm, "%s: %s in %.*s%s at offset %d", fname, sq.errmsg(db), shown, sql, shown < n ? "..." : "", off);
    }
    db_fail(vm, db, rc, fname);
  }
  if (!st) err_eval(vm, "%s: no SQL statement to run", fname);
  /* whitespace, comments and semicolons may follow; another statement may not */
  if (tail && *tail) {
    sqlite3_stmt *next = NULL;
    int rc2 = sq.prepare_v2(db, tail, -1, &next, NULL);
    if (rc2 != SQLITE_OK || next) {
      sq.finalize(next);
      sq.finalize(st);
      err_eval(vm, "%s: Multiple statements provided", fname);
    }
  }
  int need = sq.bind_parameter_count(st);
  if (nparams != need) {
    sq.finalize(st);
    err_eval(vm, "%s: Wrong number of parameters passed to query. Got %d, needed %d", fname,
             nparams > need ? need + 1 : nparams, need);
  }
  for (int i = 0; i < nparams && rc == SQLITE_OK; i++) {
    Value v = params[i];
    int ix = i + 1;
    if (v == NIL_VAL)
      rc = sq.bind_null(st, ix);
    else if (is_bool(v))
      rc = sq.bind_int64(st, ix, v == TRUE_VAL);
    else if (is_int(v))
      rc = sq.bind_int64(st, ix, int_of(v));
    else if (is_double(v))
      rc = sq.bind_double(st, ix, as_double(v));
    else if (is_string(v))
      rc = sq.bind_text64(st, ix, str_data(v), str_len(v), SQLITE_TRANSIENT, SQLITE_UTF8);
    else if (is_objtype(v, OBJ_BYTEVEC))
      rc = sq.bind_blob64(st, ix, ((Bytevec *)as_obj(v))->data, ((Bytevec *)as_obj(v))->len, SQLITE_TRANSIENT);
    else {
      StrBuf b;
      sb_init_vm(&b, vm);
      print_value(vm, &b, v, true);
      rc = sq.bind_text64(st, ix, b.data ? b.data : "", b.len, SQLITE_TRANSIENT, SQLITE_UTF8);
      sb_free(&b);
    }
  }
  if (rc != SQLITE_OK) {
    sq.finalize(st);
    db_fail(vm, db, rc, fname);
  }
  return st;
}

/* TEXT from SQLite as a Sema string: SQLite does not check encodings, so
 * invalid UTF-8 (from CAST of a blob, or another program) becomes U+FFFD. */
static Value db_text(VM *vm, const char *s, size_t n) {
  size_t bad;
  if (utf8_valid(s, n, &bad)) return str_new(vm, s, n);
  StrBuf b;
  sb_init_vm(&b, vm);
  while (!utf8_valid(s, n, &bad)) {
    sb_add(&b, s, bad);
    sb_add_utf8(&b, 0xFFFD);
    s += bad + 1;
    n -= bad + 1;
  }
  sb_add(&b, s, n);
  return sb_to_string(vm, &b);
}

/* The current row as a sorted map keyword(column name) -> value; a later
 * column with the same name wins. */
static Value db_row(VM *vm, sqlite3_stmt *st) {
  Value row = map_empty(vm);
  int n = sq.column_count(st);
  for (int i = 0; i < n; i++) {
    Value v;
    switch (sq.column_type(st, i)) {
    case SQLITE_INTEGER: v = num_int(vm, sq.column_int64(st, i)); break;
    case SQLITE_FLOAT: v = val_canon_double(sq.column_double(st, i)); break;
    case SQLITE_TEXT: {
      const char *t = (const char *)sq.column_text(st, i);
      v = db_text(vm, t ? t : "", (size_t)sq.column_bytes(st, i));
      break;
    }
    case SQLITE_BLOB: {
      const void *p = sq.column_blob(st, i);
      v = obj_bytevec(vm, p, p ? (size_t)sq.column_bytes(st, i) : 0);
      break;
    }
    default: v = NIL_VAL;
    }
    const char *name = sq.column_name(st, i);
    Value ns = db_text(vm, name ? name : "", name ? strlen(name) : 0);
    row = map_assoc(vm, row, kw_val(sym_intern(vm, str_data(ns), str_len(ns))), v);
  }
  return row;
}

/* The checks every statement entry shares: handle and sql strings, then the connection. */
static sqlite3_stmt *db_statement(VM *vm, int argc, Value *argv, const char *fname, sqlite3 **dbp) {
  Value handle = arg_string(vm, argv[0]), sql = arg_string(vm, argv[1]);
  *dbp = db_lookup(vm, handle, fname);
  return db_prepare(vm, *dbp, sql, argv + 2, argc - 2, fname);
}

static Value n_db_exec(VM *vm, int argc, Value *argv) {
  sqlite3 *db;
  sqlite3_stmt *st = db_statement(vm, argc, argv, "db/exec", &db);
  int rc = sq.step(st);
  sq.finalize(st);
  if (rc == SQLITE_ROW) err_eval(vm, "db/exec: Execute returned results - did you mean to call query?");
  if (rc != SQLITE_DONE) db_fail(vm, db, rc, "db/exec");
  return num_int(vm, (sq.changes64 ? sq.changes64(db) : sq.changes(db)));
}

typedef struct {
  sqlite3_stmt *st;
  long max;
  int rc;
  ListBuilder lb;
} RowsRun;

static void db_rows_run(VM *vm, void *ud) {
  RowsRun *r = ud;
  for (long n = 0; r->max < 0 || n < r->max; n++) {
    r->rc = sq.step(r->st);
    if (r->rc != SQLITE_ROW) break;
    list_add(vm, &r->lb, db_row(vm, r->st));
  }
}

/* Up to max rows (max < 0: all) as a list; finalizes st.  The rows are built
 * under a C handler: an allocation over the heap limit raises, and the
 * statement must be finalized before that error goes on. */
static Value db_rows(VM *vm, sqlite3 *db, sqlite3_stmt *st, long max, const char *fname) {
  RowsRun r = {.st = st, .max = max, .rc = SQLITE_DONE};
  list_start(&r.lb);
  int raised = vm_protect(vm, db_rows_run, &r);
  sq.finalize(st);
  if (raised) err_rethrow(vm);
  if (r.rc != SQLITE_ROW && r.rc != SQLITE_DONE) db_fail(vm, db, r.rc, fname);
  return r.lb.head;
}

static Value n_db_query(VM *vm, int argc, Value *argv) {
  sqlite3 *db;
  sqlite3_stmt *st = db_statement(vm, argc, argv, "db/query", &db);
  return db_rows(vm, db, st, -1, "db/query");
}

static Value n_db_query_one(VM *vm, int argc, Value *argv) {
  sqlite3 *db;
  sqlite3_stmt *st = db_statement(vm, argc, argv, "db/query-one", &db);
  Value rows = db_rows(vm, db, st, 1, "db/query-one");
  return is_cons(rows) ? car(rows) : NIL_VAL;
}

static Value n_db_exec_batch(VM *vm, int argc, Value *argv) {
  Value handle = arg_string(vm, argv[0]), sql = arg_string(vm, argv[1]);
  sqlite3 *db = db_lookup(vm, handle, "db/exec-batch");
  char *msg = NULL;
  int rc = sq.exec(db, db_cstr(vm, sql, "db/exec-batch", "SQL"), NULL, NULL, &msg);
  if (rc != SQLITE_OK) {
    if (rc == SQLITE_INTERRUPT && vm_interrupt_requested) {
      sq.free(msg);
      vm_interrupted(vm);
    }
    Value m = str_from_c(vm, msg ? msg : sq.errstr(rc));
    sq.free(msg);
    err_eval(vm, "db/exec-batch: %s", str_data(m));
  }
  return NIL_VAL;
}

static Value n_db_last_insert_id(VM *vm, int argc, Value *argv) {
  sqlite3 *db = db_lookup(vm, arg_string(vm, argv[0]), "db/last-insert-id");
  return num_int(vm, sq.last_insert_rowid(db));
}

static Value n_db_tables(VM *vm, int argc, Value *argv) {
  sqlite3 *db = db_lookup(vm, arg_string(vm, argv[0]), "db/tables");
  sqlite3_stmt *st = NULL;
  int rc = sq.prepare_v2(db,
                              "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                              "ORDER BY name COLLATE BINARY",
                              -1, &st, NULL);
  if (rc != SQLITE_OK) db_fail(vm, db, rc, "db/tables");
  ListBuilder lb;
  list_start(&lb);
  for (Value rows = db_rows(vm, db, st, -1, "db/tables"); is_cons(rows); rows = cdr(rows)) {
    Value name = NIL_VAL;
    map_get(car(rows), KW(vm, "name"), &name);
    list_add(vm, &lb, name);
  }
  return lb.head;
}

static const NativeDef defs[] = {
    {"db/open", n_db_open, 0, VARIADIC,
     "(db/open path) or (db/open name path)\nOpens (creating if needed) the SQLite database file at path, in WAL "
     "mode with foreign keys on, and returns its handle: name, or path itself. Reopening a handle closes the old "
     "connection."},
    {"db/open-memory", n_db_open_memory, 0, VARIADIC,
     "(db/open-memory [name])\nOpens a private in-memory SQLite database with foreign keys on; the handle is name "
     "or \":memory:\"."},
    {"db/close", n_db_close, 1, 1,
     "(db/close handle)\nCloses the connection named handle (rolling back an open transaction) and forgets it; "
     "returns nil. An unknown handle is not an error."},
    {"db/exec", n_db_exec, 2, VARIADIC,
     "(db/exec handle sql param...)\nRuns one SQL statement with the params bound to its ? / :name placeholders "
     "and returns the number of rows changed. Use db/query for statements that return rows; BEGIN, COMMIT and "
     "ROLLBACK go through here."},
    {"db/exec-batch", n_db_exec_batch, 2, 2,
     "(db/exec-batch handle sql)\nRuns every statement of sql in order (no parameters; rows are discarded). The "
     "first failure stops the batch, earlier statements staying applied. Returns nil."},
    {"db/query", n_db_query, 2, VARIADIC,
     "(db/query handle sql param...)\nRuns one SQL statement with the params bound and returns its rows as a list "
     "of maps from column-name keywords to values (NULL nil, INTEGER int, REAL float, TEXT string, BLOB "
     "bytevector)."},
    {"db/query-one", n_db_query_one, 2, VARIADIC,
     "(db/query-one handle sql param...)\nLike db/query but returns only the first row, or nil when there is none."},
    {"db/last-insert-id", n_db_last_insert_id, 1, 1,
     "(db/last-insert-id handle)\nReturns the rowid of the connection's last successful INSERT, 0 before any."},
    {"db/tables", n_db_tables, 1, 1,
     "(db/tables handle)\nReturns the names of the database's tables (not views, not sqlite_ internals) sorted by "
     "byte order."},
    {NULL, NULL, 0, 0, NULL},
};

void lib_db_init(VM *vm) { env_register(vm, defs); }
