#!/usr/bin/env python3
"""make demo: the whole pipeline, offline, in well under 30 seconds.

    python3 tests/demo/demo.py [--bin DIR] [--keep] [--logs] [--timeout S]

Starts, on this machine only:
  - tests/fakes/sources_fake.py: SEC EDGAR, OpenInsider and FinViz serving
    the project's recorded pages and filings (tests/fixtures/sources/);
  - tests/fakes/openfigi_fake.py: OpenFIGI;
  - the four real stages over ZeroMQ (ipc sockets in a temporary run dir),
    configured by tests/demo/demo.conf: the scraper runs one cycle (--once)
    against the fake, the decider's clock is set to 2026-04-25 02:00 UTC so
    the recorded filings (2026-04-24) are recent, and the executor's to
    Monday 2026-04-27 10:00 New York time, inside NYSE hours, so the paper
    broker fills;
  - coattail-tap --human, which prints every trade, every decision with its
    reason and every paper order.
When every intent has its order (or --timeout passes) the stages are
stopped with SIGTERM and the paper portfolio is read from
state/paper.sqlite and printed.  Exit status 0 when at least one intent was
made and at least one paper order filled, else 1.

--keep keeps the temporary directory (config, state, every log); --logs
prints the stages' own logs as well.  Nothing reaches the network: any
COATTAIL_* variable of the caller's environment is removed first, so a
shell set up for `make run` cannot point the demo at the real sites.
"""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FAKES = os.path.join(ROOT, "tests", "fakes")
CONF = os.path.join(HERE, "demo.conf")

DECIDER_NOW = "2026-04-25T02:00:00Z"   # the evening after the recorded filings
EXECUTOR_NOW = "2026-04-27T14:00:00Z"  # Monday 10:00 in New York: NYSE is open
SCRAPER_NOW = DECIDER_NOW
STAGES = ["executor", "decider", "mapper"]  # binders first; the scraper last


def say(msg):
    print("demo: " + msg, flush=True)


