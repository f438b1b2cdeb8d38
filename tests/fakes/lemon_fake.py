#!/usr/bin/env python3
"""A fake lemon.markets Trading API v1 (2022, paper), to APIS.md section 2,
with fault injection (broker_fake_base.py), for coattail's executor tests.
It serves the market data API too (venues, instruments), so one fake
stands for trading.lemon.markets and data.lemon.markets.

    python3 tests/fakes/lemon_fake.py [--port 0] [--key K]
        [--faults 500_after=0.05,...] [--timeout-sleep 2.0] [--seed 1]

Fault kinds on creation: broker_fake_base.py (500_before, 500_after,
drop_after, timeout_after, 429, slow_create; dup422 is a 502 here); a
slow_create that lands after the client sent the key again makes a second
order, as the other creates do.

Prints "PORT <n>" first.  Trading: POST /v1/orders (created "inactive"), POST /v1/orders/{id}/activate,
GET /v1/orders (isin, side, status, limit, page), GET /v1/orders/{id},
GET /v1/account, GET /v1/positions.  Data: GET /v1/venues?mic=,
GET /v1/instruments?isin=|search=.  Envelope {time, mode, status,
results}; errors {time, mode, status: "error", error_code, error_message};
money in 1/10,000 EUR.

Idempotency is the unverified part of the real API [U], so this fake does
the worst a server could: it ignores `idempotency` and creates a second
order for a reused key (counted in /_stats as dup_posts).  Whether the
client never sends one is exactly what the tests check.

Extra fault kinds on activation (op "activate"): 500_before, 500_after,
drop_after.  POST /_set takes {"venue_open": bool, "positions":
{"ISIN": qty}, "activate_error": "pin_invalid" (every activation refused),
"execute": true (activated orders execute at once at 100 EUR)}.
"""
import math
import os
import secrets
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_fake_base import GET_KINDS, POST_KINDS, FakeHandler, FakeServer, common_args, serve  # noqa: E402


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00"


def envelope(results=None, **extra):
    e = {"time": now_iso(), "mode": "paper", "status": "ok"}
    if results is not None:
        e["results"] = results
    e.update(extra)
    return e


def error(code, message):
    return {"time": now_iso(), "mode": "paper", "status": "error", "error_code": code,
            "error_message": message}


