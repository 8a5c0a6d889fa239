"""Each server request is a task (net.md §3.1 "goes further", docs/design.md
"HTTP"): a handler waiting in async/sleep, on an http/get, on a WebSocket
or an SSE stream never holds back the other requests.  Real Sema servers on
127.0.0.1, real clients (curl, python sockets), a slow python upstream.
usage: concurrency_test.py SEMA_BINARY"""
import http.server
import os
import pty
import select
import signal
import subprocess
import socketserver
import sys
import threading
import time

from common import Server, WS, check, curl, eq, finish, free_port, run_sema

BIN = os.path.abspath(sys.argv[1])
ASAN = "debug" in BIN  # the ASan build is several times slower: looser bounds
SLACK = 3.0 if ASAN else 1.0

SRC = '''(define hits 0)
(http/serve (http/router
 [[:get "/sleep" (fn (_) (async/sleep 200) (http/ok "slept"))]
  [:get "/fast" (fn (_) (http/ok "fast"))]
  [:get "/upstream" (fn (_) (http/ok (:body (http/get "http://127.0.0.1:UPSTREAM/slow"))))]
  [:get "/boom" (fn (_) (error "handler boom"))]
  [:get "/chan" (fn (_) (let ((c (channel/new)))
                          (async/spawn (fn () (async/sleep 100) (channel/send c "from-chan")))
                          (http/ok (channel/recv c))))]
  [:get "/sse" (fn (_) (http/stream (fn (send) (send "one") (async/sleep 600) (send "two"))))]
  [:ws "/ws" (fn (conn) (let loop () (let ((m ((:recv conn)))) (when m ((:send conn) (str "echo:" m)) (loop)))))]])
 {:port PORT :host "127.0.0.1"})'''


class Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.8)
        body = b"upstream-body"
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class TServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def parallel(fns):
    """Run the thunks at once; -> (results in order, wall seconds)"""
    out = [None] * len(fns)

    def go(i):
        out[i] = fns[i]()

    ts = [threading.Thread(target=go, args=(i,)) for i in range(len(fns))]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out, time.time() - t0


def timed(fn):
    t0 = time.time()
    r = fn()
    return r, time.time() - t0


def main():
    up = TServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=up.serve_forever, daemon=True).start()
    src = SRC.replace("UPSTREAM", str(up.server_address[1]))
    with Server(BIN, src) as s:
        curl(s.url("/fast"))  # warm up (libraries loaded, procs compiled)

        # (a) 10 concurrent sleeping handlers overlap
        rs, dt = parallel([lambda: curl(s.url("/sleep"))[::2]] * 10)
        eq("a: all answered", rs, [(200, b'"slept"')] * 10)
        check("a: 10 x (async/sleep 200) overlap (%.3f s)" % dt, dt < 1.0 * SLACK, "took %.3f s" % dt)
        check("a: sleeps take real time (%.3f s)" % dt, dt >= 0.2, "took %.3f s" % dt)
        print("a: 10 concurrent sleep-200 handlers: %.3f s" % dt)

        # (b) a WebSocket waiting for a message does not hold back a plain GET
        ws = WS(s.port, "/ws")
        eq("b: ws upgraded", ws.status_line.split(" ")[1], "101")
        time.sleep(0.1)  # the ws task is now parked in recv
        r, dt = timed(lambda: curl(s.url("/fast"))[::2])
        eq("b: GET while ws open", r, (200, b'"fast"'))
        check("b: GET answered promptly (%.3f s)" % dt, dt < 0.5 * SLACK, "took %.3f s" % dt)
        print("b: GET with an idle WebSocket open: %.3f s" % dt)
        ws.send("hi")
        eq("b: ws still echoes", ws.recv(), (1, b"echo:hi"))

        # (c) an SSE stream open (its task asleep between events) while others are served
        got = {}

        def sse():
            got["sse"] = curl(s.url("/sse"), "-N", timeout=10)

        th = threading.Thread(target=sse)
        t0 = time.time()
        th.start()
        time.sleep(0.15)
        r, dt = timed(lambda: curl(s.url("/fast"))[::2])
        eq("c: GET while SSE open", r, (200, b'"fast"'))
        check("c: GET answered promptly (%.3f s)" % dt, dt < 0.4 * SLACK, "took %.3f s" % dt)
        print("c: GET with an SSE stream open: %.3f s" % dt)
        th.join()
        eq("c: SSE events", got["sse"][2], b"data: one\n\ndata: two\n\n")
        sse_dt = time.time() - t0
        check("c: SSE sleep took real time (%.3f s)" % sse_dt, sse_dt >= 0.6, "took %.3f s" % sse_dt)

        # (d) a handler in http/get against a slow upstream (0.8 s) does not block others
        got = {}

        def upstream():
            got["up"] = timed(lambda: curl(s.url("/upstream"))[::2])

        th = threading.Thread(target=upstream)
        th.start()
        time.sleep(0.15)
        r, dt = timed(lambda: curl(s.url("/fast"))[::2])
        eq("d: GET while a handler waits on http/get", r, (200, b'"fast"'))
        check("d: GET answered promptly (%.3f s)" % dt, dt < 0.4 * SLACK, "took %.3f s" % dt)
        r2, dt2 = timed(lambda: curl(s.url("/chan"))[::2])
        eq("d: channel handler meanwhile", r2, (200, b'"from-chan"'))
        th.join()
        eq("d: upstream body", got["up"][0], (200, b'"upstream-body"'))
        print("d: GET while another handler waits 0.8 s on http/get: %.3f s (upstream request %.3f s)"
              % (dt, got["up"][1]))
        # two slow upstream calls overlap too
        rs, dt = parallel([lambda: curl(s.url("/upstream"))[::2]] * 2)
        eq("d: two upstream calls", rs, [(200, b'"upstream-body"')] * 2)
        check("d: upstream calls overlap (%.3f s)" % dt, dt < 1.5 * SLACK, "took %.3f s" % dt)

        # (e) a handler error is a 500, and the next request is fine, also under concurrency
        code, _, body = curl(s.url("/boom"))
        eq("e: 500", (code, body), (500, b'{"error":"Eval error: handler boom"}'))
        eq("e: next OK", curl(s.url("/fast"))[::2], (200, b'"fast"'))
        rs, dt = parallel([lambda: curl(s.url("/boom"))[0], lambda: curl(s.url("/sleep"))[0]] * 4)
        eq("e: mixed errors and sleeps", rs, [500, 200] * 4)
        check("e: stderr names the error", "http/serve handler error: Eval error: handler boom" in s.stderr())

        ws.send("bye")
        eq("b: ws echoes at the end", ws.recv(), (1, b"echo:bye"))
        ws.close()
        check("server alive", s.proc.poll() is None, s.stderr())
    up.shutdown()


