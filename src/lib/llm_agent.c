/* llm_agent.c - tools and the agent loop (llm.md §10): parameter maps to
 * JSON Schema, argument validation (shared with llm/extract, §9), tool
 * execution, the loop shared by llm/chat with tools and agent/run, and the
 * message maps histories cross the language boundary as (§10.5). */
#include <stdlib.h>
#include "json.h"
#include "llm.h"

static Value kwmap(VM *vm, Value m, const char *k, Value v) { return map_assoc(vm, m, KW(vm, k), v); }

static Value key_name(VM *vm, Value k) {
  if (is_kw(k) || is_sym(k)) return str_from_c(vm, sym_cstr(vm, k));
  if (is_string(k)) return k;
  return print_to_string(vm, k, true);
}

static Value name_of(VM *vm, Value v) { /* a keyword's name, a string, else the printed form */
  if (is_kw(v)) return str_from_c(vm, sym_cstr(vm, v));
  return llm_text(vm, v);
}

/* ---------------------------------------------------------------- JSON Schema (§10.1) */

Value llm_tool_schema(VM *vm, Value params) {
  Value props = map_empty(vm);
  Value schema = kwmap(vm, map_empty(vm), "type", str_from_c(vm, "object"));
  if (!is_anymap(params)) return kwmap(vm, schema, "properties", props);
  ListBuilder req;
  list_start(&req);
  size_t n;
  Value *ents = map_sorted_entries(NULL, params, &n);
  for (size_t i = 0; i < n; i++) {
    Value name = key_name(vm, ents[2 * i]), spec = ents[2 * i + 1], prop = map_empty(vm), v;
    bool optional = false;
    if (is_anymap(spec)) {
      if (anymap_get(spec, KW(vm, "type"), &v))
        prop = kwmap(vm, prop, "type", is_kw(v) ? str_from_c(vm, sym_cstr(vm, v)) : is_string(v) ? v : str_from_c(vm, "string"));
      if (anymap_get(spec, KW(vm, "description"), &v)) prop = kwmap(vm, prop, "description", llm_text(vm, v));
      if (anymap_get(spec, KW(vm, "enum"), &v) && (is_list(v) || is_vector(v))) {
        ListBuilder eb;
        list_start(&eb);
        SeqIter it;
        seqiter_init(&it, v);
        Value x;
        while (seqiter_next(&it, &x)) list_add(vm, &eb, name_of(vm, x));
        prop = kwmap(vm, prop, "enum", eb.head);
      }
      optional = anymap_get(spec, KW(vm, "optional"), &v) && is_truthy(v);
    } else {
      prop = kwmap(vm, prop, "type", str_from_c(vm, "string")); /* Reference: a bare type keyword is lost */
    }
    props = map_assoc(vm, props, kw_val(sym_intern(vm, str_data(name), str_len(name))), prop);
    if (!optional) list_add(vm, &req, name);
  }
  free(ents);
  schema = kwmap(vm, schema, "properties", props);
  return kwmap(vm, schema, "required", req.head);
}

/* ---------------------------------------------------------------- validation (§9, §10.3) */

static bool type_ok(const char *t, Value v) {
  if (strcmp(t, "string") == 0) return is_string(v);
  if (strcmp(t, "number") == 0) return is_number(v);
  if (strcmp(t, "boolean") == 0 || strcmp(t, "bool") == 0) return is_bool(v);
  if (strcmp(t, "list") == 0 || strcmp(t, "array") == 0) return is_list(v) || is_vector(v);
  return true;
}

typedef struct {
  Value fn, arg, out;
} Call1;

static void call1(VM *vm, void *ud) {
  Call1 *c = ud;
  c->out = vm_call1(vm, c->fn, c->arg);
}

