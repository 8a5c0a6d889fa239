/* llm_pipeline.c - the completion pipeline (llm.md §8.2): every call is one
 * canonical request that goes through cache, cassette, dispatch (fallback
 * chain or rate limit + default provider, model resolution) and the
 * provider; streams take the shorter path of §8.2.  Also the Lisp providers
 * of llm/define-provider (§7.4) and llm/with-fallback, llm/with-rate-limit
 * (§14).
 *
 * Providers can be replaced while a call runs (a Lisp callback may call
 * llm/configure), so nothing here keeps an LlmProvider pointer across a call
 * back into Sema code: what is needed afterwards is copied first. */
#include <stdlib.h>
#include "llm.h"

/* ---------------------------------------------------------------- constructors */

Value llm_req_new(VM *vm) {
  Value r = vec_new(vm, RQ_NF);
  Value *f = vec_items(r);
  f[RQ_MODEL] = str_new(vm, "", 0);
  f[RQ_MSGS] = EMPTY_VAL;
  f[RQ_TOOLS] = EMPTY_VAL;
  f[RQ_JSON] = FALSE_VAL;
  return r;
}

Value llm_cmsg(VM *vm, int role, Value content, Value images) {
  Value m = vec_new(vm, CM_NF);
  Value *f = vec_items(m);
  f[CM_ROLE] = small_int_val(role);
  f[CM_CONTENT] = content;
  f[CM_IMAGES] = images;
  f[CM_CALLS] = EMPTY_VAL;
  return m;
}

Value llm_resp_new(VM *vm) {
  Value r = vec_new(vm, RS_NF);
  Value *f = vec_items(r);
  Value empty = str_new(vm, "", 0);
  f[RS_CONTENT] = empty;
  f[RS_ROLE] = str_from_c(vm, "assistant");
  f[RS_MODEL] = empty;
  f[RS_CALLS] = EMPTY_VAL;
  f[RS_PT] = f[RS_CT] = f[RS_CRT] = f[RS_CCT] = small_int_val(0);
  f[RS_UMODEL] = empty;
  return r;
}

Value llm_call_new(VM *vm, Value id, Value name, Value args) {
  Value c = vec_new(vm, TC_NF);
  vec_items(c)[TC_ID] = id;
  vec_items(c)[TC_NAME] = name;
  vec_items(c)[TC_ARGS] = args;
  return c;
}

static Value req_copy(VM *vm, Value req) { return vec_from(vm, vec_items(req), RQ_NF); }

static Value req_with_model(VM *vm, Value req, Value model) {
  Value r = req_copy(vm, req);
  RQ(r)[RQ_MODEL] = model;
  return r;
}

/* ---------------------------------------------------------------- Lisp providers (§7.4) */

static Value kwmap(VM *vm, Value m, const char *k, Value v) { return map_assoc(vm, m, KW(vm, k), v); }

static Value lisp_request_map(VM *vm, Value req) {
  Value *f = RQ(req);
  Value m = kwmap(vm, map_empty(vm), "model", f[RQ_MODEL]);
  ListBuilder lb;
  list_start(&lb);
  for (Value l = f[RQ_MSGS]; is_cons(l); l = cdr(l)) {
    Value *cm = vec_items(car(l));
    Value e = kwmap(vm, map_empty(vm), "content", cm[CM_CONTENT]);
    list_add(vm, &lb, kwmap(vm, e, "role", str_from_c(vm, llm_role_names[small_int_of(cm[CM_ROLE])])));
  }
  m = kwmap(vm, m, "messages", lb.head);
  if (f[RQ_MAX] != NIL_VAL) m = kwmap(vm, m, "max-tokens", f[RQ_MAX]);
  if (f[RQ_TEMP] != NIL_VAL) m = kwmap(vm, m, "temperature", f[RQ_TEMP]);
  if (f[RQ_SYSTEM] != NIL_VAL) m = kwmap(vm, m, "system", f[RQ_SYSTEM]);
  if (f[RQ_TOOLS] != EMPTY_VAL) {
    ListBuilder tb;
    list_start(&tb);
    for (Value l = f[RQ_TOOLS]; is_cons(l); l = cdr(l)) {
      Value *t = llm_fields(car(l));
      Value e = kwmap(vm, map_empty(vm), "description", t[TL_DESC]);
      e = kwmap(vm, e, "name", t[TL_NAME]);
      list_add(vm, &tb, kwmap(vm, e, "parameters", llm_tool_schema(vm, t[TL_PARAMS])));
    }
    m = kwmap(vm, m, "tools", tb.head);
  }
  return m;
}

