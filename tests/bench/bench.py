#!/usr/bin/env python3
"""coattail's benchmarks (`make bench`): parsing, the original Python
method, pipeline throughput, latency, memory and OpenFIGI economy.

Everything runs offline from the project's own fixtures (tests/fixtures/)
and fakes (tests/fakes/); ../shared/fixtures beside the checkout (real
EDGAR Form 4s) is read when present.  Prints a summary table and writes
BENCHMARKS.json (the figures) and the results section of BENCHMARKS.md.
Speed is never a test.

    python3 tests/bench/bench.py [--trades N] [--only parse,original,pipeline,latency]
                                 [--no-write] [--smoke] [--json PATH]

--smoke builds nothing and measures nothing worth keeping: a few documents
and a few thousand trades, to check that the helpers still run (~10-20 s);
tests/scenario/test_bench.py runs it in `make test`.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
from fakeserver import FakeServer  # noqa: E402

BIN = os.environ.get("COATTAIL_BIN", os.path.join(ROOT, "bin"))
HELPERS = os.environ.get("COATTAIL_BENCH_BIN", os.path.join(ROOT, "build", "rel", "bench"))
FIX = os.path.join(ROOT, "tests", "fixtures")
SHARED = os.environ.get("COATTAIL_SHARED_FIXTURES",
                        os.path.join(os.path.dirname(ROOT), "shared", "fixtures"))
DEBIAN_PY = "/usr/bin/python3"  # Debian's interpreter, with python3-bs4 and python3-pandas
NOW = "2026-04-24T22:00:00Z"
FIGI_KEY = "bench-figi-key"
TICKERS = 1000  # unique tickers of the pipeline run (all in the warm cache)
CLK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def binary(name):
    return os.path.join(BIN, "coattail-" + name)


def helper(name):
    return os.path.join(HELPERS, name)


class Work:
    """A private directory: config, run/ and state/, the fakes' logs."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="coattail-bench-")
        self.run_dir = self.path("run")
        self.state_dir = self.path("state")
        os.makedirs(self.run_dir)
        os.makedirs(self.state_dir)
        self.conf = self.path("coattail.conf")
        self.procs = []

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def write_conf(self, text):
        with open(self.conf, "w") as f:
            f.write('state_dir = "%s";\nrun_dir = "%s";\n%s\n' % (self.state_dir, self.run_dir, text))
        os.chmod(self.conf, 0o600)

    def env(self, extra=None):
        e = dict(os.environ)
        e["COATTAIL_CONF"] = self.conf
        e.update(extra or {})
        return e

    def start(self, argv, stdout=None, env=None, name=None):
        logf = open(self.path("%s.%d.log" % (name or os.path.basename(argv[0]), len(self.procs))), "w")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=stdout if stdout is not None else subprocess.DEVNULL,
                             stderr=logf, env=self.env(env), cwd=ROOT)
        p.log_path = logf.name
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            p = getattr(p, "p", p)  # FakeServer's processes are wrapped
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- documents ------------------------------------------------------------

def _rows(html, pattern):
    return re.findall(pattern, html, re.S)


