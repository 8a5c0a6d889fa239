/* llm.h - private interface of the LLM subsystem (llm.md), shared by the
 * src/lib/llm_*.c files.  Nothing outside those files includes it.
 *
 * Value types (llm.md §2).  The five LLM values are Foreign objects of their
 * own classes whose `extra` is a private vector of fields; `ptr` is unused.
 * They print through the class hook, compare by identity (no compare hook)
 * and `type` answers the class name (:prompt, :message, ...).
 *
 * Internal data.  Requests, responses and history messages are plain
 * vectors private to this subsystem (never shown to programs), indexed by the
 * enums below; they are mutated in place while being built.  A C function
 * that keeps one across a call back into Sema code roots it.
 *
 * Per-interpreter state (llm.md §1.4) is one LlmState reached from a hidden
 * global cell (" llm") holding a Foreign whose mark hook marks every Value the
 * state keeps (Lisp provider callbacks, the cassette, the cache...).
 */
#ifndef SEMA_LLM_H
#define SEMA_LLM_H

#include "lib.h"

/* ---------------------------------------------------------------- values */

extern const ForeignClass llm_prompt_class, llm_message_class, llm_conv_class, llm_tool_class, llm_agent_class;

enum { LLM_SYSTEM, LLM_USER, LLM_ASSISTANT, LLM_TOOL, LLM_NROLES };
extern const char *const llm_role_names[LLM_NROLES];

enum { MSG_ROLE, MSG_CONTENT, MSG_IMAGES, MSG_NF };          /* role: small int; images: list of (media . base64) */
enum { PR_MSGS, PR_NF };                                     /* list of message values */
enum { CV_MSGS, CV_MODEL, CV_META, CV_NF };                  /* messages, model string, sorted map string -> string */
enum { TL_NAME, TL_DESC, TL_PARAMS, TL_HANDLER, TL_NF };
enum { AG_NAME, AG_SYSTEM, AG_TOOLS, AG_MAX_TURNS, AG_MODEL, AG_NF };

static inline Value *llm_fields(Value v) { return vec_items(((Foreign *)as_obj(v))->extra); }
Value llm_obj_new(VM *vm, const ForeignClass *cls, int nfields); /* fields nil */
Value llm_message_new(VM *vm, int role, Value content, Value images);
Value llm_prompt_new(VM *vm, Value msgs);
Value llm_conv_new(VM *vm, Value msgs, Value model, Value meta);
/* The role keyword -> role index, or -1.  llm_role_arg raises
 * "expected keyword, got T" / "WHO: unknown role 'NAME'". */
int llm_role_of(VM *vm, Value kw);
int llm_role_arg(VM *vm, Value kw, const char *who);
Value llm_role_kw(VM *vm, int role);
/* A string as is, anything else its printed form P(v). */
Value llm_text(VM *vm, Value v);
void llm_add_text(VM *vm, StrBuf *b, Value v);
/* prompt/fill's substitution of {{NAME}} (llm.md §4) */
Value llm_fill(VM *vm, Value s, Value vars);
/* conversation metadata */
Value llm_meta_get(VM *vm, Value conv, const char *key); /* string or NIL_VAL */

/* ---------------------------------------------------------------- state (llm.md §1.4) */

typedef struct {
  Value id, emb, meta; /* string, bytevector, any */
} LlmDoc;

typedef struct {
  char *name, *path; /* path NULL: no associated file */
  LlmDoc *docs;
  size_t n, cap;
} LlmStore;

/* Providers (§7).  Strings are malloc'd; a Lisp provider's callback is a
 * Value marked through the state. */
typedef enum { LK_OPENAI, LK_ANTHROPIC, LK_GEMINI, LK_OLLAMA, LK_LISP, LK_EMBED } LlmKind;
typedef enum { LE_NONE, LE_OPENAI, LE_COHERE } LlmEmbedKind;
typedef enum { LR_NONE, LR_JINA, LR_VOYAGE, LR_COHERE } LlmRerankKind;

typedef struct LlmProvider {
  char *name;
  LlmKind kind;
  char *api_key, *base_url, *default_model;
  bool usage_in_stream;  /* OpenAI-compatible: stream_options include_usage */
  LlmEmbedKind embed;
  char *embed_base, *embed_model; /* embed_model NULL: the per-call :model or kind default */
  LlmRerankKind rerank;
  char *rerank_base;
  Value complete_fn; /* LK_LISP */
} LlmProvider;

typedef struct {
  int64_t prompt, completion, cache_read, cache_creation;
  Value model; /* string */
} LlmUsage;