static bool mget(VM *vm, Value m, const char *k, Value *out) { return map_get(m, KW(vm, k), out); }

static Value usage_int(VM *vm, Value u, const char *k) {
  Value v;
  return is_map(u) && mget(vm, u, k, &v) && is_int(v) ? v : small_int_val(0);
}

/* Arguments go through JSON and back, as the reference converts them (§7.4):
 * keywords become strings, vectors lists. */
static Value json_roundtrip(VM *vm, Value v) {
  StrBuf b;
  sb_init(&b);
  llm_json_encode(vm, &b, v);
  Value out = NIL_VAL;
  bool ok = llm_json_try_decode(vm, b.data, b.len, &out, NULL);
  sb_free(&b);
  return ok ? out : map_empty(vm);
}

static Value lisp_response(VM *vm, Value r, Value req) {
  Value resp = llm_resp_new(vm);
  Value *f = RQ(resp);
  f[RS_MODEL] = RQ(req)[RQ_MODEL];
  f[RS_STOP] = str_from_c(vm, "end_turn");
  if (is_string(r)) {
    f[RS_CONTENT] = r;
    return resp;
  }
  if (!is_map(r)) llm_err(vm, "Parse error: lisp provider must return a string or map with :content");
  Value v;
  if (mget(vm, r, "content", &v) && is_string(v)) f[RS_CONTENT] = v;
  if (mget(vm, r, "role", &v) && is_string(v)) f[RS_ROLE] = v;
  if (mget(vm, r, "model", &v) && is_string(v)) f[RS_MODEL] = v;
  if (mget(vm, r, "stop-reason", &v) && is_string(v)) f[RS_STOP] = v;
  if (mget(vm, r, "usage", &v) && is_map(v)) {
    f[RS_PT] = usage_int(vm, v, "prompt-tokens");
    f[RS_CT] = usage_int(vm, v, "completion-tokens");
    f[RS_CRT] = usage_int(vm, v, "cache-read-tokens");
    f[RS_CCT] = usage_int(vm, v, "cache-creation-tokens");
    f[RS_UMODEL] = f[RS_MODEL];
  }
  if (mget(vm, r, "tool-calls", &v) && (is_list(v) || is_vector(v))) {
    ListBuilder lb;
    list_start(&lb);
    SeqIter it;
    seqiter_init(&it, v);
    Value c;
    while (seqiter_next(&it, &c)) {
      Value name, id, args;
      if (!is_map(c) || !mget(vm, c, "name", &name) || !is_string(name)) continue;
      if (!mget(vm, c, "id", &id) || !is_string(id)) id = str_new(vm, "", 0);
      if (!mget(vm, c, "arguments", &args)) args = map_empty(vm);
      list_add(vm, &lb, llm_call_new(vm, id, name, json_roundtrip(vm, args)));
    }
    f[RS_CALLS] = lb.head;
  }
  return resp;
}

static Value lisp_complete(VM *vm, Value fn, Value req) {
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, req);
  Value reqmap = lisp_request_map(vm, req);
  vm_push_root(vm, reqmap);
  Value out;
  if (vm_pcall(vm, fn, 1, &reqmap, &out)) {
    Value d = err_display(vm, vm_error(vm));
    vm_roots_reset(vm, base);
    llm_err(vm, "API error: 0 - %s", str_data(d));
  }
  vm_push_root(vm, out);
  Value r = lisp_response(vm, out, req);
  vm_roots_reset(vm, base);
  return r;
}

/* ---------------------------------------------------------------- providers */


static NORETURN void not_chat(VM *vm, LlmProvider *p) {
  llm_err(vm, "Config error: %s does not support chat completions (embedding-only provider)", p->name);
}

Value llm_provider_complete(VM *vm, LlmProvider *p, Value req) {
  Value name = str_from_c(vm, p->name), resp;
  vm_push_root(vm, name);
  if (p->kind == LK_LISP)
    resp = lisp_complete(vm, p->complete_fn, req);
  else if (p->kind == LK_EMBED)
    not_chat(vm, p);
  else
    resp = llm_http_complete(vm, p, req);
  RQ(resp)[RS_PROVIDER] = name;
  gc_barrier(vm, as_obj(resp)); /* a provider's Sema callback may have run since resp was made */
  vm_pop_roots(vm, 1);
  return resp;
}

