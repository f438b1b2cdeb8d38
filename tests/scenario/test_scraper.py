"""The scraper's real fetch path against a local fake of EDGAR, OpenInsider
and FinViz (tests/fakes/sources_fake.py serving tests/fixtures/sources/):
feed -> filings -> trades, exactly the served ones; each filing fetched
once while every cycle emits the window again; conditional requests; gzip;
the declared User-Agent; the SEC rate limit; retries with backoff after
429/503; refusals, error pages, changed layouts and a dead network said
loudly; the schedule in the loop.  Then every shared fixture through
--file."""
import json
import os
import signal
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

from harness import ROOT, SAN, SLOW, Skip, binary, dumps, run_tests, test, trade

sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fakeserver import FakeServer  # noqa: E402

FIX = os.path.join(ROOT, "tests", "fixtures", "sources")
NOW = "2026-04-25T02:00:00Z"  # Friday 22:00 EDT, the evening of the filings
SEC_UA = "coattail tests admin@example.com"
DOCS = ["/Archives/edgar/data/1111111/000111111126000101/0001111111-26-000101.txt",
        "/Archives/edgar/data/2222222/000222222226000007/0002222222-26-000007.txt",
        "/Archives/edgar/data/3333333/000333333326000012/0003333333-26-000012.txt",
        "/Archives/edgar/data/3333333/000333333326000012/index.json",
        "/Archives/edgar/data/3333333/000333333326000012/gmen-form4_1777057200.xml",
        "/Archives/edgar/data/4444444/000444444426000003/0004444444-26-000003.txt",
        "/Archives/edgar/data/5555555/000555555526000020/0005555555-26-000020.txt"]


def expected(source=None):
    with open(os.path.join(FIX, "expected_trades.jsonl")) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    return [r for r in recs if source is None or r["source"] == source]


def canon(recs):
    return sorted(json.dumps(r, sort_keys=True) for r in recs)


def conf_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[ %s ]" % ", ".join('"%s"' % x for x in v)
    return '"%s"' % v


def setup(env, fake=None, ua=SEC_UA, **settings):
    """Point every source at the fake (None: at a port nothing listens on);
    settings override the scraper.* values below."""
    url = fake.url if fake is not None else "http://127.0.0.1:1"
    conf = {
        "edgar_url": url, "openinsider_url": url, "finviz_url": url,
        "openinsider_enabled": True, "finviz_enabled": True,
        "edgar_feed_count": 8, "edgar_max_requests_per_s": 10.0,
        "retry_backoff_ms": 200, "retry_backoff_max_ms": 3000,
        "request_timeout_ms": 10000 * SLOW,
    }
    if ua is not None:
        conf["sec_user_agent"] = ua
    conf.update(settings)
    env.write_conf("scraper: {\n%s};" % "".join(
        "  %s = %s;\n" % (k, conf_value(v)) for k, v in conf.items()))


def once(env, *args, now=NOW):
    r = env.run("scraper", "-c", env.conf, "--once", "--out", "-", "--tap", "", "--now", now,
                *args, timeout=60)
    recs = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    return r, recs


def log_of(fake):
    return fake._call("GET", "/_log")["requests"]


def path_of(entry):
    return urlsplit(entry["path"]).path


def is_sec(entry):
    p = path_of(entry)
    return p == "/cgi-bin/browse-edgar" or p.startswith("/Archives/")


def start_of(entry):
    return int(parse_qs(urlsplit(entry["path"]).query)["start"][0])


def new_fake(env):
    return FakeServer(env, "sources_fake.py")


# ---- the fetch path ------------------------------------------------------


@test
def test_once_yields_exactly_the_trades_of_the_served_filings_and_pages(env):
    fake = new_fake(env)
    setup(env, fake)
    r, recs = once(env)
    assert r.returncode == 0, r.stderr
    assert canon(recs) == canon(expected()), \
        "trades differ from tests/fixtures/sources/expected_trades.jsonl:\n%s" % r.stdout
    keys = [t["key"] for t in recs]
    assert len(keys) == len(set(keys)), "a trade emitted twice in one cycle"
    # One line per source cycle, with its counts.
    for name in ("edgar", "openinsider", "finviz"):
        assert "%s: cycle:" % name in r.stderr, r.stderr
    assert "edgar: cycle: 2 feed pages, 5 new filings" in r.stderr, r.stderr
    log = log_of(fake)
    # The feed was paged while its filings were new: start=0, then 8 (a
    # short page: the last); filings of other forms were never fetched.
    feed = [start_of(e) for e in log if path_of(e) == "/cgi-bin/browse-edgar"]
    assert feed == [0, 8], feed
    docs = sorted(path_of(e) for e in log if path_of(e).startswith("/Archives/"))
    assert docs == sorted(DOCS), docs
    assert not any("0000070858" in e["path"] or "0000080001" in e["path"] for e in log)


