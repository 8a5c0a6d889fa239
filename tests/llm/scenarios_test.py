"""The 25 end-to-end scenarios of llm-scenarios.md (S01-S25, with their
variants) against the scripted providers of fake_providers.py: for each,
the requests the program sent (method, path, headers, JSON body) and what
it printed.  Streaming scenarios run twice: one write per line, and the
whole body in one write.
usage: scenarios_test.py SEMA_BINARY [NAME...]"""
import json
import os
import shutil
import sys
import tempfile

from common import check, eq, finish, run_sema
from fake_providers import (AnthropicServer, GeminiServer, OllamaServer, OpenAIServer, Step, anthropic_msg, body, call,
                            chat, delta, gemini_resp, ndjson, ollama_resp, sse)

BIN = os.path.abspath(sys.argv[1])
ONLY = sys.argv[2:]

OPENAI = '(llm/configure :openai {:api-key "sk-test" :base-url "http://127.0.0.1:$PORT/v1"})\n'
ANTHROPIC = '(llm/configure :anthropic {:api-key "ak-test" :base-url "http://127.0.0.1:$PORT/v1"})\n'
OLLAMA = '(llm/configure :ollama {:host "http://127.0.0.1:$PORT" :default-model "llama3.2"})\n'
WEATHER = ('(deftool get-weather "Get current weather for a city" {:city {:type :string :description "City name"}} '
           '(lambda (city) (string-append city ": 4C, rain")))\n')
WSCHEMA = {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]}
WTOOL = [{"type": "function", "function": {"name": "get-weather", "description": "Get current weather for a city", "parameters": WSCHEMA}}]
CITY_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
CITY_TOOL = [{"type": "function", "function": {"name": "get-weather", "description": "Get current weather for a city", "parameters": CITY_SCHEMA}}]
BEARER = {"Authorization": "Bearer sk-test", "Content-Type": "application/json"}
CHAT_PATH = "/v1/chat/completions"


def scenario(name, server_cls, steps, prog, stdout, env=None, stderr_has=(), rc=0, after=None, tmp=None):
    """Run prog against a fresh server scripted with steps; check the
    requests, stdout, stderr fragments and exit status."""
    if ONLY and not any(name.startswith(o) for o in ONLY):
        return None
    srv = server_cls(steps)
    own = tmp is None
    tmp = tmp or tempfile.mkdtemp(prefix="sema-llm-")
    try:
        r = run_sema(BIN, prog, srv.port, tmp, env)
    finally:
        srv.stop()
    check(name + " requests", not srv.problems, "\n  " + "\n  ".join(srv.problems) + "\n  stderr: " + r.err[-800:])
    eq(name + " request count", len(srv.received), len(steps))
    eq(name + " stdout", r.out, stdout)
    eq(name + " exit", r.rc, rc)
    if r.rc != rc:
        print("  stderr:", r.err[-1500:])
    for frag in stderr_has:
        check(name + " stderr", frag in r.err, "\n  want fragment: %r\n  stderr: %r" % (frag, r.err[-1500:]))
    if after:
        after(srv, r, tmp)
    if own:
        shutil.rmtree(tmp, ignore_errors=True)
    return srv, r


MODES = ("lines", "whole")

# ---------------------------------------------------------------- OpenAI-compatible

scenario("S01 chat", OpenAIServer, [
    Step(body(200, {"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-5.5",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}}),
         path=CHAT_PATH, headers=BEARER,
         body={"model": "gpt-5.5", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi"}],
               "max_tokens": 50, "temperature": 0.2})],
    OPENAI + '(println (llm/complete "Say hi" {:system "Be brief." :temperature 0.2 :max-tokens 50}))\n(println (llm/last-usage))\n',
    'Hi!\n{:cache-creation-tokens 0 :cache-read-tokens 0 :completion-tokens 2 :cost-usd 0.000105 :model "gpt-5.5" :prompt-tokens 9 :total-tokens 11}\n')


def gap_check(srv, r, tmp, lo, hi, i=1):
    if len(srv.received) > i:
        g = srv.received[i].time - srv.received[i - 1].time
        check("gap %d in [%.2f, %.2f]" % (i, lo, hi), lo <= g <= hi, "gap %.3f s" % g)


scenario("S02 official URL and temperature self-heal", OpenAIServer, [
    Step(body(400, {"error": {"message": "Unsupported value: 'temperature' does not support 0.3 with this model. Only the default (1) value is supported.",
                              "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value"}}),
         path="/api.openai.com/v1/chat/completions",
         body={"model": "gpt-5.0", "messages": [{"role": "user", "content": "one"}], "max_completion_tokens": 20, "temperature": 0.3}),
    Step(body(200, chat("first")), body={"model": "gpt-5.0", "messages": [{"role": "user", "content": "one"}], "max_completion_tokens": 20}),
    Step(body(200, chat("second")), body={"model": "gpt-5.0", "messages": [{"role": "user", "content": "two"}], "max_completion_tokens": 20})],
    '(llm/configure :openai {:api-key "sk-test" :base-url "http://127.0.0.1:$PORT/api.openai.com/v1" :default-model "gpt-5.0"})\n'
    '(println (llm/complete "one" {:temperature 0.3 :max-tokens 20}))\n(println (llm/complete "two" {:temperature 0.3 :max-tokens 20}))\n',
    "first\nsecond\n", after=lambda s, r, t: gap_check(s, r, t, 0, 0.3))