/* NIL_VAL when value satisfies schema, else the errors joined by "; ". */
Value llm_validate(VM *vm, Value schema, Value value) {
  if (!is_anymap(schema)) return NIL_VAL;
  if (!is_anymap(value)) {
    StrBuf b;
    sb_init(&b);
    sb_addf(&b, "expected map result, got %s", val_type_name(value));
    return sb_to_string(vm, &b);
  }
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, schema);
  vm_push_root(vm, value);
  size_t n;
  Value *ents = map_sorted_entries(NULL, schema, &n); /* the values live in schema, which is rooted */
  StrBuf errs;
  sb_init(&errs);
  for (size_t i = 0; i < n; i++) {
    Value key = ents[2 * i], spec = ents[2 * i + 1], v, x;
    Value kname = key_name(vm, key);
    size_t mark = errs.len;
    if (mark) sb_adds(&errs, "; ");
    if (!anymap_get(value, key, &v)) {
      if (is_anymap(spec) && anymap_get(spec, KW(vm, "optional"), &x) && is_truthy(x)) {
        errs.len = mark;
        continue;
      }
      sb_addf(&errs, "missing key: %s", str_data(kname));
      continue;
    }
    if (!is_anymap(spec)) {
      errs.len = mark;
      continue;
    }
    if (anymap_get(spec, KW(vm, "type"), &x) && (is_kw(x) || is_string(x))) {
      const char *t = is_kw(x) ? sym_cstr(vm, x) : str_data(x);
      if (!type_ok(t, v)) {
        sb_addf(&errs, "key %s: expected %s, got %s", str_data(kname), t, val_type_name(v));
        continue;
      }
    }
    if (anymap_get(spec, KW(vm, "validate"), &x)) {
      Call1 c = {x, v, NIL_VAL};
      vm_push_root(vm, kname);
      if (vm_protect(vm, call1, &c)) {
        Value d = err_display(vm, vm_error(vm));
        sb_addf(&errs, "key %s: validation error: %s", str_data(kname), str_data(d));
        continue;
      }
      if (is_falsy(c.out)) {
        Value msg;
        if (anymap_get(spec, KW(vm, "message"), &msg) && is_string(msg)) {
          sb_addf(&errs, "key %s: %s", str_data(kname), str_data(msg));
        } else {
          sb_addf(&errs, "key %s: custom validation failed for value ", str_data(kname));
          print_value(vm, &errs, v, true);
        }
        continue;
      }
    }
    errs.len = mark;
  }
  free(ents);
  vm_roots_reset(vm, base);
  if (errs.len == 0) {
    sb_free(&errs);
    return NIL_VAL;
  }
  return sb_to_string(vm, &errs);
}

/* ---------------------------------------------------------------- tool execution (§10.3) */

/* A tool's result as text: strings as is, maps and sequences as compact JSON, else printed. */
Value llm_result_text(VM *vm, Value v) {
  if (is_string(v)) return v;
  if (is_anymap(v) || is_list(v) || is_vector(v)) {
    StrBuf b;
    sb_init(&b);
    llm_json_encode(vm, &b, v);
    return sb_to_string(vm, &b);
  }
  return print_to_string(vm, v, true);
}

static Value find_tool(VM *vm, Value tools, Value name) {
  for (Value l = tools; is_cons(l); l = cdr(l))
    if (str_eq(llm_fields(car(l))[TL_NAME], name)) return car(l);
  llm_err(vm, "tool not found: %s", str_data(name));
}

typedef struct {
  Value tools, call, result;
} ExecCall;

static void exec_tool(VM *vm, void *ud) {
  ExecCall *e = ud;
  Value name = vec_items(e->call)[TC_NAME], args = vec_items(e->call)[TC_ARGS];
  Value tool = find_tool(vm, e->tools, name);
  Value *t = llm_fields(tool);
  Value errs = llm_validate(vm, t[TL_PARAMS], args);
  if (errs != NIL_VAL) llm_err(vm, "invalid arguments for tool '%s': %s", str_data(name), str_data(errs));
  Value params = t[TL_PARAMS], handler = t[TL_HANDLER];
  Value r;
  if (is_anymap(args) && is_anymap(params)) {
    size_t n;
    Value *ents = map_sorted_entries(NULL, params, &n);
    /* a GC-managed argument array: the handler may raise, which would leak a malloc'd one */
    Value av = vec_new(vm, n);
    for (size_t i = 0; i < n; i++)
      if (!anymap_get(args, ents[2 * i], &vec_items(av)[i])) vec_items(av)[i] = NIL_VAL;
    free(ents);
    vm_push_root(vm, av);
    r = vm_call(vm, handler, (int)n, vec_items(av));
  } else {
    r = vm_call1(vm, handler, args);
  }
  e->result = llm_result_text(vm, r);
}

