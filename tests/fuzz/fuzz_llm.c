/* fuzz_llm.c - the parsers of what LLM providers send back (llm.md §19):
 * complete responses of the four chat protocols, the SSE and NDJSON stream
 * parsers with their per-protocol accumulators, embedding and rerank
 * responses, and the status-error wording.
 *
 * Input: byte 0 picks the protocol and the parser, byte 1 the size of the
 * pieces a stream arrives in; the rest is the body.  Invariants checked
 * beyond "no crash, no leak": the text a stream delivers, chunk by chunk,
 * is exactly the content of the response it ends in, and a stream parsed
 * in pieces gives the same response as the same bytes in one piece. */
#include <stdlib.h>
#include "fuzz_common.h"
#include "../../src/lib/llm.h"

static VM *vm;

typedef struct {
  StrBuf got;
} Sink;

static void sink(VM *v, void *ud, Value chunk) {
  Sink *s = ud;
  sb_add(&s->got, str_data(chunk), str_len(chunk));
}

typedef struct {
  LlmKind kind;
  const uint8_t *p;
  size_t n, piece;
  Value result;
  Sink sink;
  LlmStreamAcc acc;
  LlmLines lines;
} Run;

static void payload(Run *r, const char *p, size_t n) { llm_stream_payload(vm, &r->acc, p, n, sink, &r->sink); }

static int on_line(void *ud, const char *line, size_t n) {
  Run *r = ud;
  if (r->kind == LK_OLLAMA) {
    if (n) payload(r, line, n);
    return 0;
  }
  const char *pl;
  size_t pn;
  int k = llm_sse_line(line, n, &pl, &pn);
  if (k == 1) payload(r, pl, pn);
  return k == 2;
}

static void stream(VM *v, void *ud) {
  Run *r = ud;
  size_t piece = r->piece ? r->piece : r->n;
  for (size_t off = 0; off < r->n;) {
    size_t m = r->n - off < piece ? r->n - off : piece;
    int rc = llm_lines_feed(&r->lines, (const char *)r->p + off, m, on_line, r);
    if (rc) goto done; /* [DONE] or an overlong line: the transfer stops there (llm_http.c) */
    off += m;
  }
  llm_lines_end(&r->lines, on_line, r);
done:
  r->result = llm_stream_result(v, &r->acc, str_from_c(v, "m"));
}

static void decode(VM *v, void *ud) {
  Run *r = ud;
  r->result = llm_wire_decode(v, r->kind, str_from_c(v, "m"), (const char *)r->p, r->n);
}

static void others(VM *v, void *ud) {
  Run *r = ud;
  Value model = str_from_c(v, "m");
  int64_t tokens = 0;
  switch (r->piece % 5) {
  case 0: llm_wire_embed_decode(v, LE_OPENAI, (const char *)r->p, r->n, &model, &tokens); break;
  case 1: llm_wire_embed_decode(v, LE_COHERE, (const char *)r->p, r->n, &model, &tokens); break;
  case 2: llm_wire_rerank_decode(v, (LlmRerankKind)(1 + r->piece % 3), (const char *)r->p, r->n, list_1(v, str_from_c(v, "d"))); break;
  case 3: llm_wire_status_error(v, r->kind, true, 400 + (long)r->piece, (const char *)r->p, r->n); break;
  default: llm_wire_temperature_refused((const char *)r->p, r->n); break;
  }
}

/* The stream in pieces of `piece` bytes: 0 ok (*content, *ncalls set), 1 raised. */
static int run_stream(LlmKind kind, const uint8_t *p, size_t n, size_t piece, StrBuf *content, size_t *ncalls) {
  Run r = {kind, p, n, piece, NIL_VAL, {{0}}, {0}, {0}};
  sb_init(&r.sink.got);
  llm_stream_acc_init(&r.acc, kind);
  r.lines.max = 1u << 16;
  int raised = vm_protect(vm, stream, &r);
  if (!raised) {
    Value c = RQ(r.result)[RS_CONTENT];
    /* what was delivered is what the response says */
    if (r.sink.got.len != str_len(c) || memcmp(r.sink.got.data ? r.sink.got.data : "", str_data(c), str_len(c))) abort();
    sb_add(content, str_data(c), str_len(c));
    *ncalls = 0;
    for (Value l = RQ(r.result)[RS_CALLS]; is_cons(l); l = cdr(l)) (*ncalls)++;
  }
  sb_free(&r.sink.got);
  llm_stream_acc_free(&r.acc);
  llm_lines_free(&r.lines);
  return raised;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* JSON keys become keywords, which are never collected: a fresh VM
   * before the interned names of many inputs reach the heap limit */
  if (vm && vm->heap.live > (16u << 20)) {
    vm_free(vm);
    vm = NULL;
  }
  if (size < 2) return 0;
  fuzz_vm_begin(&vm);
  LlmKind kind = (LlmKind)(data[0] & 3); /* LK_OPENAI .. LK_OLLAMA */
  int what = (data[0] >> 2) % 3;
  size_t piece = data[1];
  const uint8_t *p = data + 2;
  size_t n = size - 2;
  uint32_t mark = vm_roots_mark(vm);
  if (what == 0) {
    Run r = {kind, p, n, piece, NIL_VAL, {{0}}, {0}, {0}};
    vm_protect(vm, decode, &r);
  } else if (what == 1) {
    StrBuf a, b;
    sb_init(&a);
    sb_init(&b);
    size_t ca = 0, cb = 0;
    int ra = run_stream(kind, p, n, piece, &a, &ca);
    int rb = run_stream(kind, p, n, 0, &b, &cb);
    /* pieces or one piece: the same outcome (a raise is an allocation limit, which both hit or neither) */
    if (!ra && !rb && (a.len != b.len || memcmp(a.data ? a.data : "", b.data ? b.data : "", a.len) || ca != cb)) abort();
    sb_free(&a);
    sb_free(&b);
  } else {
    Run r = {kind, p, n, piece, NIL_VAL, {{0}}, {0}, {0}};
    vm_protect(vm, others, &r);
  }
  vm_roots_reset(vm, mark);
  fuzz_vm_end(&vm);
  return 0;
}
