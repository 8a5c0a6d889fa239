"""Shared helpers of the HTTP tests: free ports, Sema servers started as in
net.md §8 (poll stderr for "Listening on"), curl, a raw WebSocket client, and
pass/fail counting.  Everything runs on 127.0.0.1."""
import base64
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

for v in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
    os.environ.pop(v, None)

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_TOOLS = os.path.join(HERE, "..", "..", "..", "shared", "spec", "tools")

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s %s" % (name, detail))


def eq(name, got, want):
    check(name, got == want, "\n  got:  %r\n  want: %r" % (got, want))


def finish(label):
    print("%s: %d passed, %d failed" % (label, passed, failed))
    sys.exit(1 if failed else 0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    """A Sema script serving on a free port; PORT in the source is replaced."""

    def __init__(self, binary, src, env=None, port=None, wait=True, subst=True, flags=()):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="sema-http-")
        self.path = os.path.join(self.dir, "server.sema")
        with open(self.path, "w") as f:
            f.write(src.replace("PORT", str(self.port)) if subst else src)
        self.err_path = os.path.join(self.dir, "err.log")
        self.err = open(self.err_path, "w")
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen([binary] + list(flags) + [self.path], stdout=subprocess.PIPE, stderr=self.err, env=e, cwd=self.dir)
        if wait:
            self.wait_listening()

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def wait_listening(self, timeout=5.0):
        t = time.time()
        while time.time() - t < timeout:
            if "Listening on 127.0.0.1:%d" % self.port in self.stderr():
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("server did not start: " + self.stderr())

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.err.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


def curl(url, *args, timeout=20):
    """-> (status, headers dict lower-case (last wins), body bytes)"""
    d = tempfile.mkdtemp(prefix="sema-curl-")
    try:
        body_p, hdr_p = os.path.join(d, "body"), os.path.join(d, "hdrs")
        r = subprocess.run(["curl", "-s", "-o", body_p, "-D", hdr_p, "-w", "%{http_code}", "--max-time", str(timeout)]
                           + list(args) + [url], capture_output=True, timeout=timeout + 5)
        code = int(r.stdout.decode() or "0")
        headers = {}
        if os.path.exists(hdr_p):
            with open(hdr_p, "rb") as f:
                blocks = f.read().decode("latin-1").split("\r\n\r\n")
            block = [b for b in blocks if b.strip()]
            for line in (block[-1].split("\r\n")[1:] if block else []):
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
        body = b""
        if os.path.exists(body_p):
            with open(body_p, "rb") as f:
                body = f.read()
        return code, headers, body
    finally:
        shutil.rmtree(d, ignore_errors=True)


class WS:
    """A minimal WebSocket client over a plain socket (text frames)."""

    def __init__(self, port, path, timeout=5):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            c = self.s.recv(1)
            if not c:
                break
            head += c
        self.status_line = head.split(b"\r\n")[0].decode()
        self.headers = head.decode("latin-1")

    def exact(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError
            b += c
        return b

    def send(self, data, op=1):
        if isinstance(data, str):
            data = data.encode()
        m = os.urandom(4)
        n = len(data)
        if n < 126:
            h = bytes([0x80 | op, 0x80 | n])
        elif n < 65536:
            h = bytes([0x80 | op, 0xFE]) + struct.pack(">H", n)
        else:
            h = bytes([0x80 | op, 0xFF]) + struct.pack(">Q", n)
        self.s.sendall(h + m + bytes(c ^ m[i % 4] for i, c in enumerate(data)))

    def recv(self):
        """-> (opcode, payload) or (None, b"") at EOF"""
        try:
            b0, b1 = self.exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self.exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self.exact(8))[0]
            return b0 & 0x0F, self.exact(n)
        except (EOFError, ConnectionResetError):
            return None, b""

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def run_sema(binary, src, timeout=30, env=None):
    """Run a Sema client script; -> (exit code, stdout+stderr text)"""
    d = tempfile.mkdtemp(prefix="sema-client-")
    try:
        p = os.path.join(d, "c.sema")
        with open(p, "w") as f:
            f.write(src)
        e = dict(os.environ)
        e.update(env or {})
        r = subprocess.run([binary, p], capture_output=True, timeout=timeout, env=e)
        return r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace")
    finally:
        shutil.rmtree(d, ignore_errors=True)