/* ---------------------------------------------------------------- the loop (§10.2) */

typedef struct {
  Value tools;       /* list of tool values (checked) */
  Value on_tool_call; /* NIL_VAL or callable */
  Value on_text;      /* NIL_VAL or callable */
  int64_t rounds;
} LoopOpts;

static Value append1(VM *vm, Value l, Value x) {
  ListBuilder lb;
  list_start(&lb);
  for (; is_cons(l); l = cdr(l)) list_add(vm, &lb, car(l));
  list_add(vm, &lb, x);
  return lb.head;
}

static void notify(VM *vm, Value fn, Value event) {
  if (fn == NIL_VAL) return;
  Value ignored;
  vm_pcall(vm, fn, 1, &event, &ignored); /* errors raised by on-tool-call are ignored (§10.2) */
}

static Value preview(VM *vm, Value s) {
  if (str_len(s) <= 200) return s;
  StrBuf b;
  sb_init(&b);
  size_t cut = as_string(s)->nchars > 200 ? str_byte_offset(s, 200) : str_len(s);
  sb_add(&b, str_data(s), cut);
  sb_adds(&b, "...");
  return sb_to_string(vm, &b);
}

typedef struct {
  Value fn;
} TextSink;

static void text_sink(VM *vm, void *ud, Value chunk) {
  TextSink *t = ud;
  Value ignored;
  if (vm_pcall(vm, t->fn, 1, &chunk, &ignored)) {
    Value d = err_display(vm, vm_error(vm));
    llm_err(vm, "Config error: %s", str_data(d));
  }
}

/* Runs the loop on req (whose RQ_MSGS is the history H); returns the final
 * text and stores the whole history in *history. */
