/* llm_cache.c - the response cache (llm.md §12) and cassettes (§13).
 *
 * Both key a request by the SHA-256 of its model, temperature, system
 * prompt and messages (roles and texts).  The cache keeps entries in memory
 * and in $HOME/.sema/cache/llm/KEY.json; a cassette is a JSON-lines tape of
 * responses only (no prompt text, key or header ever reaches it), loaded
 * whole and rewritten whole when entries were added. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "llm.h"

/* ---------------------------------------------------------------- keys */

static void key_of(VM *vm, StrBuf *b, char out[65]) {
  llm_sha256_hex(vm, (const uint8_t *)(b->data ? b->data : ""), b->len, out);
  sb_free(b);
}

void llm_cache_key(VM *vm, Value req, char out[65]) {
  Value *f = RQ(req);
  StrBuf b;
  sb_init(&b);
  sb_add(&b, str_data(f[RQ_MODEL]), str_len(f[RQ_MODEL]));
  if (f[RQ_TEMP] != NIL_VAL) {
    double d = num_to_double(f[RQ_TEMP]);
    uint64_t u;
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++, u >>= 8) sb_addc(&b, (char)(u & 0xff));
  }
  if (f[RQ_SYSTEM] != NIL_VAL) sb_add(&b, str_data(f[RQ_SYSTEM]), str_len(f[RQ_SYSTEM]));
  for (Value l = f[RQ_MSGS]; is_cons(l); l = cdr(l)) {
    Value *m = vec_items(car(l));
    sb_adds(&b, llm_role_names[small_int_of(m[CM_ROLE])]);
    sb_add(&b, str_data(m[CM_CONTENT]), str_len(m[CM_CONTENT]));
  }
  key_of(vm, &b, out);
}

static Value n_cache_key(VM *vm, int argc, Value *argv) {
  Value prompt = arg_string(vm, argv[0]), opts = argc > 1 ? argv[1] : NIL_VAL;
  Value req = llm_req_new(vm);
  Value m = llm_opt_str(vm, opts, "model"), s = llm_opt_str(vm, opts, "system");
  double t;
  if (m != NIL_VAL) RQ(req)[RQ_MODEL] = m;
  if (llm_opt_num(vm, opts, "temperature", &t)) RQ(req)[RQ_TEMP] = double_val(t);
  if (s != NIL_VAL) RQ(req)[RQ_SYSTEM] = s;
  RQ(req)[RQ_MSGS] = list_1(vm, llm_cmsg(vm, LLM_USER, prompt, EMPTY_VAL));
  char key[65];
  llm_cache_key(vm, req, key);
  return str_from_c(vm, key);
}

/* ---------------------------------------------------------------- files */

static int mkdirs(const char *path) {
  char *p = llm_strdup(path);
  for (char *s = p + 1; *s; s++)
    if (*s == '/') {
      *s = 0;
      if (mkdir(p, 0777) != 0 && errno != EEXIST) {
        free(p);
        return -1;
      }
      *s = '/';
    }
  int rc = mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
  free(p);
  return rc;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  StrBuf b;
  sb_init(&b);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_add(&b, buf, n);
  fclose(f);
  sb_addc(&b, 0);
  *len = b.len - 1;
  return b.data;
}

/* ---------------------------------------------------------------- the cache (§12) */

enum { CE_CONTENT, CE_MODEL, CE_PT, CE_CT, CE_AT, CE_NF };

static void cache_dir(StrBuf *b) {
  const char *home = getenv("HOME");
  if (!home || !*home) home = getenv("USERPROFILE");
  if (!home || !*home) home = ".";
  sb_adds(b, home);
  sb_adds(b, "/.sema/cache/llm");
}

static void cache_file(StrBuf *b, const char *key) {
  cache_dir(b);
  sb_addc(b, '/');
  sb_adds(b, key);
  sb_adds(b, ".json");
  sb_addc(b, 0);
}

