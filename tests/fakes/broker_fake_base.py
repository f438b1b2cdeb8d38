"""What the fake brokers (alpaca_fake.py, lemon_fake.py) share: a threaded
HTTP/1.1 server on 127.0.0.1, fault injection, and the control endpoints.

Faults are chosen per request, either from a queue a test fills
(POST /_faults {"next": {"post": ["500_after"], "get": ["500"]}}) or at
random with the configured rates (POST /_faults {"rates": {"500_after": 0.05}},
or --faults 500_after=0.05,drop_after=0.05 on the command line).  Kinds:

  on order creation (POST):
    500_before     answer 500, create nothing
    500_after      create the order, then answer 500
    drop_after     create the order, then close the connection unanswered
    timeout_after  create the order, then sleep --timeout-sleep seconds
                   (past the client's timeout) before answering
    slow_create    sleep --timeout-sleep seconds (past the client's
                   timeout) first, then create the order and answer (to a
                   client long gone): a create the server takes late.  The
                   server is threaded, so a lookup the client makes in the
                   meantime is served, and finds nothing.  Under the old
                   executor that "not found" led to a second create
                   (RELIABILITY.md, the settle rule).  /_stats counts
                   late_creates once such a create is done
    429            answer 429, create nothing
    dup422         (Alpaca) create the order, then answer 422
                   "client_order_id must be unique", as if a retry by a
                   proxy had arrived second
  on lookups and other GETs:
    500            answer 500
    drop           close the connection unanswered

Control endpoints (no auth): GET /_orders (every order held, in creation
order), GET /_stats (counts: posts, dup_posts = creates that reused a
client id / idempotency key, faults by kind, lookups), POST /_faults,
POST /_reset_stats.
"""
import argparse
import json
import random
import socket
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

POST_KINDS = ("500_before", "500_after", "drop_after", "timeout_after", "429", "dup422",
              "slow_create")
GET_KINDS = ("500", "drop")


class Faults:
    def __init__(self, rates=None, seed=1):
        self.lock = threading.Lock()
        self.rates = dict(rates or {})
        self.rng = random.Random(seed)
        self.queue = {"post": [], "get": [], "activate": []}
        self.counts = Counter()

    def configure(self, spec):
        with self.lock:
            if "rates" in spec:
                self.rates = {k: float(v) for k, v in spec["rates"].items()}
            for op, kinds in spec.get("next", {}).items():
                self.queue.setdefault(op, []).extend(kinds)
            if "seed" in spec:
                self.rng = random.Random(spec["seed"])

    def pick(self, op, kinds):
        """The fault for this request (or None)."""
        with self.lock:
            q = self.queue.get(op)
            if q:
                k = q.pop(0)
                self.counts[k] += 1
                return k
            r = self.rng.random()
            acc = 0.0
            for k in kinds:
                acc += self.rates.get(k, 0.0)
                if r < acc:
                    self.counts[k] += 1
                    return k
            return None


def parse_rates(text):
    rates = {}
    for part in filter(None, (text or "").split(",")):
        k, _, v = part.partition("=")
        rates[k.strip()] = float(v)
    return rates


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-broker/1"
    # Headers and body go out in separate writes; with Nagle's algorithm on,
    # the client's delayed ACK would hold every answer back ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet unless --verbose
        if self.server.verbose:
            sys.stderr.write("%s %s\n" % (self.server.name, fmt % args))

    # -- helpers --
    def body_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def drop(self):
        """Close the connection without a word."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def late(self):
        """Sleep past the client's timeout (the answer then goes nowhere)."""
        time.sleep(self.server.timeout_sleep)

    def split(self):
        u = urlsplit(self.path)
        return u.path, {k: v for k, v in parse_qs(u.query).items()}

    # -- control --
    def control(self, method, path):
        s = self.server
        if method == "GET" and path == "/_orders":
            with s.lock:
                self.send_json(200, list(s.orders))
            return True
        if method == "GET" and path == "/_stats":
            with s.lock:
                st = dict(s.stats)
            st["faults"] = dict(s.faults.counts)
            self.send_json(200, st)
            return True
        if method == "POST" and path == "/_faults":
            spec = self.body_json() or {}
            s.faults.configure(spec)
            self.send_json(200, {"ok": True})
            return True
        if method == "POST" and path == "/_reset_stats":
            self.body_json()
            with s.lock:
                s.stats.clear()
            s.faults.counts.clear()
            self.send_json(200, {"ok": True})
            return True
        if method == "POST" and path == "/_set":
            spec = self.body_json() or {}
            with s.lock:
                s.settings.update(spec)
            self.send_json(200, {"ok": True})
            return True
        return False

    def count(self, key, n=1):
        with self.server.lock:
            self.server.stats[key] = self.server.stats.get(key, 0) + n


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name, handler, args):
        super().__init__(("127.0.0.1", args.port), handler)
        self.name = name
        self.verbose = args.verbose
        self.timeout_sleep = args.timeout_sleep
        self.faults = Faults(parse_rates(args.faults), args.seed)
        self.lock = threading.Lock()
        self.orders = []          # in creation order
        self.stats = Counter()
        self.settings = {}        # what /_set changed (clock, positions, ...)


def common_args(desc):
    ap = argparse.ArgumentParser(description=desc)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--faults", default="", help="kind=rate,... (see broker_fake_base.py)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout-sleep", type=float, default=2.0,
                    help="seconds a timeout_after fault sleeps before answering")
    ap.add_argument("--verbose", action="store_true")
    return ap


def serve(server):
    """Print "PORT <n>" (the first line a test reads, as fakeserver.py
    expects), then serve forever."""
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
