/* llm_calls.c - the completion functions (llm.md §9), conversation/say and
 * conversation/say-as (§5), embeddings and reranking (§16).  Each builds one
 * canonical request, sends it through the pipeline (llm_pipeline.c) and
 * tracks the usage of the response before shaping its result.
 *
 * The exact prompt strings below are part of the cassette key (§13): a tape
 * recorded by the reference replays only if they match byte for byte. */
#include <errno.h>
#include <stdlib.h>
#include "llm.h"

Value llm_chat_tools(VM *vm, Value req, Value tools, Value opts);
int llm_protect_complete(VM *vm, Value req, Value *resp);
Value llm_tools_arg(VM *vm, Value seq);

/* ---------------------------------------------------------------- request options */

enum { O_MODEL = 1, O_MAX = 2, O_TEMP = 4, O_SYSTEM = 8, O_EFFORT = 16, O_TIMEOUT = 32 };

static void apply_opts(VM *vm, Value req, Value opts, int which) {
  Value *f = RQ(req);
  Value v;
  int64_t i;
  double d;
  f[RQ_MAX] = small_int_val(4096);
  if ((which & O_MODEL) && (v = llm_opt_str(vm, opts, "model")) != NIL_VAL) f[RQ_MODEL] = v;
  if ((which & O_MAX) && llm_opt_int(vm, opts, "max-tokens", &i)) f[RQ_MAX] = num_int(vm, (int64_t)(uint32_t)i);
  if ((which & O_TEMP) && llm_opt_num(vm, opts, "temperature", &d)) f[RQ_TEMP] = double_val(d);
  if ((which & O_SYSTEM) && (v = llm_opt_str(vm, opts, "system")) != NIL_VAL) f[RQ_SYSTEM] = v;
  if ((which & O_EFFORT)) f[RQ_EFFORT] = llm_opt_name(vm, opts, "reasoning-effort");
  if ((which & O_TIMEOUT) && llm_opt_int(vm, opts, "timeout", &i)) f[RQ_TIMEOUT] = num_int(vm, (int64_t)(uint32_t)i);
}

static Value one_user(VM *vm, Value text) { return list_1(vm, llm_cmsg(vm, LLM_USER, text, EMPTY_VAL)); }

/* A prompt's or message list's messages as history (images kept or dropped). */
static Value history_of(VM *vm, Value msgs, bool images) {
  ListBuilder lb;
  list_start(&lb);
  SeqIter it;
  seqiter_init(&it, msgs);
  Value m;
  while (seqiter_next(&it, &m)) {
    if (!obj_is_foreign(m, &llm_message_class)) err_type(vm, "message", m);
    Value *f = llm_fields(m);
    list_add(vm, &lb, llm_cmsg(vm, (int)small_int_of(f[MSG_ROLE]), f[MSG_CONTENT], images ? f[MSG_IMAGES] : EMPTY_VAL));
  }
  return lb.head;
}

/* Send, track, return the response (rooted by the caller's argv or a root). */
static Value send_tracked(VM *vm, Value req) {
  vm_push_root(vm, req);
  Value resp = llm_complete(vm, req);
  vm_push_root(vm, resp);
  llm_track_usage(vm, resp);
  vm_pop_roots(vm, 2);
  return resp;
}

static Value content_of(Value resp) { return RQ(resp)[RS_CONTENT]; }

/* ---------------------------------------------------------------- complete, send, chat */

static Value send_prompt(VM *vm, Value p, Value opts) {
  Value req = llm_req_new(vm);
  apply_opts(vm, req, opts, O_MODEL | O_MAX | O_TEMP | O_TIMEOUT);
  RQ(req)[RQ_MSGS] = history_of(vm, llm_fields(p)[PR_MSGS], false);
  return content_of(send_tracked(vm, req));
}

static Value n_complete(VM *vm, int argc, Value *argv) {
  Value p = argv[0], opts = argc > 1 ? argv[1] : NIL_VAL;
  if (obj_is_foreign(p, &llm_prompt_class)) return send_prompt(vm, p, opts);
  if (!is_string(p)) err_type(vm, "string or prompt", p);
  Value req = llm_req_new(vm);
  apply_opts(vm, req, opts, O_MODEL | O_MAX | O_TEMP | O_SYSTEM | O_EFFORT | O_TIMEOUT);
  RQ(req)[RQ_MSGS] = one_user(vm, p);
  return content_of(send_tracked(vm, req));
}