class LemonHandler(FakeHandler):
    def authorized(self):
        s = self.server
        if s.key is None:
            return True
        if self.headers.get("Authorization") == "Bearer " + s.key:
            return True
        self.count("unauthorized")
        self.send_json(401, error("unauthorized", "invalid or missing token"))
        return False

    def do_GET(self):
        path, q = self.split()
        if self.control("GET", path):
            return
        if not self.authorized():
            return
        s = self.server
        one = lambda k: (q.get(k) or [None])[0]  # noqa: E731
        if path == "/v1/orders":
            self.count("lookups")
            fault = s.faults.pick("get", GET_KINDS)
            if fault == "drop":
                return self.drop()
            if fault == "500":
                return self.send_json(500, error("internal_error", "internal error"))
            try:
                limit = max(1, min(100, int(one("limit") or 100)))
                page = max(1, int(one("page") or 1))
            except ValueError:
                return self.send_json(400, error("invalid_query", "bad limit or page"))
            with s.lock:
                rows = [dict(o) for o in s.orders
                        if (one("isin") is None or o["isin"] == one("isin")) and
                        (one("side") is None or o["side"] == one("side")) and
                        (not q.get("status") or o["status"] in q["status"])]
            pages = max(1, math.ceil(len(rows) / limit))
            chunk = rows[(page - 1) * limit:page * limit]
            base = "http://127.0.0.1:%d/v1/orders/?limit=%d" % (s.server_address[1], limit)
            return self.send_json(200, envelope(
                chunk, total=len(rows), page=page, pages=pages,
                previous=base + "&page=%d" % (page - 1) if page > 1 else None,
                next=base + "&page=%d" % (page + 1) if page < pages else None))
        if path.startswith("/v1/orders/"):
            oid = path[len("/v1/orders/"):]
            with s.lock:
                o = next((dict(x) for x in s.orders if x["id"] == oid), None)
            if o is None:
                return self.send_json(404, error("order_not_found", "no such order"))
            return self.send_json(200, envelope(o))
        if path == "/v1/account":
            return self.send_json(200, envelope({
                "created_at": "2021-12-18T21:47:19.204+00:00", "account_id": "acc_fake",
                "mode": "paper", "balance": 843000000, "cash_to_invest": 843000000,
                "cash_to_withdraw": 843000000, "amount_bought_intraday": 0,
                "amount_sold_intraday": 0, "amount_open_orders": 0,
                "trading_plan": "go", "data_plan": "go"}))
        if path == "/v1/positions":
            with s.lock:
                pos = dict(s.settings.get("positions", {}))
            rows = [{"isin": i, "isin_title": i, "quantity": n, "buy_price_avg": 1000000,
                     "estimated_price_total": 1000000 * n, "estimated_price": 1000000}
                    for i, n in sorted(pos.items()) if one("isin") in (None, i)]
            return self.send_json(200, envelope(rows, total=len(rows), page=1, pages=1,
                                                previous=None, next=None))
        if path == "/v1/venues":
            mic = (one("mic") or "XMUN").upper()
            with s.lock:
                is_open = s.settings.get("venue_open", True)
            return self.send_json(200, {"time": now_iso(), "results": [{
                "name": "Börse München - Gettex", "title": "Gettex", "mic": mic,
                "is_open": is_open,
                "opening_hours": {"start": "08:00", "end": "22:00", "timezone": "Europe/Berlin"},
                "opening_days": ["2030-01-02"]}], "previous": None, "next": None,
                "total": 1, "page": 1, "pages": 1})
        if path == "/v1/instruments":
            isin = one("isin")
            search = one("search")
            if isin is None and search is not None and len(search) == 12:
                isin = search
            rows = []
            if isin is not None and len(isin) == 12:
                rows.append({"isin": isin, "wkn": isin[2:8], "name": "FAKE " + isin,
                             "title": "FAKE " + isin, "symbol": "F" + isin[-3:],
                             "type": "stock", "venues": [{
                                 "name": "Börse München - Gettex", "title": "Gettex",
                                 "mic": "XMUN", "is_open": True, "tradable": True,
                                 "currency": "EUR"}]})
            return self.send_json(200, {"time": now_iso(), "results": rows, "previous": None,
                                        "next": None, "total": len(rows), "page": 1,
                                        "pages": 1})
        self.send_json(404, error("not_found", "no such endpoint"))

    def do_POST(self):
        path, _ = self.split()
        if self.control("POST", path):
            return
        body = self.body_json()
        if not self.authorized():
            return
        if path == "/v1/orders":
            return self.create(body)
        if path.startswith("/v1/orders/") and path.endswith("/activate"):
            return self.activate(path[len("/v1/orders/"):-len("/activate")], body)
        self.send_json(404, error("not_found", "no such endpoint"))

    def create(self, body):
        s = self.server
        self.count("posts")
        if not isinstance(body, dict):
            return self.send_json(400, error("invalid_body", "body is not JSON"))
        isin, side, qty = body.get("isin"), body.get("side"), body.get("quantity")
        if not isinstance(isin, str) or len(isin) != 12 or side not in ("buy", "sell"):
            return self.send_json(400, error("invalid_query", "isin and side are required"))
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 1:
            return self.send_json(400, error("invalid_query", "quantity must be an integer >= 1"))
        key = body.get("idempotency")
        fault = s.faults.pick("post", POST_KINDS)
        if fault == "slow_create":
            self.late()  # the client times out and looks the order up meanwhile
        with s.lock:
            reused = key is not None and key in s.keys
        if reused:
            self.count("dup_posts")  # and create it anyway: the worst case
        if fault == "500_before":
            return self.send_json(500, error("internal_error", "internal error"))
        if fault == "429":
            return self.send_json(429, error("rate_limit_exceeded", "too many requests"))
        t = now_iso()
        o = {"id": "ord_" + secrets.token_hex(16), "isin": isin, "isin_title": "FAKE " + isin,
             "expires_at": "2030-01-02T22:59:00.000+00:00", "created_at": t, "side": side,
             "quantity": qty, "stop_price": None, "limit_price": None,
             "estimated_price": 1000000, "estimated_price_total": 1000000 * qty,
             "venue": str(body.get("venue") or "xmun").lower(), "status": "inactive",
             "type": "market", "executed_quantity": 0, "executed_price": 0,
             "executed_price_total": 0, "activated_at": None, "executed_at": None,
             "rejected_at": None, "cancelled_at": None, "notes": body.get("notes"),
             "charge": 0, "chargeable_at": None, "key_creation_id": "apk_fake",
             "key_activation_id": None, "idempotency": key,
             "regulatory_information": {"costs_entry": 20000, "costs_entry_pct": "0.30%",
                                        "KIID": "text", "legal_disclaimer": "text"}}
        with s.lock:
            s.orders.append(o)
            if key is not None:
                s.keys.add(key)
            o = dict(o)
        if fault == "slow_create":
            self.count("late_creates")
        if fault == "500_after":
            return self.send_json(500, error("internal_error", "internal error"))
        if fault == "drop_after":
            return self.drop()
        if fault == "timeout_after":
            self.late()
        if fault == "dup422":  # no such answer in lemon's API: a 502 from a proxy
            return self.send_json(502, error("bad_gateway", "upstream closed"))
        self.send_json(200, envelope(o))

    def activate(self, oid, body):
        s = self.server
        self.count("activations")
        fault = s.faults.pick("activate", ("500_before", "500_after", "drop_after"))
        if fault == "500_before":
            return self.send_json(500, error("internal_error", "internal error"))
        with s.lock:
            o = next((x for x in s.orders if x["id"] == oid), None)
            refuse = s.settings.get("activate_error")
            execute = s.settings.get("execute", False)
            if o is None:
                res = (404, error("order_not_found", "no such order"))
            elif refuse:
                res = (400, error(refuse, "activation refused"))
            elif o["status"] != "inactive":
                res = (400, error("order_not_inactive", "order is %s" % o["status"]))
            else:
                o["status"] = "activated"
                o["activated_at"] = now_iso()
                o["key_activation_id"] = "apk_fake"
                if execute:
                    o["status"] = "executed"
                    o["executed_quantity"] = o["quantity"]
                    o["executed_price"] = 1000000
                    o["executed_price_total"] = 1000000 * o["quantity"]
                    o["executed_at"] = now_iso()
                res = (200, envelope())
        if fault == "500_after":
            return self.send_json(500, error("internal_error", "internal error"))
        if fault == "drop_after":
            return self.drop()
        self.send_json(*res)


def main():
    ap = common_args("fake lemon.markets Trading API v1")
    ap.add_argument("--key")
    args = ap.parse_args()
    srv = FakeServer("lemon", LemonHandler, args)
    srv.key = args.key
    srv.keys = set()
    serve(srv)


if __name__ == "__main__":
    main()
