"""Shared helpers of the scenario tests: real binaries, real sockets.

A scenario file defines functions decorated with @test and ends with
`run_tests()`.  Each test gets a fresh Env: a private temporary directory
with run/ (ipc sockets) and state/ (SQLite), a config file, and helpers to
start the stages as subprocesses.  Output lines: "PASS name",
"FAIL name: why", "SKIP name: why" (read by tests/run.py).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("COATTAIL_BIN", os.path.join(ROOT, "bin"))
SAN = os.environ.get("COATTAIL_SAN") == "1"
# Sanitizer builds run several times slower: scale waits, never assertions.
SLOW = 4 if SAN else 1

_tests = []


class Skip(Exception):
    pass


def test(fn):
    _tests.append(fn)
    return fn


def binary(name):
    return os.path.join(BIN, "coattail-" + name)


class Proc:
    def __init__(self, name, popen, log_path):
        self.name = name
        self.p = popen
        self.log_path = log_path

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def signal(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def wait(self, timeout):
        return self.p.wait(timeout=timeout)

    def alive(self):
        return self.p.poll() is None


class Env:
    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix="coattail-%s-" % name)
        self.run_dir = os.path.join(self.dir, "run")
        self.state_dir = os.path.join(self.dir, "state")
        self.procs = []
        self.conf = os.path.join(self.dir, "coattail.conf")
        self.write_conf("")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write_conf(self, extra):
        with open(self.conf, "w") as f:
            f.write('state_dir = "%s";\nrun_dir = "%s";\n%s\n' % (self.state_dir, self.run_dir, extra))
        os.chmod(self.conf, 0o600)

    def env(self, extra=None):
        e = dict(os.environ)
        e["COATTAIL_CONF"] = self.conf
        if extra:
            e.update(extra)
        return e

    def start(self, name, *args, stdin=None, stdout=None, env=None):
        """Start bin/coattail-NAME with the env's config; stderr goes to a log."""
        log_path = self.path("%s.%d.log" % (name, len(self.procs)))
        log = open(log_path, "w")
        p = subprocess.Popen([binary(name), "-c", self.conf] + list(args),
                             stdin=stdin if stdin is not None else subprocess.DEVNULL,
                             stdout=stdout if stdout is not None else subprocess.DEVNULL,
                             stderr=log, env=self.env(env), cwd=ROOT)
        proc = Proc(name, p, log_path)
        self.procs.append(proc)
        return proc

    def run(self, name, *args, input=None, timeout=60, env=None):
        """Run bin/coattail-NAME to completion; returns CompletedProcess (text)."""
        return subprocess.run([binary(name)] + list(args), input=input, capture_output=True,
                              text=True, errors="replace", timeout=timeout * SLOW,
                              env=self.env(env), cwd=ROOT)

    def wait_for(self, cond, timeout, what):
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            if cond():
                return
            time.sleep(0.05)
        raise AssertionError("timed out after %ss waiting for %s" % (timeout * SLOW, what))

    def close(self):
        for p in self.procs:
            if p.alive():
                p.signal(signal.SIGKILL)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def trade(i, **over):
    """A valid trade record in canonical form (every key, contract order)."""
    t = {
        "type": "trade", "v": 1, "key": "test:%08d" % i, "source": "edgar",
        "accession": "0001209191-22-%06d" % (i % 1000000), "url": None,
        "filed_at": "2026-04-24T21:35:59Z", "trade_date": "2026-04-22",
        "ticker": "T%04d" % (i % 5000), "issuer": "Issuer %d Inc." % (i % 5000),
        "issuer_cik": "%010d" % (1000 + i % 5000), "owner": "Owner \"%d\" \u00e9" % i,
        "owner_cik": "%010d" % (2000000 + i), "title": "CEO", "roles": ["officer"],
        "code": "P" if i % 2 else "S", "shares": 1000 + i, "price": 12.5 + (i % 100) / 100.0,
        "value": None, "shares_after": 50000 + i, "direct": True if i % 3 else None,
        "planned": False, "amendment": i % 7 == 0, "instrument": None,
    }
    t.update(over)
    return t


def _canon(v):
    if isinstance(v, float) and v == int(v) and abs(v) < 2 ** 53:
        return int(v)  # stages print whole numbers without ".0"
    if isinstance(v, dict):
        return {k: _canon(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_canon(x) for x in v]
    return v


def dumps(rec):
    """JSON text the way the stages print it (no spaces, UTF-8, whole
    numbers as integers)."""
    return json.dumps(_canon(rec), separators=(",", ":"), ensure_ascii=False)


def run_tests():
    only = sys.argv[1] if len(sys.argv) > 1 else None
    failed = 0
    for fn in _tests:
        if only and only not in fn.__name__:
            continue
        env = Env(fn.__name__)
        t0 = time.monotonic()
        try:
            fn(env)
            print("PASS %s (%.1fs)" % (fn.__name__, time.monotonic() - t0), flush=True)
        except Skip as e:
            print("SKIP %s: %s" % (fn.__name__, e), flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure
            failed += 1
            print("FAIL %s: %s" % (fn.__name__, e), flush=True)
            traceback.print_exc(file=sys.stdout)
            for p in env.procs:
                print("--- log of %s (%s) ---\n%s" % (p.name, p.log_path, p.log()[-4000:]))
        finally:
            env.close()
    sys.exit(1 if failed else 0)
