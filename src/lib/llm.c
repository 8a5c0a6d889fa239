/* llm.c - registration of the LLM subsystem (llm.md): one init per file. */
#include "llm.h"

void lib_llm_init(VM *vm) {
  llm_util_init(vm);
  llm_values_init(vm);
  llm_vector_init(vm);
}