static Value n_send(VM *vm, int argc, Value *argv) {
  if (!obj_is_foreign(argv[0], &llm_prompt_class)) err_type(vm, "prompt", argv[0]);
  return send_prompt(vm, argv[0], argc > 1 ? argv[1] : NIL_VAL);
}

static Value n_chat(VM *vm, int argc, Value *argv) {
  Value msgs = argv[0], opts = argc > 1 ? argv[1] : NIL_VAL;
  if (obj_is_foreign(msgs, &llm_prompt_class))
    msgs = llm_fields(msgs)[PR_MSGS];
  else if (!is_list(msgs) && !is_vector(msgs))
    err_type(vm, "list of messages or prompt", msgs);
  Value req = llm_req_new(vm);
  vm_push_root(vm, req);
  apply_opts(vm, req, opts, O_MODEL | O_MAX | O_TEMP | O_SYSTEM | O_EFFORT | O_TIMEOUT);
  RQ(req)[RQ_MSGS] = history_of(vm, msgs, true);
  Value tv, mode;
  Value tools = llm_opt(vm, opts, "tools", &tv) ? llm_tools_arg(vm, tv) : EMPTY_VAL;
  bool none = llm_opt(vm, opts, "tool-mode", &mode) && is_kw(mode) && strcmp(sym_cstr(vm, mode), "none") == 0;
  Value out;
  if (tools == EMPTY_VAL || none) {
    out = content_of(send_tracked(vm, req));
  } else {
    RQ(req)[RQ_TIMEOUT] = NIL_VAL; /* not applied in the tool loop (§9) */
    out = llm_chat_tools(vm, req, tools, opts);
  }
  vm_pop_roots(vm, 1);
  return out;
}

/* ---------------------------------------------------------------- stream */

typedef struct {
  Value fn; /* NIL_VAL: stdout */
} StreamSink;

static void stream_sink(VM *vm, void *ud, Value chunk) {
  StreamSink *s = ud;
  if (s->fn == NIL_VAL) {
    vm_write(vm, str_data(chunk), str_len(chunk));
    vm_flush(vm);
    return;
  }
  Value ignored;
  if (vm_pcall(vm, s->fn, 1, &chunk, &ignored)) {
    Value d = err_display(vm, vm_error(vm));
    llm_err(vm, "Config error: %s", str_data(d));
  }
}

static Value n_stream(VM *vm, int argc, Value *argv) {
  Value input = argv[0], cb = NIL_VAL, opts = NIL_VAL;
  for (int i = 1; i < argc; i++) {
    if (llm_is_callable(argv[i]))
      cb = argv[i];
    else if (is_map(argv[i]))
      opts = argv[i];
  }
  Value msgs;
  if (is_string(input))
    msgs = one_user(vm, input);
  else if (obj_is_foreign(input, &llm_prompt_class))
    msgs = history_of(vm, llm_fields(input)[PR_MSGS], false);
  else if (is_list(input) || is_vector(input))
    msgs = history_of(vm, input, true);
  else
    err_type(vm, "string, prompt, or messages", input);
  Value req = llm_req_new(vm);
  vm_push_root(vm, req);
  apply_opts(vm, req, opts, O_MODEL | O_MAX | O_TEMP | O_SYSTEM);
  RQ(req)[RQ_MSGS] = msgs;
  StreamSink sink = {cb};
  Value resp = llm_stream(vm, req, stream_sink, &sink);
  vm_push_root(vm, resp);
  if (cb == NIL_VAL) vm_write(vm, "\n", 1);
  llm_track_usage(vm, resp);
  vm_pop_roots(vm, 2);
  return content_of(resp);
}

/* ---------------------------------------------------------------- batch, pmap */


