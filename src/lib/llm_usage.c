/* llm_usage.c - usage accounting, prices and budgets (llm.md §8.5, §11).
 *
 * Prices come from the models.dev snapshot compiled in from
 * data/llm-pricing.tsv (llm_pricing_data.c, generated) and from
 * llm/set-pricing patterns.  Lookup order (§11.2): a custom pattern (the
 * longest that matches), the provider's own listing (vendor/model), then the
 * canonical entry: exact id, exact vendor/id, longest id contained in the
 * model name (ties: the later entry).  The table is scanned linearly: a few
 * thousand strcmp per priced call, negligible next to a model call. */
#include <math.h>
#include <stdlib.h>
#include "llm.h"

/* ---------------------------------------------------------------- prices */

#define ID(e) (llm_price_names + (e)->id)
#define VENDOR(e) (llm_price_names + (e)->vendor)

static bool is_qualified(const LlmPrice *e, const char *m, size_t mlen) {
  size_t vl = strlen(VENDOR(e));
  return mlen > vl && m[vl] == '/' && strncmp(m, VENDOR(e), vl) == 0 && strcmp(m + vl + 1, ID(e)) == 0;
}

static bool canonical_price(const char *m, double *in, double *out) {
  const LlmPrice *hit = NULL;
  size_t mlen = strlen(m);
  for (size_t i = 0; i < llm_nprices; i++) /* exact canonical id; a later duplicate wins */
    if (llm_prices[i].canonical && strcmp(ID(&llm_prices[i]), m) == 0) hit = &llm_prices[i];
  if (!hit)
    for (size_t i = 0; i < llm_nprices; i++)
      if (is_qualified(&llm_prices[i], m, mlen)) hit = &llm_prices[i];
  if (!hit) {
    size_t best = 0;
    for (size_t i = 0; i < llm_nprices; i++) {
      const LlmPrice *e = &llm_prices[i];
      size_t l = strlen(ID(e));
      if (e->canonical && l >= best && l <= mlen && strstr(m, ID(e))) {
        best = l;
        hit = e;
      }
    }
  }
  if (!hit) return false;
  *in = hit->input;
  *out = hit->output;
  return true;
}

static bool custom_price(LlmState *st, const char *m, double *in, double *out) {
  const LlmCustomPrice *hit = NULL;
  for (size_t i = 0; i < st->nprices; i++)
    if (strstr(m, st->prices[i].pattern) && (!hit || strlen(st->prices[i].pattern) > strlen(hit->pattern))) hit = &st->prices[i];
  if (!hit) return false;
  *in = hit->input;
  *out = hit->output;
  return true;
}

static const char *vendor_of(const char *provider) {
  if (strcmp(provider, "gemini") == 0) return "google";
  if (strcmp(provider, "moonshot") == 0) return "moonshotai";
  return provider;
}

/* provider NULL or "": the canonical price only (steps 1 and 3). */
bool llm_price(LlmState *st, const char *model, const char *provider, double *in, double *out) {
  if (custom_price(st, model, in, out)) return true;
  if (provider && *provider) {
    const char *v = vendor_of(provider);
    const LlmPrice *hit = NULL;
    for (size_t i = 0; i < llm_nprices; i++)
      if (strcmp(VENDOR(&llm_prices[i]), v) == 0 && strcmp(ID(&llm_prices[i]), model) == 0) hit = &llm_prices[i];
    if (hit) {
      *in = hit->input;
      *out = hit->output;
      return true;
    }
  }
  return canonical_price(model, in, out);
}

static double cost_of(int64_t prompt, int64_t completion, double in, double out) {
  return ((double)prompt * in + (double)completion * out) / 1000000.0;
}

/* ---------------------------------------------------------------- track_usage (§8.5) */

static int64_t ival(Value v) { return is_int(v) ? int_of(v) : 0; }

void llm_track_usage(VM *vm, Value resp) {
  LlmState *st = llm_state(vm);
  Value *f = RQ(resp);
  int64_t p = ival(f[RS_PT]), c = ival(f[RS_CT]);
  const char *model = is_string(f[RS_UMODEL]) ? str_data(f[RS_UMODEL]) : "";
  const char *prov = is_string(f[RS_PROVIDER]) ? str_data(f[RS_PROVIDER]) : NULL;
  double in, out;
  bool priced = llm_price(st, model, prov, &in, &out);
  double cost = priced ? cost_of(p, c, in, out) : 0;
  st->has_last = true;
  st->last = (LlmUsage){p, c, ival(f[RS_CRT]), ival(f[RS_CCT]), is_string(f[RS_UMODEL]) ? f[RS_UMODEL] : str_new(vm, "", 0)};
  st->sess_prompt += p;
  st->sess_completion += c;
  st->sess_cache_read += st->last.cache_read;
  st->sess_cache_creation += st->last.cache_creation;
  LlmBudget *b = &st->budget;
  if (b->has_tok) {
    b->tok_spent += p + c;
    if (b->tok_spent > b->tok_limit)
      llm_err(vm, "token budget exceeded: used %lld of %lld tokens", (long long)b->tok_spent, (long long)b->tok_limit);
  }
  if (priced) {
    st->sess_cost += cost;
    if (b->has_cost) {
      b->cost_spent += cost;
      if (b->cost_spent > b->cost_limit) llm_err(vm, "budget exceeded: spent $%.4f of $%.4f limit", b->cost_spent, b->cost_limit);
    }
  } else if (b->has_cost && !st->pricing_warned) {
    st->pricing_warned = true;
    StrBuf sb;
    sb_init(&sb);
    sb_addf(&sb, "Warning: pricing unknown for model '%s'; budget enforcement is best-effort\n", model);
    vm_write_err(vm, sb.data, sb.len);
    sb_free(&sb);
  }
}

