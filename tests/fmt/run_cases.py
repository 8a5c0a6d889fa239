#!/usr/bin/env python3
"""Run formatter cases: sema fmt --stdout [--width W] [--indent I] [--align] - per case.

usage: run_cases.py SEMA CASES.jsonl... [--xfail FILE] [-v]

A case is {"id", "options": {"width", "indent", "align"}, "input", "expect"}
or, instead of "expect", "error": a substring of the message (formatting must
fail with a non-zero exit).  For every expect case the output formatted again
must be unchanged (idempotence).  Ids listed in the xfail file (one per line,
"ID  reason"; # comments) are expected to fail: they are reported, and a
listed case that passes is an error so the list stays true.
"""
import json
import subprocess
import sys


def run(sema, text, opts):
    cmd = [sema, "fmt", "--stdout"]
    if opts.get("width", 80) != 80:
        cmd += ["--width", str(opts["width"])]
    if opts.get("indent", 2) != 2:
        cmd += ["--indent", str(opts["indent"])]
    if opts.get("align"):
        cmd.append("--align")
    cmd.append("-")
    p = subprocess.run(cmd, input=text.encode(), capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def check(sema, case):
    """None if the case passes, else a description of the failure."""
    opts = case.get("options", {})
    rc, out, err = run(sema, case["input"], opts)
    if "error" in case:
        if rc == 0:
            return "expected an error containing %r, got output %r" % (case["error"], out)
        if case["error"] not in err:
            return "expected an error containing %r, got %r" % (case["error"], err.strip())
        if out:
            return "an error must not print output, got %r" % out
        return None
    if rc != 0:
        return "exit %d: %s" % (rc, err.strip())
    if out != case["expect"]:
        return "got:\n%s\nexpected:\n%s" % (out, case["expect"])
    rc2, out2, err2 = run(sema, out, opts)
    if rc2 != 0 or out2 != out:
        return "not idempotent: formatting the output again gives:\n%s%s" % (out2, err2)
    return None


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    args = [a for a in args if a != "-v"]
    xfail = {}
    if "--xfail" in args:
        k = args.index("--xfail")
        for line in open(args[k + 1], encoding="utf-8"):
            line = line.split("#", 1)[0].strip()
            if line:
                parts = line.split(None, 1)
                xfail[parts[0]] = parts[1] if len(parts) > 1 else ""
        del args[k:k + 2]
    sema, files = args[0], args[1:]
    passed = failed = expected = 0
    seen = set()
    for path in files:
        for line in open(path, encoding="utf-8"):
            if not line.strip():
                continue
            case = json.loads(line)
            cid = case["id"]
            seen.add(cid)
            problem = check(sema, case)
            if cid in xfail:
                if problem is None:
                    failed += 1
                    print("XPASS %s (listed as expected to fail: %s)" % (cid, xfail[cid]))
                else:
                    expected += 1
                    if verbose:
                        print("xfail %s: %s" % (cid, xfail[cid]))
            elif problem is None:
                passed += 1
            else:
                failed += 1
                print("FAIL %s\n%s\n" % (cid, problem))
    for cid in sorted(set(xfail) - seen):
        print("note: xfail id %s is not among the cases" % cid)
    print("fmt cases: %d passed, %d failed, %d expected failures" % (passed, failed, expected))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