static Value entry_from_file(VM *vm, const char *key) {
  StrBuf path;
  sb_init(&path);
  cache_file(&path, key);
  size_t len;
  char *text = slurp(path.data, &len);
  sb_free(&path);
  if (!text) return NIL_VAL;
  Value m;
  bool ok = llm_json_try_decode(vm, text, len, &m, NULL);
  free(text);
  Value content, model, pt, ct, at;
  if (!ok || !is_map(m) || !map_get(m, KW(vm, "content"), &content) || !is_string(content) ||
      !map_get(m, KW(vm, "model"), &model) || !is_string(model) || !map_get(m, KW(vm, "cached_at"), &at) || !is_number(at))
    return NIL_VAL;
  if (!map_get(m, KW(vm, "prompt_tokens"), &pt) || !is_int(pt)) pt = small_int_val(0);
  if (!map_get(m, KW(vm, "completion_tokens"), &ct) || !is_int(ct)) ct = small_int_val(0);
  Value e = vec_new(vm, CE_NF);
  Value *f = vec_items(e);
  f[CE_CONTENT] = content;
  f[CE_MODEL] = model;
  f[CE_PT] = pt;
  f[CE_CT] = ct;
  f[CE_AT] = at;
  return e;
}

bool llm_cache_lookup(VM *vm, const char *key, Value model, Value *resp) {
  LlmState *st = llm_state(vm);
  if (st->cache == NIL_VAL) st->cache = hmap_empty(vm);
  Value k = str_from_c(vm, key), e;
  if (!hmap_get(st->cache, k, &e)) {
    e = entry_from_file(vm, key);
    if (e != NIL_VAL) st->cache = hmap_assoc(vm, st->cache, k, e);
  }
  if (e != NIL_VAL && (double)(llm_now_ms() / 1000) - num_to_double(vec_items(e)[CE_AT]) < (double)st->cache_ttl) {
    st->cache_hits++;
    Value r = llm_resp_new(vm);
    RQ(r)[RS_CONTENT] = vec_items(e)[CE_CONTENT];
    RQ(r)[RS_MODEL] = vec_items(e)[CE_MODEL];
    RQ(r)[RS_UMODEL] = model;
    RQ(r)[RS_STOP] = str_from_c(vm, "cache_hit");
    *resp = r;
    return true;
  }
  st->cache_misses++;
  return false;
}

void llm_cache_store(VM *vm, const char *key, Value resp) {
  LlmState *st = llm_state(vm);
  if (st->cache == NIL_VAL) st->cache = hmap_empty(vm);
  Value *r = RQ(resp);
  int64_t now = llm_now_ms() / 1000;
  Value e = vec_new(vm, CE_NF);
  Value *f = vec_items(e);
  f[CE_CONTENT] = r[RS_CONTENT];
  f[CE_MODEL] = r[RS_MODEL];
  f[CE_PT] = r[RS_PT];
  f[CE_CT] = r[RS_CT];
  f[CE_AT] = num_int(vm, now);
  st->cache = hmap_assoc(vm, st->cache, str_from_c(vm, key), e);
  StrBuf dir, path, body;
  sb_init(&dir);
  sb_init(&path);
  sb_init(&body);
  cache_dir(&dir);
  sb_addc(&dir, 0);
  cache_file(&path, key);
  sb_adds(&body, "{\"content\":");
  llm_json_sval(&body, r[RS_CONTENT]);
  sb_adds(&body, ",\"model\":");
  llm_json_sval(&body, r[RS_MODEL]);
  sb_addf(&body, ",\"prompt_tokens\":%lld,\"completion_tokens\":%lld,\"cached_at\":%lld}", (long long)int_of(r[RS_PT]),
          (long long)int_of(r[RS_CT]), (long long)now);
  if (mkdirs(dir.data) == 0) { /* write failures are ignored (§12) */
    FILE *fp = fopen(path.data, "wb");
    if (fp) {
      fwrite(body.data, 1, body.len, fp);
      fclose(fp);
    }
  }
  sb_free(&dir);
  sb_free(&path);
  sb_free(&body);
}