S03_EVENTS = [
    {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-5.5", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
    {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-5.5", "choices": [{"index": 0, "delta": {"content": "one, "}, "finish_reason": None}]},
    {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-5.5", "choices": [{"index": 0, "delta": {"content": "two, "}, "finish_reason": None}]},
    {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-5.5", "choices": [{"index": 0, "delta": {"content": "three"}, "finish_reason": None}]},
    {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-5.5", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-5.5", "choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": 5, "total_tokens": 13}},
    "[DONE]"]
for mode in MODES:
    scenario("S03 stream with a callback (%s)" % mode, OpenAIServer, [
        Step(sse(S03_EVENTS, mode), path=CHAT_PATH, headers=BEARER,
             body={"model": "gpt-5.5", "messages": [{"role": "user", "content": "Count to three"}], "max_tokens": 30, "stream": True,
                   "stream_options": {"include_usage": True}})],
        OPENAI + "(define parts '())\n(define full (llm/stream \"Count to three\" (fn (c) (set! parts (cons c parts))) {:max-tokens 30}))\n"
        "(println (reverse parts))\n(println full)\n(println (:total-tokens (llm/last-usage)))\n",
        '("" "one, " "two, " "three")\none, two, three\n13\n')

S04_EVENTS = [("raw", ": keep-alive"), ("raw", ""), ("raw", "event: message"), {"choices": [{"delta": {"content": "Hel"}}]},
              ("raw", 'data:{"choices":[{"delta":{"content":"lo!"},"finish_reason":"stop"}]}'), ("raw", ""),
              "not json", "[DONE]", {"choices": [{"delta": {"content": "IGNORED"}}]}]
for mode in MODES:
    scenario("S04 generic provider, stream to stdout, CRLF (%s)" % mode, OpenAIServer, [
        Step(sse(S04_EVENTS, mode, sep="\r\n"), path=CHAT_PATH, headers={"Authorization": "Bearer k"},
             body={"model": "local-model", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 4096, "stream": True})],
        '(llm/configure :local {:api-key "k" :base-url "http://127.0.0.1:$PORT/v1" :default-model "local-model"})\n'
        '(define r (llm/stream "Hello"))\n(println (string-length r))\n',
        "Hello!\n6\n")

S05_SYS = {"role": "system", "content": "You answer weather questions."}
S05_USER = {"role": "user", "content": "Weather in Oslo and Paris?"}
scenario("S05 agent loop, two tool calls in one turn", OpenAIServer, [
    Step(body(200, {"model": "gpt-5.5", "choices": [{"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [
        call("call_1", "get-weather", '{"city": "Oslo"}'), call("call_2", "get-weather", '{"city": "Paris"}')]}, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 60, "completion_tokens": 30, "total_tokens": 90}}),
         path=CHAT_PATH, headers=BEARER,
         body={"model": "gpt-5.5", "messages": [S05_SYS, S05_USER], "max_tokens": 4096, "tools": WTOOL}),
    Step(body(200, {"model": "gpt-5.5", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Oslo: rain, 4C. Paris: sun, 18C."}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}),
         has={"tools": WTOOL, "messages": [S05_SYS, S05_USER,
                                           {"role": "assistant", "content": None, "tool_calls": [call("call_1", "get-weather", {"city": "Oslo"}), call("call_2", "get-weather", {"city": "Paris"})]},
                                           {"role": "tool", "content": "Oslo: 4C, rain", "tool_call_id": "call_1"},
                                           {"role": "tool", "content": "Paris: 18C, sun", "tool_call_id": "call_2"}]})],
    OPENAI + '(deftool get-weather "Get current weather for a city" {:city {:type :string :description "City name"}} '
    '(lambda (city) (if (= city "Oslo") "Oslo: 4C, rain" "Paris: 18C, sun")))\n'
    '(defagent weather-bot {:system "You answer weather questions." :tools [get-weather] :max-turns 4})\n'
    '(println (agent/run weather-bot "Weather in Oslo and Paris?"))\n(println (:total-tokens (llm/session-usage)))\n',
    "Oslo: rain, 4C. Paris: sun, 18C.\n210\n")

S06_U = [{"role": "user", "content": "Weather in Oslo?"}]
S06_A = {"role": "assistant", "content": None, "tool_calls": [call("call_a", "get-weather", {"town": "Oslo"})]}
S06_B = {"role": "assistant", "content": None, "tool_calls": [call("call_b", "get-weather", {"city": "Oslo"})]}
S06_T1 = {"role": "tool", "content": "Error: LLM error: invalid arguments for tool 'get-weather': missing key: city", "tool_call_id": "call_a"}
S06_T2 = {"role": "tool", "content": "Oslo: 4C, rain", "tool_call_id": "call_b"}
scenario("S06 sequential rounds, a bad call fed back, :on-tool-call", OpenAIServer, [
    Step(body(200, chat(None, tool_calls=[call("call_a", "get-weather", '{"town":"Oslo"}')])), has={"messages": S06_U, "tools": CITY_TOOL}),
    Step(body(200, chat(None, tool_calls=[call("call_b", "get-weather", '{"city":"Oslo"}')])), has={"messages": S06_U + [S06_A, S06_T1]}),
    Step(body(200, chat("It is 4C and raining in Oslo.")), has={"messages": S06_U + [S06_A, S06_T1, S06_B, S06_T2]})],
    OPENAI + '(deftool get-weather "Get current weather for a city" {:city {:type :string}} (lambda (city) (string-append city ": 4C, rain")))\n'
    '(defagent bot {:tools [get-weather]})\n(println (:response (agent/run bot "Weather in Oslo?"\n'
    '  {:on-tool-call (fn (e) (when (= (:event e) "end") (println "tool" (:tool e) (:error e) (:result e))))})))\n',
    "tool get-weather #t Error: LLM error: invalid arguments for tool 'get-weather': missing key: city\n"
    "tool get-weather #f Oslo: 4C, rain\nIt is 4C and raining in Oslo.\n")

S07_1 = [{"choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [{"index": 0, "id": "call_9", "type": "function", "function": {"name": "get-weather", "arguments": ""}}]}, "finish_reason": None}]},
         {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"ci"}}]}, "finish_reason": None}]},
         {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "ty\": \"Oslo\"}"}}]}, "finish_reason": None}]},
         {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
         {"choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}}, "[DONE]"]
S07_2 = [delta("It is "), delta("rainy."), delta(finish="stop"), {"choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 3, "total_tokens": 33}}, "[DONE]"]
for mode in MODES:
    scenario("S07 streamed tool calls through :on-text (%s)" % mode, OpenAIServer, [
        Step(sse(S07_1, mode), has={"stream": True, "stream_options": {"include_usage": True}, "tools": CITY_TOOL,
                                    "messages": [{"role": "user", "content": "Oslo?"}]}),
        Step(sse(S07_2, mode), has={"stream": True, "messages": [
            {"role": "user", "content": "Oslo?"},
            {"role": "assistant", "content": None, "tool_calls": [call("call_9", "get-weather", {"city": "Oslo"})]},
            {"role": "tool", "content": "Oslo: 4C, rain", "tool_call_id": "call_9"}]})],
        OPENAI + '(deftool get-weather "Get current weather for a city" {:city {:type :string}} (lambda (city) (string-append city ": 4C, rain")))\n'
        '(defagent bot {:tools [get-weather]})\n(define r (agent/run bot "Oslo?" {:on-text (fn (c) (display (string-append "[" c "]")))}))\n'
        '(newline)\n(println (:response r))\n',
        "[It is ][rainy.]\nIt is rainy.\n")

S08_SCHEMA = '{\n  "age": <number>,\n  "name": <string>\n}'
S08_SYS1 = "Extract structured data from the text. Respond with ONLY a JSON object matching this schema:\n" + S08_SCHEMA + "\nDo not include any other text."
S08_SYS2 = ("Your previous response did not match the required schema.\n\nPrevious response:\n```json\n{\"name\": \"Ada Lovelace\", \"age\": \"36\"}\n```\n\n"
            "Validation errors:\nkey age: expected number, got string\n\nPlease respond with ONLY a corrected JSON object matching this schema:\n"
            + S08_SCHEMA + "\nDo not include any other text.")
scenario("S08 llm/extract: JSON mode, schema prompt, one re-ask", OpenAIServer, [
    Step(body(200, chat('{"name": "Ada Lovelace", "age": "36"}')),
         body={"model": "gpt-5.5", "messages": [{"role": "system", "content": S08_SYS1}, {"role": "user", "content": "Ada Lovelace was 36."}],
               "max_tokens": 4096, "response_format": {"type": "json_object"}}),
    Step(body(200, chat('{"name": "Ada Lovelace", "age": 36}')),
         has={"response_format": {"type": "json_object"},
              "messages": [{"role": "system", "content": S08_SYS2}, {"role": "user", "content": "Ada Lovelace was 36."}]})],
    OPENAI + '(println (llm/extract {:name {:type :string} :age {:type :number}} "Ada Lovelace was 36."))\n',
    '{:age 36 :name "Ada Lovelace"}\n')

scenario("S09 vision input", OpenAIServer, [
    Step(body(200, chat("A PNG signature.")), has={"messages": [
        {"role": "system", "content": "Describe images."},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}, {"type": "text", "text": "What is this?"}]}]})],
    OPENAI + '(define png (bytevector 137 80 78 71 13 10 26 10))\n'
    '(println (llm/chat (list (message :system "Describe images.") (message/with-image :user "What is this?" png))))\n',
    "A PNG signature.\n")

# ---------------------------------------------------------------- Anthropic

ANTH_HEADERS = {"x-api-key": "ak-test", "anthropic-version": "2023-06-01", "content-type": "application/json"}
scenario("S10 Anthropic Messages", AnthropicServer, [
    Step(body(200, {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6", "content": [{"type": "text", "text": "Hi."}],
                    "stop_reason": "end_turn", "usage": {"input_tokens": 12, "output_tokens": 3}}),
         path="/v1/messages", headers=ANTH_HEADERS, no_headers=["Authorization"],
         body={"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 64, "temperature": 0.5, "system": "You are terse."})],
    ANTHROPIC + '(println (llm/chat (list (message :system "You are terse.") (message :user "Hello")) {:max-tokens 64 :temperature 0.5}))\n(println (llm/last-usage))\n',
    'Hi.\n{:cache-creation-tokens 0 :cache-read-tokens 0 :completion-tokens 3 :cost-usd 0.000081 :model "claude-sonnet-4-6" :prompt-tokens 12 :total-tokens 15}\n')

ATOOLS = [{"name": "get-weather", "description": "Get current weather for a city", "input_schema": WSCHEMA}]
S11_ASSIST = {"role": "assistant", "content": [{"type": "text", "text": "Let me check."}, {"type": "tool_use", "id": "toolu_01", "name": "get-weather", "input": {"city": "Oslo"}}]}
scenario("S11 Anthropic tool round trip", AnthropicServer, [
    Step(body(200, anthropic_msg(S11_ASSIST["content"], stop="tool_use", inp=50, out=20)),
         body={"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "Weather in Oslo?"}], "max_tokens": 4096,
               "system": "You answer weather questions.", "tools": ATOOLS}),
    Step(body(200, anthropic_msg([{"type": "text", "text": "Rainy, 4C."}])),
         has={"system": "You answer weather questions.", "tools": ATOOLS, "messages": [
             {"role": "user", "content": "Weather in Oslo?"}, S11_ASSIST,
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "Oslo: 4C, rain"}]}]})],
    ANTHROPIC + WEATHER + '(defagent weather-bot {:system "You answer weather questions." :tools [get-weather]})\n(println (agent/run weather-bot "Weather in Oslo?"))\n',
    "Rainy, 4C.\n")

S12_EVENTS = [
    ("event", "message_start", {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6", "content": [], "usage": {"input_tokens": 10, "output_tokens": 1}}}),
    ("event", "content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ("event", "ping", {"type": "ping"}),
    ("event", "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Once "}}),
    ("event", "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "upon a time."}}),
    ("event", "content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("event", "message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 6}}),
    ("event", "message_stop", {"type": "message_stop"})]
for mode in MODES:
    scenario("S12 Anthropic streaming (%s)" % mode, AnthropicServer, [
        Step(sse(S12_EVENTS, mode), headers=ANTH_HEADERS,
             body={"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "Tell me a story"}], "max_tokens": 100, "stream": True})],
        ANTHROPIC + '(define n 0)\n(define out (llm/stream "Tell me a story" (fn (c) (set! n (+ n 1))) {:max-tokens 100}))\n(println out n)\n'
        '(println (:prompt-tokens (llm/last-usage)) (:completion-tokens (llm/last-usage)))\n',
        "Once upon a time. 2\n10 6\n")

scenario("S13 Anthropic error body, no retry", AnthropicServer, [
    Step(body(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: 999999 > 64000, which is the maximum allowed"}}),
         has={"max_tokens": 999999})],
    ANTHROPIC + '(println (try (llm/complete "x" {:max-tokens 999999}) (catch e (list (:type e) (:message e)))))\n',
    '(:llm "API error: 400 - max_tokens: 999999 > 64000, which is the maximum allowed")\n')

# ---------------------------------------------------------------- Ollama

scenario("S14 Ollama /api/chat", OllamaServer, [
    Step(body(200, ollama_resp("Rayleigh scattering.")), path="/api/chat", no_headers=["Authorization"],
         body={"model": "llama3.2", "messages": [{"role": "user", "content": "Why is the sky blue?"}], "stream": False,
               "options": {"num_predict": 4096, "temperature": 0.1}})],
    OLLAMA + '(println (llm/complete "Why is the sky blue?" {:temperature 0.1}))\n(println (llm/last-usage))\n',
    'Rayleigh scattering.\n{:cache-creation-tokens 0 :cache-read-tokens 0 :completion-tokens 4 :model "llama3.2" :prompt-tokens 14 :total-tokens 18}\n')

S15 = [{"model": "llama3.2", "message": {"role": "assistant", "content": "Hel"}, "done": False},
       {"model": "llama3.2", "message": {"role": "assistant", "content": "lo"}, "done": False},
       {"model": "llama3.2", "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop", "prompt_eval_count": 3, "eval_count": 2}]
for mode in MODES:
    scenario("S15 Ollama NDJSON stream (%s)" % mode, OllamaServer, [
        Step(ndjson(S15, mode), body={"model": "llama3.2", "messages": [{"role": "user", "content": "Hi"}], "stream": True, "options": {"num_predict": 4096}})],
        OLLAMA + "(define parts '())\n(define r (llm/stream \"Hi\" (fn (c) (set! parts (cons c parts)))))\n"
        "(println (reverse parts) r (:completion-tokens (llm/last-usage)))\n",
        '("Hel" "lo") Hello 2\n')

ADD_TOOL = [{"type": "function", "function": {"name": "add", "description": "Add two numbers", "parameters": {
    "type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}}}]
scenario("S16 Ollama tool calls", OllamaServer, [
    Step(body(200, ollama_resp("", prompt=20, ev=10, tool_calls=[{"function": {"name": "add", "arguments": {"a": 2, "b": 3}}}])),
         body={"model": "llama3.2", "messages": [{"role": "user", "content": "What is 2+3?"}], "stream": False, "options": {"num_predict": 4096}, "tools": ADD_TOOL}),
    Step(body(200, ollama_resp("2 + 3 = 5", prompt=30, ev=8)),
         has={"tools": ADD_TOOL, "messages": [{"role": "user", "content": "What is 2+3?"},
                                              {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "add", "arguments": {"a": 2, "b": 3}}}]},
                                              {"role": "tool", "content": "5", "tool_name": "add"}]})],
    OLLAMA + '(deftool add "Add two numbers" {:a {:type :number} :b {:type :number}} (lambda (a b) (+ a b)))\n'
    '(define r (agent/run (agent {:tools [add]}) "What is 2+3?" {}))\n(println (:response r))\n(println (:tool-call-id (nth (:messages r) 2)))\n',
    "2 + 3 = 5\nollama-call-0\n")

# ---------------------------------------------------------------- embeddings

scenario("S17 embeddings, OpenAI-compatible", OpenAIServer, [
    Step(body(200, {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -0.25, 0.125]}], "model": "text-embedding-3-small",
                    "usage": {"prompt_tokens": 1, "total_tokens": 1}}),
         path="/v1/embeddings", headers={"Authorization": "Bearer ek"}, body={"input": ["hello"], "model": "text-embedding-3-small"}),
    Step(body(200, {"object": "list", "data": [{"index": 0, "embedding": [0.1, 0.2]}, {"index": 1, "embedding": [0.3, 0.4]}], "model": "text-embedding-3-small",
                    "usage": {"prompt_tokens": 2, "total_tokens": 2}}),
         body={"input": ["a", "b"], "model": "text-embedding-3-small"})],
    '(llm/configure-embeddings :openai {:api-key "ek" :base-url "http://127.0.0.1:$PORT/v1"})\n'
    '(println (embedding/->list (llm/embed "hello" {:model "text-embedding-3-small"})))\n'
    '(println (map embedding/length (llm/embed ["a" "b"] {:model "text-embedding-3-small"})))\n'
    '(println (:prompt-tokens (llm/last-usage)) (:cost-usd (llm/last-usage)))\n',
    "(0.5 -0.25 0.125)\n(2 2)\n2 0.00000004\n")

EMB1 = {"object": "list", "data": [{"index": 0, "embedding": [1.0, 0.0]}], "model": "nomic-embed-text", "usage": {"prompt_tokens": 1}}
scenario("S17 variant: Ollama's OpenAI endpoint", OpenAIServer, [
    Step(body(200, EMB1), path="/v1/embeddings", headers={"Authorization": "Bearer "}, body={"input": ["hello"], "model": "nomic-embed-text"}),
    Step(body(200, EMB1), body={"input": ["hello"], "model": "text-embedding-3-small"})],
    '(llm/configure-embeddings :ollama {:base-url "http://127.0.0.1:$PORT/v1"})\n'
    '(println (embedding/->list (llm/embed "hello" {:model "nomic-embed-text"})) (embedding/length (llm/embed "hello")))\n',
    "(1.0 0.0) 2\n")

scenario("S18 Cohere embeddings", OpenAIServer, [
    Step(body(200, {"id": "e1", "embeddings": {"float": [[0.1, 0.2]]}, "texts": ["hello"], "meta": {"billed_units": {"input_tokens": 1}}}),
         path="/v2/embed", headers={"Authorization": "Bearer ck"},
         body={"embedding_types": ["float"], "input_type": "search_document", "model": "embed-english-v3.0", "texts": ["hello"]})],
    '(llm/configure-embeddings :cohere {:api-key "ck" :base-url "http://127.0.0.1:$PORT/v2"})\n(println (embedding/->list (llm/embed "hello")))\n',
    "(0.1 0.2)\n")

scenario("S18 variant: Jina", OpenAIServer, [
    Step(body(200, {"data": [{"index": 0, "embedding": [0.25]}], "model": "jina-embeddings-v3", "usage": {"total_tokens": 3}}),
         path="/v1/embeddings", headers={"Authorization": "Bearer jk"}, body={"input": ["hello"], "model": "jina-embeddings-v3"})],
    '(llm/configure-embeddings :jina {:api-key "jk" :base-url "http://127.0.0.1:$PORT/v1"})\n'
    '(println (embedding/->list (llm/embed "hello")) (:prompt-tokens (llm/last-usage)))\n',
    "(0.25) 3\n")

RERANK = {"results": [{"index": 1, "relevance_score": 0.9}, {"index": 0, "relevance_score": 0.2}, {"index": 7}]}
scenario("rerank (Jina, §19.7)", OpenAIServer, [
    Step(body(200, RERANK), path="/v1/rerank", headers={"Authorization": "Bearer jk"},
         body={"documents": ["cats", "dogs"], "model": "jina-reranker-v2-base-multilingual", "query": "dog", "top_n": 2})],
    '(llm/configure :jina {:api-key "jk" :base-url "http://127.0.0.1:$PORT/v1"})\n(println (llm/rerank "dog" ["cats" "dogs"] {:top-k 2}))\n',
    '({:document "dogs" :index 1 :score 0.9} {:document "cats" :index 0 :score 0.2})\n')

scenario("rerank (Voyage, §19.7)", OpenAIServer, [
    Step(body(200, {"data": [{"index": 0, "relevance_score": 0.5}]}), path="/v1/rerank",
         body={"documents": ["a"], "model": "rerank-2.5", "query": "q", "top_k": 1})],
    '(llm/configure :voyage {:api-key "vk" :base-url "http://127.0.0.1:$PORT/v1"})\n(println (llm/rerank "q" ["a"] {:top-k 1}))\n',
    '({:document "a" :index 0 :score 0.5})\n')

scenario("rerank (Cohere, §19.7)", OpenAIServer, [
    Step(body(200, {"results": [{"index": 0, "relevance_score": 1}]}), path="/v2/rerank",
         body={"documents": ["a"], "model": "m", "query": "q"})],
    '(llm/configure :cohere {:api-key "ck" :base-url "http://127.0.0.1:$PORT/v2"})\n(println (llm/rerank "q" ["a"] {:model "m"}))\n',
    '({:document "a" :index 0 :score 1.0})\n')

# ---------------------------------------------------------------- budget, retries, fallback

scenario("S19 budget exceeded", OpenAIServer, [
    Step(body(200, {"id": "c1", "object": "chat.completion", "created": 1, "model": "priced-model",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "costly"}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1000, "completion_tokens": 1000, "total_tokens": 2000}}),
         has={"model": "priced-model", "messages": [{"role": "user", "content": "expensive"}]})],
    '(llm/configure :local {:api-key "k" :base-url "http://127.0.0.1:$PORT/v1" :default-model "priced-model"})\n'
    '(llm/set-pricing "priced-model" 1000.0 1000.0)\n'
    '(println (try (llm/with-budget {:max-cost-usd 0.5} (fn () (llm/complete "expensive") (llm/complete "never sent")))\n'
    '              (catch e (:message e))))\n(println (llm/budget-remaining))\n(println (:cost-usd (llm/session-usage)))\n',
    "budget exceeded: spent $2.0000 of $0.5000 limit\nnil\n2.0\n")

HI = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4096}
scenario("S20 retry after a 5xx", OpenAIServer, [
    Step(body(500, "upstream exploded", "text/plain"), body=HI), Step(body(200, chat("recovered")), body=HI)],
    OPENAI + '(println (llm/complete "hi"))\n', "recovered\n", after=lambda s, r, t: gap_check(s, r, t, 0, 0.75))

