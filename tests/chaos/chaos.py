#!/usr/bin/env python3
"""The chaos test: a generated trading day through the four real processes
while a random stage is SIGKILLed every few seconds; at the end the fake
broker must hold exactly the orders a calm run of the same day produced.

    python3 tests/chaos/chaos.py [--long] [--trades N] [--kills K] [--seed S]
                                 [--json FIGURES.json] [--keep]

The pipeline: coattail-scraper reads the day as OpenInsider screener pages
from tests/chaos/day_fake.py (which releases the day's rows gradually, so
kills land while trades are in flight), coattail-mapper resolves tickers at
tests/fakes/openfigi_fake.py, coattail-decider makes one intent per trade
(executive_trade; cluster_buy off), coattail-executor sends them to
tests/fakes/alpaca_fake.py.  Every stage runs as under supervisord: killed,
it is started again at once with the same config and state directory.

Two runs, each from empty state: a calm one, then one under kills.  Passing
means: the calm run's broker holds one order per trade of the day; the
chaos run's broker holds exactly the same set of client order ids, none
missing, none twice (and the fake never saw a second create for a client
id it held); every SQLite file passes PRAGMA integrity_check.

Sizes: --long (make chaos): 10,000 trades, >= 24 kills spread over the
four stages.  The short form (tests/scenario/test_chaos.py, run by make
test): 1,000 trades and 8 kills, and under COATTAIL_SAN=1 (sanitizer
builds, 3-4x slower) 250 trades and 4 kills (one per stage).
"""
import argparse
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "scenario"))
from harness import SLOW, Env, Proc  # noqa: E402

FAKES = os.path.join(ROOT, "tests", "fakes")
STAGES = ("scraper", "mapper", "decider", "executor")

# Longer than decider/rules.c RESEND_EVERY (30 s) and a few scraper cycles.
RESEND_QUIET_S = 40.0 + 5.0 * SLOW

FIGI_KEY = "figi-KEY-chaos-0123456789"
KEY_ID = "PKCHAOSKEYID0123456789"
SECRET = "chaos-SECRET-0123456789-abcdefgh"


def http_json(url, body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=timeout) as r:
        return json.loads(r.read())


def start_fake(env, script, *args):
    """Start a fake server script on a free port; returns its base URL."""
    name = os.path.basename(script)[:-3]
    log_path = env.path("%s.%d.log" % (name, len(env.procs)))
    p = subprocess.Popen([sys.executable, script, "--port", "0"] + list(args),
                         stdout=subprocess.PIPE, stderr=open(log_path, "w"), text=True)
    env.procs.append(Proc(name, p, log_path))
    line = p.stdout.readline()
    m = re.match(r"PORT (\d+)$", line.strip())
    if not m:
        raise AssertionError("%s did not start: %r" % (name, line))
    return "http://127.0.0.1:%s" % m.group(1)


