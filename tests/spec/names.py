#!/usr/bin/env python3
"""Check that every builtin of a tier in ../shared/spec/stdlib.md is bound.

usage: names.py SEMA_BIN STDLIB_MD [A|B] [KNOWN_MISSING_FILE]   (default A)
Prints the missing names.  Fails if a name is missing that the known-missing
file (one name per line, '#' comments) does not list, or if a listed name is
now bound (the list may only shrink).  An entry looks like
  - **`name`** (alias **`other`**) `(sig)` · **A** — ...
and every **`name`** before the tier marker is a global name.
"""
import re, subprocess, sys

binary, spec = sys.argv[1], sys.argv[2]
tier = sys.argv[3] if len(sys.argv) > 3 else "A"
known = set()
if len(sys.argv) > 4:
    for line in open(sys.argv[4], encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if line:
            known.add(line)
marker = "· **%s**" % tier
# an entry is a "- " line plus its indented continuation lines
entries = []
for line in open(spec, encoding="utf-8"):
    if line.startswith("- "):
        entries.append(line.rstrip("\n"))
    elif line.startswith("  ") and entries and entries[-1] is not None:
        entries[-1] += " " + line.strip()
    else:
        entries.append(None)
names = []
for line in entries:
    if line is None or marker not in line:
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
print("tier %s names: %d in the spec, %d missing (%d known)" % (tier, len(names), len(missing), len(known)))
unexpected = [m for m in missing if m not in known]
stale = sorted(k for k in known if k not in missing)
for m in unexpected:
    print("  missing:", m)
for k in stale:
    print("  now bound, remove from the known-missing list:", k)
sys.exit(1 if unexpected or stale else 0)
