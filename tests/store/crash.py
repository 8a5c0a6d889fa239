#!/usr/bin/env python3
"""Crash test of kv/* and db/*: a child sema process writes kv keys (and,
separately, db rows in transactions) and is killed with SIGKILL at a random
point, KILLS times; a last child finishes the job.  After every kill:

  kv: the store file parses as JSON (Python's json and sema's kv/open agree),
      every key whose kv/set returned (the child printed "ok I") is there with
      its value, and nothing else is but the one call in flight;
  db: PRAGMA integrity_check is "ok", every transaction whose COMMIT returned
      is there, each transaction present is whole (both rows; the counter in
      the same transaction matches), and sema's db/open reads the same rows.

  crash.py SEMA [--count N] [--kills K] [--seed S] [--only kv|db]

Prints one summary line per store and exits non-zero on the first violation.
"""
import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class Failure(Exception):
    pass


def run_child(sema, script, path, start, end, kill_after, rng):
    """Run the writer on [start, end).  kill_after: SIGKILL once that many
    calls have been confirmed, plus a random part of the time one call takes
    (so the kill lands in any phase of the next call: encoding, writing,
    fsync, rename), or None to let it finish.  Returns (confirmed indices,
    killed?)."""
    proc = subprocess.Popen([sema, os.path.join(HERE, script), "--", path, str(start), str(end)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    confirmed = []
    killed = False
    stamps = []
    for line in proc.stdout:
        parts = line.split()
        if len(parts) != 2 or parts[0] != "ok":
            raise Failure(f"{script}: unexpected output {line!r}")
        confirmed.append(int(parts[1]))
        stamps.append(time.monotonic())
        if kill_after is not None and len(confirmed) >= kill_after:
            recent = stamps[-11:]
            per_call = (recent[-1] - recent[0]) / (len(recent) - 1) if len(recent) > 1 else 0.002
            time.sleep(rng.random() * per_call)
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
    # lines already in the pipe were printed after their call returned: they count
    for line in proc.stdout:
        confirmed.append(int(line.split()[1]))
    err = proc.stderr.read()
    rc = proc.wait()
    if killed and rc != -signal.SIGKILL and rc != 0:
        raise Failure(f"{script}: child exited {rc} before the kill: {err.strip()}")
    if not killed and rc != 0:
        raise Failure(f"{script}: child failed ({rc}): {err.strip()}")
    return confirmed, killed


def sema_eval(sema, src):
    out = subprocess.run([sema, "-e", src], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise Failure(f"sema -e failed: {out.stderr.strip()}")
    return out.stdout.strip()


def kv_value(i):
    return {"i": i, "sq": i * i, "tag": f"value-{i}"}


def check_kv(sema, path, confirmed_upto, in_flight):
    """Every key below confirmed_upto is present and right; in_flight may be."""
    if not os.path.exists(path):
        if confirmed_upto == 0:
            return 0
        raise Failure(f"kv: {path} missing after {confirmed_upto} confirmed sets")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise Failure(f"kv: store file does not parse ({e}); {len(raw)} bytes")
    if not isinstance(data, dict):
        raise Failure("kv: store file is not an object")
    for i in range(confirmed_upto):
        got = data.get(f"k{i}")
        if got != kv_value(i):
            raise Failure(f"kv: key k{i} (confirmed) is {got!r}")
    allowed = {f"k{i}" for i in range(confirmed_upto)} | {f"k{in_flight}"}
    extra = set(data) - allowed
    if extra:
        raise Failure(f"kv: unexpected keys {sorted(extra)[:5]}")
    n = sema_eval(sema, f'(kv/open "s" {json.dumps(path)}) (length (kv/keys "s"))')
    if int(n) != len(data):
        raise Failure(f"kv: sema's kv/open sees {n} keys, the file holds {len(data)}")
    return len(data)


def check_db(sema, path, confirmed_upto, in_flight):
    if not os.path.exists(path):
        if confirmed_upto == 0:
            return 0
        raise Failure(f"db: {path} missing")
    con = sqlite3.connect(path)
    try:
        ic = con.execute("PRAGMA integrity_check").fetchall()
        if ic != [("ok",)]:
            raise Failure(f"db: integrity_check: {ic[:5]}")
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "rows" not in tables:
            if confirmed_upto == 0:
                return 0
            raise Failure("db: table rows missing")
        rows = con.execute("SELECT id, txn, payload FROM rows").fetchall()
        counter = con.execute("SELECT n FROM meta WHERE k='txns'").fetchone()[0]
    finally:
        con.close()
    by_txn = {}
    for rid, txn, payload in rows:
        by_txn.setdefault(txn, set()).add((rid, payload))
    for txn, got in by_txn.items():
        want = {(2 * txn, f"first-{txn}"), (2 * txn + 1, f"second-{txn}")}
        if got != want:
            raise Failure(f"db: transaction {txn} is partial or wrong: {sorted(got)}")
        if txn >= confirmed_upto and txn != in_flight:
            raise Failure(f"db: transaction {txn} present but never run")
    for i in range(confirmed_upto):
        if i not in by_txn:
            raise Failure(f"db: transaction {i} (COMMIT returned) is missing")
    if counter != len(by_txn):
        raise Failure(f"db: counter {counter} but {len(by_txn)} transactions")
    n = sema_eval(sema, f'(db/open "d" {json.dumps(path)}) (:n (db/query-one "d" "SELECT count(*) AS n FROM rows"))')
    if int(n) != len(rows):
        raise Failure(f"db: sema's db/open sees {n} rows, sqlite3 {len(rows)}")
    return len(rows)


def crash_loop(sema, kind, count, kills, rng, workdir):
    script, check, path = {
        "kv": ("kv_writer.sema", check_kv, os.path.join(workdir, "store.json")),
        "db": ("db_writer.sema", check_db, os.path.join(workdir, "store.db")),
    }[kind]
    # db: count rows in transactions of two rows each
    total = count if kind == "kv" else count // 2
    done = 0  # every index below done is confirmed
    kill_points = []
    mid_flush = 0  # kills that left a temporary file: they landed inside a kv flush
    t0 = time.time()
    for k in range(kills + 1):
        last = k == kills
        remaining = total - done
        # spread the kills over the run: each one after a random share of what is left
        kill_after = None if last else rng.randint(1, max(1, 2 * remaining // (kills - k + 1)))
        confirmed, killed = run_child(sema, script, path, done, total, kill_after, rng)
        if confirmed and confirmed != list(range(done, done + len(confirmed))):
            raise Failure(f"{kind}: confirmations out of order")
        done += len(confirmed)
        if killed:
            kill_points.append(done)
        strays = [f for f in os.listdir(workdir) if ".tmp-" in f]  # before check's kv/open removes them
        n = check(sema, path, done, done)
        mid_flush += killed and bool(strays)
        if len(strays) > 1:  # the killed child's, if it died mid-flush; the next kv/open removes it
            raise Failure(f"{kind}: stray temporary files pile up: {strays}")
        if last and done != total:
            raise Failure(f"{kind}: the final run confirmed only {done} of {total}")
    strays = [f for f in os.listdir(workdir) if ".tmp-" in f]
    if strays:
        raise Failure(f"{kind}: temporary files left at the end: {strays}")
    if kind == "kv":
        what = (f"{n} keys verified, {len(kill_points)} SIGKILLs (after {kill_points} confirmed sets; "
                f"{mid_flush} inside a flush), the file parsed after each")
    else:
        what = (f"{n} rows verified, {len(kill_points)} SIGKILLs (after {kill_points} committed transactions "
                f"of 2 rows), integrity_check ok after each")
    print(f"crash {kind}: {what}, {time.time() - t0:.1f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sema")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--only", choices=["kv", "db"])
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    sema = os.path.abspath(a.sema)
    try:
        for kind in ([a.only] if a.only else ["kv", "db"]):
            with tempfile.TemporaryDirectory(prefix=f"sema-crash-{kind}-") as d:
                crash_loop(sema, kind, a.count, a.kills, rng, d)
    except Failure as e:
        print(f"crash test FAILED (seed {seed}): {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
