#!/usr/bin/env python3
"""Check that every builtin of a tier in ../shared/spec/stdlib.md is bound.

usage: names.py SEMA_BIN STDLIB_MD [A|B]   (default A)
Prints the missing names and exits 1 if any.  An entry looks like
  - **`name`** (alias **`other`**) `(sig)` · **A** — ...
and every **`name`** before the tier marker is a global name.
"""
import re, subprocess, sys

binary, spec = sys.argv[1], sys.argv[2]
tier = sys.argv[3] if len(sys.argv) > 3 else "A"
marker = "· **%s**" % tier
names = []
for line in open(spec, encoding="utf-8"):
    if not line.startswith("- ") or marker not in line:
        continue
    head = line.split(marker)[0]
    for n in re.findall(r"\*\*`([^`]+)`\*\*", head):
        if n not in names:
            names.append(n)

def sema_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

prog = "\n".join(
    '(try (begin (eval (string->symbol %s)) nil) (catch e (println %s)))' % (sema_string(n), sema_string(n))
    for n in names)
out = subprocess.run([binary, "-e", prog], capture_output=True, text=True)
missing = [l for l in out.stdout.splitlines() if l.strip()]
if out.returncode != 0:
    print(out.stderr)
    sys.exit(1)
print("tier %s names: %d in the spec, %d missing" % (tier, len(names), len(missing)))
for m in missing:
    print("  missing:", m)
sys.exit(1 if missing else 0)
