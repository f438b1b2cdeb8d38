"""Deployment: the systemd units verify clean, `make install` lays out what
the README promises, `make demo` shows an intent and a filled paper order,
supervisord runs the four stages and a tap and stops them cleanly, and
`make run` tells a newcomer how to name SEC's contact instead of starting
without one.

systemd-analyze and supervisord are optional here (a test without one
says SKIP and why); deploy/deps.sh installs supervisor, so CI has it.
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from harness import BIN, SAN, SLOW, Skip, dumps, run_tests, test, trade

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITS = sorted(glob.glob(os.path.join(ROOT, "deploy", "systemd", "*.service"))
               + glob.glob(os.path.join(ROOT, "deploy", "systemd", "*.target"))
               + glob.glob(os.path.join(ROOT, "deploy", "systemd", "*.timer")))
STAGES = ["scraper", "mapper", "decider", "executor"]
TOOLS = ["tap", "inject"]
PROGRAMS = ["executor", "decider", "mapper", "scraper", "tap"]


def make(*args, timeout=300):
    """Run make in the repo with this run's build mode and bin directory, so
    a SAN=1 test run never relinks bin/ without the sanitizers."""
    cmd = ["make", "-C", ROOT, "--no-print-directory", "BINDIR=" + BIN]
    if SAN:
        cmd.append("SAN=1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COATTAIL_")}
    return subprocess.run(cmd + list(args), capture_output=True, text=True, errors="replace",
                          timeout=timeout * SLOW, env=env)


def substitute(unit_dir, bindir, sysconfdir):
    for src in UNITS:
        with open(src) as f:
            text = f.read()
        text = text.replace("@BINDIR@", bindir).replace("@SYSCONFDIR@", sysconfdir)
        with open(os.path.join(unit_dir, os.path.basename(src)), "w") as f:
            f.write(text)


def verify(unit_dir):
    names = sorted(os.listdir(unit_dir))
    return subprocess.run(["systemd-analyze", "verify", "--man=no"] + names, cwd=unit_dir,
                          capture_output=True, text=True, timeout=120)


@test
def test_systemd_units_verify_clean_once_substituted(env):
    if shutil.which("systemd-analyze") is None:
        raise Skip("systemd-analyze is not installed")
    assert len(UNITS) >= 7, UNITS
    tmp = tempfile.mkdtemp(prefix="coattail-units-")
    try:
        # The verifier must be able to fail here, or a clean result means
        # nothing: a relative ExecStart is an error.
        bad = os.path.join(tmp, "bad")
        os.mkdir(bad)
        with open(os.path.join(bad, "coattail-bad.service"), "w") as f:
            f.write("[Service]\nExecStart=coattail-bad\nRestart=sometimes\n")
        r = verify(bad)
        if r.returncode == 0 and not r.stderr.strip():
            raise Skip("systemd-analyze verify finds nothing wrong even in a broken unit here")
        good = os.path.join(tmp, "good")
        os.mkdir(good)
        # Real, executable paths: verify checks that ExecStart exists.
        substitute(good, BIN, tmp)
        r = verify(good)
        assert r.returncode == 0 and not r.stderr.strip(), \
            "systemd-analyze verify:\n%s%s" % (r.stdout, r.stderr)
        # No placeholder survives anywhere in the units.
        for name in os.listdir(good):
            with open(os.path.join(good, name)) as f:
                assert "@" not in f.read().replace("admin@example", ""), name
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_make_install_lays_out_binaries_config_units_and_man_pages(env):
    dest = tempfile.mkdtemp(prefix="coattail-destdir-")
    try:
        r = make("install", "DESTDIR=" + dest, "PREFIX=/usr/local")
        assert r.returncode == 0, r.stdout + r.stderr
        pre = os.path.join(dest, "usr", "local")

        def mode(path):
            return os.stat(path).st_mode & 0o777

        for b in STAGES + TOOLS:
            p = os.path.join(pre, "bin", "coattail-" + b)
            assert os.access(p, os.X_OK) and mode(p) == 0o755, p
            man = os.path.join(pre, "share", "man", "man1", "coattail-%s.1" % b)
            with open(man) as f:
                text = f.read()
            assert text.startswith(".TH COATTAIL-%s 1 " % b.upper()), text[:80]
            assert "coattail-%s \\-" % b in text and "usage: coattail-" + b in text, text[:400]
        conf = os.path.join(pre, "etc", "coattail", "coattail.conf")
        assert mode(conf) == 0o640, oct(mode(conf))
        with open(conf) as f, open(os.path.join(ROOT, "deploy", "coattail.conf")) as g:
            assert f.read() == g.read()
        units = os.path.join(pre, "lib", "systemd", "system")
        assert sorted(os.listdir(units)) == sorted(os.path.basename(u) for u in UNITS), \
            os.listdir(units)
        for s in STAGES:
            with open(os.path.join(units, "coattail-%s.service" % s)) as f:
                text = f.read()
            assert ("\nExecStart=/usr/local/bin/coattail-%s -c "
                    "/usr/local/etc/coattail/coattail.conf\n" % s) in text, text
            assert "@BINDIR@" not in text and "@SYSCONFDIR@" not in text
        with open(os.path.join(units, "coattail-executor.service")) as f:
            assert "#LoadCredential=lemon_key:/usr/local/etc/coattail/lemon_key" in f.read()
        sysusers = os.path.join(pre, "lib", "sysusers.d", "coattail.conf")
        with open(sysusers) as f:
            assert re.search(r"^u coattail ", f.read(), re.M)
        assert os.path.exists(os.path.join(pre, "share", "doc", "coattail", "supervisord.conf"))
        # Nothing lands outside DESTDIR/PREFIX.
        assert sorted(os.listdir(dest)) == ["usr"], os.listdir(dest)
    finally:
        shutil.rmtree(dest, ignore_errors=True)


@test
def test_make_demo_shows_an_intent_and_a_filled_paper_order(env):
    t0 = time.monotonic()
    r = make("demo", timeout=120)
    took = time.monotonic() - t0
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-6000:]
    lines = out.splitlines()
    assert any(re.search(r"\bdecider\s+intent\s+\S+\s+(buy|sell)\s+\[\w+\] .+", ln)
               for ln in lines), out[-6000:]
    assert any(re.search(r"\bexecutor\s+order\b.*\bfilled\b", ln) for ln in lines), out[-6000:]
    assert any(re.search(r"\bscraper\s+trade\s+\S+", ln) for ln in lines), out[-6000:]
    # The portfolio at the end: cash below the start, at least one position.
    m = re.search(r"cash\s+([\d.]+) USD\s+\(started with ([\d.]+)", out)
    assert m and float(m.group(1)) < float(m.group(2)), out[-3000:]
    assert re.search(r"^\s+buy\s+\S+\s+[\d.]+ @\s+[\d.]+\s+filled$", out, re.M), out[-3000:]
    print("make demo took %.1f s" % took, file=sys.stderr)


def sup_env(env):
    e = {k: v for k, v in os.environ.items() if not k.startswith("COATTAIL_")}
    e.update({"COATTAIL_BIN": BIN, "COATTAIL_CONF": env.conf,
              "COATTAIL_STATE_DIR": env.state_dir, "COATTAIL_RUN_DIR": env.run_dir,
              "COATTAIL_TAP_ARGS": "--human"})
    return e


def quiet_conf(env):
    """Every stage pointed at a port nothing listens on: no network."""
    env.write_conf('''
scraper: {
  edgar_url = "http://127.0.0.1:1"; openinsider_url = "http://127.0.0.1:1";
  finviz_url = "http://127.0.0.1:1";
  sec_user_agent = "coattail-test test@example.invalid";
};
mapper: { openfigi_url = "http://127.0.0.1:1"; sec_data_url = "http://127.0.0.1:1";
          sec_www_url = "http://127.0.0.1:1"; };
executor: { broker = "paper"; };
wire: { drain_ms = 500; };
''')


def status(env, e):
    r = subprocess.run(["supervisorctl", "-c", os.path.join(ROOT, "deploy", "supervisord.conf"),
                        "status"], capture_output=True, text=True, env=e, timeout=30)
    return dict(re.findall(r"^coattail:(\w+)\s+(\w+)", r.stdout, re.M))


@test
def test_supervisord_starts_and_stops_all(env):
    if shutil.which("supervisord") is None or shutil.which("supervisorctl") is None:
        raise Skip("supervisor is not installed (deploy/deps.sh installs it)")
    if True:
        os.makedirs(env.run_dir, mode=0o700, exist_ok=True)
        os.makedirs(env.state_dir, mode=0o700, exist_ok=True)
        quiet_conf(env)
        e = sup_env(env)
        # A pipe, not a file: every program reopens /dev/stdout, and on a
        # plain file each would write from offset 0 over the others.
        p = subprocess.Popen(["supervisord", "-c", os.path.join(ROOT, "deploy", "supervisord.conf")],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=e, cwd=env.dir, start_new_session=True)
        out = []
        reader = threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)
        reader.start()
        try:
            last = {}

            def all_running():
                last.clear()
                last.update(status(env, e))
                return all(last.get(n) == "RUNNING" for n in PROGRAMS)
            # startsecs=1: RUNNING means each program stayed up a second.
            env.wait_for(all_running, 30, "every program RUNNING (last: %s)" % last)
            assert sorted(last) == sorted(PROGRAMS), last
            pids = [int(x) for x in re.findall(r"pid (\d+)", subprocess.run(
                ["supervisorctl", "-c", os.path.join(ROOT, "deploy", "supervisord.conf"),
                 "status"], capture_output=True, text=True, env=e).stdout)]
            assert len(pids) == len(PROGRAMS), pids
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=40 * SLOW)
            assert rc == 0, "supervisord exited %d" % rc
            for pid in pids:
                try:
                    os.kill(pid, 0)
                    raise AssertionError("program pid %d still runs after supervisord" % pid)
                except ProcessLookupError:
                    pass
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        reader.join(10)
        text = out[0].decode(errors="replace") if out else ""
        for s in STAGES:
            # Every stage logs its settings at start and stops by draining.
            assert re.search(r"^%s: info: coattail-%s .* starting: config " % (s, s), text, re.M), \
                text[-4000:]
            assert "%s: info: exiting with status 0" % s in text, text[-4000:]


@test
def test_make_run_without_a_sec_contact_says_how_to_set_it(env):
    if shutil.which("supervisord") is None:
        raise Skip("supervisor is not installed (deploy/deps.sh installs it)")
    tmp = tempfile.mkdtemp(prefix="coattail-run-")
    try:
        e = {k: v for k, v in os.environ.items() if not k.startswith("COATTAIL_")}
        e["COATTAIL_VAR_DIR"] = tmp
        r = subprocess.run(["sh", os.path.join(ROOT, "deploy", "run.sh")],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, env=e,
                           timeout=30)
        assert r.returncode == 1, r.stdout + r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert "COATTAIL_SEC_USER_AGENT=" in lines[0] and "make demo" in lines[0], lines[0]
        # A value that names no e-mail address is refused too.
        e["COATTAIL_SEC_USER_AGENT"] = "just-a-name"
        r = subprocess.run(["sh", os.path.join(ROOT, "deploy", "run.sh")],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, env=e,
                           timeout=30)
        assert r.returncode == 1 and "e-mail" in r.stderr, r.stderr
        assert not os.path.exists(os.path.join(tmp, "run", "supervisord.pid"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@test
def test_make_run_starts_everything_and_ctrl_c_stops_it_cleanly(env):
    if shutil.which("supervisord") is None or shutil.which("supervisorctl") is None:
        raise Skip("supervisor is not installed (deploy/deps.sh installs it)")
    quiet_conf(env)  # sets scraper.sec_user_agent, so run.sh asks nothing
    var = tempfile.mkdtemp(prefix="ct-var-")  # short: unix socket paths
    try:
        e = {k: v for k, v in os.environ.items() if not k.startswith("COATTAIL_")}
        e.update({"COATTAIL_VAR_DIR": var, "COATTAIL_CONF": env.conf})
        p = subprocess.Popen(["sh", os.path.join(ROOT, "deploy", "run.sh")],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=e, start_new_session=True)
        out = []
        reader = threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)
        reader.start()
        sock = "unix://%s/run/supervisor.sock" % var
        try:
            last = {}

            def all_running():
                r = subprocess.run(["supervisorctl", "-s", sock, "status"], capture_output=True,
                                   text=True, timeout=30)
                last.clear()
                last.update(re.findall(r"^coattail:(\w+)\s+(\w+)", r.stdout, re.M))
                return all(last.get(n) == "RUNNING" for n in PROGRAMS)
            env.wait_for(all_running, 30, "every program RUNNING under make run (last: %s)" % last)
            # run.sh execs supervisord: Ctrl-C reaches it as SIGINT.
            p.send_signal(signal.SIGINT)
            rc = p.wait(timeout=40 * SLOW)
            assert rc == 0, "make run exited %d" % rc
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        reader.join(10)
        text = out[0].decode(errors="replace") if out else ""
        for s in STAGES:
            assert "%s: info: exiting with status 0" % s in text, text[-4000:]
            assert "state_dir %s/state" % var in text, text[-4000:]
        assert os.path.isdir(os.path.join(var, "state"))
    finally:
        shutil.rmtree(var, ignore_errors=True)


def _notify_socket(env):
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET."""
    import socket
    path = env.path("notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    return s, path


@test
def test_stages_tell_systemd_they_are_ready_and_ping_its_watchdog(env):
    # The units are Type=notify with WatchdogSec: a stage that never says
    # READY=1 is killed at TimeoutStartSec, one that stops pinging is
    # restarted.  Each stage speaks the protocol itself (common/sdnotify.c).
    # A stats interval longer than the watchdog's: pings must not wait for it.
    env.write_conf('mapper: { openfigi_url = "http://127.0.0.1:9/v3/mapping"; };\n'
                   'wire: { stats_interval_ms = 60000; };')
    sock, path = _notify_socket(env)
    try:
        for stage in ("decider", "executor", "mapper"):
            p = env.start(stage, env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
            got = []
            deadline = time.monotonic() + 20 * SLOW
            while time.monotonic() < deadline and got.count(b"WATCHDOG=1") < 2:
                try:
                    got.append(sock.recv(256))
                except OSError:
                    assert p.alive(), "%s died: %s" % (stage, p.log()[-2000:])
            assert got[:1] == [b"READY=1"], (stage, got)
            assert got.count(b"WATCHDOG=1") >= 2, (stage, got)
            p.signal(signal.SIGTERM)
            assert p.wait(10 * SLOW) == 0, p.log()[-2000:]
            while True:  # what was sent before it stopped
                try:
                    sock.recv(256)
                except OSError:
                    break
    finally:
        sock.close()


def needed_libs(name):
    """The shared objects coattail-NAME names as NEEDED (readelf -d)."""
    r = subprocess.run(["readelf", "-d", os.path.join(BIN, "coattail-" + name)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return re.findall(r"\(NEEDED\).*\[(.*)\]", r.stdout)


def scraper_file_loads(env):
    """What the dynamic linker reports (LD_DEBUG=files) while the scraper
    parses one Form 4 to stdout without a tap."""
    form4 = os.path.join(ROOT, "tests", "fixtures", "form4", "aff10b5one_director.xml")
    r = env.run("scraper", "-c", env.conf, "--out", "-", "--tap", "", "--file", form4,
                env={"LD_DEBUG": "files"})
    assert r.returncode == 0 and '"type":"trade"' in r.stdout, r.stderr[-2000:]
    assert "calling init" in r.stderr, "LD_DEBUG gave nothing to read"
    return r.stderr


@test
def test_libcurl_is_loaded_only_by_a_process_that_makes_http_requests(env):
    # No binary links libcurl or libsystemd: their thirty-odd shared objects
    # would cost every process start (common/curl_load.h).
    for name in STAGES + TOOLS:
        needed = needed_libs(name)
        assert needed and "libc.so.6" in needed, (name, needed)
        assert not [n for n in needed if "curl" in n or "systemd" in n], (name, needed)
    loads = scraper_file_loads(env)
    # (the test's own directory name holds "libcurl": look for the file)
    assert "libcurl.so" not in loads, "scraper --file loaded libcurl: %s" % [
        l for l in loads.splitlines() if "libcurl.so" in l][:3]
    # The mapper loads it with its first OpenFIGI request, not at start: a
    # trade its caches cannot answer makes one (to a closed port here).
    env.write_conf('mapper: { openfigi_url = "http://127.0.0.1:9/v3/mapping"; batch_ms = 10; };')
    log = env.path("mapper.ld.log")
    with open(log, "w") as f:
        p = subprocess.Popen([os.path.join(BIN, "coattail-mapper"), "-c", env.conf,
                              "--in", "-", "--out", "-", "--tap", ""],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=f,
                             cwd=ROOT, env=env.env({"LD_DEBUG": "files"}))

    def text():
        return open(log, errors="replace").read()
    try:
        env.wait_for(lambda: "starting: config" in text(), 20, "the mapper to start")
        time.sleep(0.3 * SLOW)
        assert "libcurl.so" not in text(), "the mapper loaded libcurl before any request"
        p.stdin.write((dumps(trade(1)) + "\n").encode())
        p.stdin.flush()
        env.wait_for(lambda: "libcurl.so.4" in text() and "127.0.0.1:9" in text(), 20,
                     "the mapper to load libcurl and try OpenFIGI")
    finally:
        p.terminate()
        p.wait(10 * SLOW)



def maps(pid):
    with open("/proc/%d/maps" % pid) as f:
        return f.read()


@test
def test_libzmq_is_loaded_only_by_a_process_that_makes_a_socket(env):
    # No binary links libzmq (common/zmq_load.h): its dozen shared objects
    # (libstdc++, libsodium, Kerberos, ...) cost every process start.
    for name in STAGES + TOOLS + ["keygen"]:
        needed = needed_libs(name)
        assert needed and not [n for n in needed if "zmq" in n], (name, needed)
    # One document parsed to stdout, no tap: no socket, so no libzmq.
    loads = scraper_file_loads(env)
    # (the test's own directory name holds "libzmq": look for the file)
    assert "libzmq.so" not in loads, "scraper --file loaded libzmq: %s" % [
        l for l in loads.splitlines() if "libzmq.so" in l][:3]
    # A stage on stdin and stdout without a tap polls stdin with poll(2) and
    # never maps it either, while it runs; with its tap (the default), the
    # same stage maps it at start.
    plain = env.start("decider", "--in", "-", "--out", "-", "--tap", "",
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    tapped = env.start("decider", "--in", "-", "--out", "-", stdin=subprocess.PIPE)
    try:
        env.wait_for(lambda: "starting: config" in plain.log()
                     and "starting: config" in tapped.log(), 20, "both deciders to start")
        plain.p.stdin.write((dumps(trade(1)) + "\n").encode())
        plain.p.stdin.flush()
        time.sleep(0.3 * SLOW)
        assert plain.alive() and "libzmq.so" not in maps(plain.p.pid), plain.log()[-2000:]
        assert tapped.alive() and "libzmq.so.5" in maps(tapped.p.pid), tapped.log()[-2000:]
        # EOF on stdin: the socket-less loop ends as before.
        plain.p.stdin.close()
        assert plain.p.wait(20 * SLOW) == 0, plain.log()[-2000:]
        plain.p.stdout.close()
    finally:
        for p in (plain, tapped):
            if p.alive():
                p.signal(signal.SIGTERM)
                p.wait(10 * SLOW)


@test
def test_a_libzmq_too_old_stops_a_stage_at_start_and_spares_file_runs(env):
    # A stand-in libzmq.so.5 that says it is 4.1.0, found first through
    # LD_LIBRARY_PATH: the loader refuses it where a socket is needed.
    fake_dir = env.path("fakezmq")
    os.makedirs(fake_dir)
    cc = subprocess.run(["cc", "-shared", "-fPIC", "-o", os.path.join(fake_dir, "libzmq.so.5"),
                         os.path.join(ROOT, "tests", "unit", "fakezmq", "fake_libzmq.c")],
                        capture_output=True, text=True, timeout=60)
    assert cc.returncode == 0, cc.stderr
    old = {"LD_LIBRARY_PATH": fake_dir}
    want = "libzmq.so.5 is libzmq 4.1.0; coattail needs 4.3 or later"
    for name in STAGES:
        r = env.run(name, "-c", env.conf, env=old, timeout=30)
        assert r.returncode == 1 and want in r.stderr, (name, r.returncode, r.stderr[-2000:])
        assert "starting: config" in r.stderr, (name, r.stderr[-2000:])  # at start, not later
    r = env.run("tap", "-c", env.conf, "--count", "1", env=old, timeout=30)
    assert r.returncode == 1 and want in r.stderr, r.stderr[-2000:]
    r = env.run("keygen", env.path("k.key"), env=old, timeout=30)
    assert r.returncode == 1 and want in r.stderr and not os.path.exists(env.path("k.key")), \
        r.stderr[-2000:]
    # What never makes a socket runs as before.
    form4 = os.path.join(ROOT, "tests", "fixtures", "form4", "aff10b5one_director.xml")
    r = env.run("scraper", "-c", env.conf, "--out", "-", "--tap", "", "--file", form4, env=old)
    assert r.returncode == 0 and '"type":"trade"' in r.stdout, r.stderr[-2000:]
    r = env.run("decider", "-c", env.conf, "--in", "-", "--out", "-", "--tap", "",
                input=dumps(trade(1)) + "\n", env=old)
    assert r.returncode == 0, r.stderr[-2000:]
    for name in STAGES:
        r = env.run(name, "-c", env.conf, "-n", env=old)
        assert r.returncode == 0 and "configuration OK" in r.stdout, (name, r.stderr[-2000:])


if __name__ == "__main__":
    run_tests()