typedef struct {
  bool has_cost, has_tok;
  double cost_limit, cost_spent;
  int64_t tok_limit, tok_spent;
  bool pregate;
} LlmBudget;

typedef struct {
  char *pattern;
  double input, output;
} LlmCustomPrice;

enum { CASS_AUTO, CASS_RECORD, CASS_REPLAY };
typedef struct {
  char *path;
  int mode;
  Value *entries; /* decoded tape lines (sorted maps with keyword keys) */
  size_t n, cap;
  bool dirty;
} LlmCassette;

typedef struct LlmState {
  /* registry */
  LlmProvider **provs; /* sorted by name */
  size_t nprovs, capprovs;
  char *dflt, *embed_sel, *rerank_sel;
  /* usage */
  bool has_last;
  LlmUsage last;
  int64_t sess_prompt, sess_completion, sess_cache_read, sess_cache_creation;
  double sess_cost;
  /* budget */
  LlmBudget budget;
  bool pricing_warned;
  LlmCustomPrice *prices;
  size_t nprices, capprices;
  /* cache */
  bool cache_on;
  int64_t cache_ttl;
  Value cache; /* hash map key string -> entry vector */
  int64_t cache_hits, cache_misses;
  /* cassette, fallback, rate limit */
  LlmCassette *cassette;
  Value chain; /* list of (name . model-or-nil) */
  bool rl_on, rl_has_last;
  double rl_rps;
  int64_t rl_last_ms;
  /* vector stores */
  LlmStore *stores;
  size_t nstores, capstores;
  /* retry (§8.4) and the temperature self-heal memory (§19.2) */
  int64_t retry_base_ms;
  int retries;
  char **notemp;
  size_t nnotemp;
} LlmState;

LlmState *llm_state(VM *vm);
/* the vector stores (llm_vector.c) */
LlmStore *llm_store_find(LlmState *st, const char *name);
LlmStore *llm_store_create(LlmState *st, const char *name); /* replaces */
void llm_stores_free(LlmState *st);
void llm_stores_mark(VM *vm, LlmState *st);

/* ---------------------------------------------------------------- options (llm.md §1.3) */

/* Only a sorted map counts as an options argument. */
bool llm_opt(VM *vm, Value opts, const char *key, Value *out);
Value llm_opt_str(VM *vm, Value opts, const char *key);     /* string or NIL_VAL */
bool llm_opt_int(VM *vm, Value opts, const char *key, int64_t *out);
bool llm_opt_num(VM *vm, Value opts, const char *key, double *out);
bool llm_opt_truthy(VM *vm, Value opts, const char *key, bool dflt);
Value llm_opt_name(VM *vm, Value opts, const char *key); /* keyword name or string, as a string, or NIL_VAL */

/* ---------------------------------------------------------------- errors */