def ctrl_c():
    """In the REPL, Ctrl-C (SIGINT) stops http/serve with "interrupted", also
    while a handler is asleep, and the REPL goes on."""
    import socket as so
    k = so.socket()
    k.bind(("127.0.0.1", 0))
    port = k.getsockname()[1]
    k.close()
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(BIN, [BIN])

    def read(t, until=None):
        out, end = b"", time.time() + t
        while time.time() < end and not (until and until in out):
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
        return out

    try:
        read(5, b"sema> ")
        os.write(fd, ('(http/serve (fn (r) (async/sleep 2000) "x") {:port %d :host "127.0.0.1"})\r' % port).encode())
        o = read(10 * SLACK, b"Listening on")
        slow = subprocess.Popen(["curl", "-s", "-m", "5", "http://127.0.0.1:%d/" % port], stdout=subprocess.PIPE)
        time.sleep(0.3)
        os.kill(pid, signal.SIGINT)
        o += read(5 * SLACK, b"interrupted")
        os.write(fd, b"(+ 40 2)\r")
        o += read(5 * SLACK, b"\n42")
        text = o.decode(errors="replace")
        check("ctrl-c: serve interrupted", "Error: Eval error: interrupted" in text, text[-400:])
        check("ctrl-c: the REPL goes on", "\n42" in text, text[-400:])
        slow.kill()
        slow.wait()
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def interp():
    """Under the reference evaluator (--interp) handlers cannot park: the
    server answers one request at a time, as the reference does."""
    with Server(BIN, SRC.replace("UPSTREAM", "1"), flags=["--interp"]) as s:
        eq("interp: GET", curl(s.url("/fast"))[::2], (200, b'"fast"'))
        eq("interp: sleep", curl(s.url("/sleep"))[::2], (200, b'"slept"'))
        eq("interp: 500", curl(s.url("/boom"))[0], 500)
        eq("interp: next OK", curl(s.url("/fast"))[::2], (200, b'"fast"'))


def in_tasks():
    """http/serve in a task parks it: two servers in one script, and the
    script's own client tasks calling them."""
    p1, p2 = free_port(), free_port()
    src = """(async/spawn (fn () (http/serve (fn (r) (async/sleep 50) "one") {:port P1 :host "127.0.0.1"})))
(async/spawn (fn () (http/serve (fn (r) "two") {:port P2 :host "127.0.0.1"})))
(println (async/all [(async/spawn (fn () (:body (http/get "http://127.0.0.1:P1/"))))
                     (async/spawn (fn () (:body (http/get "http://127.0.0.1:P2/"))))]))
(exit 0)""".replace("P1", str(p1)).replace("P2", str(p2))
    code, out = run_sema(BIN, src, timeout=30)
    eq("tasks: exit", code, 0)
    check("tasks: both servers answered their own script", '("\\"one\\"" "\\"two\\"")' in out, out)


main()
in_tasks()
interp()
ctrl_c()
finish("http concurrency")