def make_openinsider(n, rows_per_page, outdir):
    """Pages of rows_per_page rows, built from the rows of the project's
    listing17.html fixture (cycled, each row's form4 link made unique)."""
    src = open(os.path.join(FIX, "openinsider", "listing17.html"), encoding="utf-8", errors="surrogateescape").read()
    at = src.index("<tbody>", src.index('class="tinytable"'))
    head, rest = src[:at], src[at + len("<tbody>"):]
    body, tail = rest.split("</tbody>", 1)
    rows = _rows(body, r"<tr style.*?</tr>")
    paths = []
    for d in range(n):
        out = []
        for k in range(rows_per_page):
            r = rows[k % len(rows)]
            out.append(re.sub(r"(\d{18})/", lambda m: "%018d/" % (int(m.group(1)) + d * 1000 + k), r, 1))
        p = os.path.join(outdir, "oi%05d.html" % d)
        with open(p, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(head + "<tbody>\n" + "\n".join(out) + "\n</tbody>" + tail)
        paths.append(p)
    return paths


def make_finviz(n, rows_per_page, outdir):
    """Pages built from the rows of the project's finviz/insider2026.html."""
    src = open(os.path.join(FIX, "finviz", "insider2026.html"), encoding="utf-8", errors="surrogateescape").read()
    rows = _rows(src, r'<tr class="fv-insider-row.*?</tr>')
    first = src.index(rows[0])
    last = src.index(rows[-1]) + len(rows[-1])
    head, tail = src[:first], src[last:]
    paths = []
    for d in range(n):
        out = [rows[k % len(rows)] for k in range(rows_per_page)]
        p = os.path.join(outdir, "fv%05d.html" % d)
        with open(p, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(head + "\n".join(out) + tail)
        paths.append(p)
    return paths


def make_form4(n, outdir, srcs):
    """n Form 4 files cycling over srcs, each named by its own accession."""
    os.makedirs(outdir, exist_ok=True)
    texts = [open(s, "rb").read() for s in srcs]
    paths = []
    for d in range(n):
        p = os.path.join(outdir, "0009%06d-26-%06d.xml" % (d // 1000, d))
        with open(p, "wb") as f:
            f.write(texts[d % len(texts)])
        paths.append(p)
    return paths


# ---- 1 and 2: parsing -----------------------------------------------------

def run_scraper_files(work, files):
    """coattail-scraper --file over files in one process: (seconds, trades).
    Its JSON lines go to a file, not to a pipe this process reads: reading
    ~20 MB from a pipe here competed with the scraper for the two cores
    and was counted in its time, while the floor prints one line."""
    out = work.path("scrape.out")
    t0 = time.monotonic()
    with open(out, "wb") as f:
        r = subprocess.run([binary("scraper"), "-c", work.conf, "--out", "-", "--tap", "", "--file"] + files,
                           stdout=f, stderr=subprocess.PIPE, cwd=ROOT)
    dt = time.monotonic() - t0
    with open(out, "rb") as f:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    os.unlink(out)
    if r.returncode not in (0, 1) or rows == 0:
        raise RuntimeError("scraper --file failed: %s" % r.stderr[-2000:].decode(errors="replace"))
    return dt, rows


def run_floor(kind, files):
    t0 = time.monotonic()
    r = subprocess.run([helper("bench_parse"), kind] + files, capture_output=True, text=True)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError("bench_parse: %s %s" % (r.stdout, r.stderr))
    return dt


def run_original(kind, files):
    """The loop inside one Python process: (loop seconds, rows)."""
    r = subprocess.run([DEBIAN_PY, os.path.join(HERE, "original.py"), kind] + files,
                       capture_output=True, text=True)
    m = re.search(r"docs (\d+) rows (\d+) seconds ([\d.]+)", r.stdout)
    if r.returncode != 0 or not m:
        raise RuntimeError("original.py: %s" % r.stderr[-2000:])
    return float(m.group(3)), int(m.group(2))


def whole_run(argv, reps):
    """Median wall time of reps runs of argv (a process on one document)."""
    times = []
    for _ in range(reps):
        t0 = time.monotonic()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.monotonic() - t0)
    times.sort()
    return times[len(times) // 2]


PARSE_ROUNDS = 5  # scraper and floor runs per document set (medians kept)


def bench_parse(work, smoke, with_original):
    docs = work.path("docs")
    os.makedirs(docs)
    work.write_conf('log_level = "warn";')
    n_page = 20 if smoke else 500
    n_f4 = 40 if smoke else 2000
    n_py = 5 if smoke else 30
    sets = [
        ("Form 4 XML (project fixtures)", "form4", "xml",
         make_form4(n_f4, os.path.join(docs, "f4"),
                    [os.path.join(FIX, "form4", x) for x in
                     ("aff10b5one_director.xml", "traps_multi_owner_4A.xml",
                      "unreferenced_plan_footnote.xml")])),
        ("OpenInsider page, 100 rows", "openinsider", "html",
         make_openinsider(n_page, 100, docs)),
        ("FinViz page, 100 rows", "finviz", "html", make_finviz(n_page, 100, docs)),
    ]
    shared_f4 = os.path.join(SHARED, "form4")
    if os.path.isdir(shared_f4):
        srcs = sorted(os.path.join(shared_f4, x) for x in os.listdir(shared_f4) if x.endswith(".xml"))
        sets.append(("Form 4 XML (real EDGAR, shared fixtures)", "form4", "xml",
                     make_form4(n_f4, os.path.join(docs, "f4s"), srcs)))
    else:
        log("bench: %s absent: the real-EDGAR Form 4 row is skipped" % shared_f4)
    out = []
    for label, kind, lx, files in sets:
        nbytes = sum(os.path.getsize(f) for f in files)
        run_scraper_files(work, files[:10])  # page cache, binary loaded
        # The two alternate, PARSE_ROUNDS times each, and each keeps its
        # median: on a shared machine one run of either can be slowed by a
        # neighbour, and alternating exposes both to the same weather.
        runs, floors, toks = [], [], []
        for _ in range(1 if smoke else PARSE_ROUNDS):
            runs.append(run_scraper_files(work, files))
            floors.append(run_floor(lx, files))
            if lx == "html":  # the pages are read without a tree: their tokenizer floor too
                toks.append(run_floor("html-sax", files))
        runs.sort()
        floors.sort()
        toks.sort()
        dt, rows = runs[len(runs) // 2]
        floor = floors[len(floors) // 2]
        tok = toks[len(toks) // 2] if toks else None
        res = {"label": label, "kind": kind, "docs": len(files), "bytes": nbytes,
               "rounds": len(runs),
               "rows": rows, "seconds": dt, "docs_per_s": len(files) / dt,
               "rows_per_s": rows / dt, "ms_per_doc": dt * 1000 / len(files),
               "floor_seconds": floor, "floor_ms_per_doc": floor * 1000 / len(files),
               "vs_floor": dt / floor,
               "tokenizer_ms_per_doc": tok * 1000 / len(files) if tok else None,
               "vs_tokenizer": dt / tok if tok else None}
        if with_original:
            pyfiles = files[:n_py]
            py_loop, py_rows = run_original(kind, pyfiles)
            c_dt, _ = run_scraper_files(work, pyfiles)
            one = files[0]
            c_whole = whole_run([binary("scraper"), "-c", work.conf, "--out", "-", "--tap", "",
                                 "--file", one], 3 if smoke else 11)
            py_whole = whole_run([DEBIAN_PY, os.path.join(HERE, "original.py"), kind, one],
                                 2 if smoke else 3)
            res.update({"py_docs": len(pyfiles), "py_rows": py_rows,
                        "py_ms_per_doc": py_loop * 1000 / len(pyfiles),
                        "speedup_per_doc": (py_loop / len(pyfiles)) / (dt / len(files)),
                        "c_whole_ms": c_whole * 1000, "py_whole_ms": py_whole * 1000,
                        "speedup_whole": py_whole / c_whole})
        out.append(res)
        log("bench: parsed %s" % label)
    return out


# ---- 3..6: the pipeline -----------------------------------------------------

TRADE_FMT = ('{"type":"trade","v":1,"key":"bench:%(i)08d","source":"edgar",'
             '"accession":"0001209191-26-%(acc)06d","url":null,"filed_at":"2026-04-24T21:35:59Z",'
             '"trade_date":"2026-04-22","ticker":"T%(t)04d","issuer":"Issuer %(t)d Inc.",'
             '"issuer_cik":"%(cik)010d","owner":"Owner %(i)d","owner_cik":"%(ocik)010d",'
             '"title":"%(title)s","roles":["%(role)s"],"code":"%(code)s","shares":%(sh)d,'
             '"price":%(px)s,"value":null,"shares_after":%(after)d,"direct":true,'
             '"planned":false,"amendment":false,"instrument":null}\n')


def trade_line(i, qualify, code=None):
    """A trade as harness.trade() writes it: a 2% purchase or sale filed at
    NOW.  qualify: a CEO's (the decider's executive_trade rule fires), else
    a Director's, which the decider declines, as most insider trades are."""
    t = i % TICKERS
    return TRADE_FMT % {"i": i, "acc": i % 1000000, "t": t, "cik": 1000 + t, "ocik": 2000000 + i,
                        "title": "CEO" if qualify else "Director",
                        "role": "officer" if qualify else "director",
                        "code": code or ("P" if i % 2 else "S"), "sh": 1000 + i % 100000,
                        "px": "%.2f" % (12.5 + (i % 100) / 100.0), "after": 50000 + i % 100000}


def write_trades(path, n):
    """n trades, one in a hundred qualifying; the last is a qualifying sale
    (its executive_trade intent marks the end of the run)."""
    with open(path, "w") as f:
        for i in range(n - 1):
            f.write(trade_line(i, i % 100 == 0))
        f.write(trade_line(n - 1, True, "S"))
    return "bench:%08d" % (n - 1)


def intent_id(key):
    import hashlib
    return hashlib.sha256(("executive_trade\nsell\n" + key).encode()).hexdigest()[:32]


def pipeline_conf(work, figi, sec):
    work.write_conf(
        'log_level = "info";\n'
        'mapper: { openfigi_url = "%s"; rate_requests = 1000; rate_burst = 100; batch_ms = 50;'
        ' sec_data_url = "%s"; sec_www_url = "%s"; sec_user_agent = "coattail-bench bench@example.com";'
        ' sec_requests_per_s = 1000.0; };\n'
        'executor: { broker = "paper"; dry_run = true; };' % (figi.url, sec.url, sec.url))


def figi_requests(figi):
    return figi.stats()["requests"]


def warm_cache(work, figi):
    """Map one trade of each ticker twice through a mapper on stdin: the
    OpenFIGI requests of the cold and of the warm pass."""
    lines = "".join(trade_line(i, True) for i in range(TICKERS))
    res = {}
    for phase in ("cold", "warm"):
        before = figi_requests(figi)
        r = subprocess.run([binary("mapper"), "-c", work.conf, "--in", "-", "--out", "-", "--tap", ""],
                           input=lines.encode(), capture_output=True, env=work.env({"COATTAIL_OPENFIGI_KEY": FIGI_KEY}),
                           timeout=120)
        mapped = r.stdout.count(b"\n")
        if r.returncode != 0 or mapped != TICKERS:
            raise RuntimeError("mapper warm-up (%s): %d of %d mapped: %s" % (
                phase, mapped, TICKERS, r.stderr[-2000:].decode(errors="replace")))
        res[phase] = figi_requests(figi) - before
    return {"tickers": TICKERS, "trades": TICKERS, "cold_requests": res["cold"],
            "warm_requests": res["warm"], "expected_cold": -(-TICKERS // 100),
            "cold_per_1000": res["cold"] * 1000.0 / TICKERS,
            "warm_per_1000": res["warm"] * 1000.0 / TICKERS}


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon"):
                    out[k] = int(v.split()[0])  # kB
    except OSError:
        pass
    return out


def proc_pss(pid):
    """Proportional set size (kB): each shared page counted as a share of
    the processes that map it, so the four stages' libzmq, libc and SQLite
    pages are not counted four times over."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_cpu(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except (OSError, IndexError, ValueError):
        return None


class Sampler(threading.Thread):
    """VmRSS of each process every period seconds."""

    def __init__(self, procs, period):
        super().__init__(daemon=True)
        self.procs, self.period = procs, period
        self.samples = {name: [] for name in procs}
        self.stop = threading.Event()

    def run(self):
        t0 = time.monotonic()
        while not self.stop.is_set():
            for name, p in self.procs.items():
                rss = proc_status(p.pid).get("VmRSS")
                if rss is not None:
                    self.samples[name].append((time.monotonic() - t0, rss))
            self.stop.wait(self.period)


def start_stages(work, out_ep, extra=()):
    """executor, decider, mapper with their default ipc endpoints; the
    executor's order events go to out_ep."""
    ex = work.start([binary("executor"), "-c", work.conf, "--out", out_ep, "--now", NOW] + list(extra),
                    name="executor")
    de = work.start([binary("decider"), "-c", work.conf, "--now", NOW], name="decider")
    ma = work.start([binary("mapper"), "-c", work.conf], env={"COATTAIL_OPENFIGI_KEY": FIGI_KEY},
                    name="mapper")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if all(os.path.exists(os.path.join(work.run_dir, s + ".in"))
               for s in ("mapper", "decider", "executor")):
            break
        time.sleep(0.02)
    return {"mapper": ma, "decider": de, "executor": ex}


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def stage_totals(p):
    try:
        text = open(p.log_path, errors="replace").read()
    except OSError:
        return None
    m = re.search(r"totals: in (\d+), out (\d+), dropped (\d+), errors (\d+)", text)
    return [int(x) for x in m.groups()] if m else None


def bench_pipeline(work, trades_path, n, last_key, timeout):
    sink_ep = "ipc://" + work.path("run", "bench.sink")
    sink = subprocess.Popen([helper("bench_relay"), "sink", sink_ep, "0", intent_id(last_key)],
                            stdout=subprocess.PIPE, text=True)
    sink.stdout.readline()  # "ready"
    stages = start_stages(work, sink_ep)
    t0 = time.monotonic()
    sc = work.start([binary("scraper"), "-c", work.conf, "--file", trades_path], name="scraper")
    procs = dict(scraper=sc, **stages)
    sampler = Sampler(procs, 0.25)
    sampler.start()
    try:
        out, _ = sink.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        sink.kill()
        sampler.stop.set()
        stop(list(procs.values()))
        raise RuntimeError("pipeline: %d trades did not cross in %ds" % (n, timeout))
    m = re.search(r"msgs (\d+) first ([\d.]+) last ([\d.]+)", out)
    t_end = float(m.group(3))
    sampler.stop.set()
    sampler.join()
    res = {"trades": n, "seconds": t_end - t0, "trades_per_s": n / (t_end - t0),
           "orders": int(m.group(1)), "stages": {}}
    # The scraper exits once it has sent everything: its CPU time comes
    # from wait4's rusage.  Not its peak: ru_maxrss keeps the RSS of the
    # Python process it was forked from, so its peak is the largest sample.
    _, status, ru = os.wait4(sc.pid, 0)
    sc.returncode = os.waitstatus_to_exitcode(status)
    sc_cpu = ru.ru_utime + ru.ru_stime
    sc_hwm = max((x[1] for x in sampler.samples["scraper"]), default=None)
    for name, p in procs.items():
        if p is sc:
            st, cpu = {"VmHWM": sc_hwm}, sc_cpu
        else:
            st, cpu = proc_status(p.pid), proc_cpu(p.pid)
            st["Pss"] = proc_pss(p.pid)
        rss = [s[1] for s in sampler.samples[name]]
        # growth: the last sample against the one at a tenth of the run
        # (after start-up and the first allocations)
        ref = rss[len(rss) // 10] if rss else None
        res["stages"][name] = {"anon_kb": st.get("RssAnon"), "pss_kb": st.get("Pss"), "cpu_s": cpu, "trades_per_cpu_s": (n / cpu) if cpu else None,
                               "hwm_kb": st.get("VmHWM", max(rss) if rss else None),
                               "rss_first_kb": rss[0] if rss else None,
                               "rss_ref_kb": ref, "rss_last_kb": rss[-1] if rss else None,
                               "rss_half_kb": rss[len(rss) // 2] if rss else None,
                               "rss_max_kb": max(rss) if rss else None, "samples": len(rss)}
    # The scraper exits when it has sent everything; its CPU and peak come
    # from its own rusage through wait4, read here from the log-free way:
    stop(list(stages.values()))
    for name, p in procs.items():
        res["stages"][name]["totals"] = stage_totals(p)
    return res


def bench_relay_floor(work, bin_path, n):
    eps = ["ipc://" + work.path("run", "relay%d" % k) for k in range(3)]
    sink = subprocess.Popen([helper("bench_relay"), "sink", eps[2]], stdout=subprocess.PIPE, text=True)
    sink.stdout.readline()
    r2 = subprocess.Popen([helper("bench_relay"), "relay", eps[1], eps[2]])
    r1 = subprocess.Popen([helper("bench_relay"), "relay", eps[0], eps[1]])
    time.sleep(0.2)
    t0 = time.monotonic()
    src = subprocess.Popen([helper("bench_relay"), "source", eps[0], bin_path], stdout=subprocess.PIPE,
                           text=True)
    start_line = src.stdout.readline()
    out, _ = sink.communicate(timeout=120)
    src.wait()
    r1.wait()
    r2.wait()
    m = re.search(r"msgs (\d+) first ([\d.]+) last ([\d.]+)", out)
    t_start = float(start_line.split()[1])
    return {"msgs": int(m.group(1)), "seconds": float(m.group(3)) - t_start,
            "seconds_with_load": float(m.group(3)) - t0,
            "msgs_per_s": int(m.group(1)) / (float(m.group(3)) - t_start)}


def bench_latency(work, figi, sec, rate, seconds, first, state_dir, every):
    """Trades paced at rate for seconds through the three stages, whose
    state (the warm cache, a fresh journal and window) is in state_dir.
    One trade in every qualifies (a CEO's sale: an intent, an order
    event); the others are Directors' sales, which the decider declines."""
    n = int(rate * seconds)
    src = work.path("lat%d.jsonl" % first)
    with open(src, "w") as f:
        for i in range(first, first + n):
            f.write(trade_line(i, (i - first) % every == 0, "S"))
    expect = len(range(0, n, every))
    binp = src + ".bin"
    subprocess.run([helper("bench_relay"), "encode", src, binp], check=True)
    shutil.rmtree(state_dir, ignore_errors=True)
    shutil.copytree(work.path("state_warm"), state_dir)
    saved = work.state_dir
    work.state_dir = state_dir
    pipeline_conf(work, figi, sec)
    work.state_dir = saved
    lat_ep = "ipc://" + work.path("run", "bench.lat%d" % first)
    stages = start_stages(work, lat_ep)
    r = subprocess.run([helper("bench_relay"), "latency", "ipc://" + work.path("run", "mapper.in"),
                        lat_ep, binp, str(rate), str(expect)], capture_output=True, text=True, timeout=seconds + 60)
    stop(list(stages.values()))
    shutil.rmtree(state_dir, ignore_errors=True)
    pipeline_conf(work, figi, sec)
    return latency_figures(r, rate, expect, every)


def bench_latency_floor(work, rate, seconds, first):
    """The latency floor: the same paced trades through three bare
    `bench_relay relay` processes (four ipc hops, as probe -> mapper ->
    decider -> executor -> probe), every message handed back unchanged
    and matched by its trade key.  What is left above this in the
    pipeline's figure is the stages' own work."""
    n = int(rate * seconds)
    src = work.path("latfloor%d.jsonl" % first)
    with open(src, "w") as f:
        for i in range(first, first + n):
            f.write(trade_line(i, False, "S"))
    binp = src + ".bin"
    subprocess.run([helper("bench_relay"), "encode", src, binp], check=True)
    eps = ["ipc://" + work.path("run", "latfloor%d.%d" % (first, k)) for k in range(4)]
    relays = [subprocess.Popen([helper("bench_relay"), "relay", eps[k], eps[k + 1]])
              for k in range(3)]
    try:
        r = subprocess.run([helper("bench_relay"), "latency", eps[0], eps[3], binp, str(rate), str(n)],
                           capture_output=True, text=True, timeout=seconds + 60)
    finally:
        stop(relays)
    return latency_figures(r, rate, n, 1)


def latency_figures(r, rate, expect, every):
    """p50/p99/max from a `bench_relay latency` run's output."""
    lines = r.stdout.splitlines()
    m = re.search(r"sent (\d+) matched (\d+) unmatched (\d+)", lines[0] if lines else "")
    if not m:
        raise RuntimeError("latency probe: %s" % r.stderr[-2000:])
    lat = sorted(float(x) for x in lines[1:])
    if not lat:
        raise RuntimeError("latency probe: nothing matched (%s)" % lines[0])

    def pct(p):
        return lat[min(len(lat) - 1, int(p * len(lat)))]
    return {"rate": rate, "sent": int(m.group(1)), "expected": expect, "every": every,
            "matched": int(m.group(2)),
            "unmatched": int(m.group(3)), "p50_us": pct(0.50), "p99_us": pct(0.99),
            "max_us": lat[-1], "mean_us": sum(lat) / len(lat)}


# ---- report -------------------------------------------------------------------

def machine():
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = [line for line in open("/proc/meminfo") if line.startswith("MemTotal")][0]
        mem_gb = int(mem.split()[1]) / 1024 / 1024
    except (OSError, IndexError):
        mem_gb = 0
    libxml = subprocess.run(["pkg-config", "--modversion", "libxml-2.0"], capture_output=True, text=True).stdout.strip()
    zmq = subprocess.run(["pkg-config", "--modversion", "libzmq"], capture_output=True, text=True).stdout.strip()
    git = subprocess.run(["git", "describe", "--tags", "--always", "--dirty"], capture_output=True, text=True,
                         cwd=ROOT).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": model, "mem_gb": round(mem_gb, 1),
            "kernel": platform.release(), "libxml2": libxml, "libzmq": zmq, "commit": git,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def fmt(x, nd=0):
    if x is None:
        return "-"
    if isinstance(x, float):
        return ("{:,.%df}" % nd).format(x)
    return "{:,}".format(x)


def render(res):
    """The results section of BENCHMARKS.md, as Markdown."""
    L = []
    m = res["machine"]
    L.append("Measured %s on %d cores (%s), %.1f GB RAM, Linux %s, libxml2 %s, libzmq %s, "
             "commit %s, by `%s`." % (m["date"], m["nproc"], m["cpu"], m["mem_gb"], m["kernel"],
                                      m["libxml2"], m["libzmq"], m["commit"], res["command"]))
    L.append("")
    if res.get("parse"):
        L.append("### 1. Parsing (one `coattail-scraper --file` process over many documents)")
        L.append("")
        L.append("Each figure is the median of %d runs, the scraper's and the floor's alternating."
                 % res["parse"][0].get("rounds", 1))
        L.append("")
        L.append("| documents | docs | rows out | docs/s | rows/s | ms/doc | libxml2 DOM alone ms/doc | "
                 "coattail / libxml2 DOM | libxml2 tokenizer alone ms/doc | coattail / tokenizer |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for p in res["parse"]:
            tok = p.get("vs_tokenizer")
            L.append("| %s | %s | %s | %s | %s | %s | %s | %sx | %s | %s |" % (
                p["label"], fmt(p["docs"]), fmt(p["rows"]), fmt(p["docs_per_s"]), fmt(p["rows_per_s"]),
                fmt(p["ms_per_doc"], 3), fmt(p["floor_ms_per_doc"], 3), fmt(p["vs_floor"], 2),
                fmt(p.get("tokenizer_ms_per_doc"), 3), (fmt(tok, 2) + "x") if tok else "-"))
        L.append("")
        L.append("The pages are read without a tree (scraper/htmlsax.c), so for them the "
                 "tokenizer alone (libxml2's HTML parser with no callback) is the lower floor; "
                 "Form 4s are read through libxml2's DOM.")
        L.append("")
        if any("py_ms_per_doc" in p for p in res["parse"]):
            L.append("### 2. The original method (BeautifulSoup html.parser + pandas DataFrame)")
            L.append("")
            L.append("| documents | bs4+pandas ms/doc | coattail ms/doc | speed-up per doc | "
                     "bs4+pandas whole run ms | coattail whole run ms | speed-up whole run |")
            L.append("|---|---:|---:|---:|---:|---:|---:|")
            for p in res["parse"]:
                if "py_ms_per_doc" in p:
                    L.append("| %s | %s | %s | %sx | %s | %s | %sx |" % (
                        p["label"], fmt(p["py_ms_per_doc"], 2), fmt(p["ms_per_doc"], 3),
                        fmt(p["speedup_per_doc"], 1), fmt(p["py_whole_ms"], 1), fmt(p["c_whole_ms"], 1),
                        fmt(p["speedup_whole"], 1)))
            L.append("")
    if res.get("pipeline"):
        pl, fl = res["pipeline"], res.get("relay_floor")
        L.append("### 3. Pipeline throughput (%s trades, four processes over ipc://)" % fmt(pl["trades"]))
        L.append("")
        L.append("| | trades/s | seconds |")
        L.append("|---|---:|---:|")
        L.append("| coattail end to end (scraper start -> last intent decided) | %s | %s |" % (
            fmt(pl["trades_per_s"]), fmt(pl["seconds"], 2)))
        if fl:
            L.append("| bare PUSH/PULL relay, same msgpack messages (floor) | %s | %s |" % (
                fmt(fl["msgs_per_s"]), fmt(fl["seconds"], 2)))
            L.append("| ratio (relay / coattail) | %sx | |" % fmt(fl["msgs_per_s"] / pl["trades_per_s"], 2))
        L.append("")
        L.append("Per stage (CPU seconds the stage spent on the run, and the rate one core would sustain):")
        L.append("")
        L.append("| stage | CPU s | trades per CPU-second | in / out / dropped / errors |")
        L.append("|---|---:|---:|---|")
        for name in ("scraper", "mapper", "decider", "executor"):
            s = pl["stages"][name]
            L.append("| %s | %s | %s | %s |" % (name, fmt(s["cpu_s"], 2), fmt(s["trades_per_cpu_s"]),
                                              " / ".join(fmt(x) for x in s["totals"]) if s["totals"] else "-"))
        L.append("")
    if res.get("latency"):
        L.append("### 4. Latency (paced trades into mapper.in -> the executor's order event)")
        L.append("")
        L.append("| trades/s | qualifying | state_dir on | trades | intents decided | p50 | p99 | max |")
        L.append("|---:|---|---|---:|---:|---:|---:|---:|")
        for x in res["latency"]:
            L.append("| %s | %s | %s | %s | %s of %s | %s us | %s us | %s us |" % (
                fmt(x["rate"]), "all" if x["every"] == 1 else "1 in %d" % x["every"],
                x.get("state", "disk"), fmt(x["sent"]), fmt(x["matched"]), fmt(x["expected"]),
                fmt(x["p50_us"]), fmt(x["p99_us"]), fmt(x["max_us"])))
        L.append("")
    if res.get("latency_floor"):
        L.append("The floor: the same paced trades through three bare relay processes "
                 "(four ipc hops, nothing decoded), every message back to the probe:")
        L.append("")
        L.append("| trades/s | messages | received | p50 | p99 | max |")
        L.append("|---:|---:|---:|---:|---:|---:|")
        for x in res["latency_floor"]:
            L.append("| %s | %s | %s | %s us | %s us | %s us |" % (
                fmt(x["rate"]), fmt(x["sent"]), fmt(x["matched"]), fmt(x["p50_us"]),
                fmt(x["p99_us"]), fmt(x["max_us"])))
        L.append("")
    if res.get("pipeline"):
        L.append("### 5. Memory over the %s-trade run" % fmt(res["pipeline"]["trades"]))
        L.append("")
        L.append("| stage | peak RSS (VmHWM; scraper: largest sample) | RSS at 10% of the run | "
                 "at 50% | at the end | anonymous at the end | PSS at the end | samples (every 0.25 s) |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name in ("scraper", "mapper", "decider", "executor"):
            s = res["pipeline"]["stages"][name]
            L.append("| %s | %s kB | %s kB | %s kB | %s kB | %s | %s | %s |" % (
                name, fmt(s["hwm_kb"]), fmt(s["rss_ref_kb"]), fmt(s.get("rss_half_kb")),
                fmt(s["rss_last_kb"]), ("%s kB" % fmt(s["anon_kb"])) if s.get("anon_kb") else "-",
                ("%s kB" % fmt(s["pss_kb"])) if s.get("pss_kb") else "-", fmt(s["samples"])))
        L.append("")
    if res.get("figi"):
        f = res["figi"]
        L.append("### 6. OpenFIGI economy (%s trades over %s tickers, with a key)" % (
            fmt(f["trades"]), fmt(f["tickers"])))
        L.append("")
        L.append("| | requests | per 1,000 trades | target |")
        L.append("|---|---:|---:|---:|")
        L.append("| cold cache | %s | %s | %s |" % (fmt(f["cold_requests"]), fmt(f["cold_per_1000"], 1),
                                                  fmt(f["expected_cold"])))
        L.append("| warm cache | %s | %s | 0 |" % (fmt(f["warm_requests"]), fmt(f["warm_per_1000"], 1)))
        if "pipeline_requests" in f:
            L.append("| the whole pipeline run (warm) | %s | %s | 0 |" % (
                fmt(f["pipeline_requests"]), fmt(f["pipeline_requests"] * 1000.0 / res["pipeline"]["trades"], 3)))
        L.append("")
    if res.get("phase_seconds"):
        L.append("Wall time: %s; %s s in all." % (
            ", ".join("%s %.0f s" % (k, v) for k, v in res["phase_seconds"].items()), res["total_seconds"]))
        L.append("")
    return "\n".join(L)


BEGIN = "<!-- bench:begin (written by tests/bench/bench.py) -->"
END = "<!-- bench:end -->"


def write_md(text):
    path = os.path.join(ROOT, "BENCHMARKS.md")
    try:
        md = open(path).read()
    except OSError:
        md = "# Benchmarks\n\n## Results\n\n%s\n%s\n" % (BEGIN, END)
    if BEGIN not in md or END not in md:
        md += "\n## Results\n\n%s\n%s\n" % (BEGIN, END)
    a = md.index(BEGIN) + len(BEGIN)
    b = md.index(END)
    md = md[:a] + "\n" + text + "\n" + md[b:]
    with open(path, "w") as f:
        f.write(md)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trades", type=int, default=int(os.environ.get("BENCH_TRADES", "1000000")))
    ap.add_argument("--only", default="parse,original,pipeline,latency")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--smoke", action="store_true",
                    help="a few seconds of each part, nothing written: checks the bench still runs")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    ap.add_argument("--rates", default="1000:2,10000:0.5",
                    help="latency runs, RATE:SECONDS,... (trades/s for seconds)")
    a = ap.parse_args()
    if a.smoke:
        a.trades, a.no_write = 5000, True
    only = set(a.only.split(","))
    for h in ("bench_parse", "bench_relay"):
        if not os.access(helper(h), os.X_OK):
            sys.exit("bench: %s missing: run `make bench-bins` (or `make bench`)" % helper(h))
    with_original = "original" in only
    if with_original and subprocess.run([DEBIAN_PY, "-c", "import bs4, pandas"],
                                        capture_output=True).returncode != 0:
        log("bench: Debian's python3-bs4 / python3-pandas missing (deploy/deps.sh): "
            "the original method is skipped")
        with_original = False
    res = {"machine": machine(), "command": "make bench" if not a.smoke else "bench.py --smoke"}
    if a.trades != 1000000 and not a.smoke:
        res["command"] = "make bench BENCH_TRADES=%d" % a.trades
    t_all = time.monotonic()
    work = Work()
    try:
        phases = res["phase_seconds"] = {}
        t = time.monotonic()
        if "parse" in only:
            res["parse"] = bench_parse(work, a.smoke, with_original)
            phases["parse"] = time.monotonic() - t
        if "pipeline" in only or "latency" in only:
            figi = FakeServer(work, "openfigi_fake.py", "--key", FIGI_KEY)
            sec = FakeServer(work, "sec_fake.py")
            try:
                pipeline_conf(work, figi, sec)
                res["figi"] = warm_cache(work, figi)
                shutil.copytree(work.state_dir, work.path("state_warm"))
                log("bench: cache warm")
                if "pipeline" in only:
                    t = time.monotonic()
                    tp = work.path("trades.jsonl")
                    last = write_trades(tp, a.trades)
                    before = figi_requests(figi)
                    res["pipeline"] = bench_pipeline(work, tp, a.trades, last, 110)
                    res["figi"]["pipeline_requests"] = figi_requests(figi) - before
                    log("bench: pipeline done")
                    binp = tp + ".bin"
                    subprocess.run([helper("bench_relay"), "encode", tp, binp], check=True)
                    os.unlink(tp)
                    res["relay_floor"] = bench_relay_floor(work, binp, a.trades)
                    os.unlink(binp)
                    phases["pipeline"] = time.monotonic() - t
                    log("bench: relay floor done")
                if "latency" in only:
                    t = time.monotonic()
                    res["latency"] = []
                    first = 10 ** 8
                    rates = [(int(r), float(t)) for r, t in (x.split(":") for x in a.rates.split(","))]
                    if a.smoke:
                        rates = [(1000, 0.5)]
                    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
                    runs = [(rate, secs, 1, where) for rate, secs in rates
                            for where in (["disk", "tmpfs"] if shm else ["disk"])]
                    if not a.smoke:
                        runs += [(10000, 5, 100, w) for w in (["disk", "tmpfs"] if shm else ["disk"])]
                    for rate, secs, every, where in runs:
                        if True:
                            sd = work.path("state_lat") if where == "disk" else \
                                os.path.join(shm, os.path.basename(work.dir) + "-state")
                            x = bench_latency(work, figi, sec, rate, secs, first, sd, every)
                            x["state"] = where
                            res["latency"].append(x)
                            first += 10 ** 6
                            log("bench: latency %d/s, state on %s: p99 %.0f us" % (rate, where, x["p99_us"]))
                    res["latency_floor"] = []
                    for rate, secs in rates:
                        # as long as the mixed runs at 10,000/s (2 s), so
                        # that start-up is as small a share of both
                        x = bench_latency_floor(work, rate, secs if a.smoke else max(secs, 2), first)
                        res["latency_floor"].append(x)
                        first += 10 ** 6
                        log("bench: latency floor %d/s: p99 %.0f us" % (rate, x["p99_us"]))
                    phases["latency"] = time.monotonic() - t
                    log("bench: latency done")
            finally:
                figi.stop() if hasattr(figi, "stop") else None
                sec.stop() if hasattr(sec, "stop") else None
    finally:
        work.close()
    res["total_seconds"] = round(time.monotonic() - t_all, 1)
    text = render(res)
    print(text)
    print("\nbench: %.1f s in all" % res["total_seconds"])
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
    if not a.no_write:
        with open(os.path.join(ROOT, "tests", "bench", "BENCHMARKS.json"), "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
        write_md(text)


if __name__ == "__main__":
    main()
