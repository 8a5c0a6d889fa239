/* llm.c - registration of the LLM subsystem (llm.md): one init per file. */
#include "llm.h"

void llm_providers_init(VM *vm);
void llm_pipeline_init(VM *vm);
void llm_usage_init(VM *vm);
void llm_cache_init(VM *vm);
void llm_agent_init(VM *vm);
void llm_calls_init(VM *vm);

void lib_llm_init(VM *vm) {
  llm_util_init(vm);
  llm_values_init(vm);
  llm_vector_init(vm);
  llm_providers_init(vm);
  llm_pipeline_init(vm);
  llm_usage_init(vm);
  llm_cache_init(vm);
  llm_agent_init(vm);
  llm_calls_init(vm);
}
