"""The server scenarios of net.md §8 (S1-S13, S15): Sema servers on free
ports, hit with curl, python sockets and the Sema client.
usage: server_test.py SEMA_BINARY"""
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

from common import Server, WS, check, curl, eq, finish, free_port, run_sema

BIN = os.path.abspath(sys.argv[1])


def head(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("HEAD", path)
    r = c.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    c.close()
    return out


def s1():
    with Server(BIN, '(http/serve (fn (req) (http/ok {:path (:path req) :method (:method req)})) '
                     '{:port PORT :host "127.0.0.1"})') as s:
        code, h, body = curl(s.url("/hello"))
        eq("S1 status", code, 200)
        eq("S1 content-type", h.get("content-type"), "application/json")
        eq("S1 body", body, b'{"method":"get","path":"/hello"}')
        check("S1 listening line", "Listening on 127.0.0.1:%d\n" % s.port in s.stderr())


ROUTER = '''(define R [[:get "/" (fn (_) (http/text "home"))]
 [:get "/users/:id" (fn (req) (http/ok (:params req)))]
 [:post "/users" (fn (req) (http/created (:json req)))]
 [:get "/files/*" (fn (req) (http/ok (:* (:params req))))]
 [:any "/echo" (fn (req) (http/ok {:method (:method req) :query (:query req) :body (:body req)}))]])
(http/serve (http/router R) {:port PORT :host "127.0.0.1"})'''


def s2_s15():
    with Server(BIN, ROUTER) as s:
        J = "application/json"
        cases = [
            (["/"], [], 200, "text/plain", b"home"),
            (["/users/42", "/users/42/"], [], 200, J, b'{"id":"42"}'),
            (["/users"], ["-X", "POST", "-H", "content-type: application/json", "-d", '{"name":"Ada"}'], 201, J,
             b'{"name":"Ada"}'),
            (["/users"], ["-X", "POST", "-d", "name=Ada"], 201, J, b"null"),
            (["/files/a/b/c.txt"], [], 200, J, b'"a/b/c.txt"'),
            (["/echo?x=1&y"], ["-X", "DELETE"], 200, J, b'{"body":"","method":"delete","query":{"x":"1","y":""}}'),
            (["/echo?q=a%20b+c&flag"], [], 200, J, b'{"body":"","method":"get","query":{"flag":"","q":"a%20b+c"}}'),
            (["/nope"], [], 404, J, b'"Not Found"'),
            (["/users"], ["-X", "PUT"], 404, J, b'"Not Found"'),
        ]
        for paths, args, st, ct, body in cases:
            for p in paths:
                code, h, b = curl(s.url(p), *args)
                eq("S2 %s %s status" % (args[:2], p), code, st)
                eq("S2 %s content-type" % p, h.get("content-type"), ct)
                eq("S2 %s body" % p, b, body)
        eq("S2 HEAD /users/42", head(s.port, "/users/42")[::2], (404, b""))
        # S15: the Sema client against the Sema server
        rc, out = run_sema(BIN, '(let ((r (http/post "%s" {:name "Ada"}))) (println (list (:status r) (:body r) '
                                '(get (:headers r) :content-type))))' % s.url("/users"))
        eq("S15", out.strip(), '(201 "{\\"name\\":\\"Ada\\"}" "application/json")')
        # keep-alive: several requests on one connection
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
        bodies = []
        for i in range(5):
            c.request("GET", "/users/%d" % i)
            bodies.append(c.getresponse().read())
        c.close()
        eq("keep-alive", bodies, [('{"id":"%d"}' % i).encode() for i in range(5)])


def s3():
    with Server(BIN, '(http/serve (fn (req) (http/ok {:keys (keys req) :h (get (:headers req) "x-test") '
                     ':ct (get (:headers req) "content-type")})) {:port PORT :host "127.0.0.1"})') as s:
        eq("S3 get", curl(s.url("/"), "-H", "X-Test: Yes")[2],
           b'{"ct":null,"h":"Yes","keys":["body","headers","method","params","path","query"]}')
        eq("S3 json", curl(s.url("/"), "-H", "content-type: application/json", "-d", '{"a":1}')[2],
           b'{"ct":"application/json","h":null,"keys":["body","headers","json","method","params","path","query"]}')
        b = json.loads(curl(s.url("/"), "-H", "content-type: application/json", "-d", "{bad")[2])
        check("S3 bad json has no :json", "json" not in b["keys"], str(b))
        b = json.loads(curl(s.url("/"), "-H", "content-type: application/vnd.api+json", "-d", "[1]")[2])
        check("S3 vnd json", "json" in b["keys"], str(b))


def s4():
    src = '''(http/serve (http/router [[:get "/crash" (fn (_) (error "something broke"))]
 [:get "/throw" (fn (_) (throw "oops"))] [:get "/ok" (fn (_) (http/ok "alive"))]
 [:get "/bad-marker" (fn (_) {:__stream #t})]]) {:port PORT :host "127.0.0.1"})'''
    with Server(BIN, src) as s:
        for rnd in range(2):
            code, h, b = curl(s.url("/crash"))
            eq("S4 crash status", code, 500)
            eq("S4 crash ct", h.get("content-type"), "application/json")
            eq("S4 crash body", b, b'{"error":"Eval error: something broke"}')
            code, h, b = curl(s.url("/throw"))
            eq("S4 throw", (code, b), (500, b'{"error":"User exception: \\"oops\\""}'))
            eq("S4 ok after", curl(s.url("/ok"))[::2], (200, b'"alive"'))
        check("S4 stderr", "http/serve handler error: Eval error: something broke" in s.stderr(), s.stderr())
        eq("S4 hand-made marker", curl(s.url("/bad-marker"))[0], 500)


def s5():
    src = '''(http/serve (http/router [[:get "/raw" (fn (_) {:status 418 :headers {"X-Custom" "hello" "x-num" 7} :body "teapot"})]
 [:get "/str" (fn (_) "just a string")] [:get "/nil" (fn (_) nil)]
 [:get "/mapbody" (fn (_) {:status 201 :body {:a 1}})] [:get "/big" (fn (_) {:status 1000 :body "x"})]
 [:get "/kw" (fn (_) {:headers {:x-kw "v"} :body "k"})]
 [:get "/wrap" (fn (_) {:status (+ 65536 201) :body "w"})]
 [:get "/bad-header" (fn (_) {:headers {"x-ok" "1" "bad name" "2" "x-ctl" "a\nb"} :body "h"})]
 [:get "/nocontent" (fn (_) (http/no-content))]
 [:post "/j" (fn (req) (http/ok (:json req)))]]) {:port PORT :host "127.0.0.1"})'''
    with Server(BIN, src) as s:
        code, h, b = curl(s.url("/raw"))
        eq("S5 raw", (code, h.get("x-custom"), h.get("x-num"), "content-type" in h, b), (418, "hello", "7", False, b"teapot"))
        code, h, b = curl(s.url("/str"))
        eq("S5 string", (code, h.get("content-type"), b), (200, "text/plain", b'"just a string"'))
        eq("S5 nil", curl(s.url("/nil"))[::2], (200, b"nil"))
        eq("S5 map body dropped", curl(s.url("/mapbody"))[::2], (201, b""))
        eq("S5 status 1000", curl(s.url("/big"))[::2], (500, b"x"))
        code, h, b = curl(s.url("/kw"))
        eq("S5 keyword header dropped", (code, "x-kw" in h, b), (200, False, b"k"))
        eq("S5 status wraps", curl(s.url("/wrap"))[::2], (201, b"w"))
        code, h, b = curl(s.url("/bad-header"))
        eq("S5 invalid headers dropped", (h.get("x-ok"), "x-ctl" in h, b), ("1", False, b"h"))
        code, h, b = curl(s.url("/nocontent"))
        eq("S5 204", (code, b), (204, b""))
        eq("S5 json echo", curl(s.url("/j"), "-H", "content-type: application/json", "-d",
                                '{"b":null,"a":[1,2.5,"x"]}')[2], b'{"a":[1,2.5,"x"],"b":null}')


def s6():
    d = tempfile.mkdtemp(prefix="sema-static-")
    os.makedirs(os.path.join(d, "sub"))
    files = {"index.html": b"<h1>Hello</h1>", "style.css": b"body{}", "app.js": b"let x=1;",
             "img.bin": bytes(range(256)), "sub/index.html": b"<h1>Sub</h1>"}
    for k, v in files.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)
    os.symlink("/etc/hostname", os.path.join(d, "link"))
    os.symlink("/etc", os.path.join(d, "etcdir"))
    src = '''(http/serve (http/router [[:static "/static" "D"]
 [:get "/download" (fn (_) (http/file "D/img.bin" "application/x-test"))]
 [:get "/gone" (fn (_) (let ((m (http/file "D/gone.txt"))) (file/delete "D/gone.txt") m))]
 [:get "/*" (fn (_) (http/file "D/index.html"))]]) {:port PORT :host "127.0.0.1"})'''.replace("D", d)
    with open(os.path.join(d, "gone.txt"), "w") as f:
        f.write("soon gone")
    try:
        with Server(BIN, src) as s:
            code, h, b = curl(s.url("/static/style.css"))
            eq("S6 css", (code, h.get("content-type"), h.get("cache-control"), b),
               (200, "text/css", "public, max-age=3600", b"body{}"))
            eq("S6 js type", curl(s.url("/static/app.js"))[1].get("content-type"), "text/javascript")
            code, h, b = curl(s.url("/static/"))
            eq("S6 index", (code, h.get("content-type"), b), (200, "text/html", b"<h1>Hello</h1>"))
            eq("S6 sub", curl(s.url("/static/sub"))[2], b"<h1>Sub</h1>")
            eq("S6 missing falls through", curl(s.url("/static/missing.txt"))[::2], (200, b"<h1>Hello</h1>"))
            eq("S6 about", curl(s.url("/about"))[::2], (200, b"<h1>Hello</h1>"))
            code, h, b = curl(s.url("/static/../etc/passwd"), "--path-as-is")
            eq("S6 traversal", (code, h.get("content-type"), b), (400, "text/plain", b"Bad Request"))
            code, h, b = curl(s.url("/static/%2e%2e/%2e%2e/etc/passwd"), "--path-as-is")
            check("S6 encoded traversal never serves outside", b"root:" not in b and code in (200, 400, 403, 404),
                  "%d %r" % (code, b[:40]))
            code, h, b = curl(s.url("/static/sub/..%2f..%2fetc%2fpasswd"), "--path-as-is")
            check("S6 ..%2f", b"root:" not in b, "%d %r" % (code, b[:40]))
            eq("S6 symlink escape", curl(s.url("/static/link"))[::2], (403, b"Forbidden"))
            eq("S6 symlinked dir escape", curl(s.url("/static/etcdir/passwd"))[0], 403)
            eq("S6 POST static", curl(s.url("/static/style.css"), "-X", "POST")[::2], (404, b'"Not Found"'))
            code, h, b = curl(s.url("/download"))
            eq("S6 download", (code, h.get("content-type"), b), (200, "application/x-test", bytes(range(256))))
            code, h, b = head(s.port, "/static/style.css")
            eq("S6 HEAD", (code, h.get("content-length"), b), (200, "6", b""))
            eq("S6 file deleted before serving", curl(s.url("/gone"))[::2], (404, b"Not Found"))
    finally:
        subprocess.run(["rm", "-rf", d])