static Value run_batch(VM *vm, Value texts, Value opts) {
  LlmState *st = llm_state(vm);
  LlmProvider *p = llm_default_provider(st);
  if (!p) llm_err(vm, "no LLM provider configured. Use (llm/configure :anthropic {:api-key ...}) first");
  uint32_t base = vm_roots_mark(vm);
  ListBuilder lb;
  list_start(&lb);
  uint32_t s_reqs = vm_root_slot(vm, EMPTY_VAL);
  Value dflt = str_from_c(vm, p->default_model);
  vm_push_root(vm, dflt);
  for (Value l = texts; is_cons(l); l = cdr(l)) {
    Value req = llm_req_new(vm);
    apply_opts(vm, req, opts, O_MODEL | O_MAX | O_TEMP | O_SYSTEM);
    if (!str_len(RQ(req)[RQ_MODEL])) RQ(req)[RQ_MODEL] = dflt;
    RQ(req)[RQ_MSGS] = one_user(vm, car(l));
    list_add(vm, &lb, req);
    ROOT(vm, s_reqs) = lb.head;
  }
  /* each result: a response, or an error map (the first raises after all are in) */
  Value results;
  if (p->kind == LK_LISP || p->kind == LK_EMBED) { /* the default batch: each request in turn */
    ListBuilder rb;
    list_start(&rb);
    uint32_t s_res = vm_root_slot(vm, EMPTY_VAL);
    for (Value l = lb.head; is_cons(l); l = cdr(l)) {
      Value resp;
      list_add(vm, &rb, llm_protect_complete(vm, car(l), &resp) ? vm_error(vm) : resp);
      ROOT(vm, s_res) = rb.head;
    }
    results = rb.head;
  } else {
    results = llm_http_batch(vm, p, lb.head);
  }
  vm_push_root(vm, results);
  for (Value l = results; is_cons(l); l = cdr(l))
    if (!is_objtype(car(l), OBJ_VECTOR)) err_throw(vm, car(l));
  ListBuilder out;
  list_start(&out);
  for (Value l = results; is_cons(l); l = cdr(l)) {
    llm_track_usage(vm, car(l));
    list_add(vm, &out, content_of(car(l)));
  }
  vm_roots_reset(vm, base);
  return out.head;
}

static Value texts_of(VM *vm, Value seq) {
  ListBuilder lb;
  list_start(&lb);
  SeqIter it;
  seqiter_init(&it, seq);
  Value x;
  while (seqiter_next(&it, &x)) list_add(vm, &lb, llm_text(vm, x));
  return lb.head;
}

static Value n_batch(VM *vm, int argc, Value *argv) {
  if (!is_list(argv[0]) && !is_vector(argv[0])) err_type(vm, "list or vector", argv[0]);
  return run_batch(vm, texts_of(vm, argv[0]), argc > 1 ? argv[1] : NIL_VAL);
}

static Value n_pmap(VM *vm, int argc, Value *argv) {
  Value f = argv[0], seq = argv[1];
  if (!is_list(seq) && !is_vector(seq)) err_type(vm, "list or vector", seq);
  ListBuilder lb;
  list_start(&lb);
  uint32_t slot = vm_root_slot(vm, EMPTY_VAL);
  SeqIter it;
  seqiter_init(&it, seq);
  Value x;
  while (seqiter_next(&it, &x)) {
    Value r = vm_call1(vm, f, x);
    list_add(vm, &lb, llm_text(vm, r));
    ROOT(vm, slot) = lb.head;
  }
  Value out = run_batch(vm, lb.head, argc > 2 ? argv[2] : NIL_VAL);
  vm_pop_roots(vm, 1);
  return out;
}

/* ---------------------------------------------------------------- extraction */

static Value schema_description(VM *vm, Value schema) {
  if (!is_anymap(schema)) return print_to_string(vm, schema, true);
  StrBuf b;
  sb_init(&b);
  sb_adds(&b, "{\n");
  size_t n;
  Value *ents = map_sorted_entries(NULL, schema, &n);
  for (size_t i = 0; i < n; i++) {
    Value k = ents[2 * i], spec = ents[2 * i + 1], t;
    if (i) sb_adds(&b, ",\n");
    sb_adds(&b, "  \"");
    if (is_kw(k) || is_sym(k))
      sb_adds(&b, sym_cstr(vm, k));
    else
      llm_add_text(vm, &b, k);
    sb_adds(&b, "\": <");
    if (is_anymap(spec) && anymap_get(spec, KW(vm, "type"), &t) && (is_kw(t) || is_string(t)))
      sb_adds(&b, is_kw(t) ? sym_cstr(vm, t) : str_data(t));
    else
      sb_adds(&b, "any");
    sb_addc(&b, '>');
  }
  free(ents);
  sb_adds(&b, "\n}");
  return sb_to_string(vm, &b);
}

static const char *trim(const char *s, size_t n, size_t *out_n) {
  while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
  *out_n = n;
  return s;
}

/* Trim, strip one code fence, parse as JSON.  *ok false: *val is the error detail. */
static bool parse_model_json(VM *vm, Value content, Value *val) {
  size_t n;
  const char *s = trim(str_data(content), str_len(content), &n);
  if (n >= 3 && strncmp(s, "```", 3) == 0) {
    size_t skip = n >= 7 && strncmp(s, "```json", 7) == 0 ? 7 : 3;
    s += skip, n -= skip;
    if (n >= 3 && strncmp(s + n - 3, "```", 3) == 0) n -= 3;
    s = trim(s, n, &n);
  }
  return llm_json_try_decode(vm, s, n, val, val);
}