Value llm_tool_loop(VM *vm, Value req, LoopOpts *o, Value *history) {
  uint32_t base = vm_roots_mark(vm);
  uint32_t s_req = vm_root_slot(vm, req);
  vm_push_root(vm, o->tools);
  vm_push_root(vm, o->on_tool_call);
  vm_push_root(vm, o->on_text);
  uint32_t s_hist = vm_root_slot(vm, RQ(req)[RQ_MSGS]);
  uint32_t s_last = vm_root_slot(vm, str_new(vm, "", 0));
  int consecutive = 0;
  Value kw_event = KW(vm, "event");
  for (int64_t round = 0; round < o->rounds; round++) {
    Value r = vec_from(vm, vec_items(ROOT(vm, s_req)), RQ_NF);
    RQ(r)[RQ_MSGS] = ROOT(vm, s_hist);
    ROOT(vm, s_req) = r;
    Value resp;
    if (o->on_text != NIL_VAL) {
      TextSink ts = {o->on_text};
      resp = llm_stream(vm, r, text_sink, &ts);
    } else {
      resp = llm_complete(vm, r);
    }
    uint32_t s_resp = vm_root_slot(vm, resp);
    llm_track_usage(vm, resp);
    Value *rf = RQ(resp);
    ROOT(vm, s_last) = rf[RS_CONTENT];
    if (!is_cons(rf[RS_CALLS])) {
      if (str_len(rf[RS_CONTENT])) ROOT(vm, s_hist) = append1(vm, ROOT(vm, s_hist), llm_cmsg(vm, LLM_ASSISTANT, rf[RS_CONTENT], EMPTY_VAL));
      *history = ROOT(vm, s_hist);
      Value last = ROOT(vm, s_last);
      vm_roots_reset(vm, base);
      return last;
    }
    Value am = llm_cmsg(vm, LLM_ASSISTANT, rf[RS_CONTENT], EMPTY_VAL);
    vec_items(am)[CM_CALLS] = rf[RS_CALLS];
    ROOT(vm, s_hist) = append1(vm, ROOT(vm, s_hist), am);
    for (Value l = RQ(ROOT(vm, s_resp))[RS_CALLS]; is_cons(l); l = cdr(l)) {
      Value c = car(l);
      Value *cf = vec_items(c);
      Value ev = kwmap(vm, map_empty(vm), "args", cf[TC_ARGS]);
      ev = map_assoc(vm, ev, kw_event, str_from_c(vm, "start"));
      ev = kwmap(vm, ev, "tool", cf[TC_NAME]);
      notify(vm, o->on_tool_call, ev);
      int64_t t0 = llm_mono_ms();
      ExecCall ex = {o->tools, c, NIL_VAL};
      bool failed = vm_protect(vm, exec_tool, &ex) != 0;
      Value result;
      if (failed) {
        Value d = err_display(vm, vm_error(vm));
        StrBuf b;
        sb_init(&b);
        sb_adds(&b, "Error: ");
        sb_add(&b, str_data(d), str_len(d));
        result = sb_to_string(vm, &b);
      } else {
        result = ex.result;
      }
      uint32_t s_res = vm_root_slot(vm, result);
      consecutive = failed ? consecutive + 1 : 0;
      ev = kwmap(vm, map_empty(vm), "args", cf[TC_ARGS]);
      ev = kwmap(vm, ev, "duration-ms", num_int(vm, llm_mono_ms() - t0));
      ev = kwmap(vm, ev, "error", bool_val(failed));
      ev = map_assoc(vm, ev, kw_event, str_from_c(vm, "end"));
      ev = kwmap(vm, ev, "result", preview(vm, result));
      ev = kwmap(vm, ev, "tool", cf[TC_NAME]);
      notify(vm, o->on_tool_call, ev);
      Value tm = llm_cmsg(vm, LLM_TOOL, ROOT(vm, s_res), EMPTY_VAL);
      vec_items(tm)[CM_CALL_ID] = cf[TC_ID];
      vec_items(tm)[CM_TOOL_NAME] = cf[TC_NAME];
      ROOT(vm, s_hist) = append1(vm, ROOT(vm, s_hist), tm);
      vm_pop_roots(vm, 1);
      if (consecutive >= 5) llm_err(vm, "aborting agent run after %d consecutive tool errors", consecutive);
    }
    vm_pop_roots(vm, 1);
  }
  Value last = ROOT(vm, s_last);
  if (str_len(last)) ROOT(vm, s_hist) = append1(vm, ROOT(vm, s_hist), llm_cmsg(vm, LLM_ASSISTANT, last, EMPTY_VAL));
  *history = ROOT(vm, s_hist);
  vm_roots_reset(vm, base);
  return last;
}

/* Every element of a seq must be a tool: a list of them. */
Value llm_tools_arg(VM *vm, Value seq) {
  ListBuilder lb;
  list_start(&lb);
  if (!is_list(seq) && !is_vector(seq)) return EMPTY_VAL;
  SeqIter it;
  seqiter_init(&it, seq);
  Value t;
  while (seqiter_next(&it, &t)) {
    if (!obj_is_foreign(t, &llm_tool_class)) err_type(vm, "tool", t);
    list_add(vm, &lb, t);
  }
  return lb.head;
}

Value llm_chat_tools(VM *vm, Value req, Value tools, Value opts) {
  LoopOpts o = {tools, NIL_VAL, NIL_VAL, 10};
  Value v;
  if (llm_opt(vm, opts, "on-tool-call", &v) && llm_is_callable(v)) o.on_tool_call = v;
  llm_opt_int(vm, opts, "max-tool-rounds", &o.rounds);
  RQ(req)[RQ_TOOLS] = tools;
  Value hist;
  return llm_tool_loop(vm, req, &o, &hist);
}

/* ---------------------------------------------------------------- message maps (§10.5) */

static int role_from_string(const char *r) {
  for (int i = 0; i < LLM_NROLES; i++)
    if (strcmp(r, llm_role_names[i]) == 0) return i;
  return LLM_USER; /* roles outside the four are sent as user messages */
}

