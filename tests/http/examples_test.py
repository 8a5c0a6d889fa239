"""examples/web: the API (router with params, JSON in and out, middleware)
driven by the example client, static files, SSE.  usage: examples_test.py SEMA_BINARY"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Server, check, curl, eq, finish, free_port  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
WEB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "web")


def example(name):
    with open(os.path.join(WEB, name)) as f:
        return f.read()


def start(name):
    port = free_port()
    return Server(BIN, example(name), env={"PORT": str(port), "WEB_DIR": os.path.abspath(WEB)}, port=port, subst=False)


with start("api.sema") as s:
    r = subprocess.run([BIN, os.path.join(WEB, "client.sema")], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, PORT=str(s.port)))
    eq("client.sema against api.sema", r.stdout.splitlines(), [
        '(201 {:done #f :id 1 :title "buy milk"})',
        '(201 {:done #f :id 2 :title "write tests"})',
        '(422 {:error "title must be a string"})',
        '(200 {:done #t :id 1 :title "buy milk"})',
        '(200 ({:done #t :id 1 :title "buy milk"} {:done #f :id 2 :title "write tests"}))',
        '(204 nil)',
        '(404 {:error "no such todo"})',
        ':io'])
    code, h, b = curl(s.url("/health"))
    eq("api CORS header", (code, b, h.get("access-control-allow-origin")), (200, b"ok", "*"))
    code, h, b = curl(s.url("/"))
    eq("api redirect", (code, h.get("location")), (302, "/api/todos"))

with start("static.sema") as s:
    code, h, b = curl(s.url("/static/style.css"))
    eq("static css", (code, h.get("content-type")), (200, "text/css"))
    eq("static index", curl(s.url("/static/"))[2], b"<!doctype html>\n<h1>Hello from Sema</h1>\n")
    eq("spa fallback", curl(s.url("/some/page"))[2], b"<!doctype html>\n<h1>Hello from Sema</h1>\n")
    eq("download type", curl(s.url("/download"))[1].get("content-type"), "text/plain")
    eq("traversal", curl(s.url("/static/../api.sema"), "--path-as-is")[0], 400)

with start("sse.sema") as s:
    code, h, b = curl(s.url("/count?n=3"), "-N")
    eq("sse", (code, h.get("content-type"), b), (200, "text/event-stream",
                                                 b'data: {"tick":1}\n\ndata: {"tick":2}\n\ndata: {"tick":3}\n\n'))
    check("sse page", b"EventSource" in curl(s.url("/"))[2])
finish("http examples")