NORETURN void llm_err(VM *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
NORETURN void llm_err_str(VM *vm, Value msg);
bool llm_is_callable(Value v);
void llm_check_fn(VM *vm, Value v); /* closure or builtin, else "expected function, got T" */

/* ---------------------------------------------------------------- builtins reused */

/* json/decode and json/encode called directly (captured at start-up, so a
 * program redefining those names does not change the subsystem). */
Value llm_json_decode(VM *vm, const char *s, size_t n);              /* raises json/decode's error */
Value llm_json_pretty(VM *vm, Value v); /* json/encode-pretty */
bool llm_json_try_decode(VM *vm, const char *s, size_t n, Value *out, Value *err_msg);
void llm_json_encode(VM *vm, StrBuf *b, Value v);                    /* never fails (lossy) */
void llm_json_str(StrBuf *b, const char *s, size_t n);               /* a JSON string literal */
static inline void llm_json_sval(StrBuf *b, Value s) { llm_json_str(b, str_data(s), str_len(s)); }
void llm_json_num(VM *vm, StrBuf *b, double d);
Value llm_text_chunk(VM *vm, Value text, Value opts); /* text/chunk */

/* ---------------------------------------------------------------- helpers */

/* SHA-256 in hex (nettle, loaded on first use: raises if it cannot be) */
void llm_sha256_hex(VM *vm, const uint8_t *data, size_t n, char out[65]);
Value llm_base64_value(VM *vm, Value bytevec); /* standard, padded */
bool llm_base64_decode_value(VM *vm, Value s, Value *out, Value *err_msg);
const char *llm_media_type(const uint8_t *p, size_t n);
int64_t llm_now_ms(void);   /* wall clock */
int64_t llm_mono_ms(void);  /* monotonic */
void llm_sleep_ms(int64_t ms);
char *llm_strdup(const char *s);

/* ---------------------------------------------------------------- providers (llm_providers.c) */

LlmProvider *llm_provider_find(LlmState *st, const char *name);
void llm_provider_register(LlmState *st, LlmProvider *p);
void llm_provider_free(LlmProvider *p);
LlmProvider *llm_default_provider(LlmState *st);
LlmProvider *llm_embedding_provider(LlmState *st);
LlmProvider *llm_rerank_provider(LlmState *st);
char *llm_auto_configure(VM *vm);
void llm_cassette_free(LlmCassette *c);

/* ---------------------------------------------------------------- the canonical request and response (§8.1) */

enum { RQ_MODEL, RQ_MSGS, RQ_MAX, RQ_TEMP, RQ_SYSTEM, RQ_TOOLS, RQ_JSON, RQ_EFFORT, RQ_TIMEOUT, RQ_NF };
/* history messages: role small int, content string, images list of (media . b64),
 * tool calls (list of TC vectors, assistant), tool call id and tool name (tool) */
enum { CM_ROLE, CM_CONTENT, CM_IMAGES, CM_CALLS, CM_CALL_ID, CM_TOOL_NAME, CM_NF };
enum { TC_ID, TC_NAME, TC_ARGS, TC_NF }; /* args: the arguments as a Sema value (JSON objects -> maps) */
enum {
  RS_CONTENT, RS_ROLE, RS_MODEL, RS_CALLS, RS_PT, RS_CT, RS_CRT, RS_CCT, RS_UMODEL, RS_STOP,
  RS_PROVIDER, /* name of the provider that answered (prices the usage), or nil for cache hits and replays */
  RS_NF
};
#define RQ(r) vec_items(r)

Value llm_req_new(VM *vm);
Value llm_cmsg(VM *vm, int role, Value content, Value images);
Value llm_resp_new(VM *vm);
Value llm_call_new(VM *vm, Value id, Value name, Value args);

/* The non-streaming stack of §8.2 (cache, cassette, dispatch with fallback and
 * rate limit, retry, provider).  Does not track usage: callers run
 * llm_track_usage on the response. */
Value llm_complete(VM *vm, Value req);
/* A chunk sink for streams: called with each text delta. */
typedef void (*LlmChunkFn)(VM *vm, void *ud, Value chunk);
/* The streaming stack of §8.2 (pre-gate, rate limit, fallback at open, cassette). */
Value llm_stream(VM *vm, Value req, LlmChunkFn fn, void *ud);
/* One provider's complete / stream, model already resolved in req. */
Value llm_provider_complete(VM *vm, LlmProvider *p, Value req);
Value llm_provider_stream(VM *vm, LlmProvider *p, Value req, LlmChunkFn fn, void *ud, bool *delivered);
/* The provider a call goes to (the first fallback entry or the default) and the resolved model. */
Value llm_resolve_model(VM *vm, Value req);
/* Call thunk with no arguments under protection: 0 with *out, or 1 (error in vm_error(vm)). */
int llm_run_thunk(VM *vm, Value thunk, Value *out);

/* the price snapshot (llm_pricing_data.c, generated from data/llm-pricing.tsv) */
typedef struct {
  uint32_t id, vendor;  /* offsets into llm_price_names */
  double input, output; /* USD per 1M tokens */
  bool canonical;
} LlmPrice;
extern const char llm_price_names[];
extern const LlmPrice llm_prices[];
extern const size_t llm_nprices;
extern const char llm_prices_updated[];

/* usage, pricing, budgets (llm_usage.c) */
void llm_track_usage(VM *vm, Value resp);
bool llm_price(LlmState *st, const char *model, const char *provider, double *in, double *out);
void llm_budget_pregate(VM *vm);

/* cache and cassettes (llm_cache.c) */
void llm_cache_key(VM *vm, Value req, char out[65]);
bool llm_cache_lookup(VM *vm, const char *key, Value model, Value *resp);
void llm_cache_store(VM *vm, const char *key, Value resp);
bool llm_cassette_lookup(VM *vm, const char *key, Value *entry);
NORETURN void llm_cassette_miss(VM *vm, const char *key);
void llm_cassette_record(VM *vm, const char *kind, const char *key, Value resp, Value chunks, Value embeddings);
Value llm_cassette_response(VM *vm, Value entry);
void llm_cassette_env(VM *vm, LlmState *st);

/* schemas, tools, the agent loop (llm_agent.c) */
Value llm_tool_schema(VM *vm, Value params); /* JSON Schema as a Sema map with keyword keys */
Value llm_validate(VM *vm, Value schema, Value value); /* NIL_VAL when valid, else the error string */
Value llm_result_text(VM *vm, Value v);

/* embeddings (llm_vector.c) */
Value llm_emb_new(VM *vm, const double *xs, size_t n);
Value llm_emb_to_list(VM *vm, Value emb);

/* the wire formats (llm_wire.c, §19) */
bool llm_wire_official(const char *base);
bool llm_wire_rate_limited_kind(LlmKind kind);
void llm_wire_check(VM *vm, const LlmProvider *p, Value req); /* Config errors, before anything is built */
void llm_wire_url(VM *vm, const LlmProvider *p, Value req, bool stream, StrBuf *out);
size_t llm_wire_headers(const LlmProvider *p, StrBuf *out); /* "name\0value\0"..., returns the count */
void llm_wire_body(VM *vm, const LlmProvider *p, Value req, bool stream, bool with_temp, StrBuf *out);
bool llm_wire_can_heal(VM *vm, const LlmProvider *p, Value req);
bool llm_wire_temperature_refused(const char *body, size_t n); /* plain C */
void llm_wire_remember_notemp(VM *vm, Value model);
Value llm_wire_status_error(VM *vm, LlmKind kind, bool chat, long status, const char *body, size_t n);
Value llm_wire_decode(VM *vm, LlmKind kind, Value model, const char *body, size_t n); /* raises Parse errors */
void llm_wire_embed_body(VM *vm, LlmEmbedKind kind, Value texts, Value model, StrBuf *b);
Value llm_wire_embed_decode(VM *vm, LlmEmbedKind kind, const char *body, size_t n, Value *model, int64_t *tokens);
void llm_wire_rerank_body(VM *vm, LlmRerankKind kind, Value query, Value docs, Value model, int64_t top_k, StrBuf *b);
Value llm_wire_rerank_decode(VM *vm, LlmRerankKind kind, const char *body, size_t n, Value docs);

/* Incremental line splitting (plain C): fn gets each complete line without
 * "\n" and a trailing "\r"; a line over max bytes makes feed return -1. */
typedef int (*LlmLineFn)(void *ud, const char *line, size_t n);
typedef struct {
  char *buf;
  size_t len, cap, max;
} LlmLines;
int llm_lines_feed(LlmLines *l, const char *p, size_t n, LlmLineFn fn, void *ud);
int llm_lines_end(LlmLines *l, LlmLineFn fn, void *ud);
void llm_lines_free(LlmLines *l);
/* An SSE line: 0 nothing, 1 a data payload (trimmed) in *pl and *pn, 2 [DONE]. */
int llm_sse_line(const char *s, size_t n, const char **pl, size_t *pn);

/* What a stream has said so far (C memory only: no rooting needed). */
typedef struct {
  int64_t index; /* OpenAI / Anthropic block index; whole calls (Gemini, Ollama) get their own */
  StrBuf id, name, args;
  bool open;
} LlmAccCall;
typedef struct {
  LlmKind kind;
  StrBuf content, stop, model;
  LlmAccCall *calls;
  size_t ncalls, capcalls, ngemini;
  int64_t pt, ct, crt, cct;
  bool delivered;
} LlmStreamAcc;
void llm_stream_acc_init(LlmStreamAcc *a, LlmKind kind);
void llm_stream_acc_free(LlmStreamAcc *a);
void llm_stream_payload(VM *vm, LlmStreamAcc *a, const char *p, size_t n, LlmChunkFn fn, void *ud); /* one JSON payload */
Value llm_stream_result(VM *vm, LlmStreamAcc *a, Value model);

/* the transport (llm_http.c) */
Value llm_http_complete(VM *vm, LlmProvider *p, Value req);
Value llm_http_stream(VM *vm, LlmProvider *p, Value req, LlmChunkFn fn, void *ud, bool *delivered);
Value llm_http_batch(VM *vm, LlmProvider *p, Value reqs);
Value llm_http_embed(VM *vm, LlmProvider *p, Value texts, Value model, Value *resp_model, int64_t *tokens);
Value llm_http_rerank(VM *vm, LlmProvider *p, Value query, Value docs, Value model, int64_t top_k);

/* registration, one per file */
void llm_util_init(VM *vm);
void llm_values_init(VM *vm);
void llm_vector_init(VM *vm);

#endif
