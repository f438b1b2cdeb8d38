"""The spine: four real stage processes over ipc:// carry every record once,
stop cleanly on SIGTERM under load, refuse bad records one at a time, and
refuse a second instance on a bound endpoint.

The trades of harness.trade() are each a qualifying executive trade at NOW
(a 2% purchase or sale, filed that day, one filing each), so the decider
turns every one into exactly one intent.  In the four-process test only one
trade in a hundred keeps its CEO title (the others are a Director's, which
the decider declines), so the executor, which fsyncs its journal for every
intent, sees a thousand; every stage's totals prove the rest crossed."""
import json
import os
import re
import signal
import subprocess
import time

from harness import Env, SLOW, binary, count_lines, dumps, run_tests, test, trade  # noqa: F401
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakes"))
from fakeserver import FakeServer  # noqa: E402

N = 100000
NOW = "2026-04-24T22:00:00Z"


FIGI_KEY = "transport-test-key"


def start_chain(env, out_path):
    """A fake OpenFIGI (it resolves every T#### ticker), then executor,
    decider, mapper (binding their inputs); the caller starts the producer."""
    figi = FakeServer(env, "openfigi_fake.py", "--key", FIGI_KEY)
    env.write_conf('mapper: { openfigi_url = "%s"; rate_requests = 1000; rate_burst = 100;'
                   ' batch_ms = 50; };\nwire: { stats_interval_ms = 200; };' % figi.url)
    out = open(out_path, "w")
    ex = env.start("executor", "--out", "-", "--now", NOW, stdout=out)
    de = env.start("decider", "--now", NOW)
    ma = env.start("mapper", env={"COATTAIL_OPENFIGI_KEY": FIGI_KEY})
    return [ma, de, ex]


def evidence_of(lines):
    """Trade keys named by the intents in these output lines."""
    keys = []
    for line in lines:
        rec = json.loads(line)
        if rec["type"] == "intent":
            keys.extend(rec["evidence"])
    return keys


def totals(proc):
    """The "totals: in N, out N, dropped N, errors N" a stage logs at exit."""
    m = re.search(r"totals: in (\d+), out (\d+), dropped (\d+), errors (\d+)", proc.log())
    assert m, "no totals in the log of %s:\n%s" % (proc.name, proc.log()[-2000:])
    return tuple(int(x) for x in m.groups())