scenario("S21 retry after a 429", OpenAIServer, [
    Step(body(429, {"error": {"message": "Rate limit reached", "type": "rate_limit_error"}}, headers={"Retry-After": "1"}), body=HI),
    Step(body(200, chat("after the wait")), body=HI)],
    OPENAI + '(println (llm/complete "hi"))\n', "after the wait\n", after=lambda s, r, t: gap_check(s, r, t, 0.9, 6))


def s22_gaps(srv, r, tmp):
    for i, hi in ((1, 0.75), (2, 1.25), (3, 2.25)):
        gap_check(srv, r, tmp, 0, hi, i)


scenario("S22 retries exhausted", OpenAIServer, [Step(body(503, "overloaded", "text/plain"), body=HI) for _ in range(4)],
         OPENAI + '(println (try (llm/complete "hi") (catch e (:message e))))\n', "API error: 503 - overloaded\n", after=s22_gaps)

P1 = {"Authorization": "Bearer k1"}
P2 = {"Authorization": "Bearer k2"}
BAD_KEY = {"error": {"message": "invalid api key"}}
scenario("S23 fallback chain", OpenAIServer, [
    Step(body(401, BAD_KEY), path="/p1/v1/chat/completions", headers=P1, has={"model": "primary-model"}),
    Step(body(200, chat("from backup")), path="/p2/v1/chat/completions", headers=P2, has={"model": "backup-model"}),
    Step(body(401, BAD_KEY), path="/p1/v1/chat/completions", headers=P1, has={"model": "primary-model"}),
    Step(body(200, chat("from special")), path="/p2/v1/chat/completions", headers=P2, has={"model": "special-model"})],
    '(llm/configure :primary {:api-key "k1" :base-url "http://127.0.0.1:$PORT/p1/v1" :default-model "primary-model"})\n'
    '(llm/configure :backup {:api-key "k2" :base-url "http://127.0.0.1:$PORT/p2/v1" :default-model "backup-model"})\n'
    '(println (llm/with-fallback [:primary :backup] (fn () (llm/complete "hi"))))\n'
    '(println (llm/with-fallback [:primary [:backup "special-model"]] (fn () (llm/complete "hi"))))\n',
    "from backup\nfrom special\n",
    after=lambda s, r, t: eq("S23 stderr twice", r.err.count(
        "Provider 'primary' failed: LLM error: API error: 401 - {\"error\": {\"message\": \"invalid api key\"}}, trying next...\n"), 2))

