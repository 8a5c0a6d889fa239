"""Shared helpers of the LLM tests: running a Sema program against the
scripted providers of fake_providers.py with the clean environment of
llm-scenarios.md ("Harness"), and pass/fail counting."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

passed = 0
failed = 0
failures = []


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        failures.append(name)
        print("FAIL: %s %s" % (name, detail))


def eq(name, got, want):
    check(name, got == want, "\n  got:  %r\n  want: %r" % (got, want))


def finish(label):
    print("%s: %d passed, %d failed" % (label, passed, failed))
    sys.exit(1 if failed else 0)


class Run:
    def __init__(self, rc, out, err, secs):
        self.rc, self.out, self.err, self.secs = rc, out, err, secs


def clean_env(tmp, extra=None):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.path.join(tmp, "home"), "LANG": "C.UTF-8"}
    os.makedirs(env["HOME"], exist_ok=True)
    env.update(extra or {})
    return env


def run_sema(binary, prog, port=None, tmp=None, env=None, args=("--no-llm",), timeout=60, subst=None):
    """Run prog (with $PORT, $TMP and subst's keys replaced) as a file."""
    own = tmp is None
    tmp = tmp or tempfile.mkdtemp(prefix="sema-llm-")
    text = prog.replace("$TMP", tmp)
    if port is not None:
        text = text.replace("$PORT", str(port))
    for k, v in (subst or {}).items():
        text = text.replace(k, str(v))
    path = os.path.join(tmp, "prog.sema")
    with open(path, "w") as f:
        f.write(text)
    t = time.monotonic()
    try:
        p = subprocess.run([binary] + list(args) + [path], capture_output=True, env=clean_env(tmp, env), timeout=timeout)
        r = Run(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), time.monotonic() - t)
    except subprocess.TimeoutExpired as e:
        r = Run(-999, (e.stdout or b"").decode("utf-8", "replace"), "TIMEOUT", time.monotonic() - t)
    if own:
        shutil.rmtree(tmp, ignore_errors=True)
    return r