static Value trimmed(VM *vm, Value content) {
  size_t n;
  const char *s = trim(str_data(content), str_len(content), &n);
  return str_new(vm, s, n);
}

static Value extract_request(VM *vm, Value model, Value system, Value text) {
  Value req = llm_req_new(vm);
  Value *f = RQ(req);
  if (model != NIL_VAL) f[RQ_MODEL] = model;
  f[RQ_MAX] = small_int_val(4096);
  f[RQ_SYSTEM] = system;
  f[RQ_JSON] = TRUE_VAL;
  f[RQ_MSGS] = one_user(vm, text);
  return req;
}

static Value n_extract(VM *vm, int argc, Value *argv) {
  Value schema = argv[0], text = arg_string(vm, argv[1]), opts = argc > 2 ? argv[2] : NIL_VAL;
  Value model = llm_opt_str(vm, opts, "model");
  bool validate = llm_opt_truthy(vm, opts, "validate", true), reask = llm_opt_truthy(vm, opts, "reask?", true);
  int64_t retries = 2;
  llm_opt_int(vm, opts, "retries", &retries);
  if (retries < 0) retries = 0;
  uint32_t base = vm_roots_mark(vm);
  Value desc = schema_description(vm, schema);
  vm_push_root(vm, desc);
  StrBuf sb;
  sb_init(&sb);
  sb_adds(&sb, "Extract structured data from the text. Respond with ONLY a JSON object matching this schema:\n");
  sb_add(&sb, str_data(desc), str_len(desc));
  sb_adds(&sb, "\nDo not include any other text.");
  Value system = sb_to_string(vm, &sb);
  vm_push_root(vm, system);
  Value req = extract_request(vm, model, system, text);
  uint32_t s_errs = vm_root_slot(vm, NIL_VAL);
  for (int64_t attempt = 0; attempt <= retries; attempt++) {
    Value resp = send_tracked(vm, req);
    vm_push_root(vm, resp);
    Value content = content_of(resp), val;
    if (!parse_model_json(vm, content, &val))
      llm_err(vm, "failed to parse LLM JSON response: %s\nResponse was: %s", str_data(val), str_data(content));
    if (!validate) {
      vm_roots_reset(vm, base);
      return val;
    }
    vm_push_root(vm, val);
    Value errs = llm_validate(vm, schema, val);
    if (errs == NIL_VAL) {
      vm_roots_reset(vm, base);
      return val;
    }
    ROOT(vm, s_errs) = errs;
    if (attempt < retries) {
      StrBuf r;
      sb_init(&r);
      if (reask) {
        Value prev = trimmed(vm, content);
        sb_adds(&r, "Your previous response did not match the required schema.\n\nPrevious response:\n```json\n");
        sb_add(&r, str_data(prev), str_len(prev));
        sb_adds(&r, "\n```\n\nValidation errors:\n");
        sb_add(&r, str_data(errs), str_len(errs));
        sb_adds(&r, "\n\nPlease respond with ONLY a corrected JSON object matching this schema:\n");
        sb_add(&r, str_data(desc), str_len(desc));
        sb_adds(&r, "\nDo not include any other text.");
      } else {
        sb_add(&r, str_data(system), str_len(system));
        sb_adds(&r, "\n\nYour previous response had validation errors: ");
        sb_add(&r, str_data(errs), str_len(errs));
        sb_adds(&r, ". Please fix.");
      }
      Value sys2 = sb_to_string(vm, &r);
      vm_push_root(vm, sys2);
      req = extract_request(vm, model, sys2, text);
      vm_push_root(vm, req);
    }
  }
  llm_err(vm, "extraction validation failed after %lld attempt(s): %s", (long long)(retries + 1), str_data(ROOT(vm, s_errs)));
}

