"""The mapper: the real coattail-mapper process against the project's fake
OpenFIGI (tests/fakes/openfigi_fake.py) and fake SEC data
(tests/fakes/sec_fake.py), fed over stdin or ipc:// and watched on its tap.

Waits are scaled down: retry_min_ms / retry_max_ms of 100-2000 ms stand in
for the production 2 s / 5 min, so the outage test's ~10 s of failures
(refused connections, 503s, dropped connections, answers slower than the
timeout) is the shape of a several-minute outage.
"""
import json
import os
import signal
import subprocess
import sys
import time

from harness import Env, Proc, SLOW, ROOT, binary, count_lines, dumps, run_tests, test, trade  # noqa: F401

sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fakeserver import FakeServer  # noqa: E402

KEY = "sekrit-figi-key-8Hq2"


def ticker_trades(n, u, first=0, prefix="T"):
    """n trades over u tickers T0000.. (CIK 1000 + number, as sec_fake knows)."""
    out = []
    for i in range(n):
        num = first + i % u
        out.append(trade(i, ticker="%s%04d" % (prefix, num), issuer_cik="%010d" % (1000 + num)))
    return out


def configure(env, figi, sec=None, **settings):
    """Write the config: the mapper pointed at the fakes, short waits."""
    s = {"openfigi_url": figi.url, "batch_ms": 300, "retry_min_ms": 100,
         "retry_max_ms": 1000, "request_timeout_ms": 3000, "sec_requests_per_s": 1000.0}
    if sec is not None:
        s.update({"sec_data_url": sec.url, "sec_www_url": sec.url,
                  "sec_user_agent": "coattail-test test@example.com"})
    s.update(settings)
    body = " ".join("%s = %s;" % (k, json.dumps(v)) for k, v in s.items())
    env.write_conf("wire: { stats_interval_ms = 200; };\nmapper: { %s };" % body)


def run_stdin(env, records, key=None, timeout=60):
    inp = "".join(dumps(r) + "\n" for r in records)
    extra = {"COATTAIL_OPENFIGI_KEY": key} if key else None
    r = env.run("mapper", "-c", env.conf, "--in", "-", "--out", "-", "--tap", "", input=inp,
                timeout=timeout, env=extra)
    assert r.returncode == 0, "mapper exited %d:\n%s" % (r.returncode, r.stderr[-3000:])
    return [json.loads(line) for line in r.stdout.splitlines()], r.stderr


