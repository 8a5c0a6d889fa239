"""The example programs of examples/llm against the scripted OpenAI-
compatible server: each example's requests are checked and its output must
equal examples/llm/NAME.expect.  The examples are configured the way a user
would point them at a proxy: OPENAI_API_KEY and OPENAI_BASE_URL.
usage: examples_test.py SEMA_BINARY"""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

from common import check, clean_env, eq, finish
from fake_providers import OpenAIServer, Step, body, call, chat, delta, dynamic, sse

BIN = os.path.abspath(sys.argv[1])
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
EX = os.path.join(ROOT, "examples", "llm")


def last_user(req):
    return [m for m in req.json["messages"] if m["role"] == "user"][-1]["content"]


def system_of(req):
    s = [m for m in req.json["messages"] if m["role"] == "system"]
    return s[0]["content"] if s else None


def run(name, steps, extra_env=None, check_requests=None):
    srv = OpenAIServer(steps)
    tmp = tempfile.mkdtemp(prefix="sema-llm-ex-")
    env = clean_env(tmp, {"OPENAI_API_KEY": "sk-example", "OPENAI_BASE_URL": "http://127.0.0.1:%d/v1" % srv.port,
                          "AGENT_DIR": os.path.join(tmp, "project"), "TMPDIR": tmp})
    env.update(extra_env or {})
    try:
        p = subprocess.run([BIN, "--no-llm", os.path.join(EX, name + ".sema")], capture_output=True, env=env, timeout=60)
    finally:
        srv.stop()
    out = p.stdout.decode()
    if os.environ.get("SEMA_UPDATE_EXPECT"):  # after reviewing the output: write it as the expectation
        open(os.path.join(EX, name + ".expect"), "w").write(out)
    want = open(os.path.join(EX, name + ".expect")).read()
    eq(name + " output", out, want)
    eq(name + " exit", p.returncode, 0)
    if p.returncode:
        print(p.stderr.decode()[-1500:])
    check(name + " requests", not srv.problems, "\n  " + "\n  ".join(srv.problems))
    eq(name + " request count", len(srv.received), len(steps))
    if check_requests:
        check_requests(srv.received)
    shutil.rmtree(tmp, ignore_errors=True)


# ---- hello
run("hello", [Step(body(200, chat("Hello, and welcome to Sema!", prompt=16, completion=7)), path="/v1/chat/completions",
                   headers={"Authorization": "Bearer sk-example"},
                   body={"model": "gpt-5.5", "messages": [{"role": "user", "content": "Say hello to a new Sema user in one sentence."}], "max_tokens": 60})])

# ---- conversation
SYS = {"role": "system", "content": "You are a concise programming tutor."}
Q1 = {"role": "user", "content": "What is a closure?"}
A1 = {"role": "assistant", "content": "A function that keeps the variables of the scope it was made in."}
run("conversation", [
    Step(body(200, chat(A1["content"], prompt=20, completion=14)), has={"messages": [SYS, Q1]}),
    Step(body(200, chat("(define (adder n) (fn (x) (+ x n)))", prompt=40, completion=12)),
         has={"messages": [SYS, Q1, A1, {"role": "user", "content": "Show one in one line of Sema."}]}),
    Step(body(200, chat("A closure is a function with a backpack of remembered things.", prompt=40, completion=13)),
         has={"messages": [SYS, Q1, A1, {"role": "user", "content": "Explain it to a ten-year-old."}]}),
    Step(body(200, chat("Bonjour", prompt=12, completion=2)),
         has={"messages": [{"role": "system", "content": "Translate into French. Reply with the translation only."}, {"role": "user", "content": "Good morning"}]}),
    Step(sse([delta("One, "), delta("two, "), delta("three, "), delta("four, "), delta("five."), delta(finish="stop"),
              {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 10}}, "[DONE]"]),
         has={"stream": True, "max_tokens": 30, "messages": [{"role": "user", "content": "Count from one to five."}]})])

# ---- coding agent: list, read, write, answer
FIXED = "def add(a, b):\n    return a + b\n"


