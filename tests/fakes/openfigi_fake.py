#!/usr/bin/env python3
"""A fake OpenFIGI v3 mapping API for coattail's tests (Python 3 stdlib only).

Written to ../shared/APIS.md section 1:

  POST /v3/mapping   a JSON array of jobs -> a JSON array of the same length,
                     element i answering job i with exactly one of
                     {"data":[FIGI objects]}, {"warning":"No identifier found."}
                     or {"error":"..."}.  FIGI objects carry figi, name, ticker,
                     exchCode, compositeFIGI, securityType, marketSector,
                     shareClassFIGI, securityType2, securityDescription, in
                     that order.
  Limits             10 jobs per request and 25 requests per minute without a
                     key; 100 jobs and 25 requests per 6 s with the right
                     X-OPENFIGI-APIKEY.  Beyond the job limit: 413 "Request may
                     only contain 10 mapping jobs."; beyond the rate: 429 with
                     ratelimit-limit, ratelimit-remaining and ratelimit-reset
                     (seconds) headers, counted in fixed windows.  A wrong key:
                     401.  A body that is not an array of jobs: 400.  Error
                     bodies are plain text.

The universe of securities:
  IBM, AAPL          real FIGIs (recorded answers), US composite, some US
                     venues, and German listings (GR composite; GY, GF; AAPL
                     trades as APC there).
  MULTI              one US ticker with several securities (preferred, ADR,
                     common stock), for the choice rule.
  BRK/B              a class-B share (Bloomberg writes the class with '/').
  NX...              tickers starting with NX: "No identifier found."
  ERR...             tickers starting with ERR: {"error":"Invalid idValue format."}
  BADREQ...          a request holding such a ticker is refused whole: 400
  BADANS...          a request holding such a ticker (and no BADREQ...) gets
                     a 200 whose array is one element short (not aligned)
  NODE...            listed in the US only (no German listing).
  anything else      a synthetic common stock with deterministic FIGIs,
                     listed in the US (US composite, UN, UW) and in Germany
                     (GR composite, GY, GF; German ticker = the US ticker
                     with a trailing "G").
A share class or FIGI of a synthetic security is known once its ticker was
asked for (in this process).
Id types: TICKER, ID_BB_GLOBAL, COMPOSITE_ID_BB_GLOBAL,
ID_BB_GLOBAL_SHARE_CLASS_LEVEL; filters exchCode or micCode (XETR=GY,
XFRA=GF; XNYS/XNAS give nothing: US listings go through the US composite).

Test controls (not part of the real API):
  GET  /_stats       {"requests":N (mapping requests), "jobs":N (jobs in
                     answered requests), "statuses":{"200":N,...},
                     "job_counts":[jobs per request...], "tickers":{...}}
  POST /_control     JSON object, any of:
                       "mode": "ok" | "close" (drop connections unanswered)
                               | "500" | "503" | "slow"
                       "fail": [503, "close", 500, ...] answers for the next
                               requests, before "mode" applies
                       "delay_ms": N   how long "slow" waits
                       "key": "K"      the key accepted from now on
                       "rate_limit": N, "window_s": S, "window_key_s": S
                       "reset_stats": true
  The same settings as flags: --key, --rate-limit, --window, --window-key,
  --job-limit, --job-limit-key, --mode, --delay-ms.

Starts on 127.0.0.1 (--port, default 0: any) and prints "PORT <n>" on stdout.
"""
import argparse
import hashlib
import json
import math
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONSONANTS = "BCDFGHJKLMNPQRSTVWXYZ0123456789"


def fake_figi(*parts):
    """A deterministic, well-formed FIGI: BBG + 9 characters."""
    h = hashlib.sha256("|".join(parts).encode()).digest()
    return "BBG" + "".join(CONSONANTS[b % len(CONSONANTS)] for b in h[:8]) + str(h[8] % 10)


def row(figi, name, ticker, exch, composite, share_class, stype="Common Stock",
        stype2="Common Stock", sector="Equity"):
    return {"figi": figi, "name": name, "ticker": ticker, "exchCode": exch,
            "compositeFIGI": composite, "securityType": stype, "marketSector": sector,
            "shareClassFIGI": share_class, "securityType2": stype2,
            "securityDescription": ticker}