# ---------------------------------------------------------------- cassettes

TAPE_LINE = ('{"v":1,"kind":"complete","key":"d556b8778ad13a9a68126280b28dd95eafb13462644f94d2814e30e8956dbecc","content":"Hello from the model",'
             '"role":"assistant","model":"gpt-5.5","tool_calls":[],"stop_reason":"stop","prompt_tokens":5,"completion_tokens":4,'
             '"cache_read_input_tokens":0,"cache_creation_input_tokens":0,"chunks":[],"embeddings":[]}\n')
if not ONLY or any("S24".startswith(o) or o.startswith("S24") for o in ONLY):
    tmp = tempfile.mkdtemp(prefix="sema-llm-s24-")
    tape = os.path.join(tmp, "tapes", "t.jsonl")
    prog = OPENAI + '(println (llm/with-cassette "$TMP/tapes/t.jsonl" {:mode :MODE} (fn () (llm/complete "hi"))))\n'
    scenario("S24 run A: record", OpenAIServer, [Step(body(200, chat("Hello from the model")), body=HI)],
             prog.replace("MODE", "record"), "Hello from the model\n", tmp=tmp)
    got = open(tape).read() if os.path.exists(tape) else None
    eq("S24 tape bytes", got, TAPE_LINE)
    scenario("S24 run B: replay, server refusing everything", OpenAIServer, [],
             prog.replace("MODE", "replay") + '(println (:completion-tokens (llm/last-usage)))\n', "Hello from the model\n4\n", tmp=tmp)
    eq("S24 tape unchanged", open(tape).read() if os.path.exists(tape) else None, TAPE_LINE)
    scenario("S24 run C: replay from the environment", OpenAIServer, [],
             OPENAI + '(println (llm/complete "hi"))\n(println (try (llm/complete "bye") (catch e (:message e))))\n',
             "Hello from the model\ncassette miss in :replay mode (key 0c4e8d561de085d4d343e8e7570901eb038e9784a28549c4869ff48f50e4107f) "
             "\u2014 no recorded interaction for this request; re-record the tape or use :auto mode\n",
             env={"SEMA_LLM_CASSETTE": tape, "SEMA_LLM_CASSETTE_MODE": "replay"}, tmp=tmp)
    shutil.rmtree(tmp, ignore_errors=True)

