/* llm_providers.c - the provider registry and its configuration (llm.md §7):
 * llm/configure, llm/configure-embeddings, llm/define-provider,
 * llm/auto-configure and the selection and listing functions.
 *
 * Configuration never touches the network; auto-configuration reads the
 * environment only, so it costs nothing measurable at start-up (§7.6).
 * Every provider's base URL can be overridden with :base-url (the reference
 * hard-codes some; §7.2 C extension). */
#include <ctype.h>
#include <stdlib.h>
#include "llm.h"

/* ---------------------------------------------------------------- registry */

LlmProvider *llm_provider_find(LlmState *st, const char *name) {
  for (size_t i = 0; i < st->nprovs; i++)
    if (strcmp(st->provs[i]->name, name) == 0) return st->provs[i];
  return NULL;
}

static void set_sel(char **sel, const char *name) {
  free(*sel);
  *sel = llm_strdup(name);
}

/* Register (replacing a provider of the same name); the first provider
 * registered while there is no default becomes the default (§7.1). */
void llm_provider_register(LlmState *st, LlmProvider *p) {
  for (size_t i = 0; i < st->nprovs; i++)
    if (strcmp(st->provs[i]->name, p->name) == 0) {
      llm_provider_free(st->provs[i]);
      st->provs[i] = p;
      goto done;
    }
  if (st->nprovs == st->capprovs) {
    st->capprovs = st->capprovs ? st->capprovs * 2 : 8;
    st->provs = realloc(st->provs, st->capprovs * sizeof *st->provs);
    if (!st->provs) abort();
  }
  size_t at = 0;
  while (at < st->nprovs && strcmp(st->provs[at]->name, p->name) < 0) at++;
  memmove(&st->provs[at + 1], &st->provs[at], (st->nprovs - at) * sizeof *st->provs);
  st->provs[at] = p;
  st->nprovs++;
done:
  if (!st->dflt || !llm_provider_find(st, st->dflt)) set_sel(&st->dflt, p->name);
}

LlmProvider *llm_default_provider(LlmState *st) { return st->dflt ? llm_provider_find(st, st->dflt) : NULL; }

LlmProvider *llm_embedding_provider(LlmState *st) {
  LlmProvider *p = st->embed_sel ? llm_provider_find(st, st->embed_sel) : NULL;
  return p ? p : llm_default_provider(st);
}

LlmProvider *llm_rerank_provider(LlmState *st) {
  LlmProvider *p = st->rerank_sel ? llm_provider_find(st, st->rerank_sel) : NULL;
  return p ? p : llm_default_provider(st);
}

static LlmProvider *prov_new(const char *name, LlmKind kind, const char *key, const char *base, const char *model) {
  LlmProvider *p = calloc(1, sizeof *p);
  if (!p) abort();
  p->name = llm_strdup(name);
  p->kind = kind;
  p->api_key = llm_strdup(key ? key : "");
  p->base_url = llm_strdup(base ? base : "");
  p->default_model = llm_strdup(model ? model : "default");
  p->complete_fn = NIL_VAL;
  return p;
}

/* OpenAI-compatible chat providers also embed through {base}/embeddings. */
static LlmProvider *openai_compat(const char *name, const char *key, const char *base, const char *model, bool usage_in_stream) {
  LlmProvider *p = prov_new(name, LK_OPENAI, key, base, model);
  p->usage_in_stream = usage_in_stream;
  p->embed = LE_OPENAI;
  p->embed_base = llm_strdup(base);
  return p;
}

static LlmProvider *ollama_new(const char *host, const char *model) {
  const char *h = host && *host ? host : "http://localhost:11434";
  /* Divergence allowed (§7.2): a host without a scheme, as Ollama accepts it, gets http:// */
  char *fixed = NULL;
  if (!strstr(h, "://")) {
    fixed = malloc(strlen(h) + 8);
    strcpy(fixed, "http://");
    strcat(fixed, h);
    h = fixed;
  }
  LlmProvider *p = prov_new("ollama", LK_OLLAMA, "", h, model ? model : "gemma4");
  free(fixed);
  return p;
}