static Value n_with_cache(VM *vm, int argc, Value *argv) {
  Value thunk = argv[argc - 1];
  int64_t ttl = 3600;
  if (argc == 2) {
    if (!is_map(argv[0])) err_type(vm, "map", argv[0]);
    llm_opt_int(vm, argv[0], "ttl", &ttl);
  }
  llm_check_fn(vm, thunk);
  LlmState *st = llm_state(vm);
  bool on = st->cache_on;
  int64_t old_ttl = st->cache_ttl;
  st->cache_on = true;
  st->cache_ttl = ttl;
  Value out;
  int rc = llm_run_thunk(vm, thunk, &out);
  st = llm_state(vm);
  st->cache_on = on;
  st->cache_ttl = old_ttl;
  if (rc) err_rethrow(vm);
  return out;
}

static Value n_cache_stats(VM *vm, int argc, Value *argv) {
  LlmState *st = llm_state(vm);
  Value m = map_assoc(vm, map_empty(vm), KW(vm, "hits"), num_int(vm, st->cache_hits));
  m = map_assoc(vm, m, KW(vm, "misses"), num_int(vm, st->cache_misses));
  return map_assoc(vm, m, KW(vm, "size"), num_int(vm, st->cache == NIL_VAL ? 0 : (int64_t)hmap_count(st->cache)));
}

static Value n_cache_clear(VM *vm, int argc, Value *argv) {
  LlmState *st = llm_state(vm);
  int64_t n = st->cache == NIL_VAL ? 0 : (int64_t)hmap_count(st->cache);
  st->cache = NIL_VAL;
  st->cache_hits = st->cache_misses = 0;
  StrBuf dir;
  sb_init(&dir);
  cache_dir(&dir);
  sb_addc(&dir, 0);
  DIR *d = opendir(dir.data);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      size_t l = strlen(e->d_name);
      if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0) {
        StrBuf p;
        sb_init(&p);
        sb_adds(&p, dir.data);
        sb_addc(&p, '/');
        sb_adds(&p, e->d_name);
        sb_addc(&p, 0);
        unlink(p.data);
        sb_free(&p);
      }
    }
    closedir(d);
  }
  sb_free(&dir);
  return num_int(vm, n);
}

/* ---------------------------------------------------------------- cassettes (§13) */

static int parse_mode(const char *s) {
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) n--;
  if (n == 6 && strncasecmp(s, "record", 6) == 0) return CASS_RECORD;
  if (n == 6 && strncasecmp(s, "replay", 6) == 0) return CASS_REPLAY;
  return CASS_AUTO;
}

static const char *mode_name(int m) { return m == CASS_RECORD ? "record" : m == CASS_REPLAY ? "replay" : "auto"; }

static void cass_push(LlmCassette *c, Value e) {
  if (c->n == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 16;
    c->entries = realloc(c->entries, c->cap * sizeof *c->entries);
    if (!c->entries) abort();
  }
  c->entries[c->n++] = e;
}

static bool has_str(VM *vm, Value m, const char *k) {
  Value v;
  return map_get(m, KW(vm, k), &v) && is_string(v);
}

/* A tape: a missing file is empty; blank and unparsable lines are skipped. */
static LlmCassette *cassette_load(VM *vm, const char *path, int mode) {
  LlmCassette *c = calloc(1, sizeof *c);
  if (!c) abort();
  c->path = llm_strdup(path);
  c->mode = mode;
  size_t len;
  char *text = slurp(path, &len);
  if (!text) return c;
  for (char *p = text, *end = text + len; p < end;) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    char *e = nl ? nl : end;
    char *a = p, *b = e;
    while (a < b && isspace((unsigned char)*a)) a++;
    while (b > a && isspace((unsigned char)b[-1])) b--;
    Value m, v;
    if (b > a && llm_json_try_decode(vm, a, (size_t)(b - a), &m, NULL) && is_map(m) && map_get(m, KW(vm, "v"), &v) &&
        has_str(vm, m, "kind") && has_str(vm, m, "key") && has_str(vm, m, "content") && has_str(vm, m, "model"))
      cass_push(c, m);
    p = nl ? nl + 1 : end;
  }
  free(text);
  return c;
}