def real_securities():
    ibm = [row("BBG000BLNNH6", "INTL BUSINESS MACHINES CORP", "IBM", "US", "BBG000BLNNH6", "BBG001S5S399"),
           row("BBG000BLNQ16", "INTL BUSINESS MACHINES CORP", "IBM", "UN", "BBG000BLNNH6", "BBG001S5S399"),
           row("BBG000BLNNV0", "INTL BUSINESS MACHINES CORP", "IBM", "UA", "BBG000BLNNH6", "BBG001S5S399"),
           row("BBG000K23JG0", "INTL BUSINESS MACHINES CORP", "IBM", "GR", "BBG000K23JG0", "BBG001S5S399"),
           row("BBG000K23L39", "INTL BUSINESS MACHINES CORP", "IBM", "GY", "BBG000K23JG0", "BBG001S5S399"),
           row("BBG000K23JT6", "INTL BUSINESS MACHINES CORP", "IBM", "GF", "BBG000K23JG0", "BBG001S5S399")]
    aapl = [row("BBG000B9XRY4", "APPLE INC", "AAPL", "US", "BBG000B9XRY4", "BBG001S5N8V8"),
            row("BBG000B9XSK7", "APPLE INC", "AAPL", "UA", "BBG000B9XRY4", "BBG001S5N8V8"),
            row("BBG000B9XT70", "APPLE INC", "AAPL", "UC", "BBG000B9XRY4", "BBG001S5N8V8"),
            row("BBG000DGZJ27", "APPLE INC", "APC", "GR", "BBG000DGZJ27", "BBG001S5N8V8"),
            row("BBG000DH0LL7", "APPLE INC", "APC", "GY", "BBG000DGZJ27", "BBG001S5N8V8")]
    return ibm + aapl


def synthetic(ticker):
    """Every listing of a synthetic security, by its US ticker."""
    if ticker == "MULTI":
        out = []
        for kind, stype, stype2 in (("PFD", "Preference", "Preferred Stock"),
                                    ("ADR", "ADR", "Depositary Receipt"),
                                    ("COM", "Common Stock", "Common Stock")):
            comp = fake_figi(ticker, kind, "US")
            sc = fake_figi(ticker, kind, "SC")
            out.append(row(comp, "MULTI CORP " + kind, ticker, "US", comp, sc, stype, stype2))
            out.append(row(fake_figi(ticker, kind, "UN"), "MULTI CORP " + kind, ticker, "UN",
                           comp, sc, stype, stype2))
        return out
    name = ticker.replace("/", " ") + " CORP"
    comp = fake_figi(ticker, "US")
    sc = fake_figi(ticker, "SC")
    rows = [row(comp, name, ticker, "US", comp, sc),
            row(fake_figi(ticker, "UN"), name, ticker, "UN", comp, sc),
            row(fake_figi(ticker, "UW"), name, ticker, "UW", comp, sc)]
    if not ticker.startswith("NODE"):
        de = ticker.replace("/", "") + "G"
        gcomp = fake_figi(ticker, "GR")
        rows += [row(gcomp, name, de, "GR", gcomp, sc),
                 row(fake_figi(ticker, "GY"), name, de, "GY", gcomp, sc),
                 row(fake_figi(ticker, "GF"), name, de, "GF", gcomp, sc)]
    return rows


MIC_TO_EXCH = {"XETR": "GY", "XFRA": "GF"}


