/* llm_wire.c - the providers' wire formats (llm.md §19): URLs, headers and
 * request bodies; decoding of complete responses; status errors; the
 * incremental line splitter under the SSE and NDJSON streams, and the
 * per-protocol stream accumulators.  No I/O happens here (llm_http.c moves
 * the bytes), so the parsers can be fuzzed on their own (tests/fuzz/
 * fuzz_llm.c).
 *
 * Everything that reads or builds Values runs on the interpreter thread.
 * The line splitter and the SSE line classifier are plain C.
 *
 * Member order in the bodies is the reference's (receivers must not depend
 * on it).  Decoding is lenient where §19 says a member is optional and
 * raises "Parse error: ..." where it says one is required; the detail names
 * the member and quotes the start of the body, so a proxy's HTML page or a
 * 200 carrying an error object is recognisable in the message. */
#include <stdlib.h>
#include "json.h"
#include "llm.h"

/* ---------------------------------------------------------------- JSON access */

static bool jget(VM *vm, Value o, const char *k, Value *out) { return is_map(o) && map_get(o, KW(vm, k), out); }

static Value jstr(VM *vm, Value o, const char *k) {
  Value v;
  return jget(vm, o, k, &v) && is_string(v) ? v : NIL_VAL;
}

static int64_t jint(VM *vm, Value o, const char *k) {
  Value v;
  if (!jget(vm, o, k, &v)) return 0;
  if (is_int(v)) return int_of(v);
  if (is_double(v) && as_double(v) == as_double(v) && as_double(v) < 9.2e18 && as_double(v) > -9.2e18) return (int64_t)as_double(v);
  return 0;
}

static bool jlist(VM *vm, Value o, const char *k, Value *out) { return jget(vm, o, k, out) && is_list(*out); }

/* A JSON text parsed to a Sema value (objects -> maps with keyword keys,
 * arrays -> lists); false when it is not valid UTF-8 JSON. */
static bool parse_json(VM *vm, const char *s, size_t n, Value *out) {
  JsonError e;
  if (!utf8_valid(s, n, NULL)) return false;
  return json_parse(vm, s, n, out, &e);
}

/* Tool-call arguments given as a JSON string: parsed, else {} (§19.2). */
static Value args_from_text(VM *vm, const char *s, size_t n) {
  Value v;
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) i++;
  if (i == n || !parse_json(vm, s, n, &v)) return map_empty(vm);
  return v;
}

static Value args_value(VM *vm, Value v) {
  if (v == UNBOUND_VAL || v == NIL_VAL) return map_empty(vm);
  if (is_string(v)) return args_from_text(vm, str_data(v), str_len(v));
  return v;
}

/* ---------------------------------------------------------------- errors */

/* "Parse error: DETAIL (response body: EXCERPT)" */
static NORETURN void parse_fail(VM *vm, const char *detail, const char *body, size_t n) {
  StrBuf b;
  sb_init(&b);
  sb_adds(&b, "Parse error: ");
  sb_adds(&b, detail);
  if (body) {
    sb_adds(&b, " (response body: ");
    size_t m = n > 200 ? 200 : n;
    sb_add_lossy(&b, (const unsigned char *)body, m);
    if (m < n) sb_adds(&b, "...");
    if (!n) sb_adds(&b, "empty");
    sb_addc(&b, ')');
  }
  llm_err_str(vm, sb_to_string(vm, &b));
}

bool llm_wire_rate_limited_kind(LlmKind kind) { return kind == LK_OPENAI || kind == LK_ANTHROPIC || kind == LK_GEMINI; }

/* The message of a non-200 response (§19.1, §19.3). */
Value llm_wire_status_error(VM *vm, LlmKind kind, bool chat, long status, const char *body, size_t n) {
  StrBuf b;
  sb_init(&b);
  if (status == 429 && chat && llm_wire_rate_limited_kind(kind)) {
    sb_adds(&b, "Rate limited: retry after 5000ms");
    return sb_to_string(vm, &b);
  }
  sb_addf(&b, "API error: %ld - ", status);
  Value root, err, msg;
  if (kind == LK_ANTHROPIC && chat && parse_json(vm, body, n, &root) && jget(vm, root, "error", &err) &&
      (msg = jstr(vm, err, "message")) != NIL_VAL) {
    sb_add(&b, str_data(msg), str_len(msg));
  } else {
    sb_add_lossy(&b, (const unsigned char *)body, n);
  }
  return sb_to_string(vm, &b);
}

/* ---------------------------------------------------------------- URLs and headers */

bool llm_wire_official(const char *base) {
  return strstr(base, "api.openai.com") || strstr(base, "openai.azure.com") || strstr(base, "cognitiveservices.azure.com");
}

/* Gemini puts the model in the path: refuse names that would change it (§19.4). */
static void gemini_check_model(VM *vm, Value model) {
  const char *m = str_data(model);
  bool bad = strstr(m, "..") != NULL;
  for (size_t i = 0; i < str_len(model) && !bad; i++) {
    unsigned char c = (unsigned char)m[i];
    bad = c == '/' || c == '?' || c == '#' || c == ':' || c < 0x20 || c == 0x7f;
  }
  if (bad) {
    StrBuf b;
    sb_init(&b);
    sb_adds(&b, "Config error: invalid model name: ");
    llm_json_sval(&b, model);
    llm_err_str(vm, sb_to_string(vm, &b));
  }
}

/* What can make a request impossible to send, raised before any C memory
 * is allocated for it. */
void llm_wire_check(VM *vm, const LlmProvider *p, Value req) {
  if (p->kind == LK_GEMINI) gemini_check_model(vm, RQ(req)[RQ_MODEL]);
}