@test
def test_sec_gets_the_declared_user_agent_and_gzip_others_a_browser_agent(env):
    fake = new_fake(env)
    setup(env, fake)
    r, recs = once(env)
    assert r.returncode == 0, r.stderr
    log = log_of(fake)
    sec = [e for e in log if is_sec(e)]
    others = [e for e in log if not is_sec(e)]
    assert sec and others
    for e in sec:
        assert e["ua"] == SEC_UA, e
        assert "gzip" in e["accept_encoding"], e
        assert e["status"] != 200 or e["gzip"], "SEC response not gzip-encoded: %s" % e
    for e in others:
        assert e["ua"].startswith("Mozilla/"), e
        assert "coattail" not in e["ua"] and "@" not in e["ua"], e
    # The gzip-encoded documents were decoded: their trades are all there.
    assert canon([t for t in recs if t["source"] == "edgar"]) == canon(expected("edgar"))


@test
def test_second_cycle_fetches_nothing_twice_and_emits_the_same_trades(env):
    fake = new_fake(env)
    setup(env, fake)
    r1, first = once(env)
    assert r1.returncode == 0, r1.stderr
    fake.control(reset=True)
    r2, second = once(env)
    assert r2.returncode == 0, r2.stderr
    # Every trade of the window again, with the same keys.
    assert canon(second) == canon(first) == canon(expected())
    log = log_of(fake)
    assert not [e for e in log if path_of(e).startswith("/Archives/")], \
        "a filing was downloaded twice: %s" % [e["path"] for e in log]
    feed = [e for e in log if path_of(e) == "/cgi-bin/browse-edgar"]
    assert [start_of(e) for e in feed] == [0], "paged past filings seen before"
    pages = [e for e in log if not is_sec(e)]
    assert len(pages) == 2, pages
    for e in pages:
        assert e["if_none_match"], "no conditional request: %s" % e
        assert e["status"] == 304, e
    assert "not modified" in r2.stderr


@test
def test_edgar_requests_keep_to_the_configured_rate(env):
    fake = new_fake(env)
    setup(env, fake, edgar_max_requests_per_s=4.0)
    t0 = time.monotonic()
    r, recs = once(env, "--source", "edgar")
    assert r.returncode == 0, r.stderr
    sec = sorted(e["t"] for e in log_of(fake) if is_sec(e))
    assert len(sec) == 9, len(sec)
    # A lower bound only: n requests at 4/s take at least (n-1)/4 s.
    span = sec[-1] - sec[0]
    assert span >= (len(sec) - 1) / 4.0 - 0.05, "%d requests in %.2fs" % (len(sec), span)
    for a, b in zip(sec, sec[1:]):
        assert b - a >= 0.25 - 0.02, "two requests %.3fs apart" % (b - a)
    assert time.monotonic() - t0 >= span


@test
def test_429_and_503_are_retried_with_backoff_honouring_retry_after(env):
    fake = new_fake(env)
    setup(env, fake)
    doc = DOCS[0]
    fake.control(faults={"/cgi-bin/browse-edgar": ["429:1", "503"], doc: ["503", "503"]})
    r, recs = once(env, "--source", "edgar")
    assert r.returncode == 0, r.stderr
    assert canon(recs) == canon(expected("edgar"))
    log = log_of(fake)
    feed = [e for e in log if path_of(e) == "/cgi-bin/browse-edgar"]
    assert [e["status"] for e in feed[:3]] == [429, 503, 200], feed
    assert feed[1]["t"] - feed[0]["t"] >= 1.0 - 0.05, "Retry-After: 1 not honoured"
    assert feed[2]["t"] - feed[1]["t"] >= 0.2 - 0.02, "no backoff after 503"
    tries = [e for e in log if path_of(e) == doc]
    assert [e["status"] for e in tries] == [503, 503, 200], tries
    # Exponential: the second wait is at least twice the first base.
    assert tries[1]["t"] - tries[0]["t"] >= 0.2 - 0.02
    assert tries[2]["t"] - tries[1]["t"] >= 0.4 - 0.02