def agent_requests(reqs):
    tools = sorted(t["function"]["name"] for t in reqs[0].json["tools"])
    eq("coding-agent tools", tools, ["list-files", "read-file", "write-file"])
    results = [m["content"] for m in reqs[-1].json["messages"] if m["role"] == "tool"]
    eq("coding-agent tool results", results, ["README.md\ncalc.py", "def add(a, b):\n    return a - b\n", "written",
                                               "Error: Eval error: path outside the project: ../etc/passwd"])


run("coding-agent", [
    Step(body(200, chat(None, tool_calls=[call("c1", "list-files", {})], prompt=200, completion=10)),
         check=lambda r: None if system_of(r).startswith("You are a careful coding agent") else "no system prompt"),
    Step(body(200, chat(None, tool_calls=[call("c2", "read-file", {"path": "calc.py"})], prompt=220, completion=12))),
    Step(body(200, chat("The function subtracts; fixing.", tool_calls=[call("c3", "write-file", {"path": "calc.py", "content": FIXED}),
                                                                      call("c4", "read-file", {"path": "../etc/passwd"})], prompt=260, completion=40))),
    Step(body(200, chat("Fixed calc.py: add now returns a + b instead of a - b.", prompt=300, completion=20)))],
    check_requests=agent_requests)

# ---- extraction: the second answer is wrong once and re-asked
EXTRACT = {"Ada Lovelace (born 1815) wrote the first program.": ['{"name": "Ada Lovelace", "born": 1815, "field": "computing"}'],
           "Alan Turing, mathematician, 1912-1954.": ['{"name": "Alan Turing", "born": "1912"}', '```json\n{"name": "Alan Turing", "born": 1912, "field": "mathematics"}\n```']}
seen = {}


def extract_answer(req):
    text = last_user(req)
    n = seen.get(text, 0)
    seen[text] = n + 1
    if req.json.get("response_format") != {"type": "json_object"}:
        return 500, {"error": "no JSON mode"}
    return 200, chat(EXTRACT[text][n], prompt=50, completion=15)


CLASSES = {"The app crashes when I save.": "bug", "Could you add dark mode?": "feature-request\n", "Thanks, works great now!": " praise"}
run("extraction", [Step(dynamic(extract_answer)) for _ in range(3)] +
    [Step(dynamic(lambda r: (200, chat(CLASSES[last_user(r)]))),
          check=lambda r: None if system_of(r).startswith("Classify the following text into exactly one of these categories: bug, feature-request, praise")
          else "classification prompt") for _ in range(3)],
    check_requests=lambda reqs: check("extraction re-ask", "Validation errors:\nkey born: expected number, got string" in system_of(reqs[2]),
                                      system_of(reqs[2])))

# ---- batch: concurrent requests, answered from their content in any order
ANSWERS = {"What is 2 + 2?": "Four.", "What is the capital of France?": "Paris.", "What colour is a clear sky?": "Blue.",
           "Define 'lisp' in three words.": "List processing language.", "Define 'agent' in three words.": "Autonomous acting program."}
run("batch", [Step(dynamic(lambda r: (200, chat(ANSWERS[last_user(r)], prompt=10, completion=3)))) for _ in range(5)])

# ---- RAG: embeddings by bag of words, so retrieval is real
VOCAB = ["conversation", "immutable", "tool", "deftool", "defined", "handler", "budget", "cost", "limit", "define", "parameter", "error"]


def embed(text):
    words = re.findall(r"[a-z\-]+", text.lower())
    v = [float(sum(1 for w in words if w.startswith(k))) for k in VOCAB]
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / n for x in v]


def embeddings(req):
    if not req.path.endswith("/embeddings"):
        return 500, {"error": "not an embedding request"}
    return 200, {"object": "list", "model": req.json["model"], "usage": {"prompt_tokens": 7 * len(req.json["input"])},
                 "data": [{"index": i, "embedding": embed(t)} for i, t in enumerate(req.json["input"])]}


def rag_answer(req):
    ctx = system_of(req)
    if "deftool" not in ctx:
        return 200, chat("I do not know.")
    return 200, chat("Use deftool with a name, a description, a parameter map and a handler.", prompt=80, completion=16)


run("rag", [Step(dynamic(embeddings), path="/v1/embeddings"), Step(dynamic(embeddings), path="/v1/embeddings",
                                                                    body={"input": ["How do I define a tool?"], "model": "text-embedding-3-small"}),
            Step(dynamic(rag_answer), path="/v1/chat/completions")])

finish("llm examples")
