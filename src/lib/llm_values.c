/* llm_values.c - the LLM value types and their pure functions (llm.md §2-§6,
 * §15, §18): the forms prompt, message, deftool, defagent; prompts and the
 * prompt algebra; messages; conversations as persistent values; tools and
 * agents; templates, documents and token estimates.
 *
 * The four forms are macros whose transformers are natives: the expansion
 * is a call whose head is the helper native itself (as forms.c lowers its
 * forms), so no user binding can shadow it and nothing is compiled at
 * start-up.  Role forms (user ...) are recognised only in head position
 * directly inside prompt (§3). */
#include <stdlib.h>
#include <utf8proc.h>
#include "llm.h"
#include "../compiler.h"

const char *const llm_role_names[LLM_NROLES] = {"system", "user", "assistant", "tool"};

/* ---------------------------------------------------------------- classes */

static void print_message(VM *vm, StrBuf *b, Foreign *f) {
  Value *m = vec_items(f->extra);
  Value c = m[MSG_CONTENT];
  sb_addf(b, "<message %s \"", llm_role_names[small_int_of(m[MSG_ROLE])]);
  /* first 40 scalar values, unescaped (§2) */
  if (as_string(c)->nchars > 40) {
    sb_add(b, str_data(c), str_byte_offset(c, 40));
    sb_adds(b, "...");
  } else {
    sb_add(b, str_data(c), str_len(c));
  }
  sb_adds(b, "\">");
}

static void print_prompt(VM *vm, StrBuf *b, Foreign *f) {
  sb_addf(b, "<prompt %lld messages>", (long long)list_length(vec_items(f->extra)[PR_MSGS]));
}

static void print_conv(VM *vm, StrBuf *b, Foreign *f) {
  sb_addf(b, "<conversation %lld messages>", (long long)list_length(vec_items(f->extra)[CV_MSGS]));
}

static void print_named(StrBuf *b, const char *what, Value name) {
  sb_addf(b, "<%s ", what);
  sb_add(b, str_data(name), str_len(name));
  sb_addc(b, '>');
}

static void print_tool(VM *vm, StrBuf *b, Foreign *f) { print_named(b, "tool", vec_items(f->extra)[TL_NAME]); }
static void print_agent(VM *vm, StrBuf *b, Foreign *f) { print_named(b, "agent", vec_items(f->extra)[AG_NAME]); }

const ForeignClass llm_prompt_class = {.name = "prompt", .print = print_prompt};
const ForeignClass llm_message_class = {.name = "message", .print = print_message};
const ForeignClass llm_conv_class = {.name = "conversation", .print = print_conv};
const ForeignClass llm_tool_class = {.name = "tool", .print = print_tool};
const ForeignClass llm_agent_class = {.name = "agent", .print = print_agent};

Value llm_obj_new(VM *vm, const ForeignClass *cls, int nfields) {
  return obj_foreign(vm, cls, NULL, vec_new(vm, (size_t)nfields));
}

Value llm_message_new(VM *vm, int role, Value content, Value images) {
  Value m = llm_obj_new(vm, &llm_message_class, MSG_NF);
  Value *f = llm_fields(m);
  f[MSG_ROLE] = small_int_val(role);
  f[MSG_CONTENT] = content;
  f[MSG_IMAGES] = images;
  return m;
}

Value llm_prompt_new(VM *vm, Value msgs) {
  Value p = llm_obj_new(vm, &llm_prompt_class, PR_NF);
  llm_fields(p)[PR_MSGS] = msgs;
  return p;
}

Value llm_conv_new(VM *vm, Value msgs, Value model, Value meta) {
  Value c = llm_obj_new(vm, &llm_conv_class, CV_NF);
  Value *f = llm_fields(c);
  f[CV_MSGS] = msgs;
  f[CV_MODEL] = model;
  f[CV_META] = meta;
  return c;
}

static Value check(VM *vm, Value v, const ForeignClass *cls) {
  if (!obj_is_foreign(v, cls)) err_type(vm, cls->name, v);
  return v;
}

/* ---------------------------------------------------------------- roles, text */

int llm_role_of(VM *vm, Value kw) {
  if (!is_kw(kw)) return -1;
  const char *n = sym_cstr(vm, kw);
  for (int r = 0; r < LLM_NROLES; r++)
    if (strcmp(n, llm_role_names[r]) == 0) return r;
  return -1;
}

int llm_role_arg(VM *vm, Value kw, const char *who) {
  if (!is_kw(kw)) err_type(vm, "keyword", kw);
  int r = llm_role_of(vm, kw);
  if (r < 0) err_eval(vm, "%s: unknown role '%s'", who, sym_cstr(vm, kw));
  return r;
}

Value llm_role_kw(VM *vm, int role) { return KW(vm, llm_role_names[role]); }

void llm_add_text(VM *vm, StrBuf *b, Value v) {
  if (is_string(v))
    sb_add(b, str_data(v), str_len(v));
  else
    print_value(vm, b, v, true);
}

Value llm_text(VM *vm, Value v) {
  if (is_string(v)) return v;
  return print_to_string(vm, v, true);
}

static Value concat_parts(VM *vm, int argc, Value *argv) {
  if (argc == 1 && is_string(argv[0])) return argv[0];
  StrBuf b;
  sb_init(&b);
  for (int i = 0; i < argc; i++) llm_add_text(vm, &b, argv[i]);
  return sb_to_string(vm, &b);
}

/* ---------------------------------------------------------------- forms */

static Value helper(VM *vm, const char *name) { return env_get(vm, name); }