class Demo:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="coattail-demo-")
        self.run_dir = os.path.join(self.dir, "run")
        self.state_dir = os.path.join(self.dir, "state")
        os.makedirs(self.run_dir, mode=0o700)
        os.makedirs(self.state_dir, mode=0o700)
        self.procs = []  # (name, Popen)
        self.counts = {"trade": 0, "intent": 0, "order": 0, "drop": 0}
        self.statuses = {}
        self.last_record = time.monotonic()
        self.lock = threading.Lock()

    # ---- processes ------------------------------------------------------
    def log_path(self, name):
        return os.path.join(self.dir, name + ".log")

    def fake(self, script, *extra):
        """Start a fake server; returns its base URL once it prints PORT n."""
        p = subprocess.Popen([sys.executable, os.path.join(FAKES, script), "--port", "0"]
                             + list(extra), stdout=subprocess.PIPE,
                             stderr=open(self.log_path(script), "w"), text=True)
        self.procs.append((script, p))
        line = p.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError("%s did not start (see %s)" % (script, self.log_path(script)))
        return "http://127.0.0.1:%d" % int(line.split()[1])

    def env(self, urls):
        e = {k: v for k, v in os.environ.items() if not k.startswith("COATTAIL_")}
        e.update({
            "COATTAIL_CONF": CONF,
            "COATTAIL_STATE_DIR": self.state_dir,
            "COATTAIL_RUN_DIR": self.run_dir,
            "COATTAIL_EDGAR_URL": urls["sources"],
            "COATTAIL_OPENINSIDER_URL": urls["sources"],
            "COATTAIL_FINVIZ_URL": urls["sources"],
            "COATTAIL_OPENFIGI_URL": urls["openfigi"],
        })
        return e

    def stage(self, name, *extra, stdout=subprocess.DEVNULL):
        binary = os.path.join(self.args.bin, "coattail-" + name)
        err = None if self.args.logs else open(self.log_path(name), "w")
        p = subprocess.Popen([binary, "-c", CONF] + list(extra), stdin=subprocess.DEVNULL,
                             stdout=stdout, stderr=err, env=self.environ, cwd=ROOT)
        self.procs.append((name, p))
        return p

    def watch(self, pipe):
        """Count what the JSON tap sees, to know when the demo is done."""
        for line in pipe:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            t = rec.get("type")
            with self.lock:
                if t in self.counts:
                    self.counts[t] += 1
                    self.last_record = time.monotonic()
                if t == "order":
                    st = rec.get("status") or "?"
                    self.statuses[st] = self.statuses.get(st, 0) + 1

    def stop(self):
        # Stages first (SIGTERM: each drains and exits 0), then taps and fakes.
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name, p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say("%s did not stop on SIGTERM; killing it" % name)
                p.kill()
                p.wait()

    # ---- the run --------------------------------------------------------
    def run(self):
        t0 = time.monotonic()
        say("offline: local fakes of SEC EDGAR, OpenInsider, FinViz and OpenFIGI; "
            "the paper broker; everything in " + self.dir)
        urls = {"sources": self.fake("sources_fake.py"),
                "openfigi": self.fake("openfigi_fake.py")}
        self.environ = self.env(urls)

        for name in STAGES:
            extra = []
            if name == "decider":
                extra = ["--now", DECIDER_NOW]
            elif name == "executor":
                extra = ["--now", EXECUTOR_NOW]
            self.stage(name, *extra)
        # Two taps: one for the person (human lines), one for this script.
        human = os.path.join(self.args.bin, "coattail-tap")
        self.procs.append(("tap", subprocess.Popen(
            [human, "-c", CONF, "--human", "--type", "trade,intent,order,drop"],
            stdin=subprocess.DEVNULL, env=self.environ, cwd=ROOT)))
        jtap = subprocess.Popen([human, "-c", CONF, "--json"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, env=self.environ, cwd=ROOT, text=True)
        self.procs.append(("tap-json", jtap))
        threading.Thread(target=self.watch, args=(jtap.stdout,), daemon=True).start()
        # ZeroMQ subscribers join late ("slow joiner"): give the taps and the
        # stages' binds a moment before the first trade is sent.
        time.sleep(0.7)

        say("scraper: one cycle (--once) at %s; decider at %s; executor at %s (NYSE open)"
            % (SCRAPER_NOW, DECIDER_NOW, EXECUTOR_NOW))
        print(flush=True)
        scraper = self.stage("scraper", "--once", "--now", SCRAPER_NOW)

        deadline = t0 + self.args.timeout
        while time.monotonic() < deadline:
            time.sleep(0.1)
            with self.lock:
                done = (scraper.poll() is not None and self.counts["intent"] > 0
                        and sum(self.statuses.values()) >= self.counts["intent"]
                        and time.monotonic() - self.last_record > 1.5)
            if done:
                break
            if scraper.poll() is not None and scraper.returncode != 0 and \
                    time.monotonic() - self.last_record > 3:
                break
            if any(p.poll() is not None for n, p in self.procs if n in STAGES):
                break
        crashed = [n for n, p in self.procs if n in STAGES and p.poll() is not None]
        self.stop()
        print(flush=True)
        if scraper.returncode not in (0, None):
            say("the scraper exited %d (see its log)" % scraper.returncode)
        for n in crashed:
            say("%s exited early (see its log)" % n)

        filled = self.portfolio()
        say("%d trades, %d intents, %d orders (%s), %.1f s"
            % (self.counts["trade"], self.counts["intent"], self.counts["order"],
               ", ".join("%d %s" % (v, k) for k, v in sorted(self.statuses.items())) or "none",
               time.monotonic() - t0))
        ok = self.counts["intent"] > 0 and filled > 0 and not crashed
        if not ok:
            say("FAILED: expected at least one intent and one filled paper order")
            self.show_logs()
        return ok

    def portfolio(self):
        """Print the paper ledger; returns the number of filled orders."""
        path = os.path.join(self.state_dir, "paper.sqlite")
        if not os.path.exists(path):
            say("no paper ledger at " + path)
            return 0
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            cash, start, realized = db.execute(
                "SELECT cash_u, starting_u, realized_u FROM account WHERE id = 1").fetchone()
            rows = db.execute("SELECT ticker, qty_u, cost_u FROM positions "
                              "WHERE qty_u != 0 ORDER BY ticker").fetchall()
            orders = db.execute("SELECT ticker, side, qty_u, price_u, status FROM orders "
                                "ORDER BY seq").fetchall()
        finally:
            db.close()
        u = 1e6
        print("paper portfolio (%s)" % path)
        print("  cash      %14.2f USD   (started with %.2f, realized P&L %.2f)"
              % (cash / u, start / u, realized / u))
        print("  %-8s %14s %14s %12s" % ("ticker", "shares", "cost USD", "avg price"))
        for ticker, qty, cost in rows:
            print("  %-8s %14.4f %14.2f %12.4f" % (ticker, qty / u, cost / u,
                                                   cost / qty if qty else 0.0))
        if not rows:
            print("  (no positions)")
        print("  orders:")
        for ticker, side, qty, price, status in orders:
            print("    %-4s %-8s %12.4f @ %10.4f  %s" % (side, ticker, qty / u, price / u, status))
        print(flush=True)
        return sum(1 for o in orders if o[4] == "filled")

    def show_logs(self):
        for name, _ in self.procs:
            path = self.log_path(name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    text = f.read()
                print("---- %s ----\n%s" % (name, text[-4000:]))

    def close(self):
        if self.args.keep:
            say("kept " + self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="coattail's offline demo")
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"), help="directory of the binaries")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--logs", action="store_true", help="show the stages' logs too")
    ap.add_argument("--timeout", type=float, default=25.0, help="give up after S seconds")
    args = ap.parse_args()
    for name in STAGES + ["scraper", "tap"]:
        if not os.access(os.path.join(args.bin, "coattail-" + name), os.X_OK):
            sys.exit("demo: %s/coattail-%s is missing: run `make` first" % (args.bin, name))
    demo = Demo(args)
    try:
        ok = demo.run()
    except KeyboardInterrupt:
        demo.stop()
        ok = False
    finally:
        for _, p in demo.procs:
            if p.poll() is None:
                p.kill()
        demo.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
