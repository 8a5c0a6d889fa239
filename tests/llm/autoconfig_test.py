"""Auto-configuration from the environment (llm.md §7.5, §7.6): what the
command line registers before the program runs, the SEMA_* selections,
--chat-provider errors, and OLLAMA_HOST without a scheme (reached for real).
usage: autoconfig_test.py SEMA_BINARY"""
import os
import sys

from common import eq, finish, run_sema
from fake_providers import OllamaServer, Step, body, ollama_resp

BIN = os.path.abspath(sys.argv[1])
SHOW = '(println (llm/list-providers) (llm/current-provider) (llm/auto-configure))\n'


def case(name, env, want, args=(), prog=SHOW, rc=0):
    r = run_sema(BIN, prog, env=env, args=args)
    eq(name, r.out, want)
    eq(name + " exit", r.rc, rc)
    return r


case("nothing set: ollama only", {}, "(:ollama) {:model \"gemma4\" :name :ollama} :ollama\n")
case("§7.5 example: OPENAI_API_KEY only", {"OPENAI_API_KEY": "k"},
     "(:ollama :openai :openai-embeddings) {:model \"gpt-5.5\" :name :openai} :openai\n")
case("priority order, SEMA_CHAT_MODEL on the first", {"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "a", "GOOGLE_API_KEY": "g",
                                                      "SEMA_CHAT_MODEL": "claude-x"},
     "(:anthropic :gemini :ollama :openai :openai-embeddings) {:model \"claude-x\" :name :anthropic} :anthropic\n")
case("SEMA_CHAT_PROVIDER (trimmed, lower-cased) takes the model", {"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "a",
                                                                   "SEMA_CHAT_PROVIDER": " OpenAI ", "SEMA_CHAT_MODEL": "gpt-x"},
     "(:anthropic :ollama :openai :openai-embeddings) {:model \"gpt-x\" :name :openai} :openai\n")
case("empty values count as unset", {"OPENAI_API_KEY": "", "GROQ_API_KEY": "q"},
     "(:groq :ollama) {:model \"llama-3.3-70b-versatile\" :name :groq} :groq\n")
case("embedding providers", {"COHERE_API_KEY": "c", "JINA_API_KEY": "j", "OPENAI_API_KEY": "k"},
     "(:cohere :jina :ollama :openai) {:model \"gpt-5.5\" :name :openai} :openai\n")
r = case("an unknown SEMA_CHAT_PROVIDER: ignored at start, raised when called", {"SEMA_CHAT_PROVIDER": "nope"},
         "(:llm \"requested provider is not configured: nope\")\n",
         prog='(println (try (llm/auto-configure) (catch e (list (:type e) (:message e)))))\n')
r = case("--chat-provider nope: reported, exit 1", {}, "", args=("--chat-provider", "nope"), prog='(println "not reached")\n', rc=1)
eq("--chat-provider nope: the message", "requested provider is not configured: nope" in r.err, True)
case("--chat-model sets the model", {"XAI_API_KEY": "x"}, "(:ollama :xai) {:model \"grok-x\" :name :xai} :xai\n", args=("--chat-model", "grok-x"))
case("--no-llm: nothing registered", {"OPENAI_API_KEY": "k"}, "() nil\n", args=("--no-llm",),
     prog='(println (llm/list-providers) (llm/current-provider))\n')
case("SEMA_EMBEDDING_PROVIDER unknown", {"SEMA_EMBEDDING_PROVIDER": "zz"}, "requested embedding provider is not configured: zz\n",
     prog='(println (try (llm/auto-configure) (catch e (:message e))))\n')

srv = OllamaServer([Step(body(200, ollama_resp("from ollama")), path="/api/chat", has={"model": "gemma4"})])
try:
    case("OLLAMA_HOST without a scheme", {"OLLAMA_HOST": "127.0.0.1:%d" % srv.port}, "from ollama\n", prog='(println (llm/complete "hi"))\n')
finally:
    srv.stop()
eq("OLLAMA_HOST request", (len(srv.received), srv.problems), (1, []))
finish("llm auto-configure")