def s7():
    src = '''(http/serve (http/router [[:get "/events" (fn (_) (http/stream (fn (send) (send "hello") (send "two\\nlines") (send "world"))))]
 [:get "/slow" (fn (_) (http/stream (fn (send) (send "first") (sleep 1000) (send "second"))))]
 [:get "/empty" (fn (_) (http/stream (fn (send) (send "") (send "a\\rb"))))]
 [:get "/err" (fn (_) (http/stream (fn (send) (send "x") (error "sse boom"))))]
 [:get "/ok" (fn (_) (http/text "ok"))]]) {:port PORT :host "127.0.0.1"})'''
    with Server(BIN, src) as s:
        code, h, b = curl(s.url("/events"), "-N")
        eq("S7 sse", (code, h.get("content-type"), h.get("cache-control"), b),
           (200, "text/event-stream", "no-cache", b"data: hello\n\ndata: two\ndata: lines\n\ndata: world\n\n"))
        eq("S7 empty and CR", curl(s.url("/empty"), "-N")[2], b"\ndata: a\rdata: b\n\n")
        eq("S7 handler error ends the stream", curl(s.url("/err"), "-N")[2], b"data: x\n\n")
        check("S7 stderr", "http/stream handler error: Eval error: sse boom" in s.stderr(), s.stderr())
        # events are delivered as sent: the first arrives a second before the end
        t0 = time.time()
        p = subprocess.Popen(["curl", "-s", "-N", s.url("/slow")], stdout=subprocess.PIPE)
        first = p.stdout.read(len(b"data: first\n\n"))
        t_first = time.time() - t0
        rest = p.stdout.read()
        t_end = time.time() - t0
        p.wait()
        eq("S7 slow bodies", (first, rest), (b"data: first\n\n", b"data: second\n\n"))
        check("S7 first event early", t_end - t_first >= 0.9, "first %.2f end %.2f" % (t_first, t_end))
        eq("S7 server goes on", curl(s.url("/ok"))[2], b"ok")
        # a client that goes away: send raises "SSE stream closed" and the server goes on
    src2 = '''(define log "")
(http/serve (http/router [[:get "/forever" (fn (_) (http/stream (fn (send)
   (try (let loop ((i 0)) (send (str i)) (sleep 20) (loop (+ i 1)))
        (catch e (set! log (:message e)))))))]
 [:get "/log" (fn (_) (http/text log))]]) {:port PORT :host "127.0.0.1"})'''
    with Server(BIN, src2) as s:
        sock = socket.create_connection(("127.0.0.1", s.port))
        sock.sendall(b"GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.recv(100)
        sock.close()
        deadline = time.time() + 5
        log = b""
        while time.time() < deadline:
            log = curl(s.url("/log"), timeout=5)[2]
            if log:
                break
            time.sleep(0.1)
        eq("S7 send after the client left", log, b"SSE stream closed")


def s8_s9():
    src = '''(http/serve (http/router [[:ws "/chat" (fn (conn) (let loop () (let ((m ((:recv conn)))) (when m ((:send conn) (string-append "re:" m)) (loop)))))]
 [:ws "/once" (fn (conn) (when ((:recv conn)) ((:send conn) "goodbye") ((:close conn)) (sleep 3000)))]
 [:ws "/after-close" (fn (conn) ((:close conn)) (list ((:recv conn)) (try ((:send conn) "x") (catch e (:message e)))))]
 [:get "/room/:name" (fn (req) (http/websocket (fn (conn) ((:send conn) (str "room " (:name (:params req)))))))]
 [:get "/ok" (fn (_) (http/text "ok"))]]) {:port PORT :host "127.0.0.1"})'''
    with Server(BIN, src) as s:
        r = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "spec",
                                                         "tools", "ws_client.py"), str(s.port), "/chat", "msg0", "msg1"],
                           capture_output=True, timeout=10)
        eq("S8 ws_client.py", r.stdout.decode().splitlines(), ["HTTP/1.1 101 Switching Protocols", "1 re:msg0", "1 re:msg1"])
        w = WS(s.port, "/chat")
        eq("S8 101", w.status_line, "HTTP/1.1 101 Switching Protocols")
        replies = []
        big = "x" * 70000
        for m in ["a", "é ü", big]:
            w.send(m)
            replies.append(w.recv())
        eq("S8 echo", [(op, d.decode()) for op, d in replies], [(1, "re:a"), (1, "re:é ü"), (1, "re:" + big)])
        w.send(b"\x01\x02", op=2)  # binary: never delivered
        w.send(b"p", op=9)  # ping: answered by the transport
        eq("S8 pong", w.recv(), (10, b"p"))
        w.send("after")
        eq("S8 binary skipped", w.recv(), (1, b"re:after"))
        w.send(b"", op=8)
        op, _ = w.recv()
        eq("S8 close answered", op, 8)
        w.close()
        code, h, b = curl(s.url("/chat"))
        eq("S8 plain GET", (code, h.get("content-type"), b), (400, "text/plain", b"WebSocket upgrade required"))
        # S9
        w = WS(s.port, "/once")
        t0 = time.time()
        w.send("hi")
        eq("S9 goodbye", w.recv(), (1, b"goodbye"))
        op, _ = w.recv()
        check("S9 close frame or EOF", op in (8, None) and time.time() - t0 < 2.5, "op %r after %.2f" % (op, time.time() - t0))
        w.close()
        w = WS(s.port, "/room/lobby")
        eq("ws with params via http/websocket", w.recv(), (1, b"room lobby"))
        w.close()
        eq("server goes on after WebSockets", curl(s.url("/ok"))[2], b"ok")


