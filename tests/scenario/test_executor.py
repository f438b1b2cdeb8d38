"""The executor: exactly one order per intent at the broker, whatever kills,
timeouts, dropped connections and 5xx happen around it; risk control and
the kill switch; an order event for every intent.

The brokers are the fakes in tests/fakes (Alpaca and lemon.markets to
APIS.md, with fault injection); the executor is the real binary, fed over
its real ipc socket by coattail-inject, killed with SIGKILL at random
moments and restarted.  At the end the fake broker must hold exactly one
order per intent, it must never have been sent a second create for an
intent it already held, and the executor's journal must agree with it.

Sizes: 1,000 intents per kill test normally; under `make SAN=1 test` the
binaries run 3-4x slower, so the kill tests use 300 intents there (the
same code paths, fewer repetitions) to stay inside the time budget.
"""
import hashlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

from harness import SAN, SLOW, Proc, Skip, binary, run_tests, test  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKES = os.path.join(ROOT, "tests", "fakes")
N_KILL = 300 if SAN else 1000

KEY_ID = "PKFAKEKEYID0123456789"
SECRET = "sEcReT-0123456789-abcdefghijklmnop"
LEMON_KEY = "lemon-TOKEN-0123456789-abcdef"

# An open NYSE session (Wednesday 2026-04-22, 11:00 ET) for the paper broker.
OPEN_NOW = "2026-04-22T15:00:00Z"
CLOSED_NOW = "2026-04-25T15:00:00Z"  # a Saturday


# ---- helpers ---------------------------------------------------------------

def client_id(intent_id):
    """executor_client_id(): the id itself when short and plain, else a hash."""
    if (0 < len(intent_id) <= 48 and re.fullmatch(r"[A-Za-z0-9._:-]+", intent_id)
            and not intent_id.startswith("ct:")):
        return intent_id
    return "ct:" + hashlib.sha256(intent_id.encode()).hexdigest()[:45]


def intent_id(i):
    # Like the decider's: 64 hex digits (so the client id is the hashed form);
    # every tenth a short id, used as the client id directly.
    if i % 10 == 0:
        return "short-%d" % i
    return hashlib.sha256(b"intent %d" % i).hexdigest()


def intent(i, **over):
    rec = {
        "type": "intent", "v": 1, "id": intent_id(i), "rule": "executive_trade",
        "side": "buy", "ticker": "T%04d" % i, "figi": None,
        "isin": "US%010d" % (1000000 + i), "qty": 1 + i % 5, "notional": None,
        "ref_price": 10.0 + (i % 50) / 4.0, "evidence": ["test:%08d" % i],
        "reason": "CEO Jane Roe %d bought 12,000 shares" % i,
        "created_at": "2026-04-22T14:00:00Z", "expires_at": None,
    }
    rec.update(over)
    return rec


def write_jsonl(path, recs):
    with open(path, "w") as f:
        for r in recs:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def read_events(paths):
    """Order events from executor --out - files (a killed run may leave a
    half line at the end: skipped)."""
    out = []
    for p in paths if isinstance(paths, list) else [paths]:
        try:
            with open(p) as f:
                for line in f:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
        except OSError:
            pass
    return out


def start_fake(env, kind, *args):
    """Start tests/fakes/KIND_fake.py on a free port; returns (proc, url)."""
    log_path = env.path("fake-%s.%d.log" % (kind, len(env.procs)))
    p = subprocess.Popen([sys.executable, os.path.join(FAKES, kind + "_fake.py"), "--port", "0"]
                         + list(args), stdout=subprocess.PIPE, stderr=open(log_path, "w"),
                         text=True)
    env.procs.append(Proc("fake-" + kind, p, log_path))
    line = p.stdout.readline()
    m = re.match(r"PORT (\d+)$", line.strip())
    if not m:
        raise AssertionError("fake %s did not start: %r" % (kind, line))
    return p, "http://127.0.0.1:%s" % m.group(1)


def http_json(url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=30) as r:
        return json.loads(r.read())