bool llm_cassette_lookup(VM *vm, const char *key, Value *entry) {
  LlmCassette *c = llm_state(vm)->cassette;
  if (!c) return false;
  Value kw = KW(vm, "key");
  for (size_t i = 0; i < c->n; i++) {
    Value k;
    if (map_get(c->entries[i], kw, &k) && is_string(k) && strcmp(str_data(k), key) == 0) {
      *entry = c->entries[i];
      return true;
    }
  }
  return false;
}

void llm_cassette_miss(VM *vm, const char *key) {
  llm_err(vm,
          "cassette miss in :replay mode (key %s) \xe2\x80\x94 no recorded interaction for this request; re-record the tape or "
          "use :auto mode",
          key);
}

static Value eget(VM *vm, Value m, const char *k, Value dflt) {
  Value v;
  return map_get(m, KW(vm, k), &v) ? v : dflt;
}

static Value eint(VM *vm, Value m, const char *k) {
  Value v = eget(vm, m, k, NIL_VAL);
  return is_int(v) ? v : small_int_val(0);
}

/* A recorded completion as a full stand-in (usage priced canonically). */
Value llm_cassette_response(VM *vm, Value e) {
  Value r = llm_resp_new(vm);
  Value *f = RQ(r);
  f[RS_CONTENT] = eget(vm, e, "content", f[RS_CONTENT]);
  Value role = eget(vm, e, "role", NIL_VAL);
  if (is_string(role)) f[RS_ROLE] = role;
  f[RS_MODEL] = f[RS_UMODEL] = eget(vm, e, "model", f[RS_MODEL]);
  Value stop = eget(vm, e, "stop_reason", NIL_VAL);
  f[RS_STOP] = is_string(stop) ? stop : NIL_VAL;
  f[RS_PT] = eint(vm, e, "prompt_tokens");
  f[RS_CT] = eint(vm, e, "completion_tokens");
  f[RS_CRT] = eint(vm, e, "cache_read_input_tokens");
  f[RS_CCT] = eint(vm, e, "cache_creation_input_tokens");
  ListBuilder lb;
  list_start(&lb);
  for (Value l = eget(vm, e, "tool_calls", EMPTY_VAL); is_cons(l); l = cdr(l)) {
    Value c = car(l);
    if (!is_map(c)) continue;
    Value id = eget(vm, c, "id", NIL_VAL), name = eget(vm, c, "name", NIL_VAL), args = eget(vm, c, "arguments", NIL_VAL);
    if (!is_string(name)) continue;
    list_add(vm, &lb, llm_call_new(vm, is_string(id) ? id : str_new(vm, "", 0), name, args == NIL_VAL ? map_empty(vm) : args));
  }
  f[RS_CALLS] = lb.head;
  return r;
}

static Value kwmap(VM *vm, Value m, const char *k, Value v) { return map_assoc(vm, m, KW(vm, k), v); }

void llm_cassette_record(VM *vm, const char *kind, const char *key, Value resp, Value chunks, Value embeddings) {
  LlmCassette *c = llm_state(vm)->cassette;
  Value *f = RQ(resp);
  Value m = kwmap(vm, map_empty(vm), "v", small_int_val(1));
  m = kwmap(vm, m, "kind", str_from_c(vm, kind));
  m = kwmap(vm, m, "key", str_from_c(vm, key));
  m = kwmap(vm, m, "content", f[RS_CONTENT]);
  m = kwmap(vm, m, "role", f[RS_ROLE]);
  m = kwmap(vm, m, "model", f[RS_MODEL]);
  ListBuilder lb;
  list_start(&lb);
  for (Value l = f[RS_CALLS]; is_cons(l); l = cdr(l)) {
    Value *tc = vec_items(car(l));
    Value t = kwmap(vm, map_empty(vm), "arguments", tc[TC_ARGS]);
    t = kwmap(vm, t, "id", tc[TC_ID]);
    list_add(vm, &lb, kwmap(vm, t, "name", tc[TC_NAME]));
  }
  m = kwmap(vm, m, "tool_calls", lb.head);
  m = kwmap(vm, m, "stop_reason", f[RS_STOP]);
  m = kwmap(vm, m, "prompt_tokens", f[RS_PT]);
  m = kwmap(vm, m, "completion_tokens", f[RS_CT]);
  m = kwmap(vm, m, "cache_read_input_tokens", f[RS_CRT]);
  m = kwmap(vm, m, "cache_creation_input_tokens", f[RS_CCT]);
  m = kwmap(vm, m, "chunks", chunks);
  m = kwmap(vm, m, "embeddings", embeddings);
  cass_push(c, m);
  c->dirty = true;
}