Value llm_provider_stream(VM *vm, LlmProvider *p, Value req, LlmChunkFn fn, void *ud, bool *delivered) {
  if (p->kind == LK_LISP) {
    Value resp = llm_provider_complete(vm, p, req);
    vm_push_root(vm, resp);
    *delivered = true;
    fn(vm, ud, RQ(resp)[RS_CONTENT]);
    vm_pop_roots(vm, 1);
    return resp;
  }
  if (p->kind == LK_EMBED) not_chat(vm, p);
  Value name = str_from_c(vm, p->name);
  vm_push_root(vm, name);
  Value resp = llm_http_stream(vm, p, req, fn, ud, delivered);
  RQ(resp)[RS_PROVIDER] = name;
  gc_barrier(vm, as_obj(resp));
  vm_pop_roots(vm, 1);
  return resp;
}

/* ---------------------------------------------------------------- dispatch */

static NORETURN void no_provider(VM *vm) {
  llm_err(vm, "no LLM provider configured. Use (llm/configure :anthropic {:api-key ...}) first");
}

/* Minimum interval between rate-limited calls (§14); rps <= 0 is unlimited. */
static void rate_limit(LlmState *st) {
  if (!st->rl_on || st->rl_rps <= 0) return;
  int64_t interval = (int64_t)(1000.0 / st->rl_rps), now = llm_mono_ms();
  if (st->rl_has_last && now - st->rl_last_ms < interval) {
    llm_sleep_ms(interval - (now - st->rl_last_ms));
    now = llm_mono_ms();
  }
  st->rl_last_ms = now;
  st->rl_has_last = true;
}

Value llm_resolve_model(VM *vm, Value req) {
  Value model = RQ(req)[RQ_MODEL];
  LlmState *st = llm_state(vm);
  if (is_cons(st->chain)) {
    Value e = car(st->chain);
    if (cdr(e) != NIL_VAL) return cdr(e);
    if (str_len(model)) return model;
    LlmProvider *p = llm_provider_find(st, str_data(car(e)));
    if (p) return str_from_c(vm, p->default_model);
  }
  if (str_len(model)) return model;
  LlmProvider *p = llm_default_provider(st);
  if (!p) no_provider(vm);
  return str_from_c(vm, p->default_model);
}

/* One entry of a fallback chain, run under protection. */
typedef struct {
  Value entry, req, resp;
  bool stream;
  LlmChunkFn fn;
  void *ud;
  bool delivered;
  char ckey[65];
  bool use_cassette;
} ChainTry;

static Value stream_one(VM *vm, LlmProvider *p, Value req, LlmChunkFn fn, void *ud, bool *delivered);

static void chain_try(VM *vm, void *ud) {
  ChainTry *t = ud;
  LlmState *st = llm_state(vm);
  const char *name = str_data(car(t->entry));
  LlmProvider *p = llm_provider_find(st, name);
  if (!p) llm_err(vm, "fallback provider '%s' not found", name);
  Value model = cdr(t->entry) != NIL_VAL ? cdr(t->entry) : str_len(RQ(t->req)[RQ_MODEL]) ? RQ(t->req)[RQ_MODEL] : str_from_c(vm, p->default_model);
  Value req = req_with_model(vm, t->req, model);
  if (t->stream)
    t->resp = stream_one(vm, p, req, t->fn, t->ud, &t->delivered);
  else
    t->resp = llm_provider_complete(vm, p, req);
}

static Value run_chain(VM *vm, Value req, bool stream, LlmChunkFn fn, void *ud) {
  LlmState *st = llm_state(vm);
  uint32_t base = vm_roots_mark(vm);
  Value chain = st->chain;
  vm_push_root(vm, chain);
  vm_push_root(vm, req);
  uint32_t err_slot = vm_root_slot(vm, NIL_VAL);
  for (Value l = chain; is_cons(l); l = cdr(l)) {
    ChainTry t = {car(l), req, NIL_VAL, stream, fn, ud, false, {0}, false};
    if (vm_protect(vm, chain_try, &t) == 0) {
      vm_roots_reset(vm, base);
      return t.resp;
    }
    ROOT(vm, err_slot) = vm_error(vm);
    if (stream && t.delivered) err_rethrow(vm); /* chunks already delivered: no failover */
    Value d = err_display(vm, vm_error(vm));
    StrBuf b;
    sb_init(&b);
    sb_addf(&b, "Provider '%s' failed%s: %s, trying next...\n", str_data(car(car(l))), stream ? " to open stream" : "", str_data(d));
    vm_write_err(vm, b.data, b.len);
    sb_free(&b);
  }
  Value err = ROOT(vm, err_slot);
  vm_roots_reset(vm, base);
  err_throw(vm, err);
}