static Value x_prompt(VM *vm, int argc, Value *argv) {
  Value role_fn = helper(vm, " llm-role");
  ListBuilder lb;
  list_start(&lb);
  list_add(vm, &lb, helper(vm, " llm-prompt"));
  for (int i = 0; i < argc; i++) {
    Value e = argv[i];
    if (is_cons(e) && is_sym(car(e))) {
      const char *n = sym_cstr(vm, car(e));
      int role = -1;
      for (int r = 0; r < LLM_NROLES; r++)
        if (strcmp(n, llm_role_names[r]) == 0) role = r;
      if (role >= 0) e = list_cons(vm, role_fn, list_cons(vm, llm_role_kw(vm, role), cdr(e)));
    }
    list_add(vm, &lb, e);
  }
  return lb.head;
}

static Value x_message(VM *vm, int argc, Value *argv) {
  if (argc < 2) err_arity(vm, "message", "2+", argc);
  return list_cons(vm, helper(vm, " llm-message"), list_from(vm, argv, (size_t)argc));
}

static Value quoted(VM *vm, Value v) { return list_2(vm, SYM(vm, "quote"), v); }

static Value x_deftool(VM *vm, int argc, Value *argv) {
  if (argc < 4) err_arity(vm, "deftool", "4", argc);
  if (!is_sym(argv[0])) err_eval(vm, "deftool: expected a symbol");
  Value args[4] = {quoted(vm, argv[0]), argv[1], argv[2], argv[3]};
  return list_cons(vm, helper(vm, " llm-deftool"), list_from(vm, args, 4));
}

static Value x_defagent(VM *vm, int argc, Value *argv) {
  if (argc != 2) err_arity(vm, "defagent", "2", argc);
  if (!is_sym(argv[0])) err_eval(vm, "defagent: expected a symbol");
  return list_3(vm, helper(vm, " llm-defagent"), quoted(vm, argv[0]), argv[1]);
}

static Value n_h_prompt(VM *vm, int argc, Value *argv) {
  for (int i = 0; i < argc; i++)
    if (!obj_is_foreign(argv[i], &llm_message_class)) err_eval(vm, "prompt: expected (role parts) pair or message value");
  return llm_prompt_new(vm, list_from(vm, argv, (size_t)argc));
}

static Value n_h_role(VM *vm, int argc, Value *argv) {
  int role = llm_role_of(vm, argv[0]);
  return llm_message_new(vm, role, concat_parts(vm, argc - 1, argv + 1), EMPTY_VAL);
}

static Value n_h_message(VM *vm, int argc, Value *argv) {
  int role = llm_role_arg(vm, argv[0], "message");
  return llm_message_new(vm, role, concat_parts(vm, argc - 1, argv + 1), EMPTY_VAL);
}

/* Bind NAME as a global of the environment the code runs in (a module's
 * when loading one), also from inside a function body (§3). */
static void bind_global(VM *vm, Value name, Value v) {
  env_define_current(vm, name, v);
}

static Value make_tool(VM *vm, Value name, Value desc, Value params, Value handler) {
  if (!is_string(desc)) err_type(vm, "string", desc);
  Value t = llm_obj_new(vm, &llm_tool_class, TL_NF);
  Value *f = llm_fields(t);
  f[TL_NAME] = name;
  f[TL_DESC] = desc;
  f[TL_PARAMS] = params;
  f[TL_HANDLER] = handler;
  return t;
}

static Value n_h_deftool(VM *vm, int argc, Value *argv) {
  Value name = str_from_c(vm, sym_cstr(vm, argv[0]));
  Value t = make_tool(vm, name, argv[1], argv[2], argv[3]);
  bind_global(vm, argv[0], t);
  return t;
}

static Value seq_to_list(VM *vm, Value v) {
  if (is_list(v)) return v;
  return list_from(vm, vec_items(v), vec_len(v));
}

static Value make_agent(VM *vm, Value opts, Value name) {
  if (!is_map(opts)) err_type(vm, "map", opts);
  Value a = llm_obj_new(vm, &llm_agent_class, AG_NF);
  Value *f = llm_fields(a);
  Value empty = str_new(vm, "", 0);
  Value v;
  if (name == NIL_VAL) name = llm_opt_str(vm, opts, "name");
  f[AG_NAME] = is_string(name) ? name : empty;
  v = llm_opt_str(vm, opts, "system");
  f[AG_SYSTEM] = is_string(v) ? v : empty;
  v = llm_opt_str(vm, opts, "model");
  f[AG_MODEL] = is_string(v) ? v : empty;
  f[AG_TOOLS] = EMPTY_VAL;
  if (llm_opt(vm, opts, "tools", &v) && (is_list(v) || is_vector(v))) f[AG_TOOLS] = seq_to_list(vm, v);
  int64_t turns = 10;
  llm_opt_int(vm, opts, "max-turns", &turns);
  f[AG_MAX_TURNS] = num_int(vm, turns);
  return a;
}

static Value n_h_defagent(VM *vm, int argc, Value *argv) {
  Value a = make_agent(vm, argv[1], str_from_c(vm, sym_cstr(vm, argv[0])));
  bind_global(vm, argv[0], a);
  return a;
}

static Value n_agent(VM *vm, int argc, Value *argv) { return make_agent(vm, argv[0], NIL_VAL); }

/* ---------------------------------------------------------------- predicates */

#define PRED(fname, cls)                                                        \
  static Value fname(VM *vm, int argc, Value *argv) { return bool_val(obj_is_foreign(argv[0], &cls)); }
PRED(n_prompt_p, llm_prompt_class)
PRED(n_message_p, llm_message_class)
PRED(n_conversation_p, llm_conv_class)
PRED(n_tool_p, llm_tool_class)
PRED(n_agent_p, llm_agent_class)

/* ---------------------------------------------------------------- prompts */

static Value prompt_msgs(VM *vm, Value p) { return llm_fields(check(vm, p, &llm_prompt_class))[PR_MSGS]; }

static Value n_prompt_append(VM *vm, int argc, Value *argv) {
  ListBuilder lb;
  list_start(&lb);
  for (int i = 0; i < argc; i++) prompt_msgs(vm, argv[i]);
  for (int i = 0; i < argc; i++)
    for (Value l = llm_fields(argv[i])[PR_MSGS]; is_cons(l); l = cdr(l)) list_add(vm, &lb, car(l));
  return llm_prompt_new(vm, lb.head);
}