void llm_wire_url(VM *vm, const LlmProvider *p, Value req, bool stream, StrBuf *out) {
  sb_adds(out, p->base_url);
  switch (p->kind) {
  case LK_OPENAI: sb_adds(out, "/chat/completions"); break;
  case LK_ANTHROPIC: sb_adds(out, "/messages"); break;
  case LK_GEMINI: {
    Value model = RQ(req)[RQ_MODEL];
    sb_adds(out, "/models/");
    sb_add(out, str_data(model), str_len(model));
    sb_adds(out, stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
    break;
  }
  case LK_OLLAMA: sb_adds(out, "/api/chat"); break;
  default: break;
  }
}

/* Header names and values NUL-separated into out; returns their count.  The
 * key goes only here, never into a URL (§19.4). */
size_t llm_wire_headers(const LlmProvider *p, StrBuf *out) {
#define H(n, v)                                                                                                       \
  do {                                                                                                                \
    sb_adds(out, n);                                                                                                  \
    sb_addc(out, 0);                                                                                                  \
    sb_adds(out, v);                                                                                                  \
    sb_addc(out, 0);                                                                                                  \
    count++;                                                                                                          \
  } while (0)
  size_t count = 0;
  switch (p->kind) {
  case LK_ANTHROPIC:
    H("x-api-key", p->api_key);
    H("anthropic-version", "2023-06-01");
    H("content-type", "application/json");
    break;
  case LK_GEMINI:
    H("x-goog-api-key", p->api_key);
    H("Content-Type", "application/json");
    break;
  case LK_OLLAMA: H("Content-Type", "application/json"); break;
  default:
    sb_adds(out, "Authorization");
    sb_addc(out, 0);
    sb_adds(out, "Bearer ");
    sb_adds(out, p->api_key);
    sb_addc(out, 0);
    count++;
    H("Content-Type", "application/json");
    break;
  }
#undef H
  return count;
}

/* ---------------------------------------------------------------- request bodies */

static void key(StrBuf *b, bool *first, const char *k) {
  if (!*first) sb_addc(b, ',');
  *first = false;
  sb_addc(b, '"');
  sb_adds(b, k);
  sb_adds(b, "\":");
}

static void json_value(VM *vm, StrBuf *b, Value v) { llm_json_encode(vm, b, v); }

static int role_of(Value cm) { return (int)small_int_of(vec_items(cm)[CM_ROLE]); }

/* The system prompt the request carries: its own, else the first system message's content. */
static Value system_text(Value req) {
  if (RQ(req)[RQ_SYSTEM] != NIL_VAL) return RQ(req)[RQ_SYSTEM];
  for (Value l = RQ(req)[RQ_MSGS]; is_cons(l); l = cdr(l))
    if (role_of(car(l)) == LLM_SYSTEM) return vec_items(car(l))[CM_CONTENT];
  return NIL_VAL;
}

static void tool_schemas(VM *vm, StrBuf *b, Value tools, int shape) {
  /* shape 0: OpenAI / Ollama function objects; 1: Anthropic; 2: Gemini declarations */
  bool first = true;
  for (Value l = tools; is_cons(l); l = cdr(l)) {
    Value *t = llm_fields(car(l));
    Value schema = llm_tool_schema(vm, t[TL_PARAMS]);
    if (!first) sb_addc(b, ',');
    first = false;
    if (shape == 0) sb_adds(b, "{\"type\":\"function\",\"function\":");
    sb_adds(b, "{\"name\":");
    llm_json_sval(b, t[TL_NAME]);
    sb_adds(b, ",\"description\":");
    llm_json_sval(b, t[TL_DESC]);
    sb_adds(b, shape == 1 ? ",\"input_schema\":" : ",\"parameters\":");
    json_value(vm, b, schema);
    sb_addc(b, '}');
    if (shape == 0) sb_addc(b, '}');
  }
}

static void images_blocks(StrBuf *b, Value images, int shape) {
  for (Value l = images; is_cons(l); l = cdr(l)) {
    Value media = car(car(l)), data = cdr(car(l));
    if (shape == 0) { /* OpenAI */
      sb_adds(b, "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:");
      sb_add(b, str_data(media), str_len(media));
      sb_adds(b, ";base64,");
      sb_add(b, str_data(data), str_len(data));
      sb_adds(b, "\"}},");
    } else if (shape == 1) { /* Anthropic */
      sb_adds(b, "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":");
      llm_json_sval(b, media);
      sb_adds(b, ",\"data\":");
      llm_json_sval(b, data);
      sb_adds(b, "}},");
    } else { /* Gemini */
      sb_adds(b, "{\"inlineData\":{\"mimeType\":");
      llm_json_sval(b, media);
      sb_adds(b, ",\"data\":");
      llm_json_sval(b, data);
      sb_adds(b, "}},");
    }
  }
}

static void openai_messages(VM *vm, StrBuf *b, Value req) {
  bool first = true;
  sb_addc(b, '[');
  if (RQ(req)[RQ_SYSTEM] != NIL_VAL) {
    sb_adds(b, "{\"role\":\"system\",\"content\":");
    llm_json_sval(b, RQ(req)[RQ_SYSTEM]);
    sb_addc(b, '}');
    first = false;
  }
  for (Value l = RQ(req)[RQ_MSGS]; is_cons(l); l = cdr(l)) {
    Value *m = vec_items(car(l));
    int role = role_of(car(l));
    if (!first) sb_addc(b, ',');
    first = false;
    sb_adds(b, "{\"role\":\"");
    sb_adds(b, llm_role_names[role]);
    sb_adds(b, "\",\"content\":");
    if (role == LLM_ASSISTANT && is_cons(m[CM_CALLS])) {
      if (str_len(m[CM_CONTENT]))
        llm_json_sval(b, m[CM_CONTENT]);
      else
        sb_adds(b, "null");
      sb_adds(b, ",\"tool_calls\":[");
      for (Value c = m[CM_CALLS]; is_cons(c); c = cdr(c)) {
        Value *tc = vec_items(car(c));
        StrBuf args;
        sb_init(&args);
        json_value(vm, &args, tc[TC_ARGS]);
        sb_adds(b, "{\"id\":");
        llm_json_sval(b, tc[TC_ID]);
        sb_adds(b, ",\"type\":\"function\",\"function\":{\"name\":");
        llm_json_sval(b, tc[TC_NAME]);
        sb_adds(b, ",\"arguments\":");
        llm_json_str(b, args.data ? args.data : "", args.len);
        sb_adds(b, "}}");
        sb_free(&args);
        if (is_cons(cdr(c))) sb_addc(b, ',');
      }
      sb_adds(b, "]}");
      continue;
    }
    if (is_cons(m[CM_IMAGES])) {
      sb_addc(b, '[');
      images_blocks(b, m[CM_IMAGES], 0);
      sb_adds(b, "{\"type\":\"text\",\"text\":");
      llm_json_sval(b, m[CM_CONTENT]);
      sb_adds(b, "}]");
    } else {
      llm_json_sval(b, m[CM_CONTENT]);
    }
    if (role == LLM_TOOL) {
      sb_adds(b, ",\"tool_call_id\":");
      if (is_string(m[CM_CALL_ID]))
        llm_json_sval(b, m[CM_CALL_ID]);
      else
        sb_adds(b, "\"\"");
    }
    sb_addc(b, '}');
  }
  sb_addc(b, ']');
}

static bool notemp(LlmState *st, Value model) {
  for (size_t i = 0; i < st->nnotemp; i++)
    if (strcmp(st->notemp[i], str_data(model)) == 0) return true;
  return false;
}

static void openai_body(VM *vm, const LlmProvider *p, Value req, bool stream, bool with_temp, StrBuf *b) {
  Value *f = RQ(req);
  bool first = true, official = llm_wire_official(p->base_url);
  sb_addc(b, '{');
  key(b, &first, "model");
  llm_json_sval(b, f[RQ_MODEL]);
  key(b, &first, "messages");
  openai_messages(vm, b, req);
  if (f[RQ_MAX] != NIL_VAL) {
    key(b, &first, official ? "max_completion_tokens" : "max_tokens");
    sb_addf(b, "%lld", (long long)int_of(f[RQ_MAX]));
  }
  if (f[RQ_EFFORT] != NIL_VAL) {
    key(b, &first, "reasoning_effort");
    llm_json_sval(b, f[RQ_EFFORT]);
  }
  if (f[RQ_TEMP] != NIL_VAL && with_temp && !(official && notemp(llm_state(vm), f[RQ_MODEL]))) {
    key(b, &first, "temperature");
    llm_json_num(vm, b, num_to_double(f[RQ_TEMP]));
  }
  if (is_cons(f[RQ_TOOLS])) {
    key(b, &first, "tools");
    sb_addc(b, '[');
    tool_schemas(vm, b, f[RQ_TOOLS], 0);
    sb_addc(b, ']');
  }
  if (stream) {
    key(b, &first, "stream");
    sb_adds(b, "true");
    if (p->usage_in_stream) {
      key(b, &first, "stream_options");
      sb_adds(b, "{\"include_usage\":true}");
    }
  }
  if (f[RQ_JSON] == TRUE_VAL) {
    key(b, &first, "response_format");
    sb_adds(b, "{\"type\":\"json_object\"}");
  }
  sb_addc(b, '}');
}

/* budget_tokens of Anthropic's thinking block for an effort, or 0 (§19.3) */
static int64_t anthropic_budget(Value effort) {
  if (!is_string(effort)) return 0;
  const char *e = str_data(effort);
  if (!strcmp(e, "low")) return 1024;
  if (!strcmp(e, "medium")) return 4096;
  if (!strcmp(e, "high")) return 12000;
  if (!strcmp(e, "xhigh") || !strcmp(e, "max")) return 24000;
  return 0;
}

static void anthropic_body(VM *vm, Value req, bool stream, StrBuf *b) {
  Value *f = RQ(req);
  bool first = true;
  int64_t budget = anthropic_budget(f[RQ_EFFORT]);
  sb_addc(b, '{');
  key(b, &first, "model");
  llm_json_sval(b, f[RQ_MODEL]);
  key(b, &first, "messages");
  sb_addc(b, '[');
  bool mfirst = true;
  for (Value l = f[RQ_MSGS]; is_cons(l); l = cdr(l)) {
    Value *m = vec_items(car(l));
    int role = role_of(car(l));
    if (role == LLM_SYSTEM) continue; /* Reference: only the first one survives, as `system` */
    if (!mfirst) sb_addc(b, ',');
    mfirst = false;
    if (role == LLM_TOOL) { /* each result its own user message (Reference: not merged) */
      sb_adds(b, "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":");
      if (is_string(m[CM_CALL_ID]))
        llm_json_sval(b, m[CM_CALL_ID]);
      else
        sb_adds(b, "\"\"");
      sb_adds(b, ",\"content\":");
      llm_json_sval(b, m[CM_CONTENT]);
      sb_adds(b, "}]}");
      continue;
    }
    sb_adds(b, "{\"role\":\"");
    sb_adds(b, llm_role_names[role]);
    sb_adds(b, "\",\"content\":");
    if (role == LLM_ASSISTANT && is_cons(m[CM_CALLS])) {
      sb_addc(b, '[');
      bool bfirst = true;
      if (str_len(m[CM_CONTENT])) {
        sb_adds(b, "{\"type\":\"text\",\"text\":");
        llm_json_sval(b, m[CM_CONTENT]);
        sb_addc(b, '}');
        bfirst = false;
      }
      for (Value c = m[CM_CALLS]; is_cons(c); c = cdr(c)) {
        Value *tc = vec_items(car(c));
        if (!bfirst) sb_addc(b, ',');
        bfirst = false;
        sb_adds(b, "{\"type\":\"tool_use\",\"id\":");
        llm_json_sval(b, tc[TC_ID]);
        sb_adds(b, ",\"name\":");
        llm_json_sval(b, tc[TC_NAME]);
        sb_adds(b, ",\"input\":");
        json_value(vm, b, tc[TC_ARGS]);
        sb_addc(b, '}');
      }
      sb_adds(b, "]}");
      continue;
    }
    if (is_cons(m[CM_IMAGES])) {
      sb_addc(b, '[');
      images_blocks(b, m[CM_IMAGES], 1);
      sb_adds(b, "{\"type\":\"text\",\"text\":");
      llm_json_sval(b, m[CM_CONTENT]);
      sb_adds(b, "}]");
    } else {
      llm_json_sval(b, m[CM_CONTENT]);
    }
    sb_addc(b, '}');
  }
  sb_addc(b, ']');
  key(b, &first, "max_tokens");
  sb_addf(b, "%lld", (long long)((f[RQ_MAX] != NIL_VAL ? int_of(f[RQ_MAX]) : 4096) + budget));
  if (f[RQ_TEMP] != NIL_VAL && !budget) {
    key(b, &first, "temperature");
    llm_json_num(vm, b, num_to_double(f[RQ_TEMP]));
  }
  Value sys = system_text(req);
  if (sys != NIL_VAL) {
    key(b, &first, "system");
    llm_json_sval(b, sys);
  }
  if (is_cons(f[RQ_TOOLS])) {
    key(b, &first, "tools");
    sb_addc(b, '[');
    tool_schemas(vm, b, f[RQ_TOOLS], 1);
    sb_addc(b, ']');
  }
  if (stream) {
    key(b, &first, "stream");
    sb_adds(b, "true");
  }
  if (budget) {
    key(b, &first, "thinking");
    sb_addf(b, "{\"type\":\"enabled\",\"budget_tokens\":%lld}", (long long)budget);
  }
  sb_addc(b, '}');
}

static void gemini_body(VM *vm, Value req, StrBuf *b) {
  Value *f = RQ(req);
  bool first = true;
  sb_addc(b, '{');
  key(b, &first, "contents");
  sb_addc(b, '[');
  bool mfirst = true;
  for (Value l = f[RQ_MSGS]; is_cons(l); l = cdr(l)) {
    Value *m = vec_items(car(l));
    int role = role_of(car(l));
    if (role == LLM_SYSTEM) continue;
    if (!mfirst) sb_addc(b, ',');
    mfirst = false;
    if (role == LLM_TOOL) {
      sb_adds(b, "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":");
      if (is_string(m[CM_TOOL_NAME]))
        llm_json_sval(b, m[CM_TOOL_NAME]);
      else
        sb_adds(b, "\"\"");
      sb_adds(b, ",\"response\":{\"result\":");
      llm_json_sval(b, m[CM_CONTENT]);
      sb_adds(b, "}}}]}");
      continue;
    }
    sb_adds(b, role == LLM_ASSISTANT ? "{\"role\":\"model\",\"parts\":[" : "{\"role\":\"user\",\"parts\":[");
    if (role == LLM_ASSISTANT && is_cons(m[CM_CALLS])) {
      bool pfirst = true;
      if (str_len(m[CM_CONTENT])) {
        sb_adds(b, "{\"text\":");
        llm_json_sval(b, m[CM_CONTENT]);
        sb_addc(b, '}');
        pfirst = false;
      }
      for (Value c = m[CM_CALLS]; is_cons(c); c = cdr(c)) {
        Value *tc = vec_items(car(c));
        if (!pfirst) sb_addc(b, ',');
        pfirst = false;
        sb_adds(b, "{\"functionCall\":{\"name\":");
        llm_json_sval(b, tc[TC_NAME]);
        sb_adds(b, ",\"args\":");
        json_value(vm, b, tc[TC_ARGS]);
        sb_adds(b, "}}");
      }
    } else {
      images_blocks(b, m[CM_IMAGES], 2);
      sb_adds(b, "{\"text\":");
      llm_json_sval(b, m[CM_CONTENT]);
      sb_addc(b, '}');
    }
    sb_adds(b, "]}");
  }
  sb_addc(b, ']');
  Value sys = system_text(req);
  if (sys != NIL_VAL) {
    key(b, &first, "systemInstruction");
    sb_adds(b, "{\"parts\":[{\"text\":");
    llm_json_sval(b, sys);
    sb_adds(b, "}]}");
  }
  StrBuf g;
  sb_init(&g);
  bool gfirst = true;
  if (f[RQ_MAX] != NIL_VAL) {
    key(&g, &gfirst, "maxOutputTokens");
    sb_addf(&g, "%lld", (long long)int_of(f[RQ_MAX]));
  }
  if (f[RQ_TEMP] != NIL_VAL) {
    key(&g, &gfirst, "temperature");
    llm_json_num(vm, &g, num_to_double(f[RQ_TEMP]));
  }
  if (f[RQ_EFFORT] != NIL_VAL) {
    const char *e = str_data(f[RQ_EFFORT]);
    long budget = !strcmp(e, "low")                                                ? 1024
                  : !strcmp(e, "medium")                                           ? 8192
                  : !strcmp(e, "high") || !strcmp(e, "xhigh") || !strcmp(e, "max") ? 24576
                                                                                   : 0;
    key(&g, &gfirst, "thinkingConfig");
    sb_addf(&g, "{\"thinkingBudget\":%ld}", budget);
  }
  if (g.len) {
    key(b, &first, "generationConfig");
    sb_addc(b, '{');
    sb_add(b, g.data, g.len);
    sb_addc(b, '}');
  }
  sb_free(&g);
  if (is_cons(f[RQ_TOOLS])) {
    key(b, &first, "tools");
    sb_adds(b, "[{\"function_declarations\":[");
    tool_schemas(vm, b, f[RQ_TOOLS], 2);
    sb_adds(b, "]}]");
  }
  sb_addc(b, '}');
}

static void ollama_body(VM *vm, Value req, bool stream, StrBuf *b) {
  Value *f = RQ(req);
  bool first = true;
  sb_addc(b, '{');
  key(b, &first, "model");
  llm_json_sval(b, f[RQ_MODEL]);
  key(b, &first, "messages");
  sb_addc(b, '[');
  bool mfirst = true;
  if (f[RQ_SYSTEM] != NIL_VAL) {
    sb_adds(b, "{\"role\":\"system\",\"content\":");
    llm_json_sval(b, f[RQ_SYSTEM]);
    sb_addc(b, '}');
    mfirst = false;
  }
  for (Value l = f[RQ_MSGS]; is_cons(l); l = cdr(l)) {
    Value *m = vec_items(car(l));
    int role = role_of(car(l));
    if (!mfirst) sb_addc(b, ',');
    mfirst = false;
    sb_adds(b, "{\"role\":\"");
    sb_adds(b, llm_role_names[role]);
    sb_adds(b, "\",\"content\":");
    llm_json_sval(b, m[CM_CONTENT]);
    if (role == LLM_ASSISTANT && is_cons(m[CM_CALLS])) {
      sb_adds(b, ",\"tool_calls\":[");
      for (Value c = m[CM_CALLS]; is_cons(c); c = cdr(c)) {
        Value *tc = vec_items(car(c));
        sb_adds(b, "{\"function\":{\"name\":");
        llm_json_sval(b, tc[TC_NAME]);
        sb_adds(b, ",\"arguments\":");
        json_value(vm, b, tc[TC_ARGS]);
        sb_adds(b, "}}");
        if (is_cons(cdr(c))) sb_addc(b, ',');
      }
      sb_addc(b, ']');
    }
    if (role == LLM_TOOL) {
      sb_adds(b, ",\"tool_name\":");
      if (is_string(m[CM_TOOL_NAME]))
        llm_json_sval(b, m[CM_TOOL_NAME]);
      else
        sb_adds(b, "\"\"");
    }
    if (is_cons(m[CM_IMAGES])) {
      sb_adds(b, ",\"images\":[");
      for (Value i = m[CM_IMAGES]; is_cons(i); i = cdr(i)) {
        llm_json_sval(b, cdr(car(i)));
        if (is_cons(cdr(i))) sb_addc(b, ',');
      }
      sb_addc(b, ']');
    }
    sb_addc(b, '}');
  }
  sb_addc(b, ']');
  key(b, &first, "stream");
  sb_adds(b, stream ? "true" : "false");
  if (f[RQ_MAX] != NIL_VAL || f[RQ_TEMP] != NIL_VAL) {
    key(b, &first, "options");
    bool ofirst = true;
    sb_addc(b, '{');
    if (f[RQ_MAX] != NIL_VAL) {
      key(b, &ofirst, "num_predict");
      sb_addf(b, "%lld", (long long)int_of(f[RQ_MAX]));
    }
    if (f[RQ_TEMP] != NIL_VAL) {
      key(b, &ofirst, "temperature");
      llm_json_num(vm, b, num_to_double(f[RQ_TEMP]));
    }
    sb_addc(b, '}');
  }
  if (is_cons(f[RQ_TOOLS])) {
    key(b, &first, "tools");
    sb_addc(b, '[');
    tool_schemas(vm, b, f[RQ_TOOLS], 0);
    sb_addc(b, ']');
  }
  sb_addc(b, '}');
}

void llm_wire_body(VM *vm, const LlmProvider *p, Value req, bool stream, bool with_temp, StrBuf *out) {
  switch (p->kind) {
  case LK_ANTHROPIC: anthropic_body(vm, req, stream, out); break;
  case LK_GEMINI: gemini_body(vm, req, out); break;
  case LK_OLLAMA: ollama_body(vm, req, stream, out); break;
  default: openai_body(vm, p, req, stream, with_temp, out); break;
  }
}

/* Will a 400 about the temperature be healed by re-sending without it (§19.2)? */
bool llm_wire_can_heal(VM *vm, const LlmProvider *p, Value req) {
  return p->kind == LK_OPENAI && RQ(req)[RQ_TEMP] != NIL_VAL && llm_wire_official(p->base_url) &&
         !notemp(llm_state(vm), RQ(req)[RQ_MODEL]);
}

/* The body of a 400 that says the model takes no temperature (plain C: the
 * transport decides on it off the interpreter thread). */
bool llm_wire_temperature_refused(const char *body, size_t n) {
  char *low = malloc(n + 1);
  if (!low) return false;
  for (size_t i = 0; i < n; i++) low[i] = (char)(body[i] >= 'A' && body[i] <= 'Z' ? body[i] + 32 : body[i]);
  low[n] = 0;
  bool r = memmem(low, n, "temperature", 11) &&
           (memmem(low, n, "not supported", 13) || memmem(low, n, "does not support", 16) || memmem(low, n, "unsupported", 11));
  free(low);
  return r;
}

void llm_wire_remember_notemp(VM *vm, Value model) {
  LlmState *st = llm_state(vm);
  if (notemp(st, model)) return;
  char **n = realloc(st->notemp, (st->nnotemp + 1) * sizeof *n);
  if (!n) return;
  st->notemp = n;
  st->notemp[st->nnotemp++] = llm_strdup(str_data(model));
}

/* ---------------------------------------------------------------- complete responses */

static Value call_list_add(VM *vm, ListBuilder *lb, Value id, Value name, Value args) {
  list_add(vm, lb, llm_call_new(vm, id, name, args));
  return lb->head;
}

static Value join_nl(VM *vm, StrBuf *b, bool *any, Value text) {
  if (*any) sb_addc(b, '\n');
  *any = true;
  sb_add(b, str_data(text), str_len(text));
  return NIL_VAL;
}

static Value decode_openai(VM *vm, Value root, const char *body, size_t n) {
  Value model = jstr(vm, root, "model"), choices, c0, msg, v;
  if (model == NIL_VAL) parse_fail(vm, "missing field `model`", body, n);
  if (!jlist(vm, root, "choices", &choices)) parse_fail(vm, "missing field `choices`", body, n);
  if (!is_cons(choices)) parse_fail(vm, "no choices in response", NULL, 0);
  c0 = car(choices);
  if (!jget(vm, c0, "message", &msg) || !is_map(msg)) parse_fail(vm, "missing field `message` in choices[0]", body, n);
  Value resp = llm_resp_new(vm);
  vm_push_root(vm, resp);
  Value *f = RQ(resp);
  f[RS_MODEL] = f[RS_UMODEL] = model;
  if ((v = jstr(vm, msg, "content")) != NIL_VAL) f[RS_CONTENT] = v;
  if ((v = jstr(vm, msg, "role")) != NIL_VAL) f[RS_ROLE] = v;
  if ((v = jstr(vm, c0, "finish_reason")) != NIL_VAL) f[RS_STOP] = v;
  Value calls;
  if (jlist(vm, msg, "tool_calls", &calls)) {
    ListBuilder lb;
    list_start(&lb);
    for (Value l = calls; is_cons(l); l = cdr(l)) {
      Value fn, id = jstr(vm, car(l), "id"), args = UNBOUND_VAL, name;
      if (!jget(vm, car(l), "function", &fn) || (name = jstr(vm, fn, "name")) == NIL_VAL) continue;
      jget(vm, fn, "arguments", &args);
      f[RS_CALLS] = call_list_add(vm, &lb, id == NIL_VAL ? str_new(vm, "", 0) : id, name, args_value(vm, args));
    }
  }
  Value u, d;
  if (jget(vm, root, "usage", &u) && is_map(u)) {
    f[RS_PT] = num_int(vm, jint(vm, u, "prompt_tokens"));
    f[RS_CT] = num_int(vm, jint(vm, u, "completion_tokens"));
    if (jget(vm, u, "prompt_tokens_details", &d)) {
      f[RS_CRT] = num_int(vm, jint(vm, d, "cached_tokens"));
      f[RS_CCT] = num_int(vm, jint(vm, d, "cache_write_tokens"));
    }
  }
  vm_pop_roots(vm, 1);
  return resp;
}

static Value decode_anthropic(VM *vm, Value root, const char *body, size_t n) {
  Value content, u, v;
  Value model = jstr(vm, root, "model"), role = jstr(vm, root, "role");
  if (!jlist(vm, root, "content", &content)) parse_fail(vm, "missing field `content`", body, n);
  if (role == NIL_VAL) parse_fail(vm, "missing field `role`", body, n);
  if (model == NIL_VAL) parse_fail(vm, "missing field `model`", body, n);
  if (!jget(vm, root, "usage", &u) || !jget(vm, u, "input_tokens", &v) || !jget(vm, u, "output_tokens", &v))
    parse_fail(vm, "missing field `usage`", body, n);
  Value resp = llm_resp_new(vm);
  vm_push_root(vm, resp);
  Value *f = RQ(resp);
  f[RS_MODEL] = f[RS_UMODEL] = model;
  f[RS_ROLE] = role;
  StrBuf text;
  sb_init(&text);
  bool any = false;
  ListBuilder lb;
  list_start(&lb);
  for (Value l = content; is_cons(l); l = cdr(l)) {
    Value type = jstr(vm, car(l), "type");
    if (type == NIL_VAL) continue;
    if (!strcmp(str_data(type), "text") && (v = jstr(vm, car(l), "text")) != NIL_VAL) {
      join_nl(vm, &text, &any, v);
    } else if (!strcmp(str_data(type), "tool_use")) {
      Value id = jstr(vm, car(l), "id"), name = jstr(vm, car(l), "name"), input = UNBOUND_VAL;
      if (name == NIL_VAL) continue;
      jget(vm, car(l), "input", &input);
      f[RS_CALLS] = call_list_add(vm, &lb, id == NIL_VAL ? str_new(vm, "", 0) : id, name, args_value(vm, input));
    }
  }
  f[RS_CONTENT] = sb_to_string(vm, &text);
  if ((v = jstr(vm, root, "stop_reason")) != NIL_VAL) f[RS_STOP] = v;
  f[RS_PT] = num_int(vm, jint(vm, u, "input_tokens"));
  f[RS_CT] = num_int(vm, jint(vm, u, "output_tokens"));
  f[RS_CRT] = num_int(vm, jint(vm, u, "cache_read_input_tokens"));
  f[RS_CCT] = num_int(vm, jint(vm, u, "cache_creation_input_tokens"));
  vm_pop_roots(vm, 1);
  return resp;
}

/* Text and function calls of one Gemini payload (complete or a stream event). */
typedef struct {
  StrBuf *text; /* complete: joined with \n */
  bool any;
  LlmChunkFn fn; /* stream: each text part delivered */
  void *ud;
  ListBuilder *calls;
  int64_t *ncalls;
} GeminiParts;

static void gemini_parts(VM *vm, Value root, GeminiParts *g) {
  Value cands, content, parts, v;
  if (!jlist(vm, root, "candidates", &cands) || !is_cons(cands)) return;
  if (!jget(vm, car(cands), "content", &content) || !jlist(vm, content, "parts", &parts)) return;
  for (Value l = parts; is_cons(l); l = cdr(l)) {
    Value part = car(l), fc;
    if ((v = jstr(vm, part, "text")) != NIL_VAL) {
      if (g->fn) {
        sb_add(g->text, str_data(v), str_len(v));
        g->fn(vm, g->ud, v);
      } else {
        join_nl(vm, g->text, &g->any, v);
      }
    } else if (jget(vm, part, "functionCall", &fc)) {
      Value name = jstr(vm, fc, "name"), args = UNBOUND_VAL;
      if (name == NIL_VAL) continue;
      jget(vm, fc, "args", &args);
      char id[40];
      snprintf(id, sizeof id, "gemini-call-%lld", (long long)(*g->ncalls)++);
      call_list_add(vm, g->calls, str_from_c(vm, id), name, args_value(vm, args));
    }
  }
}

static Value gemini_finish_reason(VM *vm, Value root) {
  Value cands;
  if (!jlist(vm, root, "candidates", &cands) || !is_cons(cands)) return NIL_VAL;
  return jstr(vm, car(cands), "finishReason");
}

static Value decode_gemini(VM *vm, Value root, Value model, const char *body, size_t n) {
  Value v;
  if (!jget(vm, root, "candidates", &v)) parse_fail(vm, "missing field `candidates`", body, n);
  Value resp = llm_resp_new(vm);
  vm_push_root(vm, resp);
  Value *f = RQ(resp);
  f[RS_MODEL] = f[RS_UMODEL] = model;
  StrBuf text;
  sb_init(&text);
  ListBuilder lb;
  list_start(&lb);
  int64_t ncalls = 0;
  GeminiParts g = {&text, false, NULL, NULL, &lb, &ncalls};
  gemini_parts(vm, root, &g);
  f[RS_CALLS] = lb.head;
  f[RS_CONTENT] = sb_to_string(vm, &text);
  Value um = NIL_VAL;
  jget(vm, root, "usageMetadata", &um);
  f[RS_PT] = num_int(vm, jint(vm, um, "promptTokenCount"));
  f[RS_CT] = num_int(vm, jint(vm, um, "candidatesTokenCount"));
  f[RS_CRT] = num_int(vm, jint(vm, um, "cachedContentTokenCount"));
  f[RS_STOP] = str_from_c(vm, is_cons(lb.head) ? "tool_use" : "stop");
  Value reason = gemini_finish_reason(vm, root);
  int64_t thoughts = jint(vm, um, "thoughtsTokenCount");
  if (!str_len(f[RS_CONTENT]) && !is_cons(lb.head) &&
      ((reason != NIL_VAL && !strcmp(str_data(reason), "MAX_TOKENS")) || thoughts > 0))
    llm_err(vm,
            "API error: 200 - Gemini returned an empty response (finishReason: %s; %lld reasoning tokens, 0 visible output "
            "tokens). Thinking models spend part of `:max-tokens` reasoning before producing visible output \xe2\x80\x94 increase "
            "`:max-tokens`, or lower `:reasoning-effort`.",
            reason != NIL_VAL ? str_data(reason) : "unknown", (long long)thoughts);
  vm_pop_roots(vm, 1);
  return resp;
}

/* Ollama's tool calls: ids ollama-call-I, entries without a name dropped (§19.5). */
static Value ollama_calls(VM *vm, Value msg) {
  Value calls;
  ListBuilder lb;
  list_start(&lb);
  if (!jlist(vm, msg, "tool_calls", &calls)) return EMPTY_VAL;
  int64_t i = 0;
  for (Value l = calls; is_cons(l); l = cdr(l), i++) {
    Value fn, name, args = UNBOUND_VAL;
    if (!jget(vm, car(l), "function", &fn) || (name = jstr(vm, fn, "name")) == NIL_VAL) continue;
    jget(vm, fn, "arguments", &args);
    char id[40];
    snprintf(id, sizeof id, "ollama-call-%lld", (long long)i);
    call_list_add(vm, &lb, str_from_c(vm, id), name, args_value(vm, args));
  }
  return lb.head;
}

static Value decode_ollama(VM *vm, Value root, Value model, const char *body, size_t n) {
  Value msg, v;
  if (!jget(vm, root, "message", &msg) || !is_map(msg)) parse_fail(vm, "missing field `message`", body, n);
  Value resp = llm_resp_new(vm);
  vm_push_root(vm, resp);
  Value *f = RQ(resp);
  f[RS_MODEL] = f[RS_UMODEL] = model;
  if ((v = jstr(vm, msg, "content")) != NIL_VAL) f[RS_CONTENT] = v;
  f[RS_CALLS] = ollama_calls(vm, msg);
  f[RS_PT] = num_int(vm, jint(vm, root, "prompt_eval_count"));
  f[RS_CT] = num_int(vm, jint(vm, root, "eval_count"));
  f[RS_STOP] = str_from_c(vm, is_cons(f[RS_CALLS]) ? "tool_use" : "stop");
  vm_pop_roots(vm, 1);
  return resp;
}

Value llm_wire_decode(VM *vm, LlmKind kind, Value model, const char *body, size_t n) {
  Value root;
  if (!utf8_valid(body, n, NULL)) parse_fail(vm, "invalid UTF-8 in the response body", NULL, 0);
  JsonError e;
  if (!json_parse(vm, body, n, &root, &e)) {
    char d[200];
    snprintf(d, sizeof d, "%s at line %zu column %zu", e.msg, e.line, e.col);
    parse_fail(vm, d, body, n);
  }
  if (!is_map(root)) parse_fail(vm, "expected a JSON object", body, n);
  vm_push_root(vm, root);
  Value r;
  switch (kind) {
  case LK_ANTHROPIC: r = decode_anthropic(vm, root, body, n); break;
  case LK_GEMINI: r = decode_gemini(vm, root, model, body, n); break;
  case LK_OLLAMA: r = decode_ollama(vm, root, model, body, n); break;
  default: r = decode_openai(vm, root, body, n); break;
  }
  vm_pop_roots(vm, 1);
  return r;
}

/* ---------------------------------------------------------------- lines (SSE, NDJSON) */

/* Calls fn on each complete line (without its \n and a trailing \r).  A
 * line split across feeds is kept in l->buf; a line longer than l->max
 * stops the stream (-1).  Returns fn's nonzero result, else 0. */
int llm_lines_feed(LlmLines *l, const char *p, size_t n, LlmLineFn fn, void *ud) {
  while (n) {
    const char *nl = memchr(p, '\n', n);
    size_t take = nl ? (size_t)(nl - p) : n;
    if (l->len + take > l->max) return -1;
    const char *line = p;
    size_t len = take;
    if (l->len || !nl) { /* join with the pending part (or keep the tail for later) */
      if (l->len + take > l->cap) {
        size_t cap = l->cap ? l->cap : 256;
        while (cap < l->len + take) cap *= 2;
        char *nb = realloc(l->buf, cap);
        if (!nb) return -1;
        l->buf = nb;
        l->cap = cap;
      }
      memcpy(l->buf + l->len, p, take);
      l->len += take;
      line = l->buf;
      len = l->len;
    }
    if (!nl) return 0;
    p += take + 1;
    n -= take + 1;
    l->len = 0;
    if (len && line[len - 1] == '\r') len--;
    int rc = fn(ud, line, len);
    if (rc) return rc;
  }
  return 0;
}

/* The last line when the stream ended without a final \n. */
int llm_lines_end(LlmLines *l, LlmLineFn fn, void *ud) {
  if (!l->len) return 0;
  size_t len = l->len;
  l->len = 0;
  if (l->buf[len - 1] == '\r') len--;
  return fn(ud, l->buf, len);
}

void llm_lines_free(LlmLines *l) {
  free(l->buf);
  l->buf = NULL;
  l->len = l->cap = 0;
}

/* One SSE line (§19.1): 0 nothing, 1 a payload in *pl and *pn, 2 [DONE]. */
int llm_sse_line(const char *s, size_t n, const char **pl, size_t *pn) {
  if (n < 5 || memcmp(s, "data:", 5) != 0) return 0; /* blank, ":", "event:", "id:", "retry:", others */
  s += 5, n -= 5;
  while (n && (*s == ' ' || *s == '\t')) s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
  if (!n) return 0;
  if (n == 6 && memcmp(s, "[DONE]", 6) == 0) return 2;
  *pl = s;
  *pn = n;
  return 1;
}

/* ---------------------------------------------------------------- stream accumulators */

static LlmAccCall *acc_call(LlmStreamAcc *a, int64_t index, bool create) {
  for (size_t i = 0; i < a->ncalls; i++)
    if (a->calls[i].index == index) return &a->calls[i];
  if (!create) return NULL;
  if (a->ncalls == a->capcalls) {
    size_t cap = a->capcalls ? a->capcalls * 2 : 4;
    LlmAccCall *nc = realloc(a->calls, cap * sizeof *nc);
    if (!nc) return NULL;
    a->calls = nc;
    a->capcalls = cap;
  }
  LlmAccCall *c = &a->calls[a->ncalls++];
  memset(c, 0, sizeof *c);
  c->index = index;
  sb_init(&c->id);
  sb_init(&c->name);
  sb_init(&c->args);
  return c;
}

void llm_stream_acc_init(LlmStreamAcc *a, LlmKind kind) {
  memset(a, 0, sizeof *a);
  a->kind = kind;
  sb_init(&a->content);
  sb_init(&a->stop);
  sb_init(&a->model);
}

void llm_stream_acc_free(LlmStreamAcc *a) {
  sb_free(&a->content);
  sb_free(&a->stop);
  sb_free(&a->model);
  for (size_t i = 0; i < a->ncalls; i++) {
    sb_free(&a->calls[i].id);
    sb_free(&a->calls[i].name);
    sb_free(&a->calls[i].args);
  }
  free(a->calls);
  a->calls = NULL;
  a->ncalls = a->capcalls = 0;
}

static void set_sb(StrBuf *b, Value s) {
  b->len = 0;
  sb_add(b, str_data(s), str_len(s));
}

static void deliver(VM *vm, LlmStreamAcc *a, Value text, LlmChunkFn fn, void *ud) {
  sb_add(&a->content, str_data(text), str_len(text));
  a->delivered = true;
  fn(vm, ud, text);
}

/* A complete call (Gemini, Ollama): its arguments kept as JSON text. */
static void acc_whole_call(VM *vm, LlmStreamAcc *a, const char *id, Value name, Value args) {
  LlmAccCall *c = acc_call(a, (int64_t)a->ncalls + 1000000, true);
  if (!c) return;
  sb_adds(&c->id, id);
  sb_add(&c->name, str_data(name), str_len(name));
  if (args != UNBOUND_VAL && args != NIL_VAL) {
    if (is_string(args))
      sb_add(&c->args, str_data(args), str_len(args));
    else
      json_value(vm, &c->args, args);
  }
}

static void openai_event(VM *vm, LlmStreamAcc *a, Value ev, LlmChunkFn fn, void *ud) {
  Value u, d, choices, v;
  if (jget(vm, ev, "usage", &u) && is_map(u)) {
    a->pt = jint(vm, u, "prompt_tokens");
    a->ct = jint(vm, u, "completion_tokens");
    if (jget(vm, u, "prompt_tokens_details", &d)) {
      a->crt = jint(vm, d, "cached_tokens");
      a->cct = jint(vm, d, "cache_write_tokens");
    }
  }
  if (!jlist(vm, ev, "choices", &choices)) return;
  for (Value l = choices; is_cons(l); l = cdr(l)) {
    Value ch = car(l), delta, calls;
    if (jget(vm, ch, "delta", &delta)) {
      if ((v = jstr(vm, delta, "content")) != NIL_VAL) deliver(vm, a, v, fn, ud); /* even when empty (Reference) */
      if (jlist(vm, delta, "tool_calls", &calls))
        for (Value k = calls; is_cons(k); k = cdr(k)) {
          Value tc = car(k), f2, x;
          int64_t index = jget(vm, tc, "index", &x) && is_int(x) ? int_of(x) : 0;
          LlmAccCall *c = acc_call(a, index, true);
          if (!c) continue;
          if ((x = jstr(vm, tc, "id")) != NIL_VAL && str_len(x)) set_sb(&c->id, x);
          if (jget(vm, tc, "function", &f2)) {
            if ((x = jstr(vm, f2, "name")) != NIL_VAL) sb_add(&c->name, str_data(x), str_len(x));
            if ((x = jstr(vm, f2, "arguments")) != NIL_VAL) sb_add(&c->args, str_data(x), str_len(x));
          }
        }
    }
    if ((v = jstr(vm, ch, "finish_reason")) != NIL_VAL) set_sb(&a->stop, v);
  }
}

static void anthropic_event(VM *vm, LlmStreamAcc *a, Value ev, LlmChunkFn fn, void *ud) {
  Value type = jstr(vm, ev, "type"), x, y, v;
  if (type == NIL_VAL) return;
  const char *t = str_data(type);
  int64_t index = jget(vm, ev, "index", &x) && is_int(x) ? int_of(x) : 0;
  if (!strcmp(t, "message_start")) {
    if (jget(vm, ev, "message", &x)) {
      if ((v = jstr(vm, x, "model")) != NIL_VAL) set_sb(&a->model, v);
      if (jget(vm, x, "usage", &y)) {
        a->pt = jint(vm, y, "input_tokens");
        a->ct = jint(vm, y, "output_tokens");
        a->crt = jint(vm, y, "cache_read_input_tokens");
        a->cct = jint(vm, y, "cache_creation_input_tokens");
      }
    }
  } else if (!strcmp(t, "content_block_start")) {
    if (jget(vm, ev, "content_block", &x) && (v = jstr(vm, x, "type")) != NIL_VAL && !strcmp(str_data(v), "tool_use")) {
      LlmAccCall *c = acc_call(a, index, true);
      if (!c) return;
      c->open = true;
      c->id.len = c->name.len = c->args.len = 0;
      if ((v = jstr(vm, x, "id")) != NIL_VAL) set_sb(&c->id, v);
      if ((v = jstr(vm, x, "name")) != NIL_VAL) set_sb(&c->name, v);
    }
  } else if (!strcmp(t, "content_block_delta")) {
    if (!jget(vm, ev, "delta", &x)) return;
    if ((v = jstr(vm, x, "text")) != NIL_VAL) {
      deliver(vm, a, v, fn, ud);
    } else if ((v = jstr(vm, x, "partial_json")) != NIL_VAL) {
      LlmAccCall *c = acc_call(a, index, false);
      if (c && c->open) sb_add(&c->args, str_data(v), str_len(v));
    }
  } else if (!strcmp(t, "content_block_stop")) {
    LlmAccCall *c = acc_call(a, index, false);
    if (c) c->open = false;
  } else if (!strcmp(t, "message_delta")) {
    if (jget(vm, ev, "usage", &x) && jget(vm, x, "output_tokens", &y)) a->ct = jint(vm, x, "output_tokens");
    if (jget(vm, ev, "delta", &x) && (v = jstr(vm, x, "stop_reason")) != NIL_VAL) set_sb(&a->stop, v);
  }
  /* ping, message_stop and (Reference) error are ignored */
}

static void gemini_event(VM *vm, LlmStreamAcc *a, Value ev, LlmChunkFn fn, void *ud) {
  ListBuilder lb;
  list_start(&lb);
  int64_t n = (int64_t)a->ngemini;
  GeminiParts g = {&a->content, false, fn, ud, &lb, &n};
  size_t before = a->content.len;
  gemini_parts(vm, ev, &g);
  if (a->content.len > before) a->delivered = true;
  a->ngemini = (size_t)n;
  vm_push_root(vm, lb.head);
  for (Value l = lb.head; is_cons(l); l = cdr(l)) {
    Value *tc = vec_items(car(l));
    acc_whole_call(vm, a, str_data(tc[TC_ID]), tc[TC_NAME], tc[TC_ARGS]);
  }
  vm_pop_roots(vm, 1);
  Value um, reason;
  if (jget(vm, ev, "usageMetadata", &um)) {
    a->pt = jint(vm, um, "promptTokenCount");
    a->ct = jint(vm, um, "candidatesTokenCount");
    a->crt = jint(vm, um, "cachedContentTokenCount");
  }
  if ((reason = gemini_finish_reason(vm, ev)) != NIL_VAL) set_sb(&a->stop, reason);
}

static void ollama_event(VM *vm, LlmStreamAcc *a, Value ev, LlmChunkFn fn, void *ud) {
  Value msg = NIL_VAL, v, done;
  jget(vm, ev, "message", &msg);
  if ((v = jstr(vm, msg, "content")) != NIL_VAL && str_len(v)) deliver(vm, a, v, fn, ud); /* empty ones are not (Reference) */
  if (jget(vm, ev, "done", &done) && done == TRUE_VAL) {
    a->pt = jint(vm, ev, "prompt_eval_count");
    a->ct = jint(vm, ev, "eval_count");
    Value calls = ollama_calls(vm, msg);
    vm_push_root(vm, calls);
    for (Value l = calls; is_cons(l); l = cdr(l)) {
      Value *tc = vec_items(car(l));
      acc_whole_call(vm, a, str_data(tc[TC_ID]), tc[TC_NAME], tc[TC_ARGS]);
    }
    vm_pop_roots(vm, 1);
  }
}

/* One JSON payload of the stream (an SSE data line, an NDJSON line).  A
 * payload that is not JSON is ignored (§19.1). */
void llm_stream_payload(VM *vm, LlmStreamAcc *a, const char *p, size_t n, LlmChunkFn fn, void *ud) {
  Value ev;
  if (!parse_json(vm, p, n, &ev) || !is_map(ev)) return;
  vm_push_root(vm, ev);
  switch (a->kind) {
  case LK_ANTHROPIC: anthropic_event(vm, a, ev, fn, ud); break;
  case LK_GEMINI: gemini_event(vm, a, ev, fn, ud); break;
  case LK_OLLAMA: ollama_event(vm, a, ev, fn, ud); break;
  default: openai_event(vm, a, ev, fn, ud); break;
  }
  vm_pop_roots(vm, 1);
}

/* The response a finished stream stands for. */
Value llm_stream_result(VM *vm, LlmStreamAcc *a, Value model) {
  uint32_t base = vm_roots_mark(vm);
  Value resp = llm_resp_new(vm);
  vm_push_root(vm, resp);
  Value *f = RQ(resp);
  f[RS_CONTENT] = str_new(vm, a->content.data ? a->content.data : "", a->content.len);
  f[RS_MODEL] = a->model.len ? str_new(vm, a->model.data, a->model.len) : model;
  f[RS_UMODEL] = f[RS_MODEL];
  f[RS_PT] = num_int(vm, a->pt);
  f[RS_CT] = num_int(vm, a->ct);
  f[RS_CRT] = num_int(vm, a->crt);
  f[RS_CCT] = num_int(vm, a->cct);
  ListBuilder lb;
  list_start(&lb);
  uint32_t slot = vm_root_slot(vm, EMPTY_VAL);
  for (size_t i = 0; i < a->ncalls; i++) {
    LlmAccCall *c = &a->calls[i];
    if (!c->name.len) continue;
    Value args = args_from_text(vm, c->args.data ? c->args.data : "", c->args.len);
    vm_push_root(vm, args);
    Value id = str_new(vm, c->id.data ? c->id.data : "", c->id.len);
    vm_push_root(vm, id);
    Value name = str_new(vm, c->name.data, c->name.len);
    ROOT(vm, slot) = call_list_add(vm, &lb, id, name, args);
    vm_pop_roots(vm, 2);
  }
  f[RS_CALLS] = lb.head;
  if (a->stop.len)
    f[RS_STOP] = str_new(vm, a->stop.data, a->stop.len);
  else if (a->kind == LK_OLLAMA || a->kind == LK_GEMINI)
    f[RS_STOP] = str_from_c(vm, is_cons(lb.head) ? "tool_use" : "stop");
  if (a->kind == LK_GEMINI && is_cons(lb.head)) f[RS_STOP] = str_from_c(vm, "tool_use");
  vm_roots_reset(vm, base);
  return resp;
}

/* ---------------------------------------------------------------- embeddings, rerank (§19.6, §19.7) */

void llm_wire_embed_body(VM *vm, LlmEmbedKind kind, Value texts, Value model, StrBuf *b) {
  if (kind == LE_COHERE) {
    sb_adds(b, "{\"embedding_types\":[\"float\"],\"input_type\":\"search_document\",\"model\":");
    llm_json_sval(b, model);
    sb_adds(b, ",\"texts\":[");
  } else {
    sb_adds(b, "{\"input\":[");
  }
  for (Value l = texts; is_cons(l); l = cdr(l)) {
    llm_json_sval(b, car(l));
    if (is_cons(cdr(l))) sb_addc(b, ',');
  }
  sb_addc(b, ']');
  if (kind != LE_COHERE) {
    sb_adds(b, ",\"model\":");
    llm_json_sval(b, model);
  }
  sb_addc(b, '}');
}

static Value numbers_only(VM *vm, Value l) {
  ListBuilder lb;
  list_start(&lb);
  for (; is_cons(l); l = cdr(l))
    if (is_number(car(l))) list_add(vm, &lb, car(l));
  return lb.head;
}

/* The vectors (a list of lists of numbers); *model and *tokens updated. */
Value llm_wire_embed_decode(VM *vm, LlmEmbedKind kind, const char *body, size_t n, Value *model, int64_t *tokens) {
  Value root, data, e, u;
  if (!parse_json(vm, body, n, &root) || !is_map(root)) parse_fail(vm, "invalid JSON in embedding response", body, n);
  vm_push_root(vm, root);
  ListBuilder lb;
  list_start(&lb);
  uint32_t slot = vm_root_slot(vm, EMPTY_VAL);
  if (kind == LE_COHERE) {
    Value embs;
    if (!jget(vm, root, "embeddings", &embs) || !jlist(vm, embs, "float", &data))
      parse_fail(vm, "missing embeddings.float in Cohere response", NULL, 0);
    for (Value l = data; is_cons(l); l = cdr(l)) {
      list_add(vm, &lb, numbers_only(vm, car(l)));
      ROOT(vm, slot) = lb.head;
    }
  } else {
    if (!jlist(vm, root, "data", &data)) parse_fail(vm, "missing data in embedding response", NULL, 0);
    for (Value l = data; is_cons(l); l = cdr(l)) {
      if (!jget(vm, car(l), "embedding", &e) || !is_list(e)) continue;
      list_add(vm, &lb, numbers_only(vm, e));
      ROOT(vm, slot) = lb.head;
    }
    Value m = jstr(vm, root, "model");
    if (m != NIL_VAL) *model = m;
    if (jget(vm, root, "usage", &u)) {
      Value x;
      *tokens = jget(vm, u, "prompt_tokens", &x) ? jint(vm, u, "prompt_tokens") : jint(vm, u, "total_tokens");
    }
  }
  vm_pop_roots(vm, 2);
  return lb.head;
}

void llm_wire_rerank_body(VM *vm, LlmRerankKind kind, Value query, Value docs, Value model, int64_t top_k, StrBuf *b) {
  sb_adds(b, "{\"documents\":[");
  for (Value l = docs; is_cons(l); l = cdr(l)) {
    llm_json_sval(b, car(l));
    if (is_cons(cdr(l))) sb_addc(b, ',');
  }
  sb_adds(b, "],\"model\":");
  llm_json_sval(b, model);
  sb_adds(b, ",\"query\":");
  llm_json_sval(b, query);
  if (top_k >= 0) sb_addf(b, ",\"%s\":%lld", kind == LR_VOYAGE ? "top_k" : "top_n", (long long)top_k);
  sb_addc(b, '}');
}

Value llm_wire_rerank_decode(VM *vm, LlmRerankKind kind, const char *body, size_t n, Value docs) {
  Value root, results, x;
  const char *k = kind == LR_VOYAGE ? "data" : "results";
  if (!parse_json(vm, body, n, &root) || !is_map(root)) parse_fail(vm, "invalid JSON in rerank response", body, n);
  vm_push_root(vm, root);
  if (!jlist(vm, root, k, &results)) {
    char d[64];
    snprintf(d, sizeof d, "missing %s in rerank response", k);
    parse_fail(vm, d, NULL, 0);
  }
  ListBuilder lb;
  list_start(&lb);
  uint32_t slot = vm_root_slot(vm, EMPTY_VAL);
  int64_t ndocs = 0;
  for (Value l = docs; is_cons(l); l = cdr(l)) ndocs++;
  for (Value l = results; is_cons(l); l = cdr(l)) {
    Value r = car(l), idx, score;
    if (!jget(vm, r, "index", &idx) || !is_int(idx) || !jget(vm, r, "relevance_score", &score) || !is_number(score)) continue;
    int64_t i = int_of(idx);
    Value doc = str_new(vm, "", 0);
    if (i >= 0 && i < ndocs) {
      x = docs;
      for (int64_t j = 0; j < i; j++) x = cdr(x);
      doc = car(x);
    }
    Value m = map_assoc(vm, map_empty(vm), KW(vm, "document"), doc);
    m = map_assoc(vm, m, KW(vm, "index"), idx);
    m = map_assoc(vm, m, KW(vm, "score"), double_val(num_to_double(score)));
    list_add(vm, &lb, m);
    ROOT(vm, slot) = lb.head;
  }
  vm_pop_roots(vm, 2);
  return lb.head;
}
