/* llm_http.c - the HTTP providers' transport (llm.md §19): placeholder
 * until the C HTTP client (src/lib/httpc.h) is in the tree. */
#include "llm.h"

static NORETURN void unavailable(VM *vm) { llm_err(vm, "HTTP error: the HTTP client is not available in this build"); }

Value llm_http_complete(VM *vm, LlmProvider *p, Value req) { unavailable(vm); }
Value llm_http_stream(VM *vm, LlmProvider *p, Value req, LlmChunkFn fn, void *ud, bool *delivered) { unavailable(vm); }
Value llm_http_batch(VM *vm, LlmProvider *p, Value reqs) { unavailable(vm); }
Value llm_http_embed(VM *vm, LlmProvider *p, Value texts, Value model, Value *resp_model, int64_t *tokens) { unavailable(vm); }
Value llm_http_rerank(VM *vm, LlmProvider *p, Value query, Value docs, Value model, int64_t top_k) { unavailable(vm); }