/* An embedding provider: OpenAI-shaped (jina, voyage, openai-embeddings) or Cohere. */
static LlmProvider *embed_new(const char *name, LlmEmbedKind ek, const char *key, const char *base, const char *model,
                              LlmRerankKind rk) {
  LlmProvider *p = prov_new(name, LK_EMBED, key, base, model);
  p->embed = ek;
  p->embed_base = llm_strdup(base);
  p->embed_model = llm_strdup(model);
  p->rerank = rk;
  if (rk != LR_NONE) p->rerank_base = llm_strdup(base);
  return p;
}

/* ---------------------------------------------------------------- llm/configure */

static const char *cstr_or(Value v, const char *dflt) { return is_string(v) ? str_data(v) : dflt; }

static Value n_configure(VM *vm, int argc, Value *argv) {
  if (!is_kw(argv[0])) err_type(vm, "keyword", argv[0]);
  Value opts = argv[1];
  if (!is_map(opts)) err_type(vm, "map", opts);
  LlmState *st = llm_state(vm);
  const char *name = sym_cstr(vm, argv[0]);
  Value key = llm_opt_str(vm, opts, "api-key"), model = llm_opt_str(vm, opts, "default-model");
  Value base = llm_opt_str(vm, opts, "base-url"), host = llm_opt_str(vm, opts, "host");
  const char *k = cstr_or(key, NULL), *m = cstr_or(model, NULL), *b = cstr_or(base, NULL);
  static const struct {
    const char *name, *base, *model;
    bool usage_in_stream;
  } compat[] = {
      {"openai", "https://api.openai.com/v1", "gpt-5.5", true},
      {"groq", "https://api.groq.com/openai/v1", "llama-3.3-70b-versatile", true},
      {"xai", "https://api.x.ai/v1", "grok-4.3", true},
      {"mistral", "https://api.mistral.ai/v1", "mistral-large-latest", false},
      {"moonshot", "https://api.moonshot.ai/v1", "kimi-k2.6", false},
  };
  LlmProvider *p = NULL;
  bool embedding = false;
  if (strcmp(name, "ollama") == 0) {
    const char *h = cstr_or(host, cstr_or(base, NULL));
    if (!h) h = getenv("OLLAMA_HOST");
    p = ollama_new(h, m);
  } else {
    for (size_t i = 0; i < sizeof compat / sizeof *compat && !p; i++)
      if (strcmp(name, compat[i].name) == 0) {
        if (!k) llm_err(vm, "missing :api-key");
        p = openai_compat(name, k, b ? b : compat[i].base, m ? m : compat[i].model, compat[i].usage_in_stream);
      }
    if (p) {
    } else if (strcmp(name, "anthropic") == 0 || strcmp(name, "gemini") == 0) {
      if (!k) llm_err(vm, "missing :api-key");
      bool anth = name[0] == 'a';
      p = prov_new(name, anth ? LK_ANTHROPIC : LK_GEMINI, k,
                   b ? b : anth ? "https://api.anthropic.com/v1" : "https://generativelanguage.googleapis.com/v1beta",
                   m ? m : anth ? "claude-sonnet-4-6" : "gemini-3.5-flash");
    } else if (strcmp(name, "jina") == 0) {
      if (!k) llm_err(vm, "missing :api-key");
      p = embed_new("jina", LE_OPENAI, k, b ? b : "https://api.jina.ai/v1", m ? m : "jina-embeddings-v3", LR_JINA);
      embedding = true;
    } else if (strcmp(name, "voyage") == 0) {
      if (!k) llm_err(vm, "missing :api-key");
      p = embed_new("voyage", LE_OPENAI, k, b ? b : "https://api.voyageai.com/v1", m ? m : "voyage-3-lite", LR_VOYAGE);
      embedding = true;
    } else if (strcmp(name, "cohere") == 0) {
      if (!k) llm_err(vm, "missing :api-key");
      p = embed_new("cohere", LE_COHERE, k, b ? b : "https://api.cohere.com/v2", m ? m : "embed-english-v3.0", LR_COHERE);
      embedding = true;
    } else {
      if (!k) llm_err(vm, "unknown provider '%s': provide :api-key and :base-url to register as OpenAI-compatible", name);
      if (!b) llm_err(vm, "unknown provider '%s': provide :base-url to register as OpenAI-compatible", name);
      p = openai_compat(name, k, b, m ? m : "default", false);
    }
  }
  llm_provider_register(st, p);
  if (embedding) {
    set_sel(&st->embed_sel, p->name);
    set_sel(&st->rerank_sel, p->name);
  } else {
    set_sel(&st->dflt, p->name);
  }
  return NIL_VAL;
}

