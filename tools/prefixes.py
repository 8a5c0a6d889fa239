#!/usr/bin/env python3
"""prefixes.py - every external symbol of build/libsema.a starts with sema_
or with its module's prefix.

A module's prefix is its file name (src/lib/NAME.c: lib_NAME_ or NAME_) or
the abbreviation docs/design.md lists for it in the table under the heading
"Module prefixes" (rows "| file | prefix |").  A host program that links the
static library can then not collide with a generic name such as `cons`.

  tools/prefixes.py [build/libsema.a]     exit 1 and list offenders
"""
import os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def listed_prefixes():
    text = open(os.path.join(ROOT, "docs", "design.md")).read()
    m = re.search(r"^#+ Module prefixes\s*$(.*?)(?=^#)", text, re.S | re.M)
    if not m:
        sys.exit("prefixes: docs/design.md has no 'Module prefixes' section")
    table = {}
    for row in m.group(1).splitlines():
        cells = [c.strip().strip("`") for c in row.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].endswith(".c"):
            table.setdefault(cells[0], []).extend(p.strip().strip("`") for p in cells[1].split(","))
    return table


def source_of(member):
    """The source of an archive member (basenames are unique across src/ and src/lib/)."""
    name = member[:-2] + ".c"
    found = [d + name for d in ("", "lib/") if os.path.exists(os.path.join(ROOT, "src", d + name))]
    if len(found) != 1:
        sys.exit(f"prefixes: archive member {member} matches {found or 'no source'}")
    return found[0]


def main():
    lib = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "libsema.a")
    out = subprocess.run(["nm", "-g", "--defined-only", "-A", lib], capture_output=True, text=True, check=True).stdout
    table = listed_prefixes()
    bad, count = [], 0
    for line in out.splitlines():
        # "lib.a:build/obj/lib/http.o:0000000000000000 T http_get"
        parts = line.rsplit(None, 2)
        if len(parts) != 3:
            continue
        where, kind, sym = parts
        member = os.path.basename(where.split(":")[1] if where.count(":") >= 2 else where)
        src = source_of(member)
        name = os.path.basename(src)[:-2]
        allowed = ["sema_", name + "_"] + [p + "_" if not p.endswith("_") else p for p in table.get(src, [])]
        if src.startswith("lib/"):
            allowed.append("lib_" + name + "_")
        count += 1
        if not any(sym.startswith(p) for p in allowed):
            bad.append(f"{src}: {sym} (allowed: {', '.join(allowed)})")
    for b in bad:
        print("prefixes:", b)
    print(f"prefixes: {count} external symbols, {len(bad)} without their module's prefix")
    return 1 if bad or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