static Value n_extract_from_image(VM *vm, int argc, Value *argv) {
  Value schema = argv[0], src = argv[1], opts = argc > 2 ? argv[2] : NIL_VAL;
  Value bytes;
  if (is_string(src)) {
    FILE *f = fopen(str_data(src), "rb");
    if (!f) err_io(vm, "llm/extract-from-image: %s: %s", str_data(src), strerror(errno));
    StrBuf b;
    sb_init(&b);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_add(&b, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
      sb_free(&b);
      err_io(vm, "llm/extract-from-image: %s: read error", str_data(src));
    }
    bytes = obj_bytevec(vm, (const uint8_t *)b.data, b.len);
    sb_free(&b);
  } else if (is_objtype(src, OBJ_BYTEVEC)) {
    bytes = src;
  } else {
    err_type(vm, "string path or bytevector", src);
  }
  Bytevec *bv = (Bytevec *)as_obj(bytes);
  Value desc = schema_description(vm, schema);
  StrBuf sb;
  sb_init(&sb);
  sb_adds(&sb, "Extract structured data from the image. Respond with ONLY a JSON object matching this schema:\n");
  sb_add(&sb, str_data(desc), str_len(desc));
  sb_adds(&sb, "\nDo not include any other text.");
  Value img = list_cons(vm, str_from_c(vm, llm_media_type(bv->data, bv->len)), llm_base64_value(vm, bytes));
  Value req = extract_request(vm, llm_opt_str(vm, opts, "model"), sb_to_string(vm, &sb),
                              str_from_c(vm, "Extract the requested data from this image. Respond in JSON."));
  vec_items(car(RQ(req)[RQ_MSGS]))[CM_IMAGES] = list_1(vm, img);
  Value resp = send_tracked(vm, req);
  Value val;
  if (!parse_model_json(vm, content_of(resp), &val))
    llm_err(vm, "failed to parse LLM JSON response: %s\nResponse was: %s", str_data(val), str_data(content_of(resp)));
  return val;
}

static Value n_classify(VM *vm, int argc, Value *argv) {
  Value cats = argv[0], text = argv[1], opts = argc > 2 ? argv[2] : NIL_VAL;
  if (!is_list(cats) && !is_vector(cats)) err_type(vm, "list or vector", cats);
  arg_string(vm, text);
  StrBuf sb;
  sb_init(&sb);
  sb_adds(&sb, "Classify the following text into exactly one of these categories: ");
  SeqIter it;
  seqiter_init(&it, cats);
  Value c;
  bool first = true;
  while (seqiter_next(&it, &c)) {
    if (!first) sb_adds(&sb, ", ");
    first = false;
    if (is_kw(c))
      sb_adds(&sb, sym_cstr(vm, c));
    else
      llm_add_text(vm, &sb, c);
  }
  sb_adds(&sb, "\nRespond with ONLY the category name, nothing else.");
  Value req = llm_req_new(vm);
  apply_opts(vm, req, opts, O_MODEL);
  RQ(req)[RQ_SYSTEM] = sb_to_string(vm, &sb);
  RQ(req)[RQ_MSGS] = one_user(vm, text);
  Value answer = trimmed(vm, content_of(send_tracked(vm, req)));
  seqiter_init(&it, cats);
  while (seqiter_next(&it, &c))
    if (is_kw(c) && strcmp(sym_cstr(vm, c), str_data(answer)) == 0) return c;
  return answer;
}

static Value n_summarize(VM *vm, int argc, Value *argv) {
  Value text = arg_string(vm, argv[0]), opts = argc > 1 ? argv[1] : NIL_VAL;
  Value style = llm_opt_str(vm, opts, "style");
  const char *s = style == NIL_VAL ? "" : str_data(style);
  StrBuf sb;
  sb_init(&sb);
  sb_adds(&sb, "Summarize the following text. ");
  if (strcmp(s, "bullet-points") == 0 || strcmp(s, "bullets") == 0)
    sb_adds(&sb, "Use bullet points.");
  else if (strcmp(s, "one-line") == 0)
    sb_adds(&sb, "Respond with a single sentence summary.");
  else
    sb_adds(&sb, "Write a concise paragraph summary.");
  int64_t words;
  if (llm_opt_int(vm, opts, "max-length", &words)) sb_addf(&sb, " Keep the summary under %lld words.", (long long)words);
  Value req = llm_req_new(vm);
  apply_opts(vm, req, opts, O_MODEL);
  RQ(req)[RQ_SYSTEM] = sb_to_string(vm, &sb);
  RQ(req)[RQ_MSGS] = one_user(vm, text);
  return content_of(send_tracked(vm, req));
}

