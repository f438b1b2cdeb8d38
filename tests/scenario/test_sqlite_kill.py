"""The state directory's SQLite files survive SIGKILL during writes.

The four real stages run a generated day (tests/chaos/day_fake.py) while
the executor (journal writes, fsync before each order) and the decider
(trade-window upserts at every flush) are SIGKILLed again and again, every
0.2-0.8 s, mostly in the middle of a write.  Afterwards every SQLite file
is in WAL mode and passes PRAGMA integrity_check, and the executor's
journal agrees with the fake broker: one row per order the broker holds,
each submitted or filled, carrying the broker's order id for its client id,
none in doubt; and the broker holds one order per trade, none twice.

Sizes: 600 trades and 30 kills; under COATTAIL_SAN=1 (3-4x slower) 200
trades and 10 kills.
"""
import os
import random
import sqlite3
import sys
import time

from harness import SAN, SLOW, run_tests, test

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "chaos"))
import chaos  # noqa: E402

N, KILLS = (200, 10) if SAN else (600, 30)


@test
def test_kills_mid_write_keep_sqlite_sound_and_journal_true(env):
    release_s = 6.0 * SLOW
    pl = chaos.Pipeline(env, N, release_s=release_s, per_page=200, tickers=100)
    t0 = time.monotonic()
    pl.start_all()
    rng = random.Random(977)
    kills = {"executor": 0, "decider": 0}
    for k in range(KILLS):
        time.sleep(rng.uniform(0.2, 0.8) * SLOW)
        victim = ("executor", "decider")[k % 2]
        pl.kill(victim)
        pl.start(victim)
        kills[victim] += 1
    time.sleep(max(0.0, release_s + 2.0 - (time.monotonic() - t0)))  # the whole day is out
    # Stops waiting once the count stood still longer than the decider
    # waits to send an intent again: the journal is then judged against
    # what the broker holds, and the count after.
    orders = pl.wait_orders(90 * SLOW, settle=2.0, quiet=chaos.RESEND_QUIET_S)
    stats = chaos.http_json(pl.broker + "/_stats")
    pl.stop()
    files = pl.integrity()
    assert {"executor.sqlite", "decider.sqlite"} <= set(files), files
    for f in files:
        db = sqlite3.connect(os.path.join(env.state_dir, f))
        try:
            mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        finally:
            db.close()
        assert mode == "wal", "%s is in %s mode" % (f, mode)

    cids = [o["client_order_id"] for o in orders]
    assert len(set(cids)) == len(cids), "the broker holds duplicated orders"
    assert stats.get("dup_posts", 0) == 0, stats
    by_cid = {o["client_order_id"]: o["id"] for o in orders}
    db = sqlite3.connect(os.path.join(env.state_dir, "executor.sqlite"))
    try:
        rows = db.execute("SELECT id, state, broker_order_id, client_id, in_doubt "
                          "FROM intents").fetchall()
    finally:
        db.close()
    assert len(rows) == len(cids), "the journal holds %d intents for %d orders at the broker" % (
        len(rows), len(cids))
    for iid, state, boid, cid, in_doubt in rows:
        assert state in ("submitted", "filled"), "journal says %s for %s" % (state, iid)
        assert cid in by_cid, "journal's %s is not at the broker" % cid
        assert boid == by_cid[cid], "journal's order id for %s differs from the broker's" % cid
        assert in_doubt == 0, iid
    assert sorted(r[3] for r in rows) == sorted(cids)
    print("sqlite_kill: %d kills (%s), %d orders of %d, files %s"
          % (sum(kills.values()), kills, len(cids), N, files), flush=True)
    assert len(cids) == N, "the broker holds %d orders for %d trades" % (len(cids), N)


run_tests()