@test
def test_a_filing_that_keeps_failing_is_retried_next_cycle_not_lost(env):
    fake = new_fake(env)
    setup(env, fake, http_retries=0)
    doc = DOCS[1]  # the 4/A of Beta Bio
    fake.control(faults={doc: ["503"]})
    r1, first = once(env, "--source", "edgar")
    assert r1.returncode == 1, "a failed filing must fail --once"
    assert "HTTP 503" in r1.stderr and "0002222222-26-000007" in r1.stderr, r1.stderr
    assert "0002222222-26-000007" not in r1.stdout
    r2, second = once(env, "--source", "edgar")
    assert r2.returncode == 0, r2.stderr
    assert canon(second) == canon(expected("edgar"))
    got = [e["status"] for e in log_of(fake) if path_of(e) == doc]
    assert got == [503, 200], got


@test
def test_a_backlog_is_fetched_newest_first_a_few_documents_per_cycle(env):
    fake = new_fake(env)
    setup(env, fake, edgar_max_documents=2)
    want = {t["key"]: t for t in expected("edgar")}
    seen = []
    for cycle, accs in enumerate([["0001111111-26-000101", "0002222222-26-000007"],
                                  ["0003333333-26-000012", "0004444444-26-000003"],
                                  ["0005555555-26-000020"]]):
        r, recs = once(env, "--source", "edgar")
        assert r.returncode == 0, r.stderr
        assert ("more left for the next cycle" in r.stderr) == (cycle < 2), r.stderr
        keys = {t["key"] for t in recs}
        seen += accs
        assert keys == {k for k in want if want[k]["accession"] in seen}, (cycle, keys)
    docs = [path_of(e) for e in log_of(fake) if path_of(e).startswith("/Archives/")]
    assert sorted(docs) == sorted(DOCS), docs


# ---- refusals and errors, said loudly --------------------------------------


@test
def test_edgar_refuses_to_start_without_a_declared_user_agent(env):
    fake = new_fake(env)
    setup(env, fake, ua=None)
    r, recs = once(env)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "sec_user_agent is not set" in r.stderr, r.stderr
    setup(env, fake, ua="Mozilla/5.0 (X11; Linux x86_64) admin@example.com")
    r, recs = once(env)
    assert r.returncode == 2 and "imitates a browser" in r.stderr, r.stderr
    setup(env, fake, ua="coattail")
    r, recs = once(env)
    assert r.returncode == 2 and "no contact e-mail" in r.stderr, r.stderr
    assert log_of(fake) == [], "fetched without a declared User-Agent"
    # The other sources need none: without edgar they run.
    setup(env, fake, ua=None, edgar_enabled=False)
    r, recs = once(env)
    assert r.returncode == 0, r.stderr
    assert {t["source"] for t in recs} == {"openinsider", "finviz"}


@test
def test_sec_refusal_403_is_an_error_naming_the_user_agent(env):
    fake = new_fake(env)
    setup(env, fake)
    fake.control(sticky={"/cgi-bin/browse-edgar": "403"})
    r, recs = once(env, "--source", "edgar")
    assert r.returncode == 1
    assert "HTTP 403" in r.stderr and "sec_user_agent" in r.stderr, r.stderr
    assert recs == []
    # A refusal ends the cycle: no filing is asked for behind it.
    assert [e for e in log_of(fake) if path_of(e).startswith("/Archives/")] == []
    fake.control(sticky={"/cgi-bin/browse-edgar": "403-rate"})
    r, recs = once(env, "--source", "edgar")
    assert r.returncode == 1 and "rate threshold" in r.stderr, r.stderr