def executor_conf(env, extra, top=""):
    """Limits off unless a test sets them (a later line overrides an
    earlier one of the same name); quick retries.  top: settings outside
    the executor group."""
    settings = {"max_orders_per_day": "0", "max_notional_per_order": "0.0",
                "max_notional_per_day": "0.0", "max_position_per_ticker": "0.0",
                "retry_base_ms": "20", "retry_max_ms": "300", "max_attempts": "0"}
    for line in extra.replace(";", ";\n").splitlines():
        name, sep, value = line.partition("=")
        if sep:
            settings[name.strip()] = value.strip().rstrip(";").strip()
    env.write_conf("%s\nexecutor: {\n%s};" % (top, "".join(
        "  %s = %s;\n" % kv for kv in settings.items())))


def alpaca_env():
    return {"COATTAIL_ALPACA_KEY_ID": KEY_ID, "COATTAIL_ALPACA_SECRET": SECRET}


def journal_rows(env):
    db = sqlite3.connect(os.path.join(env.state_dir, "executor.sqlite"))
    try:
        return {r[0]: r[1:] for r in db.execute(
            "SELECT id, state, broker_order_id, client_id, attempts, in_doubt FROM intents")}
    finally:
        db.close()


def run_executor_stdin(env, recs, *args, envx=None):
    inp = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in recs)
    try:
        r = env.run("executor", "-c", env.conf, "--in", "-", "--out", "-", "--tap", "", *args,
                    input=inp, timeout=60, env=envx)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("executor timed out; its log:\n%s" % (
            e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes)
            else e.stderr or "")[-4000:])
    assert r.returncode == 0, r.stderr
    return [json.loads(x) for x in r.stdout.splitlines()], r.stderr


def inject(env, path):
    return subprocess.Popen([binary("inject"), "-c", env.conf, "ipc://executor.in"],
                            stdin=open(path), stdout=subprocess.DEVNULL,
                            stderr=open(env.path("inject.%d.log" % time.monotonic_ns()), "w"),
                            env=env.env())


def wait_events(env, out_path, ids, timeout, proc):
    want = set(ids)

    def done():
        if not proc.alive():
            raise AssertionError("executor exited (%s):\n%s" % (proc.p.returncode,
                                                                proc.log()[-3000:]))
        got = {e["intent"] for e in read_events(out_path)}
        return want <= got
    env.wait_for(done, timeout, "an order event for each of %d intents" % len(want))


# ---- exactly once under kills and faults -----------------------------------

