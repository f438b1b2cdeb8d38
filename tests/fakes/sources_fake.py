#!/usr/bin/env python3
"""A fake of the scraper's three sources for coattail's tests (Python 3
stdlib only), serving the project's own documents from
tests/fixtures/sources/:

  GET /cgi-bin/browse-edgar?action=getcurrent&type=4&owner=include
      &start=N&count=C&output=atom       SEC's current-filings feed:
      edgar/getcurrent_start<N>.atom, or getcurrent_empty.atom past the
      last page.  The pages are cut for count=8 (--feed-count): any other
      count, or a start that is not a multiple of it, is a 400.
  GET /Archives/edgar/data/...           edgar/Archives/...: full
      submissions (.txt), index.json, raw Form 4 XML; else SEC's 404 page.
  GET /<page>                            openinsider/<page>.html
  GET /insidertrading.ashx?...           finviz/insidertrading.html
      (also /insidertrading?...)

Like the real sites:
  - SEC paths answer 403 with the "Undeclared Automated Tool" page unless
    the User-Agent names a contact (an '@') and does not imitate a browser;
  - FinViz answers 403 with a Cloudflare challenge unless the User-Agent
    looks like a browser (starts with "Mozilla/");
  - a response is gzip-encoded when the request accepts gzip;
  - OpenInsider and FinViz pages carry an ETag and a Last-Modified and
    answer a matching If-None-Match with 304 (SEC's cgi feed sends none).

Faults (POST /_control):
  {"faults": {"/path-prefix": ["429:1", "503", ...]}}  the next requests
      under that prefix get these answers, one each, then normal ones;
  {"sticky": {"/path-prefix": "html200"}}   every request gets it;
  {"reset": true}  forget faults, sticky answers and the log;
  {"etag": false}  no validators, no 304.
  Answers: "429[:S]" and "503[:S]" (Retry-After S when given; 503 carries
  SEC's maintenance page), "403" (the undeclared-tool page), "403-rate"
  (the rate-threshold page), "404", "html200" (the maintenance page with
  status 200, where Atom or a filing was expected), "challenge" (403 with
  a Cloudflare challenge), "close" (the connection is closed unanswered).

Log: GET /_log {"requests": [{"t", "method", "path", "ua", "accept_encoding",
  "if_none_match", "if_modified_since", "status", "gzip", "fault"}, ...]}
  (t: the server's time.time() when the request arrived);
  GET /_stats {"requests": N, "paths": {path: N}}.

Starts on 127.0.0.1 (--port, default any) and prints "PORT <n>".
"""
import argparse
import gzip
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures", "sources")
LAST_MODIFIED = "Fri, 24 Apr 2026 21:00:00 GMT"


class State:
    def __init__(self, root, feed_count):
        self.root = root
        self.feed_count = feed_count
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.faults = {}
        self.sticky = {}
        self.etag = True
        self.log = []

    def take_fault(self, path):
        """The fault for this request, if any: sticky first, then queued,
        by the longest matching prefix."""
        with self.lock:
            best = None
            for prefix in list(self.sticky) + list(self.faults):
                if path.startswith(prefix) and (best is None or len(prefix) > len(best)):
                    best = prefix
            if best is None:
                return None
            if best in self.sticky:
                return self.sticky[best]
            queue = self.faults[best]
            action = queue.pop(0)
            if not queue:
                del self.faults[best]
            return action