/* One tape line, members in the order of §13. */
static void entry_line(VM *vm, StrBuf *b, Value e) {
  static const char *const order[] = {"v", "kind", "key", "content", "role", "model", "tool_calls", "stop_reason",
                                      "prompt_tokens", "completion_tokens", "cache_read_input_tokens",
                                      "cache_creation_input_tokens", "chunks", "embeddings", "mcp_result"};
  sb_addc(b, '{');
  for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
    Value v;
    bool present = map_get(e, KW(vm, order[i]), &v);
    if (!present) {
      if (i == 14) continue; /* mcp_result only when recorded */
      v = i == 4 ? str_from_c(vm, "assistant") : i == 6 || i == 12 || i == 13 ? EMPTY_VAL : i == 7 ? NIL_VAL : small_int_val(0);
    }
    if (i) sb_addc(b, ',');
    llm_json_str(b, order[i], strlen(order[i]));
    sb_addc(b, ':');
    if (i == 6) { /* tool_calls: {"id","name","arguments"} in that order */
      sb_addc(b, '[');
      bool first = true;
      for (Value l = v; is_cons(l); l = cdr(l)) {
        Value c = car(l);
        if (!is_map(c)) continue;
        if (!first) sb_addc(b, ',');
        first = false;
        sb_adds(b, "{\"id\":");
        llm_json_encode(vm, b, eget(vm, c, "id", str_new(vm, "", 0)));
        sb_adds(b, ",\"name\":");
        llm_json_encode(vm, b, eget(vm, c, "name", str_new(vm, "", 0)));
        sb_adds(b, ",\"arguments\":");
        llm_json_encode(vm, b, eget(vm, c, "arguments", map_empty(vm)));
        sb_addc(b, '}');
      }
      sb_addc(b, ']');
    } else {
      llm_json_encode(vm, b, v);
    }
  }
  sb_adds(b, "}\n");
}

/* Rewrite the tape when entries were added; returns an errno or 0. */
static int cassette_save(VM *vm, LlmCassette *c) {
  if (!c->dirty) return 0;
  StrBuf b;
  sb_init(&b);
  for (size_t i = 0; i < c->n; i++) entry_line(vm, &b, c->entries[i]);
  char *dir = llm_strdup(c->path);
  char *slash = strrchr(dir, '/');
  int err = 0;
  if (slash && slash != dir) {
    *slash = 0;
    if (mkdirs(dir) != 0) err = errno;
  }
  free(dir);
  if (!err) {
    FILE *f = fopen(c->path, "wb");
    if (!f || fwrite(b.data ? b.data : "", 1, b.len, f) != b.len) err = errno ? errno : EIO;
    if (f && fclose(f) != 0 && !err) err = errno;
  }
  sb_free(&b);
  if (!err) c->dirty = false;
  return err;
}

static int mode_opt(VM *vm, Value opts) {
  Value m = llm_opt_name(vm, opts, "mode");
  return m == NIL_VAL ? CASS_AUTO : parse_mode(str_data(m));
}