def paced_inject(env, recs, seconds):
    """coattail-inject fed a batch at a time over `seconds`, so intents keep
    arriving while the executor is killed and restarted."""
    p = subprocess.Popen([binary("inject"), "-c", env.conf, "ipc://executor.in"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=open(env.path("inject.%d.log" % time.monotonic_ns()), "w"),
                         env=env.env(), text=True)

    def feed():
        batch = 20
        pause = seconds / max(1, len(recs) // batch)
        try:
            for k in range(0, len(recs), batch):
                p.stdin.write("".join(json.dumps(r, separators=(",", ":")) + "\n"
                                      for r in recs[k:k + batch]))
                p.stdin.flush()
                time.sleep(pause)
            p.stdin.close()
        except (BrokenPipeError, ValueError):
            pass
    t = threading.Thread(target=feed, daemon=True)
    t.start()
    return p, t


def kill_run(env, broker, fake_url, n, envx, kills, extra_conf=""):
    """Feed n intents while SIGKILLing the executor at random moments, then
    resend all of them to a last, undisturbed run.  Returns (ids, final
    events, number of runs)."""
    recs = [intent(i) for i in range(n)]
    ids = [r["id"] for r in recs]
    src = env.path("intents.jsonl")
    write_jsonl(src, recs)
    if broker == "alpaca":
        conf = 'broker = "alpaca";\n  alpaca_url = "%s";' % fake_url
    else:
        conf = 'broker = "lemon";\n  lemon_url = "%s";\n  lemon_data_url = "%s";' % (
            fake_url, fake_url)
    # The settle time at 4 x the HTTP timeout (the default is 2 x, at least
    # 60 s): a create that failed before the broker made it is sent again a
    # second later, and the fake, slow under this load, has that long to
    # take a create it is still holding.
    executor_conf(env, conf + "\n  http_timeout_ms = %d;\n  doubt_settle_ms = %d;\n"
                  "  http_retries = 2;\n%s" % (250 * SLOW, 1000 * SLOW, extra_conf))
    rng = random.Random(4242)
    runs = 0

    def start():
        nonlocal runs
        runs += 1
        out = open(env.path("out.%d.jsonl" % runs), "w")
        return env.start("executor", "--out", "-", stdout=out, env=envx)

    ex = start()
    # Fed about as fast as the executor works, so a kill finds intents in
    # flight and loses only the few queued in its socket (they come again
    # in the last run, as the scraper's next cycle would bring them).
    inj, feeder = paced_inject(env, recs, n / 250.0 * SLOW)
    done = 0
    while done < kills or feeder.is_alive():
        time.sleep(rng.uniform(0.05, 0.5) * SLOW)
        ex.signal(signal.SIGKILL)
        ex.wait(10 * SLOW)
        done += 1
        ex = start()
    assert inj.wait(60 * SLOW) == 0, "inject failed"
    # The last run: everything again (what the killed runs lost in their
    # queues comes now; what they did is a duplicate).
    ex.signal(signal.SIGKILL)
    ex.wait(10 * SLOW)
    ex = start()
    final_out = env.path("out.%d.jsonl" % runs)
    inj = inject(env, src)
    assert inj.wait(60 * SLOW) == 0, "inject failed"
    wait_events(env, final_out, ids, 60, ex)
    # An intent a killed run journalled but did not finish gets a
    # `duplicate` event from the resend while it is still pending: the
    # last run is done when nothing is left pending, not at the events.
    # (Stopped at the events, the runs under load left pending intents
    # unsent: 14-141 of 1,000 missing in 4 of 8 runs, before and after
    # the batching changes alike.)
    env.wait_for(lambda: all(r[0] not in ("pending", "held") for r in journal_rows(env).values()),
                 60, "the last run to finish every intent it holds")
    ex.signal(signal.SIGTERM)
    assert ex.wait(20 * SLOW) == 0, "executor exit status"
    return ids, read_events(final_out), runs


def check_exactly_once(env, fake_url, ids, final_events, key_field):
    orders = http_json(fake_url + "/_orders")
    stats = http_json(fake_url + "/_stats")
    want = {client_id(i): i for i in ids}
    keys = [o[key_field] for o in orders]
    assert len(orders) == len(ids), "broker holds %d orders for %d intents (stats %s)" % (
        len(orders), len(ids), stats)
    assert sorted(keys) == sorted(want), "the broker's orders are not one per intent"
    assert stats.get("dup_posts", 0) == 0, \
        "a create was sent for an order the broker already held: %s" % stats
    by_key = {o[key_field]: o["id"] for o in orders}
    rows = journal_rows(env)
    assert len(rows) == len(ids), "journal has %d entries" % len(rows)
    for i in ids:
        state, boid, cid, attempts, in_doubt = rows[i]
        assert cid == client_id(i), (i, cid)
        assert state in ("submitted", "filled"), "journal says %s for %s" % (state, i)
        assert boid == by_key[cid], "journal's order id for %s differs from the broker's" % i
        assert in_doubt == 0 and attempts >= 1
    # Every intent has an event in the last run, and each says what happened.
    last = {}
    for e in final_events:
        assert e["type"] == "order" and e["broker"] in ("alpaca", "lemon"), e
        assert e["status"] in ("submitted", "filled", "duplicate"), e
        last[e["intent"]] = e
    assert set(last) == set(ids)
    for i in ids:
        assert last[i]["broker_order_id"] == by_key[client_id(i)], last[i]
    return stats


@test
def test_1000_intents_with_random_sigkills_reach_alpaca_exactly_once(env):
    _, url = start_fake(env, "alpaca", "--key-id", KEY_ID, "--secret", SECRET)
    ids, events, runs = kill_run(env, "alpaca", url, N_KILL, alpaca_env(), kills=10)
    check_exactly_once(env, url, ids, events, "client_order_id")
    assert runs >= 12


@test
def test_30_percent_faults_and_sigkills_give_one_alpaca_order_each(env):
    # 30% of order creations fail, 5% of each kind; lookups fail 10% of the time.
    rates = "500_before=0.05,500_after=0.05,drop_after=0.05,timeout_after=0.05,429=0.05," \
            "dup422=0.05,500=0.05,drop=0.05"
    _, url = start_fake(env, "alpaca", "--key-id", KEY_ID, "--secret", SECRET, "--faults", rates,
                        "--timeout-sleep", str(0.5 * SLOW), "--seed", "7")
    ids, events, _ = kill_run(env, "alpaca", url, N_KILL, alpaca_env(), kills=6)
    stats = check_exactly_once(env, url, ids, events, "client_order_id")
    for kind in ("500_before", "500_after", "drop_after", "timeout_after", "429", "dup422"):
        assert stats["faults"].get(kind, 0) > 0, "no %s fault was injected: %s" % (kind, stats)


@test
def test_lemon_faults_and_sigkills_give_one_activated_order_per_intent(env):
    # The fake ignores `idempotency` (the real API's handling is unverified),
    # so only the executor's lookup-before-resend keeps this at one order.
    rates = "500_before=0.05,500_after=0.05,drop_after=0.05,timeout_after=0.03,429=0.04," \
            "500=0.05,drop=0.03"
    n = N_KILL // 4
    _, url = start_fake(env, "lemon", "--key", LEMON_KEY, "--faults", rates,
                        "--timeout-sleep", str(0.5 * SLOW), "--seed", "11")
    ids, events, _ = kill_run(env, "lemon", url, n, {"COATTAIL_LEMON_KEY": LEMON_KEY},
                              kills=5)
    check_exactly_once(env, url, ids, events, "idempotency")
    orders = http_json(url + "/_orders")
    inactive = [o["id"] for o in orders if o["status"] != "activated"]
    assert not inactive, "orders created but never activated: %s" % inactive[:5]
    for o in orders:
        assert o["notes"] == "coattail " + o["idempotency"]


# ---- single faults, one at a time ------------------------------------------

@test
def test_each_alpaca_fault_ends_in_one_order_and_a_submitted_event(env):
    _, url = start_fake(env, "alpaca", "--key-id", KEY_ID, "--secret", SECRET,
                        "--timeout-sleep", str(1.0 * SLOW))
    kinds = ["500_before", "500_after", "drop_after", "timeout_after", "429", "dup422"]
    http_json(url + "/_faults", {"next": {"post": kinds, "get": ["500", "drop"]}})
    executor_conf(env, 'broker = "alpaca";\n  alpaca_url = "%s";\n  http_timeout_ms = %d;\n'
                  '  doubt_settle_ms = %d;' % (url, 400 * SLOW, 800 * SLOW))
    recs = [intent(i) for i in range(len(kinds) + 2)]
    events, log = run_executor_stdin(env, recs, envx=alpaca_env())
    assert [e["status"] for e in events] == ["submitted"] * len(recs), events
    orders = http_json(url + "/_orders")
    assert sorted(o["client_order_id"] for o in orders) == sorted(
        client_id(r["id"]) for r in recs)
    assert http_json(url + "/_stats").get("dup_posts", 0) == 0
    db = sqlite3.connect(os.path.join(env.state_dir, "executor.sqlite"))
    answers = [r[0] for r in db.execute("SELECT outcome FROM answers WHERE op = 'submit'")]
    assert answers.count("ambiguous") == 5 and answers.count("exists") == 1, answers
    assert KEY_ID not in log and SECRET not in log


# ---- a create the broker takes late: the settle rule ----------------------
#
# The fake holds the create (fault slow_create) past the client's timeout
# and makes the order only then; the lookup the executor makes meanwhile
# finds nothing.  Before the settle rule the executor believed that and
# sent the create again: Alpaca refused it (dup_posts 1), lemon.markets made
# a second order.  Now a "not found" counts only from a lookup begun
# doubt_settle_ms after the submission began.

SLOW_TIMEOUT_MS = 300 * SLOW    # the client gives up on the create after this
SLOW_CREATE_S = 0.8 * SLOW      # the fake makes the order this long after the POST
SLOW_SETTLE_MS = 2000 * SLOW    # believed only after the create has landed


def broker_conf(broker, url, extra=""):
    if broker == "alpaca":
        conf = 'broker = "alpaca";\n  alpaca_url = "%s";' % url
    else:
        conf = 'broker = "lemon";\n  lemon_url = "%s";\n  lemon_data_url = "%s";' % (url, url)
    return conf + "\n  http_retries = 2;\n" + extra


def broker_keys(broker):
    return alpaca_env() if broker == "alpaca" else {"COATTAIL_LEMON_KEY": LEMON_KEY}


def start_broker(env, broker, *args):
    if broker == "alpaca":
        return start_fake(env, "alpaca", "--key-id", KEY_ID, "--secret", SECRET, *args)
    return start_fake(env, "lemon", "--key", LEMON_KEY, *args)


def check_one_late_order(env, url, broker, rec, events):
    """Exactly one order for rec at the broker, never a second create, and
    the journal and the last event carry its id.  Counted once the late
    create is done at the fake."""
    env.wait_for(lambda: http_json(url + "/_stats").get("late_creates", 0) >= 1, 10 * SLOW,
                 "the late create to be done at the broker")
    orders = http_json(url + "/_orders")
    stats = http_json(url + "/_stats")
    key = "client_order_id" if broker == "alpaca" else "idempotency"
    assert stats["faults"].get("slow_create") == 1, stats
    assert len(orders) == 1, "broker holds %d orders (stats %s)" % (len(orders), stats)
    assert orders[0][key] == client_id(rec["id"]), orders
    assert stats.get("dup_posts", 0) == 0, \
        "a create was sent for an order the broker was still making: %s" % stats
    assert stats["posts"] == 1, stats
    if broker == "lemon":
        assert orders[0]["status"] == "activated", orders
    state, boid, _, attempts, in_doubt = journal_rows(env)[rec["id"]]
    assert (state, boid, attempts, in_doubt) == ("submitted", orders[0]["id"], 1, 0), \
        journal_rows(env)
    last = [e for e in events if e["intent"] == rec["id"]][-1]
    assert last["status"] == "submitted" and last["broker_order_id"] == orders[0]["id"], last


def slow_create_once(env, broker):
    _, url = start_broker(env, broker, "--timeout-sleep", str(SLOW_CREATE_S))
    http_json(url + "/_faults", {"next": {"post": ["slow_create"]}})
    executor_conf(env, broker_conf(broker, url, "  http_timeout_ms = %d;\n  doubt_settle_ms = %d;"
                                   % (SLOW_TIMEOUT_MS, SLOW_SETTLE_MS)))
    rec = intent(1)
    t0 = time.monotonic()
    events, log = run_executor_stdin(env, [rec], envx=broker_keys(broker))
    check_one_late_order(env, url, broker, rec, events)
    # It waited: the lookup inside the settle time was not believed, and the
    # order was found by the one after it.
    assert "looking it up again in" in log and "doubt_settle_ms" in log, log
    assert "found by lookup" in events[-1]["reason"], events
    assert time.monotonic() - t0 >= SLOW_SETTLE_MS / 1000.0, "did not wait the settle time"


@test
def test_a_create_alpaca_takes_late_is_found_not_sent_twice(env):
    slow_create_once(env, "alpaca")


@test
def test_a_create_lemon_takes_late_is_found_not_made_twice(env):
    slow_create_once(env, "lemon")


@test
def test_a_restart_inside_the_settle_time_does_not_send_again_before_it(env):
    # lemon: where a second create is a second order.  The executor is
    # SIGKILLed while the create is held at the fake, and restarted at once:
    # the restarted run finds the order in doubt, looks it up (nothing yet),
    # and must wait for the settle time counted from the send the journal
    # recorded, by which time the order has landed.
    broker = "lemon"
    _, url = start_broker(env, broker, "--timeout-sleep", str(1.5 * SLOW))
    http_json(url + "/_faults", {"next": {"post": ["slow_create"]}})
    executor_conf(env, broker_conf(broker, url, "  http_timeout_ms = %d;\n  doubt_settle_ms = %d;"
                                   % (SLOW_TIMEOUT_MS, 3000 * SLOW)))
    rec = intent(1)
    src = env.path("in.jsonl")
    write_jsonl(src, [rec])
    ex = env.start("executor", "--out", "-", stdout=open(env.path("out.1.jsonl"), "w"),
                   env=broker_keys(broker))
    assert inject(env, src).wait(30 * SLOW) == 0
    env.wait_for(lambda: http_json(url + "/_stats").get("posts", 0) >= 1, 10 * SLOW,
                 "the create at the broker")
    ex.signal(signal.SIGKILL)
    ex.wait(10 * SLOW)
    out2 = env.path("out.2.jsonl")
    ex = env.start("executor", "--out", "-", stdout=open(out2, "w"), env=broker_keys(broker))
    env.wait_for(lambda: journal_rows(env)[rec["id"]][0] == "submitted", 20 * SLOW,
                 "the order found by the restarted run")
    ex.signal(signal.SIGTERM)
    assert ex.wait(10 * SLOW) == 0
    check_one_late_order(env, url, broker, rec, read_events(out2))
    assert "looking it up again in" in ex.log(), ex.log()


@test
def test_lemon_activation_lost_is_finished_by_the_lookup(env):
    _, url = start_fake(env, "lemon", "--key", LEMON_KEY)
    http_json(url + "/_faults", {"next": {"activate": ["500_before", "drop_after", "500_after"]}})
    executor_conf(env, 'broker = "lemon";\n  lemon_url = "%s";\n  lemon_data_url = "%s";'
                  % (url, url))
    recs = [intent(i) for i in range(4)]
    events, _ = run_executor_stdin(env, recs, envx={"COATTAIL_LEMON_KEY": LEMON_KEY})
    assert [e["status"] for e in events] == ["submitted"] * 4, events
    orders = http_json(url + "/_orders")
    assert len(orders) == 4 and all(o["status"] == "activated" for o in orders), orders
    assert http_json(url + "/_stats")["activations"] == 5  # one re-activated by the lookup


@test
def test_lemon_refused_activation_is_rejected_with_the_order_id(env):
    _, url = start_fake(env, "lemon", "--key", LEMON_KEY)
    http_json(url + "/_set", {"activate_error": "pin_invalid"})
    executor_conf(env, 'broker = "lemon";\n  lemon_url = "%s";\n  lemon_data_url = "%s";'
                  % (url, url))
    events, _ = run_executor_stdin(env, [intent(1)], envx={"COATTAIL_LEMON_KEY": LEMON_KEY,
                                                            "COATTAIL_LEMON_PIN": "9876"})
    assert len(events) == 1 and events[0]["status"] == "rejected", events
    assert "pin_invalid" in events[0]["reason"] and events[0]["broker_order_id"].startswith("ord_")
    assert "9876" not in json.dumps(events)


# ---- paper broker, dry run, halt, duplicates --------------------------------

@test
def test_paper_fills_at_ref_price_and_a_repeated_intent_is_a_duplicate(env):
    executor_conf(env, "starting_cash = 10000.0;")
    a = intent(1, qty=10, ref_price=12.34)
    b = intent(2, side="sell", ticker=a["ticker"], qty=4, ref_price=13.0)
    events, _ = run_executor_stdin(env, [a, b, a], "--now", OPEN_NOW)
    assert [e["status"] for e in events] == ["filled", "filled", "duplicate"], events
    assert events[0]["price"] == 12.34 and events[0]["qty"] == 10
    assert events[2]["broker_order_id"] == events[0]["broker_order_id"]
    db = sqlite3.connect(os.path.join(env.state_dir, "paper.sqlite"))
    cash, realized = db.execute("SELECT cash_u, realized_u FROM account").fetchone()
    assert cash == round((10000 - 123.40 + 52.0) * 1e6) and realized == round(2.64 * 1e6)
    assert db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 2
    # The same intent in a later run: still a duplicate, still one order.
    events, _ = run_executor_stdin(env, [a], "--now", OPEN_NOW)
    assert events[0]["status"] == "duplicate"
    assert db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 2


@test
def test_dry_run_journals_and_reports_but_sends_nothing(env):
    executor_conf(env, "max_notional_per_order = 100.0;")
    recs = [intent(1, qty=2, ref_price=20.0), intent(2, qty=50, ref_price=20.0)]
    events, _ = run_executor_stdin(env, recs, "--now", OPEN_NOW, envx={"COATTAIL_DRY_RUN": "1"})
    assert [e["status"] for e in events] == ["dry_run", "blocked"], events
    assert "would buy 2 T0001" in events[0]["reason"]
    assert "max_notional_per_order" in events[1]["reason"]
    db = sqlite3.connect(os.path.join(env.state_dir, "paper.sqlite"))
    assert db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0
    assert journal_rows(env)[recs[0]["id"]][0] == "dry_run"


@test
def test_halt_file_blocks_new_orders_at_once_and_lifting_it_resumes(env):
    executor_conf(env, 'halt_file = "%s";' % env.path("HALT"))
    out_path = env.path("out.jsonl")
    ex = env.start("executor", "--out", "-", "--now", OPEN_NOW, stdout=open(out_path, "w"))

    def send(recs, n_total):
        p = env.path("in.%d.jsonl" % n_total)
        write_jsonl(p, recs)
        assert inject(env, p).wait(30 * SLOW) == 0
        env.wait_for(lambda: len(read_events(out_path)) >= n_total, 20, "%d events" % n_total)

    send([intent(1), intent(2)], 2)
    open(env.path("HALT"), "w").close()
    send([intent(3), intent(4)], 4)
    os.unlink(env.path("HALT"))
    send([intent(5)], 5)
    ex.signal(signal.SIGTERM)
    assert ex.wait(10 * SLOW) == 0
    st = [e["status"] for e in read_events(out_path)]
    assert st == ["filled", "filled", "blocked", "blocked", "filled"], st
    assert "halted" in read_events(out_path)[2]["reason"]


@test
def test_risk_limits_each_block_with_their_reason(env):
    executor_conf(env, 'max_orders_per_day = 3;\n  max_notional_per_day = 1000.0;\n'
                       '  max_position_per_ticker = 400.0;\n  deny_tickers = [ "BAD" ];')
    recs = [
        intent(1, ticker="BAD"),                       # deny list
        intent(2, ticker="AAA", qty=30, ref_price=10),  # 300 USD: filled
        intent(3, ticker="AAA", qty=20, ref_price=10),  # position would be 500
        intent(4, ticker="BBB", side="sell", qty=5),    # nothing held
        intent(5, ticker="AAA", side="sell", qty=50, ref_price=10),  # cut to 30
        intent(6, ticker="CCC", qty=39, ref_price=10),  # 390: third order
        intent(7, ticker="DDD", qty=1, ref_price=10),   # fourth order of the day
    ]
    events, _ = run_executor_stdin(env, recs, "--now", OPEN_NOW)
    st = [(e["status"], e["reason"]) for e in events]
    assert [s for s, _ in st] == ["blocked", "filled", "blocked", "blocked", "filled", "filled",
                                  "blocked"], st
    assert "deny list" in st[0][1]
    assert "max_position_per_ticker" in st[2][1]
    assert "no position in BBB" in st[3][1]
    assert "cut from 50 to the 30 shares held" in st[4][1] and events[4]["qty"] == 30
    assert "max_orders_per_day" in st[6][1]


@test
def test_market_closed_holds_until_the_open_or_expires(env):
    _, url = start_fake(env, "alpaca", "--key-id", KEY_ID, "--secret", SECRET)
    # The open is far enough ahead for a slow (sanitizer) run to journal
    # both intents first; the second expires before it, but after it is read.
    opens = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 6 * SLOW))
    http_json(url + "/_set", {"clock_open": False, "next_open": opens})
    executor_conf(env, 'broker = "alpaca";\n  alpaca_url = "%s";' % url)
    out_path = env.path("out.jsonl")
    ex = env.start("executor", "--out", "-", stdout=open(out_path, "w"), env=alpaca_env())
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3 * SLOW))
    p = env.path("in.jsonl")
    write_jsonl(p, [intent(1), intent(2, expires_at=soon)])
    assert inject(env, p).wait(30 * SLOW) == 0
    env.wait_for(lambda: len(read_events(out_path)) >= 1, 10, "the expiring intent's event")
    first = read_events(out_path)[0]
    assert first["intent"] == intent(2)["id"] and first["status"] == "blocked", first
    assert "before the next open" in first["reason"], first
    assert journal_rows(env)[intent(1)["id"]][0] == "held"
    assert http_json(url + "/_orders") == []
    http_json(url + "/_set", {"clock_open": True})
    env.wait_for(lambda: len(read_events(out_path)) >= 2, 15, "the held intent sent at the open")
    assert read_events(out_path)[1]["status"] == "submitted"
    assert len(http_json(url + "/_orders")) == 1
    ex.signal(signal.SIGTERM)
    assert ex.wait(10 * SLOW) == 0
    # market_closed = expire: refused at once.
    executor_conf(env, 'broker = "alpaca";\n  alpaca_url = "%s";\n  market_closed = "expire";'
                  % url)
    http_json(url + "/_set", {"clock_open": False})
    events, _ = run_executor_stdin(env, [intent(3)], envx=alpaca_env())
    assert events[0]["status"] == "blocked" and "market closed" in events[0]["reason"]