def s10():
    with Server(BIN, '(http/serve (fn (_) (http/ok "ok")) {:port PORT :host "127.0.0.1"})') as s:
        d = tempfile.mkdtemp()
        try:
            ok_f = os.path.join(d, "ok")
            with open(ok_f, "wb") as f:
                f.truncate(16777216)
            big_f = os.path.join(d, "big")
            with open(big_f, "wb") as f:
                f.truncate(17825792)
            eq("S10 16 MiB", curl(s.url("/"), "--data-binary", "@" + ok_f)[::2], (200, b'"ok"'))
            code, h, b = curl(s.url("/"), "--data-binary", "@" + big_f)
            eq("S10 17 MB", (code, h.get("content-type"), b),
               (413, "text/plain", b"Request body too large or unreadable (max 16777216 bytes)"))
            # chunked upload without a length
            p = subprocess.run("head -c 17825792 /dev/zero | curl -s -o /dev/null -w '%{http_code}' "
                               "-H 'Transfer-Encoding: chunked' --data-binary @- " + s.url("/"),
                               shell=True, capture_output=True, timeout=30)
            eq("S10 chunked over the limit", p.stdout, b"413")
            eq("S10 server goes on", curl(s.url("/"))[0], 200)
        finally:
            subprocess.run(["rm", "-rf", d])