static Value n_prompt_messages(VM *vm, int argc, Value *argv) { return prompt_msgs(vm, argv[0]); }

/* Every system message removed, one new one first (prompt/set-system, conversation/set-system). */
static Value set_system(VM *vm, Value msgs, Value text) {
  ListBuilder lb;
  list_start(&lb);
  list_add(vm, &lb, llm_message_new(vm, LLM_SYSTEM, llm_text(vm, text), EMPTY_VAL));
  for (Value l = msgs; is_cons(l); l = cdr(l))
    if (small_int_of(llm_fields(car(l))[MSG_ROLE]) != LLM_SYSTEM) list_add(vm, &lb, car(l));
  return lb.head;
}

static Value n_prompt_set_system(VM *vm, int argc, Value *argv) {
  return llm_prompt_new(vm, set_system(vm, prompt_msgs(vm, argv[0]), argv[1]));
}

/* One pass over s: {{NAME}} with :NAME a key of vars is replaced. */
Value llm_fill(VM *vm, Value s, Value vars) {
  const char *p = str_data(s), *e = p + str_len(s);
  const char *open = strstr(p, "{{");
  if (!open) return s;
  StrBuf b;
  sb_init(&b);
  while (open) {
    const char *close = strstr(open + 2, "}}");
    if (!close) break;
    sb_add(&b, p, (size_t)(open - p));
    const char *name = open + 2;
    Value key = kw_val(sym_intern(vm, name, (size_t)(close - name))), v;
    if (anymap_get(vars, key, &v))
      llm_add_text(vm, &b, v);
    else
      sb_add(&b, open, (size_t)(close + 2 - open));
    p = close + 2;
    open = strstr(p, "{{");
  }
  sb_add(&b, p, (size_t)(e - p));
  return sb_to_string(vm, &b);
}

static void check_vars(VM *vm, Value vars) {
  if (!is_anymap(vars)) err_type(vm, "map", vars);
}

static Value n_prompt_fill(VM *vm, int argc, Value *argv) {
  Value msgs = prompt_msgs(vm, argv[0]);
  check_vars(vm, argv[1]);
  ListBuilder lb;
  list_start(&lb);
  for (Value l = msgs; is_cons(l); l = cdr(l)) {
    Value *f = llm_fields(car(l));
    Value c = llm_fill(vm, f[MSG_CONTENT], argv[1]);
    list_add(vm, &lb, c == f[MSG_CONTENT] ? car(l) : llm_message_new(vm, (int)small_int_of(f[MSG_ROLE]), c, f[MSG_IMAGES]));
  }
  return llm_prompt_new(vm, lb.head);
}

static Value n_prompt_slots(VM *vm, int argc, Value *argv) {
  Value msgs = prompt_msgs(vm, argv[0]);
  ListBuilder lb;
  list_start(&lb);
  for (Value l = msgs; is_cons(l); l = cdr(l)) {
    Value c = llm_fields(car(l))[MSG_CONTENT];
    const char *p = str_data(c);
    for (const char *open; (open = strstr(p, "{{")) != NULL;) {
      const char *close = strstr(open + 2, "}}");
      if (!close) break;
      p = close + 2;
      if (close == open + 2) continue;
      Value k = kw_val(sym_intern(vm, open + 2, (size_t)(close - open - 2)));
      bool seen = false;
      for (Value s = lb.head; is_cons(s) && !seen; s = cdr(s)) seen = car(s) == k;
      if (!seen) list_add(vm, &lb, k);
    }
  }
  return lb.head;
}

/* "The same" message for the algebra: role and content equal (images ignored). */
static bool same_msg(Value a, Value b) {
  Value *x = llm_fields(a), *y = llm_fields(b);
  return x[MSG_ROLE] == y[MSG_ROLE] && str_eq(x[MSG_CONTENT], y[MSG_CONTENT]);
}

static bool occurs_in(Value m, Value msgs) {
  for (Value l = msgs; is_cons(l); l = cdr(l))
    if (same_msg(m, car(l))) return true;
  return false;
}

static Value not_in(VM *vm, Value a, Value b) {
  ListBuilder lb;
  list_start(&lb);
  for (Value l = a; is_cons(l); l = cdr(l))
    if (!occurs_in(car(l), b)) list_add(vm, &lb, car(l));
  return lb.head;
}

static Value n_prompt_diff(VM *vm, int argc, Value *argv) {
  Value a = prompt_msgs(vm, argv[0]), b = prompt_msgs(vm, argv[1]);
  Value m = map_assoc(vm, map_empty(vm), KW(vm, "added"), not_in(vm, b, a));
  return map_assoc(vm, m, KW(vm, "removed"), not_in(vm, a, b));
}

enum { ALG_UNION, ALG_INTER, ALG_DIFF };

static Value algebra(VM *vm, Value pa, Value pb, int op) {
  Value a = prompt_msgs(vm, pa), b = prompt_msgs(vm, pb);
  ListBuilder lb;
  list_start(&lb);
  Value src[2] = {a, op == ALG_UNION ? b : EMPTY_VAL};
  for (int k = 0; k < 2; k++)
    for (Value l = src[k]; is_cons(l); l = cdr(l)) {
      Value m = car(l);
      if (occurs_in(m, lb.head)) continue;
      if (op == ALG_INTER && !occurs_in(m, b)) continue;
      if (op == ALG_DIFF && occurs_in(m, b)) continue;
      list_add(vm, &lb, m);
    }
  return llm_prompt_new(vm, lb.head);
}

static Value n_prompt_union(VM *vm, int argc, Value *argv) { return algebra(vm, argv[0], argv[1], ALG_UNION); }
static Value n_prompt_intersection(VM *vm, int argc, Value *argv) { return algebra(vm, argv[0], argv[1], ALG_INTER); }
static Value n_prompt_difference(VM *vm, int argc, Value *argv) { return algebra(vm, argv[0], argv[1], ALG_DIFF); }