static Value dispatch(VM *vm, Value req) {
  LlmState *st = llm_state(vm);
  if (is_cons(st->chain)) return run_chain(vm, req, false, NULL, NULL);
  rate_limit(st);
  LlmProvider *p = llm_default_provider(st);
  if (!p) no_provider(vm);
  Value model = str_len(RQ(req)[RQ_MODEL]) ? RQ(req)[RQ_MODEL] : str_from_c(vm, p->default_model);
  return llm_provider_complete(vm, p, req_with_model(vm, req, model));
}

/* The default provider's complete under protection (the default batch). */
typedef struct {
  Value req, resp;
} ProtCall;

static void prot_complete(VM *vm, void *ud) {
  ProtCall *pc = ud;
  LlmProvider *p = llm_default_provider(llm_state(vm));
  if (!p) no_provider(vm);
  pc->resp = llm_provider_complete(vm, p, pc->req);
}

int llm_protect_complete(VM *vm, Value req, Value *resp) {
  ProtCall pc = {req, NIL_VAL};
  int rc = vm_protect(vm, prot_complete, &pc);
  *resp = pc.resp;
  return rc;
}

/* ---------------------------------------------------------------- the non-streaming stack */

Value llm_complete(VM *vm, Value req) {
  LlmState *st = llm_state(vm);
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, req);
  char key[65] = {0}, ckey[65] = {0};
  bool use_cache = st->cache_on;
  if (use_cache) {
    Value model = llm_resolve_model(vm, req);
    Value kr = req_with_model(vm, req, model);
    vm_push_root(vm, kr);
    llm_cache_key(vm, kr, key);
    Value hit;
    if (llm_cache_lookup(vm, key, model, &hit)) {
      vm_roots_reset(vm, base);
      return hit;
    }
  }
  bool recording = false;
  if (st->cassette) {
    llm_cache_key(vm, req, ckey);
    Value entry;
    if (llm_cassette_lookup(vm, ckey, &entry)) {
      Value r = llm_cassette_response(vm, entry);
      vm_roots_reset(vm, base);
      return r;
    }
    if (st->cassette->mode == CASS_REPLAY) llm_cassette_miss(vm, ckey);
    recording = true;
  }
  Value resp = dispatch(vm, req);
  vm_push_root(vm, resp);
  if (recording && llm_state(vm)->cassette) llm_cassette_record(vm, "complete", ckey, resp, EMPTY_VAL, EMPTY_VAL);
  if (use_cache) llm_cache_store(vm, key, resp);
  vm_roots_reset(vm, base);
  return resp;
}

/* ---------------------------------------------------------------- the streaming stack */

typedef struct {
  LlmChunkFn fn;
  void *ud;
  uint32_t slot; /* rooted list of the chunks delivered, newest first */
} Recorder;

static void record_chunk(VM *vm, void *ud, Value chunk) {
  Recorder *r = ud;
  ROOT(vm, r->slot) = list_cons(vm, chunk, ROOT(vm, r->slot));
  r->fn(vm, r->ud, chunk);
}

/* Cassette, then the provider's stream, for a request whose model is resolved. */
static Value stream_one(VM *vm, LlmProvider *p, Value req, LlmChunkFn fn, void *ud, bool *delivered) {
  LlmState *st = llm_state(vm);
  if (!st->cassette) return llm_provider_stream(vm, p, req, fn, ud, delivered);
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, req);
  char key[65];
  llm_cache_key(vm, req, key);
  Value entry;
  if (llm_cassette_lookup(vm, key, &entry)) {
    vm_push_root(vm, entry);
    Value resp = llm_cassette_response(vm, entry);
    vm_push_root(vm, resp);
    Value chunks = NIL_VAL;
    map_get(entry, KW(vm, "chunks"), &chunks);
    for (Value l = chunks; is_cons(l); l = cdr(l)) {
      *delivered = true;
      fn(vm, ud, is_string(car(l)) ? car(l) : llm_text(vm, car(l)));
    }
    vm_roots_reset(vm, base);
    return resp;
  }
  if (st->cassette->mode == CASS_REPLAY) llm_cassette_miss(vm, key);
  Recorder rec = {fn, ud, vm_root_slot(vm, EMPTY_VAL)};
  Value resp = llm_provider_stream(vm, p, req, record_chunk, &rec, delivered);
  vm_push_root(vm, resp);
  if (llm_state(vm)->cassette)
    llm_cassette_record(vm, "stream", key, resp, list_reverse(vm, ROOT(vm, rec.slot)), EMPTY_VAL);
  vm_roots_reset(vm, base);
  return resp;
}