@test
def test_html_error_page_where_atom_was_expected_is_an_error(env):
    fake = new_fake(env)
    setup(env, fake)
    fake.control(sticky={"/cgi-bin/browse-edgar": "html200"})
    r, recs = once(env, "--source", "edgar")
    assert r.returncode == 1, r.stderr
    assert "expected an Atom feed" in r.stderr and "File Unavailable" in r.stderr, r.stderr
    assert recs == []
    fake.control(sticky={"/cgi-bin/browse-edgar": "503"})
    r, recs = once(env, "--source", "edgar")
    assert r.returncode == 1 and "HTTP 503" in r.stderr, r.stderr


@test
def test_finviz_without_a_browser_agent_is_blocked_not_empty(env):
    fake = new_fake(env)
    setup(env, fake, browser_user_agent="coattail-test")
    r, recs = once(env, "--source", "finviz")
    assert r.returncode == 1
    assert "finviz: blocked" in r.stderr and "challenge" in r.stderr, r.stderr
    assert recs == []
    # A challenge served with 200 is blocked too.
    setup(env, fake)
    fake.control(faults={"/insidertrading.ashx": ["html200"]})
    r, recs = once(env, "--source", "finviz")
    assert r.returncode == 1, r.stderr


@test
def test_a_page_whose_layout_changed_fails_loudly(env):
    fake = new_fake(env)
    setup(env, fake, openinsider_pages=["/changed-layout"])
    r, recs = once(env, "--source", "openinsider")
    assert r.returncode == 1
    assert "openinsider:" in r.stderr and "Trade Type" in r.stderr \
        and "/changed-layout" in r.stderr, r.stderr
    assert "0 rows" in r.stderr
    assert recs == []


@test
def test_an_unreachable_network_is_said_once_per_source_and_cycle(env):
    # Nothing listens on port 1.
    setup(env, None, http_retries=1, retry_backoff_ms=50)
    r, recs = once(env)
    assert r.returncode == 1
    lines = [line for line in r.stderr.splitlines() if "network:" in line]
    assert len(lines) == 3, lines
    for name in ("edgar", "openinsider", "finviz"):
        assert sum(1 for line in lines if "%s: network:" % name in line) == 1, lines
    assert "retrying next cycle" in r.stderr


# ---- the schedule, in the loop ---------------------------------------------


@test
def test_the_loop_runs_cycles_and_emits_the_window_each_time_until_sigterm(env):
    fake = new_fake(env)
    setup(env, fake, edgar_interval_s=1)
    out = env.path("out.jsonl")
    # Friday 17:05 EDT: a trading day, inside the window.
    sc = env.start("scraper", "--source", "edgar", "--out", "-", "--tap", "",
                   "--now", "2026-04-24T21:05:00Z", stdout=open(out, "w"))
    want = len(expected("edgar"))

    def lines():
        with open(out) as f:
            return [json.loads(x) for x in f.read().splitlines() if x.strip()]

    env.wait_for(lambda: len(lines()) >= 3 * want, 30, "three cycles of trades")
    sc.signal(signal.SIGTERM)
    assert sc.wait(10 * SLOW) == 0, sc.log()
    got = lines()
    assert canon(got[:want]) == canon(expected("edgar"))
    assert canon(got[want:2 * want]) == canon(expected("edgar")), "not re-emitted"
    log = log_of(fake)
    docs = [path_of(e) for e in log if path_of(e).startswith("/Archives/")]
    assert sorted(docs) == sorted(DOCS), "documents fetched more than once: %s" % docs
    assert sum(1 for e in log if path_of(e) == "/cgi-bin/browse-edgar") >= 3


@test
def test_the_loop_waits_for_the_next_trading_day(env):
    fake = new_fake(env)
    setup(env, fake, edgar_interval_s=1)
    # Saturday noon EDT: nothing until Monday 06:00 EDT (10:00Z).
    sc = env.start("scraper", "--source", "edgar", "--out", "-", "--tap", "",
                   "--now", "2026-04-25T16:00:00Z")
    env.wait_for(lambda: "next cycle at" in sc.log(), 10, "the next cycle to be announced")
    time.sleep(1.0)
    assert log_of(fake) == [], "fetched on a Saturday"
    assert "next cycle at 2026-04-27T10:00:00Z" in sc.log(), sc.log()
    sc.signal(signal.SIGTERM)
    assert sc.wait(10 * SLOW) == 0


# ---- saved documents ---------------------------------------------------------