static Value n_with_cassette(VM *vm, int argc, Value *argv) {
  if (argc < 2 || argc > 3) err_arity(vm, "llm/with-cassette", "2 or 3", argc);
  Value path = arg_string(vm, argv[0]), opts = argc == 3 ? argv[1] : NIL_VAL, thunk = argv[argc - 1];
  if (argc == 3 && !is_map(opts)) err_type(vm, "map", opts);
  llm_check_fn(vm, thunk);
  LlmState *st = llm_state(vm);
  LlmCassette *c = cassette_load(vm, str_data(path), mode_opt(vm, opts));
  LlmCassette *prev = st->cassette;
  bool cache = st->cache_on;
  /* the previous cassette's entries stay marked: it is kept on a C list while this one runs */
  uint32_t base = vm_roots_mark(vm);
  if (prev)
    for (size_t i = 0; i < prev->n; i++) vm_push_root(vm, prev->entries[i]);
  st->cassette = c;
  st->cache_on = false;
  Value out;
  int rc = llm_run_thunk(vm, thunk, &out);
  st = llm_state(vm);
  if (st->cassette == c) { /* not ejected or replaced by the thunk */
    cassette_save(vm, c);
    llm_cassette_free(c);
  }
  st->cassette = prev;
  st->cache_on = cache;
  vm_roots_reset(vm, base);
  if (rc) err_rethrow(vm);
  return out;
}

static Value n_cassette_load(VM *vm, int argc, Value *argv) {
  if (argc < 1 || argc > 2) err_arity(vm, "llm/cassette-load", "1 or 2", argc);
  Value path = arg_string(vm, argv[0]);
  LlmCassette *c = cassette_load(vm, str_data(path), mode_opt(vm, argc > 1 ? argv[1] : NIL_VAL));
  LlmState *st = llm_state(vm);
  llm_cassette_free(st->cassette);
  st->cassette = c;
  return NIL_VAL;
}

static Value n_cassette_save(VM *vm, int argc, Value *argv) {
  LlmState *st = llm_state(vm);
  if (!st->cassette) return FALSE_VAL;
  int err = cassette_save(vm, st->cassette);
  if (err) err_eval(vm, "cassette save failed: %s", strerror(err));
  return TRUE_VAL;
}

static Value n_cassette_eject(VM *vm, int argc, Value *argv) {
  LlmState *st = llm_state(vm);
  if (!st->cassette) return FALSE_VAL;
  cassette_save(vm, st->cassette);
  llm_cassette_free(st->cassette);
  st->cassette = NULL;
  return TRUE_VAL;
}

/* SEMA_LLM_CASSETTE: installed when the interpreter's LLM state is created. */
void llm_cassette_env(VM *vm, LlmState *st) {
  const char *path = getenv("SEMA_LLM_CASSETTE");
  if (!path || !*path) return;
  const char *mode = getenv("SEMA_LLM_CASSETTE_MODE");
  st->cassette = cassette_load(vm, path, mode ? parse_mode(mode) : CASS_AUTO);
}

static const NativeDef defs[] = {
    {"llm/with-cache", n_with_cache, 1, 2, "(llm/with-cache [{:ttl seconds}] thunk)\nRuns thunk with the response cache on (TTL 3600 s)."},
    {"llm/cache-key", n_cache_key, 1, 2,
     "(llm/cache-key prompt [opts])\nThe cache key of a one-message request (:model, :temperature, :system): a SHA-256 hex string."},
    {"llm/cache-stats", n_cache_stats, 0, 0, "(llm/cache-stats)\n{:hits :misses :size} of the response cache."},
    {"llm/cache-clear", n_cache_clear, 0, 0, "(llm/cache-clear)\nEmpties the response cache (memory and files); returns the entries dropped."},
    {"llm/with-cassette", n_with_cassette, 0, VARIADIC,
     "(llm/with-cassette path [{:mode :record|:replay|:auto}] thunk)\nRuns thunk recording responses to, or replaying them from, a tape."},
    {"llm/cassette-load", n_cassette_load, 0, VARIADIC, "(llm/cassette-load path [opts])\nInstalls a cassette until llm/cassette-eject."},
    {"llm/cassette-save", n_cassette_save, 0, 0, "(llm/cassette-save)\nSaves the active cassette: #t, or #f when none is active."},
    {"llm/cassette-eject", n_cassette_eject, 0, 0, "(llm/cassette-eject)\nSaves and removes the active cassette: #t, or #f when none."},
    {NULL, NULL, 0, 0, NULL},
};

void llm_cache_init(VM *vm) {
  env_register(vm, defs);
  (void)mode_name;
}