static Value n_configure_embeddings(VM *vm, int argc, Value *argv) {
  if (!is_kw(argv[0])) err_type(vm, "keyword", argv[0]);
  Value opts = argv[1];
  if (!is_map(opts)) err_type(vm, "map", opts);
  LlmState *st = llm_state(vm);
  const char *name = sym_cstr(vm, argv[0]);
  const char *k = cstr_or(llm_opt_str(vm, opts, "api-key"), NULL), *m = cstr_or(llm_opt_str(vm, opts, "default-model"), NULL);
  const char *b = cstr_or(llm_opt_str(vm, opts, "base-url"), NULL);
  LlmProvider *p;
  if (strcmp(name, "jina") == 0 || strcmp(name, "voyage") == 0 || strcmp(name, "cohere") == 0) {
    if (!k) llm_err(vm, "missing :api-key");
    if (name[0] == 'j')
      p = embed_new("jina", LE_OPENAI, k, b ? b : "https://api.jina.ai/v1", m ? m : "jina-embeddings-v3", LR_NONE);
    else if (name[0] == 'v')
      p = embed_new("voyage", LE_OPENAI, k, b ? b : "https://api.voyageai.com/v1", m ? m : "voyage-3", LR_NONE);
    else
      p = embed_new("cohere", LE_COHERE, k, b ? b : "https://api.cohere.com/v2", m ? m : "embed-english-v3.0", LR_NONE);
  } else {
    /* Reference (§7.3, §22 item 18): any other name registers an OpenAI-compatible provider
     * named "openai"; embeddings use the per-call :model or text-embedding-3-small. */
    const char *chat_model = m ? m : cstr_or(llm_opt_str(vm, opts, "model"), "gpt-5.5");
    p = openai_compat("openai", k ? k : "", b ? b : "https://api.openai.com/v1", chat_model, true);
  }
  llm_provider_register(st, p);
  set_sel(&st->embed_sel, p->name);
  return NIL_VAL;
}

/* ---------------------------------------------------------------- llm/define-provider */

static Value n_define_provider(VM *vm, int argc, Value *argv) {
  if (!is_kw(argv[0])) err_type(vm, "keyword", argv[0]);
  Value opts = argv[1];
  if (!is_map(opts)) err_type(vm, "map", opts);
  Value fn;
  if (!llm_opt(vm, opts, "complete", &fn)) err_eval(vm, "llm/define-provider requires :complete function");
  llm_check_fn(vm, fn);
  LlmState *st = llm_state(vm);
  LlmProvider *p = prov_new(sym_cstr(vm, argv[0]), LK_LISP, "", "", cstr_or(llm_opt_str(vm, opts, "default-model"), "default"));
  p->complete_fn = fn;
  llm_provider_register(st, p);
  set_sel(&st->dflt, p->name);
  return argv[0];
}

/* ---------------------------------------------------------------- auto-configuration (§7.5) */

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

/* trimmed, lower-cased copy of an environment variable, or NULL */
static char *env_name(const char *name) {
  const char *v = env(name);
  if (!v) return NULL;
  while (isspace((unsigned char)*v)) v++;
  size_t n = strlen(v);
  while (n && isspace((unsigned char)v[n - 1])) n--;
  if (!n) return NULL;
  char *r = malloc(n + 1);
  for (size_t i = 0; i < n; i++) r[i] = (char)tolower((unsigned char)v[i]);
  r[n] = 0;
  return r;
}

static void set_model(LlmProvider *p, const char *model) {
  if (!p || !model) return;
  free(p->default_model);
  p->default_model = llm_strdup(model);
  if (p->kind == LK_EMBED) {
    free(p->embed_model);
    p->embed_model = llm_strdup(model);
  }
}