/* §11.4: refuse to open a stream when the scope is already at or over a limit. */
void llm_budget_pregate(VM *vm) {
  LlmBudget *b = &llm_state(vm)->budget;
  if (b->has_cost && b->cost_spent >= b->cost_limit)
    llm_err(vm, "budget exceeded: $%.4f of $%.4f limit already spent \xe2\x80\x94 streaming call blocked at open", b->cost_spent,
            b->cost_limit);
  if (b->has_tok && b->tok_spent >= b->tok_limit)
    llm_err(vm, "token budget exceeded: %lld of %lld tokens already used \xe2\x80\x94 streaming call blocked at open",
            (long long)b->tok_spent, (long long)b->tok_limit);
}

/* ---------------------------------------------------------------- usage builtins (§11.1) */

static Value kwmap(VM *vm, Value m, const char *k, Value v) { return map_assoc(vm, m, KW(vm, k), v); }

static Value n_last_usage(VM *vm, int argc, Value *argv) {
  LlmState *st = llm_state(vm);
  if (!st->has_last) return NIL_VAL;
  LlmUsage *u = &st->last;
  Value m = kwmap(vm, map_empty(vm), "cache-creation-tokens", num_int(vm, u->cache_creation));
  m = kwmap(vm, m, "cache-read-tokens", num_int(vm, u->cache_read));
  m = kwmap(vm, m, "completion-tokens", num_int(vm, u->completion));
  double in, out;
  if (llm_price(st, str_data(u->model), NULL, &in, &out)) m = kwmap(vm, m, "cost-usd", double_val(cost_of(u->prompt, u->completion, in, out)));
  m = kwmap(vm, m, "model", u->model);
  m = kwmap(vm, m, "prompt-tokens", num_int(vm, u->prompt));
  return kwmap(vm, m, "total-tokens", num_int(vm, u->prompt + u->completion));
}

static Value n_session_usage(VM *vm, int argc, Value *argv) {
  LlmState *st = llm_state(vm);
  Value m = kwmap(vm, map_empty(vm), "cache-creation-tokens", num_int(vm, st->sess_cache_creation));
  m = kwmap(vm, m, "cache-read-tokens", num_int(vm, st->sess_cache_read));
  m = kwmap(vm, m, "completion-tokens", num_int(vm, st->sess_completion));
  m = kwmap(vm, m, "cost-usd", double_val(st->sess_cost));
  m = kwmap(vm, m, "prompt-tokens", num_int(vm, st->sess_prompt));
  return kwmap(vm, m, "total-tokens", num_int(vm, st->sess_prompt + st->sess_completion));
}

static Value n_reset_usage(VM *vm, int argc, Value *argv) {
  LlmState *st = llm_state(vm);
  st->has_last = false;
  st->last.model = NIL_VAL;
  st->sess_prompt = st->sess_completion = st->sess_cache_read = st->sess_cache_creation = 0;
  st->sess_cost = 0;
  return NIL_VAL;
}

static Value n_set_pricing(VM *vm, int argc, Value *argv) {
  Value pat = arg_string(vm, argv[0]);
  double in = arg_num(vm, argv[1]), out = arg_num(vm, argv[2]);
  LlmState *st = llm_state(vm);
  for (size_t i = 0; i < st->nprices; i++)
    if (strcmp(st->prices[i].pattern, str_data(pat)) == 0) {
      st->prices[i].input = in;
      st->prices[i].output = out;
      return NIL_VAL;
    }
  if (st->nprices == st->capprices) {
    st->capprices = st->capprices ? st->capprices * 2 : 4;
    st->prices = realloc(st->prices, st->capprices * sizeof *st->prices);
    if (!st->prices) abort();
  }
  st->prices[st->nprices++] = (LlmCustomPrice){llm_strdup(str_data(pat)), in, out};
  return NIL_VAL;
}