/* ---------------------------------------------------------------- messages */

static Value n_message_role(VM *vm, int argc, Value *argv) {
  return llm_role_kw(vm, (int)small_int_of(llm_fields(check(vm, argv[0], &llm_message_class))[MSG_ROLE]));
}

static Value n_message_content(VM *vm, int argc, Value *argv) {
  return llm_fields(check(vm, argv[0], &llm_message_class))[MSG_CONTENT];
}

static Value n_message_with_image(VM *vm, int argc, Value *argv) {
  int role = llm_role_arg(vm, argv[0], "message/with-image");
  Value text = arg_string(vm, argv[1]);
  if (!is_objtype(argv[2], OBJ_BYTEVEC)) err_type(vm, "bytevector", argv[2]);
  Bytevec *bv = (Bytevec *)as_obj(argv[2]);
  Value media = llm_opt_str(vm, argc > 3 ? argv[3] : NIL_VAL, "media-type");
  if (media == NIL_VAL) media = str_from_c(vm, llm_media_type(bv->data, bv->len));
  Value img = list_cons(vm, media, llm_base64_value(vm, argv[2]));
  return llm_message_new(vm, role, text, list_1(vm, img));
}

/* ---------------------------------------------------------------- conversations */

static Value *conv_fields(VM *vm, Value c) { return llm_fields(check(vm, c, &llm_conv_class)); }

static Value conv_with(VM *vm, Value c, Value msgs) {
  Value *f = llm_fields(c);
  return llm_conv_new(vm, msgs, f[CV_MODEL], f[CV_META]);
}

Value llm_meta_get(VM *vm, Value conv, const char *key) {
  Value v;
  if (map_get(llm_fields(conv)[CV_META], str_from_c(vm, key), &v)) return v;
  return NIL_VAL;
}

static Value n_conv_new(VM *vm, int argc, Value *argv) {
  Value opts = argc > 0 ? argv[0] : NIL_VAL;
  Value model = str_new(vm, "", 0), meta = map_empty(vm);
  if (is_map(opts)) {
    MapIter it;
    map_iter_init(&it, opts);
    Value k, v;
    Value model_kw = KW(vm, "model");
    while (map_iter_next(&it, &k, &v)) {
      if (k == model_kw) {
        if (is_string(v)) model = v;
      } else if (is_kw(k)) {
        meta = map_assoc(vm, meta, str_from_c(vm, sym_cstr(vm, k)), llm_text(vm, v));
      }
    }
  }
  return llm_conv_new(vm, EMPTY_VAL, model, meta);
}

static Value list_append1(VM *vm, Value l, Value x) {
  ListBuilder lb;
  list_start(&lb);
  for (; is_cons(l); l = cdr(l)) list_add(vm, &lb, car(l));
  list_add(vm, &lb, x);
  return lb.head;
}

static Value n_conv_add_message(VM *vm, int argc, Value *argv) {
  Value *f = conv_fields(vm, argv[0]);
  int role = llm_role_arg(vm, argv[1], "conversation/add-message");
  Value m = llm_message_new(vm, role, llm_text(vm, argv[2]), EMPTY_VAL);
  return conv_with(vm, argv[0], list_append1(vm, f[CV_MSGS], m));
}

static Value n_conv_messages(VM *vm, int argc, Value *argv) { return conv_fields(vm, argv[0])[CV_MSGS]; }
static Value n_conv_model(VM *vm, int argc, Value *argv) { return conv_fields(vm, argv[0])[CV_MODEL]; }

static Value n_conv_system(VM *vm, int argc, Value *argv) {
  for (Value l = conv_fields(vm, argv[0])[CV_MSGS]; is_cons(l); l = cdr(l))
    if (small_int_of(llm_fields(car(l))[MSG_ROLE]) == LLM_SYSTEM) return llm_fields(car(l))[MSG_CONTENT];
  return NIL_VAL;
}

static int64_t count_role(Value msgs, int role) {
  int64_t n = 0;
  for (Value l = msgs; is_cons(l); l = cdr(l))
    if (small_int_of(llm_fields(car(l))[MSG_ROLE]) == role) n++;
  return n;
}

static Value n_conv_length(VM *vm, int argc, Value *argv) {
  return num_int(vm, list_length(conv_fields(vm, argv[0])[CV_MSGS]));
}

static Value n_conv_turns(VM *vm, int argc, Value *argv) {
  return num_int(vm, count_role(conv_fields(vm, argv[0])[CV_MSGS], LLM_ASSISTANT));
}

static Value models_used(VM *vm, Value model) { return str_len(model) ? list_1(vm, model) : EMPTY_VAL; }

static Value n_conv_models_used(VM *vm, int argc, Value *argv) { return models_used(vm, conv_fields(vm, argv[0])[CV_MODEL]); }

static Value n_conv_last_reply(VM *vm, int argc, Value *argv) {
  Value last = NIL_VAL;
  for (Value l = conv_fields(vm, argv[0])[CV_MSGS]; is_cons(l); l = cdr(l))
    if (small_int_of(llm_fields(car(l))[MSG_ROLE]) == LLM_ASSISTANT) last = llm_fields(car(l))[MSG_CONTENT];
  if (last == NIL_VAL) err_eval(vm, "no assistant reply in conversation");
  return last;
}

static Value n_conv_fork(VM *vm, int argc, Value *argv) { return argv[0]; }

static Value n_conv_set_system(VM *vm, int argc, Value *argv) {
  Value *f = conv_fields(vm, argv[0]);
  return conv_with(vm, argv[0], set_system(vm, f[CV_MSGS], argv[1]));
}

