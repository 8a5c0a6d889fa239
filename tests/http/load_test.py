"""Load: wrk -t2 -c64 against a JSON endpoint whose handler is Sema code
(bench/http/json_server.sema), three runs: no errors, no RSS growth.
With --compare, the same endpoint on Python's standard library and on Node.js
(bench/http/json_server.{py,js}) is measured too, and a table printed.
usage: load_test.py SEMA_BINARY SECONDS [--compare]"""
import os
import re
import shutil
import subprocess
import sys
import time

from common import check, eq, finish, free_port

BIN = os.path.abspath(sys.argv[1])
SECS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
COMPARE = "--compare" in sys.argv
BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "http")


def wait_port(port, proc, timeout=5):
    import socket
    t = time.time()
    while time.time() - t < timeout:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def wrk(port, secs):
    r = subprocess.run(["wrk", "-t2", "-c64", "-d%ds" % secs, "http://127.0.0.1:%d/json" % port],
                       capture_output=True, text=True, timeout=secs + 30)
    out = r.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)) if "Requests/sec" in out else 0.0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    sock_err = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    non2xx = int(m.group(1)) if m else 0
    m = re.search(r"(\d+) requests in", out)
    total = int(m.group(1)) if m else 0
    return rps, sock_err, non2xx, total


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def serve(cmd, port):
    env = dict(os.environ, PORT=str(port))
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_port(port, p):
        p.kill()
        raise RuntimeError("did not start: %r" % cmd)
    return p


if not shutil.which("wrk"):
    check("wrk installed (tools/deps.sh)", False)
    finish("http load")

port = free_port()
p = serve([BIN, os.path.join(BENCH, "json_server.sema")], port)
results = {}
try:
    rss = []
    rates = []
    for i in range(3):
        rps, se, bad, total = wrk(port, SECS)
        rates.append(rps)
        rss.append(rss_kb(p.pid))
        eq("run %d socket errors" % (i + 1), se, 0)
        eq("run %d non-2xx" % (i + 1), bad, 0)
        check("run %d served requests" % (i + 1), total > 1000, "%d requests" % total)
    # the first run grows the heap to its working size; later runs must not add to it
    check("no RSS growth across runs", rss[2] <= rss[0] * 1.10 + 2048, "RSS kB after each run: %r" % rss)
    check("still alive", p.poll() is None)
    results["sema"] = max(rates)
    print("sema: %s req/s over 3 runs of %d s, RSS kB %r" % (", ".join("%.0f" % r for r in rates), SECS, rss))
finally:
    p.kill()
    p.wait()

if COMPARE:
    for name, cmd in [("python3 (http.server, threads)", [sys.executable, os.path.join(BENCH, "json_server.py")]),
                      ("node", ["node", os.path.join(BENCH, "json_server.js")])]:
        if not shutil.which(cmd[0]):
            continue
        port = free_port()
        q = serve(cmd, port)
        try:
            wrk(port, 1)  # warm-up
            results[name] = wrk(port, SECS)[0]
        finally:
            q.kill()
            q.wait()
    print("\n| server | requests/s (wrk -t2 -c64 -d%ds) |\n|---|---|" % SECS)
    for k, v in results.items():
        print("| %s | %.0f |" % (k, v))
finish("http load")