class Universe:
    def __init__(self):
        self.real = real_securities()
        self.by_figi = {}      # figi -> rows of its security
        self.by_class = {}     # share class figi -> rows
        self._index(self.real)

    def _index(self, rows):
        for r in rows:
            self.by_figi.setdefault(r["figi"], rows)
            self.by_class.setdefault(r["shareClassFIGI"], rows)

    def listings_of_ticker(self, ticker):
        real = [r for r in self.real if r["ticker"] == ticker]
        if real:
            # every listing of those securities (also under other tickers)
            classes = {r["shareClassFIGI"] for r in real}
            return [r for r in self.real if r["shareClassFIGI"] in classes]
        rows = synthetic(ticker)
        self._index(rows)
        return rows

    def answer(self, job):
        """The answer element for one job (a dict)."""
        id_type, value = job.get("idType"), job.get("idValue")
        exch, mic = job.get("exchCode"), job.get("micCode")
        if exch is not None and mic is not None:
            return {"error": "Invalid combination: exchCode and micCode are mutually exclusive."}
        if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value) == "":
            return {"error": "Invalid idValue format."}
        value = str(value)
        if id_type == "TICKER":
            if value.startswith("NX"):
                return {"warning": "No identifier found."}
            if value.startswith("ERR") or not all(c.isalnum() or c in "/.-" for c in value):
                return {"error": "Invalid idValue format."}
            rows = self.listings_of_ticker(value)
            # Foreign listings carry their own tickers; a US ticker finds the
            # US listings and the foreign ones that use the same symbol.
            rows = [r for r in rows if r["ticker"] == value]
        elif id_type in ("ID_BB_GLOBAL", "COMPOSITE_ID_BB_GLOBAL"):
            sec = self.by_figi.get(value, [])
            if id_type == "ID_BB_GLOBAL":
                rows = [r for r in sec if r["figi"] == value]
            else:
                rows = [r for r in sec if r["compositeFIGI"] == value]
        elif id_type == "ID_BB_GLOBAL_SHARE_CLASS_LEVEL":
            rows = [r for r in self.by_class.get(value, []) if r["shareClassFIGI"] == value]
        else:
            rows = []
        if exch is not None:
            rows = [r for r in rows if r["exchCode"] == exch]
        if mic is not None:
            want = MIC_TO_EXCH.get(mic)
            rows = [r for r in rows if r["exchCode"] == want] if want else []
        if not rows:
            return {"warning": "No identifier found."}
        return {"data": rows}


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.key = args.key
        self.rate_limit = args.rate_limit
        self.window = {"keyless": args.window, "key": args.window_key}
        self.job_limit = {"keyless": args.job_limit, "key": args.job_limit_key}
        self.mode = args.mode
        self.delay_ms = args.delay_ms
        self.fail = []
        self.windows = {}  # class -> [start, count]
        self.universe = Universe()
        self.reset_stats()

    def reset_stats(self):
        self.requests = 0
        self.jobs = 0
        self.statuses = {}
        self.job_counts = []
        self.tickers = {}

    def count(self, status):
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # one response, no 40 ms delayed-ACK stalls
    server_version = "openfigi-fake/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, status, body, ctype="text/plain", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _json(self, status, obj):
        self._send(status, json.dumps(obj), "application/json")

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def do_GET(self):
        st = self.server.state
        if self.path == "/_stats":
            with st.lock:
                self._json(200, {"requests": st.requests, "jobs": st.jobs,
                                 "statuses": st.statuses, "job_counts": st.job_counts,
                                 "tickers": st.tickers})
            return
        if self.path.startswith("/v3/mapping"):
            self._send(405, "Method Not Allowed")
            return
        self._send(404, "Not Found")

    def do_POST(self):
        st = self.server.state
        body = self._body()
        if self.path == "/_control":
            ctl = json.loads(body or b"{}")
            with st.lock:
                if "mode" in ctl:
                    st.mode = ctl["mode"]
                if "fail" in ctl:
                    st.fail = list(ctl["fail"])
                if "delay_ms" in ctl:
                    st.delay_ms = int(ctl["delay_ms"])
                if "key" in ctl:
                    st.key = ctl["key"]
                if "rate_limit" in ctl:
                    st.rate_limit = int(ctl["rate_limit"])
                if "window_s" in ctl:
                    st.window["keyless"] = float(ctl["window_s"])
                if "window_key_s" in ctl:
                    st.window["key"] = float(ctl["window_key_s"])
                if ctl.get("reset_stats"):
                    st.reset_stats()
                    st.windows = {}
            self._json(200, {"ok": True})
            return
        if self.path != "/v3/mapping":
            self._send(404, "Not Found")
            return
        self._mapping(st, body)

    def _mapping(self, st, body):
        with st.lock:
            st.requests += 1
            behaviour = st.fail.pop(0) if st.fail else st.mode
            delay = st.delay_ms / 1000.0
        behaviour = str(behaviour)
        if behaviour == "close":
            with st.lock:
                st.count("close")
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        if behaviour == "slow":
            time.sleep(delay)
        elif behaviour.isdigit() and behaviour != "200":
            with st.lock:
                st.count(behaviour)
            self._send(int(behaviour), {"500": "Internal Server Error",
                                        "503": "Service Unavailable"}.get(behaviour, "Error"))
            return

        ctype = self.headers.get("Content-Type") or ""
        if "json" not in ctype:
            return self._refuse(st, 400, "Invalid Content-Type: send application/json.")
        sent_key = self.headers.get("X-OPENFIGI-APIKEY")
        with st.lock:
            if sent_key is not None and sent_key != st.key:
                st.count(401)
                refused = True
            else:
                refused = False
            klass = "key" if sent_key is not None else "keyless"
            limit, window = st.rate_limit, st.window[klass]
            job_limit = st.job_limit[klass]
            now = time.monotonic()
            w = st.windows.get(klass)
            if w is None or now - w[0] >= window:
                w = st.windows[klass] = [now, 0]
            over = not refused and w[1] >= limit
            if not refused and not over:
                w[1] += 1
            reset = max(1, math.ceil(w[0] + window - now))
            remaining = max(0, limit - w[1])
        if refused:
            self._send(401, "Invalid API key.")
            return
        if over:
            with st.lock:
                st.count(429)
            self._send(429, "Too Many Requests", headers={
                "ratelimit-limit": str(limit), "ratelimit-remaining": "0",
                "ratelimit-reset": str(reset)})
            return
        try:
            jobs = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return self._refuse(st, 400, "Invalid JSON in request body.")
        if not isinstance(jobs, list) or not jobs or not all(
                isinstance(j, dict) and "idType" in j and "idValue" in j for j in jobs):
            return self._refuse(st, 400, "Request body must be an array of mapping jobs "
                                         "with idType and idValue.")
        if any(str(j.get("idValue")).startswith("BADREQ") for j in jobs):
            # A job the server refuses wholesale: the whole request is a 400.
            return self._refuse(st, 400, "Request body is invalid: idValue not accepted.")
        if len(jobs) > job_limit:
            return self._refuse(st, 413, "Request may only contain %d mapping jobs." % job_limit)
        if any(str(j.get("idValue")).startswith("BADANS") for j in jobs):
            # A job the server chokes on: a 200 that answers one job too few.
            with st.lock:
                answers = [st.universe.answer(j) for j in jobs[1:]]
                st.count(200)
            self._send(200, json.dumps(answers, separators=(",", ":")), "application/json")
            return
        with st.lock:
            answers = [st.universe.answer(j) for j in jobs]
            st.jobs += len(jobs)
            st.job_counts.append(len(jobs))
            st.count(200)
            for j in jobs:
                v = str(j.get("idValue"))
                st.tickers[v] = st.tickers.get(v, 0) + 1
        self._send(200, json.dumps(answers, separators=(",", ":")), "application/json",
                   headers={"ratelimit-limit": str(limit),
                            "ratelimit-remaining": str(remaining),
                            "ratelimit-reset": str(reset)})

    def _refuse(self, st, status, text):
        with st.lock:
            st.count(status)
        self._send(status, text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--key", default=None, help="the API key accepted (none: every key is wrong)")
    ap.add_argument("--rate-limit", type=int, default=25)
    ap.add_argument("--window", type=float, default=60.0, help="rate window without a key, s")
    ap.add_argument("--window-key", type=float, default=6.0, help="rate window with a key, s")
    ap.add_argument("--job-limit", type=int, default=10)
    ap.add_argument("--job-limit-key", type=int, default=100)
    ap.add_argument("--mode", default="ok")
    ap.add_argument("--delay-ms", type=int, default=0)
    args = ap.parse_args()
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.state = State(args)
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