/* filter / map / find call back into Sema: the list being built is rooted. */
static Value n_conv_filter(VM *vm, int argc, Value *argv) {
  Value *f = conv_fields(vm, argv[0]);
  ListBuilder lb;
  list_start(&lb);
  uint32_t slot = vm_root_slot(vm, EMPTY_VAL);
  for (Value l = f[CV_MSGS]; is_cons(l); l = cdr(l)) {
    if (is_truthy(vm_call1(vm, argv[1], car(l)))) {
      list_add(vm, &lb, car(l));
      ROOT(vm, slot) = lb.head;
    }
  }
  Value r = conv_with(vm, argv[0], lb.head);
  vm_pop_roots(vm, 1);
  return r;
}

static Value n_conv_map(VM *vm, int argc, Value *argv) {
  Value *f = conv_fields(vm, argv[0]);
  ListBuilder lb;
  list_start(&lb);
  uint32_t slot = vm_root_slot(vm, EMPTY_VAL);
  for (Value l = f[CV_MSGS]; is_cons(l); l = cdr(l)) {
    Value r = vm_call1(vm, argv[1], car(l));
    list_add(vm, &lb, r);
    ROOT(vm, slot) = lb.head;
  }
  vm_pop_roots(vm, 1);
  return lb.head;
}

static Value n_conv_map_role(VM *vm, int argc, Value *argv) {
  Value *f = conv_fields(vm, argv[0]);
  int role = llm_role_arg(vm, argv[1], "conversation/map-role");
  ListBuilder lb;
  list_start(&lb);
  uint32_t slot = vm_root_slot(vm, EMPTY_VAL);
  for (Value l = f[CV_MSGS]; is_cons(l); l = cdr(l)) {
    Value m = car(l);
    if (small_int_of(llm_fields(m)[MSG_ROLE]) == role) {
      m = vm_call1(vm, argv[2], m);
      if (!obj_is_foreign(m, &llm_message_class)) err_type(vm, "message", m);
    }
    list_add(vm, &lb, m);
    ROOT(vm, slot) = lb.head;
  }
  Value r = conv_with(vm, argv[0], lb.head);
  vm_pop_roots(vm, 1);
  return r;
}

static Value n_conv_find(VM *vm, int argc, Value *argv) {
  Value *f = conv_fields(vm, argv[0]);
  for (Value l = f[CV_MSGS]; is_cons(l); l = cdr(l))
    if (is_truthy(vm_call1(vm, argv[1], car(l)))) return car(l);
  return NIL_VAL;
}

static void lower_into(StrBuf *b, Value s) {
  const char *p = str_data(s), *e = p + str_len(s);
  while (p < e) {
    size_t adv;
    uint32_t c = utf8_decode(p, &adv);
    p += adv;
    sb_add_utf8(b, (uint32_t)utf8proc_tolower((utf8proc_int32_t)c));
  }
}

static Value n_conv_search(VM *vm, int argc, Value *argv) {
  Value *f = conv_fields(vm, argv[0]);
  Value q = arg_string(vm, argv[1]);
  StrBuf qb, cb;
  sb_init(&qb);
  sb_init(&cb);
  lower_into(&qb, q);
  sb_addc(&qb, 0);
  ListBuilder lb;
  list_start(&lb);
  int64_t i = 0;
  for (Value l = f[CV_MSGS]; is_cons(l); l = cdr(l), i++) {
    Value *m = llm_fields(car(l));
    cb.len = 0;
    lower_into(&cb, m[MSG_CONTENT]);
    sb_addc(&cb, 0);
    if (!strstr(cb.data, qb.data)) continue;
    Value r = map_assoc(vm, map_empty(vm), KW(vm, "content"), m[MSG_CONTENT]);
    r = map_assoc(vm, r, KW(vm, "index"), num_int(vm, i));
    r = map_assoc(vm, r, KW(vm, "role"), llm_role_kw(vm, (int)small_int_of(m[MSG_ROLE])));
    list_add(vm, &lb, r);
  }
  sb_free(&qb);
  sb_free(&cb);
  return lb.head;
}

/* The message argument of insert/replace: (c i msg) or (c i role content). */
static Value msg_arg(VM *vm, int argc, Value *argv, const char *who) {
  if (argc == 3) {
    if (!obj_is_foreign(argv[2], &llm_message_class)) err_type(vm, "message", argv[2]);
    return argv[2];
  }
  int role = llm_role_arg(vm, argv[2], who);
  return llm_message_new(vm, role, llm_text(vm, argv[3]), EMPTY_VAL);
}

/* Rebuild msgs with position i replaced by `with` (or removed when NIL_VAL);
 * insert: `with` goes before position i. */
static Value edit_list(VM *vm, Value msgs, int64_t at, Value with, bool insert) {
  ListBuilder lb;
  list_start(&lb);
  int64_t i = 0;
  for (Value l = msgs;; l = cdr(l), i++) {
    if (i == at) {
      if (with != NIL_VAL) list_add(vm, &lb, with);
      if (!insert && is_cons(l)) continue;
    }
    if (!is_cons(l)) break;
    list_add(vm, &lb, car(l));
  }
  return lb.head;
}

static int64_t index_arg(VM *vm, Value v) {
  if (!is_int(v)) err_type(vm, "int", v);
  return int_of(v);
}

static Value n_conv_insert(VM *vm, int argc, Value *argv) {
  Value *f = conv_fields(vm, argv[0]);
  int64_t i = index_arg(vm, argv[1]), n = list_length(f[CV_MSGS]);
  Value m = msg_arg(vm, argc, argv, "conversation/insert");
  if (i < 0 || i > n) err_eval(vm, "conversation/insert: index %lld out of bounds (length %lld)", (long long)i, (long long)n);
  return conv_with(vm, argv[0], edit_list(vm, f[CV_MSGS], i, m, true));
}