static Value to_map(VM *vm, Value cm) {
  Value *f = vec_items(cm);
  Value m = kwmap(vm, map_empty(vm), "content", f[CM_CONTENT]);
  m = kwmap(vm, m, "role", str_from_c(vm, llm_role_names[small_int_of(f[CM_ROLE])]));
  if (is_cons(f[CM_CALLS])) {
    ListBuilder lb;
    list_start(&lb);
    for (Value l = f[CM_CALLS]; is_cons(l); l = cdr(l)) {
      Value *c = vec_items(car(l));
      Value t = kwmap(vm, map_empty(vm), "arguments", c[TC_ARGS]);
      t = kwmap(vm, t, "id", c[TC_ID]);
      list_add(vm, &lb, kwmap(vm, t, "name", c[TC_NAME]));
    }
    m = kwmap(vm, m, "tool-calls", lb.head);
  }
  if (f[CM_CALL_ID] != NIL_VAL) m = kwmap(vm, m, "tool-call-id", f[CM_CALL_ID]);
  if (f[CM_TOOL_NAME] != NIL_VAL) m = kwmap(vm, m, "tool-name", f[CM_TOOL_NAME]);
  return m;
}

static Value from_map(VM *vm, Value m) {
  if (!is_anymap(m)) err_type(vm, "message map", m);
  Value role, content, v;
  if (!anymap_get(m, KW(vm, "role"), &role)) role = str_new(vm, "", 0);
  if (!anymap_get(m, KW(vm, "content"), &content)) content = str_new(vm, "", 0);
  role = llm_text(vm, role);
  Value cm = llm_cmsg(vm, role_from_string(str_data(role)), llm_text(vm, content), EMPTY_VAL);
  if (anymap_get(m, KW(vm, "tool-calls"), &v) && (is_list(v) || is_vector(v))) {
    ListBuilder lb;
    list_start(&lb);
    SeqIter it;
    seqiter_init(&it, v);
    Value c;
    while (seqiter_next(&it, &c)) {
      Value id, name, args;
      if (!is_anymap(c)) continue;
      if (!anymap_get(c, KW(vm, "name"), &name)) continue;
      if (!anymap_get(c, KW(vm, "id"), &id)) id = str_new(vm, "", 0);
      if (!anymap_get(c, KW(vm, "arguments"), &args)) args = map_empty(vm);
      list_add(vm, &lb, llm_call_new(vm, llm_text(vm, id), llm_text(vm, name), args));
    }
    vec_items(cm)[CM_CALLS] = lb.head;
  }
  if (anymap_get(m, KW(vm, "tool-call-id"), &v) && v != NIL_VAL) vec_items(cm)[CM_CALL_ID] = llm_text(vm, v);
  if (anymap_get(m, KW(vm, "tool-name"), &v) && v != NIL_VAL) vec_items(cm)[CM_TOOL_NAME] = llm_text(vm, v);
  return cm;
}

/* ---------------------------------------------------------------- agent/run (§10.4) */

static Value random_id(VM *vm) {
  uint64_t a = math_random_u64(), b = math_random_u64();
  StrBuf s;
  sb_init(&s);
  sb_addf(&s, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
          (unsigned)(0x8000 | ((b >> 48) & 0x3fff)), (unsigned long long)(b & 0xffffffffffffull));
  return sb_to_string(vm, &s);
}