def shared():
    d = os.environ.get("COATTAIL_SHARED_FIXTURES",
                       os.path.join(os.path.dirname(ROOT), "shared", "fixtures"))
    if not os.path.isdir(d):
        raise Skip("%s absent: the shared fixtures are not tested" % d)
    return d


def run_file(env, *paths, now=None):
    args = ["-c", env.conf, "--out", "-", "--tap", ""] + (["--now", now] if now else [])
    r = env.run("scraper", *args, "--file", *paths, timeout=60)
    return r, [json.loads(x) for x in r.stdout.splitlines() if x.strip()]


@test
def test_every_shared_fixture_parses_or_fails_clearly(env):
    d = shared()
    files = []
    for sub in ("form4", "edgar_sgml", "openinsider", "finviz"):
        for name in sorted(os.listdir(os.path.join(d, sub))):
            files.append(os.path.join(d, sub, name))
    assert files
    total = 0
    for f in files:
        name = os.path.basename(f)
        r, recs = run_file(env, f)
        if name == "cluster_buys.html":
            assert r.returncode == 1 and "cluster" in r.stderr, (name, r.stderr)
            assert recs == []
        elif name.startswith("blocked_"):
            assert r.returncode == 1 and "blocked" in r.stderr, (name, r.stderr)
            assert recs == []
        elif "derivative_only" in name:
            # Only derivative rows: no trade, and the log says why.
            assert r.returncode == 0, (name, r.stderr)
            assert recs == [] and "derivative" in r.stderr, (name, r.stderr)
        else:
            assert r.returncode == 0, (name, r.stderr)
            assert recs, "%s: no trades" % name
            for t in recs:
                assert t["type"] == "trade" and t["key"] and t["ticker"], (name, t)
            assert len({t["key"] for t in recs}) == len(recs), "%s: keys repeat" % name
        total += len(recs)
    assert total > 300, total
    # Many files in one process, for backfills.
    good = [f for f in files if "cluster" not in f and "blocked" not in f]
    r, recs = run_file(env, *good)
    assert r.returncode == 0, r.stderr
    assert len(recs) == total


@test
def test_an_atom_feed_file_lists_its_filings_and_yields_no_trades(env):
    d = shared()
    r, recs = run_file(env, os.path.join(d, "edgar_atom", "getcurrent_type4_start0.atom.xml"))
    assert r.returncode == 0, r.stderr
    assert recs == []
    assert "Atom feed: 46 Form 4 filings" in r.stderr and "0002063236-25-000004" in r.stderr, \
        r.stderr
    r, recs = run_file(env, os.path.join(d, "edgar_atom", "getcurrent_503_after_start5100.html"),
                       "--source", "edgar")
    assert r.returncode == 1, r.stderr


@test
def test_own_fixtures_through_file_give_the_same_trades_as_fetched(env):
    # --file reads what the fetch path reads; only what the feed adds
    # (the index URL, and the accession of a bare XML) differs.
    want = {t["key"]: t for t in expected()}
    paths = [os.path.join(FIX, "edgar", p.lstrip("/"))
             for p in DOCS if p.endswith(".txt") and "3333333" not in p]
    paths += [os.path.join(FIX, "openinsider", "latest-insider-trading.html"),
              os.path.join(FIX, "finviz", "insidertrading.html")]
    r, recs = run_file(env, *paths, now=NOW)
    assert r.returncode == 0, r.stderr
    assert len(recs) == len(want) - 2  # Gamma's two trades come via index.json
    for t in recs:
        w = dict(want[t["key"]])
        if t["source"] == "edgar":
            w["url"] = None
        assert t == w, (t, w)