static Value n_conv_replace(VM *vm, int argc, Value *argv) {
  Value *f = conv_fields(vm, argv[0]);
  int64_t i = index_arg(vm, argv[1]), n = list_length(f[CV_MSGS]);
  Value m = msg_arg(vm, argc, argv, "conversation/replace");
  if (i < 0 || i >= n) err_eval(vm, "conversation/replace: index %lld out of bounds (length %lld)", (long long)i, (long long)n);
  return conv_with(vm, argv[0], edit_list(vm, f[CV_MSGS], i, m, false));
}

static Value n_conv_remove(VM *vm, int argc, Value *argv) {
  Value *f = conv_fields(vm, argv[0]);
  int64_t i = index_arg(vm, argv[1]), n = list_length(f[CV_MSGS]);
  if (i < 0 || i >= n) err_eval(vm, "conversation/remove: index %lld out of bounds (length %lld)", (long long)i, (long long)n);
  return conv_with(vm, argv[0], edit_list(vm, f[CV_MSGS], i, NIL_VAL, false));
}

static int64_t meta_int(VM *vm, Value conv, const char *key) {
  Value v = llm_meta_get(vm, conv, key);
  return is_string(v) ? strtoll(str_data(v), NULL, 10) : 0;
}

static Value conv_cost(VM *vm, Value conv) {
  Value v = llm_meta_get(vm, conv, "usage-cost");
  if (!is_string(v)) return NIL_VAL;
  char *end;
  double d = strtod(str_data(v), &end);
  if (end == str_data(v)) return NIL_VAL;
  return double_val(d);
}

static Value n_conv_stats(VM *vm, int argc, Value *argv) {
  Value *f = conv_fields(vm, argv[0]);
  int64_t pt = meta_int(vm, argv[0], "usage-prompt-tokens"), ct = meta_int(vm, argv[0], "usage-completion-tokens");
  Value tok = map_assoc(vm, map_empty(vm), KW(vm, "completion"), num_int(vm, ct));
  tok = map_assoc(vm, tok, KW(vm, "prompt"), num_int(vm, pt));
  tok = map_assoc(vm, tok, KW(vm, "total"), num_int(vm, pt + ct));
  Value m = map_assoc(vm, map_empty(vm), KW(vm, "cost"), conv_cost(vm, argv[0]));
  m = map_assoc(vm, m, KW(vm, "messages"), num_int(vm, list_length(f[CV_MSGS])));
  m = map_assoc(vm, m, KW(vm, "models"), models_used(vm, f[CV_MODEL]));
  m = map_assoc(vm, m, KW(vm, "tokens"), tok);
  return map_assoc(vm, m, KW(vm, "turns"), num_int(vm, count_role(f[CV_MSGS], LLM_ASSISTANT)));
}

static Value n_conv_token_count(VM *vm, int argc, Value *argv) {
  uint64_t bytes = 0;
  for (Value l = conv_fields(vm, argv[0])[CV_MSGS]; is_cons(l); l = cdr(l)) bytes += str_len(llm_fields(car(l))[MSG_CONTENT]);
  return num_int(vm, (int64_t)((bytes + 3) / 4));
}

static Value n_conv_cost(VM *vm, int argc, Value *argv) {
  conv_fields(vm, argv[0]);
  return conv_cost(vm, argv[0]);
}

/* ---------------------------------------------------------------- tools, agents */

static Value n_tool_name(VM *vm, int argc, Value *argv) { return llm_fields(check(vm, argv[0], &llm_tool_class))[TL_NAME]; }
static Value n_tool_desc(VM *vm, int argc, Value *argv) { return llm_fields(check(vm, argv[0], &llm_tool_class))[TL_DESC]; }
static Value n_tool_params(VM *vm, int argc, Value *argv) { return llm_fields(check(vm, argv[0], &llm_tool_class))[TL_PARAMS]; }
static Value n_agent_name(VM *vm, int argc, Value *argv) { return llm_fields(check(vm, argv[0], &llm_agent_class))[AG_NAME]; }
static Value n_agent_system(VM *vm, int argc, Value *argv) { return llm_fields(check(vm, argv[0], &llm_agent_class))[AG_SYSTEM]; }
static Value n_agent_tools(VM *vm, int argc, Value *argv) { return llm_fields(check(vm, argv[0], &llm_agent_class))[AG_TOOLS]; }
static Value n_agent_model(VM *vm, int argc, Value *argv) { return llm_fields(check(vm, argv[0], &llm_agent_class))[AG_MODEL]; }
static Value n_agent_max_turns(VM *vm, int argc, Value *argv) {
  return llm_fields(check(vm, argv[0], &llm_agent_class))[AG_MAX_TURNS];
}

/* ---------------------------------------------------------------- templates, documents */

static Value n_prompt_template(VM *vm, int argc, Value *argv) { return arg_string(vm, argv[0]); }

static Value n_prompt_render(VM *vm, int argc, Value *argv) {
  Value s = arg_string(vm, argv[0]);
  check_vars(vm, argv[1]);
  return llm_fill(vm, s, argv[1]);
}

static Value n_document_create(VM *vm, int argc, Value *argv) {
  Value text = arg_string(vm, argv[0]);
  if (!is_map(argv[1])) err_type(vm, "map", argv[1]);
  Value m = map_assoc(vm, map_empty(vm), KW(vm, "metadata"), argv[1]);
  return map_assoc(vm, m, KW(vm, "text"), text);
}

static Value doc_get(VM *vm, Value doc, const char *key) {
  if (!is_anymap(doc)) err_type(vm, "map (document)", doc);
  Value v;
  if (!anymap_get(doc, KW(vm, key), &v)) err_eval(vm, "not a document: missing :%s", key);
  return v;
}

static Value n_document_text(VM *vm, int argc, Value *argv) { return doc_get(vm, argv[0], "text"); }
static Value n_document_metadata(VM *vm, int argc, Value *argv) { return doc_get(vm, argv[0], "metadata"); }