static Value n_pricing_status(VM *vm, int argc, Value *argv) {
  Value m = kwmap(vm, map_empty(vm), "source", SYM(vm, "embedded"));
  return kwmap(vm, m, "updated-at", str_from_c(vm, llm_prices_updated));
}

/* ---------------------------------------------------------------- budgets (§11.3) */

static Value n_set_budget(VM *vm, int argc, Value *argv) {
  double usd = arg_num(vm, argv[0]);
  LlmBudget *b = &llm_state(vm)->budget;
  b->has_cost = true;
  b->cost_limit = usd;
  b->cost_spent = 0;
  return NIL_VAL;
}

static Value n_clear_budget(VM *vm, int argc, Value *argv) {
  LlmBudget *b = &llm_state(vm)->budget;
  b->has_cost = b->has_tok = false;
  return NIL_VAL;
}

static Value n_budget_remaining(VM *vm, int argc, Value *argv) {
  LlmBudget *b = &llm_state(vm)->budget;
  if (!b->has_cost && !b->has_tok) return NIL_VAL;
  Value m = map_empty(vm);
  if (b->has_cost) {
    m = kwmap(vm, m, "limit", double_val(b->cost_limit));
    m = kwmap(vm, m, "remaining", double_val(b->cost_limit - b->cost_spent));
    m = kwmap(vm, m, "spent", double_val(b->cost_spent));
  }
  if (b->has_tok) {
    int64_t rem = b->tok_limit - b->tok_spent;
    m = kwmap(vm, m, "token-limit", num_int(vm, b->tok_limit));
    m = kwmap(vm, m, "tokens-remaining", num_int(vm, rem < 0 ? 0 : rem));
    m = kwmap(vm, m, "tokens-spent", num_int(vm, b->tok_spent));
  }
  return m;
}

int llm_run_thunk(VM *vm, Value thunk, Value *out);

static Value n_with_budget(VM *vm, int argc, Value *argv) {
  Value opts = argv[0];
  if (!is_map(opts)) err_type(vm, "map", opts);
  llm_check_fn(vm, argv[1]);
  double usd;
  int64_t toks;
  bool has_cost = llm_opt_num(vm, opts, "max-cost-usd", &usd), has_tok = llm_opt_int(vm, opts, "max-tokens", &toks);
  if (!has_cost && !has_tok) err_eval(vm, "llm/with-budget: requires at least :max-cost-usd or :max-tokens");
  Value gate;
  bool pregate = llm_opt(vm, opts, "on-stream", &gate) && is_kw(gate) && strcmp(sym_cstr(vm, gate), "pre-gate") == 0;
  LlmState *st = llm_state(vm);
  LlmBudget saved = st->budget;
  st->budget = (LlmBudget){has_cost, has_tok, has_cost ? usd : 0, 0, has_tok ? (toks < 0 ? 0 : toks) : 0, 0, pregate};
  Value out;
  int rc = llm_run_thunk(vm, argv[1], &out);
  llm_state(vm)->budget = saved;
  if (rc) err_rethrow(vm);
  return out;
}

static const NativeDef defs[] = {
    {"llm/last-usage", n_last_usage, 0, 0,
     "(llm/last-usage)\nThe usage of the last call: {:cache-creation-tokens :cache-read-tokens :completion-tokens :cost-usd :model "
     ":prompt-tokens :total-tokens}, or nil."},
    {"llm/session-usage", n_session_usage, 0, 0, "(llm/session-usage)\nToken and cost sums since start or the last llm/reset-usage."},
    {"llm/reset-usage", n_reset_usage, 0, 0, "(llm/reset-usage)\nClears the session sums and the last usage (not the budget)."},
    {"llm/set-pricing", n_set_pricing, 3, 3,
     "(llm/set-pricing pattern input output)\nPrices (USD per 1M tokens) for every model whose name contains pattern."},
    {"llm/pricing-status", n_pricing_status, 0, 0, "(llm/pricing-status)\n{:source embedded :updated-at DATE} of the price snapshot."},
    {"llm/set-budget", n_set_budget, 1, 1, "(llm/set-budget usd)\nSets a cost limit for LLM calls (spent resets to 0)."},
    {"llm/clear-budget", n_clear_budget, 0, 0, "(llm/clear-budget)\nRemoves the cost and token limits."},
    {"llm/budget-remaining", n_budget_remaining, 0, 0,
     "(llm/budget-remaining)\n{:limit :remaining :spent} and/or {:token-limit :tokens-remaining :tokens-spent}, or nil."},
    {"llm/with-budget", n_with_budget, 2, 2,
     "(llm/with-budget {:max-cost-usd N :max-tokens N} thunk)\nRuns thunk under its own limits; spending inside is not charged outside."},
    {NULL, NULL, 0, 0, NULL},
};

void llm_usage_init(VM *vm) { env_register(vm, defs); }