static Value n_compare(VM *vm, int argc, Value *argv) {
  Value a = arg_string(vm, argv[0]), b = arg_string(vm, argv[1]), opts = argc > 2 ? argv[2] : NIL_VAL;
  StrBuf sb;
  sb_init(&sb);
  sb_adds(&sb, "Text A:\n");
  sb_add(&sb, str_data(a), str_len(a));
  sb_adds(&sb, "\n\nText B:\n");
  sb_add(&sb, str_data(b), str_len(b));
  Value req = llm_req_new(vm);
  apply_opts(vm, req, opts, O_MODEL);
  RQ(req)[RQ_SYSTEM] = str_from_c(vm,
                                  "Compare the following two texts. Respond with ONLY a JSON object containing:\n- \"similarity\": a "
                                  "number from 0.0 (completely different) to 1.0 (identical)\n- \"differences\": a list of key "
                                  "differences\n- \"summary\": a brief comparison summary\nDo not include any other text.");
  RQ(req)[RQ_MSGS] = one_user(vm, sb_to_string(vm, &sb));
  Value content = content_of(send_tracked(vm, req)), val;
  if (!parse_model_json(vm, content, &val))
    llm_err(vm, "failed to parse comparison JSON: %s\nResponse: %s", str_data(val), str_data(content));
  return val;
}

/* ---------------------------------------------------------------- conversation/say (§5) */

static Value fmt_double(VM *vm, double d) {
  StrBuf b;
  sb_init(&b);
  print_double(&b, d, false);
  return sb_to_string(vm, &b);
}

static Value meta_add_int(VM *vm, Value meta, const char *key, int64_t add) {
  Value k = str_from_c(vm, key), v;
  int64_t cur = map_get(meta, k, &v) && is_string(v) ? strtoll(str_data(v), NULL, 10) : 0;
  StrBuf b;
  sb_init(&b);
  sb_addf(&b, "%lld", (long long)(cur + add));
  return map_assoc(vm, meta, k, sb_to_string(vm, &b));
}

static Value say(VM *vm, Value conv, Value system, Value text, Value opts, bool drop_system) {
  Value *c = llm_fields(conv);
  uint32_t base = vm_roots_mark(vm);
  Value req = llm_req_new(vm);
  vm_push_root(vm, req);
  RQ(req)[RQ_MODEL] = c[CV_MODEL];
  apply_opts(vm, req, opts, O_MAX | O_TEMP | (drop_system ? 0 : O_SYSTEM));
  if (drop_system) RQ(req)[RQ_SYSTEM] = system;
  Value user = llm_text(vm, text);
  ListBuilder lb;
  list_start(&lb);
  for (Value l = c[CV_MSGS]; is_cons(l); l = cdr(l)) {
    Value *m = llm_fields(car(l));
    if (drop_system && small_int_of(m[MSG_ROLE]) == LLM_SYSTEM) continue;
    list_add(vm, &lb, llm_cmsg(vm, (int)small_int_of(m[MSG_ROLE]), m[MSG_CONTENT], EMPTY_VAL));
  }
  list_add(vm, &lb, llm_cmsg(vm, LLM_USER, user, EMPTY_VAL));
  RQ(req)[RQ_MSGS] = lb.head;
  Value resp = send_tracked(vm, req);
  vm_push_root(vm, resp);
  Value *r = RQ(resp);
  Value meta = c[CV_META];
  meta = meta_add_int(vm, meta, "usage-prompt-tokens", int_of(r[RS_PT]));
  meta = meta_add_int(vm, meta, "usage-completion-tokens", int_of(r[RS_CT]));
  double in, out;
  if (llm_price(llm_state(vm), str_data(r[RS_MODEL]), NULL, &in, &out)) {
    double cost = ((double)int_of(r[RS_PT]) * in + (double)int_of(r[RS_CT]) * out) / 1000000.0, prev = 0;
    Value k = str_from_c(vm, "usage-cost"), v;
    if (map_get(meta, k, &v) && is_string(v)) prev = strtod(str_data(v), NULL);
    meta = map_assoc(vm, meta, k, fmt_double(vm, prev + cost));
  }
  ListBuilder hist;
  list_start(&hist);
  for (Value l = c[CV_MSGS]; is_cons(l); l = cdr(l)) list_add(vm, &hist, car(l));
  list_add(vm, &hist, llm_message_new(vm, LLM_USER, user, EMPTY_VAL));
  list_add(vm, &hist, llm_message_new(vm, LLM_ASSISTANT, r[RS_CONTENT], EMPTY_VAL));
  Value nc = llm_conv_new(vm, hist.head, c[CV_MODEL], meta);
  vm_roots_reset(vm, base);
  return nc;
}

static Value n_conv_say(VM *vm, int argc, Value *argv) {
  if (!obj_is_foreign(argv[0], &llm_conv_class)) err_type(vm, "conversation", argv[0]);
  return say(vm, argv[0], NIL_VAL, argv[1], argc > 2 ? argv[2] : NIL_VAL, false);
}

