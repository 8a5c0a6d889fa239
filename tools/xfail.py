#!/usr/bin/env python3
"""Regenerate tests/conformance-xfail.txt: every conformance case that fails
now, with a one-line reason.  Run after a change that fixes cases (the list
may only shrink: the test command fails on a new failure).

usage: tools/xfail.py [SEMA_BIN] [CORPUS_DIR]
Reasons are derived from the failure: a Tier C name (stdlib.md §31), a name
not implemented yet, or a behaviour difference to investigate.
"""
import glob, json, os, re, subprocess, sys, tempfile

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/sema")
CORPUS = sys.argv[2] if len(sys.argv) > 2 else "../shared/conformance"
RUNNER = os.path.join(os.path.dirname(CORPUS.rstrip("/")), "tools", "conformance")
SPEC = os.path.join(os.path.dirname(CORPUS.rstrip("/")), "spec", "stdlib.md")

# Prefixes of the Tier C modules of stdlib.md §31 (and the Tier C TUI names of §28).
# Everything else (context/, stream/, typed arrays, toml/, ...) is Tier B and in scope.
TIER_C_PREFIXES = ("llm/", "conversation/", "prompt/", "message/", "agent/", "tool/", "embedding/",
                   "vector-store/", "memory/", "http/", "route/", "mcp/", "workflow/", "otel/", "kv/",
                   "db/", "pdf/", "git/", "gzip/", "zip/", "tar/", "proc/", "pty/", "serial/", "secret/",
                   "pii/", "redact/", "diff/", "patch/", "markdown/", "html/", "fs/watch", "event/",
                   "pio/", "web/", "document/", "sema/", "async/", "channel/",
                   "term/with-", "io/with-raw-mode")  # the Tier C guard macros (§28)

def tier_c_names():
    """Every **`name`** before the "· **C**" marker of a spec entry (a "- " line
    and its indented continuation lines)."""
    names = set()
    if not os.path.exists(SPEC):
        return names
    entries, cur = [], None
    for line in open(SPEC, encoding="utf-8"):
        if line.startswith("- "):
            cur = line.rstrip("\n")
            entries.append(cur)
        elif line.startswith("  ") and cur is not None:
            entries[-1] += " " + line.strip()
        else:
            cur = None
    for e in entries:
        if "· **C**" in e:
            names.update(re.findall(r"\*\*`([^`]+)`\*\*", e.split("· **C**")[0]))
    return names

def main():
    cases = {}
    for f in glob.glob(os.path.join(CORPUS, "*.jsonl")):
        for l in open(f, encoding="utf-8"):
            if l.strip():
                r = json.loads(l)
                cases[r["id"]] = r
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as tmp:
        subprocess.run([sys.executable, RUNNER, "--bin", BIN, "--list-failures", tmp.name, CORPUS],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        failing = [l.strip() for l in open(tmp.name) if l.strip()]
    tierc = tier_c_names()
    out = ["# Conformance cases known to fail, with the reason.  Regenerate with tools/xfail.py;",
           "# the list may only shrink (a failure not listed here breaks the tests).", ""]
    for cid in sorted(failing):
        c = cases.get(cid, {})
        src = c.get("src", "")
        with tempfile.TemporaryDirectory() as d:
            try:
                p = subprocess.run([BIN, "-p", src], capture_output=True, text=True, timeout=10, cwd=d,
                                   stdin=subprocess.DEVNULL)
                err = p.stderr
            except subprocess.TimeoutExpired:
                err = "timeout"
        m = re.search(r"Unbound variable: (\S+)", err)
        if m and (m.group(1) in tierc or m.group(1).startswith(TIER_C_PREFIXES)):
            reason = "tier C (out of scope): %s" % m.group(1)
        elif m:
            reason = "not implemented yet: %s" % m.group(1)
        elif any(t in src for t in TIER_C_PREFIXES) or any(("(%s " % n) in src or ("(%s)" % n) in src for n in tierc):
            reason = "tier C (out of scope): uses a Tier C form"
        elif "needs" in c:
            reason = "environment-dependent (%s); differs here" % c["needs"]
        else:
            first = err.strip().splitlines()[0] if err.strip() else "wrong output"
            reason = "behaviour differs: %s" % first[:100]
        out.append("%s  # %s" % (cid, reason))
    open("tests/conformance-xfail.txt", "w").write("\n".join(out) + "\n")
    print("%d expected failures written" % len(failing))

main()
