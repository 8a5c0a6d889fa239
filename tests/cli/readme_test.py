#!/usr/bin/env python3
"""README.md's two-minute tour, run: every `    $ build/sema ...` line of the
"A two-minute tour" section is run by bash from the repository root (stdin
empty, stdout and stderr together) and its output compared with the indented
lines under it.  An expected line ending in "..." matches any line that
starts with the text before it, and after such a last line the rest of the
output is not compared; "elapsedMs":N is compared as a number of any value.
A command with no output lines under it must print nothing (the REPL line:
with stdin not a terminal it runs the empty program).

    tests/cli/readme_test.py [SEMA]     (SEMA replaces build/sema)
"""
import os
import re
import subprocess
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sema = sys.argv[1] if len(sys.argv) > 1 else "build/sema"
text = open(os.path.join(root, "README.md"), encoding="utf-8").read()
m = re.search(r"^## A two-minute tour\n(.*?)^## ", text, re.S | re.M)
if not m:
    sys.exit("readme: no '## A two-minute tour' section in README.md")

cases, cur = [], None
for line in m.group(1).splitlines():
    if line.startswith("    $ "):
        cur = [line[6:], []]
        cases.append(cur)
    elif line.startswith("    ") and cur is not None:
        cur[1].append(line[4:])
    elif line.strip() == "":
        continue
    else:
        cur = None


def norm(s):
    return re.sub(r'"elapsedMs":\d+', '"elapsedMs":N', s)


fails = 0
for cmd, expected in cases:
    run = re.sub(r"(^|\| *)build/sema\b", lambda g: g.group(1) + sema, cmd)
    try:
        p = subprocess.run(["bash", "-c", run], cwd=root, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        got = p.stdout.decode("utf-8", "replace").splitlines()
    except subprocess.TimeoutExpired:
        got = ["<timed out>"]
    ok = True
    open_end = bool(expected) and expected[-1].endswith("...")
    if not open_end and len(got) != len(expected):
        ok = False
    for i, e in enumerate(expected):
        g = got[i] if i < len(got) else None
        if g is None:
            ok = False
        elif e.endswith("..."):
            ok &= g.startswith(e[:-3])
        else:
            ok &= norm(g) == norm(e)
    if not ok:
        fails += 1
        print(f"readme: FAIL {cmd}\n  expected: {expected}\n  got:      {got[:len(expected) + 2]}")
print(f"readme: {len(cases) - fails}/{len(cases)} tour commands give the output README.md shows")
sys.exit(1 if fails else 0)