static Value n_conv_say_as(VM *vm, int argc, Value *argv) {
  if (!obj_is_foreign(argv[0], &llm_conv_class)) err_type(vm, "conversation", argv[0]);
  Value sys = argv[1];
  if (obj_is_foreign(sys, &llm_prompt_class)) {
    StrBuf b;
    sb_init(&b);
    bool first = true;
    for (Value l = llm_fields(sys)[PR_MSGS]; is_cons(l); l = cdr(l)) {
      Value *m = llm_fields(car(l));
      if (small_int_of(m[MSG_ROLE]) != LLM_SYSTEM) continue;
      if (!first) sb_addc(&b, '\n');
      first = false;
      sb_add(&b, str_data(m[MSG_CONTENT]), str_len(m[MSG_CONTENT]));
    }
    sys = sb_to_string(vm, &b);
  } else if (!is_string(sys)) {
    err_type(vm, "prompt or string", sys);
  }
  return say(vm, argv[0], sys, argv[2], argc > 3 ? argv[3] : NIL_VAL, true);
}

/* ---------------------------------------------------------------- embeddings, rerank (§16) */


static Value n_embed(VM *vm, int argc, Value *argv) {
  Value x = argv[0], opts = argc > 1 ? argv[1] : NIL_VAL;
  bool single = is_string(x);
  Value texts;
  if (single)
    texts = list_1(vm, x);
  else if (is_list(x) || is_vector(x))
    texts = texts_of(vm, x);
  else
    err_type(vm, "string or list", x);
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, texts);
  Value model = llm_opt_str(vm, opts, "model");
  LlmState *st = llm_state(vm);
  /* the cassette key: "embed", the model when given, then each text and a NUL */
  StrBuf kb;
  sb_init(&kb);
  sb_adds(&kb, "embed");
  if (model != NIL_VAL) sb_add(&kb, str_data(model), str_len(model));
  for (Value l = texts; is_cons(l); l = cdr(l)) {
    sb_add(&kb, str_data(car(l)), str_len(car(l)));
    sb_addc(&kb, 0);
  }
  char key[65];
  llm_sha256_hex(vm, (const uint8_t *)kb.data, kb.len, key);
  sb_free(&kb);
  Value vectors = NIL_VAL, rmodel = model != NIL_VAL ? model : str_new(vm, "", 0);
  int64_t tokens = 0;
  Value entry;
  bool replayed = false;
  if (st->cassette && llm_cassette_lookup(vm, key, &entry)) {
    Value e;
    vectors = map_get(entry, KW(vm, "embeddings"), &e) ? e : EMPTY_VAL;
    if (map_get(entry, KW(vm, "model"), &e) && is_string(e)) rmodel = e;
    if (map_get(entry, KW(vm, "prompt_tokens"), &e) && is_int(e)) tokens = int_of(e);
    replayed = true;
  } else if (st->cassette && st->cassette->mode == CASS_REPLAY) {
    llm_cassette_miss(vm, key);
  } else {
    LlmProvider *p = llm_embedding_provider(st);
    if (!p) llm_err(vm, "no embedding provider configured. Use (llm/configure-embeddings ...) first");
    if (p->embed == LE_NONE) llm_err(vm, "Config error: %s does not support embeddings", p->name);
    vectors = llm_http_embed(vm, p, texts, model, &rmodel, &tokens);
  }
  vm_push_root(vm, vectors);
  vm_push_root(vm, rmodel);
  /* vectors: a list of lists of numbers */
  ListBuilder lb;
  list_start(&lb);
  for (Value l = vectors; is_cons(l); l = cdr(l)) {
    Value v = car(l);
    size_t n = 0;
    for (Value k = v; is_cons(k); k = cdr(k)) n += is_number(car(k));
    double *xs = malloc((n ? n : 1) * sizeof *xs);
    size_t i = 0;
    for (Value k = v; is_cons(k); k = cdr(k))
      if (is_number(car(k))) xs[i++] = num_to_double(car(k));
    list_add(vm, &lb, llm_emb_new(vm, xs, n));
    free(xs);
  }
  vm_push_root(vm, lb.head);
  if (!replayed && llm_state(vm)->cassette) {
    Value r = llm_resp_new(vm);
    RQ(r)[RS_MODEL] = rmodel;
    RQ(r)[RS_PT] = num_int(vm, tokens);
    llm_cassette_record(vm, "embed", key, r, EMPTY_VAL, vectors);
  }
  Value resp = llm_resp_new(vm);
  RQ(resp)[RS_UMODEL] = rmodel;
  RQ(resp)[RS_PT] = num_int(vm, tokens);
  vm_push_root(vm, resp);
  llm_track_usage(vm, resp);
  Value out = single ? (is_cons(lb.head) ? car(lb.head) : obj_bytevec(vm, NULL, 0)) : lb.head;
  vm_roots_reset(vm, base);
  return out;
}

