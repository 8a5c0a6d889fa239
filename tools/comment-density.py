#!/usr/bin/env python3
"""comment-density.py FILE... - comment lines per code line (a line holding
only a comment, or a comment after code, counts as a comment line)."""
import re, sys
tot_c = tot_k = 0
for path in sys.argv[1:]:
    c = k = 0
    in_block = False
    for line in open(path):
        s = line.strip()
        if not s:
            continue
        has_comment = in_block or '/*' in s or '//' in s
        code = s
        if in_block:
            if '*/' in s:
                in_block = False
                code = s.split('*/', 1)[1].strip()
            else:
                code = ''
        elif '/*' in s:
            before, after = s.split('/*', 1)
            code = before.strip()
            if '*/' not in after:
                in_block = True
            else:
                code = (code + after.split('*/', 1)[1]).strip()
        if has_comment:
            c += 1
        if code:
            k += 1
    tot_c += c
    tot_k += k
    print(f"{path}: {c} comment lines / {k} code lines = {c / max(k, 1):.2f}")
print(f"total: {tot_c / max(tot_k, 1):.2f}")
