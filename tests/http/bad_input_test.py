"""Bad input against a Sema server: malformed requests, 1 MB headers,
slowloris-style partial requests, half-closed and vanishing sockets, broken
bodies and WebSocket frames.  After each, the server must still answer a
good request.  usage: bad_input_test.py SEMA_BINARY"""
import os
import socket
import sys
import threading
import time

from common import Server, WS, check, curl, eq, finish

BIN = os.path.abspath(sys.argv[1])
IDLE = 2  # seconds: SEMA_HTTP_IDLE_TIMEOUT for this server

SRC = '''(http/serve (http/router [[:get "/ok" (fn (_) (http/text "ok"))]
 [:post "/echo" (fn (req) (http/text (:body req)))]
 [:get "/path/*" (fn (req) (http/text (:path req)))]
 [:get "/slow" (fn (_) (sleep 300) (http/text "slow"))]
 [:ws "/ws" (fn (conn) (let loop () (let ((m ((:recv conn)))) (when m ((:send conn) m) (loop)))))]])
 {:port PORT :host "127.0.0.1"})'''


def raw(port, data, read_timeout=3.0, shut=False):
    """send DATA, read until the server closes or goes quiet; -> bytes"""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                c = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not c:
                break
            out += c
        return out
    except (BrokenPipeError, ConnectionResetError):
        return b"<reset>"
    finally:
        s.close()


def status_of(resp):
    if resp.startswith(b"HTTP/1."):
        return int(resp.split(b" ", 2)[1])
    return None  # dropped


def alive(s, label):
    code, _, body = curl(s.url("/ok"), timeout=5)
    eq("alive after " + label, (code, body), (200, b"ok"))


with Server(BIN, SRC, env={"SEMA_HTTP_IDLE_TIMEOUT": str(IDLE)}) as s:
    P = s.port
    cases = [
        ("garbage line", b"HELLO\r\n\r\n", (400, None)),
        ("no target", b"GET\r\n\r\n", (400, None)),
        ("bad version", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", (400, 505, None)),
        ("binary", bytes(range(256)) * 16, (400, None)),
        ("HTTP/1.1 without Host (tolerated, as MHD does by default)", b"GET /ok HTTP/1.1\r\n\r\n", (400, 200)),
        ("1 MB header", b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n", (431, None)),
        ("10000 headers", b"GET /ok HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(10000)) + b"\r\n",
         (431, None)),
        ("100 KB URL", b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", (414, 431, None)),
        ("bad content-length", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", (400,)),
        ("two content-lengths", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
         (400, 200, None)),
        ("bad chunked", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n",
         (400, None)),
        ("NUL in header", b"GET /ok HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", (400, 200, None)),
        ("bare LF", b"GET /ok HTTP/1.1\nHost: x\n\n", (200, 400, None)),
    ]
    for label, data, allowed in cases:
        st = status_of(raw(P, data))
        check("bad input: " + label, st in allowed, "got %r" % st)
        alive(s, label)

    # truncated body: the connection is dropped, nothing is answered
    st = status_of(raw(P, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort", read_timeout=IDLE + 3))
    check("truncated body not answered", st in (None, 408), "got %r" % st)
    alive(s, "truncated body")

    # half-closed: the request is complete, the client shuts its writing side
    resp = raw(P, b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", shut=True)
    eq("half-closed socket answered", (status_of(resp), resp.endswith(b"ok")), (200, True))
    resp = raw(P, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", shut=True)
    check("half-closed POST answered", resp.endswith(b"hello"), repr(resp[-60:]))

    # pipelined requests on one connection
    resp = raw(P, b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n" * 3 + b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    eq("pipelined", resp.count(b"HTTP/1.1 200"), 4)

    # bytes that are not UTF-8 reach the handler as U+FFFD
    resp = raw(P, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\na\xffb")
    check("invalid UTF-8 body", resp.endswith("a\ufffdb".encode()), repr(resp[-20:]))
    resp = raw(P, b"GET /path/%ff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check("non-ASCII path answered or refused", status_of(resp) in (200, 400), repr(resp[:40]))

    # connections that vanish: right after connecting, mid-headers, while the handler runs
    for i in range(100):
        socket.create_connection(("127.0.0.1", P)).close()
    c = socket.create_connection(("127.0.0.1", P))
    c.sendall(b"GET /ok HTTP/1.1\r\nHo")
    c.close()
    c = socket.create_connection(("127.0.0.1", P))
    c.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    c.close()
    c = socket.create_connection(("127.0.0.1", P))
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close
    c.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    c.close()
    time.sleep(0.7)
    alive(s, "vanishing clients")

    # slowloris: partial requests trickled in stay open only IDLE seconds,
    # and good requests are served meanwhile
    slow = []
    for i in range(30):
        c = socket.create_connection(("127.0.0.1", P))
        c.sendall(b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        slow.append(c)
    t0 = time.time()
    alive(s, "30 partial requests open")
    check("served while slowloris open", time.time() - t0 < 1.0, "%.2f s" % (time.time() - t0))
    closed = 0
    for c in slow:
        c.settimeout(IDLE + 4)
        try:
            data = c.recv(100)
            if data == b"" or status_of(data) == 408:
                closed += 1
        except (socket.timeout, ConnectionResetError):
            if isinstance(sys.exc_info()[1], ConnectionResetError):
                closed += 1
        c.close()
    eq("slowloris connections dropped after the idle timeout", closed, 30)
    alive(s, "slowloris")

    # a slow trickle that keeps sending is cut by the idle timeout per gap only; a complete
    # request sent byte by byte is served
    c = socket.create_connection(("127.0.0.1", P), timeout=5)
    for b in b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n":
        c.send(bytes([b]))
        time.sleep(0.005)
    data = b""
    while True:
        d = c.recv(1000)
        if not d:
            break
        data += d
    c.close()
    eq("byte-by-byte request", status_of(data), 200)

    # WebSocket: a wrong version is refused; garbage frames close that connection only
    resp = raw(P, b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 12\r\nConnection: close\r\n\r\n")
    check("ws version 12 refused", status_of(resp) == 400 and resp.endswith(b"WebSocket upgrade required"), repr(resp[-40:]))
    w = WS(P, "/ws")
    w.s.sendall(b"\xff\xff\xff\xff" * 64)  # reserved opcode, not masked
    op, _ = w.recv()
    check("ws garbage closes", op in (8, None), repr(op))
    w.close()
    w = WS(P, "/ws")
    w.send("still")
    eq("ws after garbage", w.recv(), (1, b"still"))
    w.close()
    w = WS(P, "/ws")
    w.s.close()  # vanish without a Close frame
    time.sleep(0.2)
    alive(s, "websocket abuse")
    check("no crash", s.proc.poll() is None, s.stderr())
finish("http bad input")