class Pipeline:
    """The four stages and their fakes in one Env.  secrets: the keys the
    stages get through their environment (the fakes insist on them)."""

    def __init__(self, env, trades, release_s, per_page=1000, tickers=500,
                 figi_key=FIGI_KEY, key_id=KEY_ID, secret=SECRET, extra_conf=""):
        self.env = env
        self.n = trades
        self.keys = {"COATTAIL_OPENFIGI_KEY": figi_key, "COATTAIL_ALPACA_KEY_ID": key_id,
                     "COATTAIL_ALPACA_SECRET": secret}
        self.day = start_fake(env, os.path.join(HERE, "day_fake.py"), "--trades", str(trades),
                              "--per-page", str(per_page), "--tickers", str(tickers),
                              "--release-s", str(release_s))
        self.figi = start_fake(env, os.path.join(FAKES, "openfigi_fake.py"), "--key", figi_key,
                               "--rate-limit", "100000")
        self.broker = start_fake(env, os.path.join(FAKES, "alpaca_fake.py"), "--key-id", key_id,
                                 "--secret", secret)
        pages = ", ".join('"/chaos-day?page=%d"' % (k + 1)
                          for k in range((trades + per_page - 1) // per_page))
        tap = (lambda s: 'tap = "ipc://%s.tap";' % s)
        env.write_conf("""
log_level = "info";
wire: { linger_ms = 0; drain_ms = 1000; stats_interval_ms = 1000; };
scraper: {
  %s
  edgar_enabled = false; openinsider_enabled = true; finviz_enabled = false;
  openinsider_url = "%s"; openinsider_pages = [ %s ];
  trading_days_only = false; window_start = "00:00"; window_end = "24:00";
  openinsider_interval_s = 1; aggregator_requests_per_s = 10.0;
  http_retries = 1; retry_backoff_ms = 100; retry_backoff_max_ms = 1000;
};
mapper: {
  %s
  openfigi_url = "%s"; batch_ms = 50; rate_requests = 1000; rate_window_key_ms = 1000;
  rate_burst = 100; retry_min_ms = 200; retry_max_ms = 2000; request_timeout_ms = 5000;
};
decider: {
  %s
  cluster_buy: { enabled = false; };
};
executor: {
  %s
  broker = "alpaca"; alpaca_url = "%s";
  max_orders_per_day = 0; max_notional_per_order = 0.0; max_notional_per_day = 0.0;
  max_position_per_ticker = 0.0; max_attempts = 0; retry_base_ms = 20; retry_max_ms = 500;
  http_timeout_ms = 3000; http_retries = 2; doubt_settle_ms = 6000;
};
%s
""" % (tap("scraper"), self.day, pages, tap("mapper"), self.figi, tap("decider"),
            tap("executor"), self.broker, extra_conf))
        self.procs = {}
        self.starts = {s: 0 for s in STAGES}

    def start(self, stage):
        self.starts[stage] += 1
        self.procs[stage] = self.env.start(stage, env=self.keys)
        return self.procs[stage]

    def start_all(self):
        # Downstream first, so the first records find their peers listening.
        for s in reversed(STAGES):
            self.start(s)

    def kill(self, stage):
        p = self.procs[stage]
        if not p.alive():
            raise AssertionError("%s died on its own (status %s):\n%s"
                                 % (stage, p.p.returncode, p.log()[-3000:]))
        p.signal(signal.SIGKILL)
        p.wait(10 * SLOW)

    def check_alive(self):
        for s, p in self.procs.items():
            if not p.alive():
                raise AssertionError("%s exited on its own (status %s):\n%s"
                                     % (s, p.p.returncode, p.log()[-3000:]))

    def orders(self):
        return http_json(self.broker + "/_orders")

    def wait_orders(self, timeout, settle=3.0, quiet=None):
        """Until the broker holds one order per trade; then a few quiet
        seconds more, so a late duplicate would show.  quiet: give up
        waiting (without raising) once the count has not moved for that
        many seconds, and return what the broker holds."""
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while True:
            self.check_alive()
            n = len(self.orders())
            if n >= self.n:
                break
            if n != last:
                last, since = n, time.monotonic()
            elif quiet is not None and time.monotonic() - since > quiet:
                return self.orders()
            if time.monotonic() > deadline:
                raise AssertionError("after %ds the broker holds %d orders of %d"
                                     % (timeout, n, self.n))
            time.sleep(0.5)
        time.sleep(settle * SLOW)
        self.check_alive()
        return self.orders()

    def stop(self):
        for s in STAGES:
            p = self.procs.get(s)
            if p is not None and p.alive():
                p.signal(signal.SIGTERM)
        for s in STAGES:
            p = self.procs.get(s)
            if p is not None:
                try:
                    p.wait(30 * SLOW)
                except subprocess.TimeoutExpired:
                    p.signal(signal.SIGKILL)
                    raise AssertionError("%s did not stop on SIGTERM" % s)

    def integrity(self):
        """PRAGMA integrity_check of every SQLite file in the state dir."""
        bad = {}
        files = [f for f in sorted(os.listdir(self.env.state_dir)) if f.endswith(".sqlite")]
        for f in files:
            db = sqlite3.connect(os.path.join(self.env.state_dir, f))
            try:
                r = db.execute("PRAGMA integrity_check").fetchall()
            finally:
                db.close()
            if r != [("ok",)]:
                bad[f] = r
        if bad:
            raise AssertionError("integrity_check failed: %s" % bad)
        return files


def client_ids(orders):
    return [o["client_order_id"] for o in orders]


def calm_run(n, release_s, timeout):
    env = Env("chaos-calm")
    try:
        pl = Pipeline(env, n, release_s)
        t0 = time.monotonic()
        pl.start_all()
        orders = pl.wait_orders(timeout)
        took = time.monotonic() - t0
        pl.stop()
        pl.integrity()
        ids = client_ids(orders)
        if len(ids) != n or len(set(ids)) != n:
            raise AssertionError("the calm run made %d orders (%d distinct) for %d trades"
                                 % (len(ids), len(set(ids)), n))
        return set(ids), took
    except BaseException:
        dump_logs(env)
        raise
    finally:
        env.close()


def chaos_run(n, release_s, kills, gap, seed, timeout, keep=False):
    """Kills: `kills` SIGKILLs, one every uniform(gap) seconds, the victims
    dealt from shuffled rounds of the four stages so all four get theirs."""
    env = Env("chaos")
    rng = random.Random(seed)
    try:
        pl = Pipeline(env, n, release_s)
        t0 = time.monotonic()
        pl.start_all()
        done = {s: 0 for s in STAGES}
        deck = []
        orders_at_kill = []
        for _ in range(kills):
            time.sleep(rng.uniform(*gap) * SLOW)
            if not deck:
                deck = list(STAGES)
                rng.shuffle(deck)
            victim = deck.pop()
            orders_at_kill.append(len(pl.orders()))
            pl.kill(victim)
            time.sleep(rng.uniform(0.0, 0.3))  # supervisord's restart delay
            pl.start(victim)
            done[victim] += 1
        kill_phase = time.monotonic() - t0
        # Once the day is out and the count stands still for longer than
        # the decider waits between two copies of an intent it sends again
        # (30 s) plus a few scraper cycles, what is missing stays missing.
        time.sleep(max(0.0, release_s * SLOW - kill_phase))
        orders = pl.wait_orders(timeout, quiet=RESEND_QUIET_S)
        took = time.monotonic() - t0
        stats = http_json(pl.broker + "/_stats")
        pl.stop()
        files = pl.integrity()
        return {"ids": client_ids(orders), "kills": done, "seconds": took,
                "kill_phase_s": kill_phase, "dup_posts": stats.get("dup_posts", 0),
                "orders_at_kill": orders_at_kill, "sqlite_files": files}
    except BaseException:
        dump_logs(env)
        raise
    finally:
        if keep:
            print("kept %s" % env.dir)
        else:
            env.close()


def dump_logs(env):
    for p in env.procs:
        print("--- log of %s (%s) ---\n%s" % (p.name, p.log_path, p.log()[-3000:]))


def compare(calm, chaos, n):
    ids = chaos["ids"]
    got = set(ids)
    missing = calm - got
    extra = got - calm
    dups = len(ids) - len(got)
    figures = {"trades": n, "orders_calm": len(calm), "orders_chaos": len(ids),
               "missing": len(missing), "unexpected": len(extra), "duplicated": dups,
               "dup_posts": chaos["dup_posts"], "kills": chaos["kills"],
               "kills_total": sum(chaos["kills"].values()),
               "seconds": round(chaos["seconds"], 1),
               "sqlite_files_checked": chaos["sqlite_files"]}
    problems = []
    if missing:
        problems.append("%d orders missing (e.g. %s)" % (len(missing), sorted(missing)[:3]))
    if extra:
        problems.append("%d orders the calm run did not make" % len(extra))
    if dups:
        problems.append("%d duplicated orders" % dups)
    if chaos["dup_posts"]:
        problems.append("%d creates for client ids the broker already held" % chaos["dup_posts"])
    return figures, problems


def sizes(long_form):
    """(trades, kills, gap range in s, release over s, timeout s)"""
    san = os.environ.get("COATTAIL_SAN") == "1"
    if long_form:
        return (10000, 24, (2.0, 5.0), 80.0, 600)
    if san:
        return (250, 4, (1.5, 3.0), 10.0, 150)
    return (1000, 8, (1.0, 2.5), 15.0, 90)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--long", action="store_true", help="10,000 trades, >= 24 kills")
    ap.add_argument("--trades", type=int)
    ap.add_argument("--kills", type=int)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--keep", action="store_true", help="keep the chaos run's directory")
    a = ap.parse_args()
    n, kills, gap, release_s, timeout = sizes(a.long)
    n = a.trades or n
    kills = a.kills or kills
    print("chaos: %d trades, %d kills, seed %d" % (n, kills, a.seed), flush=True)
    calm, calm_s = calm_run(n, release_s, timeout)
    print("chaos: calm run: %d orders in %.1fs" % (len(calm), calm_s), flush=True)
    chaos = chaos_run(n, release_s, kills, gap, a.seed, timeout, keep=a.keep)
    figures, problems = compare(calm, chaos, n)
    figures["seed"] = a.seed
    print("chaos: " + json.dumps(figures), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(figures, f, indent=1)
    if problems:
        print("chaos: FAILED: " + "; ".join(problems))
        return 1
    print("chaos: PASSED: %d kills (%s), %d orders, none missing, none duplicated"
          % (figures["kills_total"], ", ".join("%s %d" % kv for kv in chaos["kills"].items()),
             len(chaos["ids"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