# ---------------------------------------------------------------- Gemini

scenario("S25 Gemini generateContent", GeminiServer, [
    Step(body(200, {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hello!"}]}, "finishReason": "STOP", "index": 0}],
                    "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "totalTokenCount": 6}, "modelVersion": "gemini-3.5-flash"}),
         path="/v1beta/models/gemini-3.5-flash:generateContent", headers={"x-goog-api-key": "gk"},
         body={"contents": [{"role": "user", "parts": [{"text": "Hi"}]}], "systemInstruction": {"parts": [{"text": "Be brief."}]},
               "generationConfig": {"maxOutputTokens": 100, "temperature": 0.4}})],
    '(llm/configure :gemini {:api-key "gk" :base-url "http://127.0.0.1:$PORT/v1beta"})\n'
    '(println (llm/complete "Hi" {:system "Be brief." :max-tokens 100 :temperature 0.4}))\n(println (:total-tokens (llm/last-usage)))\n',
    "Hello!\n6\n")

GEM_STREAM = [gemini_resp([{"text": "Hel"}], finish=None), gemini_resp([{"text": "lo"}], prompt=3, cand=2)]
for mode in MODES:
    scenario("Gemini stream (%s)" % mode, GeminiServer, [
        Step(sse(GEM_STREAM, mode), path="/v1beta/models/gemini-3.5-flash:streamGenerateContent?alt=sse",
             body={"contents": [{"role": "user", "parts": [{"text": "Hi"}]}], "generationConfig": {"maxOutputTokens": 4096}})],
        '(llm/configure :gemini {:api-key "gk" :base-url "http://127.0.0.1:$PORT/v1beta"})\n'
        "(define parts '())\n(println (llm/stream \"Hi\" (fn (c) (set! parts (cons c parts)))) (reverse parts) (:total-tokens (llm/last-usage)))\n",
        'Hello ("Hel" "lo") 5\n')

GEM_CALL = {"role": "model", "parts": [{"functionCall": {"name": "get-weather", "args": {"city": "Oslo"}}}]}
scenario("Gemini tool round trip", GeminiServer, [
    Step(body(200, gemini_resp(GEM_CALL["parts"])), has={"tools": [{"function_declarations": [
        {"name": "get-weather", "description": "Get current weather for a city", "parameters": WSCHEMA}]}],
        "systemInstruction": {"parts": [{"text": "S"}]}}),
    Step(body(200, gemini_resp([{"text": "Rainy."}])), has={"contents": [
        {"role": "user", "parts": [{"text": "Oslo?"}]}, GEM_CALL,
        {"role": "user", "parts": [{"functionResponse": {"name": "get-weather", "response": {"result": "Oslo: 4C, rain"}}}]}]})],
    '(llm/configure :gemini {:api-key "gk" :base-url "http://127.0.0.1:$PORT/v1beta"})\n' + WEATHER +
    '(define r (agent/run (agent {:system "S" :tools [get-weather]}) "Oslo?" {}))\n(println (:response r) (:id (first (:tool-calls (nth (:messages r) 1)))))\n',
    "Rainy. gemini-call-0\n")

scenario("Gemini empty response of a thinking model", GeminiServer, [
    Step(body(200, {"candidates": [{"content": {"role": "model", "parts": []}, "finishReason": "MAX_TOKENS"}],
                    "usageMetadata": {"promptTokenCount": 4, "thoughtsTokenCount": 90}}))],
    '(llm/configure :gemini {:api-key "gk" :base-url "http://127.0.0.1:$PORT/v1beta"})\n'
    '(println (try (llm/complete "Hi") (catch e (string/starts-with? (:message e) "API error: 200 - Gemini returned an empty response (finishReason: MAX_TOKENS; 90 reasoning tokens"))))\n',
    "#t\n")

scenario("Gemini model names that would change the path", GeminiServer, [],
         '(llm/configure :gemini {:api-key "gk" :base-url "http://127.0.0.1:$PORT/v1beta"})\n'
         '(println (try (llm/complete "Hi" {:model "../x"}) (catch e (:message e))))\n',
         'Config error: invalid model name: "../x"\n')

# ---------------------------------------------------------------- more of the pipeline over HTTP

scenario("batch over HTTP: concurrent, in order", OpenAIServer, [Step(body(200, chat("r"))) for _ in range(3)],
         OPENAI + '(println (llm/batch ["a" "b" "c"]) (:total-tokens (llm/session-usage)))\n', '("r" "r" "r") 27\n')

scenario("conversation/say over HTTP", OpenAIServer, [
    Step(body(200, chat("Hello, Ada.")), has={"messages": [{"role": "system", "content": "Be kind"}, {"role": "user", "content": "I am Ada"}]}),
    Step(body(200, chat("Ada.")), has={"messages": [{"role": "system", "content": "Be kind"}, {"role": "user", "content": "I am Ada"},
                                                    {"role": "assistant", "content": "Hello, Ada."}, {"role": "user", "content": "Who am I?"}]})],
    OPENAI + '(define c (conversation/say (conversation/say (conversation/set-system (conversation/new) "Be kind") "I am Ada") "Who am I?"))\n'
    '(println (conversation/last-reply c) (conversation/length c) (:tokens (conversation/stats c)))\n',
    "Ada. 5 {:completion 8 :prompt 10 :total 18}\n")

scenario("timeout per call (:timeout)", OpenAIServer, [
    Step(body(200, chat("late")), check=lambda r: None)],
    OPENAI + '(println (llm/complete "hi" {:timeout 60000}))\n', "late\n")

finish("llm scenarios")
