#!/usr/bin/env python3
"""A fake of SEC's JSON data for coattail's mapper tests (Python 3 stdlib only).

Serves, in the real shapes:

  GET /files/company_tickers.json        (www.sec.gov)
      {"0":{"cik_str":320193,"ticker":"AAPL","title":"Apple Inc."}, ...}
  GET /api/xbrl/companyconcept/CIK##########/dei/EntityCommonStockSharesOutstanding.json
                                          (data.sec.gov)
      {"cik":320193,"taxonomy":"dei","tag":"EntityCommonStockSharesOutstanding",
       "label":"Entity Common Stock, Shares Outstanding","description":"...",
       "entityName":"Apple Inc.","units":{"shares":[{"end":"2024-10-18",
       "val":15115823000,"accn":"...","fy":2024,"fp":"FY","form":"10-K",
       "filed":"2024-11-01","frame":"CY2024Q3I"}, ...]}}

One server plays both hosts; point mapper.sec_www_url and mapper.sec_data_url
at it.  The universe: AAPL (CIK 320193), IBM (CIK 51143), and tickers
T0000..T9999 with CIK 1000 + the number (as tests/scenario/harness.py's
trade() writes them).  A CIK's figure is (CIK x 1000 + 7), reported by a
10-K and a later 10-Q (the later one is the one to use), listed newest
last.  CIKs divisible by 7 have no such concept: 404, as SEC answers for
filers that do not tag it.  Like SEC, a request without a User-Agent that
names a contact (an '@') gets 403.

Controls: GET /_stats {"requests":N,"paths":{path:N}}; POST /_control
{"mode":"ok"|"503"|"close", "reset_stats":true}.  Starts on 127.0.0.1
(--port, default any) and prints "PORT <n>".
"""
import argparse
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REAL = {"AAPL": (320193, "Apple Inc.", 15115823000),
        "IBM": (51143, "INTERNATIONAL BUSINESS MACHINES CORP", 927000000)}
CONCEPT = re.compile(r"^/api/xbrl/companyconcept/CIK(\d{10})/dei/"
                     r"EntityCommonStockSharesOutstanding\.json$")


def universe():
    out = {}
    for t, (cik, title, _) in REAL.items():
        out[t] = (cik, title)
    for i in range(10000):
        out["T%04d" % i] = (1000 + i, "Issuer %d Inc." % i)
    return out


def shares_of(cik):
    for t, (c, _, shares) in REAL.items():
        if c == cik:
            return shares
    return cik * 1000 + 7


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # one response, no 40 ms delayed-ACK stalls

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length") or 0)
        ctl = json.loads(self.rfile.read(n) or b"{}")
        if self.path != "/_control":
            self._send(404, "Not Found", "text/plain")
            return
        with st["lock"]:
            if "mode" in ctl:
                st["mode"] = ctl["mode"]
            if ctl.get("reset_stats"):
                st["requests"] = 0
                st["paths"] = {}
        self._send(200, '{"ok":true}')

    def do_GET(self):
        st = self.server.state
        if self.path == "/_stats":
            with st["lock"]:
                self._send(200, json.dumps({"requests": st["requests"], "paths": st["paths"]}))
            return
        with st["lock"]:
            st["requests"] += 1
            st["paths"][self.path] = st["paths"].get(self.path, 0) + 1
            mode = st["mode"]
        if mode == "close":
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        if mode == "503":
            self._send(503, "Service Unavailable", "text/plain")
            return
        if "@" not in (self.headers.get("User-Agent") or ""):
            self._send(403, "Undeclared Automated Tool", "text/html")
            return
        if self.path == "/files/company_tickers.json":
            body = {str(i): {"cik_str": cik, "ticker": t, "title": title}
                    for i, (t, (cik, title)) in enumerate(sorted(universe().items()))}
            self._send(200, json.dumps(body))
            return
        m = CONCEPT.match(self.path)
        if m:
            cik = int(m.group(1))
            if cik % 7 == 0:
                self._send(404, "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code></Error>",
                           "application/xml")
                return
            val = shares_of(cik)
            doc = {"cik": cik, "taxonomy": "dei", "tag": "EntityCommonStockSharesOutstanding",
                   "label": "Entity Common Stock, Shares Outstanding",
                   "description": "Indicate number of shares or other units outstanding...",
                   "entityName": "Issuer %d" % cik,
                   "units": {"shares": [
                       {"end": "2024-07-19", "val": val - 1000, "accn": "0000%06d-24-000001" % (cik % 1000000),
                        "fy": 2024, "fp": "FY", "form": "10-K", "filed": "2024-08-01",
                        "frame": "CY2024Q2I"},
                       {"end": "2024-10-18", "val": val, "accn": "0000%06d-24-000002" % (cik % 1000000),
                        "fy": 2025, "fp": "Q1", "form": "10-Q", "filed": "2024-11-01",
                        "frame": "CY2024Q3I"}]}}
            self._send(200, json.dumps(doc))
            return
        self._send(404, "Not Found", "text/plain")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--mode", default="ok")
    args = ap.parse_args()
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.state = {"lock": threading.Lock(), "mode": args.mode, "requests": 0, "paths": {}}
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