@test
def test_100k_records_cross_four_processes_each_once(env):
    files = []
    for part in range(4):  # several --file documents, as a backfill would be
        path = env.path("trades%d.jsonl" % part)
        with open(path, "w") as f:
            for i in range(part * N // 4, (part + 1) * N // 4):
                over = {} if i % 100 == 0 else {"title": "Director", "roles": ["director"]}
                f.write(dumps(trade(i, **over)) + "\n")
        files.append(path)
    out_path = env.path("orders.jsonl")
    ma, de, ex = start_chain(env, out_path)
    stats_path = env.path("stats.jsonl")
    tap = subprocess.Popen([binary("tap"), "-c", env.conf, "--json", "--type", "stats"],
                           stdout=open(stats_path, "w"), stderr=subprocess.DEVNULL,
                           env=env.env())
    sc = env.start("scraper", "--file", *files)
    want_orders = N // 100
    env.wait_for(lambda: count_lines(out_path) >= want_orders, 180, "an order event per intent")
    assert sc.wait(30 * SLOW) == 0, "scraper --file exit status"

    def settled():
        """The decider's latest stats count every trade in (the mapper's
        batches may reorder trades, so the last order event is not the
        last trade)."""
        last = {}
        with open(stats_path) as f:
            for line in f:
                rec = json.loads(line)
                last[rec["stage"]] = rec
        return "decider" in last and last["decider"]["in"] >= N
    env.wait_for(settled, 60, "the decider to have read every trade")
    tap.kill()
    tap.wait()
    for p in (ma, de, ex):
        p.signal(signal.SIGTERM)
        assert p.wait(15 * SLOW) == 0, "%s exit status" % p.name
    assert totals(ma)[:2] == (N, N), "mapper in/out %s" % (totals(ma),)
    assert totals(de)[0] == N and totals(de)[1] == want_orders, "decider %s" % (totals(de),)
    assert totals(de)[2] == N - want_orders, "decider drops %s" % (totals(de),)
    with open(out_path) as f:
        orders = [json.loads(line) for line in f]
    ids = [o["intent"] for o in orders if o["type"] == "order"]
    assert len(ids) == want_orders and len(set(ids)) == want_orders, \
        "%d order events for %d intents" % (len(ids), len(set(ids)))


@test
def test_sigterm_under_load_exits_zero_within_5s(env):
    src = env.path("load.jsonl")
    with open(src, "w") as f:
        for i in range(300000):
            f.write(dumps(trade(i)) + "\n")
    out_path = env.path("out.jsonl")
    ma, de, ex = start_chain(env, out_path)
    inj = subprocess.Popen([binary("inject"), "-c", env.conf, "ipc://mapper.in"],
                           stdin=open(src), stderr=subprocess.DEVNULL, env=env.env())
    try:
        env.wait_for(lambda: count_lines(out_path) > 1000, 30, "records flowing")
        # Stop the middle first, so the stage before it is blocked on a full queue.
        for p in (de, ma, ex):
            t0 = time.monotonic()
            p.signal(signal.SIGTERM)
            try:
                rc = p.wait(5 * SLOW)
            except subprocess.TimeoutExpired:
                raise AssertionError("%s did not stop within %ds of SIGTERM" % (p.name, 5 * SLOW))
            dt = time.monotonic() - t0
            assert rc == 0, "%s exited %s" % (p.name, rc)
            assert dt < 5 * SLOW, "%s took %.1fs to stop" % (p.name, dt)
    finally:
        # Not one of env's processes: a failure above must not leave it
        # holding the runner's pipes.
        inj.kill()
        inj.wait()


@test
def test_malformed_record_on_stdin_costs_one_record(env):
    good1 = dumps(trade(1))
    good2 = dumps(trade(2))
    bad = ['{"type":"trade","v":2}', "not json", '{"type":"trade","v":1,"key":"x"}',
           dumps(trade(3, shares=-5)), dumps(trade(4, ticker="abc")),
           dumps(trade(5, surprise=1))]
    inp = "\n".join([good1] + bad + [good2]) + "\n"
    r = env.run("decider", "-c", env.conf, "--in", "-", "--out", "-", "--tap", "",
                "--now", NOW, input=inp)
    assert r.returncode == 0, r.stderr
    assert evidence_of(r.stdout.splitlines()) == ["test:00000001", "test:00000002"], r.stdout
    for reason in ("version 2 unknown", "json:", "source missing", "shares must be > 0",
                   "must be upper case", "unknown key 'surprise'"):
        assert reason in r.stderr, "stderr lacks %r:\n%s" % (reason, r.stderr)
    assert "stdin:2:" in r.stderr and "stdin:7:" in r.stderr, r.stderr


@test
def test_hostile_msgpack_on_the_socket_is_dropped_and_the_stage_lives(env):
    out_path = env.path("out.jsonl")
    out = open(out_path, "w")
    de = env.start("decider", "--out", "-", "--now", NOW, stdout=out)
    tap_path = env.path("tap.jsonl")
    tap = subprocess.Popen([binary("tap"), "-c", env.conf, "--type", "drop",
                            "ipc://decider.tap"], stdout=open(tap_path, "w"),
                           stderr=subprocess.DEVNULL, env=env.env())
    time.sleep(0.5 * SLOW)  # let the subscriber join before the drops are published
    hostile = [
        "ddffffffff",                    # array of 4 billion entries in 5 bytes
        "dfffffffff",                    # map of 4 billion entries
        "81a474797065" + "91" * 40 + "c0",  # nesting 40 deep
        "82a474797065a57472616465a17602",  # v = 2
        "c1",                            # never-used type byte
        "82a474797065a57472616465a17601c0",  # trailing byte
        "a474797065",                    # a string, not a map
        "c4020000",                      # bin
    ]
    r = subprocess.run([binary("inject"), "-c", env.conf, "--hex", "ipc://decider.in"],
                       input="\n".join(hostile) + "\n", text=True, capture_output=True,
                       env=env.env(), timeout=30 * SLOW)
    assert r.returncode == 0, r.stderr
    good = dumps(trade(7))
    r = subprocess.run([binary("inject"), "-c", env.conf, "ipc://decider.in"],
                       input=good + "\n", text=True, capture_output=True,
                       env=env.env(), timeout=30 * SLOW)
    assert r.returncode == 0, r.stderr
    env.wait_for(lambda: count_lines(out_path) >= 1, 10, "the good record")
    env.wait_for(lambda: count_lines(tap_path) >= len(hostile), 10, "a drop per hostile message")
    assert de.alive(), "decider died"
    with open(out_path) as f:
        assert evidence_of(f.read().splitlines()) == ["test:00000007"]
    log = de.log()
    for reason in ("array of 4294967295 entries", "map of 4294967295 entries", "nested deeper",
                   "version 2 unknown", "trailing bytes", "not allowed"):
        assert reason in log, "log lacks %r:\n%s" % (reason, log)
    tap.kill()
    tap.wait()
    de.signal(signal.SIGTERM)
    assert de.wait(10 * SLOW) == 0


@test
def test_second_instance_cannot_steal_a_bound_endpoint(env):
    first = env.start("mapper")
    env.wait_for(lambda: os.path.exists(os.path.join(env.run_dir, "mapper.in")), 10, "bind")
    second = env.run("mapper", "-c", env.conf, timeout=10)
    assert second.returncode == 1, second.returncode
    assert "in use by another process" in second.stderr, second.stderr
    assert first.alive()
    assert oct(os.stat(env.run_dir).st_mode & 0o777) == "0o700"
    first.signal(signal.SIGTERM)
    assert first.wait(10 * SLOW) == 0


@test
def test_every_binary_answers_help_version_and_checks_the_default_config(env):
    conf = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "deploy", "coattail.conf")
    for name in ("scraper", "mapper", "decider", "executor"):
        r = env.run(name, "--help")
        assert r.returncode == 0 and "usage: coattail-%s" % name in r.stdout, r.stdout
        r = env.run(name, "--version")
        assert r.returncode == 0 and r.stdout.startswith("coattail-%s " % name)
        r = env.run(name, "-c", conf, "-n")
        assert r.returncode == 0 and r.stdout.strip() == "configuration OK", r.stdout + r.stderr
        r = env.run(name, "--bogus")
        assert r.returncode == 2, "bad usage must exit 2"
    for name in ("tap", "inject", "keygen"):
        r = env.run(name, "--help")
        assert r.returncode == 0 and "usage: coattail-%s" % name in r.stdout


@test
def test_config_errors_exit_2_with_every_line(env):
    bad = env.path("bad.conf")
    with open(bad, "w") as f:
        f.write('state_dir = "/tmp";\nbogus = 1;\nwire: { hwm = -5; };\n')
    r = env.run("mapper", "-c", bad, "-n")
    assert r.returncode == 2
    assert "%s:2:" % bad in r.stderr and "%s:3:" % bad in r.stderr, r.stderr


run_tests()
