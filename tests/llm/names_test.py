"""Every name of llm.md §1.5 (plus net.md's tools->routes / route/from-tools)
is bound, and where each is exercised: the language tests, the provider
tests, the examples and the conformance corpus's llm cases.
usage: names_test.py SEMA_BINARY [--table]"""
import glob
import json
import os
import re
import subprocess
import sys

from common import check, finish

BIN = os.path.abspath(sys.argv[1])
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SPEC = os.path.join(ROOT, "..", "shared", "spec", "llm.md")
CONF = os.path.join(ROOT, "..", "shared", "conformance")
OPTIONAL = {"llm/io-sleep-once"}  # llm.md §20: "MAY be omitted"
FORMS = {"prompt", "message", "deftool", "defagent"}

text = open(SPEC, encoding="utf-8").read()
table = text[text.index("### 1.5 The names"):text.index("## 2. Value types")]
names = []
for row in table.splitlines():
    if row.startswith("| ") and not row.startswith("| Group") and not row.startswith("| ---"):
        for n in re.findall(r"`([^`]+)`", row.split("|")[2]):
            if n not in names:
                names.append(n)
names += ["tools->routes", "route/from-tools"]
check("122 names in llm.md §1.5", len(names) == 124, str(len(names)))

prog = "".join('(println "%s" (try (procedure? %s) (catch e "unbound")))\n' % (n, n) for n in names if n not in FORMS)
prog += '(println "prompt" (prompt? (prompt (user "x"))))\n(println "message" (message? (message :user "x")))\n'
prog += '(println "deftool" (tool? (deftool t1 "d" {} (fn () 1))))\n(println "defagent" (agent? (defagent a1 {})))\n'
p = subprocess.run([BIN, "--no-llm", "-e", prog], capture_output=True, text=True, timeout=30)
bound = {}
for line in p.stdout.splitlines():
    n, _, v = line.rpartition(" ")
    bound[n] = v == "#t"

corpus = []
for f in ["tests/lang/llm-*.sema", "tests/llm/*_test.py", "examples/llm/*.sema"]:
    for path in glob.glob(os.path.join(ROOT, f)):
        if not path.endswith("names_test.py"):
            corpus.append((os.path.relpath(path, ROOT), open(path, encoding="utf-8").read()))
conf_src = []
for path in glob.glob(os.path.join(CONF, "*.jsonl")):
    for line in open(path, encoding="utf-8"):
        try:
            c = json.loads(line)
        except ValueError:
            continue
        if c.get("area") == "llm":
            conf_src.append(c.get("src", ""))


def used(name, src):
    return re.search(r"(?<![\w/\-?!>*])" + re.escape(name) + r"(?![\w/\-?!>*])", src) is not None


rows = []
for n in names:
    where = sorted({os.path.dirname(path) for path, src in corpus if used(n, src)})
    nconf = sum(1 for s in conf_src if used(n, s))
    if n not in OPTIONAL:
        check("bound: " + n, bound.get(n, False))
        check("tested: " + n, where or nconf, "no test uses it")
    rows.append("| `%s` | %s | %s | %d |" % (n, "yes" if bound.get(n) else "no", ", ".join(where) or "-", nconf))
if "--table" in sys.argv:
    print("| name | bound | tests | conformance cases |\n| --- | --- | --- | --- |")
    print("\n".join(rows))
finish("llm names")