/* Returns NULL, or a malloc'd error message. */
char *llm_auto_configure(VM *vm) {
  LlmState *st = llm_state(vm);
  const char *M = env("SEMA_CHAT_MODEL"), *EM = env("SEMA_EMBEDDING_MODEL");
  char *P = env_name("SEMA_CHAT_PROVIDER"), *EP = env_name("SEMA_EMBEDDING_PROVIDER");
  char *err = NULL;
  static const struct {
    const char *var, *name, *base, *model;
    LlmKind kind;
    bool usage_in_stream;
  } chat[] = {
      {"ANTHROPIC_API_KEY", "anthropic", "https://api.anthropic.com/v1", "claude-sonnet-4-6", LK_ANTHROPIC, false},
      {"OPENAI_API_KEY", "openai", "https://api.openai.com/v1", "gpt-5.5", LK_OPENAI, true},
      {"GROQ_API_KEY", "groq", "https://api.groq.com/openai/v1", "llama-3.3-70b-versatile", LK_OPENAI, true},
      {"XAI_API_KEY", "xai", "https://api.x.ai/v1", "grok-4.3", LK_OPENAI, true},
      {"MISTRAL_API_KEY", "mistral", "https://api.mistral.ai/v1", "mistral-large-latest", LK_OPENAI, false},
      {"MOONSHOT_API_KEY", "moonshot", "https://api.moonshot.ai/v1", "kimi-k2.6", LK_OPENAI, false},
      {"GOOGLE_API_KEY", "gemini", "https://generativelanguage.googleapis.com/v1beta", "gemini-3.5-flash", LK_GEMINI, false},
  };
  LlmProvider *first = NULL;
  for (size_t i = 0; i < sizeof chat / sizeof *chat; i++) {
    const char *key = env(chat[i].var);
    if (!key) continue;
    LlmProvider *p = chat[i].kind == LK_OPENAI
                         ? openai_compat(chat[i].name, key, chat[i].base, chat[i].model, chat[i].usage_in_stream)
                         : prov_new(chat[i].name, chat[i].kind, key, chat[i].base, chat[i].model);
    llm_provider_register(st, p);
    if (!first) {
      first = p;
      set_sel(&st->dflt, p->name);
    }
  }
  LlmProvider *ol = ollama_new(env("OLLAMA_HOST"), NULL);
  llm_provider_register(st, ol);
  if (!first) {
    first = ol;
    set_sel(&st->dflt, ol->name);
  }
  if (M) set_model(P ? llm_provider_find(st, P) : first, M);

  static const struct {
    const char *var, *name, *base, *model;
    LlmEmbedKind ek;
    LlmRerankKind rk;
  } emb[] = {
      {"JINA_API_KEY", "jina", "https://api.jina.ai/v1", "jina-embeddings-v3", LE_OPENAI, LR_JINA},
      {"VOYAGE_API_KEY", "voyage", "https://api.voyageai.com/v1", "voyage-3", LE_OPENAI, LR_VOYAGE},
      {"COHERE_API_KEY", "cohere", "https://api.cohere.com/v2", "embed-english-v3.0", LE_COHERE, LR_COHERE},
  };
  LlmProvider *efirst = NULL;
  for (size_t i = 0; i < sizeof emb / sizeof *emb; i++) {
    const char *key = env(emb[i].var);
    if (!key) continue;
    LlmProvider *p = embed_new(emb[i].name, emb[i].ek, key, emb[i].base, emb[i].model, emb[i].rk);
    llm_provider_register(st, p);
    if (!efirst) {
      efirst = p;
      set_sel(&st->embed_sel, p->name);
      set_sel(&st->rerank_sel, p->name);
    }
  }
  if (!efirst && env("OPENAI_API_KEY")) {
    efirst = embed_new("openai-embeddings", LE_OPENAI, env("OPENAI_API_KEY"), "https://api.openai.com/v1", "text-embedding-3-small",
                       LR_NONE);
    llm_provider_register(st, efirst);
    set_sel(&st->embed_sel, efirst->name);
  }
  if (EM) set_model(EP ? llm_provider_find(st, EP) : efirst, EM);
  if (P) {
    if (!llm_provider_find(st, P)) {
      size_t n = strlen(P) + 64;
      err = malloc(n);
      snprintf(err, n, "requested provider is not configured: %s", P);
      goto out;
    }
    set_sel(&st->dflt, P);
  }
  if (EP) {
    if (!llm_provider_find(st, EP)) {
      size_t n = strlen(EP) + 64;
      err = malloc(n);
      snprintf(err, n, "requested embedding provider is not configured: %s", EP);
      goto out;
    }
    set_sel(&st->embed_sel, EP);
  }
out:
  free(P);
  free(EP);
  return err;
}