def read_jsonl(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


def _helper(env, name, popen):
    """Register a helper process so that Env.close() ends it even when the
    test fails half-way."""
    env.procs.append(Proc(name, popen, os.devnull))
    return popen


def inject(env, endpoint, records):
    """Push records into a stage's input (in the background)."""
    p = subprocess.Popen([binary("inject"), "-c", env.conf, endpoint], stdin=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, env=env.env())
    p.stdin.write("".join(dumps(r) + "\n" for r in records))
    p.stdin.close()
    return _helper(env, "inject", p)


def start_tap(env, endpoint, types, path):
    p = subprocess.Popen([binary("tap"), "-c", env.conf, "--type", types, endpoint],
                         stdout=open(path, "w"), stderr=subprocess.DEVNULL, env=env.env())
    time.sleep(0.5 * SLOW)  # let the subscriber join before anything is published
    return _helper(env, "tap", p)


def keys_of(records):
    return [r["key"] for r in records]


@test
def test_cold_cache_costs_ceil_u_over_100_requests_and_a_warm_restart_none(env):
    figi = FakeServer(env, "openfigi_fake.py", "--key", KEY)
    sec = FakeServer(env, "sec_fake.py")
    # A long batch window: only full requests and the end of input send.
    configure(env, figi, sec, batch_ms=5000)
    n, u = 1000, 250
    records = ticker_trades(n, u)
    out, err = run_stdin(env, records, key=KEY)
    st = figi.stats()
    assert st["requests"] == 3, "cold: %d requests for %d tickers, want ceil(%d/100) = 3 (%s)" % (
        st["requests"], u, u, st["job_counts"])
    assert sorted(st["job_counts"]) == [50, 100, 100], st["job_counts"]
    assert sorted(keys_of(out)) == sorted(keys_of(records)), "every trade once"
    by_key = {r["key"]: r for r in records}
    for t in out:
        ins = t["instrument"]
        assert ins["exch_code"] == "US" and ins["figi"] == ins["composite_figi"], ins
        assert ins["ticker"] == t["ticker"] and ins["security_type"] == "Common Stock", ins
        assert ins["isin"] is None
        cik = int(by_key[t["key"]]["issuer_cik"])
        if cik % 7 == 0:  # sec_fake has no figure for these
            assert ins["shares_outstanding"] is None and ins["market_cap"] is None, ins
        else:
            assert ins["shares_outstanding"] == cik * 1000 + 7, ins
            assert abs(ins["market_cap"] - (cik * 1000 + 7) * t["price"]) < 1e-3 * ins["market_cap"]
    assert KEY not in err, "the key appears in the log"
    first = {t["key"]: t["instrument"] for t in out}
    sec_requests = sec.stats()["requests"]

    # Restart: the cache answers everything, OpenFIGI and SEC see nothing.
    out2, _ = run_stdin(env, records, key=KEY)
    assert figi.stats()["requests"] == 3, "warm: %d new requests" % (figi.stats()["requests"] - 3)
    assert sec.stats()["requests"] == sec_requests, "warm: SEC asked again"
    assert {t["key"]: t["instrument"] for t in out2} == first, "warm answers differ"


@test
def test_without_a_key_a_request_carries_10_jobs(env):
    figi = FakeServer(env, "openfigi_fake.py", "--key", KEY)
    configure(env, figi, batch_ms=5000)
    out, _ = run_stdin(env, ticker_trades(60, 25))
    st = figi.stats()
    assert sorted(st["job_counts"]) == [5, 10, 10], st["job_counts"]
    assert len(out) == 60


@test
def test_a_413_lowers_the_jobs_per_request_and_loses_nothing(env):
    figi = FakeServer(env, "openfigi_fake.py")
    # Misconfigured: 100 jobs per request without a key.
    configure(env, figi, batch_ms=5000, jobs_per_request=100)
    out, err = run_stdin(env, ticker_trades(40, 40))
    st = figi.stats()
    assert st["statuses"].get("413") == 1, st
    assert st["job_counts"] == [10, 10, 10, 10], st["job_counts"]
    assert len(out) == 40
    assert "sending at most 10 per request" in err, err[-2000:]


@test
def test_a_400_costs_only_the_job_at_fault(env):
    figi = FakeServer(env, "openfigi_fake.py", "--key", KEY)
    configure(env, figi, batch_ms=5000, rate_requests=1000, rate_burst=100)
    records = ticker_trades(40, 40)
    records.insert(17, trade(999, ticker="BADREQ"))
    out, err = run_stdin(env, records, key=KEY)
    assert sorted(keys_of(out)) == sorted(keys_of(records[:17] + records[18:]))
    assert "dropped test:00000999: OpenFIGI's answer for ticker BADREQ is unusable: HTTP 400" \
        in err, err[-2000:]
    st = figi.stats()
    assert st["statuses"].get("400", 0) >= 2, st["statuses"]


REFUSED = {
    "BADREQ7": "OpenFIGI's answer for ticker BADREQ7 is unusable: HTTP 400 "
               "(\"Request body is invalid: idValue not accepted.\")",
    "BADANS7": "OpenFIGI's answer for ticker BADANS7 is unusable: unusable answer to 1 jobs: "
               "answer has 0 elements for 1 jobs",
}


def refused_records():
    """20 good trades and one for each job the fake refuses (400, short 200)."""
    records = ticker_trades(20, 20)
    records.insert(5, trade(900, ticker="BADREQ7"))
    records.insert(15, trade(901, ticker="BADANS7"))
    return records


def check_refused_drops(drops, records):
    by_ticker = {r["ticker"]: r["key"] for r in records}
    got = {d["key"]: d["reason"] for d in drops}
    for ticker, reason in REFUSED.items():
        assert got.get(by_ticker[ticker]) == reason, (ticker, got.get(by_ticker[ticker]))


@test
def test_a_job_refused_alone_is_remembered_with_its_reason(env):
    """The scraper sends every trade of its window again each cycle: a job
    OpenFIGI refused alone (a 400, or a 200 not aligned with the jobs) is
    dropped with the reason, and so are its repeats, at once, without the
    split-and-ask dance again, also after a restart on the same state_dir."""
    figi = FakeServer(env, "openfigi_fake.py", "--key", KEY)
    configure(env, figi, batch_ms=200, rate_requests=1000, rate_burst=100)
    records = refused_records()
    good = [r for r in records if r["ticker"] not in REFUSED]
    out_path, drops_path = env.path("out.jsonl"), env.path("drops.jsonl")
    ma = env.start("mapper", "--in", "ipc://mapper.in", "--out", "-", "--tap", "ipc://mapper.tap",
                   stdout=open(out_path, "w"), env={"COATTAIL_OPENFIGI_KEY": KEY})
    tap = start_tap(env, "ipc://mapper.tap", "drop", drops_path)
    inj = inject(env, "ipc://mapper.in", records)
    env.wait_for(lambda: count_lines(out_path) >= len(good) and count_lines(drops_path) >= 2,
                 15, "first cycle: good trades out, refused ones dropped")
    time.sleep(0.3)
    first = figi.stats()
    assert first["statuses"].get("400", 0) >= 2, first["statuses"]  # split, then alone
    check_refused_drops(read_jsonl(drops_path), records)
    inj.wait(30 * SLOW)

    # The next scrape cycle: the same trades; the cache answers them all.
    inj2 = inject(env, "ipc://mapper.in", records)
    env.wait_for(lambda: count_lines(out_path) >= 2 * len(good) and
                 count_lines(drops_path) >= 4, 15, "second cycle")
    time.sleep(0.5)
    drops = read_jsonl(drops_path)
    assert len(drops) == 4, drops
    check_refused_drops(drops[2:], records)
    assert figi.stats()["requests"] == first["requests"], \
        "repeats cost %d requests" % (figi.stats()["requests"] - first["requests"])
    log = ma.log()
    assert "refused alone" in log and "for 3600 s without asking again" in log, log[-2000:]
    ma.signal(signal.SIGTERM)
    assert ma.wait(10 * SLOW) == 0
    inj2.wait(30 * SLOW)
    tap.kill()
    tap.wait()

    # Restarted on the same state_dir: the refusals are still known.
    out, err = run_stdin(env, records, key=KEY)
    assert sorted(keys_of(out)) == sorted(keys_of(good))
    for ticker, reason in REFUSED.items():
        key = [r["key"] for r in records if r["ticker"] == ticker][0]
        assert "dropped %s: %s" % (key, reason) in err, err[-2000:]
    assert figi.stats()["requests"] == first["requests"], "asked again after a restart"


@test
def test_a_refusal_is_asked_again_with_ttl_0_and_once_it_expires(env):
    figi = FakeServer(env, "openfigi_fake.py", "--key", KEY)
    records = [trade(900, ticker="BADREQ7")]
    want = "dropped %s: %s" % (records[0]["key"], REFUSED["BADREQ7"])
    # 0: never reused; every run asks (one request: the job is alone).
    configure(env, figi, batch_ms=50, cache_refused_ttl_s=0)
    for i in (1, 2):
        out, err = run_stdin(env, records, key=KEY)
        assert out == [] and want in err, err[-2000:]
        assert figi.stats()["requests"] == i, figi.stats()
    # 3 s: reused within it, asked again after it.
    configure(env, figi, batch_ms=50, cache_refused_ttl_s=3)
    out, err = run_stdin(env, records, key=KEY)
    assert out == [] and want in err and figi.stats()["requests"] == 3, err[-2000:]
    out, err = run_stdin(env, records, key=KEY)
    assert out == [] and want in err and figi.stats()["requests"] == 3, err[-2000:]
    time.sleep(3.2)
    out, err = run_stdin(env, records, key=KEY)
    assert out == [] and want in err and figi.stats()["requests"] == 4, err[-2000:]


@test
def test_429_backs_off_and_every_trade_comes_through(env):
    # The server allows 2 requests per 2 s; the mapper believes 25 per 6 s.
    figi = FakeServer(env, "openfigi_fake.py", "--key", KEY, "--rate-limit", "2",
                      "--window-key", "2")
    configure(env, figi, batch_ms=5000, retry_max_ms=3000)
    records = ticker_trades(500, 500)
    t0 = time.monotonic()
    out, err = run_stdin(env, records, key=KEY)
    st = figi.stats()
    assert st["statuses"].get("429", 0) >= 1, st["statuses"]
    assert st["statuses"].get("200") == 5, st["statuses"]
    assert sorted(keys_of(out)) == sorted(keys_of(records))
    assert "HTTP 429" in err
    # 5 requests at 2 per 2 s cannot finish in less than two windows.
    assert time.monotonic() - t0 >= 3.5


@test
def test_an_outage_loses_no_trade(env):
    figi = FakeServer(env, "openfigi_fake.py", "--key", KEY)
    configure(env, figi, batch_ms=200, retry_min_ms=200, retry_max_ms=500,
              request_timeout_ms=1000)
    out_path, drops_path = env.path("out.jsonl"), env.path("drops.jsonl")
    ma = env.start("mapper", "--in", "ipc://mapper.in", "--out", "-", "--tap", "ipc://mapper.tap",
                   stdout=open(out_path, "w"), env={"COATTAIL_OPENFIGI_KEY": KEY})
    tap = start_tap(env, "ipc://mapper.tap", "drop", drops_path)
    figi.stop()  # connection refused
    records = ticker_trades(300, 80)
    inj = inject(env, "ipc://mapper.in", records)
    time.sleep(2.5)
    # The scraper's next cycle sends the same trades again meanwhile.
    inj2 = inject(env, "ipc://mapper.in", records)
    figi.start()  # same port
    figi.control(mode="503")
    time.sleep(2)
    figi.control(mode="close")  # connections dropped unanswered
    time.sleep(2)
    figi.control(mode="slow", delay_ms=2500)  # slower than the 1 s timeout
    time.sleep(2.5)
    assert count_lines(out_path) == 0, "records emitted during the outage"
    assert count_lines(drops_path) == 0, "records dropped for an outage"
    assert ma.alive()
    st = figi.stats()
    assert st["statuses"].get("503", 0) >= 2 and st["statuses"].get("close", 0) >= 2, st
    figi.control(mode="ok")
    env.wait_for(lambda: count_lines(out_path) >= len(records), 20, "every trade after the outage")
    time.sleep(0.5)
    got = keys_of(read_jsonl(out_path))
    assert sorted(got) == sorted(keys_of(records)), \
        "%d out, %d distinct, want %d once each" % (len(got), len(set(got)), len(records))
    assert count_lines(drops_path) == 0
    log = ma.log()
    assert "trades kept, retrying" in log, log[-2000:]
    assert "answering again after" in log, log[-2000:]
    ma.signal(signal.SIGTERM)
    assert ma.wait(10 * SLOW) == 0
    for p in (inj, inj2):
        p.wait(30 * SLOW)
    tap.kill()
    tap.wait()


@test
def test_past_max_pending_the_mapper_stops_reading(env):
    figi = FakeServer(env, "openfigi_fake.py", "--key", KEY, "--mode", "503")
    configure(env, figi, max_pending=50, retry_min_ms=100, retry_max_ms=300,
              rate_requests=1000, rate_burst=100)
    out_path, stats_path = env.path("out.jsonl"), env.path("stats.jsonl")
    ma = env.start("mapper", "--in", "ipc://mapper.in", "--out", "-", "--tap", "ipc://mapper.tap",
                   stdout=open(out_path, "w"), env={"COATTAIL_OPENFIGI_KEY": KEY})
    tap = start_tap(env, "ipc://mapper.tap", "stats", stats_path)
    records = ticker_trades(1000, 1000)
    inj = inject(env, "ipc://mapper.in", records)
    env.wait_for(lambda: any(s["in"] >= 50 for s in read_jsonl(stats_path)), 10, "50 trades held")
    time.sleep(1.5)
    held = max(s["in"] for s in read_jsonl(stats_path))
    assert held == 50, "read %d trades with max_pending 50" % held
    assert count_lines(out_path) == 0
    figi.control(mode="ok")
    env.wait_for(lambda: count_lines(out_path) >= len(records), 30, "every trade")
    assert sorted(keys_of(read_jsonl(out_path))) == sorted(keys_of(records))
    ma.signal(signal.SIGTERM)
    assert ma.wait(10 * SLOW) == 0
    inj.wait(30 * SLOW)
    tap.kill()
    tap.wait()


@test
def test_two_mappers_share_one_stream(env):
    figi = FakeServer(env, "openfigi_fake.py", "--key", KEY)
    sec = FakeServer(env, "sec_fake.py")
    configure(env, figi, sec, batch_ms=200)
    src = env.path("trades.jsonl")
    records = ticker_trades(2000, 300)
    with open(src, "w") as f:
        f.write("".join(dumps(r) + "\n" for r in records))
    outs = [env.path("out1.jsonl"), env.path("out2.jsonl")]
    mappers = [env.start("mapper", "--in", "ipc://mapper%d.in" % i, "--out", "-",
                         "--tap", "ipc://mapper%d.tap" % i, stdout=open(outs[i - 1], "w"),
                         env={"COATTAIL_OPENFIGI_KEY": KEY}) for i in (1, 2)]
    # One scraper; its PUSH deals trades round-robin to both mappers.
    sc = env.start("scraper", "--file", src, "--out", "ipc://mapper1.in,ipc://mapper2.in",
                   "--tap", "")
    env.wait_for(lambda: sum(count_lines(p) for p in outs) >= len(records), 30,
                 "every trade out of one mapper or the other")
    time.sleep(0.5)
    one, two = keys_of(read_jsonl(outs[0])), keys_of(read_jsonl(outs[1]))
    assert sorted(one + two) == sorted(keys_of(records)), "each trade handled exactly once"
    assert len(one) >= len(records) // 4 and len(two) >= len(records) // 4, \
        "load not shared: %d / %d" % (len(one), len(two))
    for m in mappers:
        m.signal(signal.SIGTERM)
    for m in mappers:
        assert m.wait(10 * SLOW) == 0
    sc.wait(10 * SLOW)


@test
def test_every_dropped_trade_says_why_on_the_tap(env):
    figi = FakeServer(env, "openfigi_fake.py", "--key", KEY)
    configure(env, figi, batch_ms=200, target_venue="GY")
    out_path, drops_path = env.path("out.jsonl"), env.path("drops.jsonl")
    ma = env.start("mapper", "--in", "ipc://mapper.in", "--out", "-", "--tap", "ipc://mapper.tap",
                   stdout=open(out_path, "w"), env={"COATTAIL_OPENFIGI_KEY": KEY})
    tap = start_tap(env, "ipc://mapper.tap", "drop", drops_path)
    want_drop = {
        "NXAB": "OpenFIGI has no US listing for ticker NXAB: No identifier found.",
        "ERRX": "OpenFIGI refused ticker ERRX: Invalid idValue format.",
        "NODE1": "has no listing on GY: No identifier found.",
        "A" * 40: "ticker longer than 32 characters",
    }
    good = ["IBM", "AAPL", "T0042", "BRK.B"]
    records = [trade(i, ticker=t) for i, t in enumerate(list(want_drop) + good)]
    inj = inject(env, "ipc://mapper.in", records)
    env.wait_for(lambda: count_lines(out_path) >= len(good) and
                 count_lines(drops_path) >= len(want_drop), 15, "outputs and drops")
    time.sleep(0.3)
    drops = {d["key"]: d for d in read_jsonl(drops_path)}
    by_ticker = {r["ticker"]: r["key"] for r in records}
    assert len(drops) == len(want_drop), drops
    for ticker, reason in want_drop.items():
        d = drops.get(by_ticker[ticker])
        assert d is not None, "no drop for %s" % ticker
        assert d["stage"] == "mapper" and reason in d["reason"], d
    out = {t["ticker"]: t["instrument"] for t in read_jsonl(out_path)}
    assert sorted(out) == sorted(good), out
    assert out["AAPL"]["ticker"] == "APC" and out["AAPL"]["exch_code"] == "GY", out["AAPL"]
    assert out["AAPL"]["figi"] == "BBG000DH0LL7", out["AAPL"]
    assert out["IBM"]["figi"] == "BBG000K23L39", out["IBM"]
    assert out["BRK.B"]["ticker"] == "BRKBG", out["BRK.B"]  # asked for as BRK/B
    ma.signal(signal.SIGTERM)
    assert ma.wait(10 * SLOW) == 0
    inj.wait(30 * SLOW)
    tap.kill()
    tap.wait()


@test
def test_a_refused_key_keeps_trades_until_the_key_is_fixed(env):
    figi = FakeServer(env, "openfigi_fake.py", "--key", "the-right-key")
    configure(env, figi, batch_ms=100, retry_min_ms=100, retry_max_ms=500)
    out_path = env.path("out.jsonl")
    ma = env.start("mapper", "--in", "ipc://mapper.in", "--out", "-", "--tap", "",
                   stdout=open(out_path, "w"), env={"COATTAIL_OPENFIGI_KEY": KEY})
    records = ticker_trades(20, 20)
    inj = inject(env, "ipc://mapper.in", records)
    env.wait_for(lambda: figi.stats()["statuses"].get("401", 0) >= 3, 10, "three 401s")
    assert count_lines(out_path) == 0
    # The operator fixes the key at OpenFIGI's end (here: the fake's).
    figi.control(key=KEY)
    env.wait_for(lambda: count_lines(out_path) >= len(records), 10, "every trade")
    log = ma.log()
    assert "the API key was refused" in log and "mapper.openfigi_key" in log, log[-2000:]
    assert KEY not in log, "the key appears in the log"
    ma.signal(signal.SIGTERM)
    assert ma.wait(10 * SLOW) == 0
    inj.wait(30 * SLOW)


@test
def test_end_of_stdin_waits_out_failures_before_exiting(env):
    figi = FakeServer(env, "openfigi_fake.py", "--key", KEY)
    figi.control(fail=[503, "close", 500, 503])
    configure(env, figi, batch_ms=100, retry_min_ms=100, retry_max_ms=400)
    records = ticker_trades(30, 12)
    out, err = run_stdin(env, records, key=KEY)
    assert sorted(keys_of(out)) == sorted(keys_of(records))
    st = figi.stats()["statuses"]
    assert st.get("200") == 1 and st.get("503") == 2 and st.get("500") == 1, st
    assert st.get("close") == 1, st


@test
def test_sec_down_leaves_market_cap_null_and_costs_nothing(env):
    figi = FakeServer(env, "openfigi_fake.py", "--key", KEY)
    sec = FakeServer(env, "sec_fake.py", "--mode", "503")
    configure(env, figi, sec, batch_ms=100, retry_max_ms=10000)
    records = ticker_trades(20, 5)
    out, err = run_stdin(env, records, key=KEY)
    assert len(out) == 20
    for t in out:
        assert t["instrument"]["figi"] is not None
        assert t["instrument"]["shares_outstanding"] is None
        assert t["instrument"]["market_cap"] is None
    assert sec.stats()["requests"] == 1, "SEC asked again while it was failing"
    assert "market caps stay null" in err


@test
def test_sigterm_during_a_slow_answer_exits_promptly(env):
    figi = FakeServer(env, "openfigi_fake.py", "--key", KEY, "--mode", "slow",
                      "--delay-ms", "20000")
    configure(env, figi, batch_ms=50, request_timeout_ms=30000)
    ma = env.start("mapper", "--in", "ipc://mapper.in", "--out", "-", "--tap", "",
                   env={"COATTAIL_OPENFIGI_KEY": KEY})
    inj = inject(env, "ipc://mapper.in", ticker_trades(5, 5))
    env.wait_for(lambda: figi.stats()["requests"] >= 1, 10, "a request in flight")
    time.sleep(0.3)
    t0 = time.monotonic()
    ma.signal(signal.SIGTERM)
    assert ma.wait(10 * SLOW) == 0
    assert time.monotonic() - t0 < 3 * SLOW, "took %.1fs" % (time.monotonic() - t0)
    assert "not resolved at exit" in ma.log()
    inj.kill()
    inj.wait()


run_tests()