def s11():
    src = '(define n 0) (http/serve (fn (_) (set! n (+ n 1)) (sleep 500) (http/ok n)) {:port PORT :host "127.0.0.1"})'
    with Server(BIN, src) as s:
        res = []
        t0 = time.time()
        ts = [threading.Thread(target=lambda: res.append(curl(s.url("/"))[2])) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        el = time.time() - t0
        eq("S11 bodies", sorted(res), [b"1", b"2"])
        check("S11 serial", el >= 1.0, "%.2f s" % el)
        eq("S11 third", curl(s.url("/"))[2], b"3")


def s12():
    with Server(BIN, '(http/serve (fn (req) (http/ok 1)) {:port PORT :host "127.0.0.1"})') as s:
        p = subprocess.run([BIN, "-e", '(http/serve (fn (req) 1) {:port %d :host "127.0.0.1"})' % s.port],
                           capture_output=True, timeout=10)
        err = p.stderr.decode()
        eq("S12 second bind exit", p.returncode, 1)
        check("S12 bind message", err.startswith("Error: IO error: bind 127.0.0.1:%d: Address already in use" % s.port), err)
    p = subprocess.run([BIN, "-e", "(http/serve (fn (r) 1) {:port 70000})"], capture_output=True, timeout=10)
    eq("S12 port range", (p.returncode, p.stderr.decode().splitlines()[0] if p.stderr else ""),
       (1, "Error: Eval error: http/serve: port must be in 1..=65535, got 70000"))


def s13():
    src = '''(define (cors h) (fn (req) (let ((r (h req))) (assoc r :headers (merge (or (:headers r) {}) {"access-control-allow-origin" "*"})))))
(http/serve (cors (http/router (route/prefix "/api/v1/" [[:get "/ping" (fn (_) (http/text "pong"))]]))) {:port PORT :host "127.0.0.1"})'''
    with Server(BIN, src) as s:
        code, h, b = curl(s.url("/api/v1/ping"))
        eq("S13 ping", (code, b, h.get("access-control-allow-origin")), (200, b"pong", "*"))
        code, h, b = curl(s.url("/ping"))
        eq("S13 404", (code, b, h.get("access-control-allow-origin")), (404, b'"Not Found"', "*"))


for t in [s1, s2_s15, s3, s4, s5, s6, s7, s8_s9, s10, s11, s12, s13]:
    try:
        t()
    except Exception as e:  # a broken scenario is a failure, the others still run
        check(t.__name__, False, "raised %r" % e)
finish("http server")