static Value n_document_chunk(VM *vm, int argc, Value *argv) {
  Value doc = argv[0];
  if (!is_anymap(doc)) err_type(vm, "map (document)", doc);
  Value text, meta;
  if (!anymap_get(doc, KW(vm, "text"), &text) || !is_string(text)) err_eval(vm, "document/chunk: document missing :text");
  if (!anymap_get(doc, KW(vm, "metadata"), &meta) || !is_anymap(meta)) meta = map_empty(vm);
  Value chunks = llm_text_chunk(vm, text, argc > 1 ? argv[1] : NIL_VAL);
  int64_t total = list_length(chunks), i = 0;
  ListBuilder lb;
  list_start(&lb);
  for (Value l = chunks; is_cons(l); l = cdr(l), i++) {
    Value md = anymap_assoc(vm, meta, KW(vm, "chunk-index"), num_int(vm, i));
    md = anymap_assoc(vm, md, KW(vm, "total-chunks"), num_int(vm, total));
    Value d = map_assoc(vm, map_empty(vm), KW(vm, "metadata"), md);
    list_add(vm, &lb, map_assoc(vm, d, KW(vm, "text"), car(l)));
  }
  return lb.head;
}

/* ---------------------------------------------------------------- token estimates (§15) */

static size_t printed_len(VM *vm, Value v) {
  if (is_string(v)) return str_len(v);
  StrBuf b;
  sb_init(&b);
  print_value(vm, &b, v, true);
  size_t n = b.len;
  sb_free(&b);
  return n;
}

static Value n_token_count(VM *vm, int argc, Value *argv) {
  Value x = argv[0];
  size_t bytes = 0;
  if (is_list(x) || is_vector(x)) {
    SeqIter it;
    seqiter_init(&it, x);
    Value e;
    while (seqiter_next(&it, &e)) bytes += printed_len(vm, e);
  } else {
    bytes = printed_len(vm, x);
  }
  return num_int(vm, (int64_t)(bytes / 4));
}

static Value n_token_estimate(VM *vm, int argc, Value *argv) {
  size_t n = printed_len(vm, argv[0]);
  Value m = map_assoc(vm, map_empty(vm), KW(vm, "chars"), num_int(vm, (int64_t)n));
  m = map_assoc(vm, m, KW(vm, "method"), str_from_c(vm, "chars/4"));
  return map_assoc(vm, m, KW(vm, "tokens"), num_int(vm, (int64_t)(n / 4)));
}

/* ---------------------------------------------------------------- registration */

