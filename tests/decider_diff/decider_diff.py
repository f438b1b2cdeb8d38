#!/usr/bin/env python3
"""Differential check of two decider builds: the same random trade streams,
fed to each in parts (a restart between parts, batch_max 7, max_trades
1000, so batches, reloads and eviction all happen), must give the same
intents, the same drop reasons and log lines, and the same decider.sqlite.

    python3 tests/decider_diff/decider_diff.py --base OLD_BIN_DIR --new bin [--seeds 1,2,3] [--trades 20000]

OLD_BIN_DIR holds a coattail-decider built from the commit to compare with
(git worktree add /tmp/base main && make -C /tmp/base -j2).  Not part of
`make test`: it needs that second build.  Standard library only.

Against a build from before e1e9597 pass --max-trades 100000000: that
commit moved eviction from the moment a row is put to the commit (and
evicts a tenth more), so with the bound reached the two forget different
rows by design.

The streams exercise every rule path: multi-row filings, the same filing
through another source, 4/A repeats, rows without an accession, clusters,
the scraper repeating rows as they were or changed, old filings, 10b5-1
plans, large caps, titles that are and are not an executive's."""
import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile

NOW = "2026-04-24T22:00:00Z"
TICK = ["ACME", "KAPP", "ZETA", "BRK.B", "QQQ", "MINI"]
OWN = [("Doe John", "0001000001"), ("Roe Jane", "0001000002"), ("Lee Ann", None),
       ("Kim Ray", "0001000004"), ("Ford Tom", None), ("Hill Ivy", "0001000006"),
       ("John Doe", None), ("Park Sue", "0001000008")]
TITLES = ["CEO", "CFO", "Pres, CEO", "EVP & CFO", "Chief Legal Officer", "Director", "Dir, 10%",
          None, "See Remarks", "COO", "C.E.O.", "VP"]
SRC = ["edgar", "openinsider", "finviz"]
DATES = ["2026-04-%02d" % d for d in range(14, 25)]


def stream(seed, n):
    R = random.Random(seed)
    out, accs = [], []

    def trade(key, src, acc, owner, title, tick, date, code, sh, px, after, filed, planned, inst, mcap):
        o, cik = owner
        t = {"type": "trade", "v": 1, "key": key, "source": src, "accession": acc, "url": None,
             "filed_at": filed, "trade_date": date, "ticker": tick, "issuer": tick + " Inc",
             "issuer_cik": None, "owner": o,
             "owner_cik": cik if src == "edgar" or R.random() < 0.5 else None,
             "title": title, "roles": ["officer"], "code": code, "shares": sh, "price": px,
             "value": None if px is None else round(sh * px, 4), "shares_after": after,
             "direct": R.choice([True, False, None]), "planned": planned, "amendment": False,
             "instrument": None}
        if inst:
            t["instrument"] = {"figi": "BBG" + tick.replace(".", "")[:4].ljust(9, "0"),
                               "composite_figi": None, "share_class_figi": None, "ticker": tick,
                               "exch_code": "US", "name": tick, "security_type": "Common Stock",
                               "market_sector": "Equity", "isin": None,
                               "shares_outstanding": None, "market_cap": mcap}
        return t

    for i in range(n):
        r = R.random()
        if r < 0.15 and out:
            t = dict(R.choice(out))  # the scraper again, as it was or changed
            if R.random() < 0.2:
                t["shares"] += 1
            out.append(t)
            continue
        if r < 0.25 and accs:
            t = dict(R.choice(accs))
            if R.random() < 0.5:  # the same filing through another source
                t["source"] = R.choice(SRC)
                t["key"] = "%s:%s:%d" % (t["source"], t["accession"], i)
            else:  # a 4/A repeating it
                t["amendment"] = True
                t["accession"] = "0009999999-26-%06d" % i
                t["key"] = "edgar:%s:1" % t["accession"]
            out.append(t)
            continue
        src = R.choice(SRC)
        acc = None if R.random() < 0.1 else "0001209191-26-%06d" % R.randrange(200)
        date = R.choice(DATES)
        code = R.choice(["P", "P", "P", "S", "S", "M", "A"])
        sh = R.choice([100, 500, 1000, 3000, 10000, 50000])
        px = None if R.random() < 0.1 else round(R.uniform(1, 200), 2)
        after = None if R.random() < 0.05 else R.choice([0, 1000, 10000, 100000, 500000])
        if code == "P" and after is not None:
            after += sh
        filed = None if R.random() < 0.2 else \
            R.choice([date, "2026-04-23", "2026-04-24"]) + "T1%d:05:31Z" % R.randrange(10)
        t = trade("%s:%s:%d" % (src, acc, i), src, acc, R.choice(OWN), R.choice(TITLES),
                  R.choice(TICK), date, code, sh, px, after, filed, R.random() < 0.05,
                  R.random() < 0.8, R.choice([1e9, 5e10, None]))
        out.append(t)
        if acc is not None:
            accs.append(t)
    return [json.dumps(t) + "\n" for t in out]


