#!/usr/bin/env python3
"""A generated trading day for coattail's chaos test: N insider purchases by
chief executives, served as OpenInsider screener pages (Python 3 stdlib only).

    python3 tests/chaos/day_fake.py --trades 10000 [--per-page 1000]
        [--tickers 500] [--release-s 0] [--port 0]

  GET /chaos-day?page=K   page K (1-based) of the day: an OpenInsider
                          `table.tinytable` with up to --per-page rows
                          (404 past the last page)
  GET /_stats             {"requests": N}

Every row is its own filing (accession 0009<i:014>), by its own insider
(CIK 5000000 + i), titled "CEO", buying 1,000 shares when 50,000 are held
afterwards (2% of the holdings before: over the executive_trade rule's 1%),
filed today a few minutes before the server started (US Eastern, the way
OpenInsider prints times), so each trade makes exactly one intent.  Tickers
cycle through --tickers synthetic names ("ZAAA", "ZAAB", ...) that the fake
OpenFIGI maps to synthetic US common stocks.  The pages are the same on
every request (a calm run and a chaos run see the same day), except that
with --release-s S row i appears only S*i/N seconds after the start, the
way a day's filings arrive over the day.

Starts on 127.0.0.1 and prints "PORT <n>".
"""
import argparse
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

try:
    from zoneinfo import ZoneInfo
    EASTERN = ZoneInfo("America/New_York")
except Exception:  # noqa: BLE001 - no tz database: EST all year
    EASTERN = timezone(timedelta(hours=-5))

HEAD = """<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>Insider Screener - OpenInsider</title>
</head>
<body>
<div id="results"><h3>Screener</h3>
<table width="100%" cellpadding="0" cellspacing="0" border="0" class="tinytable">
<thead>
<tr>
<th><h3>X</h3></th><th><h3>Filing&nbsp;Date</h3></th><th><h3>Trade&nbsp;Date</h3></th>
<th><h3>Ticker</h3></th><th><h3>Company&nbsp;Name</h3></th><th><h3>Insider&nbsp;Name</h3></th>
<th><h3>Title</h3></th><th><h3>Trade&nbsp;Type&nbsp;&nbsp;</h3></th><th><h3>Price</h3></th>
<th><h3>Qty</h3></th><th><h3>Owned</h3></th><th><h3>&Delta;Own</h3></th><th><h3>Value</h3></th>
<th><h3>1d</h3></th><th><h3>1w</h3></th><th><h3>1m</h3></th><th><h3>6m</h3></th>
</tr>
</thead>
<tbody>
"""
TAIL = "</tbody>\n</table>\n</div>\n</body>\n</html>\n"

ROW = ('<tr><td align=right></td><td align=right><div><a href="http://www.sec.gov/Archives/'
       'edgar/data/{icik}/{acc}/xslF345X05/doc4.xml" title="SEC Form 4" target="_blank">'
       '{filed}</a></div></td><td align=right><div>{tdate}</div></td><td><b> '
       '<a href="/{tic}">{tic}</a></b></td><td><a href="/{tic}">{tic} Holdings Inc</a></td>'
       '<td><a href="/insider/Exec-{i}/{ocik}" title="50,000 direct shares">Exec {i}</a></td>'
       '<td>CEO</td><td>P - Purchase</td><td align=right>${price}</td>'
       '<td align=right>+1,000</td><td align=right>50,000</td><td align=right>+2%</td>'
       '<td align=right>+${value}</td><td align=right></td><td align=right></td>'
       '<td align=right></td><td align=right></td></tr>\n')


def ticker(k):
    s = ""
    for _ in range(3):
        s = chr(ord("A") + k % 26) + s
        k //= 26
    return "Z" + s


def make_rows(n, n_tickers, filed_local):
    filed = filed_local.strftime("%Y-%m-%d %H:%M:%S")
    tdate = filed_local.strftime("%Y-%m-%d")
    rows = []
    for i in range(n):
        cents = 1000 + (i % 400) * 5  # $10.00 .. $29.95
        rows.append(ROW.format(
            icik=900000 + i % n_tickers, acc="0009%014d" % i, filed=filed, tdate=tdate,
            tic=ticker(i % n_tickers), i=i, ocik=5000000 + i,
            price="%d.%02d" % (cents // 100, cents % 100),
            value="{:,}".format(cents * 10)))
    return rows


def page(rows, k, per_page, visible):
    """Page k (0-based) with the rows released so far."""
    lo = k * per_page
    hi = min(lo + per_page, visible)
    return (HEAD + "".join(rows[lo:hi]) + TAIL).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body, ctype="text/html; charset=utf-8"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        s = self.server
        u = urlsplit(self.path)
        with s.lock:
            s.requests += 1
        if u.path == "/_stats":
            return self.send(200, ('{"requests": %d}' % s.requests).encode(), "application/json")
        if u.path == "/chaos-day":
            try:
                k = int(parse_qs(u.query).get("page", ["1"])[0])
            except ValueError:
                k = 0
            if 1 <= k <= s.n_pages:
                visible = len(s.rows)
                if s.release_s > 0:
                    frac = (time.monotonic() - s.t0) / s.release_s
                    visible = min(visible, int(len(s.rows) * frac))
                return self.send(200, page(s.rows, k - 1, s.per_page, visible))
        self.send(404, b"<html><body>not found</body></html>")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--trades", type=int, default=10000)
    ap.add_argument("--per-page", type=int, default=1000)
    ap.add_argument("--tickers", type=int, default=500)
    ap.add_argument("--release-s", type=float, default=0.0)
    a = ap.parse_args()
    filed = datetime.now(timezone.utc).astimezone(EASTERN) - timedelta(minutes=10)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.lock = threading.Lock()
    srv.requests = 0
    srv.rows = make_rows(a.trades, a.tickers, filed)
    srv.per_page = a.per_page
    srv.n_pages = (a.trades + a.per_page - 1) // a.per_page
    srv.release_s = a.release_s
    srv.t0 = time.monotonic()
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