static Value n_agent_run(VM *vm, int argc, Value *argv) {
  Value agent = argv[0], opts = argc > 2 ? argv[2] : NIL_VAL;
  if (!obj_is_foreign(agent, &llm_agent_class)) err_type(vm, "agent", agent);
  Value *a = llm_fields(agent);
  Value tools = llm_tools_arg(vm, a[AG_TOOLS]);
  uint32_t base = vm_roots_mark(vm);
  vm_push_root(vm, tools);
  Value text = llm_text(vm, argv[1]);
  ListBuilder hist;
  list_start(&hist);
  uint32_t s_hist = vm_root_slot(vm, EMPTY_VAL);
  Value session, msgs, v;
  bool has_session = llm_opt(vm, opts, "session", &session) && obj_is_foreign(session, &llm_conv_class);
  if (has_session)
    for (Value l = llm_fields(session)[CV_MSGS]; is_cons(l); l = cdr(l)) {
      Value *m = llm_fields(car(l));
      list_add(vm, &hist, llm_cmsg(vm, (int)small_int_of(m[MSG_ROLE]), m[MSG_CONTENT], EMPTY_VAL));
      ROOT(vm, s_hist) = hist.head;
    }
  if (llm_opt(vm, opts, "messages", &msgs) && msgs != NIL_VAL) {
    if (!is_list(msgs) && !is_vector(msgs)) err_type(vm, "list of message maps", msgs);
    SeqIter it;
    seqiter_init(&it, msgs);
    Value m;
    while (seqiter_next(&it, &m)) {
      list_add(vm, &hist, from_map(vm, m));
      ROOT(vm, s_hist) = hist.head;
    }
  }
  list_add(vm, &hist, llm_cmsg(vm, LLM_USER, text, EMPTY_VAL));
  ROOT(vm, s_hist) = hist.head;
  Value req = llm_req_new(vm);
  vm_push_root(vm, req);
  Value *rq = RQ(req);
  rq[RQ_MODEL] = a[AG_MODEL];
  rq[RQ_MSGS] = hist.head;
  rq[RQ_MAX] = small_int_val(4096);
  if (str_len(a[AG_SYSTEM])) rq[RQ_SYSTEM] = a[AG_SYSTEM];
  rq[RQ_TOOLS] = tools;
  rq[RQ_EFFORT] = llm_opt_name(vm, opts, "reasoning-effort");
  LoopOpts o = {tools, NIL_VAL, NIL_VAL, int_of(a[AG_MAX_TURNS])};
  if (llm_opt(vm, opts, "on-tool-call", &v) && llm_is_callable(v)) o.on_tool_call = v;
  if (llm_opt(vm, opts, "on-text", &v) && llm_is_callable(v)) o.on_text = v;
  Value history;
  Value out = llm_tool_loop(vm, req, &o, &history);
  if (!is_map(opts)) {
    vm_roots_reset(vm, base);
    return out;
  }
  vm_push_root(vm, out);
  vm_push_root(vm, history);
  ListBuilder maps, cmsgs;
  list_start(&maps);
  list_start(&cmsgs);
  for (Value l = history; is_cons(l); l = cdr(l)) {
    list_add(vm, &maps, to_map(vm, car(l)));
    Value *f = vec_items(car(l));
    int role = small_int_of(f[CM_ROLE]) == LLM_ASSISTANT ? LLM_ASSISTANT : LLM_USER; /* Reference (§10.4) */
    list_add(vm, &cmsgs, llm_message_new(vm, role, f[CM_CONTENT], EMPTY_VAL));
  }
  Value id = NIL_VAL;
  if (has_session) id = llm_meta_get(vm, session, "conversation-id");
  if (!is_string(id)) id = llm_opt_str(vm, opts, "conversation-id");
  if (!is_string(id)) id = random_id(vm);
  Value meta = map_assoc(vm, map_empty(vm), str_from_c(vm, "conversation-id"), id);
  Value conv = llm_conv_new(vm, cmsgs.head, a[AG_MODEL], meta);
  Value r = kwmap(vm, map_empty(vm), "messages", maps.head);
  r = kwmap(vm, r, "response", out);
  r = kwmap(vm, r, "session", conv);
  vm_roots_reset(vm, base);
  return r;
}

/* ---------------------------------------------------------------- tools as HTTP routes (net.md §3.5) */

/* The handlers of tools->routes carry their tool in the Native's data (the
 * callee sits at argv[-1] in every call). */
static Value json_response(VM *vm, Value x) {
  StrBuf b;
  sb_init(&b);
  json_encode_lossy(vm, &b, x, false);
  Value body = sb_to_string(vm, &b);
  vm_push_root(vm, body);
  Value h = map_assoc(vm, map_empty(vm), str_from_c(vm, "content-type"), str_from_c(vm, "application/json"));
  Value m = kwmap(vm, map_empty(vm), "body", body);
  m = kwmap(vm, m, "headers", h);
  m = kwmap(vm, m, "status", small_int_val(200));
  vm_pop_roots(vm, 1);
  return m;
}