static const NativeDef defs[] = {
    {" llm-prompt", n_h_prompt, 0, VARIADIC, "( llm-prompt msg...)\nInternal: what the prompt form expands to."},
    {" llm-role", n_h_role, 1, VARIADIC, "( llm-role role part...)\nInternal: a role form inside prompt."},
    {" llm-message", n_h_message, 1, VARIADIC, "( llm-message role part...)\nInternal: what the message form expands to."},
    {" llm-deftool", n_h_deftool, 4, 4, "( llm-deftool 'name desc params handler)\nInternal: what deftool expands to."},
    {" llm-defagent", n_h_defagent, 2, 2, "( llm-defagent 'name opts)\nInternal: what defagent expands to."},
    {"prompt?", n_prompt_p, 1, 1, "(prompt? x)\nIs x a prompt?"},
    {"message?", n_message_p, 1, 1, "(message? x)\nIs x a message?"},
    {"conversation?", n_conversation_p, 1, 1, "(conversation? x)\nIs x a conversation?"},
    {"tool?", n_tool_p, 1, 1, "(tool? x)\nIs x a tool (made by deftool)?"},
    {"agent?", n_agent_p, 1, 1, "(agent? x)\nIs x an agent?"},
    {"prompt/append", n_prompt_append, 1, VARIADIC, "(prompt/append p...)\nA new prompt with the messages of every prompt, in order."},
    {"prompt/concat", n_prompt_append, 1, VARIADIC, "(prompt/concat p...)\nThe same as prompt/append."},
    {"prompt/messages", n_prompt_messages, 1, 1, "(prompt/messages p)\nThe messages of a prompt, as a list."},
    {"prompt/set-system", n_prompt_set_system, 2, 2,
     "(prompt/set-system p text)\nA prompt without its system messages and with one new system message first."},
    {"prompt/fill", n_prompt_fill, 2, 2,
     "(prompt/fill p vars)\nReplaces every {{NAME}} whose :NAME is a key of vars by the value, in every message."},
    {"prompt/slots", n_prompt_slots, 1, 1, "(prompt/slots p)\nThe keywords of the {{NAME}} placeholders left, in order of appearance."},
    {"prompt/diff", n_prompt_diff, 2, 2, "(prompt/diff a b)\n{:added msgs-of-b-not-in-a :removed msgs-of-a-not-in-b}."},
    {"prompt/union", n_prompt_union, 2, 2, "(prompt/union a b)\nThe messages of a then b, each distinct (role, content) once."},
    {"prompt/intersection", n_prompt_intersection, 2, 2, "(prompt/intersection a b)\nThe messages of a that also occur in b."},
    {"prompt/difference", n_prompt_difference, 2, 2, "(prompt/difference a b)\nThe messages of a that do not occur in b."},
    {"message/role", n_message_role, 1, 1, "(message/role m)\nThe role keyword: :system, :user, :assistant or :tool."},
    {"message/content", n_message_content, 1, 1, "(message/content m)\nThe text of a message."},
    {"message/with-image", n_message_with_image, 3, 4,
     "(message/with-image role text bytes [opts])\nA message with an image attachment (media type detected or :media-type)."},
    {"conversation/new", n_conv_new, 0, VARIADIC,
     "(conversation/new [opts])\nAn empty conversation; :model sets its model, other options become metadata."},
    {"conversation/add-message", n_conv_add_message, 3, 3, "(conversation/add-message c role content)\nThe conversation with a message appended."},
    {"conversation/messages", n_conv_messages, 1, 1, "(conversation/messages c)\nThe history as a list of messages."},
    {"conversation/model", n_conv_model, 1, 1, "(conversation/model c)\nThe model string (\"\" = the provider's default)."},
    {"conversation/system", n_conv_system, 1, 1, "(conversation/system c)\nThe content of the first system message, or nil."},
    {"conversation/set-system", n_conv_set_system, 2, 2,
     "(conversation/set-system c text)\nThe conversation with its system messages replaced by one, first."},
    {"conversation/last-reply", n_conv_last_reply, 1, 1, "(conversation/last-reply c)\nThe content of the last assistant message."},
    {"conversation/fork", n_conv_fork, 1, 1, "(conversation/fork c)\nReturns c: conversations are immutable values."},
    {"conversation/filter", n_conv_filter, 2, 2, "(conversation/filter c pred)\nThe conversation with the messages for which (pred m) is true."},
    {"conversation/map", n_conv_map, 2, 2, "(conversation/map c f)\nThe list of (f m) for every message."},
    {"conversation/map-role", n_conv_map_role, 3, 3,
     "(conversation/map-role c role f)\nThe conversation with each message of that role replaced by (f m)."},
    {"conversation/find", n_conv_find, 2, 2, "(conversation/find c pred)\nThe first message for which (pred m) is true, or nil."},
    {"conversation/search", n_conv_search, 2, 2,
     "(conversation/search c query)\nCase-insensitive substring search: a list of {:content :index :role} maps."},
    {"conversation/insert", n_conv_insert, 3, 4,
     "(conversation/insert c i msg) or (conversation/insert c i role content)\nInserts a message before position i."},
    {"conversation/replace", n_conv_replace, 3, 4,
     "(conversation/replace c i msg) or (conversation/replace c i role content)\nReplaces the message at position i."},
    {"conversation/remove", n_conv_remove, 2, 2, "(conversation/remove c i)\nThe conversation without the message at position i."},
    {"conversation/length", n_conv_length, 1, 1, "(conversation/length c)\nThe number of messages."},
    {"conversation/turns", n_conv_turns, 1, 1, "(conversation/turns c)\nThe number of assistant messages."},
    {"conversation/models-used", n_conv_models_used, 1, 1, "(conversation/models-used c)\nThe model as a one-element list, or ()."},
    {"conversation/stats", n_conv_stats, 1, 1,
     "(conversation/stats c)\n{:cost :messages :models :tokens {:completion :prompt :total} :turns} from the recorded usage."},
    {"conversation/token-count", n_conv_token_count, 1, 1,
     "(conversation/token-count c)\nEstimated tokens: the UTF-8 bytes of every message / 4, rounded up."},
    {"conversation/cost", n_conv_cost, 1, 1, "(conversation/cost c)\nThe billed cost of the recorded turns in USD, or nil."},
    {"tool/name", n_tool_name, 1, 1, "(tool/name t)\nThe name of a tool."},
    {"tool/description", n_tool_desc, 1, 1, "(tool/description t)\nThe description of a tool."},
    {"tool/parameters", n_tool_params, 1, 1, "(tool/parameters t)\nThe parameters value given to deftool."},
    {"agent", n_agent, 1, 1,
     "(agent opts)\nAn anonymous agent: :name, :system, :tools, :max-turns (10), :model."},
    {"agent/name", n_agent_name, 1, 1, "(agent/name a)\nThe name of an agent (\"\" when anonymous)."},
    {"agent/system", n_agent_system, 1, 1, "(agent/system a)\nThe system prompt of an agent."},
    {"agent/tools", n_agent_tools, 1, 1, "(agent/tools a)\nThe tools of an agent, as a list."},
    {"agent/model", n_agent_model, 1, 1, "(agent/model a)\nThe model of an agent (\"\" = the provider's default)."},
    {"agent/max-turns", n_agent_max_turns, 1, 1, "(agent/max-turns a)\nThe round limit of an agent."},
    {"prompt/template", n_prompt_template, 1, 1, "(prompt/template s)\nReturns the template string s."},
    {"prompt/render", n_prompt_render, 2, 2, "(prompt/render s vars)\nReplaces every {{NAME}} whose :NAME is a key of vars by the value."},
    {"document/create", n_document_create, 2, 2, "(document/create text metadata)\nA document {:metadata M :text S}."},
    {"document/text", n_document_text, 1, 1, "(document/text doc)\nThe text of a document."},
    {"document/metadata", n_document_metadata, 1, 1, "(document/metadata doc)\nThe metadata of a document."},
    {"document/chunk", n_document_chunk, 1, 2,
     "(document/chunk doc [opts])\nSplits a document like text/chunk (:size, :overlap); each chunk's metadata gains :chunk-index and :total-chunks."},
    {"llm/token-count", n_token_count, 1, 1, "(llm/token-count x)\nEstimated tokens: UTF-8 bytes / 4, rounded down (a seq: summed over its elements)."},
    {"llm/token-estimate", n_token_estimate, 1, 1, "(llm/token-estimate x)\n{:chars N :method \"chars/4\" :tokens N/4}."},
    {NULL, NULL, 0, 0, NULL},
};

static void def_macro(VM *vm, const char *name, NativeFn fn, const char *doc) {
  Value n = obj_native(vm, name, fn, 0, VARIADIC);
  as_native(n)->doc = doc;
  compile_define_macro(vm, SYM(vm, name), n);
}

void llm_values_init(VM *vm) {
  env_register(vm, defs);
  def_macro(vm, "prompt", x_prompt, "(prompt entry...)\nA prompt: each entry a role form (system|user|assistant|tool part...) or a message.");
  def_macro(vm, "message", x_message, "(message role part...)\nA message; the parts are concatenated (strings raw, other values printed).");
  def_macro(vm, "deftool", x_deftool,
            "(deftool name description parameters handler)\nDefines a tool as a global and returns it.");
  def_macro(vm, "defagent", x_defagent, "(defagent name opts)\nDefines an agent (see agent) as a global and returns it.");
}
