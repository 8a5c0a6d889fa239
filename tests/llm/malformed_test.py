"""Malformed and hostile provider responses (issue 17): truncated JSON, an
SSE or NDJSON stream cut in the middle, wrong content types, a 200 carrying
an error object, servers that never answer (under SEMA_LLM_TIMEOUT_MS),
invalid UTF-8, a refused connection, a key echoed back in an error body.
Each must end in a clear :llm error (or a timeout reported as one) and a
normal exit: never a crash, a hang or a silent wrong answer.
usage: malformed_test.py SEMA_BINARY"""
import os
import re
import sys

from common import check, eq, finish, run_sema
from fake_providers import (AnthropicServer, GeminiServer, OllamaServer, OpenAIServer, Step, body, chat, delta, hang,
                            headers_then_hang, ndjson, sse, stream)

BIN = os.path.abspath(sys.argv[1])
FAST = {"SEMA_LLM_TIMEOUT_MS": "400", "SEMA_LLM_RETRY_DELAY_MS": "0"}

CONF = {
    OpenAIServer: '(llm/configure :openai {:api-key "sk-secret-key-123" :base-url "http://127.0.0.1:$PORT/v1"})\n',
    AnthropicServer: '(llm/configure :anthropic {:api-key "ak-secret-key-123" :base-url "http://127.0.0.1:$PORT/v1"})\n',
    GeminiServer: '(llm/configure :gemini {:api-key "gk-secret-key-123" :base-url "http://127.0.0.1:$PORT/v1beta"})\n',
    OllamaServer: '(llm/configure :ollama {:host "http://127.0.0.1:$PORT" :default-model "m"})\n',
}
TRY = '(println (try {expr} (catch e (list (:type e) (:message e)))))\n'


def case(name, cls, steps, expr, want, env=None, max_secs=10, extra=""):
    """want: a regex the printed line must match in full."""
    srv = cls(steps)
    try:
        r = run_sema(BIN, CONF[cls] + extra + TRY.format(expr=expr), srv.port, env=env, timeout=max_secs + 20)
    finally:
        srv.stop()
    out = r.out.strip().splitlines()
    last = out[-1] if out else ""
    check(name, re.fullmatch(want, last, re.S) is not None, "\n  got:  %r\n  want: %r\n  stderr: %r" % (r.out, want, r.err[-600:]))
    eq(name + " exit", r.rc, 0)
    check(name + " time", r.secs < max_secs, "took %.1f s" % r.secs)
    check(name + " no key", "secret-key-123" not in r.out + r.err, r.out + r.err)
    return r


CB = "(llm/stream \"x\" (fn (c) (display (string-append \"<\" c \">\"))))"
COMPLETE = '(llm/complete "x")'

for cls in (OpenAIServer, AnthropicServer, GeminiServer, OllamaServer):
    n = cls.name
    case(n + ": truncated JSON", cls, [Step(body(200, '{"id":"c1","choices":[{"mess'))], COMPLETE,
         r"\(:llm \"Parse error: EOF while parsing .* at line 1 column \d+ \(response body: .*mess\)\"\)")
    case(n + ": HTML where JSON was expected", cls, [Step(body(200, "<html><body>502 Bad Gateway</body></html>", "text/html"))], COMPLETE,
         r"\(:llm \"Parse error: .*\(response body: <html><body>502 Bad Gateway</body></html>\)\"\)")
    case(n + ": 200 carrying an error object", cls, [Step(body(200, {"error": {"message": "quota exceeded"}}))], COMPLETE,
         r"\(:llm \"Parse error: missing field `\w+`.*quota exceeded.*\"\)")
    case(n + ": a JSON array", cls, [Step(body(200, [1, 2]))], COMPLETE, r"\(:llm \"Parse error: expected a JSON object .*\"\)")
    case(n + ": invalid UTF-8", cls, [Step(body(200, b'{"x": "\xff\xfe"}'))], COMPLETE, r"\(:llm \"Parse error: invalid UTF-8.*\"\)")
    case(n + ": no answer at all", cls, [Step(hang(20))] * 4, COMPLETE, r"\(:llm \"HTTP error: .*(timed out|Timeout|timeout).*\"\)",
         env=FAST, max_secs=6)
    case(n + ": headers, then silence, in a stream", cls, [Step(headers_then_hang(20))], CB,
         r"\(:llm \"HTTP error: .*(timed out|Timeout|timeout).*\"\)", env=FAST, max_secs=6)
    case(n + ": 404 with an HTML page", cls, [Step(body(404, "<h1>Not Found</h1>", "text/html"))], COMPLETE,
         r"\(:llm \"API error: 404 - <h1>Not Found</h1>\"\)")

KEY_ECHO = {"error": {"message": "Incorrect API key provided: sk-secret-key-123. Check it."}}
case("openai: the key echoed in an error body is redacted", OpenAIServer, [Step(body(401, KEY_ECHO))], COMPLETE,
     r"\(:llm \"API error: 401 - .*Incorrect API key provided: \[redacted\]\. Check it\..*\"\)")