static Value n_tool_route(VM *vm, int argc, Value *argv) {
  Value tool = as_native(argv[-1])->data, json = NIL_VAL;
  if (is_anymap(argv[0])) anymap_get(argv[0], KW(vm, "json"), &json);
  if (json == NIL_VAL) json = map_empty(vm);
  Value result = vm_call1(vm, llm_fields(tool)[TL_HANDLER], json);
  return json_response(vm, result);
}

static Value n_tool_schema_route(VM *vm, int argc, Value *argv) {
  Value *t = llm_fields(as_native(argv[-1])->data);
  StrBuf b;
  sb_init(&b);
  json_encode_lossy(vm, &b, t[TL_PARAMS], false); /* the parameters JSON-encoded, then encoded again as a string */
  Value params = sb_to_string(vm, &b);
  vm_push_root(vm, params);
  Value m = kwmap(vm, map_empty(vm), "description", t[TL_DESC]);
  m = kwmap(vm, m, "name", t[TL_NAME]);
  m = kwmap(vm, m, "parameters", params);
  vm_push_root(vm, m);
  Value r = json_response(vm, m);
  vm_pop_roots(vm, 2);
  return r;
}

static Value route(VM *vm, const char *method, Value path, NativeFn fn, const char *name, int min, int max, Value tool) {
  Value h = obj_native(vm, name, fn, min, max);
  as_native(h)->data = tool;
  vm_push_root(vm, h);
  Value r = vec_new(vm, 3);
  vec_items(r)[0] = KW(vm, method);
  vec_items(r)[1] = path;
  vec_items(r)[2] = h;
  vm_pop_roots(vm, 1);
  return r;
}

static Value n_tools_routes(VM *vm, int argc, Value *argv) {
  Value tools = argv[0];
  if (!is_list(tools) && !is_vector(tools)) err_type(vm, "list or vector", tools);
  SeqIter it;
  seqiter_init(&it, tools);
  Value t;
  while (seqiter_next(&it, &t))
    if (!obj_is_foreign(t, &llm_tool_class)) err_type(vm, "tool", t);
  ListBuilder lb;
  list_start(&lb);
  uint32_t slot = vm_root_slot(vm, EMPTY_VAL);
  seqiter_init(&it, tools);
  while (seqiter_next(&it, &t)) {
    Value name = llm_fields(t)[TL_NAME];
    StrBuf b;
    sb_init(&b);
    sb_adds(&b, "/tools/");
    sb_add(&b, str_data(name), str_len(name));
    Value p = sb_to_string(vm, &b);
    vm_push_root(vm, p);
    list_add(vm, &lb, route(vm, "post", p, n_tool_route, "tool-route-handler", 1, 1, t));
    ROOT(vm, slot) = lb.head;
    sb_init(&b);
    sb_add(&b, str_data(p), str_len(p));
    sb_adds(&b, "/schema");
    Value sp = sb_to_string(vm, &b);
    vm_push_root(vm, sp);
    list_add(vm, &lb, route(vm, "get", sp, n_tool_schema_route, "tool-schema-handler", 0, VARIADIC, t));
    vm_pop_roots(vm, 2);
  }
  vm_pop_roots(vm, 1);
  return lb.head;
}

static const NativeDef defs[] = {
    {"tools->routes", n_tools_routes, 1, 1,
     "(tools->routes tools)\nHTTP routes for http/router: per tool, [:post \"/tools/NAME\" h] calling the tool's handler with the "
     "request's JSON body, and [:get \"/tools/NAME/schema\" s] describing it."},
    {"route/from-tools", n_tools_routes, 1, 1, "(route/from-tools tools)\nThe same as tools->routes."},
    {"agent/run", n_agent_run, 2, 3,
     "(agent/run agent text [opts])\nRuns the agent's tool loop on text; with opts (:on-tool-call :on-text :messages :session) "
     "returns {:messages :response :session}."},
    {NULL, NULL, 0, 0, NULL},
};

void llm_agent_init(VM *vm) { env_register(vm, defs); }
