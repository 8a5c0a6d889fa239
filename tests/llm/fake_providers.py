"""Scripted stand-ins for the LLM providers (llm.md §19, llm-scenarios.md
"Harness"): one HTTP/1.1 server class per wire protocol, on 127.0.0.1.

A server is given a script: the requests it must receive, in order, each
with its checks and the response to send.  Every request is recorded
(method, path with query, headers, raw body, parsed JSON, arrival time).  A
request that breaks the protocol (method, path shape, authentication
headers, content type, JSON body) or a step's checks, or that arrives after
the script is exhausted, is answered 599 and recorded as a problem; the
test fails on any problem.

Responses are complete JSON bodies, SSE or NDJSON streams sent one line per
write or all at once, streams cut off in the middle, bodies that are not
what the header says, and no answer at all."""
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Request:
    def __init__(self, method, path, headers, raw):
        self.method = method
        self.path = path
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.raw = raw
        self.time = time.monotonic()
        try:
            self.json = json.loads(raw.decode("utf-8")) if raw else None
        except (ValueError, UnicodeDecodeError):
            self.json = None


def _norm_args(body):
    """OpenAI tool-call arguments are JSON strings: compare them parsed."""
    if isinstance(body, dict):
        out = {}
        for k, v in body.items():
            if k == "arguments" and isinstance(v, str):
                try:
                    v = json.loads(v)
                except ValueError:
                    pass
            out[k] = _norm_args(v)
        return out
    if isinstance(body, list):
        return [_norm_args(x) for x in body]
    return body


class Step:
    """One expected request and its response.

    path      exact path with query
    headers   {name: value} that must be present with these values
    no_headers names that must be absent
    body      the whole JSON body (compared parsed)
    has       {member: value} that must be present with these values
    absent    members that must be missing
    check     f(req) -> problem string or None
    respond   a response function (see below)"""

    def __init__(self, respond, path=None, headers=None, no_headers=(), body=None, has=None, absent=(), check=None):
        self.respond, self.path, self.headers, self.no_headers = respond, path, headers or {}, no_headers
        self.body, self.has, self.absent, self.check = body, has or {}, absent, check

    def problems(self, req):
        p = []
        if self.path is not None and req.path != self.path:
            p.append("path %r, want %r" % (req.path, self.path))
        for k, v in self.headers.items():
            if req.headers.get(k.lower()) != v:
                p.append("header %s: %r, want %r" % (k, req.headers.get(k.lower()), v))
        for k in self.no_headers:
            if k.lower() in req.headers:
                p.append("header %s present" % k)
        got = _norm_args(req.json)
        if self.body is not None and got != _norm_args(self.body):
            p.append("body\n    got:  %s\n    want: %s" % (json.dumps(req.json, sort_keys=True), json.dumps(self.body, sort_keys=True)))
        for k, v in self.has.items():
            if not isinstance(got, dict) or k not in got:
                p.append("body member %s missing" % k)
            elif got[k] != _norm_args(v):
                p.append("body member %s\n    got:  %s\n    want: %s" % (k, json.dumps(got[k], sort_keys=True), json.dumps(v, sort_keys=True)))
        for k in self.absent:
            if isinstance(got, dict) and k in got:
                p.append("body member %s present" % k)
        if self.check:
            r = self.check(req)
            if r:
                p.append(r)
        return p


# ---------------------------------------------------------------- responses


def send_head(h, status, ctype, extra=None, length=None, chunked=False):
    h.send_response_only(status)
    if ctype:
        h.send_header("Content-Type", ctype)
    for k, v in (extra or {}).items():
        h.send_header(k, v)
    if chunked:
        h.send_header("Transfer-Encoding", "chunked")
    elif length is not None:
        h.send_header("Content-Length", str(length))
    h.end_headers()


def write_chunk(h, data):
    h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    h.wfile.flush()


