/* test_store.c - the kv and db modules as an embedding sees them (only sema.h):
 * connections close when their state is closed (the collector finalizes
 * them), every state has its own stores and connections, and states on
 * several threads use both at once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "sema.h"

static char scratch[48];

static int setup(void **st) {
  (void)st;
  snprintf(scratch, sizeof scratch, "/tmp/sema-unit-store-%ld", (long)getpid());
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", scratch, scratch);
  return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **st) {
  (void)st;
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf %s", scratch);
  return system(cmd) == 0 ? 0 : -1;
}

static bool exists(const char *path) {
  struct stat s;
  return stat(path, &s) == 0;
}

/* Evaluate src; returns the printed result (caller frees) or "error: " and the message. */
static char *eval_repr(sema_State *S, const char *src) {
  sema_Value *r = NULL;
  if (sema_eval(S, src, strlen(src), "test", &r) != SEMA_OK) {
    const char *m = sema_error_message(S);
    char *e = malloc(strlen(m) + 8);
    if (e) sprintf(e, "error: %s", m);
    return e;
  }
  char *s = sema_repr(S, r);
  sema_release(S, r);
  return s;
}

static void assert_eval(sema_State *S, const char *src, const char *want) {
  char *got = eval_repr(S, src);
  assert_non_null(got);
  if (strcmp(got, want) != 0) fail_msg("%s\n  got:  %s\n  want: %s", src, got, want);
  free(got);
}

/* src fails with a message containing want */
static void assert_eval_error(sema_State *S, const char *src, const char *want) {
  char *got = eval_repr(S, src);
  assert_non_null(got);
  if (strncmp(got, "error: ", 7) != 0 || !strstr(got, want)) fail_msg("%s\n  got:  %s\n  want error: %s", src, got, want);
  free(got);
}

static void test_close_state_closes_connections(void **st) {
  (void)st;
  char db[128], wal[140], src[512];
  snprintf(db, sizeof db, "%s/closed.db", scratch);
  snprintf(wal, sizeof wal, "%s-wal", db);
  sema_State *S = sema_open();
  snprintf(src, sizeof src,
           "(db/open \"h\" \"%s\") (db/exec \"h\" \"CREATE TABLE t (x)\") "
           "(db/exec \"h\" \"INSERT INTO t VALUES (?)\" 42)",
           db);
  assert_eval(S, src, "1");
  assert_true(exists(wal)); /* WAL mode: the log exists while a connection is open */
  sema_close(S);
  /* the last connection's close checkpoints and removes the log: the
   * finalizer ran sqlite3_close_v2 */
  assert_false(exists(wal));
  S = sema_open();
  snprintf(src, sizeof src, "(db/open \"h\" \"%s\") (db/query \"h\" \"SELECT x FROM t\")", db);
  assert_eval(S, src, "({:x 42})");
  sema_close(S);
}

static void test_states_are_independent(void **st) {
  (void)st;
  char src[512];
  sema_State *A = sema_open(), *B = sema_open();
  snprintf(src, sizeof src, "(kv/open \"s\" \"%s/ind.json\") (kv/set \"s\" \"k\" 1) (db/open-memory \"m\")", scratch);
  assert_eval(A, src, "\"m\"");
  assert_eval_error(B, "(kv/get \"s\" \"k\")", "kv store 's' not open");
  assert_eval_error(B, "(db/tables \"m\")", "db/tables: no open database 'm'");
  assert_eval(A, "(list (kv/get \"s\" \"k\") (db/tables \"m\"))", "(1 ())");
  sema_close(B);
  sema_close(A);
}

typedef struct {
  int id;
  char err[256];
} Worker;

#define ROWS 200

static void *worker(void *arg) {
  Worker *w = arg;
  sema_State *S = sema_open();
  char src[1024];
  snprintf(src, sizeof src,
           "(db/open \"d\" \"%s/w%d.db\") (db/exec \"d\" \"CREATE TABLE t (i)\") (kv/open \"s\" \"%s/w%d.json\")"
           "(define (go i) (when (< i %d) (db/exec \"d\" \"INSERT INTO t VALUES (?)\" i) (kv/set \"s\" (str \"k\" i) i) (go (+ i 1))))"
           "(go 0)"
           "(list (:n (db/query-one \"d\" \"SELECT count(*) AS n FROM t\")) (length (kv/keys \"s\")))",
           scratch, w->id, scratch, w->id, ROWS);
  char *got = eval_repr(S, src);
  char want[64];
  snprintf(want, sizeof want, "(%d %d)", ROWS, ROWS);
  if (!got || strcmp(got, want) != 0) snprintf(w->err, sizeof w->err, "worker %d: %s", w->id, got ? got : "(null)");
  free(got);
  sema_close(S);
  return NULL;
}

static void test_threads(void **st) {
  (void)st;
  enum { N = 3 };
  pthread_t th[N];
  Worker w[N];
  for (int i = 0; i < N; i++) {
    w[i] = (Worker){.id = i};
    assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
  }
  for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < N; i++)
    if (w[i].err[0]) fail_msg("%s", w[i].err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_close_state_closes_connections),
      cmocka_unit_test(test_states_are_independent),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
