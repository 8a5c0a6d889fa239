"""chosen_server.py PORT - answers what the path asks for, for the client tests:
  /status/N              status N, body "status N"
  /headers               a repeated header, a non-ASCII value, a mixed-case name
  /redirect/N/CODE       N redirects with status CODE, then the echo of the request
  /loop                  redirects to itself forever
  /other-host            302 to http://localhost:PORT/echo (credentials must be dropped)
  /echo                  JSON {method, body, headers}
  /slow-body             headers at once, then the body over 1.5 s
  /chunked               chunked body in 5 pieces
  /latin1                ISO-8859-1 body with charset=iso-8859-1
  /bom                   UTF-8 body with a byte-order mark
  /invalid-utf8          bytes that are not UTF-8
  /cut                   Content-Length 100, 10 bytes sent, connection closed
  /big                   4 MB body
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def go(self):
        p = self.path
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if p.startswith("/status/"):
            st = int(p.split("/")[2])
            self.send(st, b"" if st in (204, 304) else ("status %d" % st).encode())
        elif p == "/headers":
            self.send_response(200)
            self.send_header("X-Rep", "one")
            self.send_header("X-Rep", "two")
            self.send_header("X-Bin", "caf\u00e9")
            self.send_header("X-MiXeD", "ok")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"hi")
        elif p.startswith("/redirect/"):
            _, _, count, code = p.split("/")
            count = int(count)
            loc = "/redirect/%d/%s" % (count - 1, code) if count > 1 else "/echo"
            self.send(int(code), b"moved", [("Location", loc)])
        elif p == "/loop":
            self.send(302, b"", [("Location", "/loop")])
        elif p == "/other-host":
            self.send(302, b"", [("Location", "http://localhost:%d/echo" % PORT)])
        elif p == "/echo":
            out = json.dumps({"method": self.command, "body": body.decode("utf-8", "replace"),
                              "headers": {k.lower(): v for k, v in self.headers.items()}}, sort_keys=True).encode()
            self.send(200, out, [("Content-Type", "application/json")])
        elif p == "/slow-body":
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            for i in range(10):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.15)
        elif p == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in [b"one ", b"two ", b"three ", b"four ", b"five"]:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n")
        elif p == "/latin1":
            self.send(200, "caf\u00e9 \u00fc".encode("latin-1"), [("Content-Type", "text/plain; charset=ISO-8859-1")])
        elif p == "/bom":
            self.send(200, b"\xef\xbb\xbfbom", [("Content-Type", "text/plain")])
        elif p == "/invalid-utf8":
            self.send(200, b"a\xffb\xc3", [("Content-Type", "text/plain")])
        elif p == "/cut":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        elif p == "/big":
            self.send(200, b"y" * (4 * 1024 * 1024))
        else:
            self.send(404, b"no")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = go

    def log_message(self, *a):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