static Value n_rerank(VM *vm, int argc, Value *argv) {
  Value q = argv[0], docs = argv[1], opts = argc > 2 ? argv[2] : NIL_VAL;
  if (!is_string(q)) err_type(vm, "string query", q);
  if (!is_list(docs) && !is_vector(docs)) err_type(vm, "list of strings", docs);
  SeqIter it;
  seqiter_init(&it, docs);
  Value d;
  size_t n = 0;
  while (seqiter_next(&it, &d)) {
    if (!is_string(d)) err_type(vm, "string document", d);
    n++;
  }
  if (n == 0) return EMPTY_VAL;
  LlmState *st = llm_state(vm);
  LlmProvider *p;
  Value pn = llm_opt_name(vm, opts, "provider");
  if (pn != NIL_VAL) {
    p = llm_provider_find(st, str_data(pn));
    if (!p) llm_err(vm, "rerank provider '%s' not found", str_data(pn));
  } else {
    p = llm_rerank_provider(st);
    if (!p)
      llm_err(vm, "no rerank provider configured \xe2\x80\x94 set COHERE_API_KEY, JINA_API_KEY, or VOYAGE_API_KEY (or pass {:provider ...})");
  }
  if (p->rerank == LR_NONE) llm_err(vm, "Config error: %s does not support reranking", p->name);
  int64_t k = -1;
  llm_opt_int(vm, opts, "top-k", &k);
  return llm_http_rerank(vm, p, q, is_vector(docs) ? list_from(vm, vec_items(docs), vec_len(docs)) : docs, llm_opt_str(vm, opts, "model"), k);
}

static const NativeDef defs[] = {
    {"llm/complete", n_complete, 1, 2,
     "(llm/complete prompt [opts])\nOne completion of a string (or a prompt, as llm/send): :model :max-tokens :temperature :system "
     ":reasoning-effort :timeout.  Returns the text."},
    {"llm/send", n_send, 1, 2, "(llm/send prompt [opts])\nSends a prompt's messages: :model :max-tokens :temperature :timeout."},
    {"llm/chat", n_chat, 1, 2,
     "(llm/chat messages [opts])\nA chat completion of a list of messages or a prompt; with :tools runs the tool loop "
     "(:tool-mode :max-tool-rounds :on-tool-call)."},
    {"llm/stream", n_stream, 1, 3,
     "(llm/stream input [callback] [opts])\nStreams a completion, calling (callback chunk) for each piece (default: print it); "
     "returns the text."},
    {"llm/batch", n_batch, 1, 2, "(llm/batch prompts [opts])\nOne completion per prompt, sent together; the texts in order."},
    {"llm/pmap", n_pmap, 2, 3, "(llm/pmap f seq [opts])\nllm/batch of (f item) for each item."},
    {"llm/extract", n_extract, 2, 3,
     "(llm/extract schema text [opts])\nStructured data from text as a map, validated against schema (:validate :retries :reask? "
     ":model)."},
    {"llm/extract-from-image", n_extract_from_image, 2, 3,
     "(llm/extract-from-image schema path-or-bytes [opts])\nStructured data from an image."},
    {"llm/classify", n_classify, 2, 3,
     "(llm/classify categories text [opts])\nThe category of text: a keyword when it names a keyword category, else a string."},
    {"llm/summarize", n_summarize, 1, 2, "(llm/summarize text [opts])\nA summary (:style \"bullets\"|\"one-line\", :max-length words)."},
    {"llm/compare", n_compare, 2, 3, "(llm/compare a b [opts])\nA comparison of two texts: {:similarity :differences :summary}."},
    {"conversation/say", n_conv_say, 2, 3,
     "(conversation/say c text [opts])\nSends the history and text; the conversation with both messages appended."},
    {"conversation/say-as", n_conv_say_as, 3, 4,
     "(conversation/say-as c system text [opts])\nLike conversation/say with system as this turn's system prompt."},
    {"llm/embed", n_embed, 1, 2, "(llm/embed text-or-seq [opts])\nEmbeddings (bytevectors) of a text or a list of texts."},
    {"llm/rerank", n_rerank, 2, 3,
     "(llm/rerank query docs [opts])\nThe documents most relevant to query first: ({:document :index :score} ...)."},
    {NULL, NULL, 0, 0, NULL},
};

void llm_calls_init(VM *vm) { env_register(vm, defs); }
