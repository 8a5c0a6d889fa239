"""Tools as HTTP routes (net.md §3.5, scenario S14): tools->routes and
route/from-tools under a real http/serve on 127.0.0.1, hit with urllib.
usage: tools_routes_test.py SEMA_BINARY"""
import json
import os
import sys
import urllib.error
import urllib.request

from common import check, eq, finish

import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location("http_common", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http", "common.py"))
_http = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_http)
HttpServer = _http.Server  # tests/http/common.py: a Sema server on a free port

BIN = os.path.abspath(sys.argv[1])
SRC = r'''
(deftool add "Add two numbers" {:a {:type :number} :b {:type :number}} (fn (args) (+ (:a args) (:b args))))
(deftool echo "Echo the arguments" {:x {:type :string}} (fn (args) args))
(http/serve (http/router (append (tools->routes [add]) (route/from-tools (list echo)))) {:port PORT :host "127.0.0.1"})
'''


def req(srv, method, path, data=None):
    r = urllib.request.Request(srv.url(path), method=method, data=data,
                               headers={"Content-Type": "application/json"} if data is not None else {})
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return resp.status, resp.headers.get("Content-Type"), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


srv = HttpServer(BIN, SRC)
try:
    eq("S14 POST /tools/add", req(srv, "POST", "/tools/add", b'{"a":1,"b":2}'), (200, "application/json", "3"))
    st, ct, b = req(srv, "GET", "/tools/add/schema")
    eq("S14 schema status", (st, ct), (200, "application/json"))
    eq("S14 schema body", json.loads(b), {"description": "Add two numbers", "name": "add",
                                          "parameters": "{\"a\":{\"type\":\"number\"},\"b\":{\"type\":\"number\"}}"})
    eq("S14 schema body bytes", b, '{"description":"Add two numbers","name":"add","parameters":"{\\"a\\":{\\"type\\":\\"number\\"},\\"b\\":{\\"type\\":\\"number\\"}}"}')
    eq("route/from-tools: the JSON map, not spread", req(srv, "POST", "/tools/echo", b'{"x":"hi","y":[1,2]}'),
       (200, "application/json", '{"x":"hi","y":[1,2]}'))
    eq("no body: {}", req(srv, "POST", "/tools/echo"), (200, "application/json", "{}"))
    eq("a failing handler: 500", req(srv, "POST", "/tools/add", b'{"a":1}')[0], 500)
    eq("GET on the tool route: not routed", req(srv, "GET", "/tools/add")[0] in (404, 405), True)
    eq("unknown tool", req(srv, "POST", "/tools/nope", b"{}")[0], 404)
finally:
    srv.stop()
finish("llm tools->routes")