def body(status, data, ctype="application/json", headers=None):
    """A complete body; data: bytes, str, or a JSON value."""
    if not isinstance(data, (bytes, str)):
        data = json.dumps(data)
    if isinstance(data, str):
        data = data.encode("utf-8")

    def respond(h):
        send_head(h, status, ctype, headers, length=len(data))
        h.wfile.write(data)

    return respond


def stream(lines, ctype, mode="lines", sep="\n", cut=False, status=200):
    """A chunked stream of lines (each followed by sep); mode "lines": one
    write per line, "whole": one write.  cut: the connection is closed before
    the final chunk, in the middle of the last line."""

    def respond(h):
        send_head(h, status, ctype, chunked=True)
        pieces = [(l + sep).encode("utf-8") for l in lines]
        if cut and pieces:
            pieces[-1] = pieces[-1][: max(1, len(pieces[-1]) // 2)]
        if mode == "whole":
            pieces = [b"".join(pieces)]
        for p in pieces:
            write_chunk(h, p)
            if mode == "lines":
                time.sleep(0.002)
        if cut:
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        h.wfile.write(b"0\r\n\r\n")

    return respond


def sse(events, mode="lines", sep="\n", cut=False):
    """SSE: each event is a data payload (a JSON value, or a str sent as is
    after "data: "), or a raw line when given as ("raw", text); a blank line
    follows each event."""
    lines = []
    for e in events:
        if isinstance(e, tuple) and e[0] == "raw":
            lines.append(e[1])
            continue
        if isinstance(e, tuple) and e[0] == "event":
            lines.append("event: " + e[1])
            e = e[2]
        lines.append("data: " + (e if isinstance(e, str) else json.dumps(e)))
        lines.append("")
    if cut and lines and lines[-1] == "":
        lines.pop()  # so that the cut falls inside the last data line
    return stream(lines, "text/event-stream", mode, sep, cut)


def ndjson(objs, mode="lines", cut=False):
    return stream([json.dumps(o) for o in objs], "application/x-ndjson", mode, "\n", cut)


def dynamic(fn):
    """A response computed from the request: fn(req) -> (status, JSON value)."""

    def respond(h):
        status, data = fn(h.req)
        body(status, data)(h)

    return respond


def hang(seconds=30):
    """Reads the request and never answers (until the server stops)."""

    def respond(h):
        end = time.monotonic() + seconds
        while time.monotonic() < end and not h.server.stopping:
            time.sleep(0.02)
        h.close_connection = True

    return respond


def headers_then_hang(seconds=30):
    """Sends the status line and headers of a stream, then nothing."""

    def respond(h):
        send_head(h, 200, "text/event-stream", chunked=True)
        h.wfile.flush()
        hang(seconds)(h)

    return respond


# ---------------------------------------------------------------- servers


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().strip() or b"0", 16)
                if n == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self):
        req = Request(self.command, self.path, dict(self.headers), self._read_body())
        srv = self.server
        with srv.lock:
            srv.received.append(req)
            i = len(srv.received) - 1
            step = srv.steps[i] if i < len(srv.steps) else None
        problems = ["request %d arrived after the script ended" % (i + 1)] if step is None else []
        problems += srv.protocol_problems(req)
        if step is not None:
            problems += step.problems(req)
        self.req = req  # for responders that answer from the request (see dynamic)
        if problems:
            with srv.lock:
                srv.problems += ["request %d (%s %s): %s" % (i + 1, req.method, req.path, p) for p in problems]
            body(599, "scripted server: unexpected request", "text/plain")(self)
            return
        step.respond(self)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class Scripted(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    name = "generic"

    def __init__(self, steps=()):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.port = self.server_address[1]
        self.steps = list(steps)
        self.received = []
        self.problems = []
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def handle_error(self, request, client_address):
        import sys as _sys
        if not isinstance(_sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # a client that hung up after [DONE] is expected

    def stop(self):
        self.stopping = True
        self.shutdown()
        self.server_close()

    def protocol_problems(self, req):
        p = []
        if req.method != "POST":
            p.append("method %s, want POST" % req.method)
        if not req.headers.get("content-type", "").lower().startswith("application/json"):
            p.append("content-type %r" % req.headers.get("content-type"))
        if req.json is None:
            p.append("body is not JSON: %r" % req.raw[:200])
        return p + self.shape_problems(req)

    def shape_problems(self, req):
        return []


class OpenAIServer(Scripted):
    """OpenAI-compatible chat completions, embeddings and rerank (§19.2, §19.6, §19.7)."""
    name = "openai"

    def shape_problems(self, req):
        p = []
        if not req.path.split("?")[0].endswith(("/chat/completions", "/embeddings", "/rerank", "/embed")):
            p.append("path %s is not an OpenAI-compatible endpoint" % req.path)
        if not req.headers.get("authorization", "").startswith("Bearer "):
            p.append("no Bearer authorization")
        return p


class AnthropicServer(Scripted):
    """Anthropic Messages (§19.3)."""
    name = "anthropic"

    def shape_problems(self, req):
        p = []
        if not req.path.endswith("/messages"):
            p.append("path %s is not /messages" % req.path)
        if "x-api-key" not in req.headers:
            p.append("no x-api-key")
        if req.headers.get("anthropic-version") != "2023-06-01":
            p.append("anthropic-version %r" % req.headers.get("anthropic-version"))
        if "authorization" in req.headers:
            p.append("an Authorization header")
        if isinstance(req.json, dict) and "max_tokens" not in req.json:
            p.append("no max_tokens")
        return p


class GeminiServer(Scripted):
    """Gemini generateContent / streamGenerateContent (§19.4)."""
    name = "gemini"

    def shape_problems(self, req):
        p = []
        path, _, query = req.path.partition("?")
        if "/models/" not in path or not path.endswith((":generateContent", ":streamGenerateContent")):
            p.append("path %s is not a Gemini endpoint" % req.path)
        if path.endswith(":streamGenerateContent") and query != "alt=sse":
            p.append("stream query %r" % query)
        if "key=" in query:
            p.append("the key is in the URL")
        if "x-goog-api-key" not in req.headers:
            p.append("no x-goog-api-key")
        return p


class OllamaServer(Scripted):
    """Ollama native /api/chat (§19.5)."""
    name = "ollama"

    def shape_problems(self, req):
        p = []
        if req.path != "/api/chat":
            p.append("path %s is not /api/chat" % req.path)
        if "authorization" in req.headers:
            p.append("an Authorization header")
        return p


# ---------------------------------------------------------------- response builders


def chat(content, model="gpt-5.5", prompt=5, completion=4, tool_calls=None, finish="stop"):
    msg = {"role": "assistant", "content": content}
    if tool_calls is not None:
        msg["tool_calls"] = tool_calls
        finish = "tool_calls"
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}


def call(id, name, args):
    return {"id": id, "type": "function", "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}


def delta(content=None, finish=None, tool_calls=None):
    d = {}
    if content is not None:
        d["content"] = content
    if tool_calls is not None:
        d["tool_calls"] = tool_calls
    return {"choices": [{"index": 0, "delta": d, "finish_reason": finish}]}


def anthropic_msg(blocks, stop="end_turn", inp=10, out=5, model="claude-sonnet-4-6"):
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": blocks,
            "stop_reason": stop, "usage": {"input_tokens": inp, "output_tokens": out}}


def gemini_resp(parts, prompt=4, cand=2, finish="STOP"):
    return {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}],
            "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": cand, "totalTokenCount": prompt + cand}}


def ollama_resp(content, model="llama3.2", prompt=14, ev=4, tool_calls=None):
    m = {"role": "assistant", "content": content}
    if tool_calls is not None:
        m["tool_calls"] = tool_calls
    return {"model": model, "created_at": "2025-01-01T00:00:00Z", "message": m, "done": True,
            "done_reason": "stop", "prompt_eval_count": prompt, "eval_count": ev}
