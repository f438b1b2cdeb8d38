"""The real decider process: a day of trades in, exactly the intents the
rules call for out, each with a reason; a drop with its reason for every
other trade on the tap; repeats of any kind, across restarts, add nothing."""
import json
import os
import signal
import subprocess
import time

from harness import SLOW, binary, count_lines, run_tests, test

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DAY1 = os.path.join(ROOT, "tests", "fixtures", "decider", "day1.jsonl")
NOW = "2026-04-24T20:00:00Z"
EXPECTED = {  # (rule, side, ticker) the fixture README lists
    ("executive_trade", "buy", "ACME"),
    ("executive_trade", "sell", "GAMA"),
    ("executive_trade", "buy", "DELT"),
    ("cluster_buy", "buy", "KAPP"),
}


def run_day(env, path=DAY1, now=NOW):
    with open(path) as f:
        r = env.run("decider", "-c", env.conf, "--in", "-", "--out", "-", "--tap", "",
                    "--now", now, input=f.read())
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()], r.stderr


@test
def test_a_day_of_trades_gives_exactly_the_intents_with_reasons(env):
    intents, _ = run_day(env)
    got = {(i["rule"], i["side"], i["ticker"]) for i in intents}
    assert got == EXPECTED, got
    assert len(intents) == len(EXPECTED), intents
    for i in intents:
        assert i["type"] == "intent" and len(i["id"]) == 32
        assert i["reason"] and i["evidence"], i
        assert i["notional"] == 1000 and i["qty"] is None
        assert i["created_at"] == NOW
    acme = [i for i in intents if i["ticker"] == "ACME"][0]
    assert "2.4% of holdings" in acme["reason"], acme["reason"]
    assert len(acme["evidence"]) == 3


@test
def test_repeats_across_restarts_add_no_intent(env):
    first, _ = run_day(env)
    assert len(first) == len(EXPECTED)
    again, err = run_day(env)  # same state dir: a restart
    # No new intent: a repeat of used evidence sends its intent again, the
    # same id and content (a kill may have lost the first copy in a queue;
    # the executor journals by id), never a new one.
    by_id = {i["id"]: i for i in first}
    assert again, "the repeated day sent no intent again"
    for i in again:
        assert i["id"] in by_id, "a new intent after a restart: %s" % i
        assert i == by_id[i["id"]], (i, by_id[i["id"]])
    # Fed in reverse order into a fresh state: the same decisions and ids.
    with open(DAY1) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    rev = env.path("reversed.jsonl")
    with open(rev, "w") as f:
        f.write("\n".join(reversed(lines)) + "\n")
    env.state_dir = env.path("state2")
    env.write_conf("")
    other, _ = run_day(env, rev)
    assert {(i["rule"], i["side"], i["ticker"]) for i in other} == EXPECTED
    assert sorted(i["id"] for i in other) == sorted(i["id"] for i in first)


@test
def test_every_declined_trade_has_its_reason_on_the_tap(env):
    out_path = env.path("out.jsonl")
    de = env.start("decider", "--out", "-", "--now", NOW, stdout=open(out_path, "w"))
    tap_path = env.path("tap.jsonl")
    tap = subprocess.Popen([binary("tap"), "-c", env.conf, "--json", "--type", "drop",
                            "ipc://decider.tap"], stdout=open(tap_path, "w"),
                           stderr=subprocess.DEVNULL, env=env.env())
    time.sleep(0.5 * SLOW)
    with open(DAY1) as f:
        day = f.read()
    n_trades = len([l for l in day.splitlines() if l.strip()])
    r = subprocess.run([binary("inject"), "-c", env.conf, "ipc://decider.in"], input=day,
                       text=True, capture_output=True, env=env.env(), timeout=30 * SLOW)
    assert r.returncode == 0, r.stderr
    env.wait_for(lambda: count_lines(out_path) >= len(EXPECTED), 20, "the intents")
    with open(out_path) as f:
        intents = [json.loads(l) for l in f]
    evidence = {k for i in intents for k in i["evidence"]}
    env.wait_for(lambda: count_lines(tap_path) >= n_trades - len(evidence), 20,
                 "a drop for every other trade")
    with open(tap_path) as f:
        drops = [json.loads(l) for l in f]
    reasons = " | ".join(d["reason"] for d in drops)
    for needle in ("not an executive", "of holdings", "10b5-1 plan", "already used",
                   "days ago", "market cap"):
        assert needle in reasons, "no drop says %r: %s" % (needle, reasons)
    assert all(d["stage"] == "decider" and d["key"] for d in drops)
    tap.kill()
    tap.wait()
    de.signal(signal.SIGTERM)
    assert de.wait(10 * SLOW) == 0


def candidate(i, accession=None, amendment=False):
    """An executive's sale of 2% of holdings, filed shortly before NOW, in a
    filing of its own (the window's worst case: nothing shared)."""
    return json.dumps({
        "type": "trade", "v": 1, "key": "edgar:%s:1" % (accession or "0001209191-26-%06d" % i),
        "source": "edgar", "accession": accession or "0001209191-26-%06d" % i, "url": None,
        "filed_at": "2026-04-24T18:00:00Z", "trade_date": "2026-04-23",
        "ticker": "T%04d" % (i % 5000), "issuer": "Issuer %d" % (i % 5000), "issuer_cik": None,
        "owner": "Owner %d" % i, "owner_cik": "%010d" % (2000000 + i), "title": "CEO",
        "roles": ["officer"], "code": "S", "shares": 1000 + i, "price": 12.5, "value": None,
        "shares_after": 50000 + 50 * i, "direct": True, "planned": False,
        "amendment": amendment, "instrument": None}) + "\n"


@test
def test_a_window_past_ten_thousand_trades_forgets_none(env):
    # The window used to live in memory, bounded at 10,000 rows by
    # default, past which the oldest were forgotten: the same transaction
    # seen again through a source that shows no accession (a group of its
    # own, so only the fingerprint ties it to the first) then made a second
    # intent, a second order.  The window is read from decider.sqlite now,
    # bounded at 100,000.  (On the old code this test fails: "window full",
    # and without that check a new intent for trade 0.)
    n = 10500
    r = env.run("decider", "-c", env.conf, "--in", "-", "--out", "-", "--tap", "", "--now", NOW,
                input="".join(candidate(i) for i in range(n)), timeout=300 * SLOW)
    assert r.returncode == 0, r.stderr
    first = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(first) == n and len({i["id"] for i in first}) == n, len(first)
    assert "window full" not in r.stderr, r.stderr[-2000:]

    def through_openinsider(i):
        t = json.loads(candidate(i))
        t.update(source="openinsider", accession=None, key="openinsider:row%d" % i,
                 owner_cik=None)
        return json.dumps(t) + "\n"

    # after a restart: the first and the last trade again, through OpenInsider
    r = env.run("decider", "-c", env.conf, "--in", "-", "--out", "-", "--tap", "", "--now", NOW,
                "-v", input=through_openinsider(0) + through_openinsider(n - 1),
                timeout=60 * SLOW)
    assert r.returncode == 0, r.stderr
    ids = {i["id"] for i in first}
    for i in (json.loads(line) for line in r.stdout.splitlines()):
        assert i["id"] in ids, "a second intent for one transaction: %s" % i
    for i in (0, n - 1):
        assert ("declined openinsider:row%d: same transaction already seen as edgar:"
                "0001209191-26-%06d:1" % (i, i)) in r.stderr, r.stderr[-2000:]


run_tests()