case("anthropic: the key echoed in an error body is redacted", AnthropicServer,
     [Step(body(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key ak-secret-key-123"}}))], COMPLETE,
     r"\(:llm \"API error: 401 - invalid x-api-key \[redacted\]\"\)")
case("openai stream: the key echoed in an error body is redacted", OpenAIServer, [Step(body(401, KEY_ECHO))], CB,
     r"\(:llm \"API error: 401 - .*\[redacted\].*\"\)")

# streams cut in the middle: what was delivered stays delivered, then a clear error
EV = [delta("one "), delta("two "), delta("three")]
for mode in ("lines", "whole"):
    case("openai: SSE cut in the middle (%s)" % mode, OpenAIServer, [Step(sse(EV, mode, cut=True))], CB,
         r"<one ><two >\(:llm \"HTTP error: .*\"\)")
    case("anthropic: SSE cut in the middle (%s)" % mode, AnthropicServer, [Step(sse([
        {"type": "message_start", "message": {"model": "claude-sonnet-4-6", "usage": {"input_tokens": 1}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Once "}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "upon"}}], mode, cut=True))], CB,
        r"<Once >\(:llm \"HTTP error: .*\"\)")
    case("ollama: NDJSON cut in the middle (%s)" % mode, OllamaServer, [Step(ndjson([
        {"message": {"content": "Hel"}, "done": False}, {"message": {"content": "lo"}, "done": False}, {"message": {"content": "!"}, "done": True}],
        mode, cut=True))], CB, r"<Hel><lo>\(:llm \"HTTP error: .*\"\)")

case("openai: a stream answered with HTML", OpenAIServer, [Step(body(200, "<html>maintenance</html>", "text/html"))], CB,
     r"\(:llm \"Parse error: expected a streamed response, got Content-Type text/html \(response body: <html>maintenance</html>\)\"\)")
case("openai: a stream answered with a complete JSON response", OpenAIServer, [Step(body(200, chat("whole")))], CB,
     r"<whole>whole")
case("openai: a stream answered with a JSON error object", OpenAIServer, [Step(body(200, {"error": {"message": "nope"}}))], CB,
     r"\(:llm \"Parse error: missing field `model`.*nope.*\"\)")
case("openai: garbage lines in a stream are skipped", OpenAIServer, [Step(sse(
    [("raw", "garbage line"), "{not json", ("raw", "data:"), delta("ok"), ("raw", "retry: 10"), ("raw", "id: 5"), "[DONE]"]))], CB, r"<ok>ok")
case("openai: a stream without [DONE] ends at the end of the body", OpenAIServer, [Step(sse([delta("a"), delta("b")]))], CB, r"<a><b>ab")
case("openai: a stream's last line without a newline", OpenAIServer,
     [Step(stream(["data: " + '{"choices":[{"delta":{"content":"x"}}]}', "", 'data: {"choices":[{"delta":{"content":"y"}}]}'],
                  "text/event-stream", sep="\n"))], CB, r"<x><y>xy")
case("openai: the callback raising stops the stream", OpenAIServer, [Step(sse([delta("a"), delta("b"), delta("c"), "[DONE]"]))],
     '(llm/stream "x" (fn (c) (display c) (when (= c "b") (error "enough"))))', r"ab\(:llm \"Config error: Eval error: enough\"\)")
case("openai: an SSE line of 1 MB", OpenAIServer, [Step(sse([delta("x" * (1 << 20)), "[DONE]"]))],
     '(string-length (llm/stream "x" (fn (c) c)))', r"1048576")
case("openai: tool-call arguments that are not JSON become {}", OpenAIServer,
     [Step(body(200, chat(None, tool_calls=[{"id": "c", "type": "function", "function": {"name": "t", "arguments": "{broken"}}]))),
      Step(body(200, chat("done")))],
     '(agent/run (agent {:tools [t]}) "go")', r"done", extra='(deftool t "T" {} (fn (args) (println "args" args) "r"))\n')
case("openai: no choices", OpenAIServer, [Step(body(200, {"model": "m", "choices": []}))], COMPLETE,
     r"\(:llm \"Parse error: no choices in response\"\)")
case("openai: wrong types everywhere are ignored, not fatal", OpenAIServer,
     [Step(body(200, {"model": "m", "choices": [{"message": {"content": 5, "tool_calls": "x"}, "finish_reason": 3}], "usage": {"prompt_tokens": "many"}}))],
     '(list (llm/complete "x") (:prompt-tokens (llm/last-usage)))', r'\(\"\" 0\)')
case("embeddings: missing data", OpenAIServer, [Step(body(200, {"object": "list"}))], '(llm/embed "x")',
     r"\(:llm \"Parse error: missing data in embedding response\"\)",
     extra='(llm/configure-embeddings :openai {:api-key "k" :base-url "http://127.0.0.1:$PORT/v1"})\n')
case("embeddings: a 429 is not retried and not \"Rate limited\"", OpenAIServer, [Step(body(429, "slow down", "text/plain"))], '(llm/embed "x")',
     r"\(:llm \"API error: 429 - slow down\"\)", extra='(llm/configure-embeddings :openai {:api-key "k" :base-url "http://127.0.0.1:$PORT/v1"})\n')
case("ollama: a 429 is not retried", OllamaServer, [Step(body(429, "busy", "text/plain"))], COMPLETE, r"\(:llm \"API error: 429 - busy\"\)")
case("ollama: malformed NDJSON lines are skipped", OllamaServer,
     [Step(stream(['{"message":{"content":"a"}}', "not json", "", '{"message":{"content":"b"},"done":true,"eval_count":2}'], "application/x-ndjson"))],
     CB, r"<a><b>ab")

# a refused connection: retried, then reported
r = run_sema(BIN, '(llm/configure :openai {:api-key "sk-secret-key-123" :base-url "http://127.0.0.1:9/v1"})\n' +
             TRY.format(expr=COMPLETE), env=FAST)
check("refused connection", re.fullmatch(r"\(:llm \"HTTP error: .*\"\)", r.out.strip()) is not None, r.out + r.err)
check("refused connection: no key", "secret-key-123" not in r.out + r.err)
r = run_sema(BIN, '(llm/configure :openai {:api-key "k" :base-url "not a url"})\n' + TRY.format(expr=COMPLETE), env=FAST)
eq("a base URL that is not a URL", r.out.strip(), '(:llm "HTTP error: invalid URL")')

finish("llm malformed responses")
