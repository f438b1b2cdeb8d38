"""Secrets and trust: the keys never leave the processes that need them.

The four real stages run a small generated day (tests/chaos/day_fake.py)
with recognisable fake keys (an OpenFIGI key, an Alpaca key id and secret)
given the way the README says (environment variables).  Then no log line of
any stage, no record on any tap (coattail-tap on all four), no process title
(/proc/PID/cmdline of every stage, read while they run), no SQLite state
file, and no error message (after the OpenFIGI fake starts refusing the key,
so the mapper logs its 401s) may contain any of them.  And a config file
holding a secret inline that others may read (0644) is refused by the real
binaries with a message that names the setting but not the secret.
"""
import os
import signal
import subprocess
import sys
import time

from harness import SLOW, binary, run_tests, test

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "chaos"))
import chaos  # noqa: E402

FIGI_KEY = "FIGIKEY-sekrit-7f3a9c1e55"
KEY_ID = "PKSEKRITKEYID7F3A9C1E"
SECRET = "ALPACA-sekrit-secret-7f3a9c1e55b2"
ALL = (FIGI_KEY, KEY_ID, SECRET)


def leaks(text, where):
    for s in ALL:
        # Also a recognisable half of it: a truncated key is still a leak.
        for part in (s, s[:len(s) // 2], s[len(s) // 2:]):
            if part in text:
                raise AssertionError("%s contains the secret %r (as %r)" % (where, s, part))


@test
def test_keys_in_no_log_tap_title_state_or_error(env):
    n = 60
    pl = chaos.Pipeline(env, n, release_s=0.0, per_page=30, tickers=20, figi_key=FIGI_KEY,
                        key_id=KEY_ID, secret=SECRET)
    tap_out = env.path("tap.jsonl")
    tap = subprocess.Popen([binary("tap"), "-c", env.conf], stdout=open(tap_out, "w"),
                           stderr=open(env.path("tap.log"), "w"), env=env.env())
    try:
        time.sleep(0.3 * SLOW)
        pl.start_all()
        titles = {}
        for s, p in pl.procs.items():
            with open("/proc/%d/cmdline" % p.p.pid, "rb") as f:
                titles[s] = f.read().replace(b"\0", b" ").decode(errors="replace")
        pl.wait_orders(60 * SLOW, settle=1.0)
        for s, p in pl.procs.items():  # again, once they have worked
            with open("/proc/%d/cmdline" % p.p.pid, "rb") as f:
                titles[s] += f.read().replace(b"\0", b" ").decode(errors="replace")
        # The key is refused from now on: the mapper's error messages.
        chaos.http_json(pl.figi + "/_control", {"key": "another-key", "reset_stats": True})
        pl.procs["mapper"].signal(signal.SIGKILL)
        pl.procs["mapper"].wait(10 * SLOW)
        os.unlink(os.path.join(env.state_dir, "mapper.sqlite"))  # a cold cache asks again
        pl.start("mapper")

        def refused():
            return "401" in pl.procs["mapper"].log() or "refused" in pl.procs["mapper"].log()
        env.wait_for(refused, 30, "the mapper to report the refused key")
        pl.stop()
    finally:
        tap.send_signal(signal.SIGTERM)
        tap.wait(10 * SLOW)
    for s, t in titles.items():
        leaks(t, "the process title of %s" % s)
    logs = "".join(p.log() for p in env.procs if p.name in chaos.STAGES)
    assert "401" in logs or "refused" in logs, "the refused key was not logged"
    leaks(logs, "the stages' logs")
    with open(tap_out, errors="replace") as f:
        taps = f.read()
    assert taps.count('"type":"order"') >= n, "the tap saw %d orders" % taps.count(
        '"type":"order"')
    assert '"type":"trade"' in taps and '"type":"intent"' in taps
    leaks(taps, "the tap records")
    for name in os.listdir(env.state_dir):
        with open(os.path.join(env.state_dir, name), "rb") as f:
            leaks(f.read().decode("latin-1"), "state file " + name)


@test
def test_an_inline_secret_in_a_readable_config_is_refused(env):
    for stage, setting, key in (("mapper", "openfigi_key", FIGI_KEY),
                                ("executor", "alpaca_secret", SECRET)):
        env.write_conf('%s: { %s = "%s"; };' % (stage, setting, key))
        os.chmod(env.conf, 0o644)
        r = env.run(stage, "-n", "-c", env.conf)
        assert r.returncode == 2, (stage, r.returncode, r.stdout, r.stderr)
        msg = r.stdout + r.stderr
        assert setting in msg, msg
        leaks(msg, "the refusal")
        # Readable by the owner alone, the same file is accepted.
        os.chmod(env.conf, 0o600)
        r = env.run(stage, "-n", "-c", env.conf)
        assert r.returncode == 0, (stage, r.stdout, r.stderr)
        leaks(r.stdout + r.stderr, "the config check")


run_tests()