static Value n_auto_configure(VM *vm, int argc, Value *argv) {
  char *err = llm_auto_configure(vm);
  if (err) {
    Value m = str_from_c(vm, err);
    free(err);
    llm_err_str(vm, m);
  }
  LlmState *st = llm_state(vm);
  return st->dflt ? KW(vm, st->dflt) : NIL_VAL;
}

/* ---------------------------------------------------------------- selection, listing (§7.7) */

static Value n_set_default(VM *vm, int argc, Value *argv) {
  Value n = argv[0];
  if (!is_kw(n) && !is_string(n)) err_type(vm, "keyword or string", n);
  const char *name = is_kw(n) ? sym_cstr(vm, n) : str_data(n);
  LlmState *st = llm_state(vm);
  if (!llm_provider_find(st, name)) llm_err(vm, "provider not configured: %s", name);
  set_sel(&st->dflt, name);
  return KW(vm, name);
}

static Value n_list_providers(VM *vm, int argc, Value *argv) {
  LlmState *st = llm_state(vm);
  ListBuilder lb;
  list_start(&lb);
  for (size_t i = 0; i < st->nprovs; i++) list_add(vm, &lb, KW(vm, st->provs[i]->name));
  return lb.head;
}

static Value n_current_provider(VM *vm, int argc, Value *argv) {
  LlmProvider *p = llm_default_provider(llm_state(vm));
  if (!p) return NIL_VAL;
  Value m = map_assoc(vm, map_empty(vm), KW(vm, "model"), str_from_c(vm, p->default_model));
  return map_assoc(vm, m, KW(vm, "name"), KW(vm, p->name));
}

static Value n_default_provider(VM *vm, int argc, Value *argv) {
  LlmProvider *p = llm_default_provider(llm_state(vm));
  return p ? KW(vm, p->name) : NIL_VAL;
}

/* The CLI's start-up step (§7.6): returns 0, or 1 after printing the error
 * when report is set. */
int llm_cli_auto_configure(VM *vm, bool report) {
  char *err = llm_auto_configure(vm);
  if (!err) return 0;
  if (report) fprintf(stderr, "Error: LLM error: %s\n", err);
  free(err);
  return report ? 1 : 0;
}

static const NativeDef defs[] = {
    {"llm/configure", n_configure, 2, 2,
     "(llm/configure name opts)\nRegisters a provider (:anthropic :openai :gemini :groq :xai :mistral :moonshot :ollama :jina :voyage "
     ":cohere, or any name with :base-url) with :api-key, :default-model, :base-url, :host."},
    {"llm/configure-embeddings", n_configure_embeddings, 2, 2,
     "(llm/configure-embeddings name opts)\nRegisters the embedding provider (:jina :voyage :cohere, else OpenAI-compatible)."},
    {"llm/define-provider", n_define_provider, 2, 2,
     "(llm/define-provider name {:complete fn :default-model m})\nRegisters a provider written in Sema and makes it the default."},
    {"llm/auto-configure", n_auto_configure, 0, VARIADIC,
     "(llm/auto-configure)\nRegisters the providers whose keys are in the environment; returns the default provider."},
    {"llm/set-default", n_set_default, 1, 1, "(llm/set-default name)\nMakes a registered provider the default."},
    {"llm/list-providers", n_list_providers, 0, 0, "(llm/list-providers)\nThe registered providers, sorted by name."},
    {"llm/providers", n_list_providers, 0, 0, "(llm/providers)\nThe same as llm/list-providers."},
    {"llm/current-provider", n_current_provider, 0, 0, "(llm/current-provider)\n{:model M :name :NAME} of the default provider, or nil."},
    {"llm/default-provider", n_default_provider, 0, 0, "(llm/default-provider)\nThe default provider's keyword, or nil."},
    {NULL, NULL, 0, 0, NULL},
};

void llm_providers_init(VM *vm) { env_register(vm, defs); }