@test
def test_a_json_lines_file_replays_its_trades_and_drops_its_bad_lines(env):
    # Lines across the reader's 256 KiB blocks, one longer than a block, a
    # CRLF, blank lines, a last line without its newline; a bad line costs
    # that line alone, and the log says which and why.
    bulk = [trade(i) for i in range(10, 2010)]
    reordered = dict(reversed(list(trade(4).items())))  # not canonical: encoded again
    lines = [dumps(trade(1)), "", dumps(trade(2)) + "\r", "\r\r", '{"type":"trade","v":1,',
             dumps({"type": "stats", "v": 1, "stage": "x", "in": 1, "out": 1, "dropped": 0,
                    "errors": 0}),
             " " * 300000 + dumps(trade(3)), dumps(reordered), '{"type":"trade"\x00}']
    lines += [dumps(t) for t in bulk] + [dumps(trade(99))]
    path = env.path("replay.jsonl")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    r, recs = run_file(env, path)
    assert r.returncode == 0, r.stderr
    want = [trade(1), trade(2), trade(4)] + bulk + [trade(99)]
    assert recs == [json.loads(dumps(t)) for t in want]
    assert r.stdout.count("\n") == len(want)
    for frag in ("replay.jsonl:5: json: ", "replay.jsonl:6: a stats record, not a trade",
                 "replay.jsonl:7: json: line of %d bytes, more than 131072" % len(lines[6].encode()),
                 "replay.jsonl:9: json: "):
        assert frag in r.stderr, (frag, r.stderr)
    assert r.stderr.count("dropped") == 4, r.stderr


# Starts a command and prints its exit code and peak RSS (wait4).  Run in a
# fresh interpreter: a child's ru_maxrss counts the process it was forked
# from, and this test process is far larger than a new one.
RUSAGE = ("import os, subprocess, sys\n"
          "with open(sys.argv[1], 'w') as fo, open(sys.argv[2], 'w') as fe:\n"
          "    p = subprocess.Popen(sys.argv[3:], stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)\n"
          "    _, st, ru = os.wait4(p.pid, 0)\n"
          "print(os.waitstatus_to_exitcode(st), ru.ru_maxrss)\n")


def run_file_rusage(env, path):
    """The scraper on one --file: its records, its log and its peak RSS (kB)."""
    o, e = env.path("ru.out"), env.path("ru.err")
    r = subprocess.run([sys.executable, "-c", RUSAGE, o, e, binary("scraper"), "-c", env.conf,
                        "--out", "-", "--tap", "", "--file", path],
                       capture_output=True, text=True, env=env.env(), timeout=60 * SLOW)
    code, kb = (int(x) for x in r.stdout.split())
    out, err = open(o).read(), open(e).read()
    assert code == 0, err
    return [json.loads(x) for x in out.splitlines() if x.strip()], err, kb


@test
def test_a_line_of_megabytes_costs_that_line_not_the_memory(env):
    # A --file line longer than the reader's block is counted and refused
    # without being held: 24 MB of one line, CRs before its newline, then a
    # good trade.  The peak RSS is that of the same run over a small file,
    # give or take a few MB (holding the line would add 24 MB or more).
    small, huge = env.path("small.jsonl"), env.path("huge.jsonl")
    size = 24 * 1024 * 1024
    with open(small, "w") as f:
        f.write(dumps(trade(1)) + "\n" + "y" * 1000 + "\n" + dumps(trade(2)) + "\n")
    with open(huge, "w") as f:
        f.write(dumps(trade(1)) + "\n")
        chunk = "x" * (1024 * 1024)
        for _ in range(size // len(chunk)):
            f.write(chunk)
        f.write("\r\r\n" + dumps(trade(2)) + "\n")
    want = [json.loads(dumps(t)) for t in (trade(1), trade(2))]
    recs, err, base_kb = run_file_rusage(env, small)
    assert recs == want, recs
    recs, err, huge_kb = run_file_rusage(env, huge)
    assert recs == want, recs
    assert "huge.jsonl:2: json: line of %d bytes, more than 131072" % size in err, err
    assert err.count("dropped") == 1, err
    if not SAN:  # the sanitizers' shadow memory is not ours
        assert huge_kb < base_kb + 8 * 1024, "peak RSS %d kB, %d kB for a small file" % (
            huge_kb, base_kb)
    # such a line last, without its newline, the file ending where the
    # reader's last block is full (the block after the first line's is
    # topped up, then whole blocks): still refused with its length, not lost
    with open(huge, "w") as f:
        f.write(dumps(trade(1)) + "\n" + "x" * (4 * 256 * 1024))
    recs, err, _ = run_file_rusage(env, huge)
    assert recs == want[:1], recs
    assert "huge.jsonl:2: json: line of %d bytes, more than 131072" % (4 * 256 * 1024) in err, err


if __name__ == "__main__":
    run_tests()
