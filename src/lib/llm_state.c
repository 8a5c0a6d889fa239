/* llm_state.c - the per-interpreter state of the LLM subsystem (llm.md
 * §1.4): created empty on first use, held by a Foreign object in a hidden
 * global cell, so two interpreters never share it and the collector marks
 * what it holds.  Freed with the interpreter (the Foreign's finalizer). */
#include <stdlib.h>
#include "llm.h"

#define STATE_CELL " llm"

void llm_provider_free(LlmProvider *p) {
  if (!p) return;
  free(p->name);
  free(p->api_key);
  free(p->base_url);
  free(p->default_model);
  free(p->embed_base);
  free(p->embed_model);
  free(p->rerank_base);
  free(p);
}

void llm_cassette_free(LlmCassette *c) {
  if (!c) return;
  free(c->path);
  free(c->entries);
  free(c);
}

static void state_mark(VM *vm, Foreign *f) {
  LlmState *st = f->ptr;
  if (!st) return;
  for (size_t i = 0; i < st->nprovs; i++) gc_mark_value(vm, st->provs[i]->complete_fn);
  gc_mark_value(vm, st->last.model);
  gc_mark_value(vm, st->cache);
  gc_mark_value(vm, st->chain);
  if (st->cassette)
    for (size_t i = 0; i < st->cassette->n; i++) gc_mark_value(vm, st->cassette->entries[i]);
  llm_stores_mark(vm, st);
}

static void state_finalize(Foreign *f) {
  LlmState *st = f->ptr;
  if (!st) return;
  for (size_t i = 0; i < st->nprovs; i++) llm_provider_free(st->provs[i]);
  free(st->provs);
  free(st->dflt);
  free(st->embed_sel);
  free(st->rerank_sel);
  for (size_t i = 0; i < st->nprices; i++) free(st->prices[i].pattern);
  free(st->prices);
  llm_cassette_free(st->cassette);
  llm_stores_free(st);
  for (size_t i = 0; i < st->nnotemp; i++) free(st->notemp[i]);
  free(st->notemp);
  free(st);
  f->ptr = NULL;
}

static const ForeignClass state_class = {.name = "llm-state", .finalize = state_finalize, .mark = state_mark};

LlmState *llm_state(VM *vm) {
  Value v = env_get(vm, STATE_CELL);
  if (obj_is_foreign(v, &state_class)) return ((Foreign *)as_obj(v))->ptr;
  LlmState *st = calloc(1, sizeof *st);
  if (!st) abort();
  st->last.model = NIL_VAL;
  st->cache = NIL_VAL;
  st->chain = EMPTY_VAL;
  st->cache_ttl = 3600;
  st->retry_base_ms = 500;
  st->retries = 3;
  env_define(vm, STATE_CELL, obj_foreign(vm, &state_class, st, NIL_VAL));
  llm_cassette_env(vm, st);
  return st;
}