Value llm_stream(VM *vm, Value req, LlmChunkFn fn, void *ud) {
  LlmState *st = llm_state(vm);
  if (st->budget.pregate) llm_budget_pregate(vm);
  rate_limit(st);
  if (is_cons(st->chain)) return run_chain(vm, req, true, fn, ud);
  LlmProvider *p = llm_default_provider(st);
  if (!p) no_provider(vm);
  Value model = str_len(RQ(req)[RQ_MODEL]) ? RQ(req)[RQ_MODEL] : str_from_c(vm, p->default_model);
  bool delivered = false;
  return stream_one(vm, p, req_with_model(vm, req, model), fn, ud, &delivered);
}

/* ---------------------------------------------------------------- scopes (§14) */

static Value chain_entry(VM *vm, Value e) {
  if (is_kw(e)) return list_cons(vm, str_from_c(vm, sym_cstr(vm, e)), NIL_VAL);
  if (is_string(e)) return list_cons(vm, e, NIL_VAL);
  if (is_vector(e) || is_cons(e)) {
    Value items[2];
    size_t n = 0;
    SeqIter it;
    seqiter_init(&it, e);
    Value x;
    while (seqiter_next(&it, &x)) {
      if (n < 2) items[n] = x;
      n++;
    }
    if (n != 2) err_eval(vm, "fallback pair entry must be [provider model]");
    if (!is_kw(items[0]) && !is_string(items[0])) err_type(vm, "keyword or string", items[0]);
    if (!is_string(items[1])) err_type(vm, "string model", items[1]);
    return list_cons(vm, is_kw(items[0]) ? str_from_c(vm, sym_cstr(vm, items[0])) : items[0], items[1]);
  }
  if (is_map(e)) {
    Value pv = llm_opt_name(vm, e, "provider");
    if (pv == NIL_VAL) err_eval(vm, "fallback map entry must have a :provider key (keyword or string)");
    Value m = llm_opt_str(vm, e, "model");
    return list_cons(vm, pv, m);
  }
  err_type(vm, "keyword, string, [provider model] pair, or map", e);
}

typedef struct {
  Value thunk, result;
} Thunk;

static void run_thunk(VM *vm, void *ud) {
  Thunk *t = ud;
  t->result = vm_call(vm, t->thunk, 0, NULL);
}

/* Run the thunk, return its value; on error the caller restores its setting
 * before the error propagates. */
int llm_run_thunk(VM *vm, Value thunk, Value *out) {
  Thunk t = {thunk, NIL_VAL};
  int rc = vm_protect(vm, run_thunk, &t);
  *out = t.result;
  return rc;
}

static Value n_with_fallback(VM *vm, int argc, Value *argv) {
  Value chain = argv[0];
  if (!is_list(chain) && !is_vector(chain)) err_type(vm, "list or vector", chain);
  llm_check_fn(vm, argv[1]);
  ListBuilder lb;
  list_start(&lb);
  SeqIter it;
  seqiter_init(&it, chain);
  Value e;
  while (seqiter_next(&it, &e)) list_add(vm, &lb, chain_entry(vm, e));
  LlmState *st = llm_state(vm);
  uint32_t base = vm_roots_mark(vm);
  Value saved = st->chain;
  vm_push_root(vm, saved);
  st->chain = lb.head;
  Value out;
  int rc = llm_run_thunk(vm, argv[1], &out);
  llm_state(vm)->chain = saved;
  vm_roots_reset(vm, base);
  if (rc) err_rethrow(vm);
  return out;
}

static Value n_with_rate_limit(VM *vm, int argc, Value *argv) {
  if (!is_number(argv[0])) err_type(vm, "number", argv[0]);
  llm_check_fn(vm, argv[1]);
  LlmState *st = llm_state(vm);
  bool on = st->rl_on;
  double rps = st->rl_rps;
  st->rl_on = true;
  st->rl_rps = num_to_double(argv[0]);
  Value out;
  int rc = llm_run_thunk(vm, argv[1], &out);
  st = llm_state(vm);
  st->rl_on = on;
  st->rl_rps = rps;
  if (rc) err_rethrow(vm);
  return out;
}

static const NativeDef defs[] = {
    {"llm/with-fallback", n_with_fallback, 2, 2,
     "(llm/with-fallback chain thunk)\nRuns thunk with a fallback chain: each call tries the providers in order (:p, [:p \"model\"], {:provider :model})."},
    {"llm/with-rate-limit", n_with_rate_limit, 2, 2,
     "(llm/with-rate-limit rps thunk)\nRuns thunk with at most rps calls per second (a minimum interval between calls)."},
    {NULL, NULL, 0, 0, NULL},
};

void llm_pipeline_init(VM *vm) { env_register(vm, defs); }
