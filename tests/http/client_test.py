"""The client scenarios of net.md §8 (C1-C7) and more: the Sema client
against `python3 -m http.server`, the spec's echo_server.py and
chosen_server.py (statuses, headers, redirects, slow, chunked, cut bodies).
usage: client_test.py SEMA_BINARY"""
import os
import socket
import subprocess
import sys
import tempfile
import time

from common import SPEC_TOOLS, check, eq, finish, free_port, run_sema

BIN = os.path.abspath(sys.argv[1])
HERE = os.path.dirname(os.path.abspath(__file__))


def start(args, port):
    p = subprocess.Popen([sys.executable] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = time.time()
    while time.time() - t < 5:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server %r did not start" % args)


D = tempfile.mkdtemp(prefix="sema-client-static-")
with open(os.path.join(D, "hello.txt"), "w") as f:
    f.write("hello\n")
P_STATIC, P_ECHO, P_CHOSEN, P_NONE = free_port(), free_port(), free_port(), free_port()
procs = [start(["-m", "http.server", str(P_STATIC), "--bind", "127.0.0.1", "--directory", D], P_STATIC),
         start([os.path.join(SPEC_TOOLS, "echo_server.py"), str(P_ECHO)], P_ECHO),
         start([os.path.join(HERE, "chosen_server.py"), str(P_CHOSEN)], P_CHOSEN)]

S = "http://127.0.0.1:%d" % P_STATIC
E = "http://127.0.0.1:%d" % P_ECHO
C = "http://127.0.0.1:%d" % P_CHOSEN

# (name, expression, expected printed form); each runs under try, errors print as (:error TYPE MESSAGE)
CASES = [
    ("C1 static", '(let ((r (http/get "S/hello.txt"))) (list (:status r) (:body r) (get (:headers r) :content-type)))',
     '(200 "hello\\n" "text/plain")'),
    ("C1 header keys", '(keys (:headers (http/get "S/hello.txt")))',
     '(:content-length :content-type :date :last-modified :server)'),
    ("C1 404", '(:status (http/get "S/nope"))', "404"),
    ("C1 POST 501", '(:status (http/post "S/hello.txt" "x"))', "501"),
    ("C2 map body", '(let ((e (echo (http/post "E/p" {:b [1 2] :a "x"})))) (list (:method e) (:body e) (:content_types e)))',
     '("POST" "{\\"a\\":\\"x\\",\\"b\\":[1,2]}" ("application/json"))'),
    ("C2 raw body", '(let ((e (echo (http/put "E/p" "raw")))) (list (:method e) (:body e) (:content_types e)))',
     '("PUT" "raw" ())'),
    ("C2 other bodies", '(map (fn (b) (:body (echo (http/post "E/p" b)))) (list [1 2] 42 :kw ""))',
     '("[1 2]" "42" ":kw" "")'),
    ("C2 nil body", '(:body (echo (http/request "POST" "E/p" nil nil)))', '"nil"'),
    ("C2 user content-type first", '(:content_types (echo (http/post "E/p" {:a 1} {:headers {"Content-Type" "text/x"}})))',
     '("text/x" "application/json")'),
    ("C3 headers", '(let* ((r (http/get "E/h" {:headers {:x-kw "1" "X-Str" "2" :x-num 3}})) (h (:headers (echo r)))) '
                   '(list (:x-kw h) (:x-str h) (:x-num h) (:accept h) (:user-agent h) (get (:headers r) :x-multi)))',
     '("1" "2" "3" "*/*" nil "b")'),
    ("C3 no accept-encoding", '(get (:headers (echo (http/get "E/h"))) :accept-encoding)', "nil"),
    ("C3 invalid header name", '(try (http/get "E/h" {:headers {"bad name" "v"}}) (catch e (list (:type e) (:message e))))',
     '(:io "http GET E/h: builder error for url (E/h)")'),
    ("C3 invalid header value", '(try (http/get "E/h" {:headers {"x" "a\\nb"}}) (catch e (:type e)))', ":io"),
    ("C4 patch", '(let ((e (echo (http/request "patch" "E/x" {:headers {"content-type" "text/plain"}} "d")))) (list (:method e) (:body e)))',
     '("PATCH" "d")'),
    ("C4 delete", '(:method (echo (http/delete "E/x")))', '"DELETE"'),
    ("C4 head", '(let ((r (http/request "HEAD" "E/x"))) (list (:status r) (:body r)))', '(200 "")'),
    ("C4 get with a body", '(:body (echo (http/request "GET" "E/x" {} "b")))', '"b"'),
    ("C5 redirect", '(let ((r (http/get "E/redirect"))) (list (:status r) (:path (echo r))))', '(200 "/final")'),
    ("C5 post redirect", '(let ((e (echo (http/post "E/redirect" "x")))) (list (:method e) (:body e)))', '("GET" "")'),
    ("C6 timeout", '(let ((t (time-ms))) (try (http/get "E/slow" {:timeout 300}) (catch e (list (:type e) '
                   '(string/starts-with? (:message e) "http GET E/slow: ") (< (- (time-ms) t) 1500)))))', '(:io #t #t)'),
    ("C6 no timeout", '(:status (http/get "E/slow"))', "200"),
    ("C6 timeout 0", '(try (http/get "E/x" {:timeout 0}) (catch e (:type e)))', ":io"),
    ("C6 negative timeout = none", '(:status (http/get "E/x" {:timeout -1}))', "200"),
    ("C7 refused", '(try (http/get "http://127.0.0.1:NONE/") (catch e (list (:type e) (:message e))))',
     '(:io "http GET http://127.0.0.1:NONE/: error sending request for url (http://127.0.0.1:NONE/)")'),
    ("C7 not a url", '(try (http/get "not a url") (catch e (list (:type e) (:message e))))',
     '(:io "http GET not a url: builder error")'),
    ("C7 ftp", '(try (http/get "ftp://127.0.0.1/x") (catch e (:type e)))', ":io"),
    ("C7 normalized", '(try (http/get "HTTP://127.0.0.1:NONE") (catch e (:message e)))',
     '"http GET HTTP://127.0.0.1:NONE: error sending request for url (http://127.0.0.1:NONE/)"'),
    ("statuses", '(map (fn (s) (:status (http/get (str "C/status/" s)))) (list 200 201 204 400 404 418 500 503))',
     "(200 201 204 400 404 418 500 503)"),
    ("204 body", '(:body (http/get "C/status/204"))', '""'),
    ("5xx body", '(:body (http/get "C/status/503"))', '"status 503"'),
    ("repeated header last", '(let ((h (:headers (http/get "C/headers")))) (list (:x-rep h) (:x-mixed h) (:x-bin h)))',
     '("two" "ok" nil)'),
    ("301 chain", '(let ((r (http/get "C/redirect/3/301"))) (list (:status r) (:method (echo r))))', '(200 "GET")'),
    ("303 post", '(:method (echo (http/post "C/redirect/1/303" "x")))', '"GET"'),
    ("307 repeats", '(let ((e (echo (http/post "C/redirect/1/307" "keep")))) (list (:method e) (:body e)))',
     '("POST" "keep")'),
    ("308 put", '(let ((e (echo (http/put "C/redirect/2/308" "p")))) (list (:method e) (:body e)))', '("PUT" "p")'),
    ("10 redirects ok", '(:status (http/get "C/redirect/10/302"))', "200"),
    ("11 redirects fail", '(try (http/get "C/redirect/11/302") (catch e (list (:type e) (:message e))))',
     '(:io "http GET C/redirect/11/302: error following redirect for url (C/redirect/1/302)")'),
    ("redirect loop", '(try (http/get "C/loop") (catch e (:type e)))', ":io"),
    ("credentials dropped across hosts",
     '(let ((h (:headers (echo (http/get "C/other-host" {:headers {"Authorization" "secret" "X-Keep" "k"}}))))) '
     '(list (:authorization h) (:x-keep h)))', '(nil "k")'),
    ("credentials kept on the host", '(:authorization (:headers (echo (http/get "C/redirect/1/302" {:headers {"Authorization" "s"}}))))',
     '"s"'),
    ("slow body", '(:body (http/get "C/slow-body"))', '"xxxxxxxxxx"'),
    ("slow body timeout", '(try (http/get "C/slow-body" {:timeout 500}) (catch e (string/starts-with? (:message e) "http GET C/slow-body: read body: ")))',
     "#t"),
    ("chunked", '(:body (http/get "C/chunked"))', '"one two three four five"'),
    ("latin-1", '(:body (http/get "C/latin1"))', '"caf\u00e9 \u00fc"'),
    ("bom removed", '(:body (http/get "C/bom"))', '"bom"'),
    ("invalid utf-8", '(:body (http/get "C/invalid-utf8"))', '"a\ufffdb\ufffd"'),
    ("cut body", '(try (http/get "C/cut") (catch e (list (:type e) (string/starts-with? (:message e) "http GET C/cut: read body: "))))',
     "(:io #t)"),
    ("big body", '(string-length (:body (http/get "C/big")))', "4194304"),
    ("arity", '(try (http/get) (catch e (:message e)))', '"http/get expects 1-2 args, got 0"'),
    ("url type", '(try (http/get 42) (catch e (:message e)))', '"expected string, got int"'),
    ("method type", '(try (http/request 42 "u") (catch e (:message e)))', '"expected string, got int"'),
    ("unknown method", '(try (http/request "options" "E/") (catch e (list (:type e) (:message e))))',
     '(:eval "http: unknown method OPTIONS")'),
    ("keep-alive reuse", '(map (fn (i) (:status (http/get "E/x"))) (range 20))', "(" + " ".join(["200"] * 20) + ")"),
]


def subst(s):
    s = s.replace("NONE", str(P_NONE))
    return s.replace("S/", S + "/").replace("E/", E + "/").replace("C/", C + "/")


try:
    prog = ['(define (echo r) (json/decode (:body r)))']
    for name, expr, _ in CASES:
        prog.append('(println "@@" (try (format "~s" %s) (catch e (format "~s" (list :error (:type e) (:message e))))))'
                    % subst(expr))
    rc, out = run_sema(BIN, "\n".join(prog), timeout=120)
    lines = [l[3:] for l in out.splitlines() if l.startswith("@@ ")]
    check("client script ran", rc == 0 and len(lines) == len(CASES), "rc %d, %d lines:\n%s" % (rc, len(lines), out[-2000:]))
    for (name, _, want), got in zip(CASES, lines):
        eq(name, got, subst(want))
finally:
    for p in procs:
        p.kill()
        p.wait()
    subprocess.run(["rm", "-rf", D])
finish("http client")