@test
def test_paper_market_closed_holds_with_the_calendar(env):
    executor_conf(env, 'market_closed = "hold";')
    events, log = run_executor_stdin(env, [intent(1)], "--now", CLOSED_NOW)
    assert events == [], events
    assert journal_rows(env)[intent(1)["id"]][0] == "held"
    assert "held until 2026-04-27T13:30:00Z" in log, log
    # At the next start during the session, the held intent goes out.
    out_path = env.path("out.jsonl")
    ex = env.start("executor", "--out", "-", "--now", "2026-04-27T14:00:00Z",
                   stdout=open(out_path, "w"))
    env.wait_for(lambda: len(read_events(out_path)) >= 1, 10, "the held intent's fill")
    ex.signal(signal.SIGTERM)
    assert ex.wait(10 * SLOW) == 0
    assert read_events(out_path)[0]["status"] == "filled"


@test
def test_secrets_stay_out_of_logs_events_and_the_journal(env):
    _, url = start_fake(env, "alpaca", "--key-id", KEY_ID, "--secret", "another-secret")
    executor_conf(env, 'broker = "alpaca";\n  alpaca_url = "%s";\n  max_attempts = 2;' % url)
    events, log = run_executor_stdin(env, [intent(1)], "-v", envx=alpaca_env())
    assert len(events) == 1 and events[0]["status"] == "error", events
    assert "401" in events[0]["reason"] or "not authorized" in events[0]["reason"], events
    with open(os.path.join(env.state_dir, "executor.sqlite"), "rb") as f:
        db = f.read()
    for s in (KEY_ID, SECRET):
        assert s not in log and s not in json.dumps(events) and s.encode() not in db


@test
def test_a_non_intent_record_is_dropped_and_a_bad_id_is_an_error_event(env):
    executor_conf(env, "")
    trade = {"type": "drop", "v": 1, "stage": "x", "key": None, "reason": "y"}
    events, log = run_executor_stdin(env, [trade, intent(1, id="has space")], "--now", OPEN_NOW)
    assert [e["status"] for e in events] == ["error"], events
    assert "printable" in events[0]["reason"]
    assert "takes intents" in log


run_tests()