def read_fixture(state, *parts):
    path = os.path.realpath(os.path.join(state.root, *parts))
    if not path.startswith(os.path.realpath(state.root) + os.sep) or not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return f.read()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sources-fake/1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    # ---- plumbing ----

    def _record(self, status, gzipped, fault):
        entry = {
            "t": self.t0,
            "method": self.command,
            "path": self.path,
            "ua": self.headers.get("User-Agent", ""),
            "accept_encoding": self.headers.get("Accept-Encoding", ""),
            "if_none_match": self.headers.get("If-None-Match"),
            "if_modified_since": self.headers.get("If-Modified-Since"),
            "status": status,
            "gzip": gzipped,
            "fault": fault,
        }
        with self.server.state.lock:
            self.server.state.log.append(entry)

    def _send(self, status, body=b"", ctype="text/html; charset=utf-8", headers=None,
              fault=None, log=True):
        gzipped = False
        if body and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            gzipped = True
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        if log:
            self._record(status, gzipped, fault)

    def _json(self, obj):
        self._send(200, json.dumps(obj).encode(), "application/json", log=False)

    def _page(self, name):
        body = read_fixture(self.server.state, "edgar", name)
        return body if body is not None else b"<html><title>error</title></html>"

    def _fault(self, action):
        """Answer with a fault; returns True when it answered."""
        code, _, arg = action.partition(":")
        retry = {"Retry-After": arg} if arg else {}
        if code == "close":
            self._record(0, False, action)
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return True
        if code == "429":
            self._send(429, b"Too Many Requests\n", "text/plain", retry, fault=action)
        elif code == "503":
            self._send(503, self._page("file_unavailable.html"), headers=retry, fault=action)
        elif code == "403":
            self._send(403, self._page("undeclared_tool.html"), fault=action)
        elif code == "403-rate":
            self._send(403, self._page("rate_threshold.html"), fault=action)
        elif code == "404":
            self._send(404, self._page("not_found.html"), fault=action)
        elif code == "html200":
            self._send(200, self._page("file_unavailable.html"), fault=action)
        elif code == "challenge":
            self._send(403, read_fixture(self.server.state, "finviz", "challenge.html"),
                       fault=action)
        else:
            self._send(500, ("unknown fault %r\n" % action).encode(), "text/plain",
                       fault=action)
        return True

    # ---- routes ----

    def _sec_ua_ok(self):
        ua = self.headers.get("User-Agent", "")
        return "@" in ua and not ua.startswith("Mozilla/")

    def _feed(self, query):
        q = parse_qs(query)
        want = {"action": "getcurrent", "type": "4", "owner": "include", "output": "atom"}
        for k, v in want.items():
            if q.get(k) != [v]:
                return self._send(400, ("bad %s\n" % k).encode(), "text/plain")
        try:
            start, count = int(q["start"][0]), int(q["count"][0])
        except (KeyError, ValueError):
            return self._send(400, b"bad start or count\n", "text/plain")
        if count != self.server.state.feed_count or start < 0 or start % count:
            return self._send(400, b"unexpected start/count\n", "text/plain")
        body = read_fixture(self.server.state, "edgar", "getcurrent_start%d.atom" % start)
        if body is None:
            body = read_fixture(self.server.state, "edgar", "getcurrent_empty.atom")
        self._send(200, body, "application/atom+xml")

    def _archives(self, path):
        body = read_fixture(self.server.state, "edgar", *path.strip("/").split("/"))
        if body is None:
            return self._send(404, self._page("not_found.html"))
        ctype = {".txt": "text/plain", ".json": "application/json",
                 ".xml": "text/xml"}.get(os.path.splitext(path)[1], "text/html")
        self._send(200, body, ctype)

    def _conditional_page(self, body):
        st = self.server.state
        if not st.etag:
            return self._send(200, body)
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        hdrs = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", headers=hdrs)
        self._send(200, body, headers=hdrs)

    def do_GET(self):
        self.t0 = time.time()
        url = urlsplit(self.path)
        path = url.path
        st = self.server.state
        if path == "/_log":
            with st.lock:
                return self._json({"requests": list(st.log)})
        if path == "/_stats":
            with st.lock:
                paths = {}
                for e in st.log:
                    p = urlsplit(e["path"]).path
                    paths[p] = paths.get(p, 0) + 1
                return self._json({"requests": len(st.log), "paths": paths})
        fault = st.take_fault(path)
        if fault is not None:
            return self._fault(fault)
        if path == "/cgi-bin/browse-edgar" or path.startswith("/Archives/"):
            if not self._sec_ua_ok():
                return self._send(403, self._page("undeclared_tool.html"))
            if path.startswith("/Archives/"):
                return self._archives(path)
            return self._feed(url.query)
        if path in ("/insidertrading.ashx", "/insidertrading"):
            if not self.headers.get("User-Agent", "").startswith("Mozilla/"):
                return self._send(403, read_fixture(st, "finviz", "challenge.html"))
            return self._conditional_page(read_fixture(st, "finviz", "insidertrading.html"))
        name = path.strip("/")
        body = read_fixture(st, "openinsider", name + ".html") if name and "/" not in name \
            else None
        if body is None:
            return self._send(404, b"<html><title>404 Not Found</title></html>")
        self._conditional_page(body)

    def do_POST(self):
        self.t0 = time.time()
        st = self.server.state
        if urlsplit(self.path).path != "/_control":
            return self._send(404, b"", log=False)
        n = int(self.headers.get("Content-Length", "0") or 0)
        try:
            req = json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            return self._send(400, b"bad json\n", "text/plain", log=False)
        with st.lock:
            if req.get("reset"):
                st.reset()
            for prefix, actions in (req.get("faults") or {}).items():
                st.faults[prefix] = list(actions)
            for prefix, action in (req.get("sticky") or {}).items():
                if action:
                    st.sticky[prefix] = action
                else:
                    st.sticky.pop(prefix, None)
            if "etag" in req:
                st.etag = bool(req["etag"])
        self._json({"ok": True})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fixtures", default=DEFAULT_FIXTURES)
    ap.add_argument("--feed-count", type=int, default=8)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.state = State(args.fixtures, args.feed_count)
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
