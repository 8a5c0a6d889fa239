# the same JSON endpoint on the Python standard library (threading server, HTTP/1.1 keep-alive)
import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
n = 0
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        global n
        n += 1
        body = json.dumps({"hello": "world", "method": "get", "n": n, "path": self.path}, separators=(",", ":")).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "18091"))), H).serve_forever()