def days_later(mmddrest, days):
    """'MM-DDT...' of 2026 moved `days` later (April and May only)."""
    m, d = int(mmddrest[:2]), int(mmddrest[3:5]) + days
    if m == 4 and d > 30:
        m, d = 5, d - 30
    return "%02d-%02d%s" % (m, d, mmddrest[5:])


def run(bin_dir, work, parts, max_trades, prune_days):
    os.makedirs(os.path.join(work, "run"))
    os.makedirs(os.path.join(work, "state"))
    conf = os.path.join(work, "c.conf")
    # --prune-days: recency off (old trades are judged) and the shortest
    # memory, so that a later part's first flush prunes what earlier parts
    # (and its own batch) left
    extra = " recency: { enabled = false; }; " if prune_days else " "
    with open(conf, "w") as f:
        f.write('state_dir = "%s/state";\nrun_dir = "%s/run";\nlog_level = "debug";\n'
                'decider: {%swindow: { batch_max = 7; max_trades = %d; retention_days = %d; }; };\n'
                % (work, work, extra, max_trades, 1 if prune_days else 14))
    os.chmod(conf, 0o600)
    res = []
    for n, p in enumerate(parts):
        # A file, not a pipe: the stage flushes when its input runs dry,
        # and a pipe runs dry when the writer is slow, which would make the
        # batches (and so the judging order) depend on timing.
        path = os.path.join(work, "part%d.jsonl" % n)
        with open(path, "w") as f:
            f.write("".join(p))
        now = NOW
        if prune_days:
            now = "2026-%s" % days_later(NOW[5:], n * prune_days)
        with open(path, "rb") as f:
            r = subprocess.run([os.path.join(bin_dir, "coattail-decider"), "-c", conf, "--now",
                                now, "--in", "-", "--out", "-", "--tap", ""],
                               stdin=f, capture_output=True, timeout=600)
        if r.returncode != 0:
            sys.exit("%s: exit %d: %s" % (bin_dir, r.returncode, r.stderr[-500:]))
        log = [l.split(": ", 1)[1] for l in r.stderr.decode().splitlines()
               if any(w in l for w in ("declined", "intent", "sent again", "warning"))]
        res.append((r.stdout.decode(), log))
    db = sqlite3.connect(os.path.join(work, "state", "decider.sqlite"))
    tables = {t: sorted(map(repr, db.execute("SELECT * FROM %s" % t)))
              for t in ("trade", "filing_owner", "signal", "cluster", "outbox")}
    return res, tables


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--trades", type=int, default=20000)
    ap.add_argument("--parts", type=int, default=5)
    ap.add_argument("--prune-days", type=int, default=0,
                    help="run part n at --now n times this many days later, recency off and"
                         " retention at its floor, so that each part's first flush prunes"
                         " (0: one --now, nothing pruned)")
    ap.add_argument("--max-trades", type=int, default=1000,
                    help="decider.window.max_trades (a build that forgets rows at other"
                         " moments than the base differs once the bound is reached)")
    a = ap.parse_args()
    bad = 0
    for seed in map(int, a.seeds.split(",")):
        lines = stream(seed, a.trades)
        k = -(-len(lines) // a.parts)
        parts = [lines[i:i + k] for i in range(0, len(lines), k)]
        with tempfile.TemporaryDirectory(prefix="decider-diff-") as tmp:
            ra, ta = run(a.base, os.path.join(tmp, "a"), parts, a.max_trades, a.prune_days)
            rb, tb = run(a.new, os.path.join(tmp, "b"), parts, a.max_trades, a.prune_days)
        same = ra == rb and ta == tb
        bad += not same
        print("seed %d: %d intents, %d decision lines, %s rows in the file: %s" % (
            seed, sum(x[0].count("\n") for x in ra), sum(len(x[1]) for x in ra),
            "/".join(str(len(v)) for v in ta.values()), "same" if same else "DIFFERENT"))
        if not same:
            for i, (x, y) in enumerate(zip(ra, rb)):
                if x != y:
                    print("  part %d differs" % (i + 1))
            for t in ta:
                if ta[t] != tb[t]:
                    print("  table %s differs" % t)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
