#!/usr/bin/env python3
"""layers.py - the link-level dependency graph of the release objects.

Reads `nm -P` of every object under build/obj (the CLI's excepted): object A
depends on object B when A uses a symbol that B defines.  Prints the strongly
connected components with more than one object (largest first) and every
edge that calls upward across the layering of docs/design.md.

  tools/layers.py [--max-scc N] [--check]

--check exits 1 when the largest component exceeds N (default 12) objects or
when a value-core or VM object calls into the front end or the library.
"""
import os, subprocess, sys, collections

OBJ_DIR = "build/obj"

def load_layers():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layers.txt")
    table = {}
    order = []
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, objs = line.split(":", 1)
        order.append(name.strip())
        for o in objs.split():
            table[o] = len(order) - 1
    return order, table


def objects():
    out = []
    for root, _, files in os.walk(OBJ_DIR):
        for f in files:
            if f.endswith(".o"):
                rel = os.path.relpath(os.path.join(root, f), OBJ_DIR)
                if rel.startswith("cli/"):
                    continue
                if not os.path.exists(os.path.join("src", rel[:-2] + ".c")):
                    continue  # a stale object whose source was removed
                out.append(rel)
    return sorted(out)


def symbols(obj):
    text = subprocess.run(["nm", "-P", os.path.join(OBJ_DIR, obj)], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            used.add(name)
        elif kind.isupper() and kind not in "UVW" or kind in "VW":
            defined.add(name)
    return defined, used


def scc(nodes, edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in nodes:
        if v not in index:
            visit(v)
    return out


def main():
    max_scc = 12
    check = "--check" in sys.argv
    if "--max-scc" in sys.argv:
        max_scc = int(sys.argv[sys.argv.index("--max-scc") + 1])
    objs = objects()
    defs, uses = {}, {}
    owner = {}
    for o in objs:
        d, u = symbols(o)
        defs[o], uses[o] = d, u
        for s in d:
            owner.setdefault(s, o)
    edges = {o: set() for o in objs}
    why = collections.defaultdict(list)
    for o in objs:
        for s in uses[o]:
            t = owner.get(s)
            if t and t != o:
                edges[o].add(t)
                why[(o, t)].append(s)
    comps = sorted(scc(objs, edges), key=len, reverse=True)
    big = [c for c in comps if len(c) > 1]
    largest = len(comps[0]) if comps else 0
    print(f"objects: {len(objs)}; largest strongly connected component: {largest}")
    for c in big:
        print(f"  cycle of {len(c)}: {' '.join(c)}")
    bad = 0
    try:
        order, table = load_layers()
    except FileNotFoundError:
        order, table = None, None
    if table is not None:
        for o in objs:
            if o not in table:
                print(f"  {o}: not listed in tools/layers.txt")
                bad += 1
        for (a, b), syms in sorted(why.items()):
            if a in table and b in table and table[b] > table[a]:
                print(f"  upward call {a} ({order[table[a]]}) -> {b} ({order[table[b]]}): {' '.join(sorted(syms)[:6])}")
                bad += 1
    if check and (largest > max_scc or bad):
        print(f"layers: FAIL (largest cycle {largest}, limit {max_scc}; {bad} layering problems)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
